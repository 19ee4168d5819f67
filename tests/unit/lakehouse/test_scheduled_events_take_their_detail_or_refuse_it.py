"""An EventBridge event carries what it asks for in its `detail`: an operator's event asking for a window, a backfill,
some datasets or a full build is run as asked, and one whose detail holds a key the function does not take (a
misspelt "backfil_days", "mood") is refused naming it. Each used to run as a plain schedule: an ingestion since the
watermark, an hourly build as of now. A window with a misspelt end ("untill", "to") ran to now, weeks instead of the
day asked, and a backfill given a window dropped the window: each is refused, and nothing runs."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from functions.build_aggregates.handler import handler as build_handler
from functions.ingest_dynatrace.handler import handler as dynatrace_handler
from lakehouse.errors import RosettaError
from lakehouse.ingest import lambda_entry
from lakehouse.ingest.run import DatasetOutcome, RunOutcome
from lakehouse.ingest.window import Window
from lakehouse.runlog import RunRecord
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.lambda_context import LambdaContext
from tests.unit.aggregates.estate import write_estate

BUILD_EVENTS = Path(__file__).resolve().parents[3] / "functions" / "build_aggregates" / "events"
CONTEXT = LambdaContext(function_name="ingest_dynatrace")
# An event an operator puts on the bus (aws events put-events), as the rule in front of the function delivers it.
PUT_EVENT = {
    "version": "0",
    "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
    "detail-type": "Rosetta run requested",
    "source": "rosetta.ops",
    "account": "123456789012",
    "time": "2026-11-20T08:00:00Z",
    "region": "eu-west-1",
    "resources": [],
}
# A rule's scheduled event: its detail is empty.
SCHEDULED_EVENT = {
    **PUT_EVENT,
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "resources": ["arn:aws:events:eu-west-1:123456789012:rule/rosetta-ingest-dynatrace"],
    "detail": {},
}
DAY_ASKED = {"since": "2026-11-19T00:00:00Z", "until": "2026-11-20T00:00:00Z"}


def put_event(detail: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {**PUT_EVENT, **top, "detail": detail}


@pytest.fixture(autouse=True)
def lake_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROSETTA_LAKE_URL", str(tmp_path / "lake"))
    monkeypatch.setenv("ROSETTA_DUCKDB_TEMP_DIRECTORY", str(tmp_path / "duckdb"))
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """What the ingestion was asked to run, one entry a run; each run loads its window."""
    asked: list[dict[str, Any]] = []

    def ingest(source: str, lake: Any, settings: Any, *, window: Window | None, **kw: Any) -> RunOutcome:
        asked.append({"run": "ingest", "window": window, "datasets": kw["datasets"]})
        return loaded(window or Window(datetime(2026, 11, 20, 6, tzinfo=UTC), datetime(2026, 11, 20, 8, tzinfo=UTC)))

    def run_backfill(source: str, lake: Any, settings: Any, *, window: Window, **kw: Any) -> list[RunOutcome]:
        asked.append({"run": "backfill", "window": window, "datasets": kw["datasets"]})
        return [loaded(window)]

    monkeypatch.setattr(lambda_entry, "ingest", ingest)
    monkeypatch.setattr(lambda_entry, "run_backfill", run_backfill)
    return asked


def loaded(window: Window) -> RunOutcome:
    dataset = "dynatrace/problems"
    record = RunRecord(
        "r1", "ingest_dynatrace", "dynatrace", dataset, window.since, window.until, window.until, status="succeeded"
    )
    return RunOutcome("dynatrace", window, "schedule", [DatasetOutcome(dataset, record)])


def test_a_window_in_the_detail_is_the_window_read(runs: list[dict[str, Any]]) -> None:
    dynatrace_handler(put_event({"window": DAY_ASKED}), CONTEXT)
    day = Window(datetime(2026, 11, 19, tzinfo=UTC), datetime(2026, 11, 20, tzinfo=UTC))
    assert runs == [{"run": "ingest", "window": day, "datasets": None}]


def test_backfill_days_in_the_detail_run_a_backfill_of_those_days(runs: list[dict[str, Any]]) -> None:
    """Three days back: from the midnight (UTC) three days before today's, up to now; in today's first hour, up to
    its end (the README: a backfill leaves out today until its first hour has ended), which lies after now."""
    before = datetime.now(UTC)
    summary = dynatrace_handler(put_event({"backfill_days": 3}), CONTEXT)
    after = datetime.now(UTC)
    [run] = runs
    assert run["run"] == "backfill" and summary["trigger"] == "backfill"
    three_days_back = {datetime.combine(d.date(), time(), UTC) - timedelta(days=3) for d in (before, after)}
    assert run["window"].since in three_days_back

    def end_at(moment: datetime) -> datetime:
        return max(moment, datetime.combine(moment.date(), time(1), UTC))

    # The end grows with the moment the run began, which lies between before and after.
    assert end_at(before) <= run["window"].until <= end_at(after)


def test_datasets_in_the_detail_are_the_datasets_read(runs: list[dict[str, Any]]) -> None:
    dynatrace_handler(put_event({"datasets": ["dynatrace/problems"]}), CONTEXT)
    assert runs == [{"run": "ingest", "window": None, "datasets": ["dynatrace/problems"]}]


def test_a_scheduled_event_with_its_empty_detail_reads_since_the_watermark(runs: list[dict[str, Any]]) -> None:
    dynatrace_handler(SCHEDULED_EVENT, CONTEXT)
    assert runs == [{"run": "ingest", "window": None, "datasets": None}]


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (
            put_event({"backfil_days": 3}),
            "the event's detail has no key 'backfil_days': it takes window, backfill_days, datasets, trigger, "
            'e.g. {} or {"backfill_days": 3}',
        ),
        (
            put_event({"datasets": ["dynatrace/problems"]}, datasets=["dynatrace/metrics"]),
            "the event gives 'datasets' both at its top level and in its detail: give each once",
        ),
    ],
    ids=["misspelt", "given twice"],
)
def test_a_detail_the_ingestion_does_not_take_is_refused_naming_the_key(
    event: dict[str, Any], reason: str, runs: list[dict[str, Any]]
) -> None:
    with pytest.raises(ValueError) as refused:
        dynatrace_handler(event, CONTEXT)
    assert str(refused.value) == reason
    assert runs == []


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (
            {"window": {"since": "2026-11-19T00:00:00Z", "untill": "2026-11-20T00:00:00Z"}},
            """event "window" has no key 'untill': it takes "since" and "until", as ISO 8601""",
        ),
        (
            put_event({"window": {"since": "2026-11-19T00:00:00Z", "to": "2026-11-20T00:00:00Z"}}),
            """event "window" has no key 'to': it takes "since" and "until", as ISO 8601""",
        ),
        (
            {"backfill_days": 2, "window": DAY_ASKED},
            'give "backfill_days" or "window", not both: a backfill reads the last days and today',
        ),
    ],
    ids=["untill", "to in the detail", "backfill and window"],
)
def test_a_window_misspelt_or_given_with_a_backfill_is_refused(
    event: dict[str, Any], reason: str, runs: list[dict[str, Any]]
) -> None:
    with pytest.raises(RosettaError) as refused:
        dynatrace_handler(event, CONTEXT)
    assert str(refused.value) == reason
    assert runs == []


@pytest.mark.parametrize(
    ("detail", "reason"),
    [
        ({"mode": "dialy"}, "mode must be one of hourly, daily, full, not 'dialy'"),
        (
            {"mood": "full"},
            """the event's detail has no key 'mood': it takes mode, as_of, trigger, e.g. {"mode": "hourly"}""",
        ),
    ],
    ids=["dialy", "mood"],
)
def test_a_build_detail_it_cannot_run_is_refused_before_anything_is_read(
    detail: dict[str, Any], reason: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Settings that cannot be read: the event must be refused before they are, not run as an hourly build.
    monkeypatch.setenv("ROSETTA_DUCKDB_THREADS", "many")
    with pytest.raises(ValueError) as refused:
        build_handler(put_event(detail), LambdaContext())
    assert str(refused.value) == reason


def test_a_full_build_asked_in_the_detail_is_a_full_build_as_of_the_instant_asked() -> None:
    """After a daily build as of the 20th at 10:00, an operator asks for a full rebuild as of that same instant: it
    is a full build because it was asked for, not an hourly one as of the moment the event came."""
    lake = Lake.from_settings(Settings())
    write_estate(lake)
    build_handler(json.loads((BUILD_EVENTS / "daily.json").read_text()), LambdaContext())
    summary = build_handler(put_event({"mode": "full", "as_of": "2026-11-20T10:00:00+00:00"}), LambdaContext())
    assert (summary["mode"], summary["full_because"]) == ("full", "asked for")
    assert summary["as_of"] == "2026-11-20T10:00:00+00:00"
