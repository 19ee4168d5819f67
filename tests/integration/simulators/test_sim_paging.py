"""Paging as each API really does it, including the rules connectors trip over."""

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from simulators.estate import Estate
from simulators.serve import RunningSimulators, start_simulators

from .conftest import make_client

pytestmark = pytest.mark.simulators
Client = Callable[[str], httpx.Client]


def test_dynatrace_next_page_key_must_be_sent_alone(client: Client, estate: Estate) -> None:
    dt = client("dynatrace")
    params = {
        "metricSelector": 'builtin:service.requestCount.total:splitBy("dt.entity.service")',
        "entitySelector": "type(SERVICE)",
        "resolution": "1h",
        "from": "now-6h",
    }
    first = dt.get("/api/v2/metrics/query", params=params).json()
    services = sum(1 for c in estate.components for _ in c.environments())
    assert first["totalCount"] == services
    seen = [d["dimensionMap"]["dt.entity.service"] for d in first["result"][0]["data"]]
    key = first["nextPageKey"]
    refused = dt.get("/api/v2/metrics/query", params={**params, "nextPageKey": key})
    assert refused.status_code == 400 and refused.json()["error"]["message"] == "Constraints violated."
    while key:
        page = dt.get("/api/v2/metrics/query", params={"nextPageKey": key}).json()
        seen += [d["dimensionMap"]["dt.entity.service"] for d in page["result"][0]["data"]]
        key = page["nextPageKey"]
    assert len(seen) == len(set(seen)) == services


def test_dynatrace_entities_and_problems_page_with_the_same_rule(client: Client, estate: Estate) -> None:
    dt = client("dynatrace")
    first = dt.get(
        "/api/v2/entities", params={"entitySelector": "type(SERVICE)", "pageSize": "3", "fields": "+tags"}
    ).json()
    ids = [e["entityId"] for e in first["entities"]]
    key = first.get("nextPageKey")
    while key:
        page = dt.get("/api/v2/entities", params={"nextPageKey": key}).json()
        ids += [e["entityId"] for e in page["entities"]]
        key = page.get("nextPageKey")
    assert len(set(ids)) == first["totalCount"]
    problems = dt.get("/api/v2/problems", params={"from": "now-21d", "pageSize": "2"}).json()
    again = dt.get("/api/v2/problems", params={"nextPageKey": problems["nextPageKey"], "fields": "evidenceDetails"})
    assert again.status_code == 200 and "evidenceDetails" in again.json()["problems"][0]
    assert (
        dt.get("/api/v2/problems", params={"nextPageKey": problems["nextPageKey"], "pageSize": "5"}).status_code == 400
    )


def _sn_pages(sn: httpx.Client, params: dict[str, str]) -> tuple[list[dict[str, Any]], list[httpx.Response]]:
    records, responses = [], []
    url: str | None = "/api/now/table/incident"
    query: dict[str, str] | None = params
    while url:
        response = sn.get(url, params=query)
        responses.append(response)
        records += response.json()["result"]
        url, query = _sn_links(response.headers["Link"]).get("next"), None
    return records, responses


def _sn_links(header: str) -> dict[str, str]:
    """rel -> URL; the URLs themselves hold commas (the sysparm_fields list), so the header is not split on them."""
    return {rel: url for url, rel in re.findall(r'<([^<>]+)>;rel="(\w+)"', header)}


