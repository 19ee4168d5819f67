"""Reports summed from the day rows (SLO over a from/to range, rankings by error rate or incidents): they say
which whole days they summed, and outside production they carry no production risk score."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from functions.api.main import create_app
from lakehouse.aggregates.build import build
from lakehouse.mappings import MappingStore
from lakehouse.schemas import get_dataset
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.integration.api.conftest import READER, api_settings, by_id, down_sources
from tests.unit.aggregates.estate import AS_OF, CI_Q, change, deployment, incident, mapping, rows, t, write_estate

STAGING = [
    {"entity_id": "shop", "kind": "application", "team": "t1", "group": "g1", "domain": "d1", "environment": "staging"},
    {
        "entity_id": "shop-api",
        "kind": "component",
        "application_id": "shop",
        "environment": "staging",
        "dynatrace_entity_selector": 'entityId("SERVICE-S")',
    },
    {"entity_id": "tiny", "kind": "application", "team": "t2", "group": "g2", "domain": "d2", "environment": "staging"},
    {
        "entity_id": "tiny-api",
        "kind": "component",
        "application_id": "tiny",
        "environment": "staging",
        "dynatrace_entity_selector": 'entityId("SERVICE-T")',
    },
]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The hand-made estate, with shop also in staging: 100 requests an hour on the 19th, 10 of them failed; and
    tiny, in staging only: 2 requests an hour from 09:00 to 12:00 on the 19th, one of them failed."""
    root = tmp_path_factory.mktemp("day-row-reports")
    settings = Settings(lake_url=str(root / "lake"), duckdb_temp_directory=root / "duckdb")
    lake = Lake.from_settings(settings)
    write_estate(lake)
    MappingStore(lake).apply(mapping() + STAGING, actor="test", replace=True)
    staging = [
        {"entity_id": "SERVICE-S", "hour": t(19, h), "request_count": 100.0, "error_count": 10.0} for h in range(24)
    ] + [{"entity_id": "SERVICE-T", "hour": t(19, h), "request_count": 2.0, "error_count": 1.0} for h in (9, 10, 11)]
    lake.write_days(get_dataset("dynatrace/service_metrics_hourly"), rows("dynatrace/service_metrics_hourly", *staging))
    build(lake, settings, mode="full", as_of=AS_OF)
    with TestClient(create_app(api_settings(root), settings, down_sources()), raise_server_exceptions=False) as c:
        yield c


def get(client: TestClient, url: str) -> dict:
    response = client.get(url, headers=READER)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("report", ["/monitoring/kpis/slo?groupBy=app", "/monitoring/risk/top?metric=error_rate"])
def test_a_report_summed_from_day_rows_says_the_whole_days_it_summed(client: TestClient, report: str) -> None:
    """Asked for the 19th from 12:00 to 13:00, the report sums shop's whole 19th (34,000 requests, 124 failed:
    1,000 an hour from shop-api, 500 an hour from shop-db's 20 busy hours) and says so: the 19th, midnight to
    midnight."""
    body = get(client, f"{report}&from=2026-11-19T12:00:00Z&to=2026-11-19T13:00:00Z")
    assert (body["period"]["start"], body["period"]["end"]) == ("2026-11-19T00:00:00Z", "2026-11-20T00:00:00Z")
    shop = next(r for r in body["items"] if r["appId" if "risk" in report else "id"] == "shop")
    requests = shop["requests"] if "risk" in report else shop["availabilityDenominator"]
    assert requests == 34_000


def test_a_named_ranking_says_the_days_it_summed_up_to_the_last_build(client: TestClient) -> None:
    """last_7d ends at as_of (the 20th at 10:00) and starts on the 13th at 10:00: summed from day rows, that is
    the 13th from midnight to the 20th at 10:00."""
    body = get(client, "/monitoring/risk/top?metric=incidents&period=last_7d")
    assert body["period"]["name"] == "last_7d"
    assert (body["period"]["start"], body["period"]["end"]) == ("2026-11-13T00:00:00Z", "2026-11-20T10:00:00Z")


