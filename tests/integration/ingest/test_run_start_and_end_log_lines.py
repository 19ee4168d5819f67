"""What an operator finds in an ingestion function's log: one line when a run starts and one when it ends, with its
outcome, its counts, its duration and the run log's ids, and never a source's credential."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from functions.ingest_servicenow import handler as servicenow_handler
from lakehouse.errors import RosettaError
from lakehouse.ingest.run import IngestionFailed
from lakehouse.runlog import RunLog
from lakehouse.scheduler import function_output_to
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from simulators.serve import RunningSimulators

from .conftest import closed_port_url, invoke, scheduled_event
from .test_ingest_handlers import Point, windows
from .truth import rows

pytestmark = pytest.mark.simulators
SERVICENOW_DATASETS = ("incidents", "changes", "problems", "task_slas", "cmdb_ci")


def logged(path: Path, message: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.startswith('{"level"')]
    return [line for line in lines if line["message"] == message]


def run_ids_in_the_run_log(lake: Lake) -> set[str]:
    return {record.run_id for record in RunLog(lake).list()}


def test_a_run_logs_its_start_and_its_outcome_with_counts_and_duration(
    local_settings: Settings, sims: RunningSimulators, point: Point, tmp_path: Path
) -> None:
    point(sims, local_settings)
    lake = Lake.from_settings(local_settings)
    log = tmp_path / "function.log"
    with function_output_to(log):
        invoke(servicenow_handler, scheduled_event(servicenow_handler.__file__, windows(sims.estate)["servicenow"]))
    (started,) = logged(log, "ingestion started")
    (finished,) = logged(log, "ingestion finished")
    assert started["level"] == "INFO" and started["source"] == "servicenow" and started["trigger"] == "schedule"
    assert finished["level"] == "INFO" and finished["status"] == "succeeded"
    # The lake was empty: what it holds now is what the run wrote, and nothing was set aside.
    written = sum(len(rows(lake, f"servicenow/{name}")) for name in SERVICENOW_DATASETS)
    assert written > 0
    assert finished["rows_written"] == written and finished["records_read"] == written
    assert finished["rows_rejected"] == 0 and finished["failed_datasets"] == 0
    assert finished["duration_s"] > 0
    # One run record per dataset: the line names each, so the records are found from it.
    assert set(finished["run_ids"]) == run_ids_in_the_run_log(lake) and len(finished["run_ids"]) == 5
    assert started["correlation_id"] == finished["correlation_id"]


def test_a_failed_run_ends_with_an_error_line_naming_why_and_no_credential(
    local_settings: Settings, sims: RunningSimulators, point: Point, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    point(sims, local_settings)
    monkeypatch.setenv("ROSETTA_SERVICENOW_URL", closed_port_url())
    log = tmp_path / "function.log"
    with function_output_to(log), pytest.raises(IngestionFailed):
        invoke(servicenow_handler, scheduled_event(servicenow_handler.__file__, windows(sims.estate)["servicenow"]))
    (finished,) = logged(log, "ingestion finished")
    assert finished["level"] == "ERROR" and finished["status"] == "failed"
    assert finished["failed_datasets"] == 5 and finished["rows_written"] == 0
    assert "connection failed" in finished["errors"]["servicenow/incidents"]
    assert sims.credentials["servicenow"]["password"] not in log.read_text()


def test_a_run_refused_before_it_starts_still_ends_with_a_failed_line(
    local_settings: Settings, sims: RunningSimulators, point: Point, tmp_path: Path
) -> None:
    point(sims, local_settings)
    log = tmp_path / "function.log"
    with function_output_to(log), pytest.raises(RosettaError, match="backfill_days must be a whole number"):
        invoke(servicenow_handler, {"backfill_days": 0})
    (finished,) = logged(log, "ingestion finished")
    assert finished["level"] == "ERROR" and finished["status"] == "failed"
    assert finished["error"].startswith("backfill_days must be a whole number of days")
