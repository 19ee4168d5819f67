"""Every endpoint through the ASGI app, with the figures worked out by hand in tests/unit/aggregates/test_kpis.py."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import boto3
import botocore.session
import duckdb
import pytest
from botocore.config import Config
from botocore.stub import Stubber
from fastapi.testclient import TestClient
from moto import mock_aws
from pydantic import SecretStr

from functions.api import queries
from functions.api.batch import Trigger
from functions.api.main import create_app
from functions.api.mart import ServingMart
from functions.api.settings import ApiKey
from lakehouse.aggregates import lease
from lakehouse.aggregates.build import build
from lakehouse.ingest.config import IngestSettings
from lakehouse.mappings import MappingStore
from lakehouse.objectstore import PreconditionFailed
from lakehouse.runlog import FirstReads, RunLog, RunRecord, new_run_id
from lakehouse.schemas import get_dataset
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.integration.api.conftest import ADMIN, READER, api_settings, closed_port, down_sources, run_record_reads
from tests.unit.aggregates.estate import AS_OF, CI_Q, deployment, incident, rows, t, write_estate
from tests.unit.aggregates.estate import estate_lake as hand_made_lake


def get(client: TestClient, url: str, headers: dict[str, str] = READER) -> dict:
    r = client.get(url, headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert "generatedAt" in body and body["freshness"]["asOf"] == "2026-11-20T10:00:00Z"
    return body


@pytest.fixture(scope="module")
def other_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The estate with the mappings the conftest's leaves out: an application without components, an application
    template naming the component, a component without a log index, a component mapped in staging only."""
    root = tmp_path_factory.mktemp("api-other-mappings")
    lake, settings = hand_made_lake(root)
    MappingStore(lake).apply(
        [
            # mono is mapped directly: its own ArgoCD application and GitLab project, no components.
            {
                "entity_id": "mono",
                "kind": "application",
                "team": "t3",
                "argocd_app_name": "mono-prod",
                "argocd_app_namespace": "team-m",
                "gitlab_project_id": 77,
            },
            # shop (mapped in production only) with a template naming the component.
            {
                "entity_id": "shop",
                "kind": "application",
                "team": "t1",
                "group": "g1",
                "domain": "d1",
                "elisa_index": "logs-shop-*",
                "kibana_query_template": 'service.name:"{component}" and labels.application:"{application}"',
            },
            # duo has no log index; duo-a has one of its own, duo-b none.
            {"entity_id": "duo", "kind": "application", "team": "t3"},
            {"entity_id": "duo-a", "kind": "component", "application_id": "duo", "elisa_index": "logs-duo-a-*"},
            {"entity_id": "duo-b", "kind": "component", "application_id": "duo"},
            # shop-api's staging twin: staging has a component of shop's, not shop itself.
            {
                "entity_id": "shop-api",
                "kind": "component",
                "application_id": "shop",
                "environment": "staging",
                "dynatrace_entity_selector": 'entityId("SERVICE-S")',
                "argocd_app_name": "shop-api-stg",
            },
        ],
        actor="test",
    )
    # The staging twin serves 10 requests an hour on the 19th; mono was last deployed on the 19th at 08:00.
    staging = [
        {"entity_id": "SERVICE-S", "hour": t(19, h), "request_count": 10.0, "error_count": 0.0} for h in range(24)
    ]
    lake.write_days(get_dataset("dynatrace/service_metrics_hourly"), rows("dynatrace/service_metrics_hourly", *staging))
    mono = deployment("argocd:mono-prod:1", "argocd", "mono-prod", t(19, 8), "succeeded", "m1")
    lake.write_days(get_dataset("deploys/deployment_events"), rows("deploys/deployment_events", mono))
    build(lake, settings, mode="full", as_of=AS_OF)
    with TestClient(create_app(api_settings(root), settings, down_sources()), raise_server_exceptions=False) as c:
        yield c


def test_health_needs_no_credential(client: TestClient) -> None:
    assert client.get("/monitoring/health").json() == {"status": "ok", "version": "1.0.0"}


def test_head_is_answered_as_get_without_a_body(client: TestClient) -> None:
    """Uptime checks and `curl -I` ask with HEAD, which a server answers wherever it answers GET: the health
    check's 200 without a credential, a read route's 200 with a key and its 401 without one, each without a body."""
    health = client.head("/monitoring/health")
    assert (health.status_code, health.headers["content-type"], health.content) == (200, "application/json", b"")
    # {"status":"ok","version":"1.0.0"} is 33 bytes: the length GET's body has.
    assert health.headers["content-length"] == "33"
    summary = client.head("/monitoring/applications/shop/summary", headers=READER)
    assert (summary.status_code, summary.headers["content-type"], summary.content) == (200, "application/json", b"")
    denied = client.head("/monitoring/applications/shop/summary")
    assert (denied.status_code, denied.headers["content-type"], denied.content) == (
        401,
        "application/problem+json",
        b"",
    )


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/monitoring/admin/mappings", {"GET", "HEAD", "POST"}),
        ("DELETE", "/monitoring/overview", {"GET", "HEAD"}),
        ("GET", "/monitoring/admin/batch/trigger", {"POST"}),
    ],
)
def test_a_method_not_allowed_names_every_method_the_route_answers(
    client: TestClient, method: str, path: str, allowed: set[str]
) -> None:
    """The mapping table is read with GET (and HEAD) and changed with POST: a 405 for PUT lists all three, where
    "Allow: GET" told a client it could not POST there."""
    r = client.request(method, path, headers=ADMIN)
    assert r.status_code == 405 and r.headers["content-type"] == "application/problem+json"
    assert set(r.headers["allow"].split(", ")) == allowed


def test_summary_of_shop(client: TestClient) -> None:
    body = get(client, "/monitoring/applications/shop/summary")
    assert body["entity"]["components"] == ["shop-api", "shop-db"] and body["entity"]["team"] == "t1"
    signals = body["goldenSignals"]
    # The 24 hours before as_of (19th 10:00 -> 20th 10:00): shop-api 14 h x 1000, shop-db 14 h x 500.
    assert signals["requests"] == 14 * 1000 + 14 * 500
    # INC2 (P1 on shop-db) is the one open incident; the lake never read task SLAs, so whether it breached one is
    # unknown (null).
    assert body["incidents"] == {"state": "ok", "open": 1, "openP1P2": 1, "slaBreached": None, "readUntil": None}
    slo = body["slo"]
    assert slo["availabilityStatus"] == "insufficient data"
    assert slo["errorBudgetConsumed"] == pytest.approx(124 / 170)
    # The 30 days the figures cover, to the build's as-of (20th 10:00): a reader can tell how old they are.
    assert (slo["periodStart"], slo["periodEnd"]) == ("2026-10-21T10:00:00Z", "2026-11-20T10:00:00Z")
    # Open P1 +20, two failed changes +20, no trend (no traffic the week before); the open P1 makes it red.
    assert body["risk"]["riskScore"] == 40 and body["risk"]["health"] == "red"
    last = {d["componentId"]: d for d in body["lastDeployments"]}
    assert last["shop-api"]["deploymentKey"] == "argocd:shop-api-prod:3"


def test_the_summary_leaves_out_errors_of_hours_without_traffic(tmp_path: Path) -> None:
    """quiet-svc serves 100 requests an hour with 1 error on the 19th from 12:00 to 21:00 (10 hours), then
    reports 5 errors without a request at 03:00 on the 20th, all in the summary's 24 hours (19th 10:00 -> 20th
    10:00). Those 5 have no request behind them, as in the day summary: 1,000 requests, 10 errors, a 1 % error
    rate over 10 measured hours (not 15 errors, 1.5 %)."""
    lake, settings = hand_made_lake(tmp_path)
    served = [(t(19, h), 100.0, 1.0) for h in range(12, 22)] + [(t(20, 3), 0.0, 5.0)]
    hours = [{"entity_id": "SERVICE-Q", "hour": at, "request_count": r, "error_count": e} for at, r, e in served]
    lake.write_days(get_dataset("dynatrace/service_metrics_hourly"), rows("dynatrace/service_metrics_hourly", *hours))
    build(lake, settings, mode="full", as_of=AS_OF)
    with TestClient(create_app(api_settings(tmp_path), settings, down_sources())) as c:
        for route in ("applications/quiet", "components/quiet-svc"):
            signals = get(c, f"/monitoring/{route}/summary")["goldenSignals"]
            assert (signals["requests"], signals["errors"], signals["measuredHours"]) == (1000, 10, 10), route
            assert signals["errorRate"] == pytest.approx(0.01), route


def test_an_application_summary_where_only_its_components_are_mapped(other_client: TestClient) -> None:
    """shop is mapped in production only, shop-api in staging too: shop's staging tab shows its staging component
    and its signals, as its staging series do; an application with nothing in staging stays unknown there."""
    body = get(other_client, "/monitoring/applications/shop/summary?environment=staging")
    assert body["entity"]["components"] == ["shop-api"] and body["entity"]["team"] == "t1"
    # The 24 hours before as_of (19th 10:00 -> 20th 10:00): 14 hours x 10 requests of the staging twin.
    assert body["goldenSignals"]["requests"] == 14 * 10
    r = other_client.get("/monitoring/applications/mono/summary?environment=staging", headers=READER)
    assert r.status_code == 404 and r.json()["title"] == "Unknown entity"


ENTITY_ROUTES = ("summary", "timeseries", "incidents", "changes", "deployments", "deployments?mode=live", "logs/link")


@pytest.mark.parametrize("route", ENTITY_ROUTES)
def test_an_entity_not_mapped_in_the_environment_is_unknown_there_on_every_route(
    other_client: TestClient, route: str
) -> None:
    """mono and duo-a are mapped in production only, and staging is one of the mapping's environments (shop-api is
    there). Their summary in staging was a 404, while their series, incidents, changes and deployments there were
    200s with nothing in them, which a tab reads as no incident and no deployment; the logs link said they had no
    log index. Every route of theirs is now the summary's 404; shop, whose shop-api is in staging, still answers."""
    separator = "&" if "?" in route else "?"
    for entity, entity_id in (("applications/mono", "mono"), ("components/duo-a", "duo-a")):
        r = other_client.get(f"/monitoring/{entity}/{route}{separator}environment=staging", headers=READER)
        assert r.status_code == 404, (entity, route, r.text[:200])
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["title"] == "Unknown entity"
        assert r.json()["detail"] == f"{entity_id!r} is not mapped in environment 'staging'"
    if route != "logs/link":  # shop-api has no log index in staging: that link is its own 404
        shop = other_client.get(f"/monitoring/applications/shop/{route}{separator}environment=staging", headers=READER)
        assert shop.status_code == 200, (route, shop.text[:200])


@pytest.mark.parametrize(
    "url",
    [
        "/monitoring/applications/shop/summary?environment=prod",
        "/monitoring/applications/shop/incidents?environment=prod",
        "/monitoring/components/shop-api/timeseries?metric=requests&environment=prod",
        "/monitoring/kpis/slo?groupBy=app&environment=prod",
        "/monitoring/kpis/dora?groupBy=team&environment=prod",
        "/monitoring/kpis/incidents?groupBy=app&environment=prod",
        "/monitoring/kpis/changes?groupBy=team&environment=prod",
        "/monitoring/risk/top?environment=prod",
        "/monitoring/overview?environment=prod",
    ],
)
def test_an_environment_nothing_is_mapped_in_is_a_404_naming_the_mapped_ones(
    other_client: TestClient, url: str
) -> None:
    """`prod` for `production` answered empty reports and lists, as if the estate had no data there. This estate maps
    production and staging (shop-api's staging twin): the 404 names both."""
    response = other_client.get(url, headers=READER)
    assert response.status_code == 404, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == (
        "no entity is mapped in environment 'prod'; the mapping's environments are production, staging"
    )


def test_refs_resolve_like_plain_ids(client: TestClient) -> None:
    plain = get(client, "/monitoring/applications/shop/summary")
    for ref in ("system:default/shop", "component:default/shop-api", "SHOP"):
        same = get(client, f"/monitoring/applications/{ref}/summary")
        assert same["entity"]["id"] == "shop" and same["goldenSignals"] == plain["goldenSignals"]
    comp = get(client, "/monitoring/components/component:default/shop-db/summary")
    assert comp["entity"]["kind"] == "component" and comp["slo"] is None
    assert comp["incidents"]["open"] == 1


def test_timeseries(client: TestClient) -> None:
    body = get(client, "/monitoring/applications/shop/timeseries?metric=errors&from=2026-11-19&to=2026-11-20")
    assert len(body["points"]) == 24 and sum(p["v"] for p in body["points"]) == 124
    # The last 48 hours are answered from memory, longer ranges from the month objects: the estate's only
    # data is the 19th, so both must give the same hours.
    longer = get(client, "/monitoring/applications/shop/timeseries?metric=errors&from=2026-11-01&to=2026-11-20")
    assert longer["points"] == body["points"]
    # A window of a few hours inside the recent ones keeps exactly those hours, start included and end left out.
    hours = get(
        client,
        "/monitoring/applications/shop/timeseries?metric=errors&from=2026-11-19T05:00:00Z&to=2026-11-19T09:00:00Z",
    )
    assert hours["points"] == body["points"][5:9]
    comp = get(client, "/monitoring/components/shop-api/timeseries?metric=latency_p95&from=2026-11-19&to=2026-11-20")
    assert max(p["v"] for p in comp["points"]) == 800 and comp["unit"] == "ms" and comp["level"] == "component"


@pytest.mark.parametrize(
    "days",
    ["from=2026-11-19&to=2026-11-20", "from=2026-11-01&to=2026-11-20"],
    ids=["recent hours in memory", "month objects"],
)
def test_the_error_rate_series_is_errors_over_requests_and_none_without_traffic(client: TestClient, days: str) -> None:
    # shop-api: 1,000 requests an hour, 1 error (101 at 10:00); shop-db: no request before 04:00, then 500 an
    # hour and no error. The error rate is derived from the stored counts, as the stored rate was.
    shop = get(client, f"/monitoring/applications/shop/timeseries?metric=error_rate&{days}")
    by_hour = [p["v"] for p in shop["points"]]
    expected = [1 / 1000] * 4 + [1 / 1500] * 6 + [101 / 1500] + [1 / 1500] * 13
    assert by_hour == [pytest.approx(v) for v in expected] and shop["unit"] == "ratio"
    db = [p["v"] for p in get(client, f"/monitoring/components/shop-db/timeseries?metric=error_rate&{days}")["points"]]
    assert db == [None] * 4 + [0.0] * 20


def test_incidents_and_pagination(client: TestClient) -> None:
    open_ = get(client, "/monitoring/applications/shop/incidents?status=open")
    assert [i["number"] for i in open_["items"]] == ["INC2"]
    all_ = get(client, "/monitoring/applications/shop/incidents?status=all&limit=1")
    numbers = [all_["items"][0]["number"]]
    cursor = all_["page"]["nextCursor"]
    while cursor:
        page = get(client, f"/monitoring/applications/shop/incidents?status=all&limit=1&cursor={cursor}")
        numbers += [i["number"] for i in page["items"]]
        cursor = page["page"]["nextCursor"]
    assert numbers == ["INC1", "INC2", "INC3"]
    inc1 = get(client, "/monitoring/applications/shop/incidents?status=closed")["items"]
    assert inc1[0]["number"] == "INC1" and inc1[0]["linkedDeploymentFull"] == "argocd:shop-api-prod:2"
    assert get(client, "/monitoring/components/shop-db/incidents?status=all")["items"][0]["number"] == "INC2"