def test_a_ranking_outside_production_carries_no_production_risk_score(client: TestClient) -> None:
    """Risk scores and health are computed for production. shop in staging ranks by its own error rate, 10 %,
    without production's score (40) or health (red)."""
    items = get(client, "/monitoring/risk/top?metric=error_rate&period=last_7d&environment=staging")["items"]
    shop = next(r for r in items if r["appId"] == "shop")
    assert shop["errorRate"] == pytest.approx(0.1)
    assert (shop["riskScore"], shop["health"]) == (None, None)
    # Its name is its name in every environment: the ranking in production gives it, so does staging's.
    production = get(client, "/monitoring/risk/top?metric=error_rate&period=last_7d")["items"]
    named = next(r for r in production if r["appId"] == "shop")["appName"]
    assert named and shop["appName"] == named


def test_an_error_rate_ranking_leaves_out_applications_with_too_little_traffic(client: TestClient) -> None:
    """In staging on the 19th, tiny failed 3 of its 6 requests (50 %), shop 240 of 2,400 (10 %). Ranked with
    the default least traffic (100 requests), tiny is left out; asked for any traffic, it comes first."""
    ranking = "/monitoring/risk/top?metric=error_rate&from=2026-11-19&to=2026-11-20&environment=staging"
    by_default = get(client, ranking)
    assert [r["appId"] for r in by_default["items"]] == ["shop"] and by_default["minRequests"] == 100
    everyone = get(client, ranking + "&minRequests=1")
    assert [(r["appId"], r["requests"]) for r in everyone["items"]] == [("tiny", 6), ("shop", 2_400)]
    assert everyone["items"][0]["errorRate"] == pytest.approx(0.5)
    # The least traffic is a rate's alone: a ranking by incidents keeps every application and says none.
    incidents = get(client, "/monitoring/risk/top?metric=incidents&from=2026-11-19&to=2026-11-20&environment=staging")
    assert {r["appId"] for r in incidents["items"]} == {"shop", "tiny"} and incidents["minRequests"] is None
    response = client.get(ranking + "&minRequests=-1", headers=READER)
    assert response.status_code == 422 and response.headers["content-type"] == "application/problem+json"
    # Given with another metric, the floor would be ignored and the answer look like the one asked for: a 422.
    for metric in ("incidents", "risk", "burn_rate"):
        response = client.get(f"/monitoring/risk/top?metric={metric}&minRequests=1", headers=READER)
        assert response.status_code == 422, (metric, response.text[:200])
        assert [e["parameter"] for e in response.json()["errors"]] == ["minRequests"]


def test_an_error_rate_ranking_asked_for_any_traffic_keeps_the_applications_without_requests(
    client: TestClient,
) -> None:
    """In production on the 19th shop served 34,000 requests, 124 of them failed; quiet's service reported its 24
    hours with 0 requests, and broken has no service Dynatrace watches. With no least traffic (minRequests=0) none
    has fewer requests than asked, so the ranking holds all three, as the ranking by incidents does: shop first, the
    two without a rate after it. They were left out (a day without traffic has no request count, and "no count >= 0"
    kept nothing)."""
    day = "from=2026-11-19&to=2026-11-20"
    ranked = get(client, f"/monitoring/risk/top?metric=error_rate&minRequests=0&{day}")
    assert ranked["minRequests"] == 0
    assert [(r["appId"], r["errorRate"]) for r in ranked["items"]] == [
        ("shop", pytest.approx(124 / 34_000)),
        ("broken", None),
        ("quiet", None),
    ]
    by_incidents = get(client, f"/monitoring/risk/top?metric=incidents&{day}")
    assert {r["appId"] for r in by_incidents["items"]} == {r["appId"] for r in ranked["items"]}


