"""A busy service gone dark for longer than the 7 days before the last 7 can show is still 'traffic lost'.

The hand-made estate built as of the 20th at 10:00: the last 7 days from the 13th at 10:00, the 7 days before them
from the 6th at 10:00. quiet has no incident, deployment nor change; its service quiet-svc served 1,000 requests an
hour without an error through the hours below, and nothing since. The rule's second reading: no traffic in the last
7 days, after traffic in at least min_coverage (0.5: 84) of the 168 hours of the 7 days before its last day with
traffic.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from lakehouse.aggregates.build import build
from tests.unit.aggregates.estate import AS_OF, estate_lake, t
from tests.unit.aggregates.test_build import ingest_metrics
from tests.unit.aggregates.test_kpis import mart, one, reading, served_by_quiet

BUSY_THROUGH_THE_5TH = [(t(day, h), 1_000.0, 0.0) for day in range(1, 6) for h in range(24)]
LOST_AFTER_THE_5TH = (
    "no traffic measured after 2026-11-05, its last day with traffic (traffic in 96 of the 168 hours of the 7 days "
    "before it)"
)


def quiet_risk(lake: Any, settings: Any) -> dict[str, Any]:
    with reading(lake, settings) as built:
        return one(mart(built, "mv_monitoring_top_risks", "app_id = 'quiet'"))


@pytest.mark.parametrize(
    ("served", "expected"),
    [
        # Every hour of the 1st to the 5th, dark since the 6th at 00:00: 14 days and 10 hours. Its last day with
        # traffic is the 5th; of the 7 days before it (Oct 29 to Nov 4), the 1st to the 4th had traffic in every
        # hour: 96 of 168. No traffic nor event in the 14 days: it read 'no data'.
        (BUSY_THROUGH_THE_5TH, (20, 20, "orange", [LOST_AFTER_THE_5TH])),
        # Every hour of the 1st to the 7th, dark since the 8th at 00:00: 12 days and 10 hours. The 7 days before the
        # last 7 hold 38 hours with traffic (the 6th from 10:00, the 7th), under 84: it read green. Of the 7 days
        # before the 7th (Oct 31 to Nov 6), the 1st to the 6th had traffic: 144 of 168.
        (
            [(t(day, h), 1_000.0, 0.0) for day in range(1, 8) for h in range(24)],
            (
                20,
                20,
                "orange",
                [
                    "no traffic measured after 2026-11-07, its last day with traffic (traffic in 144 of the 168 hours "
                    "of the 7 days before it)"
                ],
            ),
        ),
        # Sparse: an hour a day at noon, the 1st to the 7th. The 7 days before the 7th hold 6 hours with traffic,
        # under 84: a service that stopped, not one gone dark. Green (its hours of the 6th and 7th are in the 14
        # days), nothing scores; no hour of the last 7 days (from the 13th at 10:00) had traffic, which it says.
        (
            [(t(day, 12), 1_000.0, 0.0) for day in range(1, 8)],
            (0, 0, "green", ["SLOs not judged: no traffic measured in the last 7 days"]),
        ),
    ],
)
def test_a_busy_service_dark_for_weeks_is_traffic_lost(
    tmp_path: Path, served: list[Any], expected: tuple[int, int, str, list[str]]
) -> None:
    lake, settings = estate_lake(tmp_path)
    served_by_quiet(lake, served)
    build(lake, settings, mode="full", as_of=AS_OF)
    quiet = quiet_risk(lake, settings)
    assert (quiet["score_traffic_lost"], quiet["risk_score"], quiet["health"], quiet["reasons"]) == expected


def test_an_hourly_build_finds_the_last_busy_week_in_the_days_stored_before(tmp_path: Path) -> None:
    """quiet busy through the 5th, as above, built in full as of the 20th at 10:00; then a day of the estate's other
    metrics arrives (its 19th moved to the 20th) and the hourly build an hour later rebuilds the 20th alone. It reads
    two weeks of hours, none of quiet's: quiet's last busy week comes from the days the full build stored. quiet is
    traffic lost as before, and as a full build of the same lake at the same hour has it."""
    lake, settings = estate_lake(tmp_path)
    served_by_quiet(lake, BUSY_THROUGH_THE_5TH)
    build(lake, settings, mode="full", as_of=AS_OF)
    ingest_metrics(lake, timedelta(days=1))
    result = build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=1))
    assert (result.mode, result.day_from) == ("hourly", AS_OF.date())
    hourly = quiet_risk(lake, settings)
    assert (hourly["score_traffic_lost"], hourly["health"], hourly["reasons"]) == (20, "orange", [LOST_AFTER_THE_5TH])
    build(lake, settings, mode="full", as_of=AS_OF + timedelta(hours=1))
    assert quiet_risk(lake, settings) == hourly
