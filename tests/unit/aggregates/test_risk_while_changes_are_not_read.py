"""The top risks while ServiceNow's change requests cannot be read: the failed changes are those read, and the
reasons say the rest is unknown, as they do for incidents.

The estate, built as of the 20th at 10:00. quiet has no traffic, no incident and no change: 'no data', no score.
shop has INC2 (an open P1) and 2 failed changes in 7 days: 20 + 20 = 40, red.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from lakehouse.aggregates.build import build
from lakehouse.runlog import Watermarks
from lakehouse.schemas import get_dataset
from tests.unit.aggregates.estate import AS_OF, estate_lake, t
from tests.unit.aggregates.test_kpis import mart, reading

INCIDENTS = get_dataset("servicenow/incidents")
CHANGES = get_dataset("servicenow/changes")
CHANGES_UNKNOWN_SINCE_18TH = (
    "changes unknown since 2026-11-18 00:00 UTC: ServiceNow not read since (only changes read before count)"
)


def risks_read_until(tmp_path: Path, incidents_until: datetime, changes_until: datetime) -> dict:
    """The estate with ServiceNow's incidents and change requests read up to their watermarks, built in full at
    AS_OF: the top risks and mv_health's application rows, by application."""
    lake, settings = estate_lake(tmp_path)
    marks = Watermarks(lake)
    marks.advance(INCIDENTS.source, INCIDENTS.name, incidents_until, run_id="servicenow-run")
    marks.advance(CHANGES.source, CHANGES.name, changes_until, run_id="servicenow-run")
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        risks = {r["app_id"]: r for r in mart(built, "mv_monitoring_top_risks")}
        health = {r["level_id"]: r for r in mart(built, "mv_health", "level = 'application'")}
    return {"risks": risks, "health": health}


def test_an_application_without_a_failed_change_read_says_its_changes_since_are_unknown(tmp_path: Path) -> None:
    """Incidents read up to 09:45 on the 20th, change requests up to the 18th at 00:00 (the change_request table
    refused since): the 18th to the 20th may hold failed changes nobody read. quiet stays 'no data' on what
    is known, but says its changes since the 18th are unknown; shop keeps its 40 and red, the same sentence last."""
    built = risks_read_until(tmp_path, t(20, 9, 45), t(18))
    quiet, shop = built["risks"]["quiet"], built["risks"]["shop"]
    assert (quiet["failed_changes_7d"], quiet["risk_score"], quiet["health"]) == (0, None, "no data")
    assert quiet["reasons"] == [CHANGES_UNKNOWN_SINCE_18TH]
    assert built["health"]["quiet"]["reasons"] == [CHANGES_UNKNOWN_SINCE_18TH]
    assert (shop["risk_score"], shop["health"]) == (40, "red")
    assert shop["reasons"] == ["1 open P1/P2 incident(s)", "2 failed change(s) in 7 days", CHANGES_UNKNOWN_SINCE_18TH]


def test_changes_read_an_hour_before_as_of_leave_no_doubt(tmp_path: Path) -> None:
    """Change requests read up to 09:00 on the 20th, an hour before as_of: the ordinary lag of a build started
    before the hour's ServiceNow run ended, so nothing is said."""
    quiet = risks_read_until(tmp_path, t(20, 9, 45), t(20, 9))["risks"]["quiet"]
    assert quiet["reasons"] == []


def test_changes_not_read_for_hours_of_the_as_of_day_are_unknown(tmp_path: Path) -> None:
    """Incidents and change requests both read up to 00:30 on the 20th, the build as of 10:00: 9 h 30 unread,
    though the 20th was read in part. quiet stays 'no data' on what is known, with both sentences; so does
    mv_health."""
    built = risks_read_until(tmp_path, t(20, 0, 30), t(20, 0, 30))
    expected = [
        "incidents unknown since 2026-11-20 00:30 UTC: ServiceNow not read since (only incidents read before count)",
        "changes unknown since 2026-11-20 00:30 UTC: ServiceNow not read since (only changes read before count)",
    ]
    quiet = built["risks"]["quiet"]
    assert (quiet["risk_score"], quiet["health"], quiet["reasons"]) == (None, "no data", expected)
    assert built["health"]["quiet"]["reasons"] == expected


def test_servicenow_down_says_both_its_incidents_and_its_changes_are_unknown(tmp_path: Path) -> None:
    """Both read up to 13:00 on the 19th: the incidents' sentence, then the changes'."""
    quiet = risks_read_until(tmp_path, t(19, 13), t(19, 13))["risks"]["quiet"]
    assert quiet["reasons"] == [
        "incidents unknown since 2026-11-19 13:00 UTC: ServiceNow not read since (only incidents read before count)",
        "changes unknown since 2026-11-19 13:00 UTC: ServiceNow not read since (only changes read before count)",
    ]
