"""The build state's runs_running names the ingest runs the next build waits to see finish: a run killed without a
word (its deadline passed before the last build started) can never say it finished, and leaves the list."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

import lakehouse.runlog as runlog_module
from lakehouse.aggregates.build import build
from lakehouse.deadline import note_deadline
from lakehouse.runlog import RunLog, RunRecord
from lakehouse.storage import Lake
from tests.unit.aggregates.estate import estate_lake, t
from tests.unit.aggregates.test_build import RunLogClock

SIGNALS = "dynatrace/service_metrics_hourly"


def start_in_lambda(lake: Lake, started: datetime, deadline: datetime) -> RunRecord:
    """An ingest run started in Lambda, its function's timeout noted as its deadline; it writes no day."""
    note_deadline(deadline)
    try:
        return RunLog(lake).start("ingest_dynatrace", "dynatrace", SIGNALS, now=started)
    finally:
        note_deadline(None)


def runs_running(lake: Lake) -> list[str]:
    state = lake.get_json("state/build/aggregates.json")
    assert state is not None
    return list(state[0]["runs_running"])


def test_a_run_killed_before_the_last_build_started_leaves_runs_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On 20 Nov: a full build at 10:05 (as of 10:00). An ingest starts at 10:20 and is killed, its deadline 10:35;
    another starts at 11:50, its deadline 12:15.
    - The build at 11:05 (as of 11:00) finds the first still running: it names it (its deadline came after the
      10:05 build started, so a finished record might yet land).
    - The build at 12:05 (as of 12:00): the first was dead by 11:05, when the last build started, and leaves the list;
      the second, its deadline still ahead, stays.
    Neither wrote a day, so each build rebuilds the 20th alone (its as-of's day and the last build's), as it
    would without them."""
    monkeypatch.setattr(runlog_module, "datetime", RunLogClock)
    lake, settings = estate_lake(tmp_path)
    RunLogClock.at = t(20, 10, 5)
    build(lake, settings, mode="full", as_of=t(20, 10))
    killed = start_in_lambda(lake, t(20, 10, 20), deadline=t(20, 10, 35))

    RunLogClock.at = t(20, 11, 5)
    assert build(lake, settings, mode="hourly", as_of=t(20, 11)).day_from == t(20).date()
    assert runs_running(lake) == [killed.run_id]

    later = start_in_lambda(lake, t(20, 11, 50), deadline=t(20, 12, 15))
    RunLogClock.at = t(20, 12, 5)
    assert build(lake, settings, mode="hourly", as_of=t(20, 12)).day_from == t(20).date()
    assert runs_running(lake) == [later.run_id]
    # The run log, read after that build, says the killed run failed: the state no longer says otherwise.
    found = RunLog(lake).get(killed.run_id)
    assert found is not None and found.status == "failed"
