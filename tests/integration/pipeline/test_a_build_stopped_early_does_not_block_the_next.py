"""A build Lambda kills in its first seconds (out of memory, SIGKILL) writes no end and keeps the lake's lease: the run
log says it failed once its deadline, the function's timeout, has passed, and the next build must then find the lake
free, while the last good build keeps serving."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from functions.api.main import create_app
from functions.build_aggregates.handler import handler
from lakehouse.aggregates.build import STATE_KEY
from lakehouse.aggregates.build_types import BuildError
from lakehouse.runlog import RunLog
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.integration.api.conftest import ADMIN, api_settings, down_sources
from tests.lambda_context import LambdaContext
from tests.unit.aggregates.estate import write_estate

ROOT = Path(__file__).resolve().parents[3]
# The invocation the kill lands in: 15 s to its timeout, a bucket check that takes 2 s (a slow store), and the process
# killed outright as soon as its run record is written, before anything else (no finally runs).
KILLED_BUILD = """
import os, time
from functions.build_aggregates import handler
from lakehouse.runlog import RunLog
from lakehouse.storage import Lake

class Context:
    function_name = "build_aggregates"
    memory_limit_in_mb = 4096
    aws_request_id = "killed"
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:build_aggregates"

    def __init__(self, left_ms):
        self.ends = time.monotonic() + left_ms / 1000

    def get_remaining_time_in_millis(self):
        return int((self.ends - time.monotonic()) * 1000)

Lake.check = lambda self: time.sleep(2)
start = RunLog.start

def start_then_die(self, *args, **kwargs):
    start(self, *args, **kwargs)
    os._exit(137)

RunLog.start = start_then_die
handler.handler({"mode": "hourly"}, Context(15_000))
"""


def served_build(lake: Lake) -> str:
    """The run id of the build the lake's state names: the build the API serves."""
    state = lake.get_json(STATE_KEY)
    assert state is not None
    return str(state[0]["run_id"])


def batch_runs_of_the_build(settings: Settings, root: Path) -> list[tuple[str, str | None]]:
    """The build's runs as the API's batch-runs page lists them, newest first: status and error."""
    with TestClient(create_app(api_settings(root), settings, down_sources())) as client:
        answer = client.get("/monitoring/admin/batch-runs", headers=ADMIN)
    assert answer.status_code == 200, answer.text
    return [(r["status"], r.get("error")) for r in answer.json()["items"] if r["function"] == "build_aggregates"]


def test_a_build_killed_in_its_first_seconds_frees_the_lake_at_its_deadline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lease ran for the time the invocation had left as read before the start-up, counted from when it was
    taken: 2 s of bucket check later. A build started once the killed run's deadline had passed, its record reading
    failed, was still refused as "another build is running" for those 2 s."""
    env = {
        "ROSETTA_LAKE_URL": str(tmp_path / "lake"),
        "ROSETTA_DUCKDB_TEMP_DIRECTORY": str(tmp_path / "duckdb"),
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    lake = Lake.from_settings(settings)
    write_estate(lake)
    good = handler({"mode": "full"}, LambdaContext())["run_id"]

    killed = subprocess.run(
        [sys.executable, "-c", KILLED_BUILD],
        cwd=ROOT,
        env=os.environ | env | {"PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert killed.returncode == 137, killed.stderr[-2000:]
    (record,) = [r for r in RunLog(lake).list(limit=10) if r.function == "build_aggregates" and r.run_id != good]
    assert record.status == "running" and record.deadline is not None

    # Before the deadline nobody can tell the killed build from a live one: the next build does not start, and the
    # last good build is what the lake serves.
    assert datetime.now(UTC) < record.deadline
    with pytest.raises(BuildError, match=r"^another build \(schedule, started .*\) is running on this lake"):
        handler({"mode": "hourly"}, LambdaContext())
    assert served_build(lake) == good
    assert batch_runs_of_the_build(settings, tmp_path) == [("running", None), ("succeeded", None)]

    # Past the deadline the lake is free: the next build builds, and serves from then on; the killed one reads stopped.
    time.sleep(max(0.0, (record.deadline - datetime.now(UTC)).total_seconds()) + 0.2)
    after = handler({"mode": "hourly"}, LambdaContext())["run_id"]
    assert served_build(lake) == after
    stopped = f"stopped without finishing (no end recorded by {record.deadline.isoformat()})"
    runs = batch_runs_of_the_build(settings, tmp_path)
    assert runs == [("succeeded", None), ("failed", stopped), ("succeeded", None)]
