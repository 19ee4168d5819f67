"""What an operator finds in the build function's log: one line when a build starts and one when it ends, with its
outcome, its run id and its duration, also when it fails."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import functions.build_aggregates.handler as handler_module
import lakehouse.runlog as runlog_module
from functions.build_aggregates.handler import handler
from lakehouse.errors import RosettaError
from lakehouse.runlog import RunLog
from lakehouse.scheduler import function_output_to
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.lambda_context import LambdaContext
from tests.unit.aggregates.estate import write_estate
from tests.unit.aggregates.test_handler import EVENTS


@pytest.fixture
def lake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Lake:
    monkeypatch.setenv("ROSETTA_LAKE_URL", str(tmp_path / "lake"))
    monkeypatch.setenv("ROSETTA_DUCKDB_TEMP_DIRECTORY", str(tmp_path / "duckdb"))
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    return Lake.from_settings(Settings())


@pytest.fixture
def build_takes_2_5_s(monkeypatch: pytest.MonkeyPatch) -> None:
    """The monotonic clock the handler and the run log read: 100 s when the build starts, 102.5 s at every reading
    after it, so the build lasts 2.5 s."""
    readings = iter([100.0])

    def monotonic() -> float:
        return next(readings, 102.5)

    clock = SimpleNamespace(monotonic=monotonic)
    monkeypatch.setattr(handler_module, "time", clock)
    monkeypatch.setattr(runlog_module, "time", clock)


def logged(path: Path, message: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.startswith('{"level"')]
    return [line for line in lines if line["message"] == message]


def test_a_build_logs_its_start_and_its_outcome_with_its_run_id(
    lake: Lake, tmp_path: Path, build_takes_2_5_s: None
) -> None:
    write_estate(lake)
    log = tmp_path / "function.log"
    with function_output_to(log):
        handler(json.loads((EVENTS / "daily.json").read_text()), LambdaContext())
    (started,) = logged(log, "build started")
    (finished,) = logged(log, "build finished")
    assert started["level"] == "INFO"
    assert finished["level"] == "INFO" and finished["status"] == "succeeded"
    (record,) = [r for r in RunLog(lake).list() if r.function == "build_aggregates"]
    assert finished["run_id"] == record.run_id
    assert finished["mode"] == "full" and finished["full_because"] == "no build before"
    assert finished["duration_s"] == 2.5


def test_a_failed_build_ends_with_an_error_line_naming_why(lake: Lake, tmp_path: Path, build_takes_2_5_s: None) -> None:
    """A lake without a mapping: the build stops, and its last line says so, for the failed-run alarm to point to."""
    log = tmp_path / "function.log"
    with function_output_to(log), pytest.raises(RosettaError) as raised:
        handler({"mode": "hourly"}, LambdaContext())
    (finished,) = logged(log, "build finished")
    assert finished["level"] == "ERROR" and finished["status"] == "failed"
    assert finished["error"] == str(raised.value) and "mapping" in finished["error"]
    assert finished["duration_s"] == 2.5
