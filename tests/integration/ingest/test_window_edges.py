"""Records at a window's edge and between runs: each read once, none lost, against the simulators over HTTP."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from functions.ingest_dynatrace import handler as dynatrace_handler
from functions.ingest_servicenow import handler as servicenow_handler
from lakehouse.runlog import Watermarks
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from simulators.serve import RunningSimulators

from .conftest import import_catalog, invoke, scheduled_event
from .truth import check_dynatrace, rows

pytestmark = pytest.mark.simulators
Point = Callable[[RunningSimulators, Settings], None]
INCIDENTS = "servicenow/incidents"


def incidents_event(since: datetime | None = None, until: datetime | None = None) -> dict[str, Any]:
    window = {"since": since.isoformat(), "until": until.isoformat()} if since and until else None
    return {**scheduled_event(servicenow_handler.__file__, window), "datasets": [INCIDENTS]}


def incident_versions(sims: RunningSimulators) -> set[tuple[str, str]]:
    """(sys_id, sys_updated_on) of every incident the simulator serves."""
    table = sims.apis["servicenow"].tables["incident"]
    return {(table.sys_id(r), table.value(r, "sys_updated_on")) for r in table.rows}


def stored_versions(lake: Lake) -> list[tuple[str, str]]:
    return [(r["sys_id"], f"{r['sys_updated_on']:%Y-%m-%d %H:%M:%S}") for r in rows(lake, INCIDENTS)]


def rows_out(summary: dict[str, Any]) -> int:
    (run,) = summary["runs"]
    count: int = run["datasets"][INCIDENTS]["rows_out"]
    return count


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_an_incident_updated_in_the_second_a_window_ends_is_read_by_the_next_window_once(
    local_settings: Settings, sims: RunningSimulators, point: Point
) -> None:
    """sys_updated_on has whole seconds, a run's bounds do not: both bounds go into the encoded query cut to the
    second (sys_updated_on>=since^sys_updated_on<until), so the second a window ends in belongs to the next one."""
    point(sims, local_settings)
    lake = Lake.from_settings(local_settings)
    versions = incident_versions(sims)
    # The estate updates incidents on 2024-03-03 at 07:28:33, 12:22:49, 12:35:21 and 22:54:41.
    edge = next(v for v in versions if v[1] == "2024-03-03 12:22:49")
    bound = at("2024-03-03 12:22:49.500")
    first = invoke(servicenow_handler, incidents_event(at("2024-03-03 00:00:00"), bound))
    # Only 07:28:33: the window ends half a second into 12:22:49, whose records the query leaves to the next.
    assert rows_out(first) == 1 and edge not in stored_versions(lake)
    second = invoke(servicenow_handler, incidents_event(bound, at("2024-03-04 00:00:00")))
    # 12:22:49, 12:35:21 and 22:54:41.
    assert rows_out(second) == 3
    stored = stored_versions(lake)
    assert sorted(stored) == sorted(v for v in versions if "2024-03-03 00:00:00" <= v[1] < "2024-03-04 00:00:00")


def test_a_window_given_after_the_watermark_leaves_it_there_and_the_next_run_reads_the_gap(
    local_settings: Settings, sims: RunningSimulators, point: Point
) -> None:
    """A run given a window by hand that starts after the watermark (fresh data first, after an outage) used to move
    the watermark to its end: what was updated between the two was never read by any later run."""
    point(sims, local_settings)
    lake = Lake.from_settings(local_settings)
    versions = incident_versions(sims)
    read_until, gap_until = at("2024-03-03 00:00:00"), at("2024-03-04 00:00:00")
    # The four updates of 2024-03-03 (see above) fall in the gap.
    gap = {v for v in versions if "2024-03-03 00:00:00" <= v[1] < "2024-03-04 00:00:00"}
    assert len(gap) == 4
    invoke(servicenow_handler, incidents_event(at("2024-03-02 00:00:00"), read_until))
    invoke(servicenow_handler, incidents_event(gap_until, at("2024-03-06 00:00:00")))
    mark = Watermarks(lake).get("servicenow", "incidents")
    assert mark is not None and mark.value == read_until
    assert not gap & set(stored_versions(lake))
    # The next scheduled run starts at the watermark minus 15 minutes and reads up to 48 hours from there.
    after = invoke(servicenow_handler, incidents_event())
    assert after["runs"][0]["window"]["since"] == (read_until - timedelta(minutes=15)).isoformat()
    assert gap <= set(stored_versions(lake))
    mark = Watermarks(lake).get("servicenow", "incidents")
    assert mark is not None and mark.value == read_until - timedelta(minutes=15) + timedelta(hours=48)


def test_windows_across_midnight_keep_each_days_earlier_hours_and_store_every_hour_once(
    local_settings: Settings, sims: RunningSimulators, point: Point
) -> None:
    """A day partition is written by several runs (the windows overlap by two hours and cross midnight): each write
    merges into the day, so the hours an earlier run wrote stay, and an hour read twice is one row."""
    point(sims, local_settings)
    lake = Lake.from_settings(local_settings)
    import_catalog(lake, sims.estate)
    start, end = sims.estate.start, sims.estate.end
    cuts = [start, start + timedelta(days=3, hours=5), start + timedelta(days=6, hours=7), end]
    for since, until in itertools.pairwise(cuts):
        # Each window after the first starts two hours before the last one ended, as a scheduled run does.
        window = {
            "since": (since - timedelta(hours=2) if since > start else since).isoformat(),
            "until": until.isoformat(),
        }
        (run,) = invoke(dynatrace_handler, scheduled_event(dynatrace_handler.__file__, window))["runs"]
        assert run["status"] == "succeeded"
    stored = [(r["entity_id"], r["hour"]) for r in rows(lake, "dynatrace/service_metrics_hourly")]
    assert len(stored) == len(set(stored))
    # Every hour of every service, with the values the estate's telemetry gives (the truth of one whole read).
    check_dynatrace(lake, sims.estate)
