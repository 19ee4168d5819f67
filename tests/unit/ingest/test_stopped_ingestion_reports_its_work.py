"""An ingestion stopped before Lambda's timeout (functions.deadline) did work all the same: the datasets that ended
wrote their rows and set records aside, and moved their watermarks, so the next run may never meet those records
again. An SRE checks that the stopped invocation's metrics still count that work (the rejects alarm reads `Rejects`),
and claim no lag for a window it did not load."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from functions.deadline import STOP_BEFORE_TIMEOUT_S
from functions.ingest_dynatrace import handler as dynatrace_handler
from functions.ingest_dynatrace import source as dynatrace_source
from functions.ingest_dynatrace.parse import METRICS_DATASET, PROBLEMS_DATASET
from lakehouse.errors import RosettaError
from lakehouse.ingest.records import ParseResult, Reject
from lakehouse.ingest.run import Page, SourcePlan, Stream
from lakehouse.runlog import RunLog
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.lambda_context import LambdaContext

WINDOW = {"since": "2026-11-20T08:00:00+00:00", "until": "2026-11-20T10:00:00+00:00"}
# Problems the source sends without the fields the parser needs: each one is set aside.
UNREADABLE_PROBLEMS = [{"title": "disk full"}, {"title": "latency"}]
# The invocation is stopped this long after it starts: the problems stream has ended by then.
STOPPED_AFTER_S = 2


def problems_set_aside(body: Any, context: Mapping[str, Any]) -> ParseResult:
    return ParseResult(rejects=[Reject(PROBLEMS_DATASET, "no problemId", raw) for raw in body["problems"]])


def no_rows(body: Any, context: Mapping[str, Any]) -> ParseResult:
    return ParseResult()


def metrics_never_answering() -> Iterator[Page]:
    time.sleep(60)  # the stop lands here, long before
    yield from ()


def problems_then_a_source_that_never_answers(unreadable: list[dict[str, str]]) -> Callable[..., SourcePlan]:
    """Dynatrace's plan: one page of problems, `unreadable` all of them, then metrics from a source never answering."""

    def problems_page() -> Iterator[Page]:
        yield Page(PROBLEMS_DATASET, {"problems": unreadable})

    def plan(settings: Any, lake: Lake, window: Any, datasets: Any) -> SourcePlan:
        return SourcePlan(
            "dynatrace",
            "ingest_dynatrace",
            [
                Stream("problems", (PROBLEMS_DATASET,), problems_page, {PROBLEMS_DATASET: problems_set_aside}),
                Stream("metrics", (METRICS_DATASET,), metrics_never_answering, {METRICS_DATASET: no_rows}),
            ],
        )

    return plan


def emitted(output: str) -> dict[str, float]:
    """The metrics of the EMF lines in `output`, by name (Powertools writes a metric's values as a list)."""
    found: dict[str, float] = {}
    for line in output.splitlines():
        record = json.loads(line) if line.startswith("{") else {}
        for directive in record.get("_aws", {}).get("CloudWatchMetrics", []):
            for metric in directive["Metrics"]:
                value = record[metric["Name"]]
                found[metric["Name"]] = sum(value) if isinstance(value, list) else value
    return found


def stopped_invocation(unreadable: list[dict[str, str]], monkeypatch: pytest.MonkeyPatch) -> None:
    """The Dynatrace handler invoked with the stop STOPPED_AFTER_S in: it fails as a timeout would."""
    monkeypatch.setattr(dynatrace_source, "build_plan", problems_then_a_source_that_never_answers(unreadable))
    event = {"window": WINDOW, "datasets": [PROBLEMS_DATASET, METRICS_DATASET]}
    left_ms = (STOP_BEFORE_TIMEOUT_S + STOPPED_AFTER_S) * 1000
    with pytest.raises(RosettaError, match="before the Lambda timeout"):
        dynatrace_handler.handler(event, LambdaContext(function_name="ingest_dynatrace", remaining_ms=left_ms))


@pytest.fixture(autouse=True)
def function_environment(local_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROSETTA_LAKE_URL", local_settings.lake_url)
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")


def test_a_stopped_ingestion_reports_the_records_it_set_aside(
    local_settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Dynatrace's problems stream sets its 2 unreadable problems aside and ends; the metrics stream then waits on a
    source that never answers until the stop, 2 s in. By hand: Rejects 2, FailedDatasets 1 (the metrics, ended by
    the stop), RowsWritten 0, Pages 1, and no LagSeconds."""
    capsys.readouterr()
    started = datetime.now(UTC)
    stopped_invocation(UNREADABLE_PROBLEMS, monkeypatch)

    metrics = emitted(capsys.readouterr().out)
    assert metrics.get("Rejects") == len(UNREADABLE_PROBLEMS)
    assert metrics.get("FailedDatasets") == 1
    assert metrics.get("RowsWritten") == 0
    assert metrics.get("Pages") == 1
    assert "LagSeconds" not in metrics
    # What the metrics count is what the run log says: the problems ended partial, the metrics failed on the stop.
    records = RunLog(Lake.from_settings(local_settings)).list(since=started.date(), limit=10)
    assert {(r.dataset, r.status, r.rows_rejected) for r in records} == {
        (PROBLEMS_DATASET, "partial", len(UNREADABLE_PROBLEMS)),
        (METRICS_DATASET, "failed", 0),
    }


def test_a_stopped_ingestion_without_rejects_leaves_the_rejects_alarm_as_it_was(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same stop after a page with no problem to set aside: no Rejects point (a 0 would turn the alarm OK, while
    the dataset the run never read may hold records to set aside), but the stopped dataset counts: FailedDatasets 1."""
    capsys.readouterr()
    stopped_invocation([], monkeypatch)

    metrics = emitted(capsys.readouterr().out)
    assert "Rejects" not in metrics
    assert metrics.get("FailedDatasets") == 1
