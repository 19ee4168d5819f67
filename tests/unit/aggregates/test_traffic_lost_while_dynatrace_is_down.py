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

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lakehouse.aggregates.build import build
from lakehouse.runlog import Watermarks
from lakehouse.schemas import get_dataset
from tests.unit.aggregates.estate import AS_OF, CI_DB, deployment, estate_lake, incident, rows, t
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


@pytest.mark.parametrize("as_of", [datetime(2026, 11, 30, 10, tzinfo=UTC), datetime(2026, 12, 5, 10, tzinfo=UTC)])
def test_a_dynatrace_outage_longer_than_the_14_days_still_says_the_signals_are_unknown(
    tmp_path: Path, as_of: datetime
) -> None:
    """Dynatrace read up to the 20th at 10:00, then down. shop, measured until then (the estate's hours of the 19th),
    deployed on the 27th (succeeded) and its P1 INC2 was restored on the 21st. Built as of Nov 30 10:00 (10 days
    down) and as of Dec 5 10:00 (15 days down: none of the 14 days before it read, so shop has no traffic in them):
    no hour read in the 7 days (no SLO, burn, trend nor traffic lost), no incident opened nor open, no failed change:
    0, green, and its reasons say its SLOs were not judged, no traffic measured in the 7 days, then that its golden
    signals are unknown since the 20th at 10:00, as its burn alert says 'no data'; on Dec 5 they said nothing of
    Dynatrace. broken, which Dynatrace does not watch, says nothing of it."""
    lake, settings = estate_lake(tmp_path)
    Watermarks(lake).advance(METRICS.source, METRICS.name, t(20, 10), run_id="by-hand")
    deployments = get_dataset("deploys/deployment_events")
    shipped = deployment("argocd:shop-api-prod:9", "argocd", "shop-api-prod", t(27, 12), "succeeded", "r9")
    lake.write_days(deployments, rows(deployments.id, shipped))
    incidents = get_dataset("servicenow/incidents")
    lake.write_days(incidents, rows(incidents.id, incident("i2" * 16, "INC2", CI_DB, t(18, 8), 1, 6, t(21, 8))))
    build(lake, settings, mode="full", as_of=as_of)
    with reading(lake, settings) as built:
        risks = {r["app_id"]: r for r in mart(built, "mv_monitoring_top_risks")}
        (burn,) = mart(built, "mv_slo_burn_rates", "app_id = 'shop' and environment = 'production'")
    shop = risks["shop"]
    assert (shop["risk_score"], shop["health"], shop["reasons"]) == (
        0,
        "green",
        [
            "SLOs not judged: no traffic measured in the last 7 days",
            "golden signals unknown since 2026-11-20 10:00 UTC: Dynatrace not read since "
            "(only hours read before count)",
        ],
    )
    assert burn["burn_rate_alert"] == "no data"
    assert not any("golden signals" in reason for reason in risks["broken"]["reasons"])
