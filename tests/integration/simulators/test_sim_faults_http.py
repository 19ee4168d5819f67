"""Each fault kind is observable over real HTTP, on the request the schedule names."""

import json
import random
import time
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from functions.ingest_deploys.client import ArgoCDClient
from functions.ingest_dynatrace.client import DynatraceClient
from functions.ingest_logs.client import ElasticsearchClient, PartialAnswer, log_counts_query
from functions.ingest_servicenow.client import ServiceNowClient
from lakehouse.ingest.client import PageRequest, RetryPolicy, SourceClient
from lakehouse.ingest.errors import SourceUnavailable
from simulators.serve import RunningSimulators

pytestmark = pytest.mark.simulators


def test_rate_limits_with_and_without_retry_after(faulty: Any, connect: Any) -> None:
    running: RunningSimulators = faulty(
        {
            "servicenow": {"rate_limit": 1.0, "retry_after": 3},
            "gitlab": {"rate_limit": 1.0, "retry_after": None},
            "dynatrace": {"schedule": {"2": "rate_limit"}},
            "argocd": {"rate_limit": 1.0, "retry_after": 3},
        }
    )
    sn = connect(running, "servicenow").get("/api/now/table/incident")
    assert sn.status_code == 429 and sn.headers["Retry-After"] == "3" and sn.json()["status"] == "failure"
    assert "X-RateLimit-Reset" in sn.headers
    gl = connect(running, "gitlab").get("/api/v4/projects/1000/pipelines")
    assert gl.status_code == 429 and "Retry-After" not in gl.headers
    assert int(gl.headers["RateLimit-Reset"]) > 0 and gl.headers["RateLimit-Remaining"] == "0"
    dt = connect(running, "dynatrace")
    assert dt.get("/api/v2/slo").status_code == 200
    limited = dt.get("/api/v2/slo")
    # Dynatrace documents no rate-limit header since API 1.210, ArgoCD none at all: no Retry-After, whatever the
    # fault settings' retry_after asks of the others.
    assert limited.status_code == 429 and "Retry-After" not in limited.headers
    assert dt.get("/api/v2/slo").status_code == 200
    argo = connect(running, "argocd").get("/api/v1/applications")
    assert argo.status_code == 429 and not {"retry-after", "x-ratelimit-reset"} & set(argo.headers)


