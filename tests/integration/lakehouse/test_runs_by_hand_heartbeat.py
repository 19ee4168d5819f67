"""A run by hand has no deadline: nothing stops its process for certain. While it lasts, its process renews the
record's `alive_until`; killed outright (SIGKILL, a crashed machine), it stops renewing, and its record then reads as
failed in the API, `rosetta-monitoring runs` and the analysts' batch_runs view, rather than "running" for ever."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from lakehouse.deadline import note_deadline
from lakehouse.runlog import RunLog, RunRecord
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.unit.lakehouse.test_batch_runs_view_past_deadline import batch_runs

LEASE_S = 1.5
# A process running a run by hand, its lease shortened so that the test sees it renewed and lapse.
BY_HAND = """
import sys, time
from datetime import timedelta
from lakehouse.runlog import RunLog
from lakehouse.settings import Settings
from lakehouse.storage import Lake

lake = Lake.from_settings(Settings(lake_url=sys.argv[1]))
record = RunLog(lake, lease=timedelta(seconds=float(sys.argv[2]))).start(
    "ingest_servicenow", "servicenow", "servicenow/incidents", trigger="manual"
)
print(record.run_id, flush=True)
time.sleep(600)
"""


def stored(lake: Lake, record: RunRecord) -> dict[str, object]:
    """The record as the store holds it, before any reading rule."""
    found = lake.get_json(lake.run_key(record.run_id, record.started_at))
    assert found is not None
    return dict(found[0])


def test_a_run_by_hand_killed_outright_reads_failed_once_its_lease_lapses(tmp_path: Path) -> None:
    """The run's process renews its lease (1.5 s here) every 0.5 s: 2.5 s after it started, longer than a lease, it
    still reads running. Killed with SIGKILL, it writes nothing more; once its last `alive_until` has passed, the
    record reads failed, "stopped without finishing (no sign of life by <that instant>)", its end unknown."""
    lake_url = str(tmp_path / "lake")
    lake = Lake.from_settings(Settings(lake_url=lake_url))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])}
    process = subprocess.Popen(
        [sys.executable, "-c", BY_HAND, lake_url, str(LEASE_S)], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert process.stdout is not None
        run_id = process.stdout.readline().strip()
        first = RunLog(lake).get(run_id)
        assert first is not None and first.alive_until is not None and first.deadline is None
        time.sleep(LEASE_S + 1.0)
        renewed = RunLog(lake).get(run_id)
        assert renewed is not None and renewed.status == "running"
        assert renewed.alive_until is not None and renewed.alive_until > first.alive_until
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()

    last = datetime.fromisoformat(str(stored(lake, renewed)["alive_until"]))
    time.sleep(max(0.0, (last - datetime.now(UTC)).total_seconds()) + 0.3)
    said = f"stopped without finishing (no sign of life by {last.isoformat()})"
    found = RunLog(lake).get(run_id)
    assert found is not None
    assert (found.status, found.error, found.finished_at) == ("failed", said, None)
    assert batch_runs(lake, per_lake=False) == [(run_id, "failed", said, True)]


def test_a_run_by_hand_that_finished_stays_finished(tmp_path: Path) -> None:
    """A run renewed three times, then finished succeeded: no renewal lands after its end, so a lease later it still
    reads succeeded, its stored record unchanged."""
    lake = Lake.from_settings(Settings(lake_url=str(tmp_path / "lake")))
    runs = RunLog(lake, lease=timedelta(seconds=0.3))
    record = runs.start("ingest_servicenow", "servicenow", "servicenow/incidents", trigger="manual")
    time.sleep(0.35)
    runs.finish(record, "succeeded")
    at_end = stored(lake, record)
    time.sleep(0.6)
    assert stored(lake, record) == at_end
    found = runs.get(record.run_id)
    assert found is not None and (found.status, found.error) == ("succeeded", None)


def test_a_run_in_lambda_keeps_its_deadline_and_no_lease(tmp_path: Path) -> None:
    """In Lambda the function's timeout is certain: the record keeps it as its deadline, and no lease is written."""
    lake = Lake.from_settings(Settings(lake_url=str(tmp_path / "lake")))
    deadline = datetime.now(UTC) + timedelta(minutes=15)
    note_deadline(deadline)
    try:
        record = RunLog(lake).start("ingest_servicenow", "servicenow", "servicenow/incidents")
    finally:
        note_deadline(None)
    kept = stored(lake, record)
    assert (kept["status"], kept["deadline"], kept["alive_until"]) == ("running", deadline.isoformat(), None)
