"""The application and component tabs over a year's end: summaries and series of a small estate built at
2027-01-01 05:00, whose last 48 hours are served from memory and the hours before from the month objects.

pay has two components: pay-api, watched through two Dynatrace services (SERVICE-A1: 100 requests, 1 error, p95
200 ms at even hours and 400 ms at odd ones; SERVICE-A2: 10 requests, 2 errors, p95 300 ms), and pay-db
(SERVICE-B: 50 requests, no error, p95 80 ms; at 2027-01-01 00:00 no request and 4 errors). Every hour from
2026-12-29 00:00 to 2027-01-01 06:00 has data but 2026-12-31 23:00, which has none. solo is mapped in staging
only, its component solo-svc in production only (SERVICE-S: 7 requests at 2026-12-31 10:00, 5 at 2027-01-01
03:00). pay's log index is logs-pay-*, where pay logged 1 ERROR line and pay-db 6 at 2027-01-01 02:00.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from functions.api.main import create_app
from lakehouse.aggregates.build import build
from lakehouse.mappings import MappingStore
from lakehouse.schemas import get_dataset
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.integration.api.conftest import api_settings, down_sources, get_json
from tests.unit.aggregates.estate import rows

AS_OF = datetime(2027, 1, 1, 5, tzinfo=UTC)
FIRST_HOUR = datetime(2026, 12, 29, tzinfo=UTC)
LAST_HOUR = datetime(2027, 1, 1, 6, tzinfo=UTC)  # after as_of: no build counts it yet
NO_DATA = datetime(2026, 12, 31, 23, tzinfo=UTC)
NO_TRAFFIC = datetime(2027, 1, 1, 0, tzinfo=UTC)

# pay's index holds the lines of pay itself and of pay-db, which has no index of its own.
LOG_LINES = [
    {"index_pattern": "logs-pay-*", "service_name": service, "environment": "production", "level": "ERROR"}
    | {"hour": datetime(2027, 1, 1, 2, tzinfo=UTC), "count": count}
    for service, count in (("pay", 1), ("pay-db", 6))
]


def _mapping() -> list[dict]:
    return [
        {"entity_id": "pay", "kind": "application", "team": "t1", "group": "g1", "domain": "d1"}
        | {"elisa_index": "logs-pay-*"},
        {
            "entity_id": "pay-api",
            "kind": "component",
            "application_id": "pay",
            "dynatrace_entity_selector": 'type(SERVICE),entityId("SERVICE-A1","SERVICE-A2")',
        },
        {
            "entity_id": "pay-db",
            "kind": "component",
            "application_id": "pay",
            "dynatrace_entity_selector": 'entityId("SERVICE-B")',
        },
        {"entity_id": "solo", "kind": "application", "team": "t9", "environment": "staging"},
        {
            "entity_id": "solo-svc",
            "kind": "component",
            "application_id": "solo",
            "dynatrace_entity_selector": 'entityId("SERVICE-S")',
        },
    ]


def _hours() -> list[dict]:
    items = []
    at = FIRST_HOUR
    while at <= LAST_HOUR:
        if at != NO_DATA:
            items += [
                {"entity_id": "SERVICE-A1", "hour": at, "request_count": 100.0, "error_count": 1.0}
                | {"latency_p95_ms": 200.0 if at.hour % 2 == 0 else 400.0},
                {"entity_id": "SERVICE-A2", "hour": at, "request_count": 10.0, "error_count": 2.0}
                | {"latency_p95_ms": 300.0},
                {"entity_id": "SERVICE-B", "hour": at, "latency_p95_ms": 80.0}
                | ({"request_count": 0.0, "error_count": 4.0} if at == NO_TRAFFIC else {"request_count": 50.0}),
            ]
        at += timedelta(hours=1)
    items += [
        {"entity_id": "SERVICE-S", "hour": datetime(2026, 12, 31, 10, tzinfo=UTC), "request_count": 7.0},
        {"entity_id": "SERVICE-S", "hour": datetime(2027, 1, 1, 3, tzinfo=UTC), "request_count": 5.0},
    ]
    return items


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("entity-tabs")
    settings = Settings(lake_url=str(root / "lake"), duckdb_temp_directory=root / "duckdb")
    lake = Lake.from_settings(settings)
    MappingStore(lake).apply(_mapping(), actor="test", replace=True)
    dataset = get_dataset("dynatrace/service_metrics_hourly")
    lake.write_days(dataset, rows(dataset.id, *_hours()))
    logs = get_dataset("elasticsearch/log_counts_hourly")
    lake.write_days(logs, rows(logs.id, *LOG_LINES))
    build(lake, settings, mode="full", as_of=AS_OF)
    with TestClient(create_app(api_settings(root), settings, down_sources()), raise_server_exceptions=False) as c:
        yield c


def _points(client: TestClient, route: str, metric: str, start: str, end: str = "2027-01-01T06:00:00Z") -> list:
    body = get_json(client, f"/monitoring/{route}/timeseries?metric={metric}&from={start}&to={end}")
    return [(p["t"], p["v"]) for p in body["points"]]


def _iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_an_application_mapped_only_in_staging_has_a_production_tab_through_its_component(client: TestClient) -> None:
    """solo's own entry is in staging, its component solo-svc is in production: an application is in every
    environment one of its components is, and the build gives solo production hours (solo-svc's). Its production
    summary and series were a 404 ("not mapped in environment 'production'") while solo-svc's summary showed them.
    The 24 hours before as_of (2026-12-31 05:00 to 2027-01-01 05:00) hold 7 + 5 = 12 requests in 2 hours."""
    body = get_json(client, "/monitoring/applications/solo/summary")
    assert body["entity"]["components"] == ["solo-svc"] and body["entity"]["team"] == "t9"
    signals = body["goldenSignals"]
    assert (signals["requests"], signals["measuredHours"]) == (12, 2)
    assert _points(client, "applications/solo", "requests", "2026-12-31T00:00:00Z") == [
        ("2026-12-31T10:00:00Z", 7.0),
        ("2027-01-01T03:00:00Z", 5.0),
    ]
    # Its component's tab names the application's team, from solo's staging entry.
    assert get_json(client, "/monitoring/components/solo-svc/summary")["entity"]["team"] == "t9"


@pytest.mark.parametrize("route", ["applications/pay", "components/pay-api", "components/pay-db"])
@pytest.mark.parametrize("metric", ["requests", "errors", "latency_p95"])
def test_the_hours_in_memory_and_the_month_objects_agree_across_the_year_end(
    client: TestClient, route: str, metric: str
) -> None:
    """The copy holds the 48 hours from 2026-12-30 05:00 in memory. A range starting there is a slice of them, one
    starting an hour before reads December's and January's month objects: both give the same hours from
    2026-12-30 05:00 to 2027-01-01 04:00 (as_of 05:00 and the hours after it are not built), that is
    19 + 24 + 5 = 48 hours less 2026-12-31 23:00, which has no data: 47 points. The month objects add 04:00."""
    from_memory = _points(client, route, metric, "2026-12-30T05:00:00Z")
    from_months = _points(client, route, metric, "2026-12-30T04:00:00Z")
    assert len(from_memory) == 47 and len(from_months) == 48
    assert from_months[0][0] == "2026-12-30T04:00:00Z" and from_months[1:] == from_memory
    assert from_memory[-1][0] == "2027-01-01T04:00:00Z" and _iso(NO_DATA) not in dict(from_memory)


def test_a_component_without_an_index_of_its_own_counts_its_lines_in_its_applications_index(
    client: TestClient,
) -> None:
    """pay-db has no elisa.index: its logs link opens pay's index, logs-pay-*, on service.name "pay-db", where it
    logged 6 ERROR lines at 2027-01-01 02:00. Its summary and series counted none (its lines were attributed to no
    entity) and pay's counted only its own 1 line, while the links showed 7. pay-db: 6; pay: 1 + 6 = 7."""
    for route, count in (("components/pay-db", 6), ("applications/pay", 7)):
        assert get_json(client, f"/monitoring/{route}/summary")["goldenSignals"]["logErrors"] == count, route
        points = _points(client, route, "log_errors", "2027-01-01T02:00:00Z", "2027-01-01T03:00:00Z")
        assert points == [("2027-01-01T02:00:00Z", count)], route
    # pay-api logged nothing: no line is counted for it, not 0.
    assert get_json(client, "/monitoring/components/pay-api/summary")["goldenSignals"]["logErrors"] is None


def test_a_component_of_two_services_and_its_application_hour_by_hour(client: TestClient) -> None:
    """pay-api's hours add its two services' counts and take the worse p95: 100 + 10 = 110 requests, 1 + 2 = 3
    errors, p95 max(200, 300) = 300 ms at 00:00 and 02:00, max(400, 300) = 400 ms at 01:00. pay adds pay-db's 50
    requests at 01:00 and 02:00 (160 requests, 3 errors); at 00:00 pay-db had no request and 4 errors, which stay out
    of pay's hour (110 requests, 3 errors, not 7), while pay-db's own hour keeps them with no error rate."""
    window = ("2027-01-01T00:00:00Z", "2027-01-01T03:00:00Z")
    hours = ["2027-01-01T00:00:00Z", "2027-01-01T01:00:00Z", "2027-01-01T02:00:00Z"]
    expected = {
        ("components/pay-api", "requests"): [110, 110, 110],
        ("components/pay-api", "errors"): [3, 3, 3],
        ("components/pay-api", "latency_p95"): [300, 400, 300],
        ("applications/pay", "requests"): [110, 160, 160],
        ("applications/pay", "errors"): [3, 3, 3],
        ("applications/pay", "error_rate"): [pytest.approx(3 / 110), pytest.approx(3 / 160), pytest.approx(3 / 160)],
        ("applications/pay", "latency_p95"): [300, 400, 300],
        ("components/pay-db", "errors"): [4, 0, 0],
        ("components/pay-db", "error_rate"): [None, 0, 0],
    }
    for (route, metric), values in expected.items():
        assert _points(client, route, metric, *window) == list(zip(hours, values, strict=True)), (route, metric)
    body = get_json(client, f"/monitoring/components/pay-api/timeseries?metric=latency_p95&from={window[0]}")
    assert body["unit"] == "ms" and body["level"] == "component"