class FakeClock:
    """Records the client's waits instead of sleeping them."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []

    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


def test_elasticsearch_rejects_without_retry_after_and_the_ingestion_backs_off(faulty: Any, connect: Any) -> None:
    """Elasticsearch answers an overload with 429 es_rejected_execution_exception and no Retry-After (nor any
    rate-limit header), even where the fault settings' retry_after (1 s by default) would give one to the other
    APIs. The ingestion client then backs off on its own: one jittered wait within its first ceiling of 0.5 s
    (base 0.5 s x 2^0), not the 1 s a Retry-After would have asked, and the retry is answered."""
    running = faulty({"elasticsearch": {"schedule": {"1": "rate_limit", "2": "rate_limit"}}})
    rejected = connect(running, "elasticsearch").get("/")
    assert rejected.status_code == 429 and "Retry-After" not in rejected.headers
    assert (rejected.json()["status"], rejected.json()["error"]["type"]) == (429, "es_rejected_execution_exception")
    credentials = running.credentials["elasticsearch"]
    clock = FakeClock()
    policy = RetryPolicy(attempts=3, backoff_base_s=0.5, backoff_max_s=4.0, max_server_wait_s=60.0)
    with ElasticsearchClient(
        running.urls["elasticsearch"],
        user=credentials["user"],
        password=SecretStr(credentials["password"]),
        policy=policy,
        clock=clock,
        rng=random.Random(1),
    ) as client:
        assert client.send(PageRequest("/")).status == 200
    assert (client.counters.rate_limited, len(clock.sleeps)) == (1, 1)
    assert 0.0 <= clock.sleeps[0] <= 0.5


def test_server_error_bursts_are_consecutive(faulty: Any, connect: Any) -> None:
    running = faulty({"argocd": {"schedule": {"2": "server_error"}, "server_error_burst": 3}})
    argo = connect(running, "argocd")
    statuses = [argo.get("/api/v1/applications").status_code for _ in range(6)]
    assert statuses == [200, 503, 503, 503, 200, 200]
    assert running.injectors["argocd"].history[0][0] == 2


def test_slow_responses(faulty: Any, connect: Any) -> None:
    running = faulty({"elasticsearch": {"schedule": {"1": "slow"}, "slow_seconds": 0.6}})
    es = connect(running, "elasticsearch")
    started = time.monotonic()
    assert es.get("/").status_code == 200
    slow = time.monotonic() - started
    started = time.monotonic()
    es.get("/")
    assert slow >= 0.6 > time.monotonic() - started


def test_dropped_connections_and_truncated_bodies(faulty: Any, connect: Any) -> None:
    running = faulty({"gitlab": {"schedule": {"1": "drop", "2": "truncate"}}})
    gl = connect(running, "gitlab")
    with pytest.raises(httpx.RemoteProtocolError):
        gl.get("/api/v4/projects/1000/pipelines")
    with pytest.raises(httpx.RemoteProtocolError):
        gl.get("/api/v4/projects/1000/pipelines")
    assert gl.get("/api/v4/projects/1000/pipelines").status_code == 200


def test_malformed_page_and_wrong_typed_field(faulty: Any, connect: Any) -> None:
    running = faulty({"servicenow": {"schedule": {"1": "malformed", "2": "wrong_type"}}})
    sn = connect(running, "servicenow")
    params = {"sysparm_limit": "3", "sysparm_fields": "number,priority"}
    broken = sn.get("/api/now/table/incident", params=params)
    assert broken.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(broken.content)
    odd = sn.get("/api/now/table/incident", params=params).json()["result"]
    fine = sn.get("/api/now/table/incident", params=params).json()["result"]
    assert all(isinstance(v, str) for r in fine for v in r.values())
    assert not all(isinstance(v, str) for v in odd[0].values())
    assert odd[1:] == fine[1:]


def test_expired_dynatrace_next_page_key(faulty: Any, connect: Any) -> None:
    running = faulty({"dynatrace": {"schedule": {"2": "expired_page_key"}}})
    dt = connect(running, "dynatrace")
    first = dt.get(
        "/api/v2/metrics/query",
        params={"metricSelector": "builtin:service.requestCount.total", "resolution": "1h", "from": "now-3h"},
    ).json()
    expired = dt.get("/api/v2/metrics/query", params={"nextPageKey": first["nextPageKey"]})
    assert expired.status_code == 400
    assert expired.json()["error"]["constraintViolations"][0]["path"] == "nextPageKey"
    assert dt.get("/api/v2/metrics/query", params={"nextPageKey": first["nextPageKey"]}).status_code == 200


def test_faults_are_deterministic_under_a_seed(faulty: Any, connect: Any) -> None:
    config = {"seed": 5, "argocd": {"rate_limit": 0.3, "server_error": 0.1}}
    runs = []
    for _ in range(2):
        argo = connect(faulty(config), "argocd")
        runs.append([argo.get("/api/v1/applications", params={"name": "x"}).status_code for _ in range(25)])
    assert runs[0] == runs[1] and 429 in runs[0]


def _clients(running: RunningSimulators, attempts: int) -> dict[str, SourceClient]:
    """The connectors' own clients on the simulators, waiting on a clock that only records."""
    c = running.credentials
    options: dict[str, Any] = {
        "policy": RetryPolicy(attempts=attempts, backoff_base_s=0.01, backoff_max_s=0.05),
        "clock": FakeClock(),
    }
    return {
        "dynatrace": DynatraceClient(running.urls["dynatrace"], SecretStr(c["dynatrace"]["api_token"]), **options),
        "servicenow": ServiceNowClient(
            running.urls["servicenow"], c["servicenow"]["user"], SecretStr(c["servicenow"]["password"]), **options
        ),
        "argocd": ArgoCDClient(running.urls["argocd"], SecretStr(c["argocd"]["token"]), **options),
        "elasticsearch": ElasticsearchClient(
            running.urls["elasticsearch"],
            user=c["elasticsearch"]["user"],
            password=SecretStr(c["elasticsearch"]["password"]),
            **options,
        ),
    }


def _one_page_each(clients: dict[str, SourceClient], start_ms: int, end_ms: int) -> dict[str, Any]:
    """The first page of each listing the connectors read."""
    dt = clients["dynatrace"]
    assert isinstance(dt, DynatraceClient)
    metric = ["builtin:service.requestCount.total:names"]
    es = clients["elasticsearch"]
    assert isinstance(es, ElasticsearchClient)
    argocd = clients["argocd"]
    assert isinstance(argocd, ArgoCDClient)
    return {
        "metrics": next(iter(dt.metrics(metric, "type(SERVICE)", start_ms, end_ms))).body,
        "problems": next(iter(dt.problems(start_ms, end_ms, 5))).body,
        "entities": next(iter(dt.entities("type(SERVICE)", start_ms, end_ms, 5, "+tags"))).body,
        "servicenow": clients["servicenow"].send(PageRequest("/api/now/table/incident", {"sysparm_limit": 3})).body,
        "argocd": argocd.applications().body,
        "elasticsearch": next(iter(es.log_counts("logs-*", start_ms, end_ms, 50))).body,
    }


