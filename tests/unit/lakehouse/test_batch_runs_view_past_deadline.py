"""The analysts' batch_runs view reads a run killed without a word (its record still "running" past its deadline) as
failed, with the error the API and `rosetta-monitoring runs` give, and still reads a lake whose records have no
deadline at all."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from lakehouse.deadline import note_deadline
from lakehouse.runlog import RunLog, RunRecord
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from lakehouse.views import render_views

STARTED = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def batch_runs(lake: Lake, per_lake: bool) -> list[tuple[str, str, str | None, bool]]:
    """(run id, status, error, finished_at is null) of each run, as the view gives them: the script written for this
    lake, or the static script with the lake's URL set."""
    con = duckdb.connect()
    con.execute("set variable lake = $url", {"url": lake.url})
    script = render_views(lake if per_lake else None)
    view = next(s for s in script.split(";\n") if "view batch_runs" in s)
    con.execute(view)
    found = con.execute("select run_id, status, error, finished_at is null from batch_runs order by run_id")
    return [tuple(row) for row in found.fetchall()]  # type: ignore[misc]


def start(log: RunLog, dataset: str, minute: int, deadline: datetime | None) -> RunRecord:
    """A run of the logs ingestion started at 10:mm, its deadline as the Lambda handler notes it."""
    note_deadline(deadline)
    try:
        record = log.start("ingest_logs", "elasticsearch", dataset, now=STARTED + timedelta(minutes=minute))
    finally:
        note_deadline(None)
    return record


@pytest.mark.parametrize("per_lake", [False, True])
def test_a_run_past_its_deadline_reads_as_failed_as_the_api_says(tmp_path: Path, per_lake: bool) -> None:
    """Three runs started in Lambda on 20 Nov 2026:
    - killed at 10:00, its deadline 10:15:00.25 long past: failed, "stopped without finishing (no end recorded by
      2026-11-20T10:15:00.250000+00:00)", its end still unknown;
    - started at 10:01, finished succeeded at 10:02, deadline 10:16 past: succeeded, as stored;
    - started at 10:02, its deadline an hour from now: running, no error.
    The run log read in Python says the same of each."""
    lake = Lake.from_settings(Settings(lake_url=str(tmp_path / "lake")))
    log = RunLog(lake)
    killed = start(log, "elasticsearch/log_counts_hourly", 0, datetime(2026, 11, 20, 10, 15, 0, 250_000, tzinfo=UTC))
    done = start(log, "elasticsearch/log_counts_hourly", 1, datetime(2026, 11, 20, 10, 16, tzinfo=UTC))
    log.finish(done, "succeeded", now=datetime(2026, 11, 20, 10, 2, tzinfo=UTC))
    alive = start(log, "elasticsearch/index_patterns", 2, datetime.now(UTC) + timedelta(hours=1))

    said = "stopped without finishing (no end recorded by 2026-11-20T10:15:00.250000+00:00)"
    expected = [
        (killed.run_id, "failed", said, True),
        (done.run_id, "succeeded", None, False),
        (alive.run_id, "running", None, True),
    ]
    assert batch_runs(lake, per_lake) == expected
    as_the_api_reads = [(r.run_id, r.status, r.error, r.finished_at is None) for r in log.list(since=STARTED.date())]
    assert sorted(as_the_api_reads) == expected


@pytest.mark.parametrize("per_lake", [False, True])
def test_a_lake_whose_records_have_no_deadline_reads_them_as_stored(tmp_path: Path, per_lake: bool) -> None:
    """Records an earlier release wrote carry no deadline key at all (a run by hand has none either): a run still
    running since 1 Mar 2024 reads as running, one that failed reads as failed with its own error."""
    lake = Lake.from_settings(Settings(lake_url=str(tmp_path / "lake")))
    started = datetime(2024, 3, 1, 12, tzinfo=UTC)
    common = {"function": "ingest_logs", "source": "elasticsearch", "dataset": "elasticsearch/log_counts_hourly"}
    older = [
        {"run_id": "20240301T120000Z-0a1b2c3d", "status": "running", "finished_at": None, "error": None},
        {"run_id": "20240301T120000Z-9f8e7d6c", "status": "failed", "finished_at": "2024-03-01T12:01:00+00:00"},
    ]
    older[1]["error"] = "ReadTimeout: timed out"
    for record in older:
        stored = common | record | {"started_at": started.isoformat(), "window_start": None, "window_end": None}
        lake.put_json(lake.run_key(str(record["run_id"]), started), stored)
    assert batch_runs(lake, per_lake) == [
        ("20240301T120000Z-0a1b2c3d", "running", None, True),
        ("20240301T120000Z-9f8e7d6c", "failed", "ReadTimeout: timed out", False),
    ]
