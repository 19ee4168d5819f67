"""The line a failed build ends with names the run record it ended `failed`, so that an operator sent to it by the
failed-run alarm finds the run in runs/ (and `rosetta-monitoring runs`); a build refused before it recorded a run
says it has none."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from functions.build_aggregates.handler import handler
from lakehouse.aggregates.build_types import BuildError
from lakehouse.errors import RosettaError
from lakehouse.runlog import RunLog
from lakehouse.scheduler import function_output_to
from lakehouse.storage import Lake
from tests.lambda_context import LambdaContext
from tests.unit.aggregates.estate import write_estate
from tests.unit.aggregates.test_build_log_lines import lake, logged
from tests.unit.aggregates.test_handler import EVENTS

__all__ = ["lake"]


def test_a_build_failing_on_an_object_it_cannot_read_names_its_failed_run(lake: Lake, tmp_path: Path) -> None:
    """The estate's metrics day of 19 November overwritten with bytes that are no Parquet: the build starts its run,
    fails reading its inputs, and ends that run `failed`. Its last line names that very run."""
    write_estate(lake)
    day = "raw/dynatrace/service_metrics_hourly/day=2026-11-19/data.parquet"
    assert day in lake.list_keys("raw/dynatrace/")
    lake.store.put(day, b"not a parquet file")
    log = tmp_path / "function.log"
    with function_output_to(log), pytest.raises(BuildError):
        handler(json.loads((EVENTS / "daily.json").read_text()), LambdaContext())
    (finished,) = logged(log, "build finished")
    (record,) = [r for r in RunLog(lake).list() if r.function == "build_aggregates"]
    assert record.status == "failed"
    assert finished["level"] == "ERROR" and finished["status"] == "failed"
    assert finished["run_id"] == record.run_id
    assert finished["run_recorded"] is True
    assert finished["error"] == record.error


def test_a_build_without_a_mapping_is_a_failed_run_its_line_names(lake: Lake, tmp_path: Path) -> None:
    """A lake without a mapping yet: the build cannot start, and like an ingestion that cannot start it ends one run
    `failed` saying why, which its line names (an hourly schedule before the mapping's import shows in the run log)."""
    log = tmp_path / "function.log"
    with function_output_to(log), pytest.raises(RosettaError, match="no mapping"):
        handler({"mode": "hourly"}, LambdaContext())
    (finished,) = logged(log, "build finished")
    (record,) = RunLog(lake).list()
    assert (record.function, record.status) == ("build_aggregates", "failed")
    assert record.error is not None and record.error.startswith("no mapping: import one")
    assert finished["run_id"] == record.run_id and finished["run_recorded"] is True


def test_a_build_refused_before_it_recorded_a_run_says_it_has_none(lake: Lake, tmp_path: Path) -> None:
    """An event asking for a mode no build has: the build is refused before it starts a run, the run log holds none,
    and the line says so (its run_id left out, as the log leaves out a null) rather than leave an operator looking for
    a run id it forgot."""
    write_estate(lake)
    log = tmp_path / "function.log"
    with function_output_to(log), pytest.raises(ValueError, match="weekly"):
        handler({"mode": "weekly"}, LambdaContext())
    (finished,) = logged(log, "build finished")
    assert RunLog(lake).list() == []
    assert finished["run_recorded"] is False and "run_id" not in finished