def test_a_page_without_its_list_of_records_is_set_aside_and_asked_again(faulty: Any) -> None:
    """A 200 whose list of records is missing (a metrics query without `result`, problems without `problems`,
    entities without `entities`, a table without `result`, applications without `items`, a search without
    `aggregations`) was read as a page of no records: the window moved on without them. The first answer of each
    API comes without its list: each is set aside with the reason, asked again, and the second answer read."""
    running: RunningSimulators = faulty(
        {api: {"schedule": {"1": "unlisted"}} for api in ("servicenow", "argocd", "elasticsearch")}
        | {"dynatrace": {"schedule": {"1": "unlisted", "3": "unlisted", "5": "unlisted"}}}
    )
    end_ms = running.estate.end_s * 1000
    start_ms = end_ms - 6 * 3_600_000
    clients = _clients(running, attempts=2)
    pages = _one_page_each(clients, start_ms, end_ms)
    assert isinstance(pages["metrics"]["result"], list) and pages["problems"]["problems"]
    assert pages["entities"]["entities"] and pages["servicenow"]["result"] and pages["argocd"]["items"]
    assert pages["elasticsearch"]["aggregations"]["logs"]["buckets"]
    # Read on the second attempt, each page is no reject: its unreadable answer is only counted as read again.
    assert [c.counters.set_aside for c in clients.values()] == [[], [], [], []]
    kept = [(bad.url, bad.reason) for c in clients.values() for bad in c.counters.read_again]
    assert kept == [
        ("GET /api/v2/metrics/query", "page has no result list"),
        ("GET /api/v2/problems", "page has no problems list"),
        ("GET /api/v2/entities", "page has no entities list"),
        ("GET /api/now/table/incident", "page has no result list"),
        ("GET /api/v1/applications", "page has no items list"),
        ("POST /logs-*/_search", "page has no aggregations.logs.buckets list"),
    ]
    assert [c.counters.retries for c in clients.values()] == [3, 1, 1, 1]


def test_a_page_that_never_comes_with_its_list_fails_naming_it(faulty: Any) -> None:
    """Every answer without its list: the listing fails after its attempts, saying which list was missing where,
    rather than ending as if the source had no records."""
    running: RunningSimulators = faulty({api: {"unlisted": 1.0} for api in ("dynatrace", "servicenow", "argocd")})
    end_ms = running.estate.end_s * 1000
    clients = _clients(running, attempts=3)
    dt = clients["dynatrace"]
    assert isinstance(dt, DynatraceClient)
    with pytest.raises(SourceUnavailable) as caught:
        list(dt.metrics(["builtin:service.requestCount.total:names"], "type(SERVICE)", end_ms - 3_600_000, end_ms))
    assert str(caught.value) == (
        "dynatrace: page has no result list on GET /api/v2/metrics/query, still after 3 attempts"
    )
    with pytest.raises(SourceUnavailable, match=r"^servicenow: page has no result list on GET /api/now/table/incident"):
        clients["servicenow"].send(PageRequest("/api/now/table/incident"))
    argocd = clients["argocd"]
    assert isinstance(argocd, ArgoCDClient)
    with pytest.raises(SourceUnavailable, match=r"^argocd: page has no items list on GET /api/v1/applications"):
        argocd.applications()
    # One reject for each page never read, not one for each of its 3 attempts.
    assert [len(c.counters.set_aside) for c in clients.values()] == [1, 1, 1, 0]


def test_a_search_of_no_index_has_no_aggregations(faulty: Any, connect: Any) -> None:
    """Elasticsearch searches no shard when a wildcard matches no index, and its answer then has no aggregations
    at all: that is an answer of no buckets, not a page without its list, so it is neither set aside nor retried."""
    running: RunningSimulators = faulty({})
    end_ms = running.estate.end_s * 1000
    query = log_counts_query(end_ms - 3_600_000, end_ms, 50)
    raw = connect(running, "elasticsearch").post("/nothing-here-*/_search", json=query).json()
    assert raw["_shards"]["total"] == 0 and "aggregations" not in raw
    es = _clients(running, attempts=2)["elasticsearch"]
    assert isinstance(es, ElasticsearchClient)
    (page,) = es.log_counts("nothing-here-*", end_ms - 3_600_000, end_ms, 50)
    assert "aggregations" not in page.body and es.counters.set_aside == [] and es.counters.retries == 0