def test_an_slo_over_a_range_carries_states_and_coverage_as_a_named_period_does(client: TestClient) -> None:
    """From the 13th at midnight to as_of (the 20th at 10:00): 178 hours. shop had traffic in 24 of them (the
    19th): coverage 24/178, under the 50 % asked for, so 'insufficient data', though its 34,000 requests and
    124 errors are there (124 of a 170-request budget). quiet had none: 'no data', coverage 0. Domain d1 holds
    both; quiet adds no hours, so it is shop's figures again."""
    query = "from=2026-11-13T00:00:00Z&to=2026-11-20T10:00:00Z"
    apps = {r["id"]: r for r in get(client, f"/monitoring/kpis/slo?groupBy=app&{query}")["items"]}
    shop, quiet = apps["shop"], apps["quiet"]
    assert (shop["availabilityStatus"], shop["coverage"]) == ("insufficient data", pytest.approx(24 / 178))
    assert shop["availability"] == pytest.approx(1 - 124 / 34_000)
    assert shop["errorBudgetConsumed"] == pytest.approx(124 / 170)
    # shop's p99 is its worst component's, 900 ms, under 1,500 ms in each of its 24 hours.
    assert (shop["latencyP99Sli"], shop["latencyP99Status"]) == (1.0, "insufficient data")
    assert (quiet["availabilityStatus"], quiet["coverage"], quiet["expectedHours"]) == ("no data", 0.0, 178.0)
    d1 = next(r for r in get(client, f"/monitoring/kpis/slo?groupBy=domain&{query}")["items"] if r["id"] == "d1")
    assert (d1["availabilityStatus"], d1["coverage"], d1["applications"]) == (
        "insufficient data",
        pytest.approx(24 / 178),
        2,
    )


