"""Hourly signals Dynatrace can send that do not add up: more errors than requests, latency without requests."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from lakehouse.aggregates.build import build
from lakehouse.mappings import MappingStore
from lakehouse.schemas import get_dataset
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.unit.aggregates.estate import AS_OF, estate_lake, mapping, rows, t
from tests.unit.aggregates.test_kpis import mart, one, reading, served_by_quiet

PRODUCTION = "environment = 'production'"


def shop_api_with_a2(tmp_path: Path, a2: dict[str, Any]) -> tuple[Lake, Settings]:
    """The estate with shop-api mapped on two services, SERVICE-A and SERVICE-A2, A2 reporting one hour (`a2`),
    built at AS_OF."""
    lake, settings = estate_lake(tmp_path)
    two = {"dynatrace_entity_selector": 'entityId("SERVICE-A","SERVICE-A2")'}
    entries = [e | two if e["entity_id"] == "shop-api" else e for e in mapping()]
    MappingStore(lake).apply(entries, actor="test", replace=True)
    metrics = get_dataset("dynatrace/service_metrics_hourly")
    lake.write_days(metrics, rows(metrics.id, {"entity_id": "SERVICE-A2", **a2}))
    build(lake, settings, mode="full", as_of=AS_OF)
    return lake, settings


def test_an_hour_with_more_errors_than_requests_is_0_percent_available_never_less(tmp_path: Path) -> None:
    """quiet-svc's error count says 1,200 server errors in the hour before as_of, its request count 1,000 requests:
    the two series disagree. The hour's errors count up to its requests: 1,000 of 1,000, 100 % failed, where
    (1,000 - 1,200) / 1,000 read as -20 % available."""
    lake, settings = estate_lake(tmp_path)
    last_hour = AS_OF - timedelta(hours=1)
    served_by_quiet(lake, [(last_hour, 1000.0, 1200.0)])
    build(lake, settings, mode="full", as_of=AS_OF)
    quiet = f"app_id = 'quiet' and {PRODUCTION}"
    with reading(lake, settings) as built:
        hours = mart(built, "mv_golden_signals_hourly", f"{quiet} and hour = $at", at=last_hour)
        day = one(mart(built, "mv_monitoring_app_day_summary", f"{quiet} and day = $day", day=AS_OF.date()))
        slo = one(mart(built, "mv_slo_app_period", f"{quiet} and period = 'last_7d'"))
        burn = one(mart(built, "mv_slo_burn_rates", quiet))
    assert {(h["level"], h["requests"], h["errors"]) for h in hours} == {
        ("component", 1000, 1000),
        ("application", 1000, 1000),
    }
    # The day (its only hour with traffic): availability (1,000 - 1,000) / 1,000 = 0, error rate 1.
    assert (day["requests"], day["errors"], day["availability"], day["error_rate"]) == (1000, 1000, 0.0, 1.0)
    assert (slo["availability_numerator"], slo["availability_denominator"], slo["availability"]) == (0, 1000, 0.0)
    # Budget 0.5 % of 1,000 = 5 requests; 1,000 bad: consumed 200 times, burn rate 1.0 / 0.005 = 200.
    assert slo["error_budget_consumed"] == pytest.approx(200)
    assert burn["burn_rate_1h"] == pytest.approx(200)


def test_each_service_counts_its_errors_up_to_its_own_requests(tmp_path: Path) -> None:
    """shop-api is SERVICE-A and SERVICE-A2. On the 19th at 02:00, SERVICE-A served 1,000 requests with 1 error (the
    estate) and SERVICE-A2 10 requests with 25 errors. A2's errors count up to its own 10: shop-api's hour is 1 + 10
    = 11 errors in 1,010 requests. Capped as a sum, the 15 errors A2's requests cannot hold would fall on
    SERVICE-A's requests (26 of 1,010)."""
    at = t(19, 2)
    lake, settings = shop_api_with_a2(tmp_path, {"hour": at, "request_count": 10.0, "error_count": 25.0})
    with reading(lake, settings) as built:
        hours = mart(built, "mv_golden_signals_hourly", "app_id = 'shop' and hour = $at", at=at)
        day = one(mart(built, "mv_monitoring_app_day_summary", "app_id = 'shop' and day = $day", day=at.date()))
    by_level = {(h["level"], h["component_id"]): (h["requests"], h["errors"]) for h in hours}
    assert by_level[("component", "shop-api")] == (1010, 11)
    # shop-db had no requests before 04:00: the application's hour is shop-api's.
    assert by_level[("application", None)] == (1010, 11)
    # The estate's day, 124 errors in 34,000 requests, plus A2's 10 of 10.
    assert (day["requests"], day["errors"]) == (34_010, 134)


