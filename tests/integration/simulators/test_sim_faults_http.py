"""Each fault kind is observable over real HTTP, on the request the schedule names."""

import json
import random
import time
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from functions.ingest_logs.client import ElasticsearchClient
from lakehouse.ingest.client import PageRequest, RetryPolicy
from simulators.serve import RunningSimulators

pytestmark = pytest.mark.simulators


def test_rate_limits_with_and_without_retry_after(faulty: Any, connect: Any) -> None:
    running: RunningSimulators = faulty(
        {
            "servicenow": {"rate_limit": 1.0, "retry_after": 3},
            "gitlab": {"rate_limit": 1.0, "retry_after": None},
            "dynatrace": {"schedule": {"2": "rate_limit"}},
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
    assert dt.get("/api/v2/slo").status_code == 429
    assert dt.get("/api/v2/slo").status_code == 200


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
