"""The latency SLOs' error budgets as the API serves them: SLO rows over named periods and from/to ranges (which run
the build's SQL again over the day rows), and the application summary's SLO, which carries both latency SLOs.

The hand-made estate (tests/unit/aggregates/estate.py, as_of the 20th at 10:00 UTC), where quiet served 100 requests an
hour in the 720 hours before as_of, its p95 over 500 ms in the last 18 of them and its p99 over 1,500 ms in the last
54; shop asks for a latency target of 90 %: on the 19th its p95 was over 500 ms at 12:00 and 13:00, its p99 within
1,500 ms every hour. Group g1 is shop and quiet.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from functions.api.main import create_app
from lakehouse.aggregates.build import build
from tests.integration.api.conftest import api_settings, by_id, down_sources, get_json
from tests.unit.aggregates.estate import AS_OF, estate_lake
from tests.unit.aggregates.test_kpis import with_shop_targets
from tests.unit.aggregates.test_latency_budget import quiet_hours

# The whole UTC days of the 13th to the as-of hour: 7 x 24 + 10 = 178 hours, all of them measured for quiet.
WEEK = "from=2026-11-13T00:00:00Z&to=2026-11-20T10:00:00Z"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("latency-budget")
    lake, settings = estate_lake(root)
    with_shop_targets(lake, slo_latency_target=0.9)
    quiet_hours(lake, 720, slow_p95=18, slow_p99=54)
    build(lake, settings, mode="full", as_of=AS_OF)
    with TestClient(create_app(api_settings(root), settings, down_sources())) as c:
        yield c


def slo(client: TestClient, query: str) -> dict[str, dict]:
    return by_id(get_json(client, f"/monitoring/kpis/slo?{query}"))


def budgets(row: dict) -> tuple:
    """A row's latency budgets: (bad hours, allowed, consumed, remaining) of the p95, then of the p99."""
    figures = ("BadHours", "BudgetAllowed", "BudgetConsumed", "BudgetRemaining")
    return tuple(row[f"latencyP{percentile}{figure}"] for percentile in (95, 99) for figure in figures)


# The last 30 days and the same 720 hours asked as a range (its whole days, 21 October to the as-of hour, hold no
# other hour of traffic): quiet's budgets are (1 - 0.95) x 720 = 36 bad hours; p95 18 spent: 0.5 consumed, 0.5 left;
# p99 54 spent: 1.5 consumed, -0.5 left.
@pytest.mark.parametrize("query", ["period=last_30d", "from=2026-10-21T10:00:00Z&to=2026-11-20T10:00:00Z"])
def test_an_applications_slo_row_carries_its_latency_budgets(client: TestClient, query: str) -> None:
    quiet = slo(client, f"groupBy=app&{query}")["quiet"]
    assert budgets(quiet) == (18, 36, 0.5, 0.5, 54, 36, 1.5, -0.5)


# Over the week's 178 hours: quiet allows 0.05 x 178 = 8.9 bad hours, and all its 18 (p95) and 54 (p99) slow hours
# are in it; shop allows 0.1 x 24 = 2.4, with 2 slow p95 hours and no slow p99 one. g1 by events: p95 (2 + 18) /
# (2.4 + 8.9) = 20 / 11.3, p99 54 / 11.3.
def test_a_range_and_a_rollup_count_the_bad_hours_over_the_hours_allowed(client: TestClient) -> None:
    quiet = slo(client, f"groupBy=app&{WEEK}")["quiet"]
    assert budgets(quiet) == pytest.approx((18, 8.9, 18 / 8.9, -9.1 / 8.9, 54, 8.9, 54 / 8.9, -45.1 / 8.9))
    g1 = slo(client, f"groupBy=group&{WEEK}")["g1"]
    assert budgets(g1) == pytest.approx((20, 11.3, 20 / 11.3, -8.7 / 11.3, 54, 11.3, 54 / 11.3, -42.7 / 11.3))
    named = slo(client, "groupBy=group&period=last_30d")["g1"]
    assert budgets(named) == pytest.approx((20, 38.4, 20 / 38.4, 18.4 / 38.4, 54, 38.4, 54 / 38.4, -15.6 / 38.4))


# The summary's SLO (last 30 days) has what a card shows of both latency SLOs: p95 702 good hours of 720 = 97.5 %,
# met; p99 666 of 720 = 92.5 %, under 95 %: breached; every hour measured; the budgets of the SLO row.
def test_the_summary_carries_both_latency_slos_with_their_budgets(client: TestClient) -> None:
    summary = get_json(client, "/monitoring/applications/quiet/summary")["slo"]
    assert (summary["latencyP95ThresholdMs"], summary["latencyP99ThresholdMs"]) == (500, 1500)
    assert (summary["latencyTarget"], summary["latencyP99Target"]) == (0.95, 0.95)
    assert (summary["latencyP95Sli"], summary["latencyP95Status"]) == (pytest.approx(702 / 720), "met")
    assert (summary["latencyP99Sli"], summary["latencyP99Status"]) == (pytest.approx(666 / 720), "breached")
    assert (summary["latencyCoverage"], summary["latencyP99Coverage"]) == (1, 1)
    assert (summary["latencyP95BudgetConsumed"], summary["latencyP95BudgetRemaining"]) == (0.5, 0.5)
    assert (summary["latencyP99BudgetConsumed"], summary["latencyP99BudgetRemaining"]) == (1.5, -0.5)


def counts(row: dict) -> tuple:
    """The hours behind a row's latency SLIs: (p95 measured, p95 good, p99 measured, p99 good)."""
    return tuple(
        row[k]
        for k in ("latencyMeasuredHours", "latencyP95GoodHours", "latencyP99MeasuredHours", "latencyP99GoodHours")
    )


# Each SLI comes with its sample, an application's and a rollup's alike, so that 97.5 % of 720 hours is not read as
# 97.5 % of 8. quiet over 30 days: p95 702 good of 720, p99 666 of 720 (the summary's SLIs above). g1 adds shop's 24
# hours of the 19th: p95 22 good, p99 24: 724 of 744 and 690 of 744. Over the week's 178 hours: quiet 160 and 124
# good, g1 182 and 148 of 202.
def test_each_latency_sli_comes_with_the_hours_it_counts(client: TestClient) -> None:
    assert counts(slo(client, "groupBy=app&period=last_30d")["quiet"]) == (720, 702, 720, 666)
    assert counts(slo(client, "groupBy=group&period=last_30d")["g1"]) == (744, 724, 744, 690)
    assert counts(slo(client, f"groupBy=app&{WEEK}")["quiet"]) == (178, 160, 178, 124)
    assert counts(slo(client, f"groupBy=group&{WEEK}")["g1"]) == (202, 182, 202, 148)


# The summary's card reads its SLIs with their samples too: quiet's 100 requests an hour, none failed, over the 720
# hours of the last 30 days: 72,000 requests, all good, in 720 hours of 720.
def test_the_summary_gives_the_counts_behind_its_slo(client: TestClient) -> None:
    summary = get_json(client, "/monitoring/applications/quiet/summary")["slo"]
    availability = ("availabilityDenominator", "availabilityNumerator", "badRequests", "measuredHours", "expectedHours")
    assert tuple(summary[k] for k in availability) == (72_000, 72_000, 0, 720, 720)
    assert counts(summary) == (720, 702, 720, 666)