def test_servicenow_link_header_and_total_count(client: Client, estate: Estate) -> None:
    params = {
        "sysparm_query": "ORDERBYsys_updated_on^ORDERBYsys_id",
        "sysparm_limit": "7",
        "sysparm_fields": "sys_id,number,sys_updated_on",
    }
    records, responses = _sn_pages(client("servicenow"), params)
    assert int(responses[0].headers["X-Total-Count"]) == len(estate.incidents)
    assert len(responses) == -(-len(estate.incidents) // 7)
    assert sorted(r["number"] for r in records) == sorted(i.number for i in estate.incidents)
    assert [r["sys_updated_on"] for r in records] == sorted(r["sys_updated_on"] for r in records)
    first_links = responses[0].headers["Link"]
    assert 'rel="first"' in first_links and 'rel="last"' in first_links and 'rel="prev"' not in first_links
    last = parse_qs(urlparse(_sn_links(first_links)["last"]).query)
    assert int(last["sysparm_offset"][0]) == (len(estate.incidents) - 1) // 7 * 7


def test_servicenow_links_write_the_fields_list_with_bare_commas(client: Client, estate: Estate) -> None:
    """A real instance's Link header (ServiceNowITOM/ansible-sn-inventory issue 15) repeats sysparm_fields with its
    commas as they are, `sysparm_fields=sys_class_name,name,os,...`, while the query's own commas come encoded (%2C):
    a client that splits the header on commas must fail here as it would on a real instance."""
    params = {
        "sysparm_query": "stateIN1,2,3,6,7,8^ORDERBYsys_updated_on",
        "sysparm_limit": "7",
        "sysparm_fields": "sys_id,number,sys_updated_on",
    }
    response = client("servicenow").get("/api/now/table/incident", params=params)
    next_url = _sn_links(response.headers["Link"])["next"]
    assert "&sysparm_fields=sys_id,number,sys_updated_on&" in next_url
    assert "sysparm_query=stateIN1%2C2%2C3%2C6%2C7%2C8" in next_url


def test_servicenow_records_updated_while_paging_make_offset_paging_skip(
    estate: Estate, faulty: Any, connect: Any
) -> None:
    running: RunningSimulators = faulty({"servicenow": {"drift": 1.0}})
    params = {
        "sysparm_query": "ORDERBYsys_updated_on^ORDERBYsys_id",
        "sysparm_limit": "10",
        "sysparm_fields": "sys_id,number,sys_updated_on",
    }
    records, _ = _sn_pages(connect(running, "servicenow"), params)
    numbers = [r["number"] for r in records]
    # Every page after the first moved one already-served record to the end: some rows come twice, some never.
    assert len(set(numbers)) < len(estate.incidents)
    assert len(numbers) > len(set(numbers))
    moved = [r for r in records if r["sys_updated_on"] > estate.end.strftime("%Y-%m-%d %H:%M:%S")]
    assert moved


def test_gitlab_offset_pagination_headers(client: Client, estate: Estate) -> None:
    comp = max(estate.components, key=lambda c: sum(p.project_id == c.gitlab_project_id for p in estate.pipelines))
    total = sum(p.project_id == comp.gitlab_project_id for p in estate.pipelines)
    gl = client("gitlab")
    page, ids = "1", []
    while page:
        response = gl.get(f"/api/v4/projects/{comp.gitlab_project_id}/pipelines", params={"per_page": 5, "page": page})
        assert response.headers["x-total"] == str(total)
        assert response.headers["x-total-pages"] == str(-(-total // 5))
        assert response.headers["x-per-page"] == "5" and response.headers["x-page"] == page
        ids += [p["id"] for p in response.json()]
        page = response.headers["x-next-page"]
    assert ids == sorted(ids, reverse=True) and len(ids) == total
    second = gl.get(f"/api/v4/projects/{comp.gitlab_project_id}/pipelines", params={"per_page": 5, "page": 2})
    assert second.headers["x-prev-page"] == "1"
    assert {'rel="prev"', 'rel="next"', 'rel="first"', 'rel="last"'} <= {
        part.split(";")[1].strip() for part in second.headers["link"].split(", ")
    }


def test_elasticsearch_composite_after_key_pages_cover_every_bucket(client: Client, estate: Estate) -> None:
    es = client("elasticsearch")
    app = estate.applications[0].id
    end_ms = estate.end_s * 1000
    query = {
        "bool": {
            "filter": [
                {"range": {"@timestamp": {"gte": end_ms - 6 * 3_600_000, "lt": end_ms, "format": "epoch_millis"}}},
                {"terms": {"log.level": ["ERROR", "WARN"]}},
            ]
        }
    }
    composite: dict[str, Any] = {
        "size": 5,
        "sources": [
            {"service": {"terms": {"field": "service.name"}}},
            {"hour": {"date_histogram": {"field": "@timestamp", "fixed_interval": "1h"}}},
        ],
    }
    buckets: list[dict[str, Any]] = []
    while True:
        body = {"size": 0, "query": query, "aggs": {"c": {"composite": composite}}}
        agg = es.post(f"/logs-{app}-*/_search", json=body).json()["aggregations"]["c"]
        buckets += agg["buckets"]
        if "after_key" not in agg:
            break
        composite = {**composite, "after": agg["after_key"]}
    keys = [(b["key"]["service"], b["key"]["hour"]) for b in buckets]
    assert keys == sorted(keys) and len(keys) == len(set(keys))
    total = es.post(f"/logs-{app}-*/_count", json={"query": query}).json()["count"]
    assert sum(b["doc_count"] for b in buckets) == total > 0


def test_elasticsearch_lines_without_a_composite_field_come_as_a_null_key_only_when_asked(estate: Estate) -> None:
    """An estate whose loggers follow Elastic Common Schema: documents carry service.environment, not
    deployment.environment. A composite terms source on the field they lack makes a bucket keyed null with
    missing_bucket (first in ascending order, paged through by after_key like any other), and no bucket without it;
    on service.environment the keys are the environments. Either way the buckets hold every line of the query."""
    with (
        start_simulators(estate, log_environment_fields=("service.environment",)) as ecs,
        make_client(ecs, "elasticsearch") as es,
    ):
        app = estate.applications[0]
        end_ms = estate.end_s * 1000
        query = {
            "bool": {
                "filter": [
                    {"range": {"@timestamp": {"gte": end_ms - 3 * 3_600_000, "lt": end_ms, "format": "epoch_millis"}}},
                    {"terms": {"log.level": ["ERROR", "WARN"]}},
                ]
            }
        }
        total = es.post(f"/logs-{app.id}-*/_count", json={"query": query}).json()["count"]

        def buckets(field: str, missing: bool) -> list[dict[str, Any]]:
            environment: dict[str, Any] = {"field": field}
            if missing:
                environment["missing_bucket"] = True
            composite: dict[str, Any] = {
                "size": 2,
                "sources": [
                    {"environment": {"terms": environment}},
                    {"service": {"terms": {"field": "service.name"}}},
                ],
            }
            found: list[dict[str, Any]] = []
            while True:
                body = {"size": 0, "query": query, "aggs": {"c": {"composite": composite}}}
                agg = es.post(f"/logs-{app.id}-*/_search", json=body).json()["aggregations"]["c"]
                found += agg["buckets"]
                if "after_key" not in agg:
                    return found
                composite = {**composite, "after": agg["after_key"]}

        orphans = buckets("deployment.environment", missing=True)
        assert {b["key"]["environment"] for b in orphans} == {None}
        services = [b["key"]["service"] for b in orphans]
        assert services == sorted(set(services)) and set(services) <= {c.name for c in app.components}
        assert sum(b["doc_count"] for b in orphans) == total > 0
        assert buckets("deployment.environment", missing=False) == []
        counted = buckets("service.environment", missing=True)
        assert {b["key"]["environment"] for b in counted} <= {"production", "staging"}
        assert None not in {b["key"]["environment"] for b in counted}
        assert sum(b["doc_count"] for b in counted) == total
        hit = es.post(f"/logs-{app.id}-*/_search", json={"size": 1, "query": query}).json()["hits"]["hits"][0]
        assert "deployment" not in hit["_source"] and hit["_source"]["service"]["environment"] in {
            "production",
            "staging",
        }


def test_gitlab_pipelines_are_filtered_on_the_times_they_show(client: Client, estate: Estate) -> None:
    """GitLab filters pipelines on the updated_at they show, bounds included (its UpdatedAtFilterable: updated_at
    >= updated_after, <= updated_before), and on created_at strictly after / before. With the bound set to a
    pipeline's own updated_at, that pipeline is in both listings, and every other pipeline of the project is in
    exactly one of them; with a bound on its created_at, it is in neither."""
    comp = max(estate.components, key=lambda c: sum(p.project_id == c.gitlab_project_id for p in estate.pipelines))
    gl = client("gitlab")
    path = f"/api/v4/projects/{comp.gitlab_project_id}/pipelines"

    def ids(params: dict[str, str]) -> list[int]:
        found, page = [], "1"
        while page:
            response = gl.get(path, params={**params, "per_page": "100", "page": page})
            found += [p["id"] for p in response.json()]
            page = response.headers["x-next-page"]
        return found

    every = gl.get(path, params={"per_page": "100"}).json()
    probe = next(p for p in every if not p["updated_at"].endswith(".000Z"))
    before = ids({"updated_before": probe["updated_at"]})
    after = ids({"updated_after": probe["updated_at"]})
    assert probe["id"] in before and probe["id"] in after
    assert sorted(before + after) == sorted([*ids({}), probe["id"]])
    created = next(p for p in every if not p["created_at"].endswith(".000Z"))
    assert created["id"] not in ids({"created_before": created["created_at"]})
    assert created["id"] not in ids({"created_after": created["created_at"]})


def test_gitlab_deployments_updated_at_a_bound_are_listed(client: Client, estate: Estate) -> None:
    """Deployments too are filtered with both bounds included: a deployment updated exactly at updated_after, or
    exactly at updated_before, is listed. Every deployment of the project is in exactly one of the two listings
    bounded by the probe's updated_at, the probe in both: one more than the project holds."""
    comp = max(
        estate.components,
        key=lambda c: sum(d.component == c.name and d.origin == "gitlab" for d in estate.deployments),
    )
    gl = client("gitlab")
    path = f"/api/v4/projects/{comp.gitlab_project_id}/deployments"
    every = gl.get(path, params={"per_page": "100", "order_by": "updated_at"}).json()
    assert 2 < len(every) < 100
    probe = every[len(every) // 2]
    after = gl.get(path, params={"per_page": "100", "updated_after": probe["updated_at"]}).json()
    before = gl.get(path, params={"per_page": "100", "updated_before": probe["updated_at"]}).json()
    assert probe["id"] in {d["id"] for d in after} and probe["id"] in {d["id"] for d in before}
    assert len(after) + len(before) == len(every) + 1


def test_gitlab_deployments_finished_at_finished_after_are_listed_and_at_finished_before_not(
    client: Client, estate: Estate
) -> None:
    """GitLab's Deployment scopes: finished_after is finished_at >= the bound, finished_before finished_at < it. A
    successful deployment that finished exactly at finished_after was left out. Bounded by a probe's finish, each
    successful deployment is in exactly one of the two listings, the probe in the `after` one: as many as there are."""
    comp = max(
        estate.components,
        key=lambda c: sum(c.name == d.component and d.origin == "gitlab" and not d.failed for d in estate.deployments),
    )
    gl = client("gitlab")
    path = f"/api/v4/projects/{comp.gitlab_project_id}/deployments"
    by_finish = {"per_page": "100", "order_by": "finished_at", "status": "success"}
    every = gl.get(path, params=by_finish | {"finished_after": "2000-01-01T00:00:00Z"}).json()
    assert 2 < len(every) < 100
    probe = every[len(every) // 2]
    finished = probe["deployable"]["finished_at"]
    after = gl.get(path, params=by_finish | {"finished_after": finished}).json()
    before = gl.get(path, params=by_finish | {"finished_before": finished}).json()
    assert probe["id"] in {d["id"] for d in after} and probe["id"] not in {d["id"] for d in before}
    assert len(after) + len(before) == len(every)


def test_gitlab_deployments_refuse_finished_at_unpaired_and_sort_on_the_updated_at_filtered(
    client: Client, estate: Estate
) -> None:
    """GitLab's DeploymentsFinder: finished_at filter and sort go together (either alone is a 400), the updated_at and
    finished_at filters never do, and a listing filtered on updated_at is sorted on updated_at whatever order_by asks,
    in the direction asked, ties on id. The errors are bad_request!'s {"message": "400 Bad request - ..."}."""
    comp = max(
        estate.components,
        key=lambda c: sum(d.component == c.name and d.origin == "gitlab" for d in estate.deployments),
    )
    gl = client("gitlab")
    path = f"/api/v4/projects/{comp.gitlab_project_id}/deployments"
    since = "2000-01-01T00:00:00Z"
    refused = {
        "`finished_at` filter and `finished_at` sorting must be paired": {"order_by": "finished_at"},
        "Both `updated_at` filter and `finished_at` filter can not be specified": {
            "updated_after": since,
            "finished_after": since,
            "order_by": "finished_at",
            "status": "success",
        },
        "`finished_at` filter must be combined with `success` status filter.": {
            "finished_after": since,
            "order_by": "finished_at",
        },
    }
    for message, params in refused.items():
        response = gl.get(path, params=params)
        assert (response.status_code, response.json()) == (400, {"message": f"400 Bad request - {message}"})
    listed = gl.get(path, params={"per_page": "100", "updated_after": since, "order_by": "id", "sort": "desc"}).json()
    assert 2 < len(listed) < 100
    assert [(d["updated_at"], d["id"]) for d in listed] == sorted(
        ((d["updated_at"], d["id"]) for d in listed), reverse=True
    )


def test_dynatrace_entities_are_those_observed_within_the_timeframe(client: Client) -> None:
    """The Entities API lists the entities observed within from/to (default now-3d to now): none before an entity was
    first seen, none after it was last seen. By hand, with one service's firstSeenTms and lastSeenTms: a frame ending
    a millisecond before it was first seen lists no service; ending when it was first seen, every service (all were
    first seen together); starting a millisecond after it was last seen, none again."""
    dt = client("dynatrace")
    services = {"entitySelector": "type(SERVICE)", "fields": "+firstSeenTms,+lastSeenTms", "pageSize": "500"}
    every = dt.get("/api/v2/entities", params=services).json()
    first, last = every["entities"][0]["firstSeenTms"], every["entities"][0]["lastSeenTms"]
    assert {e["firstSeenTms"] for e in every["entities"]} == {first}
    cases = {
        (first - 86_400_000, first - 1): 0,
        (first - 86_400_000, first): every["totalCount"],
        (last + 1, last + 60_000): 0,
    }
    for (since, until), listed in cases.items():
        page = dt.get("/api/v2/entities", params={**services, "from": str(since), "to": str(until)}).json()
        assert (page["totalCount"], len(page["entities"])) == (listed, listed)


def test_dynatrace_refuses_an_entity_selector_past_2000_characters(client: Client) -> None:
    """The real API takes an entitySelector of at most 2,000 characters (Entity selector, Limitations), so a
    connector that names too many ids must be refused here too. By hand: `type(SERVICE),entityId(` and `)` are 24
    characters, 72 ids of 24 characters quoted with their commas 72 * 27 = 1,944, and a last id of 30 characters
    quoted 32: 2,000 in all; one more character in that id makes 2,001."""
    dt = client("dynatrace")
    ids = [f"SERVICE-{n:016X}" for n in range(72)]
    for extra, status in ((0, 200), (1, 400)):
        selector = "type(SERVICE),entityId(" + ",".join(f'"{i}"' for i in [*ids, "SERVICE-" + "A" * (22 + extra)]) + ")"
        assert len(selector) == 2000 + extra
        for path, params in (
            ("/api/v2/entities", {"entitySelector": selector}),
            ("/api/v2/problems", {"entitySelector": selector}),
            (
                "/api/v2/metrics/query",
                {"metricSelector": "builtin:service.requestCount.total", "entitySelector": selector},
            ),
        ):
            answer = dt.get(path, params=params)
            assert answer.status_code == status, (path, answer.text)
            if status == 400:
                assert answer.json()["error"]["constraintViolations"][0]["path"] == "entitySelector"