@pytest.fixture(scope="module")
def served_past_as_of(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The hand-made estate, built as of the 20th at 10:00, with quiet-svc's hours of the 20th ingested up to
    11:00: 100 requests an hour from midnight, none failed before 10:00, 500 failed in each of 10:00 (the hour the
    build stands at, still under way) and 11:00 (to come). On quiet that day, also read ahead of the build: INC9
    (P3) opened at 09:00 and restored at 11:00, INC10 (P3) opened at 11:00, CHG9 closed successful with its work
    ended at 11:00, and quiet-prod deployed at 12:00."""
    root = tmp_path_factory.mktemp("served-past-as-of")
    settings = Settings(lake_url=str(root / "lake"), duckdb_temp_directory=root / "duckdb")
    lake = Lake.from_settings(settings)
    write_estate(lake)
    quiet = [
        {"entity_id": "SERVICE-Q", "hour": t(20, h), "request_count": 100.0, "error_count": 500.0 if h >= 10 else 0.0}
        for h in range(12)
    ]
    lake.write_days(get_dataset("dynatrace/service_metrics_hourly"), rows("dynatrace/service_metrics_hourly", *quiet))
    incidents = [
        incident("i9" * 16, "INC9", CI_Q, t(20, 9), 3, 6, resolved=t(20, 11)),
        incident("ia" * 16, "INC10", CI_Q, t(20, 11), 3, 2),
    ]
    lake.write_days(get_dataset("servicenow/incidents"), rows("servicenow/incidents", *incidents))
    chg9 = change("9" * 32, "CHG9", CI_Q, (t(20, 10, 30), t(20, 11)), "successful", t(19), t(20, 11))
    lake.write_days(get_dataset("servicenow/changes"), rows("servicenow/changes", chg9))
    noon = deployment("argocd:quiet-prod:1", "argocd", "quiet-prod", t(20, 12), "succeeded", "q1")
    lake.write_days(get_dataset("deploys/deployment_events"), rows("deploys/deployment_events", noon))
    build(lake, settings, mode="full", as_of=AS_OF)
    with TestClient(create_app(api_settings(root), settings, down_sources()), raise_server_exceptions=False) as c:
        yield c


def test_an_slo_over_a_range_counts_the_hours_before_as_of_as_a_named_period_does(
    served_past_as_of: TestClient,
) -> None:
    """quiet-svc's hours of the 20th before as_of (10:00): 10 hours of 100 requests, none failed. Over the last 7
    days quiet had no other traffic, so last_7d counts 1,000 requests, 0 errors in 10 hours, and so must a range
    over the same days, from the 13th to the 21st (which the report says stops at as_of): the hours of 10:00 and
    11:00, ingested ahead of the build, with their 1,000 errors, have not been counted yet."""
    named = by_id(get(served_past_as_of, "/monitoring/kpis/slo?groupBy=app&period=last_7d"))["quiet"]
    body = get(served_past_as_of, "/monitoring/kpis/slo?groupBy=app&from=2026-11-13&to=2026-11-21")
    assert (body["period"]["start"], body["period"]["end"]) == ("2026-11-13T00:00:00Z", "2026-11-20T10:00:00Z")
    ranged = by_id(body)["quiet"]
    for quiet in (named, ranged):
        assert (quiet["availabilityDenominator"], quiet["badRequests"], quiet["measuredHours"]) == (1_000, 0, 10)
        assert quiet["availability"] == 1.0


def test_reports_summed_from_day_rows_count_the_events_before_as_of(served_past_as_of: TestClient) -> None:
    """On the 20th up to as_of (10:00), quiet had INC9 opened at 09:00 and still open: 1 incident opened, none
    restored (INC9's restoration at 11:00 is to come, so no time to restore either), 1 open at the end. INC10,
    CHG9's end and quiet-prod's deployment come later. The day's trend for production counts the same: 1 incident
    opened, no change implemented, no deployment (the estate has none of its own on the 20th)."""
    day = "from=2026-11-20&to=2026-11-21"
    incidents = get(served_past_as_of, f"/monitoring/kpis/incidents?groupBy=app&{day}")
    assert incidents["period"]["end"] == "2026-11-20T10:00:00Z"
    quiet = by_id(incidents)["quiet"]
    assert (quiet["opened"], quiet["restored"], quiet["openEndOfPeriod"]) == (1, 0, 1)
    assert (quiet["mttrMeanHours"], quiet["mttrMedianHours"]) == (None, None)
    assert by_id(get(served_past_as_of, f"/monitoring/kpis/changes?groupBy=app&{day}"))["quiet"]["implemented"] == 0
    trend = get(served_past_as_of, f"/monitoring/overview?{day}")["trend"]
    assert [(d["day"], d["incidentsOpened"], d["changesImplemented"], d["deployments"]) for d in trend] == [
        ("2026-11-20", 1, 0, 0)
    ]


def test_a_range_that_begins_at_as_of_has_nothing_yet(served_past_as_of: TestClient) -> None:
    """From the 20th at 10:00 (as_of) to the 21st: none of it has happened. The reports summed from day rows said
    the 20th's hours before 10:00 instead, which lie before the range: quiet's INC9, opened at 09:00, counted as
    opened in it, and quiet's 10 hours of 100 requests as its traffic. They now say an empty period at 10:00:
    no incident, no traffic, no day (the incidents report, without a day row, has no row); and the ranking by
    incidents has no incident either."""
    query = "from=2026-11-20T10:00:00Z&to=2026-11-21"
    empty = {"name": None, "start": "2026-11-20T10:00:00Z", "end": "2026-11-20T10:00:00Z"}
    incidents = get(served_past_as_of, f"/monitoring/kpis/incidents?groupBy=app&{query}")
    assert incidents["period"] == empty
    assert all((r["opened"], r["days"]) == (0, []) for r in incidents["items"])
    slo = get(served_past_as_of, f"/monitoring/kpis/slo?groupBy=app&{query}")
    assert slo["period"] == empty
    assert (by_id(slo)["quiet"]["availabilityDenominator"], by_id(slo)["quiet"]["availabilityStatus"]) == (
        None,
        "no data",
    )
    ranking = get(served_past_as_of, f"/monitoring/risk/top?metric=incidents&{query}")
    assert ranking["period"] == empty and all(not r["incidents"] for r in ranking["items"])
    assert get(served_past_as_of, f"/monitoring/overview?{query}")["trend"] == []
