"""The README's SLO thresholds at their very edge, over the hand-made lake in estate.py: coverage under 50 % is
'insufficient data' (50 % itself is enough, for the SLO and for the top risks alike), and a ticket needs the 3 d and
6 h burn rates both to exceed 1 (a budget spent exactly at its rate raises none)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from lakehouse.aggregates.build import build
from tests.unit.aggregates.estate import AS_OF, estate_lake, t
from tests.unit.aggregates.test_kpis import mart, one, reading, served_by_quiet


@pytest.mark.parametrize(
    ("hours", "coverage", "status", "score", "health", "reasons"),
    [
        (84, 0.5, "breached", 30, "orange", ["availability 99.000% over 7 days is below the 99.500% target"]),
        (
            83,
            83 / 168,
            "insufficient data",
            0,
            "green",
            [
                "SLOs not judged: traffic measured in 83 of the 168 hours of the last 7 days, "
                "fewer than the 84 they need"
            ],
        ),
    ],
    ids=["84-of-168-hours", "83-of-168-hours"],
)
def test_an_slo_measured_in_half_of_its_hours_has_enough_data(
    tmp_path: Path, hours: int, coverage: float, status: str, score: int, health: str, reasons: list[str]
) -> None:
    """quiet (99.5 % by default, no traffic in the estate) fails 1 of 100 requests an hour for `hours` hours from the
    14th 00:00: 99 %, under its target. Built at 10:00 on the 20th, last_7d is its 168 hours from the 13th 10:00.
    84 hours are 50 %, not under it: the SLO is breached, and the top risks count it (+30, orange). 83 hours are
    under it: 'insufficient data', and the top risks score nothing, green: no other rule holds (no traffic in the
    last 6 hours nor the week before, no incident nor change of quiet); its reasons say the SLOs were not judged,
    one hour short of the 84."""
    lake, settings = estate_lake(tmp_path)
    served_by_quiet(lake, [(t(14) + timedelta(hours=h), 100.0, 1.0) for h in range(hours)])
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        slo = one(mart(built, "mv_slo_app_period", "app_id = 'quiet' and period = 'last_7d'"))
        risk = one(mart(built, "mv_monitoring_top_risks", "app_id = 'quiet'"))
    assert (slo["measured_hours"], slo["expected_hours"]) == (hours, 168)
    assert slo["coverage"] == pytest.approx(coverage)
    assert slo["availability"] == pytest.approx(0.99)
    assert slo["availability_status"] == status
    assert (risk["measured_hours_7d"], risk["score_slo"], risk["risk_score"]) == (hours, score, score)
    assert (risk["health"], risk["reasons"]) == (health, reasons)


@pytest.mark.parametrize(
    ("last_hour_errors", "first_hour_errors", "burn_rate_6h", "burn_rate_3d", "alert"),
    [
        (1.0, 1.0, 1.0, 1.0, "none"),
        (2.0, 0.0, 7 / 6, 1.0, "none"),
        (1.0, 2.0, 1.0, 73 / 72, "none"),
        (2.0, 1.0, 7 / 6, 73 / 72, "ticket"),
    ],
    ids=["both-exactly-1", "6h-over-3d-exactly-1", "3d-over-6h-exactly-1", "both-over-1"],
)
def test_a_ticket_needs_the_3_day_and_6_hour_burn_rates_both_over_1(
    tmp_path: Path,
    last_hour_errors: float,
    first_hour_errors: float,
    burn_rate_6h: float,
    burn_rate_3d: float,
    alert: str,
) -> None:
    """quiet (B = 0.005) serves 200 requests an hour over the 72 hours before 10:00 on the 20th, failing 1 of them,
    except the hour before as_of (`last_hour_errors`) and the first of the 72, the 17th 10:00 (`first_hour_errors`,
    outside the 6 and 24 hours). 1 error an hour burns exactly the budget, 1 / (0.005 x 200) = 1, in every window:
    not over 1, no ticket. 2 errors in the last hour make the 6 h rate (5 + 2) / 6 = 7/6, 2 in the first hour the
    3 d rate (71 + 2) / 72 = 73/72; 0 in the first hour keeps the 3 d rate at 72 / 72 = 1. Only both over 1 make a
    ticket (24 h 25/24 and 2 h 3/2 are never over 3, 1 h 2 never over 14.4)."""
    lake, settings = estate_lake(tmp_path)
    first = (AS_OF - timedelta(hours=72), 200.0, first_hour_errors)
    between = [(AS_OF - timedelta(hours=h), 200.0, 1.0) for h in range(2, 72)]
    last = (AS_OF - timedelta(hours=1), 200.0, last_hour_errors)
    served_by_quiet(lake, [first, *between, last])
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        burn = one(mart(built, "mv_slo_burn_rates", "app_id = 'quiet' and environment = 'production'"))
    assert (burn["requests_3d"], burn["requests_6h"]) == (72 * 200, 6 * 200)
    assert burn["burn_rate_6h"] == pytest.approx(burn_rate_6h)
    assert burn["burn_rate_3d"] == pytest.approx(burn_rate_3d)
    assert burn["burn_rate_alert"] == alert
