"""An estate with golden signals and nothing else: no incident, change, deployment or merge request yet, as on
the day a platform team connects Dynatrace first. Every read route answers, with empty lists and stated
states, never a 5xx."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from functions.api.main import create_app
from lakehouse.aggregates.build import build
from lakehouse.mappings import MappingStore
from lakehouse.runlog import FirstReads
from lakehouse.schemas import get_dataset
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.integration.api.conftest import READ_ROUTES, READER, api_settings, down_sources
from tests.unit.aggregates.estate import AS_OF, dark, mapping, metrics, rows, t


def quiet_estate(root: Path, *, incidents_read_from: datetime | None = None) -> Iterator[TestClient]:
    """The API over the quiet estate; with `incidents_read_from`, ServiceNow's incidents read from then on, and none
    found."""
    settings = Settings(lake_url=str(root / "lake"), duckdb_temp_directory=root / "duckdb")
    lake = Lake.from_settings(settings)
    if incidents_read_from is not None:
        FirstReads(lake).record("servicenow", "incidents", incidents_read_from, run_id="first-run")
    # dark is watched by Dynatrace alone: no ServiceNow CI on it or its component.
    MappingStore(lake).apply(mapping() + dark(), actor="test", replace=True)
    lake.write_days(get_dataset("dynatrace/service_metrics_hourly"), metrics())
    # quiet-svc has traffic on the 19th from 00:00 to 20:00: a p95 of 100 ms for ten hours, none for ten.
    quiet = [
        {"entity_id": "SERVICE-Q", "hour": t(19, h), "request_count": 100.0, "error_count": 0.0}
        | ({"latency_p95_ms": 100.0} if h < 10 else {})
        for h in range(20)
    ]
    lake.write_days(get_dataset("dynatrace/service_metrics_hourly"), rows("dynatrace/service_metrics_hourly", *quiet))
    build(lake, settings, mode="full", as_of=AS_OF)
    with TestClient(create_app(api_settings(root), settings, down_sources()), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    yield from quiet_estate(tmp_path_factory.mktemp("quiet-estate"))


@pytest.mark.parametrize("route", READ_ROUTES)
def test_every_read_route_answers(client: TestClient, route: str) -> None:
    response = client.get(route, headers=READER)
    if route.endswith("/logs/link"):
        # No log index is mapped here: a stated 404, as for any entity without one.
        assert response.status_code == 404 and response.json()["detail"], response.text
    else:
        assert response.status_code == 200, response.text


def test_the_summary_has_signals_and_no_events(client: TestClient) -> None:
    body = client.get("/monitoring/applications/shop/summary", headers=READER).json()
    # The same 24 hours of signals as in the full estate: shop-api 14 h x 1000, shop-db 14 h x 500.
    assert body["goldenSignals"]["requests"] == 14 * 1000 + 14 * 500
    # ServiceNow was never read here: the open incidents are unknown, not none.
    assert body["incidents"] == {
        "state": "not read",
        "open": None,
        "openP1P2": None,
        "slaBreached": None,
        "readUntil": None,
    }
    assert body["lastDeployments"] == []


def test_an_entity_tied_to_no_servicenow_ci_has_no_incident_counts_rather_than_zero(client: TestClient) -> None:
    """The build attributes incidents by CI alone: for dark and dark-svc none could ever be found, so their open
    incidents are unknown (null, stated 'not mapped'). shop's components have CIs, but the lake never read ServiceNow
    (nor deployments): theirs are unknown too, stated 'not read', where they said 0 open and 'ok'."""
    not_mapped = {"state": "not mapped", "open": None, "openP1P2": None, "slaBreached": None, "readUntil": None}
    for route in ("/monitoring/applications/dark/summary", "/monitoring/components/dark-svc/summary"):
        assert client.get(route, headers=READER).json()["incidents"] == not_mapped, route
    shop_api = client.get("/monitoring/components/shop-api/summary", headers=READER).json()
    assert shop_api["incidents"] == {
        "state": "not read",
        "open": None,
        "openP1P2": None,
        "slaBreached": None,
        "readUntil": None,
    }
    # dark has no ArgoCD application nor GitLab project either; quiet-svc has an ArgoCD application.
    for entity, state in (
        ("applications/dark", "not mapped"),
        ("components/dark-svc", "not mapped"),
        ("applications/quiet", "not read"),
    ):
        body = client.get(f"/monitoring/{entity}/deployments?mode=history", headers=READER).json()
        assert (body["state"], body["items"]) == (state, []), entity
    # Their incident and change lists are empty either way; the state says which emptiness it is.
    for entity, state in (
        ("applications/dark", "not mapped"),
        ("components/dark-svc", "not mapped"),
        ("applications/shop", "not read"),
    ):
        for route in ("incidents?status=all", "changes?status=all"):
            body = client.get(f"/monitoring/{entity}/{route}", headers=READER).json()
            assert (body["state"], body["items"]) == (state, []), (entity, route)


@pytest.mark.parametrize("report", ["incidents", "changes"])
def test_an_application_tied_to_no_servicenow_ci_has_no_row_in_the_run_reports(client: TestClient, report: str) -> None:
    """dark's incidents and change requests could never be found (no CI on it or its component), so the run view's
    reports give it no row of zeros, as its own lists say `not mapped` rather than nothing happened: the
    applications rows are shop, quiet and broken (each with a CI on a component), and team t2 (quiet, broken and
    dark in the mapping) sums 2 applications, not 3. Asked for dark alone, the report has no row."""
    route = f"/monitoring/kpis/{report}?period=last_30d"
    apps = client.get(f"{route}&groupBy=app", headers=READER).json()
    assert sorted(r["id"] for r in apps["items"]) == ["broken", "quiet", "shop"]
    assert apps["page"]["total"] == 3
    teams = client.get(f"{route}&groupBy=team", headers=READER).json()["items"]
    assert {r["id"]: r["applications"] for r in teams} == {"t1": 1, "t2": 2}
    dark = client.get(f"{route}&groupBy=app&app=dark", headers=READER).json()
    assert (dark["items"], dark["page"]["total"]) == ([], 0)


@pytest.mark.parametrize(
    "route",
    ["/monitoring/risk/top?limit=100", "/monitoring/risk/top?limit=100&metric=incidents&period=last_30d"],
)
def test_the_rankings_count_no_incident_for_an_application_tied_to_no_servicenow_ci(tmp_path: Path, route: str) -> None:
    """ServiceNow's incidents read from the 1st, none found: shop, quiet and broken (a CI on a component each)
    opened 0 and have none open, while dark's could never be found (no CI on it or its component), so its counts are
    unknown (null), as its summary says, and a ranking by incidents puts it after the others rather than among the
    zeros."""
    for client in quiet_estate(tmp_path, incidents_read_from=t(1)):
        items = client.get(route, headers=READER).json()["items"]
    counts = {r["appId"]: (r["incidents"], r["openP1P2"]) for r in items}
    assert counts["dark"] == (None, None)
    for app in ("shop", "quiet", "broken"):
        # No watermark recorded here (a first read alone): the backlog at as_of may say unknown.
        assert counts[app][0] == 0 and counts[app][1] in (0, None), app
    if "metric=incidents" in route:
        assert items[-1]["appId"] == "dark"


@pytest.mark.parametrize(
    "route",
    ["/monitoring/risk/top?limit=100", "/monitoring/risk/top?limit=100&metric=incidents&period=last_30d"],
)
def test_the_rankings_count_no_incident_where_servicenow_was_never_read(client: TestClient, route: str) -> None:
    """ServiceNow never read here: every application's counts are unknown (null), as their summaries say 'not
    read', and a ranking by incidents orders them by id."""
    items = client.get(route, headers=READER).json()["items"]
    counts = {r["appId"]: (r["incidents"], r["openP1P2"]) for r in items}
    assert counts == dict.fromkeys(["broken", "dark", "quiet", "shop"], (None, None))
    if "metric=incidents" in route:
        assert [r["appId"] for r in items] == ["broken", "dark", "quiet", "shop"]