def test_a_search_answered_by_some_shards_is_asked_again(faulty: Any, connect: Any) -> None:
    """A search one of whose shards failed comes as a 200 whose `_shards` counts the failure: its buckets are the
    other shards' part of the counts. The simulator answers its first search so; the client asks again, and reads
    the second, whole answer, the same buckets as an answer never spoilt. Asked always so, the pattern is a
    PartialAnswer, never a page of counts."""
    running: RunningSimulators = faulty({"elasticsearch": {"schedule": {"1": "partial"}}})
    end_ms = running.estate.end_s * 1000
    query = log_counts_query(end_ms - 3_600_000, end_ms, 50)
    raw = connect(running, "elasticsearch").post("/logs-*/_search", json=query).json()
    total = raw["_shards"]["total"]
    assert total > 0 and (raw["_shards"]["failed"], raw["_shards"]["successful"]) == (1, total - 1)
    assert raw["_shards"]["failures"][0]["reason"]["type"] == "node_disconnected_exception"
    whole = connect(running, "elasticsearch").post("/logs-*/_search", json=query).json()
    assert whole["_shards"]["failed"] == 0 and whole["aggregations"]["logs"]["buckets"]

    asked_again = faulty({"elasticsearch": {"schedule": {"1": "partial"}}})
    es = _clients(asked_again, attempts=2)["elasticsearch"]
    assert isinstance(es, ElasticsearchClient)
    page = next(iter(es.log_counts("logs-*", end_ms - 3_600_000, end_ms, 50)))
    assert page.body["aggregations"]["logs"]["buckets"] == whole["aggregations"]["logs"]["buckets"]
    assert (es.counters.retries, es.counters.set_aside) == (1, [])

    always = faulty({"elasticsearch": {"partial": 1.0}})
    es = _clients(always, attempts=2)["elasticsearch"]
    assert isinstance(es, ElasticsearchClient)
    with pytest.raises(PartialAnswer, match="1 shards failed"):
        next(iter(es.log_counts("logs-*", end_ms - 3_600_000, end_ms, 50)))


def test_a_listing_of_no_application_is_items_null(faulty: Any, connect: Any) -> None:
    """ArgoCD writes an empty list as null: a listing no application matches answers `"items": null`. The client
    reads that as a listing of none, neither set aside nor retried."""
    running: RunningSimulators = faulty({})
    raw = connect(running, "argocd").get("/api/v1/applications", params={"name": "no-such-app"}).json()
    assert raw["items"] is None
    argocd = _clients(running, attempts=2)["argocd"]
    page = argocd.send(PageRequest("/api/v1/applications", {"name": "no-such-app"}))
    assert page.body["items"] is None and argocd.counters.set_aside == [] and argocd.counters.retries == 0


def test_a_page_sent_a_piece_now_and_then_is_cut_at_the_total_time_and_asked_again(faulty: Any) -> None:
    """The simulator sends its first ServiceNow page in 20 pieces over 1.5 s, each well within the 2 s read timeout
    (a wide margin: a loaded machine may hold a piece back for more than its 75 ms): read whole, it takes the 1.5 s.
    Given 0.4 s from request to last byte, the client stops reading it there and asks again; the second answer comes
    whole."""
    running = faulty({"servicenow": {"schedule": {"1": "trickle", "2": "trickle"}, "trickle_seconds": 1.5}})
    c = running.credentials["servicenow"]
    request = PageRequest("/api/now/table/incident", {"sysparm_limit": 3})

    def client(total_timeout_s: float) -> ServiceNowClient:
        policy = RetryPolicy(attempts=2, backoff_base_s=0.01, backoff_max_s=0.01)
        return ServiceNowClient(
            running.urls["servicenow"],
            c["user"],
            SecretStr(c["password"]),
            timeout_s=2.0,
            total_timeout_s=total_timeout_s,
            policy=policy,
            clock=FakeClock(),
        )

    patient = client(120.0)
    started = time.monotonic()
    whole = patient.send(request).body
    assert time.monotonic() - started >= 1.5 and patient.counters.retries == 0
    hasty = client(0.4)
    assert hasty.send(request).body == whole
    assert hasty.counters.retries == 1 and hasty.counters.set_aside == []