def test_a_component_without_requests_does_not_stand_for_its_applications_latency(tmp_path: Path) -> None:
    """On the 19th, shop-db (SERVICE-B) reports a p95 of 2,000 ms at 02:00 with 0 requests, and of 2,500 ms at 03:00
    with no request count at all (a synthetic call, a stale point); shop-api served its 1,000 requests at p95 200 ms
    both hours. shop's p95 is shop-api's, 200 ms: good hours. The estate's day stays 22 good hours of 24 (12:00 and
    13:00 at 800 ms), its worst hour 800 ms, where the idle component made it 20 of 24, worst 2,500 ms."""
    lake, settings = estate_lake(tmp_path)
    metrics = get_dataset("dynatrace/service_metrics_hourly")
    idle = [
        {"entity_id": "SERVICE-B", "hour": t(19, 2), "request_count": 0.0, "latency_p95_ms": 2000.0},
        {"entity_id": "SERVICE-B", "hour": t(19, 3), "latency_p95_ms": 2500.0, "latency_p99_ms": 3000.0},
    ]
    lake.write_days(metrics, rows(metrics.id, *idle))
    build(lake, settings, mode="full", as_of=AS_OF)
    shop = f"app_id = 'shop' and {PRODUCTION}"
    with reading(lake, settings) as built:
        hours = mart(
            built, "mv_golden_signals_hourly", f"{shop} and hour in ($two, $three)", two=t(19, 2), three=t(19, 3)
        )
        day = one(mart(built, "mv_monitoring_app_day_summary", f"{shop} and day = $day", day=t(19).date()))
        slo = one(mart(built, "mv_slo_app_period", f"{shop} and period = 'last_7d'"))
    p95 = {(h["level"], h["component_id"], h["hour"].hour): h["latency_p95_ms"] for h in hours}
    assert p95[("application", None, 2)] == 200 and p95[("application", None, 3)] == 200
    # The idle component has no latency those hours: it served no request to measure.
    assert p95[("component", "shop-db", 2)] is None and p95[("component", "shop-db", 3)] is None
    assert (day["latency_p95_good_hours"], day["latency_measured_hours"]) == (22, 24)
    assert day["latency_p95_worst_hour_ms"] == 800
    # shop-api's p99 is 900 ms every hour, under the 1,500 ms threshold: 24 good of 24, where 03:00 read 3,000 ms.
    assert (day["latency_p99_good_hours"], day["latency_p99_worst_hour_ms"]) == (24, 900)
    assert (slo["latency_p95_good_hours"], slo["latency_measured_hours"]) == (22, 24)
    assert slo["latency_p95_sli"] == pytest.approx(22 / 24)


def test_a_service_without_requests_does_not_stand_for_its_entitys_latency(tmp_path: Path) -> None:
    """shop-api is SERVICE-A and SERVICE-A2; on the 19th at 06:00 A2 served no request but reports a p95 of
    5,000 ms. shop-api's p95 is SERVICE-A's 200 ms, and so is shop's (shop-db's is 100 ms)."""
    at = t(19, 6)
    lake, settings = shop_api_with_a2(tmp_path, {"hour": at, "request_count": 0.0, "latency_p95_ms": 5000.0})
    with reading(lake, settings) as built:
        hours = mart(built, "mv_golden_signals_hourly", "app_id = 'shop' and hour = $at", at=at)
    p95 = {(h["level"], h["component_id"]): h["latency_p95_ms"] for h in hours}
    assert p95 == {("component", "shop-api"): 200, ("component", "shop-db"): 100, ("application", None): 200}