def test_dora_over_deployments_never_read_is_insufficient_data_rather_than_none(client: TestClient) -> None:
    """No deploy ingest ever ran here (no first read recorded, no deployment event in the lake): the lake cannot
    say shop deployed nothing, only that it has not looked. 'no deployments' is for a period the lake read."""
    items = client.get("/monitoring/kpis/dora?period=last_30d&groupBy=app", headers=READER).json()["items"]
    shop = next(r for r in items if r["id"] == "shop")
    assert shop["deploymentFrequencyState"] == "insufficient data"
    assert shop["deploymentFrequencyPerDay"] is None
    assert shop["changeFailureRate"] is None


@pytest.mark.parametrize("period", ["period=last_30d", "from=2026-11-01&to=2026-11-20"])
def test_dora_says_not_mapped_where_no_source_could_find_an_event(client: TestClient, period: str) -> None:
    """dark has no ArgoCD application, GitLab project nor ServiceNow CI: every DORA metric says 'not mapped', over a
    named period (the build's rows) and over a from/to range (computed by the API with the build's SQL) alike.
    shop has its sources mapped, but deployments were never read here: 'insufficient data', not 'no deployments'."""
    url = f"/monitoring/kpis/dora?{period}&groupBy=app"
    items = {r["id"]: r for r in client.get(url, headers=READER).json()["items"]}
    dark = items["dark"]
    states = ("deploymentFrequency", "leadTime", "changeFailure", "recovery", "mttr", "rework")
    assert {dark[f"{s}State"] for s in states} == {"not mapped"}
    assert dark["deploymentFrequencyPerDay"] is None
    assert items["shop"]["deploymentFrequencyState"] == "insufficient data"


def test_a_latency_sli_leaves_out_hours_with_traffic_but_no_latency(client: TestClient) -> None:
    """quiet's 20 hours with traffic: ten with a p95 of 100 ms (good), ten with none reported, and no p99 ever.
    Its p95 SLI is 10 good of 10 measured hours, over the 30-day period and over an explicit range of that day
    alike; its p99 SLI has no hour to count."""
    period = client.get("/monitoring/kpis/slo?period=last_30d&groupBy=app", headers=READER).json()["items"]
    quiet_30d = next(r for r in period if r["id"] == "quiet")
    assert quiet_30d["latencyP95Sli"] == 1.0
    # No p99 was reported at all: that SLI is no data, not 0 of 10 hours.
    assert (quiet_30d["latencyP99Sli"], quiet_30d["latencyP99Status"]) == (None, "no data")
    day = client.get("/monitoring/kpis/slo?groupBy=app&from=2026-11-19&to=2026-11-20", headers=READER).json()
    quiet = next(r for r in day["items"] if r["id"] == "quiet")
    assert quiet["latencyP95Sli"] == 1.0 and quiet["measuredHours"] == 20
