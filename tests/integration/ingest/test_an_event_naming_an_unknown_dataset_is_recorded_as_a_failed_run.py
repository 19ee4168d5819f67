"""An ingestion event naming a dataset its source does not ingest (a misspelt name, another source's table) failed
the invocation, so the failed-runs alarm fired, while the run log, the admin API's batch runs and the sources' last
run status showed nothing. It is now a run that cannot start: one failed record for the source, naming the datasets
it does not ingest and those it does; the invocation still fails, and its `ingestion finished` line names the record."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from functions.ingest_servicenow import handler as servicenow_handler
from lakehouse.errors import RosettaError
from lakehouse.runlog import RunLog
from lakehouse.scheduler import function_output_to
from lakehouse.schemas import get_dataset
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.lambda_context import LambdaContext

from .conftest import lake_env, scheduled_event

# ServiceNow's datasets, written out by hand.
SERVICENOW_DATASETS = (
    "servicenow/incidents",
    "servicenow/changes",
    "servicenow/problems",
    "servicenow/task_slas",
    "servicenow/cmdb_ci",
)
# One known, one misspelt, one named after ServiceNow's own table rather than the dataset.
ASKED = ["servicenow/incidents", "servicenow/incident", "servicenow/change_request"]
UNKNOWN = ("servicenow/incident", "servicenow/change_request")
WINDOW = {"since": "2026-11-20T08:00:00+00:00", "until": "2026-11-20T10:00:00+00:00"}


@pytest.fixture(autouse=True)
def function_environment(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """The function's environment on a lake (a folder, or the local S3 server), without ServiceNow's settings: the
    run must stop on the datasets, before it needs them."""
    for key, value in lake_env(settings).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    for name in ("ROSETTA_SERVICENOW_URL", "ROSETTA_SERVICENOW_USER", "ROSETTA_SERVICENOW_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("ROSETTA_SERVICENOW_PASSWORD_SECRET_ARN", raising=False)


def invoke_failing(event: dict[str, Any], log: Path) -> str:
    """The handler's error, which fails the invocation as Lambda sees it."""
    with function_output_to(log), pytest.raises(RosettaError) as failed:
        servicenow_handler.handler(event, LambdaContext(function_name="ingest_servicenow"))
    return str(failed.value)


def finished_line(log: Path) -> dict[str, Any]:
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith('{"level"')]
    (finished,) = [line for line in lines if line["message"] == "ingestion finished"]
    return finished


@pytest.mark.parametrize(
    ("event", "trigger"),
    [
        ({**scheduled_event(servicenow_handler.__file__, WINDOW), "datasets": ASKED}, "schedule"),
        ({"backfill_days": 2, "datasets": ASKED}, "backfill"),
    ],
    ids=["scheduled", "backfill"],
)
def test_an_event_naming_an_unknown_dataset_is_one_failed_run_naming_it(
    event: dict[str, Any], trigger: str, settings: Settings, tmp_path: Path
) -> None:
    log = tmp_path / "function.log"
    error = invoke_failing(event, log)
    assert all(repr(name) in error for name in UNKNOWN), error

    lake = Lake.from_settings(settings)
    (record,) = RunLog(lake).list()
    assert (record.function, record.source, record.dataset, record.status, record.trigger) == (
        "ingest_servicenow",
        "servicenow",
        None,
        "failed",
        trigger,
    )
    assert record.error is not None
    said, _, known = record.error.partition("; it ingests ")
    assert all(repr(name) in said for name in UNKNOWN), record.error
    assert repr("servicenow/incidents") not in said, "a dataset it ingests is named as one it does not"
    assert sorted(known.split(", ")) == sorted(SERVICENOW_DATASETS), record.error

    finished = finished_line(log)
    assert (finished["status"], finished["run_ids"]) == ("failed", [record.run_id])
    # Nothing was read: not even the dataset the event named rightly.
    assert lake.list_partitions(get_dataset("servicenow/incidents")) == []
