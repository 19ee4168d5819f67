"""The `ingestion finished` line of an invocation that was stopped before Lambda's timeout, or whose run could not
start, names the run log's records it wrote (`run_ids`), as the line of a run that ended does: an operator reading
the function's log goes from that line to `runs/`. It said only the source, the status, the error and the duration."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from functions.deadline import STOP_BEFORE_TIMEOUT_S
from functions.ingest_dynatrace import handler as dynatrace_handler
from functions.ingest_dynatrace import source as dynatrace_source
from functions.ingest_dynatrace.parse import METRICS_DATASET, PROBLEMS_DATASET
from lakehouse.errors import RosettaError
from lakehouse.ingest.records import ParseResult, Reject
from lakehouse.ingest.run import Page, SourcePlan, Stream
from lakehouse.runlog import RunLog, RunRecord
from lakehouse.scheduler import function_output_to
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.lambda_context import LambdaContext

WINDOW = {"since": "2026-11-20T08:00:00+00:00", "until": "2026-11-20T10:00:00+00:00"}
# Problems without the fields the parser needs: each is set aside.
UNREADABLE_PROBLEMS = [{"title": "disk full"}, {"title": "latency"}]
STOPPED_AFTER_S = 2


def problems_then_a_source_that_never_answers(settings: Any, lake: Lake, window: Any, datasets: Any) -> SourcePlan:
    """Dynatrace's plan: a page of 2 unreadable problems, then metrics from a source that never answers."""

    def problems_page() -> Iterator[Page]:
        yield Page(PROBLEMS_DATASET, {"problems": UNREADABLE_PROBLEMS})

    def set_aside(body: Any, context: Mapping[str, Any]) -> ParseResult:
        return ParseResult(rejects=[Reject(PROBLEMS_DATASET, "no problemId", raw) for raw in body["problems"]])

    def metrics_never_answering() -> Iterator[Page]:
        time.sleep(60)  # the stop lands here, long before
        yield from ()

    return SourcePlan(
        "dynatrace",
        "ingest_dynatrace",
        [
            Stream("problems", (PROBLEMS_DATASET,), problems_page, {PROBLEMS_DATASET: set_aside}),
            Stream(
                "metrics", (METRICS_DATASET,), metrics_never_answering, {METRICS_DATASET: lambda b, c: ParseResult()}
            ),
        ],
    )


@pytest.fixture(autouse=True)
def function_environment(local_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROSETTA_LAKE_URL", local_settings.lake_url)
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    for name in ("ROSETTA_DYNATRACE_URL", "ROSETTA_DYNATRACE_TOKEN", "ROSETTA_DYNATRACE_TOKEN_SECRET_ARN"):
        monkeypatch.delenv(name, raising=False)


def finished_line(log: Path) -> dict[str, Any]:
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith('{"level"')]
    (finished,) = [line for line in lines if line["message"] == "ingestion finished"]
    return finished


def invoke_dynatrace(event: dict[str, Any], log: Path, remaining_ms: int = 900_000) -> None:
    with function_output_to(log), pytest.raises(RosettaError):
        dynatrace_handler.handler(event, LambdaContext(function_name="ingest_dynatrace", remaining_ms=remaining_ms))


def records(settings: Settings) -> list[RunRecord]:
    return RunLog(Lake.from_settings(settings)).list()


def test_a_run_stopped_before_the_timeout_logs_the_records_it_wrote(
    local_settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Stopped 2 s in: the problems ended partial with 2 rejects, the metrics failed on the stop. By hand: 2 run
    ids, those of the run log; 2 rows rejected; 1 failed dataset, the metrics, saying it was stopped."""
    monkeypatch.setattr(dynatrace_source, "build_plan", problems_then_a_source_that_never_answers)
    log = tmp_path / "function.log"
    event = {"window": WINDOW, "datasets": [PROBLEMS_DATASET, METRICS_DATASET]}
    invoke_dynatrace(event, log, remaining_ms=(STOP_BEFORE_TIMEOUT_S + STOPPED_AFTER_S) * 1000)

    finished = finished_line(log)
    assert (finished["level"], finished["status"]) == ("ERROR", "failed")
    assert finished["error"] == "stopped (LambdaTimeout)"
    written = records(local_settings)
    assert len(written) == 2
    assert sorted(finished["run_ids"]) == sorted(r.run_id for r in written)
    assert (finished["rows_rejected"], finished["failed_datasets"]) == (2, 1)
    assert finished["errors"] == {METRICS_DATASET: "stopped (LambdaTimeout)"}


def test_a_run_that_could_not_start_logs_the_record_saying_why(local_settings: Settings, tmp_path: Path) -> None:
    """No Dynatrace URL nor token: one failed record for the source, without a dataset; the line names it."""
    log = tmp_path / "function.log"
    invoke_dynatrace({"window": WINDOW}, log)

    (record,) = records(local_settings)
    assert (record.source, record.dataset, record.status) == ("dynatrace", None, "failed")
    finished = finished_line(log)
    assert finished["run_ids"] == [record.run_id]
    assert finished["error"].startswith("missing settings: ROSETTA_DYNATRACE_URL")


def test_a_backfill_that_could_not_start_logs_the_record_saying_why(local_settings: Settings, tmp_path: Path) -> None:
    log = tmp_path / "function.log"
    invoke_dynatrace({"backfill_days": 1}, log)

    (record,) = records(local_settings)
    assert (record.trigger, record.dataset, record.status) == ("backfill", None, "failed")
    assert finished_line(log)["run_ids"] == [record.run_id]


@pytest.mark.usefixtures("fake_aws_credentials")
def test_a_secret_that_cannot_be_read_logs_the_record_saying_why(
    local_settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The token's secret exists without a value yet: the run cannot start, and both its record and the line say
    what Secrets Manager answered."""
    log = tmp_path / "function.log"
    with mock_aws():
        arn = boto3.client("secretsmanager").create_secret(Name="rosetta/prod/dynatrace_token")["ARN"]
        monkeypatch.setenv("ROSETTA_DYNATRACE_URL", "https://abc123.live.dynatrace.com")
        monkeypatch.setenv("ROSETTA_DYNATRACE_TOKEN_SECRET_ARN", arn)
        invoke_dynatrace({"window": WINDOW}, log)

    (record,) = records(local_settings)
    said = "cannot read dynatrace_token from Secrets Manager: ResourceNotFoundException"
    assert record.error == said
    finished = finished_line(log)
    assert (finished["run_ids"], finished["error"]) == ([record.run_id], said)
