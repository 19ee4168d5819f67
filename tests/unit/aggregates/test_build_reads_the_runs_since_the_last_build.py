"""An hourly build reads the run records of the runs since the last build, not whole days of the run log: a year of
operation files some 1,250 records a day, and reading the day before the last build's and its own was some 2,500
GETs every hour."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

import lakehouse.runlog as runlog_module
from lakehouse.aggregates.build import build
from lakehouse.runlog import RunLog, RunRecord
from lakehouse.schemas import get_dataset
from lakehouse.settings import Settings
from lakehouse.storage import Lake, days_written
from tests.unit.aggregates.estate import estate_lake, metrics, rows, t
from tests.unit.aggregates.test_build import RunLogClock

SIGNALS = "dynatrace/service_metrics_hourly"


def run(lake: Lake, started: datetime, finished: datetime | None, day_shift: int = 0) -> RunRecord:
    """An ingest run of the signals started and finished at the given instants (still running when `finished` is
    None), writing the estate's day of signals (the 19th) moved by `day_shift` days, with 2,000 requests an hour."""
    runs = RunLog(lake)
    record = runs.start("ingest_dynatrace", "dynatrace", SIGNALS, now=started)
    shifted = [
        r | {"hour": r["hour"] + timedelta(days=day_shift), "request_count": 2000.0} for r in metrics().to_pylist()
    ]
    record.days_written = days_written(lake.write_days(get_dataset(SIGNALS), rows(SIGNALS, *shifted)))
    if finished is not None:
        runs.finish(record, "succeeded", now=finished)
    return record


def by_hand_across_a_full_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Lake, Settings, RunRecord]:
    """The estate's lake, the run log's clock set by the test: a run by hand (no deadline) started at 07:00 on the
    20th, rewriting the 19th, still running at the full build of 10:05."""
    monkeypatch.setattr(runlog_module, "datetime", RunLogClock)
    RunLogClock.at = t(20, 7)
    lake, settings = estate_lake(tmp_path)
    by_hand = run(lake, t(20, 7), None)
    RunLogClock.at = t(20, 10, 5)
    build(lake, settings, mode="full", as_of=t(20, 10))
    return lake, settings, by_hand


def older_runs(lake: Lake, count: int) -> None:
    """`count` runs of the 19th and of the 20th before 09:00, each a record that wrote no day."""
    runs = RunLog(lake)
    for i in range(count):
        started = t(19) + timedelta(minutes=(33 * 60 * i) // count)
        runs.finish(runs.start("ingest_servicenow", "servicenow", "servicenow/incidents", now=started), "succeeded")


def run_records_read(lake: Lake, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The keys of the run records read from the lake from now on."""
    read: list[str] = []
    get = lake.store.get

    def counted(key: str) -> object:
        if key.startswith("runs/day="):
            read.append(key)
        return get(key)

    monkeypatch.setattr(lake.store, "get", counted)
    return read


def test_an_hourly_build_reads_the_records_of_the_runs_since_the_last_build_whatever_came_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On the 20th: 300 runs from the 19th to 09:00, then a full build at 10:05, two ingest runs (10:20, rewriting
    the 19th, and 10:40) and the hourly build of 11:05. That build reads four run records: the full build's, the two
    ingest runs' and its own, the 300 earlier runs none. It rebuilds from the 19th, which the 10:20 run wrote."""
    monkeypatch.setattr(runlog_module, "datetime", RunLogClock)
    RunLogClock.at = t(20, 9)
    lake, settings = estate_lake(tmp_path)
    older_runs(lake, 300)
    RunLogClock.at = t(20, 10, 5)
    full = build(lake, settings, mode="full", as_of=t(20, 10))
    rewrite = run(lake, t(20, 10, 20), t(20, 10, 25))
    later = run(lake, t(20, 10, 40), t(20, 10, 45), day_shift=1)

    read = run_records_read(lake, monkeypatch)
    RunLogClock.at = t(20, 11, 5)
    hourly = build(lake, settings, mode="hourly", as_of=t(20, 11))

    assert hourly.day_from == t(19).date()
    expected = {
        lake.run_key(r, started)
        for r, started in (
            (full.run_id, t(20, 10, 5)),
            (rewrite.run_id, t(20, 10, 20)),
            (later.run_id, t(20, 10, 40)),
            (hourly.run_id, t(20, 11, 5)),
        )
    }
    assert set(read) == expected


def test_a_run_by_hand_running_across_a_full_build_is_counted_when_it_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run by hand (no deadline) starts at 07:00 on the 20th, rewriting the 19th, and is still running at the full
    build of 10:05. The hourly build of 11:05 finds it still running and rebuilds from the 20th; it ends at 11:30,
    and the build of 12:05 rebuilds from the 19th."""
    lake, settings, by_hand = by_hand_across_a_full_build(tmp_path, monkeypatch)

    RunLogClock.at = t(20, 11, 5)
    assert build(lake, settings, mode="hourly", as_of=t(20, 11)).day_from == t(20).date()
    RunLog(lake).finish(by_hand, "succeeded", now=t(20, 11, 30))
    RunLogClock.at = t(20, 12, 5)
    assert build(lake, settings, mode="hourly", as_of=t(20, 12)).day_from == t(19).date()
