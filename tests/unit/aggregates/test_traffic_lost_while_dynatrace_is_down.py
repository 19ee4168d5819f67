"""The traffic-lost rule while Dynatrace is down: an application busy the week before and with no traffic in the
last 7 days is 'traffic lost' (+20, orange) only when Dynatrace was read over at least half of those 7 days (the
build's min_coverage, 50 %); hours not read are not hours without traffic.

The hand-made estate built as of the 20th at 10:00 (the last 7 days from the 13th at 10:00, 168 hours). quiet
served 100 requests an hour for 100 hours from the 6th at 10:00 (100 / 168 hours of the week before, over 50 %) and
has no other evidence: with Dynatrace read to as-of, it is traffic lost, +20, orange.
- read up to the 17th at 10:00: 96 of the 168 hours read (57 %), none with traffic: still traffic lost;
- read up to the 16th at 10:00: 72 hours read (43 %): not enough to say; 0, green, the outage named;
- read up to the 13th at 10:00 (a week down): nothing of the 7 days read; 0, green, the outage named.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from lakehouse.aggregates.build import build
from lakehouse.runlog import Watermarks
from lakehouse.schemas import get_dataset
from tests.unit.aggregates.estate import AS_OF, estate_lake, rows, t
from tests.unit.aggregates.test_kpis import mart, reading

METRICS = get_dataset("dynatrace/service_metrics_hourly")
LOST = "no traffic measured in the last 7 days (10,000 requests the 7 days before)"


@pytest.mark.parametrize(
    ("read_until", "score", "health"),
    [(None, 20, "orange"), (t(17, 10), 20, "orange"), (t(16, 10), 0, "green"), (t(13, 10), 0, "green")],
)
def test_traffic_is_lost_only_over_enough_hours_read(
    tmp_path: Path, read_until: datetime | None, score: int, health: str
) -> None:
    lake, settings = estate_lake(tmp_path)
    week_before = [
        {"entity_id": "SERVICE-Q", "hour": t(6, 10) + timedelta(hours=h), "request_count": 100.0, "error_count": 0.0}
        for h in range(100)
    ]
    lake.write_days(METRICS, rows(METRICS.id, *week_before))
    if read_until is not None:
        Watermarks(lake).advance(METRICS.source, METRICS.name, read_until, run_id="by-hand")
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        (quiet,) = mart(built, "mv_monitoring_top_risks", "app_id = 'quiet'")
    assert (quiet["score_traffic_lost"], quiet["risk_score"], quiet["health"]) == (score, score, health)
    assert (LOST in quiet["reasons"]) == (score > 0)
    if read_until is not None:
        assert quiet["reasons"][-1] == (
            f"golden signals unknown since {read_until:%Y-%m-%d %H:%M} UTC: Dynatrace not read since "
            "(only hours read before count)"
        )
