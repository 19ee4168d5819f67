"""The latency SLOs' error budgets in hours (time slices), worked out by hand over the hand-made lake in estate.py."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from lakehouse.aggregates.build import build
from lakehouse.schemas import get_dataset
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.unit.aggregates.estate import AS_OF, estate_lake, rows
from tests.unit.aggregates.test_kpis import mart, reading, with_shop_targets


def quiet_hours(lake: Lake, hours: int, slow_p95: int, slow_p99: int | None) -> None:
    """quiet-svc serving 100 requests an hour, none failed, in the `hours` hours before as_of: a p95 of 800 ms (over
    quiet's 500 ms) in the last `slow_p95` of them and 200 ms before; a p99 of 2,000 ms (over its 1,500 ms) in the last
    `slow_p99` and 300 ms before, or no p99 reported at all (None)."""
    metrics = get_dataset("dynatrace/service_metrics_hourly")
    served = []
    for h in range(1, hours + 1):
        hour: dict[str, Any] = {"entity_id": "SERVICE-Q", "hour": AS_OF - timedelta(hours=h), "request_count": 100.0}
        hour |= {"error_count": 0.0, "latency_p95_ms": 800.0 if h <= slow_p95 else 200.0}
        if slow_p99 is not None:
            hour["latency_p99_ms"] = 2_000.0 if h <= slow_p99 else 300.0
        served.append(hour)
    lake.write_days(metrics, rows(metrics.id, *served))


def slo_rows(lake: Lake, settings: Settings, period: str) -> tuple[dict[str, dict], dict[str, dict]]:
    """The period's production SLO rows: the applications' by id, the groups' by id."""
    where = f"period = '{period}' and environment = 'production'"
    with reading(lake, settings) as built:
        apps = {r["app_id"]: r for r in mart(built, "mv_slo_app_period", where)}
        groups = {r["level_id"]: r for r in mart(built, "mv_slo_group_period", f"{where} and level = 'group'")}
    return apps, groups


def test_a_latency_budget_counts_the_bad_hours_the_target_allows(tmp_path: Path) -> None:
    """Over the last 30 days (720 hours), quiet (target 95 %) had a p95 measured in all 720 hours, 18 of them over its
    threshold, and a p99 in all 720, 54 of them over:
    - p95: allowed (1 - 0.95) x 720 = 36 bad hours; 18 bad: consumed 18 / 36 = 0.5, remaining (36 - 18) / 36 = 0.5.
    - p99: 54 bad of the same 36: consumed 1.5, remaining (36 - 54) / 36 = -0.5, overspent.
    shop asks for a latency target of 90 %: its 24 hours of the 19th (the estate) allow 0.1 x 24 = 2.4 bad hours; its
    p95 was 800 ms at 12:00 and 13:00 (2 bad), its p99 900 ms, within 1,500 ms, every hour (0 bad).
    Group g1 (shop and quiet), by events: p95 (2 + 18) / (2.4 + 36) = 20 / 38.4, remaining 18.4 / 38.4; p99
    54 / 38.4, remaining -15.6 / 38.4. The mean of the applications' shares, (2 / 2.4 + 0.5) / 2 = 0.667, is not it."""
    lake, settings = estate_lake(tmp_path)
    with_shop_targets(lake, slo_latency_target=0.9)
    quiet_hours(lake, 720, slow_p95=18, slow_p99=54)
    build(lake, settings, mode="full", as_of=AS_OF)
    apps, groups = slo_rows(lake, settings, "last_30d")
    quiet, shop, g1 = apps["quiet"], apps["shop"], groups["g1"]
    assert (quiet["latency_measured_hours"], quiet["latency_p95_bad_hours"]) == (720, 18)
    assert quiet["latency_p95_budget_allowed"] == 36
    assert (quiet["latency_p95_budget_consumed"], quiet["latency_p95_budget_remaining"]) == (0.5, 0.5)
    assert (quiet["latency_p99_bad_hours"], quiet["latency_p99_budget_allowed"]) == (54, 36)
    assert (quiet["latency_p99_budget_consumed"], quiet["latency_p99_budget_remaining"]) == (1.5, -0.5)
    assert (shop["latency_p95_bad_hours"], shop["latency_p99_bad_hours"]) == (2, 0)
    assert shop["latency_p95_budget_allowed"] == pytest.approx(2.4)
    assert shop["latency_p95_budget_consumed"] == pytest.approx(2 / 2.4)
    assert (shop["latency_p99_budget_consumed"], shop["latency_p99_budget_remaining"]) == (0, 1)
    assert (g1["latency_p95_bad_hours"], g1["latency_p99_bad_hours"]) == (20, 54)
    assert g1["latency_p95_budget_allowed"] == pytest.approx(38.4)
    assert g1["latency_p95_budget_consumed"] == pytest.approx(20 / 38.4)
    assert g1["latency_p95_budget_remaining"] == pytest.approx(18.4 / 38.4)
    assert g1["latency_p99_budget_allowed"] == pytest.approx(38.4)
    assert g1["latency_p99_budget_consumed"] == pytest.approx(54 / 38.4)
    assert g1["latency_p99_budget_remaining"] == pytest.approx(-15.6 / 38.4)


def test_a_latency_budget_has_the_availability_budgets_no_data_and_insufficient_data(tmp_path: Path) -> None:
    """Over the last 7 days (168 hours): quiet served 100 requests an hour in the last 10 hours, a p95 in each (1
    over its threshold) and no p99. Coverage 10 / 168, under the build's minimum: 'insufficient data', yet both
    budgets are given, as the availability's always was: 0.005 x 1,000 = 5 requests, none spent (remaining 1); p95
    0.05 x 10 = 0.5 hours, 1 spent: consumed 2, remaining -1. No p99 measured: 'no data', no p99 budget (null, not
    0). broken had no traffic: no availability budget and no latency budget. Group g1 is shop and quiet: its p99 has
    shop's alone, 0.05 x 24 = 1.2 hours, none spent (quiet adds nothing to either side)."""
    lake, settings = estate_lake(tmp_path)
    quiet_hours(lake, 10, slow_p95=1, slow_p99=None)
    build(lake, settings, mode="full", as_of=AS_OF)
    apps, groups = slo_rows(lake, settings, "last_7d")
    quiet, broken = apps["quiet"], apps["broken"]
    assert (quiet["availability_status"], quiet["latency_p95_status"]) == ("insufficient data", "insufficient data")
    assert (quiet["error_budget_allowed"], quiet["error_budget_remaining"]) == (5, 1)
    assert (quiet["latency_p95_bad_hours"], quiet["latency_p95_budget_allowed"]) == (1, 0.5)
    assert (quiet["latency_p95_budget_consumed"], quiet["latency_p95_budget_remaining"]) == (2, -1)
    assert quiet["latency_p99_status"] == "no data"
    p99 = ("latency_p99_bad_hours", "latency_p99_budget_allowed", "latency_p99_budget_consumed")
    assert [quiet[c] for c in (*p99, "latency_p99_budget_remaining")] == [None] * 4
    budgets = ("error_budget_allowed", "error_budget_remaining", "latency_p95_budget_allowed", *p99)
    assert (broken["availability_status"], broken["latency_p95_status"]) == ("no data", "no data")
    assert [broken[c] for c in (*budgets, "latency_p95_budget_remaining")] == [None] * 7
    g1 = groups["g1"]
    assert (g1["latency_p99_bad_hours"], g1["latency_p99_budget_allowed"]) == (0, pytest.approx(1.2))
    assert g1["latency_p99_budget_remaining"] == 1


def test_a_latency_target_of_every_hour_allows_no_bad_hour(tmp_path: Path) -> None:
    """shop asks for 100 % of its hours within its threshold: over the last 7 days its 24 hours of the 19th allow
    (1 - 1) x 24 = 0 bad hours, and its p95 had 2 (800 ms at 12:00 and 13:00): no budget to consume (null, never the
    2 / 0 a division would make, which no number says). 24 of 168 hours measured: 'insufficient data'."""
    lake, settings = estate_lake(tmp_path)
    with_shop_targets(lake, slo_latency_target=1)
    build(lake, settings, mode="full", as_of=AS_OF)
    shop = slo_rows(lake, settings, "last_7d")[0]["shop"]
    assert (shop["latency_p95_status"], shop["latency_p95_bad_hours"], shop["latency_p95_budget_allowed"]) == (
        "insufficient data",
        2,
        0,
    )
    assert (shop["latency_p95_budget_consumed"], shop["latency_p95_budget_remaining"]) == (None, None)
