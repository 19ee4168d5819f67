"""A run whose process is killed outright (SIGKILL, Lambda's timeout itself) writes no end to its record: once the
deadline its record noted has passed, the run log, the API and the sources' state say it failed, not running."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from functions.api.main import create_app
from lakehouse.mappings import MappingStore
from lakehouse.runlog import RunLog
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.integration.api.conftest import ADMIN, api_settings, down_sources
from tests.integration.ingest.conftest import REPO

# What the killed invocation's context says is left: the instant Lambda would kill it.
REMAINING_MS = 5_000
LOGS_HANDLER = (
    "from functions.ingest_logs.handler import handler\n"
    "from tests.lambda_context import LambdaContext\n"
    f"handler({{}}, LambdaContext(function_name='ingest_logs', remaining_ms={REMAINING_MS}))\n"
)


@pytest.fixture
def silent_source() -> Iterator[str]:
    """A port that takes the connection and the request and never answers: the run waits there until killed."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def _lake_with_a_logs_mapping(root: Path) -> tuple[Settings, Lake]:
    settings = Settings(lake_url=str(root / "lake"), duckdb_temp_directory=root / "duckdb")
    lake = Lake.from_settings(settings)
    entry = {"entity_id": "shop", "kind": "application", "team": "t1", "elisa_index": "logs-shop-*"}
    MappingStore(lake).apply([entry], actor="test")
    return settings, lake


def _running_record(lake: Lake, process: subprocess.Popen[bytes]) -> dict[str, Any]:
    """The first run record the process writes, as it stands in the lake, once it says running."""
    waited_until = time.monotonic() + 60
    while time.monotonic() < waited_until:
        keys = [k for k in lake.list_keys("runs/") if k.startswith("runs/day=")]
        if keys:
            found = lake.get_json(keys[0])
            assert found is not None
            return dict(found[0])
        assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
        time.sleep(0.1)
    raise AssertionError("the run never wrote its record")


def test_a_run_killed_mid_request_reads_as_failed_once_its_deadline_has_passed(
    tmp_path: Path, silent_source: str
) -> None:
    settings, lake = _lake_with_a_logs_mapping(tmp_path)
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "ROSETTA_LAKE_URL": settings.lake_url,
        "ROSETTA_ELASTICSEARCH_URL": silent_source,
        "ROSETTA_ELASTICSEARCH_USER": "reader",
        "ROSETTA_ELASTICSEARCH_PASSWORD": "reader-password",
        "ROSETTA_HTTP_TIMEOUT_S": "600",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "RosettaMonitoringTest",
    }
    invoked = datetime.now(UTC)
    process = subprocess.Popen(
        [sys.executable, "-c", LOGS_HANDLER], cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        stored = _running_record(lake, process)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()

    # As the killed process left it: running, with the instant Lambda would have killed it.
    assert stored["status"] == "running" and stored["finished_at"] is None
    deadline = datetime.fromisoformat(stored["deadline"])
    assert invoked < deadline <= datetime.now(UTC) + timedelta(milliseconds=REMAINING_MS)

    time.sleep(max(0.0, (deadline - datetime.now(UTC)).total_seconds()) + 0.2)
    said = f"stopped without finishing (no end recorded by {deadline.isoformat()})"

    record = RunLog(lake).get(stored["run_id"])
    assert record is not None
    assert (record.status, record.error, record.finished_at) == ("failed", said, None)
    assert [(r.run_id, r.status) for r in RunLog(lake).list()] == [(stored["run_id"], "failed")]

    app = create_app(api_settings(tmp_path), settings, down_sources())
    with TestClient(app, raise_server_exceptions=False) as client:
        runs = client.get("/monitoring/admin/batch-runs", headers=ADMIN).json()["items"]
        assert [(r["runId"], r["status"], r["error"]) for r in runs] == [(stored["run_id"], "failed", said)]
        still_running = client.get("/monitoring/admin/batch-runs?status=running", headers=ADMIN).json()["items"]
        assert still_running == []
        sources = client.get("/monitoring/admin/config/sources", headers=ADMIN).json()["items"]
        assert {s["name"]: s["lastRunStatus"] for s in sources}["elasticsearch"] == "failed"


def test_a_record_without_a_deadline_still_reads_as_running(tmp_path: Path) -> None:
    """A run by hand has no deadline, nor has a record an earlier release wrote: nothing says it stopped."""
    _, lake = _lake_with_a_logs_mapping(tmp_path)
    started = datetime(2024, 3, 1, 12, tzinfo=UTC)
    record = {
        "run_id": "20240301T120000Z-0a1b2c3d",
        "function": "ingest_logs",
        "source": "elasticsearch",
        "dataset": "elasticsearch/log_counts_hourly",
        "window_start": None,
        "window_end": None,
        "started_at": started.isoformat(),
        "status": "running",
    }
    lake.put_json(lake.run_key(record["run_id"], started), record)
    found = RunLog(lake).get(record["run_id"])
    assert found is not None and (found.status, found.error) == ("running", None)
    assert json.loads(json.dumps(found.to_json()))["deadline"] is None
