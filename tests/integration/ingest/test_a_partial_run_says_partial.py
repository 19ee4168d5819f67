"""A run that set records aside is `partial` in the run log and in its `ingestion finished` line; the summary the
handler returns and `rosetta-monitoring ingest` prints said `succeeded` all the same. Each now says `partial`, and a
run with a failed dataset still says `failed`."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest

from functions.ingest_dynatrace import handler as dynatrace_handler
from functions.ingest_dynatrace import source as dynatrace_source
from functions.ingest_dynatrace.parse import METRICS_DATASET, PROBLEMS_DATASET
from lakehouse.cli import main
from lakehouse.ingest.records import ParseResult, Reject
from lakehouse.ingest.run import Page, SourcePlan, Stream
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.lambda_context import LambdaContext

SINCE, UNTIL = "2026-11-20T08:00:00+00:00", "2026-11-20T10:00:00+00:00"
DATASETS = [PROBLEMS_DATASET, METRICS_DATASET]


def problems_page() -> Iterator[Page]:
    yield Page(PROBLEMS_DATASET, {"problems": [{"title": "disk full"}]})


def set_aside(body: Any, context: Mapping[str, Any]) -> ParseResult:
    return ParseResult(rejects=[Reject(PROBLEMS_DATASET, "no problemId", raw) for raw in body["problems"]])


def no_metrics() -> Iterator[Page]:
    yield from ()


def metrics_down() -> Iterator[Page]:
    raise ConnectionError("Dynatrace did not answer")
    yield  # a generator, as a stream's pages are


def plan_with(metrics: Callable[[], Iterator[Page]]) -> Callable[..., SourcePlan]:
    """Dynatrace's plan: one problem it cannot read (set aside: the problems end partial), then the metrics."""

    def plan(settings: Any, lake: Lake, window: Any, datasets: Any) -> SourcePlan:
        return SourcePlan(
            "dynatrace",
            "ingest_dynatrace",
            [
                Stream("problems", (PROBLEMS_DATASET,), problems_page, {PROBLEMS_DATASET: set_aside}),
                Stream("metrics", (METRICS_DATASET,), metrics, {METRICS_DATASET: lambda b, c: ParseResult()}),
            ],
        )

    return plan


@pytest.fixture(autouse=True)
def function_environment(local_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    Lake.from_settings(local_settings)  # the folder, as a lake the command line is pointed at exists
    monkeypatch.setenv("ROSETTA_LAKE_URL", local_settings.lake_url)
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")


def cli_ingest(capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    """`rosetta-monitoring ingest dynatrace` over the window: its exit code and the summary it prints."""
    capsys.readouterr()
    words = ["ingest", "dynatrace", "--since", SINCE, "--until", UNTIL]
    code = main(words + [f"--dataset={d}" for d in DATASETS])
    (line,) = capsys.readouterr().out.splitlines()
    return code, json.loads(line)


def test_the_handler_says_partial_when_a_dataset_set_records_aside(monkeypatch: pytest.MonkeyPatch) -> None:
    """Problems partial (1 reject), metrics succeeded (nothing to read): the run is partial."""
    monkeypatch.setattr(dynatrace_source, "build_plan", plan_with(no_metrics))
    event = {"window": {"since": SINCE, "until": UNTIL}, "datasets": DATASETS}
    summary = dynatrace_handler.handler(event, LambdaContext(function_name="ingest_dynatrace"))
    (run,) = summary["runs"]
    assert {name: d["status"] for name, d in run["datasets"].items()} == {
        PROBLEMS_DATASET: "partial",
        METRICS_DATASET: "succeeded",
    }
    assert run["status"] == "partial"


def test_the_ingest_command_prints_partial_and_exits_3(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(dynatrace_source, "build_plan", plan_with(no_metrics))
    code, summary = cli_ingest(capsys)
    assert (code, summary["status"], summary["datasets"][PROBLEMS_DATASET]["rows_rejected"]) == (3, "partial", 1)


def test_a_run_with_a_failed_dataset_says_failed_though_another_is_partial(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(dynatrace_source, "build_plan", plan_with(metrics_down))
    code, summary = cli_ingest(capsys)
    assert {name: d["status"] for name, d in summary["datasets"].items()} == {
        PROBLEMS_DATASET: "partial",
        METRICS_DATASET: "failed",
    }
    assert (code, summary["status"]) == (1, "failed")
