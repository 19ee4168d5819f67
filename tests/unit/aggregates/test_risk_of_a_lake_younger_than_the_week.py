"""The top risks of a lake that first read its sources within the 7 days the score is judged on: scored on what it
holds, saying since when it reads them, so that a new install's green is not read as a week without incidents.

The estate, built as of the 20th at 10:00 (tests/unit/aggregates/estate.py). shop has INC2 (an open P1, opened on
the 18th at 08:00) and 2 failed changes in 7 days: 20 + 20 = 40, red. quiet has neither traffic nor events.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from lakehouse.aggregates.build import build
from lakehouse.runlog import FirstReads
from tests.unit.aggregates.estate import AS_OF, estate_lake, t
from tests.unit.aggregates.test_kpis import mart, reading
from tests.unit.aggregates.test_unread_days import signals_alone

SHOP_REASONS = ["1 open P1/P2 incident(s)", "2 failed change(s) in 7 days"]


def risks(tmp_path: Path, **first_reads: datetime) -> dict[str, dict]:
    """The estate with each of `first_reads` (incidents, deployments) recorded as first read then, built in full at
    AS_OF: the top risks by application."""
    lake, settings = estate_lake(tmp_path)
    datasets = {"incidents": ("servicenow", "incidents"), "deployments": ("deploys", "deployment_events")}
    for name, since in first_reads.items():
        FirstReads(lake).record(*datasets[name], since, run_id=f"first-{name}")
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        return {r["app_id"]: r for r in mart(built, "mv_monitoring_top_risks")}


def test_incidents_first_read_within_the_week_say_since_when(tmp_path: Path) -> None:
    """ServiceNow first read on the 17th at 09:00, three days before as_of: what the lake holds counts (INC2, so shop
    keeps its 40 and red), and every application's reasons end saying since when, quiet's alone."""
    since = "incidents read only since 2026-11-17 09:00 UTC: ServiceNow first read then (earlier ones may be missing)"
    found = risks(tmp_path, incidents=t(17, 9))
    assert (found["shop"]["risk_score"], found["shop"]["health"]) == (40, "red")
    assert found["shop"]["reasons"] == [*SHOP_REASONS, since]
    assert found["quiet"]["reasons"] == [since]


def test_deployments_first_read_within_the_week_say_since_when(tmp_path: Path) -> None:
    """The deploy sources first read on the 18th at 00:00: the failed changes the lake holds count, and the reasons
    say since when deployments are read."""
    since = "deployments read only since 2026-11-18 00:00 UTC: first read then (earlier ones may be missing)"
    found = risks(tmp_path, deployments=t(18))
    assert found["shop"]["reasons"] == [*SHOP_REASONS, since]


def test_a_first_read_before_the_week_says_nothing(tmp_path: Path) -> None:
    """First read on the 13th at 09:00, seven days and an hour before as_of: the whole week was read."""
    found = risks(tmp_path, incidents=t(13, 9), deployments=t(13, 9))
    assert found["shop"]["reasons"] == SHOP_REASONS
    assert found["quiet"]["reasons"] == []


def test_a_lake_that_never_read_servicenow_nor_deployments_says_they_are_unknown(tmp_path: Path) -> None:
    """Dynatrace alone connected, as on a platform team's first day: no incident, change or deployment was ever read.
    shop scores on its signals alone, and says its incidents, deployments and changes are unknown, not none."""
    lake, settings = signals_alone(tmp_path)
    with reading(lake, settings) as built:
        shop = next(r for r in mart(built, "mv_monitoring_top_risks") if r["app_id"] == "shop")
    assert shop["reasons"][-3:] == [
        "incidents unknown: ServiceNow not read yet",
        "deployments unknown: not read yet",
        "changes unknown: ServiceNow not read yet",
    ]
