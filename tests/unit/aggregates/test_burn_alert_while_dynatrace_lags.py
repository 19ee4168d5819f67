"""The burn-rate alert of an application and of its team while Dynatrace's watermark is at the build's as-of, an hour
behind it (an ingestion's ordinary lag) and two hours behind (Dynatrace down): 'none' in the first two, 'no data' in
the third, for the application and its team alike.

The hand-made estate built as of the 20th at 10:00: shop's only traffic is on the 19th, so its 1h, 2h and 6h windows
have none (no rate) and its 24h and 3d windows have some, under every alert rule: no rule holds.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from lakehouse.aggregates.build import build
from lakehouse.runlog import Watermarks
from lakehouse.schemas import get_dataset
from tests.unit.aggregates.estate import AS_OF, estate_lake, t
from tests.unit.aggregates.test_kpis import mart, one, reading, served_by_quiet

METRICS = get_dataset("dynatrace/service_metrics_hourly")


@pytest.mark.parametrize(
    ("watermark", "alert", "unread_since"),
    [
        (AS_OF, "none", None),
        (AS_OF - timedelta(hours=1), "none", None),
        (AS_OF - timedelta(hours=2), "no data", AS_OF - timedelta(hours=2)),
    ],
)
def test_the_alert_is_no_data_only_when_dynatrace_is_more_than_an_hour_behind(
    tmp_path: Path, watermark: datetime, alert: str, unread_since: datetime | None
) -> None:
    lake, settings = estate_lake(tmp_path)
    Watermarks(lake).advance(METRICS.source, METRICS.name, watermark, run_id="by-hand")
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        (app,) = mart(built, "mv_slo_burn_rates", "app_id = 'shop' and environment = 'production'")
        (team,) = mart(
            built, "mv_slo_group_burn_rates", "level = 'team' and level_id = 't1' and environment = 'production'"
        )
    for row in (app, team):
        assert (row["burn_rate_1h"], row["burn_rate_6h"]) == (None, None)
        assert row["burn_rate_24h"] is not None and row["burn_rate_3d"] is not None
        assert (row["burn_rate_alert"], row["signals_read_until"]) == (alert, unread_since)


def test_the_top_risks_say_the_signals_are_unknown_only_where_dynatrace_measured_something(tmp_path: Path) -> None:
    """Dynatrace two hours behind: shop, measured on the 19th, ends its reasons with the outage; broken, tied to no
    Dynatrace service, has no signals to miss and says nothing of it."""
    lake, settings = estate_lake(tmp_path)
    Watermarks(lake).advance(METRICS.source, METRICS.name, AS_OF - timedelta(hours=2), run_id="by-hand")
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        reasons = {r["app_id"]: r["reasons"] for r in mart(built, "mv_monitoring_top_risks")}
    outage = (
        "golden signals unknown since 2026-11-20 08:00 UTC: Dynatrace not read since (only hours read before count)"
    )
    assert reasons["shop"][-1] == outage
    assert outage not in reasons["broken"]


@pytest.mark.parametrize(
    ("watermark", "windows_end", "burn_rate_1h", "alert", "score_burn"),
    [
        (AS_OF - timedelta(hours=1), AS_OF - timedelta(hours=1), 20.0, "page", 30),
        (AS_OF, AS_OF, None, "ticket", 0),
    ],
    ids=["09:00-not-read-yet", "09:00-read-and-idle"],
)
def test_an_hour_not_read_yet_leaves_the_page_rule_the_last_hour_read(
    tmp_path: Path, watermark: datetime, windows_end: datetime, burn_rate_1h: float | None, alert: str, score_burn: int
) -> None:
    """quiet (99.5 %, B = 0.005) served 1,000 requests an hour on the 20th from 00:00 to 08:59, none failed but 100 in
    the 08:00 hour: 10 % of them, 20 times its budget. The 09:00 hour has no traffic in the lake.
    Dynatrace read up to 09:00 (an hour behind the 10:00 build, an ingestion's ordinary lag): the 09:00 hour is not
    read yet, so the windows end at 09:00 and the last hour is 08:00's: 1h 20 > 14.4, page, +30 in the top risks.
    Read up to 10:00, the 09:00 hour was read and had no traffic: the 1h window has no rate, and the other windows,
    ending at 10:00, hold no page rule: 2h 100 / 1,000 / 0.005 = 20, 6h 100 / 5,000 / 0.005 = 4, 24h and 3d
    100 / 9,000 / 0.005 = 2.2: 24h is under 3, so a ticket, by 3d > 1 and 6h > 1."""
    lake, settings = estate_lake(tmp_path)
    served_by_quiet(lake, [(t(20, h), 1000.0, 100.0 if h == 8 else 0.0) for h in range(9)])
    Watermarks(lake).advance(METRICS.source, METRICS.name, watermark, run_id="by-hand")
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        (app,) = mart(built, "mv_slo_burn_rates", "app_id = 'quiet' and environment = 'production'")
        risk = one(mart(built, "mv_monitoring_top_risks", "app_id = 'quiet'"))
    assert app["windows_end"] == windows_end
    assert app["burn_rate_1h"] == (pytest.approx(burn_rate_1h) if burn_rate_1h is not None else None)
    assert (app["burn_rate_alert"], app["signals_read_until"]) == (alert, None)
    assert (risk["burn_rate_1h"], risk["score_burn"]) == (app["burn_rate_1h"], score_burn)