def test_changes_and_deployments(client: TestClient) -> None:
    changes = get(client, "/monitoring/applications/shop/changes?status=recent")
    assert [c["number"] for c in changes["items"]] == ["CHG1", "CHG2"]
    assert get(client, "/monitoring/applications/shop/changes?status=upcoming")["items"] == []
    history = get(client, "/monitoring/applications/shop/deployments?mode=history&period=last_30d")
    # D1, D2, D3, G1, G2 in production; the staging deployment is not (shop-db is mapped in production only).
    assert {d["deploymentKey"] for d in history["items"]} == {
        "argocd:shop-api-prod:1",
        "argocd:shop-api-prod:2",
        "argocd:shop-api-prod:3",
        "gitlab:101",
        "gitlab:102",
    }
    # Nothing is mapped in staging in this estate: asked for there, shop-db is a 404 naming production.
    staging = client.get("/monitoring/components/shop-db/deployments?environment=staging", headers=READER)
    assert staging.status_code == 404 and "environments are production" in staging.json()["detail"]


def test_a_deployment_finished_after_as_of_is_not_in_the_history_yet(tmp_path: Path) -> None:
    """D4, a sync of shop-api finished on the 20th at 11:00, was read ahead of the build (as_of 10:00): it has not
    happened at as_of, so the summary's last deployment of shop-api is still D3 (19th 13:00), and the history over a
    range reaching past as_of lists D2 and D3 on the 19th, not D4: its period ends at as_of, as the incident, change
    and lead-time lists over that range say, not at the midnight asked for."""
    lake, settings = hand_made_lake(tmp_path)
    ahead = deployment("argocd:shop-api-prod:4", "argocd", "shop-api-prod", t(20, 11), "succeeded", "r4")
    lake.write_days(get_dataset("deploys/deployment_events"), rows("deploys/deployment_events", ahead))
    build(lake, settings, mode="full", as_of=AS_OF)
    with TestClient(create_app(api_settings(tmp_path), settings, down_sources())) as c:
        last = get(c, "/monitoring/components/shop-api/summary")["lastDeployments"]
        assert [d["deploymentKey"] for d in last] == ["argocd:shop-api-prod:3"]
        history = get(c, "/monitoring/components/shop-api/deployments?from=2026-11-19&to=2026-11-21")
        assert [d["deploymentKey"] for d in history["items"]] == ["argocd:shop-api-prod:3", "argocd:shop-api-prod:2"]
        assert history["period"] == {"name": None, "start": "2026-11-19T00:00:00Z", "end": "2026-11-20T10:00:00Z"}
        lead_times = get(c, "/monitoring/components/shop-api/lead-times?from=2026-11-19&to=2026-11-21")
        assert lead_times["period"] == history["period"]


def test_a_deployment_says_its_incidents_and_recovery_in_each_correlation_mode(client: TestClient) -> None:
    """D2 (shop-api, 19th 10:00) caused INC1 (opened 10:30, restored 12:30): in full mode by CHG1, the change INC1
    names, and in light mode by shop's 24-hour window. Rolled back by D3 at 13:00, it recovered at the later of the
    two, 13:00, in both modes. D1 (the 1st) is in no mode's window of an incident."""
    history = get(client, "/monitoring/applications/shop/deployments?mode=history&period=last_30d")
    by_key = {d["deploymentKey"]: d for d in history["items"]}
    d2, d1 = by_key["argocd:shop-api-prod:2"], by_key["argocd:shop-api-prod:1"]
    assert (d2["isChangeFailureLight"], d2["incidentNumbersLight"]) == (True, ["INC1"])
    assert (d2["incidentNumbersFull"], d2["incidentNumbersLight"]) == (["INC1"], ["INC1"])
    assert d2["recoveredAtFull"] == d2["recoveredAtLight"] == "2026-11-19T13:00:00Z"
    assert (d1["incidentNumbersLight"], d1["recoveredAtLight"]) == (None, None)


def test_an_incident_names_its_deployment_and_whether_that_link_makes_a_change_failure(client: TestClient) -> None:
    """INC1 names CHG1 as its cause, and CHG1 covers D2: linked to D2 by that rule at 0.95, above the 0.70 that
    makes D2 a change failure. INC3 opened nine days after shop's last deployment: no link, so nothing to count."""
    items = get(client, "/monitoring/applications/shop/incidents?status=all")["items"]
    by_number = {i["number"]: i for i in items}
    inc1, inc3 = by_number["INC1"], by_number["INC3"]
    assert (inc1["linkedDeploymentFull"], inc1["linkRuleFull"], inc1["linkConfidenceFull"]) == (
        "argocd:shop-api-prod:2",
        "change_caused_by",
        0.95,
    )
    assert inc1["linkCountsAsChangeFailureFull"] is True
    assert (inc3["linkedDeploymentFull"], inc3["linkCountsAsChangeFailureFull"]) == (None, None)


def test_a_deployment_says_when_a_change_covering_it_closed_unsuccessful(client: TestClient) -> None:
    """G1 (shop-db, the 18th 07:00) is covered by CHG2, whose work ended at 07:00 and which closed 'unsuccessful';
    D2 is covered by CHG1, closed 'successful_issues'."""
    history = get(client, "/monitoring/applications/shop/deployments?mode=history&period=last_30d")
    by_key = {d["deploymentKey"]: d for d in history["items"]}
    g1, d2 = by_key["gitlab:101"], by_key["argocd:shop-api-prod:2"]
    assert (g1["changeNumbers"], g1["changeUnsuccessful"]) == (["CHG2"], True)
    assert (d2["changeNumbers"], d2["changeUnsuccessful"]) == (["CHG1"], False)


def test_live_deployments_fall_back_to_history_when_sources_are_down(client: TestClient) -> None:
    """ArgoCD and GitLab are down. shop-api's last deployment is r1 (the 19th at 13:00); shop-api-prod was last
    read Synced and Healthy at 09:45 on the 20th (the Degraded read at 10:05 comes after as_of, 10:00), and
    project 11's last pipeline read is 900, success on main, updated on the 19th at 03:00. Each shows, with when
    it was read; so does the component's own route."""
    body = get(client, "/monitoring/applications/shop/deployments?mode=live")
    live = {c["componentId"]: c for c in body["live"]}
    component = get(client, "/monitoring/components/shop-api/deployments?mode=live")["live"]
    for api in (live["shop-api"], *component):
        assert api["stale"] is True and "argocd" in api["staleReason"] and "gitlab" in api["staleReason"]
        assert api["lastDeployedAt"] == "2026-11-19T13:00:00Z" and api["revision"] == "r1"
        argocd = (api["syncStatus"], api["healthStatus"], api["operationPhase"], api["statusObservedAt"])
        assert argocd == ("Synced", "Healthy", "Succeeded", "2026-11-20T09:45:00Z")
        pipeline = (api["lastPipelineStatus"], api["lastPipelineRef"], api["lastPipelineAt"], api["lastPipelineUrl"])
        assert pipeline == ("success", "main", "2026-11-19T03:00:00Z", None)
    # Project 12 ran no pipeline: shop-db has none to show.
    assert live["shop-db"]["stale"] is True and live["shop-db"]["lastPipelineStatus"] is None


def test_a_live_fallback_names_each_source_once_in_its_reason(client: TestClient) -> None:
    """The sources are down (nothing listens on their port): shop-db's reason is GitLab's failure, named once, as
    shop-api's is ArgoCD's then GitLab's; "gitlab: gitlab: ..." said the source's name twice."""
    live = {c["componentId"]: c for c in get(client, "/monitoring/applications/shop/deployments?mode=live")["live"]}
    assert live["shop-db"]["staleReason"] == (
        "gitlab: connection failed (ConnectError) on GET /api/v4/projects/12/pipelines, still after 1 attempts"
    )
    assert live["shop-api"]["staleReason"] == (
        "argocd: connection failed (ConnectError) on GET /api/v1/applications/shop-api-prod, still after 1 attempts; "
        "gitlab: connection failed (ConnectError) on GET /api/v4/projects/11/pipelines, still after 1 attempts"
    )


@pytest.mark.parametrize(
    ("query", "parameter"),
    [("period=bogus", "period"), ("from=2026-13-01&to=2026-11-20", "from"), ("cursor=not-a-cursor", "cursor")],
)
def test_a_bad_parameter_beside_live_mode_is_refused_as_in_history_mode(
    client: TestClient, query: str, parameter: str
) -> None:
    """Live mode reads no period nor page, but a value no route could read is a mistake all the same: answered 200,
    the caller would never learn that its period or cursor is wrong. It is the 422 history mode gives."""
    response = client.get(f"/monitoring/applications/shop/deployments?mode=live&{query}", headers=READER)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert parameter in [e["parameter"] for e in response.json()["errors"]]


