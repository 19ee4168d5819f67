"""Errors Dynatrace reports in an hour without requests stay on the row of the part that reported them."""

from __future__ import annotations

from pathlib import Path

from lakehouse.aggregates.build import build
from lakehouse.mappings import MappingStore
from lakehouse.schemas import get_dataset
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.unit.aggregates.estate import AS_OF, rows, t
from tests.unit.aggregates.test_kpis import mart, one, reading

SHOP = [
    {"entity_id": "shop", "kind": "application", "team": "t1", "group": "g1", "domain": "d1"},
    {
        "entity_id": "shop-api",
        "kind": "component",
        "application_id": "shop",
        "dynatrace_entity_selector": 'entityId("SERVICE-A")',
    },
    {
        "entity_id": "shop-db",
        "kind": "component",
        "application_id": "shop",
        "dynatrace_entity_selector": 'entityId("SERVICE-B")',
    },
]
# An application mapped directly on its service, without a component.
SOLO = {
    "entity_id": "solo",
    "kind": "application",
    "team": "t1",
    "group": "g1",
    "domain": "d1",
    "dynatrace_entity_selector": 'entityId("SERVICE-S")',
}


def built_lake(tmp_path: Path, entries: list[dict], *hours: dict) -> tuple[Lake, Settings]:
    settings = Settings(lake_url=str(tmp_path / "lake"), duckdb_temp_directory=tmp_path / "duckdb")
    lake = Lake.from_settings(settings)
    MappingStore(lake).apply(entries, actor="test", replace=True)
    metrics = get_dataset("dynatrace/service_metrics_hourly")
    lake.write_days(metrics, rows(metrics.id, *hours))
    build(lake, settings, mode="full", as_of=AS_OF)
    return lake, settings


def test_an_application_hour_without_requests_has_no_errors_of_its_components(tmp_path: Path) -> None:
    """On the 19th at 12:00 shop-api reports 0 requests and 4 errors, shop-db no request count and 2 errors. Each
    component's row keeps its errors; shop's row has none of them (0 requests, no errors, no rate), where it read 6.
    At 13:00 shop-api serves 100 requests with 3 errors and shop-db none with 7: shop's hour is 3 in 100."""
    lake, settings = built_lake(
        tmp_path,
        SHOP,
        {"entity_id": "SERVICE-A", "hour": t(19, 12), "request_count": 0.0, "error_count": 4.0},
        {"entity_id": "SERVICE-B", "hour": t(19, 12), "request_count": None, "error_count": 2.0},
        {"entity_id": "SERVICE-A", "hour": t(19, 13), "request_count": 100.0, "error_count": 3.0},
        {"entity_id": "SERVICE-B", "hour": t(19, 13), "request_count": 0.0, "error_count": 7.0},
    )
    with reading(lake, settings) as built:
        hours = mart(built, "mv_golden_signals_hourly", "app_id = 'shop'")
        day = one(mart(built, "mv_monitoring_app_day_summary", "app_id = 'shop' and day = $day", day=t(19).date()))
    by_row = {(h["hour"].hour, h["component_id"]): (h["requests"], h["errors"]) for h in hours}
    assert by_row == {
        (12, "shop-api"): (0, 4),
        (12, "shop-db"): (None, 2),
        (12, None): (0, None),
        (13, "shop-api"): (100, 3),
        (13, "shop-db"): (0, 7),
        (13, None): (100, 3),
    }
    # The day counts the hour with traffic only: 3 errors in 100 requests.
    assert (day["requests"], day["errors"], day["measured_hours"]) == (100, 3, 1)


def test_an_application_mapped_directly_keeps_the_errors_of_its_idle_hour(tmp_path: Path) -> None:
    """solo is mapped on SERVICE-S itself: its row is the only one its 5 errors of an hour without requests can
    stay on."""
    lake, settings = built_lake(
        tmp_path, [SOLO], {"entity_id": "SERVICE-S", "hour": t(19, 12), "request_count": 0.0, "error_count": 5.0}
    )
    with reading(lake, settings) as built:
        hours = mart(built, "mv_golden_signals_hourly", "app_id = 'solo'")
    assert [(h["level"], h["requests"], h["errors"]) for h in hours] == [("application", 0, 5)]
