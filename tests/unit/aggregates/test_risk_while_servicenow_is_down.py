"""The top risks while ServiceNow cannot be read: scored on the incidents read, saying the rest is unknown.

The estate, built as of the 20th at 10:00. quiet has no traffic; INC21, a P3 on quiet-svc opened on the 17th at
09:00 and resolved at 11:00, was read before ServiceNow went down; green, it says first that its SLOs were not
judged (no traffic). shop has INC2 (an open P1) and 2 failed changes in 7 days: 20 + 20 = 40, red.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from lakehouse.aggregates.build import build
from lakehouse.runlog import Watermarks
from lakehouse.schemas import get_dataset
from tests.unit.aggregates.estate import AS_OF, CI_Q, QUIET_SLOS_NOT_JUDGED, estate_lake, incident, rows, t
from tests.unit.aggregates.test_kpis import mart, reading

INCIDENTS = get_dataset("servicenow/incidents")
INC21 = incident("i21" + "0" * 29, "INC21", CI_Q, t(17, 9), 3, 6, resolved=t(17, 11))
UNKNOWN_SINCE_19TH_13H = (
    "incidents unknown since 2026-11-19 13:00 UTC: ServiceNow not read since (only incidents read before count)"
)


def risks_with_servicenow_read_until(tmp_path: Path, watermark: datetime | None, *incidents: dict) -> dict:
    """The estate with `incidents` in the lake and the incidents' watermark at `watermark` (none: never advanced),
    built in full at AS_OF: the top risks and mv_health's application rows, by application."""
    lake, settings = estate_lake(tmp_path)
    lake.write_days(INCIDENTS, rows(INCIDENTS.id, INC21, *incidents))
    if watermark is not None:
        Watermarks(lake).advance(INCIDENTS.source, INCIDENTS.name, watermark, run_id="servicenow-run")
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        risks = {r["app_id"]: r for r in mart(built, "mv_monitoring_top_risks")}
        health = {r["level_id"]: r for r in mart(built, "mv_health", "level = 'application'")}
    return {"risks": risks, "health": health}


def test_an_application_green_on_the_incidents_read_says_the_rest_are_unknown(tmp_path: Path) -> None:
    """ServiceNow read up to the 19th at 13:00, then down: the 20th, the as-of hour's day, was not read. quiet's
    7 days hold INC21 only (the incidents opened since are not in the lake): 1 incident, none open, no traffic: score
    0, green, as what is known says, but its reasons say its incidents since 13:00 on the 19th are unknown, where
    they were empty. shop keeps its 40 and red, with the same sentence after its own two."""
    built = risks_with_servicenow_read_until(tmp_path, t(19, 13))
    quiet, shop = built["risks"]["quiet"], built["risks"]["shop"]
    assert (quiet["incidents_7d"], quiet["open_p1_p2"], quiet["risk_score"], quiet["health"]) == (1, 0, 0, "green")
    assert quiet["reasons"] == [QUIET_SLOS_NOT_JUDGED, UNKNOWN_SINCE_19TH_13H]
    assert built["health"]["quiet"]["reasons"] == [QUIET_SLOS_NOT_JUDGED, UNKNOWN_SINCE_19TH_13H]
    assert (shop["risk_score"], shop["health"]) == (40, "red")
    assert shop["reasons"] == ["1 open P1/P2 incident(s)", "2 failed change(s) in 7 days", UNKNOWN_SINCE_19TH_13H]


def test_incidents_the_lake_holds_after_the_watermark_still_count(tmp_path: Path) -> None:
    """INC22, a P2 on quiet-svc opened on the 19th at 20:00 and still open, after the watermark (13:00), was read
    by a run that wrote it but did not advance the watermark. It is known: quiet has 2 incidents in 7 days (under
    the 3 of recurring) and 1 open P1/P2, +20: 20, orange, with its reason, then the unknown sentence."""
    inc22 = incident("i22" + "0" * 29, "INC22", CI_Q, t(19, 20), 2, 2)
    quiet = risks_with_servicenow_read_until(tmp_path, t(19, 13), inc22)["risks"]["quiet"]
    assert (quiet["incidents_7d"], quiet["open_p1_p2"], quiet["risk_score"], quiet["health"]) == (2, 1, 20, "orange")
    assert quiet["reasons"] == ["1 open P1/P2 incident(s)", UNKNOWN_SINCE_19TH_13H]


def test_incidents_not_read_for_hours_of_the_as_of_day_are_unknown(tmp_path: Path) -> None:
    """ServiceNow read up to 00:30 on the 20th, the build as of 10:00 the same day: 9 h 30 of incidents not read,
    though the 20th was read in part (ServiceNow is read every 15 minutes: more than an hour behind is an outage, and
    a P1 opened at 01:00 would not be seen). quiet (INC21 only, none open, no traffic) stays 0 and green on what is
    known, and its reasons, in mv_health too, say its incidents since 00:30 are unknown; shop keeps its 40 and red,
    the same sentence after its own two."""
    since = "incidents unknown since 2026-11-20 00:30 UTC: ServiceNow not read since (only incidents read before count)"
    built = risks_with_servicenow_read_until(tmp_path, t(20, 0, 30))
    quiet, shop = built["risks"]["quiet"], built["risks"]["shop"]
    assert (quiet["risk_score"], quiet["health"], quiet["reasons"]) == (0, "green", [QUIET_SLOS_NOT_JUDGED, since])
    assert built["health"]["quiet"]["reasons"] == [QUIET_SLOS_NOT_JUDGED, since]
    assert (shop["risk_score"], shop["health"]) == (40, "red")
    assert shop["reasons"] == ["1 open P1/P2 incident(s)", "2 failed change(s) in 7 days", since]


def unknown_since(hour: int, minute: int = 0) -> list[str]:
    return [
        QUIET_SLOS_NOT_JUDGED,
        f"incidents unknown since 2026-11-20 {hour:02}:{minute:02} UTC: ServiceNow not read since "
        "(only incidents read before count)",
    ]


@pytest.mark.parametrize(
    ("watermark", "reasons"),
    [
        # Midnight of the as-of's day: none of the 20th was read.
        (t(20), unknown_since(0)),
        # Four hours behind within the as-of's day: unknown since, though the day was read in part.
        (t(20, 6), unknown_since(6)),
        # An hour and a quarter behind: a run missed.
        (t(20, 8, 45), unknown_since(8, 45)),
        # An hour behind: the ordinary lag of a build started before the hour's ServiceNow run ended.
        (t(20, 9), [QUIET_SLOS_NOT_JUDGED]),
        # Read past as_of: an ingest ahead of the build.
        (t(20, 10, 15), [QUIET_SLOS_NOT_JUDGED]),
        # Never advanced: how far ServiceNow was read is unknown, no outage to tell.
        (None, [QUIET_SLOS_NOT_JUDGED]),
    ],
)
def test_incidents_are_unknown_when_read_more_than_an_hour_before_as_of(
    tmp_path: Path, watermark: datetime | None, reasons: list[str]
) -> None:
    quiet = risks_with_servicenow_read_until(tmp_path, watermark)["risks"]["quiet"]
    assert (quiet["risk_score"], quiet["health"], quiet["reasons"]) == (0, "green", reasons)