@contextlib.contextmanager
def source_on_loopback(
    answer: Callable[[str], tuple[int, object]], content_type: str = "application/json"
) -> Iterator[str]:
    """A source on loopback answering each GET with `answer(path)`: a status and a body, sent as JSON (a text body as
    it is, under another content type). Its URL."""

    class Source(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, body = answer(self.path)
            payload = json.dumps(body).encode() if content_type == "application/json" else str(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    with serving(Source) as url:
        yield url


@contextlib.contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """`handler` serving on loopback, in a thread, until the block ends; its URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class QuietHandler(BaseHTTPRequestHandler):
    """A loopback source's handler: it logs no request, and answers JSON in one call."""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def send_json(self, body: object, status: int = 200) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def every_source_at(url: str) -> IngestSettings:
    """The five sources configured at one URL, each with credentials the API can probe with."""
    token = SecretStr("t")
    return IngestSettings(
        dynatrace_url=url,
        dynatrace_token=token,
        servicenow_url=url,
        servicenow_user="rosetta",
        servicenow_password=token,
        argocd_url=url,
        argocd_token=token,
        gitlab_url=url,
        gitlab_token=token,
        elasticsearch_url=url,
        elasticsearch_api_key=token,
    )


def met_at(barrier: threading.Barrier, body: Callable[[str], object]) -> Callable[[str], tuple[int, object]]:
    """An answer given once `barrier`'s parties have all asked (each request waits for the others), else a 504."""

    def answer(path: str) -> tuple[int, object]:
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            return 504, None
        return 200, body(path)

    return answer


@contextlib.contextmanager
def sources_answering(body: object) -> Iterator[IngestSettings]:
    """ArgoCD and GitLab on loopback answering `body` as JSON to every request: their settings."""
    with source_on_loopback(lambda path: (200, body)) as url:
        yield IngestSettings(argocd_url=url, argocd_token=SecretStr("t"), gitlab_url=url, gitlab_token=SecretStr("t"))


def shop_api_live_page(estate_lake: tuple[Settings, Path], argocd: object, pipeline: object) -> Any:
    """shop-api's live deployments, ArgoCD on loopback answering `argocd` for its application and GitLab `[pipeline]`
    for its project's pipelines."""

    def answer(path: str) -> tuple[int, object]:
        return 200, argocd if path.startswith("/api/v1/") else [pipeline]

    settings, root = estate_lake
    with source_on_loopback(answer) as url:
        token = SecretStr("t")
        sources = IngestSettings(argocd_url=url, argocd_token=token, gitlab_url=url, gitlab_token=token)
        with TestClient(create_app(api_settings(root), settings, sources), raise_server_exceptions=False) as c:
            return c.get("/monitoring/components/shop-api/deployments?mode=live", headers=READER)


@pytest.mark.parametrize("answer", [["x"], {"status": "Healthy"}, [{"status": {"code": 1}}]])
def test_live_deployments_fall_back_when_a_source_answers_in_another_shape(
    estate_lake: tuple[Settings, Path], answer: object
) -> None:
    """ArgoCD answers an application and GitLab a list of pipelines. Sources answering a list of strings, an
    application whose status is a string, or a pipeline whose status is an object have not answered what live mode
    reads: shop-api falls back to its last deployment (r1, the 19th at 13:00), stale, ArgoCD's failure named in
    the reason, as when a source is down, not a 500 for the whole page."""
    settings, root = estate_lake
    with (
        sources_answering(answer) as sources,
        TestClient(create_app(api_settings(root), settings, sources), raise_server_exceptions=False) as c,
    ):
        r = c.get("/monitoring/applications/shop/deployments?mode=live", headers=READER)
    assert r.status_code == 200, r.text
    shop_api = {i["componentId"]: i for i in r.json()["live"]}["shop-api"]
    assert shop_api["stale"] is True and shop_api["staleReason"].startswith("argocd: ")
    assert (shop_api["revision"], shop_api["lastDeployedAt"]) == ("r1", "2026-11-19T13:00:00Z")


def test_live_deployments_fall_back_when_a_source_writes_its_times_as_numbers(
    estate_lake: tuple[Settings, Path],
) -> None:
    """ArgoCD and GitLab write their times as RFC 3339 text, and ingestion rejects a record whose time is anything
    else. Live mode read a number as seconds since 1970: an application deployed at 1763643600 and a pipeline
    updated at 12345 were shown, not stale, as deployed on the 20th at 13:00 and a pipeline of 1970-01-01T03:25:45Z.
    Such an answer is now the source's failure, as ingestion reads it: shop-api shows what history holds, stale, each
    source named (its last deployment r1 on the 19th at 13:00, its status read at 09:45 on the 20th, and project
    11's last pipeline read, 900, success on main, updated on the 19th at 03:00)."""
    argocd = {
        "status": {
            "sync": {"status": "Synced", "revision": "r9"},
            "health": {"status": "Healthy"},
            "history": [{"revision": "r9", "deployedAt": 1763643600}],
            "operationState": {"phase": "Succeeded"},
        }
    }
    pipeline = {"id": 901, "status": "running", "ref": "main", "updated_at": 12345}

    r = shop_api_live_page(estate_lake, argocd, pipeline)
    assert r.status_code == 200, r.text
    (item,) = r.json()["live"]
    assert item["stale"] is True
    unexpected = "ValidationError: unexpected answer"
    assert item["staleReason"] == f"argocd: {unexpected}; gitlab: {unexpected}"
    assert (item["revision"], item["lastDeployedAt"]) == ("r1", "2026-11-19T13:00:00Z")
    argocd_read = (item["syncStatus"], item["healthStatus"], item["operationPhase"], item["statusObservedAt"])
    assert argocd_read == ("Synced", "Healthy", "Succeeded", "2026-11-20T09:45:00Z")
    pipeline_read = (item["lastPipelineStatus"], item["lastPipelineRef"], item["lastPipelineAt"])
    assert pipeline_read == ("success", "main", "2026-11-19T03:00:00Z")


def test_live_deployments_fall_back_when_a_source_writes_a_time_utc_cannot_hold(
    estate_lake: tuple[Settings, Path],
) -> None:
    """A GitLab instance whose time zone is set writes its times with that offset; a pipeline updated at
    9999-12-31T23:59:59-02:00 is 10000-01-01T01:59:59Z, past the last instant Python's datetime holds. Reading it
    in UTC overflowed and the whole live page was a 500. As ingestion rejects such a time, it is GitLab's failure:
    shop-api shows ArgoCD live (Synced, r9) and project 11's last pipeline read (900, success on main, updated on
    the 19th at 03:00), stale, GitLab named."""
    argocd = {
        "status": {
            "sync": {"status": "Synced", "revision": "r9"},
            "health": {"status": "Healthy"},
            "history": [{"revision": "r9", "deployedAt": "2026-11-20T09:00:00Z"}],
            "operationState": {"phase": "Succeeded"},
        }
    }
    pipeline = {"id": 901, "status": "running", "ref": "main", "updated_at": "9999-12-31T23:59:59-02:00"}

    r = shop_api_live_page(estate_lake, argocd, pipeline)
    assert r.status_code == 200, r.text
    (item,) = r.json()["live"]
    assert (item["stale"], item["staleReason"]) == (True, "gitlab: ValidationError: unexpected answer")
    assert (item["syncStatus"], item["revision"], item["lastDeployedAt"]) == ("Synced", "r9", "2026-11-20T09:00:00Z")
    pipeline_read = (item["lastPipelineStatus"], item["lastPipelineRef"], item["lastPipelineAt"])
    assert pipeline_read == ("success", "main", "2026-11-19T03:00:00Z")


def test_live_deployments_fall_back_when_a_source_answers_json_nested_past_the_parser(
    estate_lake: tuple[Settings, Path],
) -> None:
    """An answer nested a hundred thousand arrays deep is valid JSON that Python's parser gives up on (a
    RecursionError): the live page was a 500. It is the source's failure now, said in words, and shop-api shows its
    history, stale."""
    deep = "[" * 100_000 + "]" * 100_000
    settings, root = estate_lake
    with source_on_loopback(lambda path: (200, deep), "application/json; charset=utf-8") as url:
        sources = down_sources().model_copy(update={"argocd_url": url, "argocd_token": SecretStr("t")})
        with TestClient(create_app(api_settings(root), settings, sources), raise_server_exceptions=False) as c:
            r = c.get("/monitoring/components/shop-api/deployments?mode=live", headers=READER)
    assert r.status_code == 200, r.text
    (item,) = r.json()["live"]
    assert item["stale"] is True and "argocd: page was JSON nested too deeply to read on GET" in item["staleReason"]
    assert (item["revision"], item["lastDeployedAt"]) == ("r1", "2026-11-19T13:00:00Z")


def test_live_mode_asks_for_every_component_at_once(estate_lake: tuple[Settings, Path]) -> None:
    """shop's live page needs three answers: ArgoCD's shop-api-prod, GitLab's projects 11 and 12. Sources that
    answer only once all three requests have arrived (each waits for the others) are answered in full when live
    mode asks for them side by side, as it must: asked one after the other, each request waited out its timeout,
    and a page of a few components against a hanging source outlasted the API gateway's 29 s."""
    arrived = threading.Barrier(3, timeout=20)
    argocd = {
        "status": {
            "sync": {"status": "Synced", "revision": "r9"},
            "health": {"status": "Healthy"},
            "history": [{"revision": "r9", "deployedAt": "2026-11-20T09:00:00Z"}],
            "operationState": {"phase": "Succeeded"},
        }
    }
    pipeline = {"id": 901, "status": "running", "ref": "main", "updated_at": "2026-11-20T09:30:00Z"}

    def body(path: str) -> object:
        return argocd if path.startswith("/api/v1/") else [pipeline]

    settings, root = estate_lake
    api = api_settings(root).model_copy(update={"live_timeout_s": 10.0})
    with source_on_loopback(met_at(arrived, body)) as url:
        token = SecretStr("t")
        sources = IngestSettings(argocd_url=url, argocd_token=token, gitlab_url=url, gitlab_token=token)
        try:
            with TestClient(create_app(api, settings, sources), raise_server_exceptions=False) as c:
                r = c.get("/monitoring/applications/shop/deployments?mode=live", headers=READER)
        finally:
            arrived.abort()
    assert r.status_code == 200, r.text
    live = {i["componentId"]: i for i in r.json()["live"]}
    assert [live[c]["stale"] for c in ("shop-api", "shop-db")] == [False, False], live
    assert (live["shop-api"]["syncStatus"], live["shop-api"]["revision"]) == ("Synced", "r9")
    assert [live[c]["lastPipelineStatus"] for c in ("shop-api", "shop-db")] == ["running", "running"]


def test_a_component_mapped_by_its_gitlab_path_has_its_deployments_and_live_pipeline(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """by-path names its GitLab project by its path alone (retail/by-path). Its deployments said "not mapped", as if
    no project were mapped, and live mode asked GitLab nothing for it. By hand: the state is "ok", and the live
    page asks GitLab for the project's last pipeline by its URL-encoded path (GitLab takes it where it takes the id),
    answering running."""
    root = tmp_path_factory.mktemp("api-gitlab-path")
    lake, settings = hand_made_lake(root)
    by_path = {"entity_id": "by-path", "kind": "component", "application_id": "quiet"}
    MappingStore(lake).apply([by_path | {"gitlab_project_slug": "retail/by-path"}], actor="test")
    build(lake, settings, mode="full", as_of=AS_OF)
    asked: list[str] = []
    pipeline = {"id": 901, "status": "running", "ref": "main", "updated_at": "2026-11-20T09:30:00Z"}

    def answer(path: str) -> tuple[int, object]:
        asked.append(path.split("?")[0])
        return 200, [pipeline]

    with source_on_loopback(answer) as url:
        sources = IngestSettings(gitlab_url=url, gitlab_token=SecretStr("t"))
        with TestClient(create_app(api_settings(root), settings, sources), raise_server_exceptions=False) as c:
            live = get(c, "/monitoring/components/by-path/deployments?mode=live")
            history = get(c, "/monitoring/components/by-path/deployments?mode=history&period=last_30d")
    assert (live["state"], history["state"]) == ("ok", "ok")
    (item,) = live["live"]
    assert (item["stale"], item["lastPipelineStatus"]) == (False, "running")
    assert asked == ["/api/v4/projects/retail%2Fby-path/pipelines"]


def test_live_times_a_source_gives_with_an_offset_are_answered_in_utc(estate_lake: tuple[Settings, Path]) -> None:
    """A GitLab instance whose time zone is set (gitlab.rb's time_zone) writes its times with that offset, as its
    commits do theirs (the deployments fixture: "2016-08-11T13:28:26.000+02:00"). Live mode passed the pipeline's
    updated_at on as it came, so a page read 11:30+02:00 beside times in UTC everywhere else; it is the same instant
    in UTC: 11:30 at +02:00 is 09:30Z. ArgoCD's times are read the same way."""
    argocd = {
        "status": {
            "sync": {"status": "Synced", "revision": "r9"},
            "health": {"status": "Healthy"},
            "history": [{"revision": "r9", "deployedAt": "2026-11-20T10:00:00+01:00"}],
        }
    }
    pipeline = {"id": 901, "status": "success", "ref": "main", "updated_at": "2026-11-20T11:30:00.000+02:00"}

    r = shop_api_live_page(estate_lake, argocd, pipeline)
    assert r.status_code == 200, r.text
    [live] = r.json()["live"]
    assert live["stale"] is False, live
    assert live["lastPipelineAt"] == "2026-11-20T09:30:00Z"
    assert live["lastDeployedAt"] == "2026-11-20T09:00:00Z"


def test_a_live_revision_is_the_one_deployed_beside_its_time_while_a_sync_runs(
    estate_lake: tuple[Settings, Path],
) -> None:
    """While ArgoCD syncs new0000 (out of sync, its operation running, as the simulator writes it), the sync's
    revision is the one being applied and the history's last entry, old0000 on the 20th at 09:00, the one deployed.
    The page paired the revision being applied with the last deployment's time, as if new0000 were deployed then; it
    gives old0000 with its time, the sync status saying another is on its way."""
    argocd = {
        "status": {
            "sync": {"status": "OutOfSync", "revision": "new0000"},
            "health": {"status": "Progressing"},
            "history": [{"id": 7, "revision": "old0000", "deployedAt": "2026-11-20T09:00:00Z"}],
            "operationState": {"phase": "Running", "operation": {"sync": {"revision": "new0000"}}},
        }
    }
    pipeline = {"id": 901, "status": "running", "ref": "main", "updated_at": "2026-11-20T10:00:00Z"}
    r = shop_api_live_page(estate_lake, argocd, pipeline)
    assert r.status_code == 200, r.text
    [live] = r.json()["live"]
    assert (live["revision"], live["lastDeployedAt"]) == ("old0000", "2026-11-20T09:00:00Z")
    assert (live["syncStatus"], live["operationPhase"], live["stale"]) == ("OutOfSync", "Running", False)


def test_half_a_character_in_a_live_answer_is_a_broken_character_not_a_500(
    estate_lake: tuple[Settings, Path],
) -> None:
    """A pipeline whose ref ends in half an emoji (a lone surrogate, "\\ud83d", as a source cutting its text in
    UTF-16 sends it) made the page a 500, for as long as the answer was cached, since no answer can hold it. It is
    read as ingestion reads it: the broken character replaced by U+FFFD, the rest kept."""
    argocd = {"status": {"sync": {"status": "Synced", "revision": "r1"}, "health": {"status": "Healthy\ud83d"}}}
    pipeline = {"id": 901, "status": "success", "ref": "feature-\ud83d", "updated_at": "2026-11-20T10:00:00Z"}
    r = shop_api_live_page(estate_lake, argocd, pipeline)
    assert r.status_code == 200, r.text
    [live] = r.json()["live"]
    assert (live["lastPipelineRef"], live["healthStatus"], live["stale"]) == ("feature-\ufffd", "Healthy\ufffd", False)


def test_a_component_gitlab_deploys_gives_its_last_deployment_while_gitlab_answers(
    estate_lake: tuple[Settings, Path],
) -> None:
    """shop-db is deployed by GitLab alone (gitlab:102, s1, the 18th at 08:30); live mode reads its last pipeline,
    not its deployments, which ingestion reads. Its revision and last deployment were given only while GitLab was
    down (from history, stale); while GitLab answered, they were empty. They are history's either way, and the
    page is not stale while GitLab answers."""

    def answer(path: str) -> tuple[int, object]:
        if path.startswith("/api/v1/"):
            history = [{"revision": "r1", "deployedAt": "2026-11-19T13:00:00Z"}]
            return 200, {"status": {"sync": {"status": "Synced", "revision": "r1"}, "history": history}}
        return 200, [{"id": 999, "status": "success", "ref": "main", "updated_at": "2026-11-20T10:00:00Z"}]

    settings, root = estate_lake
    with source_on_loopback(answer) as url:
        token = SecretStr("t")
        sources = IngestSettings(argocd_url=url, argocd_token=token, gitlab_url=url, gitlab_token=token)
        with TestClient(create_app(api_settings(root), settings, sources), raise_server_exceptions=False) as c:
            r = c.get("/monitoring/components/shop-db/deployments?mode=live", headers=READER)
    assert r.status_code == 200, r.text
    [live] = r.json()["live"]
    assert (live["sources"]["argocd"]["state"], live["sources"]["gitlab"]["state"]) == ("not mapped", "live")
    assert (live["revision"], live["lastDeployedAt"], live["stale"]) == ("s1", "2026-11-18T08:30:00Z", False)
    assert live["lastPipelineStatus"] == "success"


def test_live_deployments_of_an_application_mapped_directly(other_client: TestClient) -> None:
    """mono has no components: live mode reports mono itself, its ArgoCD application (mono-prod, of the namespace
    team-m, where ArgoCD's UI shows it) and GitLab project. The sources are down, so it falls back to mono's last
    deployment (m1, the 19th at 08:00)."""
    body = get(other_client, "/monitoring/applications/mono/deployments?mode=live")
    [mono] = body["live"]
    assert (mono["componentId"], mono["argocdApp"], mono["gitlabProjectId"]) == ("mono", "mono-prod", 77)
    assert mono["argocdAppNamespace"] == "team-m"
    assert mono["stale"] is True and "argocd" in mono["staleReason"] and "gitlab" in mono["staleReason"]
    assert mono["lastDeployedAt"] == "2026-11-19T08:00:00Z" and mono["revision"] == "m1"


def test_logs_link(client: TestClient) -> None:
    body = get(client, "/monitoring/applications/shop/logs/link?timeRange=now-1h")
    assert body["dataViewId"] == "0f8c7d2e-shop" and body["query"] == 'labels.application:"shop" and log.level:error'
    assert body["url"].startswith("http://kibana.example.org:5601/app/discover#/?_g=")
    comp = get(client, "/monitoring/components/shop-api/logs/link?from=2026-11-19T00:00:00Z&to=2026-11-19T06:00:00Z")
    assert comp["timeFrom"] == "2026-11-19T00:00:00.000Z" and comp["indexPattern"] == "logs-shop-*"
    # shop's template names no component: shop-api's link shows shop-api's errors in production (the
    # environment asked, in deployment.environment, the field the log counts are read from by default), not the
    # whole of shop's.
    assert comp["query"] == (
        'service.name:"shop-api" and deployment.environment:("production" or "Production" or "PRODUCTION") '
        'and (labels.application:"shop" and log.level:error)'
    )


def test_a_logs_link_never_carries_the_kibana_url_s_user_and_password(estate_lake: tuple[Settings, Path]) -> None:
    """A Kibana URL configured with a user and password in it: every reader gets the link, so it points at
    https://kibana.example.org:5601 alone, as config/sources shows a source's URL, and the password is nowhere in
    the answer."""
    settings, root = estate_lake
    api = api_settings(root).model_copy(update={"kibana_url": "https://viewer:kb-pass-0123@kibana.example.org:5601"})
    with TestClient(create_app(api, settings, down_sources()), raise_server_exceptions=False) as c:
        r = c.get("/monitoring/applications/shop/logs/link?timeRange=now-1h", headers=READER)
    assert r.status_code == 200, r.text
    assert r.json()["url"].startswith("https://kibana.example.org:5601/app/discover#/?_g=")
    assert "kb-pass-0123" not in r.text and "viewer" not in r.text


@contextlib.contextmanager
def kibana_answering(body: object, route: str = "/api/data_views") -> Iterator[str]:
    """A Kibana on loopback whose data views route answers `body` as JSON; its base URL."""
    with source_on_loopback(lambda path: (200, body) if path == route else (404, {})) as url:
        yield url


def logs_link_with_kibana(estate_lake: tuple[Settings, Path], kibana_url: str) -> Any:
    """shop's logs link, with no data view configured for logs-shop-*: the API asks Kibana for it."""
    settings, root = estate_lake
    api = api_settings(root).model_copy(update={"kibana_url": kibana_url, "kibana_data_views": {}})
    with TestClient(create_app(api, settings, down_sources()), raise_server_exceptions=False) as c:
        return c.get("/monitoring/applications/shop/logs/link?timeRange=now-1h", headers=READER)


@pytest.mark.parametrize(
    "answer",
    [[], [{"id": "9f1c-shop", "title": "logs-shop-*"}], "Kibana server is not ready yet", None],
)
def test_a_kibana_answering_data_views_in_another_shape_gives_the_link_an_unreachable_one_gives(
    estate_lake: tuple[Settings, Path], answer: object
) -> None:
    """Kibana 8 answers GET /api/data_views with {"data_view": [{"id", "title"}, ...]}. A Kibana answering a list, a
    string or null is read as one that cannot be reached: shop's link opens its index
    pattern logs-shop-* as the data view, a 200, never a 500."""
    with kibana_answering({"data_view": [{"id": "9f1c-shop", "title": "logs-shop-*"}]}) as url:
        kibana8 = logs_link_with_kibana(estate_lake, url)
    assert kibana8.status_code == 200 and kibana8.json()["dataViewId"] == "9f1c-shop", kibana8.text
    unreachable = logs_link_with_kibana(estate_lake, f"http://127.0.0.1:{closed_port()}")
    assert unreachable.status_code == 200 and unreachable.json()["dataViewId"] == "logs-shop-*", unreachable.text
    with kibana_answering(answer) as url:
        odd = logs_link_with_kibana(estate_lake, url)
    assert odd.status_code == 200, odd.text
    assert odd.json()["dataViewId"] == "logs-shop-*" and odd.json()["indexPattern"] == "logs-shop-*"


def test_a_logs_link_in_a_kibana_space_carries_the_data_view_of_that_space(estate_lake: tuple[Settings, Path]) -> None:
    """Kibana keeps data views per space: a space's are listed at /s/{space}/api/data_views, /api/data_views lists the
    default space's alone. With the space sre configured, shop's link opens in /s/sre and carries the id sre lists
    for logs-shop-*, 5d0a-shop-sre."""
    settings, root = estate_lake
    sre_views = {"data_view": [{"id": "5d0a-shop-sre", "title": "logs-shop-*"}]}
    with kibana_answering(sre_views, route="/s/sre/api/data_views") as url:
        api = api_settings(root).model_copy(update={"kibana_url": url, "kibana_data_views": {}, "kibana_space": "sre"})
        with TestClient(create_app(api, settings, down_sources()), raise_server_exceptions=False) as c:
            r = c.get("/monitoring/applications/shop/logs/link?timeRange=now-1h", headers=READER)
    assert r.status_code == 200 and r.json()["dataViewId"] == "5d0a-shop-sre", r.text
    assert r.json()["url"].startswith(f"{url}/s/sre/app/discover#/?_g=")


def test_a_component_logs_link_fills_its_application_template_for_the_component(other_client: TestClient) -> None:
    """shop's template is service.name:"{component}" and labels.application:"{application}": on shop-api's link
    {component} is shop-api and {application} shop. duo has no template: duo-a's link filters on duo-a and the
    environment asked (production)."""
    body = get(other_client, "/monitoring/components/shop-api/logs/link?timeRange=now-1h")
    assert body["query"] == 'service.name:"shop-api" and labels.application:"shop"'
    duo_a = get(other_client, "/monitoring/components/duo-a/logs/link")
    assert duo_a["query"] == (
        'service.name:"duo-a" and deployment.environment:("production" or "Production" or "PRODUCTION")'
    )


def test_an_application_link_without_a_template_shows_the_lines_its_counts_count(
    other_client: TestClient, tmp_path: Path
) -> None:
    """Log lines name their entity in service.name, the entity's id (a component's, or an application's mapped
    with an index of its own): the log counts read them so. duo, with no template, linked to
    labels.application:"duo", a field nothing counts nor the simulated estate writes: Discover opened on no line
    while duo showed errors. Its link filters on the services of duo in the index it opens: duo-a alone in
    logs-duo-a-* (duo-b has no index). mono2 has an index of its own: its link shows its lines and those of its
    components in that index, mono2-web's and mono2-api's (their own index), mono2-cron's (none: mono2's, as its
    own link reads), not mono2-job's, in logs-jobs-*."""
    duo = get(other_client, "/monitoring/applications/duo/logs/link")
    assert duo["indexPattern"] == "logs-duo-a-*"
    assert duo["query"] == (
        'service.name:"duo-a" and deployment.environment:("production" or "Production" or "PRODUCTION")'
    )
    settings = Settings(lake_url=str(tmp_path / "lake"), duckdb_temp_directory=tmp_path / "duckdb")
    lake = Lake.from_settings(settings)
    write_estate(lake)
    MappingStore(lake).apply(
        [
            {"entity_id": "mono2", "kind": "application", "team": "t3", "elisa_index": "logs-mono2-*"},
            {"entity_id": "mono2-web", "kind": "component", "application_id": "mono2", "elisa_index": "logs-mono2-*"},
            {"entity_id": "mono2-api", "kind": "component", "application_id": "mono2", "elisa_index": "logs-mono2-*"},
            {"entity_id": "mono2-job", "kind": "component", "application_id": "mono2", "elisa_index": "logs-jobs-*"},
            {"entity_id": "mono2-cron", "kind": "component", "application_id": "mono2"},
        ],
        actor="test",
    )
    build(lake, settings, mode="full", as_of=AS_OF)
    with TestClient(create_app(api_settings(tmp_path), settings, down_sources()), raise_server_exceptions=False) as c:
        mono2 = get(c, "/monitoring/applications/mono2/logs/link")
    assert mono2["indexPattern"] == "logs-mono2-*"
    assert mono2["query"] == (
        'service.name:("mono2" or "mono2-api" or "mono2-cron" or "mono2-web") '
        'and deployment.environment:("production" or "Production" or "PRODUCTION")'
    )


def test_only_an_application_link_borrows_a_component_log_index(other_client: TestClient) -> None:
    """duo has no log index and duo-a has one: duo's link opens duo-a's index, where duo's logs are. duo-b has
    none, nor has duo: its logs are not in duo-a's index, so its link is the 404 of any entity without one."""
    assert get(other_client, "/monitoring/applications/duo/logs/link")["indexPattern"] == "logs-duo-a-*"
    assert get(other_client, "/monitoring/components/duo-a/logs/link")["indexPattern"] == "logs-duo-a-*"
    r = other_client.get("/monitoring/components/duo-b/logs/link", headers=READER)
    assert r.status_code == 404 and r.json()["title"] == "No log index mapped", r.text


def test_a_logs_link_filters_on_the_environment_field_the_counts_are_read_from(
    estate_lake: tuple[Settings, Path],
) -> None:
    """An estate whose loggers follow Elastic Common Schema, counted from service.environment
    (ROSETTA_ELASTICSEARCH_ENVIRONMENT_FIELD): shop-api's production link filters on service.environment too, in
    its KQL and so in the Discover URL, never on deployment.environment, which those lines do not carry."""
    settings, root = estate_lake
    sources = down_sources().model_copy(update={"elasticsearch_environment_field": "service.environment"})
    with TestClient(create_app(api_settings(root), settings, sources), raise_server_exceptions=False) as c:
        body = get(c, "/monitoring/components/shop-api/logs/link?timeRange=now-1h")
    assert body["query"] == (
        'service.name:"shop-api" and service.environment:("production" or "Production" or "PRODUCTION") '
        'and (labels.application:"shop" and log.level:error)'
    )
    discover = unquote(body["url"])
    assert 'service.environment:("production" or "Production" or "PRODUCTION")' in discover
    assert "deployment.environment" not in discover


def test_overview(client: TestClient) -> None:
    body = get(client, "/monitoring/overview?period=last_7d")
    assert body["topRisks"][0]["appId"] == "shop"
    assert body["applicationsByHealth"]["red"] >= 1
    d1 = next(h for h in body["health"] if h["level"] == "domain" and h["levelId"] == "d1")
    assert d1["health"] == "red" and d1["reasons"] == ["shop is red"]
    # Every team, group and domain, as the answer's description says: g1 is shop (red) and quiet.
    levels = {(h["level"], h["levelId"]) for h in body["health"]}
    assert levels == {("domain", "d1"), ("domain", "d2"), ("group", "g1"), ("team", "t1"), ("team", "t2")}
    g1 = next(h for h in body["health"] if h["level"] == "group")
    assert (g1["applications"], g1["red"], g1["health"], g1["reasons"]) == (2, 1, "red", ["shop is red"])
    assert sum(day["errors"] or 0 for day in body["trend"]) == 124


def test_the_overview_judges_the_whole_estate_as_a_team_is_judged(client: TestClient) -> None:
    """Production holds shop (red, risk 40), broken (orange, 20) and quiet (no data): of the two applications with
    data one is red, and 1 x 3 >= 2, so the estate is red, its reasons the red and orange ones, riskiest first."""
    estate = get(client, "/monitoring/overview?period=last_7d")["estateHealth"]
    assert (estate["applications"], estate["red"], estate["orange"], estate["green"], estate["noData"]) == (
        3,
        1,
        1,
        0,
        1,
    )
    assert (estate["health"], estate["maxRiskScore"]) == ("red", 40)
    assert estate["reasons"] == ["shop is red", "broken is orange"]


def test_the_estate_health_names_its_ten_riskiest_applications_and_counts_them_all() -> None:
    con = duckdb.connect()
    con.execute(
        "create table mv_health as select 'estate' as level, 'estate' as level_id, 12 as applications, 12 as red, "
        "0 as orange, 0 as green, 0 as no_data, 90 as max_risk_score, 'red' as health, "
        "[format('app-{:02d} is red', n) for n in range(12)] as reasons"
    )
    estate = queries.estate_health(con)
    assert estate is not None and estate["red"] == 12
    assert estate["reasons"] == [f"app-{n:02d} is red" for n in range(10)]


def test_the_overview_top_risks_carry_their_seven_days_figures_as_risk_top_does(client: TestClient) -> None:
    """The dashboard's top risks are risk/top's ranking: the same rows, with the error rate, incidents and requests of
    the 7 days the score is judged on. shop's 7 days before as_of (13th 10:00 -> 20th 10:00) hold the 19th's
    34,000 requests and 124 errors, and INC1 (19th) and INC2 (18th) opened; INC3 (10th) is older."""
    top = get(client, "/monitoring/overview")["topRisks"]
    shop = next(r for r in top if r["appId"] == "shop")
    assert (shop["errorRate"], shop["incidents"], shop["requests"]) == (124 / 34_000, 2, 34_000)
    assert top == get(client, "/monitoring/risk/top")["items"]


def test_the_overview_trend_has_every_day_of_the_period_up_to_as_of(client: TestClient) -> None:
    """last_30d ends at as_of (the 20th, 10:00) and starts on 2026-10-21 10:00: its trend has the 31 days it
    touches, October's 21st to 31st (11, before the estate's first day) and November's 1st to 20th (20), as the
    incidents report's heatmap has them. A day before the estate's first day is in no day table: its events are
    unknown (null), as in the heatmap (the lake recorded no first read). A day without traffic has no requests. The 19th
    holds the estate's traffic: shop-api's 24 hours of 1,000 requests and shop-db's 20 of 500, 34,000; errors
    23 x 1 + 101 = 124. A range from the 19th to the 23rd has the days up to as_of's, the 19th and the 20th:
    the 21st and 22nd have not come yet."""
    trend = get(client, "/monitoring/overview?period=last_30d")["trend"]
    days = [d["day"] for d in trend]
    assert len(days) == 31 and (days[0], days[10], days[11], days[-1]) == (
        "2026-10-21",
        "2026-10-31",
        "2026-11-01",
        "2026-11-20",
    )
    first = trend[0]
    assert (first["requests"], first["errorRate"], first["incidentsOpened"], first["deployments"]) == (None,) * 4
    assert (first["deploymentChangeFailures"], first["changesImplemented"]) == (None, None)
    quiet = trend[days.index("2026-11-02")]  # in the day tables, no event: 0
    assert (quiet["incidentsOpened"], quiet["deployments"], quiet["changesImplemented"]) == (0, 0, 0)
    nineteenth = trend[days.index("2026-11-19")]
    assert (nineteenth["requests"], nineteenth["errors"]) == (34_000, 124)
    ranged = get(client, "/monitoring/overview?from=2026-11-19&to=2026-11-23")["trend"]
    assert [d["day"] for d in ranged] == ["2026-11-19", "2026-11-20"]


def test_the_overview_trend_leaves_unknown_the_days_before_the_lake_read_each_source(tmp_path: Path) -> None:
    """ServiceNow's incidents were first read from the 18th at 06:00, its change requests from the 19th, the
    deployments from the 20th. From the 17th to the 20th the trend's incidents are unknown (null) on the 17th only,
    the changes implemented on the 17th and 18th, the deployments and their change failures on the 17th to the 19th:
    unknown days, not days without any. Signals are read by the hour and say so themselves (the 17th has none)."""
    lake, settings = hand_made_lake(tmp_path)
    first_reads = FirstReads(lake)
    first_reads.record("servicenow", "incidents", t(18, 6), run_id="first-run")
    first_reads.record("servicenow", "changes", t(19), run_id="first-run")
    first_reads.record("deploys", "deployment_events", t(20), run_id="first-run")
    build(lake, settings, mode="full", as_of=AS_OF)
    with TestClient(create_app(api_settings(tmp_path), settings, down_sources())) as c:
        trend = get(c, "/monitoring/overview?from=2026-11-17&to=2026-11-21")["trend"]
    fields = ("incidentsOpened", "changesImplemented", "deployments", "deploymentChangeFailures")
    assert [d["day"] for d in trend] == ["2026-11-17", "2026-11-18", "2026-11-19", "2026-11-20"]
    assert [tuple(d[f] is None for f in fields) for d in trend] == [
        (True, True, True, True),
        (False, True, True, True),
        (False, False, True, True),
        (False, False, False, False),
    ]
    # INC2 opened on the 18th at 08:00 and INC1 on the 19th, both after the incidents were first read.
    assert [d["incidentsOpened"] for d in trend] == [None, 1, 1, 0]
    assert (trend[0]["requests"], trend[2]["requests"]) == (None, 34_000)


@pytest.mark.parametrize("report", ["slo", "dora", "incidents", "changes"])
@pytest.mark.parametrize("when", ["period=last_30d", "from=2026-11-01&to=2026-11-20"])
def test_an_application_row_counts_one_application_in_every_report(client: TestClient, report: str, when: str) -> None:
    """A row's `applications` is how many it sums: 1 for each of broken, quiet and shop, as kpis/incidents and
    kpis/changes say, and as kpis/dora said over a from/to range only (null over a named period, and in every SLO
    row); team t2 is broken and quiet."""
    apps = get(client, f"/monitoring/kpis/{report}?groupBy=app&{when}")["items"]
    assert {(r["id"], r["applications"]) for r in apps} == {("broken", 1), ("quiet", 1), ("shop", 1)}
    teams = get(client, f"/monitoring/kpis/{report}?groupBy=team&{when}")["items"]
    assert {(r["id"], r["applications"]) for r in teams} == {("t1", 1), ("t2", 2)}


def test_slo_kpis(client: TestClient) -> None:
    apps = {r["id"]: r for r in get(client, "/monitoring/kpis/slo?period=last_30d&groupBy=app")["items"]}
    assert apps["shop"]["availabilityDenominator"] == 34_000 and apps["shop"]["badRequests"] == 124
    assert apps["quiet"]["availability"] is None and apps["quiet"]["availabilityStatus"] == "no data"
    domain = {r["id"]: r for r in get(client, "/monitoring/kpis/slo?period=last_30d&groupBy=domain")["items"]}
    assert domain["d1"]["availability"] == pytest.approx(1 - 124 / 34_000)
    custom = get(client, "/monitoring/kpis/slo?groupBy=domain&from=2026-11-19&to=2026-11-20")
    d1 = next(r for r in custom["items"] if r["id"] == "d1")
    assert d1["availabilityDenominator"] == 34_000 and d1["errorBudgetConsumed"] == pytest.approx(124 / 170)


def test_dora_kpis(client: TestClient) -> None:
    apps = {r["id"]: r for r in get(client, "/monitoring/kpis/dora?period=last_30d&groupBy=app&mode=full")["items"]}
    shop = apps["shop"]
    assert (shop["changeFailureNumerator"], shop["changeFailureDenominator"]) == (2, 5)
    assert shop["leadTimeMedianHours"] == pytest.approx(2.5) and shop["recoveryMedianHours"] == pytest.approx(2.25)
    assert apps["quiet"]["deploymentFrequencyState"] == "no deployments"
    team = {r["id"]: r for r in get(client, "/monitoring/kpis/dora?period=last_30d&groupBy=team")["items"]}
    assert (team["t2"]["changeFailureNumerator"], team["t2"]["changeFailureDenominator"]) == (2, 2)


def test_dora_for_an_explicit_range(client: TestClient) -> None:
    day = get(client, "/monitoring/kpis/dora?from=2026-11-18&to=2026-11-19&groupBy=app")
    assert day["period"]["name"] is None and day["period"]["start"] == "2026-11-18T00:00:00Z"
    shop = next(r for r in day["items"] if r["id"] == "shop")
    # On the 18th in production: G1 failed at 07:00, G2 succeeded at 08:30 (the staging deploy does not count).
    assert (shop["deploymentFrequencyNumerator"], shop["changeFailureDenominator"]) == (1, 2)
    assert shop["deploymentFrequencyPerDay"] == pytest.approx(1.0) and shop["deploymentFrequencyLevel"] == "elite"
    assert (shop["changeFailureNumerator"], shop["changeFailureRate"]) == (1, pytest.approx(0.5))
    # MR3 merged 06:00, shipped by G2 at 08:30; G1 recovered by G2 after 1.5 h; no incident restored that day.
    assert (shop["leadTimeSample"], shop["leadTimeMedianHours"]) == (1, pytest.approx(2.5))
    assert (shop["recoverySample"], shop["recoveryMedianHours"]) == (1, pytest.approx(1.5))
    assert shop["mttrState"] == "no incidents restored" and shop["mttrSample"] == 0
    # The same bounds as the build's last_30d give the build's figures.
    named = get(client, "/monitoring/kpis/dora?period=last_30d&groupBy=team&bandSet=2024&mode=light")
    bounds = named["period"]
    assert len(named["items"]) >= 2
    ranged = get(
        client,
        f"/monitoring/kpis/dora?from={bounds['start']}&to={bounds['end']}&groupBy=team&bandSet=2024&mode=light",
    )
    strip = {"period", "periodStart", "periodEnd"}
    assert [{k: v for k, v in r.items() if k not in strip} for r in ranged["items"]] == [
        {k: v for k, v in r.items() if k not in strip} for r in named["items"]
    ]
    assert client.get("/monitoring/kpis/dora?period=last_30d&from=2026-11-18", headers=READER).status_code == 422


def test_a_dora_range_reaching_past_as_of_stops_at_it(tmp_path: Path) -> None:
    """The build ran at 10:00 on the 20th. Ingested ahead of it: quiet-prod deployed at 12:00, and INC9, opened on
    quiet at 09:00, was restored at 11:00. Neither has happened at as_of. Asked from the 19th to the 21st, the range
    stops at as_of: 34 hours (1 day 10 h = 34 / 24 days), in which quiet has no deployment and no incident
    restored. shop deployed D2 (19th 10:00) and D3 (19th 13:00) in it: 2 / (34 / 24) a day, elite (at least one
    for each of its 1 whole day). A range lying wholly after as_of has not happened: its figures are unknown."""
    lake, settings = hand_made_lake(tmp_path)
    ahead = deployment("argocd:quiet-prod:1", "argocd", "quiet-prod", t(20, 12), "succeeded", "q1")
    lake.write_days(get_dataset("deploys/deployment_events"), rows("deploys/deployment_events", ahead))
    inc9 = incident("i9" * 16, "INC9", CI_Q, t(20, 9), 3, 6, resolved=t(20, 11))
    lake.write_days(get_dataset("servicenow/incidents"), rows("servicenow/incidents", inc9))
    build(lake, settings, mode="full", as_of=AS_OF)
    with TestClient(create_app(api_settings(tmp_path), settings, down_sources())) as c:
        ranged = get(c, "/monitoring/kpis/dora?from=2026-11-19&to=2026-11-21&groupBy=app")
        later = get(c, "/monitoring/kpis/dora?from=2026-11-21&to=2026-11-22&groupBy=app")
    assert (ranged["period"]["start"], ranged["period"]["end"]) == ("2026-11-19T00:00:00Z", "2026-11-20T10:00:00Z")
    rows_ = {r["id"]: r for r in ranged["items"]}
    quiet, shop = rows_["quiet"], rows_["shop"]
    assert (quiet["deploymentFrequencyNumerator"], quiet["deploymentFrequencyState"]) == (0, "no deployments")
    assert quiet["deploymentFrequencyDenominatorDays"] == pytest.approx(34 / 24)
    assert (quiet["mttrSample"], quiet["mttrState"]) == (0, "no incidents restored")
    assert shop["deploymentFrequencyPerDay"] == pytest.approx(2 / (34 / 24))
    assert shop["deploymentFrequencyLevel"] == "elite"
    empty = {r["id"]: r for r in later["items"]}["quiet"]
    assert (empty["deploymentFrequencyNumerator"], empty["deploymentFrequencyState"]) == (0, "insufficient data")
    assert empty["deploymentFrequencyLevel"] is None


def test_dora_counts_deployments_from_when_the_lake_first_read_them(tmp_path: Path) -> None:
    """The deploy ingest first read from the 19th at midnight; the build ran at 10:00 on the 20th. Of shop's
    deployments in the last 30 days only D2 (19th 10:00) and D3 (19th 13:00) are in what the lake read, 34 hours
    (34 / 24 days): 2 / (34 / 24) a day, not 4 / 30. A range from the 18th counts from the 19th as well (G2, the
    18th at 08:30, is before it), and one over the named period's bounds gives the named period's figures."""
    lake, settings = hand_made_lake(tmp_path)
    FirstReads(lake).record("deploys", "deployment_events", t(19), run_id="first-run")
    build(lake, settings, mode="full", as_of=AS_OF)
    with TestClient(create_app(api_settings(tmp_path), settings, down_sources())) as c:
        named = get(c, "/monitoring/kpis/dora?period=last_30d&groupBy=app")
        ranged = get(c, "/monitoring/kpis/dora?from=2026-11-18&to=2026-11-21&groupBy=app")
        bounds = named["period"]
        same = get(c, f"/monitoring/kpis/dora?from={bounds['start']}&to={bounds['end']}&groupBy=app")
    for report in (named, ranged, same):
        shop = {r["id"]: r for r in report["items"]}["shop"]
        assert shop["deploymentsFrom"] == "2026-11-19T00:00:00Z"
        assert (shop["deploymentFrequencyNumerator"], shop["changeFailureDenominator"]) == (2, 2)
        assert shop["deploymentFrequencyDenominatorDays"] == pytest.approx(34 / 24)
        assert shop["deploymentFrequencyPerDay"] == pytest.approx(2 / (34 / 24))


def test_a_named_dora_period_says_the_days_of_its_figures_after_an_hourly_build(tmp_path: Path) -> None:
    """The daily figures are built at 10:00 on the 20th: last_30d runs from 21 October 10:00 to then. quiet-prod
    deploys at 12:00 and an hourly build runs at 13:00, which leaves the period tables as they were. The last_30d
    report says the period its figures cover (to 10:00, where quiet had no deployment), not one ending at 13:00;
    and a range over the bounds it gives has its figures (quiet 0 deployments, shop 4 over 30 days)."""
    lake, settings = hand_made_lake(tmp_path)
    build(lake, settings, mode="full", as_of=AS_OF)
    noon = deployment("argocd:quiet-prod:1", "argocd", "quiet-prod", t(20, 12), "succeeded", "q1")
    lake.write_days(get_dataset("deploys/deployment_events"), rows("deploys/deployment_events", noon))
    assert build(lake, settings, mode="hourly", as_of=t(20, 13)).mode == "hourly"
    with TestClient(create_app(api_settings(tmp_path), settings, down_sources())) as c:
        named = c.get("/monitoring/kpis/dora?period=last_30d&groupBy=app", headers=READER).json()
        bounds = named["period"]
        url = f"/monitoring/kpis/dora?from={bounds['start']}&to={bounds['end']}&groupBy=app"
        ranged = c.get(url, headers=READER).json()
    assert (bounds["start"], bounds["end"]) == ("2026-10-21T10:00:00Z", "2026-11-20T10:00:00Z")
    figures = [
        (r["id"], r["deploymentFrequencyNumerator"], r["deploymentFrequencyDenominatorDays"]) for r in named["items"]
    ]
    assert figures == [("broken", 0, 30.0), ("quiet", 0, 30.0), ("shop", 4, 30.0)]
    assert [
        (r["id"], r["deploymentFrequencyNumerator"], r["deploymentFrequencyDenominatorDays"]) for r in ranged["items"]
    ] == figures


def test_a_named_slo_period_says_the_days_of_its_figures_after_an_hourly_build(tmp_path: Path) -> None:
    """As for DORA: the SLO period tables are the daily build's, made at 10:00 on the 20th, and an hourly build runs at
    13:00. last_7d says it runs from the 13th 10:00 to the 20th 10:00, the days its figures cover, not to 13:00; a
    range over the whole days of those bounds is summed from the day rows (the 13th to the 20th)."""
    lake, settings = hand_made_lake(tmp_path)
    build(lake, settings, mode="full", as_of=AS_OF)
    assert build(lake, settings, mode="hourly", as_of=t(20, 13)).mode == "hourly"
    with TestClient(create_app(api_settings(tmp_path), settings, down_sources())) as c:
        named = c.get("/monitoring/kpis/slo?period=last_7d&groupBy=app", headers=READER).json()
    assert named["period"] == {"name": "last_7d", "start": "2026-11-13T10:00:00Z", "end": "2026-11-20T10:00:00Z"}


def test_risk_top(client: TestClient) -> None:
    risk = get(client, "/monitoring/risk/top?metric=risk&limit=2")
    assert risk["items"][0]["appId"] == "shop" and len(risk["items"]) == 2
    assert risk["items"][0]["reasons"][0] == "1 open P1/P2 incident(s)"
    by_errors = get(client, "/monitoring/risk/top?metric=error_rate&period=last_30d")
    assert by_errors["items"][0]["appId"] == "shop"
    assert by_errors["items"][0]["errorRate"] == pytest.approx(124 / 34_000)
    # INC3 (10th), INC2 (18th), INC1 (19th) opened within the 30 days.
    assert get(client, "/monitoring/risk/top?metric=incidents&period=last_30d")["items"][0]["incidents"] == 3


@pytest.mark.parametrize(
    ("query", "named"),
    [("period=last_30d", "period"), ("from=2026-11-13&to=2026-11-20", "from")],
)
def test_the_risk_score_over_another_period_names_the_parameter_given(
    client: TestClient, query: str, named: str
) -> None:
    """The risk score is computed over the last 7 days only. Asked over a from/to range, the problem names `from`,
    the parameter the caller sent, not `period`, which it did not."""
    r = client.get(f"/monitoring/risk/top?metric=risk&{query}", headers=READER)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert [(e["parameter"], e["allowed"]) for e in r.json()["errors"]] == [(named, ["last_7d"])]
    assert "over the last 7 days" in r.json()["detail"]


def test_the_burn_rate_ranking_over_a_period_says_it_is_the_last_hours(client: TestClient) -> None:
    """The burn-rate ranking orders applications by their burn rate over the hour before as_of: asked over 30 days,
    the problem says that, not that it is computed over 7 days."""
    r = client.get("/monitoring/risk/top?metric=burn_rate&period=last_30d", headers=READER)
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert "burn rate over the hour before" in detail and "7 days" not in detail


def test_admin_endpoints(client: TestClient) -> None:
    runs = get(client, "/monitoring/admin/batch-runs?limit=1", ADMIN)
    assert runs["items"][0]["function"] == "build_aggregates" and runs["items"][0]["status"] == "succeeded"
    mapping = get(client, "/monitoring/admin/mappings", ADMIN)
    assert mapping["version"] == 2 and {e["entity_id"] for e in mapping["entries"]} >= {"shop", "shop-api"}
    sources = {s["name"]: s for s in get(client, "/monitoring/admin/config/sources", ADMIN)["items"]}
    assert sources["argocd"]["configured"] is True and sources["argocd"]["reachable"] is False
    assert sources["dynatrace"]["configured"] is False and sources["dynatrace"]["reachable"] is None


def test_the_sources_say_from_when_each_dataset_has_been_read(tmp_path: Path) -> None:
    """A backfill of ArgoCD from 1 November completed; GitLab's deployments were never read. The admin sees the first
    instant of each dataset the lake holds, and none for a dataset no run has recorded."""
    lake, settings = hand_made_lake(tmp_path)
    FirstReads(lake).record("argocd", "deployment_history", t(1), run_id="backfill")
    build(lake, settings, mode="full", as_of=AS_OF)
    with TestClient(create_app(api_settings(tmp_path), settings, down_sources())) as c:
        sources = {s["name"]: s for s in get(c, "/monitoring/admin/config/sources", ADMIN)["items"]}
    assert sources["argocd"]["readFrom"]["deployment_history"] == "2026-11-01T00:00:00Z"
    assert sources["gitlab"]["readFrom"]["deployments"] is None


def test_the_admin_routes_answer_while_the_mart_copy_cannot_be_loaded(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """A mart object that is no Parquet (mv_incidents', one the summary reads) keeps the copy from loading: the read
    routes answer 503. The admin routes read the run log, the mapping and the watermarks, not the mart: the admin
    still sees the runs (the build's, succeeded), the mapping (version 1) and the sources, and can correct the
    mapping (version 2), instead of a 503 on the very routes that say what went wrong."""

    def admin_json(c: TestClient, url: str) -> dict:
        r = c.get(url, headers=ADMIN)
        assert r.status_code == 200, r.text
        return r.json()

    root = tmp_path_factory.mktemp("mart-broken")
    lake, settings = hand_made_lake(root)
    build(lake, settings, mode="full", as_of=AS_OF)
    Path(lake.url_of(lake.list_keys("mart/mv_incidents/")[0])).write_bytes(b"not parquet")
    with TestClient(create_app(api_settings(root), settings, down_sources()), raise_server_exceptions=False) as c:
        assert c.get("/monitoring/applications/shop/summary", headers=READER).status_code == 503
        runs = admin_json(c, "/monitoring/admin/batch-runs")
        assert [(r["function"], r["status"]) for r in runs["items"]] == [("build_aggregates", "succeeded")]
        assert runs["freshness"]["asOf"] is None
        assert admin_json(c, "/monitoring/admin/mappings")["version"] == 1
        assert len(admin_json(c, "/monitoring/admin/config/sources")["items"]) == 5
        change = {"entries": [{"entity_id": "newapp", "kind": "application", "team": "t9"}]}
        corrected = c.post("/monitoring/admin/mappings", headers=ADMIN, json=change)
        assert corrected.status_code == 201 and corrected.json()["version"] == 2


def test_a_source_nobody_answers_at_is_said_to_give_no_answer(client: TestClient) -> None:
    """ArgoCD's and GitLab's port has nobody listening: the probe got no answer at all, which "unexpected answer" said
    otherwise, as if the source had answered something the API could not read."""
    sources = {s["name"]: s for s in get(client, "/monitoring/admin/config/sources", ADMIN)["items"]}
    for name in ("argocd", "gitlab"):
        assert (sources[name]["reachable"], sources[name]["probeError"]) == (False, "no answer (ConnectError)")


def test_the_sources_are_probed_side_by_side(estate_lake: tuple[Settings, Path]) -> None:
    """All five sources configured with credentials, behind one server that answers a probe only once the five have
    arrived (each waits for the others): probed side by side, as they must be, every one is reachable. Probed one
    after the other, each waited out its timeout, and five sources that hang outlasted the API gateway's 29 s."""
    arrived = threading.Barrier(5, timeout=20)
    settings, root = estate_lake
    api = api_settings(root).model_copy(update={"live_timeout_s": 10.0})
    with source_on_loopback(met_at(arrived, lambda path: {})) as url:
        sources = every_source_at(url)
        try:
            with TestClient(create_app(api, settings, sources), raise_server_exceptions=False) as c:
                items = get(c, "/monitoring/admin/config/sources", ADMIN)["items"]
        finally:
            arrived.abort()
    assert {s["name"]: (s["reachable"], s["probeError"]) for s in items} == {
        name: (True, None) for name in ("dynatrace", "servicenow", "argocd", "gitlab", "elasticsearch")
    }


def test_a_source_redirecting_the_probe_to_a_login_page_is_not_said_to_accept_the_credentials(
    estate_lake: tuple[Settings, Path],
) -> None:
    """Every source behind a single sign-on proxy that redirects each request to its login page (302), as it does
    when it does not take the API's token: ingestion is refused there ("redirected; check the source's URL"), yet
    the probe said every source reachable and authenticated, as only an answer of 401 or 403 counted as refused. A
    redirect is now no proof of accepted credentials: each source is reachable, not authenticated."""
    settings, root = estate_lake
    with source_on_loopback(lambda path: (302, {})) as url:
        sources = every_source_at(url)
        with TestClient(create_app(api_settings(root), settings, sources), raise_server_exceptions=False) as c:
            items = get(c, "/monitoring/admin/config/sources", ADMIN)["items"]
    assert {s["name"]: (s["reachable"], s["authenticated"]) for s in items} == {
        name: (True, False) for name in ("dynatrace", "servicenow", "argocd", "gitlab", "elasticsearch")
    }


@pytest.mark.parametrize(
    ("status", "content_type", "authenticated"),
    [
        # A single sign-on proxy serving its login page itself, with a 200: ingestion reads no JSON there.
        (200, "text/html; charset=utf-8", False),
        (200, "application/json", True),
        # A source failing (or busy) says nothing of the credentials.
        (503, "application/json", None),
        (429, "application/json", None),
    ],
)
def test_the_probe_says_the_credentials_are_accepted_only_by_an_answer_in_json(
    estate_lake: tuple[Settings, Path], status: int, content_type: str, authenticated: bool | None
) -> None:
    settings, root = estate_lake
    body = "<html><form action='/login'>" if content_type.startswith("text/html") else {}
    with source_on_loopback(lambda path: (status, body), content_type) as url:
        sources = down_sources().model_copy(update={"argocd_url": url, "argocd_token": SecretStr("t")})
        with TestClient(create_app(api_settings(root), settings, sources), raise_server_exceptions=False) as c:
            items = get(c, "/monitoring/admin/config/sources", ADMIN)["items"]
    argocd = next(s for s in items if s["name"] == "argocd")
    assert (argocd["reachable"], argocd["authenticated"]) == (True, authenticated)


def test_an_elasticsearch_key_that_may_only_read_indices_is_said_to_be_accepted(
    estate_lake: tuple[Settings, Path],
) -> None:
    """Elasticsearch's root (`GET /`) needs the monitor cluster privilege; a key that may only read the log indices,
    all the ingestion needs, gets a 403 there, and the probe said its credentials refused. Any credential Elasticsearch
    takes may ask who it is (`GET /_security/_authenticate`): the probe asks that."""
    denied = {"type": "security_exception", "reason": "action [cluster:monitor/main] is unauthorized for API key id"}

    def answer(path: str) -> tuple[int, object]:
        if path == "/_security/_authenticate":
            return 200, {"username": "logs-reader", "authentication_type": "api_key"}
        return 403, {"error": {"root_cause": [denied], **denied}, "status": 403}

    settings, root = estate_lake
    with source_on_loopback(answer) as url:
        sources = down_sources().model_copy(
            update={"elasticsearch_url": url, "elasticsearch_api_key": SecretStr("read-only")}
        )
        with TestClient(create_app(api_settings(root), settings, sources), raise_server_exceptions=False) as c:
            items = get(c, "/monitoring/admin/config/sources", ADMIN)["items"]
    elasticsearch = next(s for s in items if s["name"] == "elasticsearch")
    assert (elasticsearch["reachable"], elasticsearch["authenticated"]) == (True, True)


def test_a_source_whose_credentials_the_api_lacks_is_configured_with_its_reachability_unknown(
    estate_lake: tuple[Settings, Path],
) -> None:
    settings, root = estate_lake
    # The ingest function holds the ServiceNow password; the API is given the URL and user only (as on AWS).
    sources = down_sources().model_copy(update={"servicenow_url": "https://acme.service-now.com"})
    sources = sources.model_copy(update={"servicenow_user": "rosetta"})
    with TestClient(create_app(api_settings(root), settings, sources), raise_server_exceptions=False) as c:
        state = {s["name"]: s for s in get(c, "/monitoring/admin/config/sources", ADMIN)["items"]}["servicenow"]
    assert state["configured"] is True and state["url"] == "https://acme.service-now.com"
    assert state["reachable"] is None and state["authenticated"] is None
    assert state["probeError"] == "no credentials to probe it with"


def test_a_source_url_is_shown_without_the_credentials_written_into_it(estate_lake: tuple[Settings, Path]) -> None:
    settings, root = estate_lake
    # With an API key the URL is probed too: its failure must not quote the URL either.
    url = f"http://rosetta:s3cret@127.0.0.1:{closed_port()}/"
    sources = down_sources().model_copy(update={"elasticsearch_url": url, "elasticsearch_api_key": SecretStr("k")})
    with TestClient(create_app(api_settings(root), settings, sources), raise_server_exceptions=False) as c:
        response = c.get("/monitoring/admin/config/sources", headers=ADMIN)
    assert response.status_code == 200 and "s3cret" not in response.text
    state = {s["name"]: s for s in response.json()["items"]}["elasticsearch"]
    assert (state["configured"], state["url"], state["reachable"]) == (True, url.replace("rosetta:s3cret@", ""), False)


def test_a_partial_run_counts_as_the_sources_last_success(tmp_path: Path) -> None:
    """GitLab's runs two hours and one hour ago: one succeeded, then one that read every project but a retired one
    (partial, its reject kept aside). The data arrived an hour ago, so that is the last success, and the last run
    is partial. (The run log is read over the last 7 days.)"""
    from datetime import UTC, datetime, timedelta

    from lakehouse.runlog import RunLog

    lake, settings = hand_made_lake(tmp_path)
    build(lake, settings, mode="full", as_of=AS_OF)
    runs = RunLog(lake)
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    for hours_ago, status in ((2, "succeeded"), (1, "partial")):
        at = hour - timedelta(hours=hours_ago)
        record = runs.start("ingest_deploys", "gitlab", "gitlab/deployments", now=at)
        runs.finish(record, status, now=at + timedelta(minutes=5))  # type: ignore[arg-type]
    with TestClient(create_app(api_settings(tmp_path), settings, down_sources()), raise_server_exceptions=False) as c:
        gitlab = {s["name"]: s for s in get(c, "/monitoring/admin/config/sources", ADMIN)["items"]}["gitlab"]
    partial_ended = (hour - timedelta(minutes=55)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert (gitlab["lastSuccess"], gitlab["lastRunStatus"]) == (partial_ended, "partial")


def test_a_source_failing_for_longer_than_the_runs_read_still_says_when_it_last_worked(tmp_path: Path) -> None:
    """GitLab's deployments were last written by a run 24 hours ago, which moved its watermark as it ended; every
    quarter hour since, GitLab's run failed, and ServiceNow's five datasets ran: 96 + 480 newer runs, more than the
    500 newest the route reads. The last success is still that run's end, 23 hours 55 minutes ago."""
    from datetime import UTC, datetime, timedelta

    from lakehouse.runlog import RunLog, Watermarks

    lake, settings = hand_made_lake(tmp_path)
    build(lake, settings, mode="full", as_of=AS_OF)
    runs = RunLog(lake)
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    day_ago = hour - timedelta(hours=24)
    worked = runs.finish(
        runs.start("ingest_deploys", "gitlab", "gitlab/deployments", now=day_ago),
        "succeeded",
        now=day_ago + timedelta(minutes=5),
    )
    Watermarks(lake).advance("gitlab", "deployments", day_ago, run_id=worked.run_id, now=worked.finished_at)
    for quarter in range(1, 97):
        at = day_ago + timedelta(minutes=15 * quarter)
        runs.finish(runs.start("ingest_deploys", "gitlab", "gitlab/deployments", now=at), "failed", now=at)
        for dataset in ("incidents", "changes", "problems", "task_slas", "cmdb_ci"):
            record = runs.start("ingest_servicenow", "servicenow", f"servicenow/{dataset}", now=at)
            runs.finish(record, "succeeded", now=at)
    with TestClient(create_app(api_settings(tmp_path), settings, down_sources()), raise_server_exceptions=False) as c:
        gitlab = {s["name"]: s for s in get(c, "/monitoring/admin/config/sources", ADMIN)["items"]}["gitlab"]
    worked_until = (day_ago + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert (gitlab["lastSuccess"], gitlab["lastRunStatus"]) == (worked_until, "failed")


def test_mapping_post_validates_versions_and_reattributes(client: TestClient) -> None:
    bad = client.post(
        "/monitoring/admin/mappings",
        headers=ADMIN,
        json={"entries": [{"entity_id": "Bad Id!", "kind": "application"}]},
    )
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
    assert any("entity_id" in e["detail"] for e in bad.json()["errors"])
    good = client.post(
        "/monitoring/admin/mappings",
        headers=ADMIN,
        json={"entries": [{"entity_id": "newapp", "kind": "application", "team": "t9"}], "note": "onboarding"},
    )
    assert good.status_code == 201, good.text
    assert good.json()["changedBy"] == "ops-admin" and good.json()["version"] == 3
    # The directory follows at once: the new application is known (no mart rows yet).
    assert client.get("/monitoring/applications/newapp/summary", headers=READER).json()["entity"]["team"] == "t9"
    removed = client.post(
        "/monitoring/admin/mappings", headers=ADMIN, json={"remove": [{"entity_id": "newapp"}], "note": "oops"}
    )
    assert removed.status_code == 201 and removed.json()["version"] == 4
    assert client.get("/monitoring/applications/newapp/summary", headers=READER).status_code == 404
    # An entry sent as it already stands (a catalog imported again) changes nothing: no version 5, a 200.
    shop = next(e for e in get(client, "/monitoring/admin/mappings", ADMIN)["entries"] if e["entity_id"] == "shop")
    same = client.post("/monitoring/admin/mappings", headers=ADMIN, json={"entries": [shop]})
    assert (same.status_code, same.json()["version"]) == (200, 4), same.text
    assert get(client, "/monitoring/admin/mappings", ADMIN)["versions"] == [1, 2, 3, 4]


def test_the_mapping_read_page_by_page_stays_on_the_version_its_first_page_came_from(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The estate's mapping (version 1) holds seven production entries, in key order: broken, broken-svc, quiet,
    quiet-svc, shop, shop-api, shop-db. Read 3 at a time, the first page is broken, broken-svc, quiet; an admin then
    adds an application 'alpha' (version 2, sorted first). The second page is still version 1's next three
    (quiet-svc, shop, shop-api): neither 'quiet' again nor a page of another version."""
    root = tmp_path_factory.mktemp("mapping-pages")
    lake, settings = hand_made_lake(root)
    build(lake, settings, mode="full", as_of=AS_OF)
    with TestClient(create_app(api_settings(root), settings, down_sources()), raise_server_exceptions=False) as c:
        first = get(c, "/monitoring/admin/mappings?limit=3", ADMIN)
        assert [e["entity_id"] for e in first["entries"]] == ["broken", "broken-svc", "quiet"]
        added = c.post(
            "/monitoring/admin/mappings",
            headers=ADMIN,
            json={"entries": [{"entity_id": "alpha", "kind": "application", "team": "t9"}]},
        )
        assert added.status_code == 201 and added.json()["version"] == 2
        cursor = first["page"]["nextCursor"]
        second = get(c, f"/monitoring/admin/mappings?limit=3&cursor={cursor}", ADMIN)
    assert second["version"] == 1
    assert [e["entity_id"] for e in second["entries"]] == ["quiet-svc", "shop", "shop-api"]


def test_an_infinite_latency_threshold_is_refused(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """A threshold is a number of milliseconds: 'inf' (as a CSV or a careless change may write it) is refused with
    a problem naming the field, and nothing is written. Stored, it held every hour of shop good while the mapping
    read back through the API showed no threshold at all (JSON has no infinity: it reads as null), and posting that
    back set the default 500 ms."""
    root = tmp_path_factory.mktemp("mapping-inf")
    lake, settings = hand_made_lake(root)
    build(lake, settings, mode="full", as_of=AS_OF)
    with TestClient(create_app(api_settings(root), settings, down_sources()), raise_server_exceptions=False) as c:
        change = {"entries": [{"entity_id": "shop", "kind": "application", "team": "t1", "slo_latency_p95_ms": "inf"}]}
        refused = c.post("/monitoring/admin/mappings", headers=ADMIN, json=change)
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert any("slo_latency_p95_ms" in e["detail"] for e in refused.json()["errors"])
        assert get(c, "/monitoring/admin/mappings", ADMIN)["version"] == 1


def test_a_gitlab_project_id_too_large_to_store_is_refused(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The mapping keeps a GitLab project id as a 64-bit integer (at most 2**63 - 1 = 9223372036854775807): an id
    one past that passed the validation and failed when the version was written, a 500 for the admin. It is refused
    with a problem naming the field, and nothing is written (the mapping stays at version 1)."""
    root = tmp_path_factory.mktemp("mapping-gitlab-id")
    _, settings = hand_made_lake(root)
    with TestClient(create_app(api_settings(root), settings, down_sources()), raise_server_exceptions=False) as c:
        change = {"entries": [{"entity_id": "shop", "kind": "application", "gitlab_project_id": 9223372036854775808}]}
        refused = c.post("/monitoring/admin/mappings", headers=ADMIN, json=change)
        assert refused.status_code == 422, refused.text
        assert any("gitlab_project_id" in e["detail"] for e in refused.json()["errors"])
        assert c.get("/monitoring/admin/mappings", headers=ADMIN).json()["version"] == 1


def test_the_admin_api_takes_a_gitlab_project_by_its_path(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The admin route takes a GitLab project by its path (gitlab_project_slug) where it takes its id, as the files
    and catalogs do: a new version keeps the path and reads it back. By hand: shop gets retail/shop (version 2), a
    path given as a URL is a 422 naming the field, nothing written (still version 2)."""
    root = tmp_path_factory.mktemp("mapping-gitlab-path")
    _, settings = hand_made_lake(root)
    with TestClient(create_app(api_settings(root), settings, down_sources()), raise_server_exceptions=False) as c:
        change = {"entries": [{"entity_id": "shop", "kind": "application", "gitlab_project_slug": "retail/shop"}]}
        taken = c.post("/monitoring/admin/mappings", headers=ADMIN, json=change)
        assert taken.status_code == 201, taken.text
        current = c.get("/monitoring/admin/mappings", headers=ADMIN).json()
        (shop,) = [e for e in current["entries"] if e["entity_id"] == "shop"]
        assert (current["version"], shop["gitlab_project_slug"]) == (2, "retail/shop")
        url = {"entries": [{"entity_id": "shop", "kind": "application", "gitlab_project_slug": "https://g/r/shop"}]}
        refused = c.post("/monitoring/admin/mappings", headers=ADMIN, json=url)
        assert refused.status_code == 422, refused.text
        assert any("gitlab_project_slug" in e["detail"] for e in refused.json()["errors"])
        assert c.get("/monitoring/admin/mappings", headers=ADMIN).json()["version"] == 2


def test_a_change_that_upserts_and_removes_one_key_is_refused(tmp_path_factory: pytest.TempPathFactory) -> None:
    """One change gives shop (production) with team t9 and also asks to remove shop (production): which was meant
    cannot be told. The upsert was kept without a word (version 2, shop of t9); it is a 422 problem naming the key,
    as a key given twice is, and nothing is written (the mapping stays at version 1, shop of t1)."""
    root = tmp_path_factory.mktemp("mapping-upsert-remove")
    _, settings = hand_made_lake(root)
    with TestClient(create_app(api_settings(root), settings, down_sources()), raise_server_exceptions=False) as c:
        change = {
            "entries": [{"entity_id": "shop", "kind": "application", "team": "t9"}],
            "remove": [{"entity_id": "shop", "environment": "production"}],
        }
        refused = c.post("/monitoring/admin/mappings", headers=ADMIN, json=change)
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert [e["detail"] for e in refused.json()["errors"]] == [
            "shop [production]: both upserted and removed in one change"
        ]
        mapping = c.get("/monitoring/admin/mappings", headers=ADMIN).json()
    assert mapping["version"] == 1
    assert {e["entity_id"]: e.get("team") for e in mapping["entries"]}["shop"] == "t1"


def test_a_rejected_mapping_names_each_problem_as_every_422_names_a_parameter(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Every other 422 lists its reasons as objects (parameter, in, detail). A change whose first entry has a kind no
    entity has and which removes a key the mapping lacks is refused with two of them: the entry's under `entries`,
    the key's under `remove`, both in the body, each detail the reason as the import command gives it."""
    root = tmp_path_factory.mktemp("mapping-rejected")
    _, settings = hand_made_lake(root)
    with TestClient(create_app(api_settings(root), settings, down_sources()), raise_server_exceptions=False) as c:
        change = {
            "entries": [{"entity_id": "newapp", "kind": "service"}],
            "remove": [{"entity_id": "ghost", "environment": "staging"}],
        }
        refused = c.post("/monitoring/admin/mappings", headers=ADMIN, json=change)
    assert refused.status_code == 422 and refused.headers["content-type"] == "application/problem+json"
    errors = refused.json()["errors"]
    assert [(e["parameter"], e["in"]) for e in errors] == [("entries", "body"), ("remove", "body")]
    assert errors[0]["detail"].startswith("entry 1 (newapp): kind: ")
    assert errors[1]["detail"] == "ghost [staging]: not in the current mapping"


def test_a_mapping_change_answers_without_waiting_for_a_new_build_to_load(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The copy of the estate's build serves; a new build lands, not yet loaded. An admin adds the application
    newapp: the answer (201) comes before the new build's copy has loaded, which takes the time a large mart takes
    (here until the test lets it finish), and newapp resolves at once on the copy serving. Waiting for the load, a
    mapping change could outlast the API gateway's 29 s though the new version was written."""
    root = tmp_path_factory.mktemp("mapping-while-a-build-lands")
    lake, settings = hand_made_lake(root)
    build(lake, settings, mode="full", as_of=AS_OF)
    order: list[str] = []
    release = threading.Event()
    load = ServingMart._load

    def slow_load(self: ServingMart, *args: Any, **kwargs: Any) -> Any:
        release.wait(timeout=30)
        order.append("loaded")
        return load(self, *args, **kwargs)

    with TestClient(create_app(api_settings(root), settings, down_sources()), raise_server_exceptions=False) as c:
        assert c.get("/monitoring/applications/shop/summary", headers=READER).status_code == 200
        build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=1))
        monkeypatch.setattr(ServingMart, "_load", slow_load)
        change = {"entries": [{"entity_id": "newapp", "kind": "application", "team": "t9"}]}
        added = c.post("/monitoring/admin/mappings", headers=ADMIN, json=change)
        order.append("answered")
        newapp = c.get("/monitoring/applications/newapp/summary", headers=READER)
        release.set()
        c.app.state.context.mart.refresh(force=True)  # type: ignore[attr-defined]  # once the load has finished
    assert added.status_code == 201 and added.json()["version"] == 2
    assert newapp.status_code == 200 and newapp.json()["entity"]["team"] == "t9"
    assert order[0] == "answered"


def test_an_empty_mapping_change_names_what_it_lacks_as_every_422_does(client: TestClient) -> None:
    """A change with neither entries to upsert nor keys to remove changes nothing: its 422 lists the two body
    fields either of which it needs, as every other 422 lists what it refused, and nothing is written."""
    versions = get(client, "/monitoring/admin/mappings", ADMIN)["versions"]
    for change in ({}, {"entries": [], "remove": [], "note": "nothing"}):
        refused = client.post("/monitoring/admin/mappings", headers=ADMIN, json=change)
        assert refused.status_code == 422 and refused.headers["content-type"] == "application/problem+json"
        errors = refused.json().get("errors") or []
        assert [(e["parameter"], e["in"]) for e in errors] == [("entries", "body"), ("remove", "body")], errors
    assert get(client, "/monitoring/admin/mappings", ADMIN)["versions"] == versions


def test_a_mapping_change_outrun_by_other_admins_is_a_conflict_to_retry(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every version number this change tries is taken first by another admin (the store refuses each write): after
    its eight rebases the admin is told to retry, a 409 problem, not a 500; the mapping stays at version 1."""
    root = tmp_path_factory.mktemp("mapping-outrun")
    _, settings = hand_made_lake(root)

    def taken(self: Lake, key: str, *args: object, **kwargs: object) -> None:
        raise PreconditionFailed(key)

    with TestClient(create_app(api_settings(root), settings, down_sources()), raise_server_exceptions=False) as c:
        monkeypatch.setattr(Lake, "put_table", taken)
        change = {"entries": [{"entity_id": "newapp", "kind": "application", "team": "t9"}]}
        outrun = c.post("/monitoring/admin/mappings", headers=ADMIN, json=change)
        monkeypatch.undo()
        assert outrun.status_code == 409, outrun.text
        assert outrun.headers["content-type"] == "application/problem+json" and "retry" in outrun.json()["detail"]
        assert c.get("/monitoring/admin/mappings", headers=ADMIN).json()["version"] == 1


def test_batch_trigger_runs_a_build_and_returns_its_run_id(client: TestClient) -> None:
    # The copy loaded first, as the module's earlier tests leave it: an API with none loaded yet answers an admin read
    # with no freshness while a build holds the lease, which `get` would take for a fault (run alone, it did).
    get(client, "/monitoring/admin/batch-runs?limit=1", ADMIN)
    r = client.post("/monitoring/admin/batch/trigger", headers=ADMIN, json={"kind": "build", "mode": "hourly"})
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["status"] == "started" and len(body["runIds"]) == 1
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        runs = get(client, "/monitoring/admin/batch-runs?limit=5", ADMIN)["items"]
        run = next(r for r in runs if r["runId"] == body["runIds"][0])
        if run["status"] != "running":
            break
        time.sleep(0.2)
    assert run["status"] == "succeeded" and run["trigger"] == f"api:{body['triggerId']}"
    bad = client.post("/monitoring/admin/batch/trigger", headers=ADMIN, json={"kind": "ingest", "source": "ftp"})
    assert bad.status_code == 422


def test_a_trigger_field_of_the_other_kind_is_a_422_naming_it(tmp_path: Path) -> None:
    """An ingestion reads on from its watermarks and a build reads every source: `mode=full` on an ingestion, meant
    as a re-ingestion of everything, or a source on a build, would be ignored and another run than the one asked
    for started. Each is a 422 naming the field, and no run starts."""
    settings = Settings(lake_url=str(tmp_path / "lake"), duckdb_temp_directory=tmp_path / "duckdb")
    write_estate(Lake.from_settings(settings))
    with TestClient(create_app(api_settings(tmp_path), settings, down_sources())) as c:
        for body, field in (
            ({"kind": "ingest", "source": "servicenow", "mode": "full"}, "mode"),
            ({"kind": "build", "source": "dynatrace"}, "source"),
        ):
            r = c.post("/monitoring/admin/batch/trigger", headers=ADMIN, json=body)
            assert r.status_code == 422, (body, r.status_code, r.text[:200])
            assert r.headers["content-type"] == "application/problem+json"
            assert [e["parameter"] for e in r.json()["errors"]] == [field]
        assert c.get("/monitoring/admin/batch-runs", headers=ADMIN).json()["items"] == []


def test_a_trigger_whose_run_fails_at_once_answers_a_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An admin who triggers a run that cannot start (no mapping yet, a source not configured) is told so at once,
    with the failure's kind, instead of a 202 "started" for a run that is nowhere in the run log."""
    monkeypatch.delenv("ROSETTA_SERVICENOW_URL", raising=False)
    settings = Settings(lake_url=str(tmp_path / "lake"), duckdb_temp_directory=tmp_path / "duckdb")
    Lake.from_settings(settings)  # an empty lake: no mapping yet
    # A long wait, so that a run slow to fail on a loaded machine fails within it; the answer must not wait it out.
    api = api_settings(tmp_path).model_copy(update={"trigger_wait_s": 60.0})
    with TestClient(create_app(api, settings, down_sources())) as c:
        started = time.monotonic()
        build_run = c.post("/monitoring/admin/batch/trigger", headers=ADMIN, json={"kind": "build"})
        waited = time.monotonic() - started
        ingest_run = c.post(
            "/monitoring/admin/batch/trigger", headers=ADMIN, json={"kind": "ingest", "source": "servicenow"}
        )
    assert build_run.status_code == 409 and build_run.headers["content-type"] == "application/problem+json"
    assert build_run.json()["errorKind"] == "BuildError" and "no mapping" in build_run.json()["detail"]
    assert waited < 30  # the answer comes when the run ends, not when the wait does
    assert ingest_run.status_code == 409, ingest_run.text
    assert "ROSETTA_SERVICENOW_URL" in ingest_run.json()["detail"]


class RefusingDynatrace(QuietHandler):
    """A Dynatrace that refuses the token on every request: each dataset of an ingestion fails."""

    def do_GET(self) -> None:
        self.send_json({"error": {"code": 401, "message": "Token Authentication failed"}}, status=401)


@pytest.mark.parametrize("forgetting", [False, True], ids=["a source refusing", "forget holding the lake"])
def test_a_triggered_ingestion_whose_datasets_all_failed_at_once_is_a_problem_not_started(
    forgetting: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An ingestion records each dataset's failure and goes on. Dynatrace refusing the token, or forget holding the
    lake, every dataset failed at once, and the admin read 202 "started" (as soon as a record said the run was under
    way). The answer is now a 502 naming the datasets and the reason, as their records do, or the 409 a build
    triggered while forget holds the lake gets; with the run ids either way."""
    settings = Settings(lake_url=str(tmp_path / "lake"), duckdb_temp_directory=tmp_path / "duckdb")
    lake = Lake.from_settings(settings)
    write_estate(lake)
    api = api_settings(tmp_path).model_copy(update={"trigger_wait_s": 60.0})
    with serving(RefusingDynatrace) as url:
        monkeypatch.setenv("ROSETTA_DYNATRACE_URL", url)
        monkeypatch.setenv("ROSETTA_DYNATRACE_TOKEN", "dt0c01.not-a-real-token")
        held = lease.take(lake, "forget", timedelta(minutes=30)) if forgetting else None
        try:
            with TestClient(create_app(api, settings, down_sources())) as c:
                r = c.post(
                    "/monitoring/admin/batch/trigger", headers=ADMIN, json={"kind": "ingest", "source": "dynatrace"}
                )
                runs = c.get("/monitoring/admin/batch-runs", headers=ADMIN).json()["items"]
        finally:
            if held is not None:
                lease.release(lake, held)
    assert r.headers["content-type"] == "application/problem+json", r.text
    body = r.json()
    assert runs and sorted(body["runIds"]) == sorted(run["runId"] for run in runs)
    assert {run["status"] for run in runs} == {"failed"}
    if forgetting:
        assert (r.status_code, body["errorKind"]) == (409, "RosettaError")
        assert "forget is removing a person from the lake" in body["detail"]
    else:
        assert (r.status_code, body["errorKind"]) == (502, "IngestionFailed")
        assert "dynatrace/service_metrics_hourly" in body["detail"] and "401" in body["detail"]
    assert "not-a-real-token" not in r.text


def test_a_lambda_trigger_runs_the_function_of_the_source_asked_for_or_none(tmp_path: Path) -> None:
    """ROSETTA_API_TRIGGER_FUNCTIONS named a function for "ingest" at large: a ServiceNow ingestion asked for invoked
    it, the Dynatrace ingestion's function (an ingestion reads its own source whatever the payload), and answered
    202 "accepted". Only the source's own key is read: without one, a 503 naming it, and nothing invoked."""
    invoked: list[str] = []

    class Recording:
        def invoke(self, **kwargs: Any) -> dict[str, Any]:
            invoked.append(kwargs["FunctionName"])
            return {"StatusCode": 202}

    settings = Settings(lake_url=str(tmp_path / "lake"), duckdb_temp_directory=tmp_path / "duckdb")
    functions = {"build": "rosetta-build", "ingest": "rosetta-ingest-dynatrace"}
    api = api_settings(tmp_path).model_copy(update={"trigger_mode": "lambda", "trigger_functions": functions})
    trigger = Trigger(api, settings, Lake.from_settings(settings), lambda_client=Recording)
    with TestClient(create_app(api, settings, down_sources(), trigger=trigger)) as c:
        r = c.post("/monitoring/admin/batch/trigger", headers=ADMIN, json={"kind": "ingest", "source": "servicenow"})
        built = c.post("/monitoring/admin/batch/trigger", headers=ADMIN, json={"kind": "build"})
    assert r.status_code == 503 and "no Lambda configured for ingest:servicenow" in r.json()["detail"], r.text
    assert built.status_code == 202 and invoked == ["rosetta-build"]


def lambda_trigger_app(tmp_path: Path, client: Callable[[], Any] | None = None) -> TestClient:
    """The API on AWS: triggers invoke the ingestion and build functions named in the settings."""
    settings = Settings(lake_url=str(tmp_path / "lake"), duckdb_temp_directory=tmp_path / "duckdb")
    functions = {"build": "rosetta-build", "ingest:servicenow": "rosetta-ingest-servicenow"}
    api = api_settings(tmp_path).model_copy(update={"trigger_mode": "lambda", "trigger_functions": functions})
    trigger = Trigger(api, settings, Lake.from_settings(settings), lambda_client=client)
    return TestClient(create_app(api, settings, down_sources(), trigger=trigger), raise_server_exceptions=False)


def test_a_trigger_whose_lambda_is_not_there_is_a_502_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """rosetta-ingest-servicenow was never deployed in this account: the admin gets a 502 naming it and the kind of
    failure, not a 500, and not Lambda's own message (which quotes the function's ARN, account id included)."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws(), lambda_trigger_app(tmp_path) as c:
        r = c.post("/monitoring/admin/batch/trigger", headers=ADMIN, json={"kind": "ingest", "source": "servicenow"})
    assert r.status_code == 502, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert "rosetta-ingest-servicenow" in body["detail"] and body["errorKind"] == "ResourceNotFoundException"
    assert "arn:aws" not in r.text and "123456789012" not in r.text


def test_a_throttled_trigger_is_a_503_with_retry_after(tmp_path: Path) -> None:
    """Lambda refuses the invoke with a 429 TooManyRequestsException and Retry-After: 7 (its reserved concurrency is
    used up): the admin gets a 503 naming the function, with Retry-After: 7, and no word of Lambda's message."""
    lam = botocore.session.get_session().create_client(
        "lambda", region_name="eu-west-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    stub = Stubber(lam)
    stub.add_client_error(
        "invoke",
        service_error_code="TooManyRequestsException",
        service_message="Rate exceeded for token sk-do-not-echo",
        http_status_code=429,
        modeled_fields={"retryAfterSeconds": "7", "Reason": "ReservedFunctionConcurrentInvocationLimitExceeded"},
    )
    with stub, lambda_trigger_app(tmp_path, lambda: lam) as c:
        r = c.post("/monitoring/admin/batch/trigger", headers=ADMIN, json={"kind": "ingest", "source": "servicenow"})
    assert r.status_code == 503, r.text
    assert r.headers["content-type"] == "application/problem+json" and r.headers["retry-after"] == "7"
    assert "rosetta-ingest-servicenow" in r.json()["detail"] and "sk-do-not-echo" not in r.text


def test_a_trigger_that_cannot_reach_lambda_is_a_502(tmp_path: Path) -> None:
    """Lambda's endpoint does not answer (nobody listens on the port): a 502 naming the function, not a 500."""
    endpoint = f"http://127.0.0.1:{closed_port()}"
    lam = boto3.client(
        "lambda",
        region_name="eu-west-1",
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1}, connect_timeout=1),
    )
    with lambda_trigger_app(tmp_path, lambda: lam) as c:
        r = c.post("/monitoring/admin/batch/trigger", headers=ADMIN, json={"kind": "build"})
    assert r.status_code == 502, r.text
    assert "rosetta-build" in r.json()["detail"] and r.json()["errorKind"] == "EndpointConnectionError"
    assert endpoint not in r.text


def test_cors_preflight(client: TestClient) -> None:
    r = client.options(
        "/monitoring/overview",
        headers={"Origin": "https://backstage.example.org", "Access-Control-Request-Method": "GET"},
    )
    assert r.headers["access-control-allow-origin"] == "https://backstage.example.org"
    assert r.status_code == 200 and "access-control-allow-methods" in r.headers


def test_a_cors_preflight_for_head_with_the_api_key_is_allowed(client: TestClient) -> None:
    """Every GET route answers HEAD, and a browser asks first for a HEAD carrying the API key header: the preflight
    was refused (400, "its method is not among those the API answers (methods: GET, POST)"), so a page of Backstage's
    origin could not check a route with HEAD."""
    r = client.options(
        "/monitoring/kpis/slo",
        headers={
            "Origin": "https://backstage.example.org",
            "Access-Control-Request-Method": "HEAD",
            "Access-Control-Request-Headers": "x-api-key",
        },
    )
    assert r.status_code == 200, r.text
    assert "HEAD" in r.headers["access-control-allow-methods"].split(", ")
    assert r.headers["access-control-allow-origin"] == "https://backstage.example.org"


@pytest.mark.parametrize(
    ("asked", "refused"),
    [
        ({"Origin": "https://evil.example.net", "Access-Control-Request-Method": "GET"}, "origin"),
        (
            {
                "Origin": "https://backstage.example.org",
                "Access-Control-Request-Method": "DELETE",
                "Access-Control-Request-Headers": "x-debug",
            },
            "method, headers",
        ),
    ],
)
def test_a_refused_cors_preflight_is_a_problem(client: TestClient, asked: dict[str, str], refused: str) -> None:
    """A page of another origin than Backstage's, or a DELETE with a header the API does not take, is refused at
    the preflight with Starlette's 400, which answered "Disallowed CORS origin" as text/plain where every other error
    of the API is problem+json. It is a problem naming what was refused; an origin refused is allowed nothing."""
    r = client.options("/monitoring/overview", headers=asked)
    assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert (body["status"], body["title"], body["instance"]) == (400, "CORS preflight refused", "/monitoring/overview")
    assert body["detail"].startswith(f"this cross-origin request is not allowed: its {refused} ")
    assert r.headers.get("access-control-allow-origin") == (None if refused == "origin" else asked["Origin"])


def test_the_served_contract_is_the_committed_one_and_names_nothing_configured(tmp_path: Path) -> None:
    """/openapi.json and /docs answer without a credential, on purpose: the contract is public (committed as
    docs/openapi.json, read by the Backstage API entity), and on AWS API Gateway routes only /monitoring/* to the
    function. So what they serve must come from the code alone: an API configured with a JWT secret, issuer and
    audience, key names, internal hosts for Kibana, ArgoCD, GitLab and Backstage, a bucket and a Lambda to trigger
    serves the committed document, naming none of them, and a docs page that reads only that document."""
    jwt_secret = "jwt-secret-3c9e1f0b7a5d4e2c8b6a"
    configured = {
        "jwt": jwt_secret,
        "issuer": "https://sso.corp.internal/realms/ops",
        "audience": "rosetta-aud-7d2f",
        "key name": "ops-admin-4b1e",
        "kibana": "kibana.corp.internal",
        "argocd": "argocd.corp.internal",
        "gitlab": "gitlab.corp.internal",
        "token": "glpat-5e8a1c9d",
        "origin": "backstage.corp.internal",
        "bucket": "rosetta-lake-9f3a",
        "function": "rosetta-build-2c7e",
    }
    api = api_settings(tmp_path).model_copy(
        update={
            "jwt_secret": SecretStr(jwt_secret),
            "jwt_issuer": configured["issuer"],
            "jwt_audience": configured["audience"],
            "api_keys": [ApiKey(name=configured["key name"], sha256="0" * 64, roles=["admin"])],
            "kibana_url": f"https://{configured['kibana']}:5601",
            "cors_origins": [f"https://{configured['origin']}"],
            "trigger_mode": "lambda",
            "trigger_functions": {"build": configured["function"]},
        }
    )
    sources = IngestSettings(
        argocd_url=f"https://{configured['argocd']}",
        argocd_token=SecretStr("argocd-token-1f6b"),
        gitlab_url=f"https://{configured['gitlab']}",
        gitlab_token=SecretStr(configured["token"]),
    )
    settings = Settings(lake_url=f"s3://{configured['bucket']}/lake", duckdb_temp_directory=tmp_path / "duckdb")
    with TestClient(create_app(api, settings, sources)) as c:
        document, page = c.get("/openapi.json"), c.get("/docs")
    assert document.status_code == 200 and page.status_code == 200
    committed = Path(__file__).parents[3] / "docs" / "openapi.json"
    assert document.json() == json.loads(committed.read_text(encoding="utf-8"))
    assert [name for name, value in configured.items() if value in document.text or value in page.text] == []
    assert "url: '/openapi.json'" in page.text


def test_the_served_contract_names_the_api_key_header_the_api_checks(
    estate_lake: tuple[Settings, Path], tmp_path: Path
) -> None:
    """An API whose keys come in another header (ROSETTA_API_API_KEY_HEADER, behind a gateway that keeps X-API-Key
    for its own) documents that header: a client generated from the document, or a person reading /docs, sends the
    key where it is checked. The committed document stays the one of the default header."""
    settings, _ = estate_lake
    api = api_settings(tmp_path).model_copy(update={"api_key_header": "X-Rosetta-Key"})
    with TestClient(create_app(api, settings, down_sources())) as c:
        document = c.get("/openapi.json").json()
        schemes = document["components"]["securitySchemes"]
        keys = [scheme for scheme in schemes.values() if scheme["type"] == "apiKey"]
        assert [(k["in"], k["name"]) for k in keys] == [("header", "X-Rosetta-Key")]
        assert "`X-Rosetta-Key`" in document["info"]["description"]
        assert "X-API-Key" not in json.dumps(document)
        # The documented header is the one that lets a reader in.
        assert c.get("/monitoring/overview", headers={keys[0]["name"]: READER["X-API-Key"]}).status_code == 200


def test_a_page_of_an_allowed_origin_reads_when_to_ask_again(tmp_path_factory: pytest.TempPathFactory) -> None:
    """A copy that cannot be loaded (a mart object that is no Parquet) is a 503 whose Retry-After says when to ask
    again. Cross-origin, a script reads only the headers the answer exposes: Retry-After is one of them."""
    root = tmp_path_factory.mktemp("retry-after-cross-origin")
    lake, settings = hand_made_lake(root)
    build(lake, settings, mode="full", as_of=AS_OF)
    Path(lake.url_of(lake.list_keys("mart/mv_incidents/")[0])).write_bytes(b"not parquet")
    origin = "https://backstage.example.org"
    with TestClient(create_app(api_settings(root), settings, down_sources()), raise_server_exceptions=False) as c:
        r = c.get("/monitoring/applications/shop/summary", headers=READER | {"Origin": origin})
    assert r.status_code == 503 and int(r.headers["retry-after"]) >= 1
    exposed = {h.strip().lower() for h in r.headers.get("access-control-expose-headers", "").split(",")}
    assert r.headers["access-control-allow-origin"] == origin and "retry-after" in exposed


def test_an_unexpected_error_is_a_problem_the_browser_can_read(
    estate_lake: tuple[Settings, Path], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A bug in a query: the answer is a problem+json 500 that carries the CORS headers as every other answer does
    (without them a browser shows a CORS error instead of the problem), names no cause, and the cause is logged."""
    settings, root = estate_lake

    def failing(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret-cause-7f3")

    monkeypatch.setattr("functions.api.queries.changes", failing)
    origin = "https://backstage.example.org"
    with TestClient(create_app(api_settings(root), settings, down_sources()), raise_server_exceptions=False) as c:
        r = c.get("/monitoring/applications/shop/changes", headers=READER | {"Origin": origin})
    assert r.status_code == 500, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["access-control-allow-origin"] == origin
    assert r.json()["title"] == "Internal error" and "secret-cause-7f3" not in r.text
    assert any("secret-cause-7f3" in (rec.exc_text or "") for rec in caplog.records)


@pytest.mark.s3
def test_served_from_s3_through_a_local_mirror(s3_settings: Settings, tmp_path: Path) -> None:
    """On S3 the mart objects are fetched once into the local mirror; requests then read only local files."""
    lake = Lake.from_settings(s3_settings)
    write_estate(lake)
    build(lake, s3_settings, mode="full", as_of=AS_OF)
    app = create_app(api_settings(tmp_path), s3_settings, down_sources())
    with TestClient(app) as s3_client:
        body = get(s3_client, "/monitoring/applications/shop/summary")
        assert body["goldenSignals"]["requests"] == 14 * 1000 + 14 * 500
        series = get(s3_client, "/monitoring/applications/shop/timeseries?metric=errors&from=2026-11-19&to=2026-11-20")
        assert sum(p["v"] for p in series["points"]) == 124
    mirrored = {
        p.relative_to(next((tmp_path / "api").iterdir())).as_posix() for p in (tmp_path / "api").rglob("*.parquet")
    }
    assert "mart/mv_golden_signals_hourly/month=2026-11/data.parquet" in mirrored
    assert "mart/mv_incidents/data.parquet" in mirrored
    assert "mart/mv_deployments/month=2026-11/data.parquet" in mirrored


def file_runs(lake: Lake, runs: list[RunRecord]) -> None:
    """Writes finished run records straight to the run log, ten at a time: some seconds on S3 for a thousand, where
    one after the other takes thirty."""
    with ThreadPoolExecutor(max_workers=10) as pool:
        list(pool.map(lambda run: lake.put_json(lake.run_key(run.run_id, run.started_at), run.to_json()), runs))


def test_batch_runs_are_paged_newest_first_across_day_folders_reading_only_the_newest(
    settings: Settings, tmp_path: Path
) -> None:
    """The run log grows by some 400,000 records a year, and every page of admin/batch-runs listed all of it. Five
    runs over three day folders, two a page: 20 Nov 10:00 and 09:00, then 19 Nov 08:00 and 2 Nov 17:00, then 2 Nov
    06:00 alone with no next cursor. With 1,500 more runs filed in March 2025 (two listing pages of a thousand keys on
    S3), the first page is the same and takes as many listing requests as before them."""
    lake = Lake.from_settings(settings)
    runs = RunLog(lake)
    at = [(20, 10), (20, 9), (19, 8), (2, 17), (2, 6)]
    ids = [
        runs.finish(runs.start("f", "gitlab", now=datetime(2026, 11, d, h, tzinfo=UTC)), "succeeded").run_id
        for d, h in at
    ]

    def runs_page(c: TestClient, cursor: str | None) -> dict[str, Any]:
        r = c.get("/monitoring/admin/batch-runs?limit=2" + (f"&cursor={cursor}" if cursor else ""), headers=ADMIN)
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    with TestClient(create_app(api_settings(tmp_path), settings, down_sources())) as c:
        pages, cursor = [], None
        while True:
            body = runs_page(c, cursor)
            pages.append([r["runId"] for r in body["items"]])
            cursor = body["page"]["nextCursor"]
            if not cursor:
                break
        assert pages == [ids[0:2], ids[2:4], ids[4:5]]

        requests: list[str] = []
        client = getattr(c.app.state.context.lake.store, "client", None)  # type: ignore[attr-defined]
        if client is not None:
            client.meta.events.register("before-call.s3.ListObjectsV2", lambda **kw: requests.append("list"))
        first = runs_page(c, None)
        before = len(requests)
        # Filed as finished records: runs started here and left open would have their sign of life renewed, 1,500
        # writes every few minutes, for as long as the test session lasts.
        march = [datetime(2025, 3, 1 + i % 28, 12, tzinfo=UTC) for i in range(1500)]
        filed = [RunRecord(new_run_id(at), "f", "gitlab", None, None, None, at, "succeeded") for at in march]
        file_runs(lake, filed)
        assert runs_page(c, None)["items"] == first["items"]
        assert len(requests) - before == before


def test_a_filtered_batch_runs_page_reads_a_bounded_part_of_the_run_log(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Twelve days of runs every 15 minutes (10 to 21 November, 1,152 records), three of them failed: 21 Nov 23:45
    and 12:00, and the oldest, 10 Nov 00:00. `status=failed` read every record of the log before its page, a GET each
    on S3. Now two failed runs a page: the first two, read from at most 1,000 records, then the last one alone with
    no next cursor, 152 records on. One failed run a page reads the 48 records from 23:45 back to 12:00 and at most
    the rest of their batch of ten; three runs without a filter read four records (a page and one more)."""
    lake = Lake.from_settings(settings)
    start = datetime(2026, 11, 10, tzinfo=UTC)
    failed = {datetime(2026, 11, 21, 23, 45, tzinfo=UTC), datetime(2026, 11, 21, 12, tzinfo=UTC), start}
    runs = [
        RunRecord(new_run_id(at), "f", "gitlab", None, None, None, at, "failed" if at in failed else "succeeded")
        for at in (start + timedelta(minutes=15 * i) for i in range(12 * 96))
    ]
    file_runs(lake, runs)
    ids = {run.started_at: run.run_id for run in runs}
    newest_failed = [ids[at] for at in sorted(failed, reverse=True)]

    with TestClient(create_app(api_settings(tmp_path), settings, down_sources())) as c:
        reads = run_record_reads(monkeypatch, c)

        def page(query: str) -> tuple[list[str], str | None, int]:
            reads.clear()
            r = c.get(f"/monitoring/admin/batch-runs?{query}", headers=ADMIN)
            assert r.status_code == 200, r.text
            return [i["runId"] for i in r.json()["items"]], r.json()["page"]["nextCursor"], len(reads)

        first, cursor, read = page("status=failed&limit=2")
        assert first == newest_failed[:2] and cursor and read <= 1000
        last, cursor, read = page(f"status=failed&limit=2&cursor={cursor}")
        assert (last, cursor, read) == (newest_failed[2:], None, 152)

        one, cursor, read = page("status=failed&limit=1")
        assert one == newest_failed[:1] and cursor and 48 <= read < 58
        assert page("limit=3")[0::2] == ([ids[at] for at in sorted(ids, reverse=True)[:3]], 4)
