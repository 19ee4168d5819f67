"""A run by hand may last longer than a day (a backfill of a year). The build follows a run it found running until its
record says it finished, but takes one carried since before the day before the last build for killed, unless its
process still renewed its `alive_until` then: the days such a run wrote are rebuilt when it ends."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

import lakehouse.runlog as runlog_module
from lakehouse.aggregates.build import build
from lakehouse.runlog import RunLog, RunRecord
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.unit.aggregates.estate import t
from tests.unit.aggregates.test_build import RunLogClock
from tests.unit.aggregates.test_build_reads_the_runs_since_the_last_build import by_hand_across_a_full_build


def renewed(lake: Lake, record: RunRecord, at: datetime) -> None:
    """The record as the run's heartbeat writes it at `at`: alive for another lease."""
    record.alive_until = at + runlog_module.RUN_LEASE
    lake.put_json(lake.run_key(record.run_id, record.started_at), record.to_json())


def build_at_ten(lake: Lake, settings: Settings, day: int) -> None:
    """The hourly build of 10:05 on `day`."""
    RunLogClock.at = t(day, 10, 5)
    build(lake, settings, mode="hourly", as_of=t(day, 10))


def test_a_run_by_hand_lasting_three_days_is_counted_when_it_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run by hand starts at 07:00 on the 20th, rewriting the 19th, and renews its lease until it ends at 11:30 on
    the 23rd. Builds run at 10:05 each day (a full one on the 20th). The build of 12:05 on the 23rd must rebuild from
    the 19th: the run started before the day before the 10:05 build of the 22nd, but was alive then."""
    lake, settings, by_hand = by_hand_across_a_full_build(tmp_path, monkeypatch)
    for day in (21, 22, 23):
        renewed(lake, by_hand, t(day, 10))
        build_at_ten(lake, settings, day)

    RunLog(lake).finish(by_hand, "succeeded", now=t(23, 11, 30))
    RunLogClock.at = t(23, 12, 5)
    assert build(lake, settings, mode="hourly", as_of=t(23, 12)).day_from == t(19).date()


def test_a_run_by_hand_killed_on_its_first_day_is_let_go(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same run, killed on the 20th: it never renews. The builds follow it until the day before the last build's
    is past its start, then let it go: the build state no longer names it."""
    lake, settings, killed = by_hand_across_a_full_build(tmp_path, monkeypatch)
    for day in (21, 22, 23):
        build_at_ten(lake, settings, day)
    state = lake.get_json("state/build/aggregates.json")
    assert state is not None and killed.run_id not in state[0]["runs_running"]
    found = RunLog(lake).get(killed.run_id)
    assert found is not None and found.status == "failed"
