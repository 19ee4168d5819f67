"""What an ingestion handler reports to CloudWatch after a run: the data-lag alarm reads LagSeconds."""

from __future__ import annotations

import importlib
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from lakehouse.errors import RosettaError
from lakehouse.ingest import lambda_entry
from lakehouse.ingest.run import DatasetOutcome, IngestionFailed, RunOutcome
from lakehouse.ingest.window import Window
from lakehouse.runlog import RunRecord
from tests.lambda_context import LambdaContext

NOW = datetime(2026, 11, 20, 10, 5, tzinfo=UTC)


class RecordedMetrics:
    def __init__(self) -> None:
        self.values: dict[str, float] = {}

    def add_metric(self, name: str, unit: Any, value: float) -> None:
        self.values[name] = value


class QuietLogger:
    def set_correlation_id(self, value: str) -> None: ...

    def info(self, *args: Any, **kwargs: Any) -> None: ...

    def warning(self, *args: Any, **kwargs: Any) -> None: ...

    def error(self, *args: Any, **kwargs: Any) -> None: ...


def run_ending(status: str, since: datetime, until: datetime) -> RunOutcome:
    record = RunRecord("r1", "ingest_dynatrace", "dynatrace", "dynatrace/problems", since, until, NOW, status=status)  # type: ignore[arg-type]
    return RunOutcome("dynatrace", Window(since, until), "schedule", [DatasetOutcome("dynatrace/problems", record)])


@pytest.fixture(autouse=True)
def lake_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROSETTA_LAKE_URL", str(tmp_path / "lake"))


def test_a_run_that_loaded_its_window_reports_its_lag(monkeypatch: pytest.MonkeyPatch) -> None:
    """A run loading 07:00-09:00 at 10:05 is 65 minutes behind: LagSeconds = 65 x 60 = 3,900."""
    loaded = run_ending("succeeded", NOW - timedelta(hours=3, minutes=5), NOW - timedelta(minutes=65))
    monkeypatch.setattr(lambda_entry, "ingest", lambda *args, **kwargs: loaded)
    metrics = RecordedMetrics()
    lambda_entry.handle_scheduled_event("dynatrace", {}, logger=QuietLogger(), metrics=metrics, now=NOW)  # type: ignore[arg-type]
    assert metrics.values["LagSeconds"] == 3900.0


def test_a_failed_run_reports_no_lag(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dynatrace down: the 08:00-10:00 run fails and loads nothing. Reporting 10:05 - 10:00 = 300 s of lag would
    keep the data-lag alarm quiet for as long as the outage lasts; without a LagSeconds point the alarm (missing
    data is breaching) fires once no run has loaded data for its hours. The failure itself is raised."""
    failed = run_ending("failed", NOW - timedelta(hours=2, minutes=5), NOW - timedelta(minutes=5))
    monkeypatch.setattr(lambda_entry, "ingest", lambda *args, **kwargs: failed)
    metrics = RecordedMetrics()
    with pytest.raises(IngestionFailed):
        lambda_entry.handle_scheduled_event("dynatrace", {}, logger=QuietLogger(), metrics=metrics, now=NOW)  # type: ignore[arg-type]
    assert "LagSeconds" not in metrics.values
    assert metrics.values["FailedDatasets"] == 1


@pytest.mark.parametrize(
    "event",
    [{"datasets": ["dynatrace/problems"]}, {"window": {"since": "2026-11-20T09:00:00Z"}}],
    ids=["some datasets", "a window given"],
)
def test_a_run_of_some_datasets_or_of_a_window_given_reports_no_lag(
    event: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    """One dataset failing every scheduled run keeps the data-lag alarm in ALARM. A run by hand of another dataset
    alone, or of the last hour (the watermark hours behind, the gap before the window unread), loaded its window at
    10:00: its 300 s of lag turned the alarm OK while the failing dataset stayed stale. Neither reports a lag."""
    loaded = run_ending("succeeded", NOW - timedelta(hours=1, minutes=5), NOW - timedelta(minutes=5))
    monkeypatch.setattr(lambda_entry, "ingest", lambda *args, **kwargs: loaded)
    metrics = RecordedMetrics()
    lambda_entry.handle_scheduled_event("dynatrace", event, logger=QuietLogger(), metrics=metrics, now=NOW)  # type: ignore[arg-type]
    assert "LagSeconds" not in metrics.values
    assert metrics.values["FailedDatasets"] == 0


def test_a_backfill_reports_its_lag_only_when_every_day_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    """A backfill of the 19th and today (up to 10:00): loaded whole, it is 300 s behind. With the 19th failed, the
    invocation fails and today's window, loaded, said 300 s all the same: no lag then."""
    day = run_ending("succeeded", datetime(2026, 11, 19, tzinfo=UTC), datetime(2026, 11, 20, tzinfo=UTC))
    today = run_ending("succeeded", datetime(2026, 11, 20, tzinfo=UTC), NOW - timedelta(minutes=5))
    failed_day = run_ending("failed", datetime(2026, 11, 19, tzinfo=UTC), datetime(2026, 11, 20, tzinfo=UTC))
    for days, lag in (([day, today], {"LagSeconds": 300.0}), ([failed_day, today], {})):
        monkeypatch.setattr(lambda_entry, "run_backfill", lambda *args, days=days, **kwargs: days)
        metrics = RecordedMetrics()
        try:
            lambda_entry.handle_scheduled_event(
                "dynatrace",
                {"backfill_days": 1},
                logger=QuietLogger(),  # type: ignore[arg-type]
                metrics=metrics,  # type: ignore[arg-type]
                now=NOW,
            )
        except IngestionFailed:
            assert days[0] is failed_day
        assert {k: v for k, v in metrics.values.items() if k == "LagSeconds"} == lag


def assert_refused_before_anything_runs(
    event: dict[str, object], reason: str, work: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The event is refused with an error matching `reason`, and `work` (the ingestion or the backfill) never runs."""
    ran: list[object] = []
    monkeypatch.setattr(lambda_entry, work, lambda *args, **kwargs: ran.append(args) or [])
    with pytest.raises(RosettaError, match=reason):
        lambda_entry.handle_scheduled_event(
            "dynatrace",
            event,
            logger=QuietLogger(),  # type: ignore[arg-type]
            metrics=RecordedMetrics(),  # type: ignore[arg-type]
            now=NOW,
        )
    assert ran == []


@pytest.mark.parametrize("days", ["a week", 2.5, True, [3]])
def test_backfill_days_that_are_no_whole_number_are_refused_naming_the_field(
    days: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "a week" ended in int()'s ValueError (invalid literal for int() with base 10), [3] in a TypeError, and 2.5 or
    true were read as 2 or 1 days, another backfill than the one asked for. Each is refused, naming the field, before
    anything runs."""
    assert_refused_before_anything_runs(
        {"backfill_days": days},
        r"^backfill_days must be a whole number of days, 1 or more, not ",
        "run_backfill",
        monkeypatch,
    )


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        ({"backfill_days": 0}, r"^backfill_days must be a whole number of days, 1 or more, not 0$"),
        ({"backfill_days": False}, r"^backfill_days must be a whole number of days, 1 or more, not False$"),
        ({"window": {}}, r'^event "window" needs "since"'),
    ],
)
def test_an_event_asking_for_no_days_or_no_window_is_refused(
    event: dict[str, object], reason: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A backfill of 0 days, or a window without its bounds, was read as no backfill and no window at all: the handler
    ran a scheduled ingestion since the watermark instead, moved the watermarks and answered as if it had done what
    was asked. Each is refused, naming the field, as `backfill --days 0` is on the command line, and nothing runs."""
    assert_refused_before_anything_runs(event, reason, "ingest", monkeypatch)
    assert_refused_before_anything_runs(event, reason, "run_backfill", monkeypatch)


@pytest.mark.parametrize("since", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:00:00-05:00"])
def test_a_window_whose_instant_no_utc_date_holds_is_refused(since: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Midnight of the year 1 at +05:00 is the year 0 in UTC, which no date holds: the move to UTC ended in an
    OverflowError. It is refused with the instant named, before anything runs."""
    assert_refused_before_anything_runs(
        {"window": {"since": since}},
        f"^{re.escape(repr(since))} falls outside the years 1 to 9999 in UTC",
        "ingest",
        monkeypatch,
    )


@pytest.mark.parametrize(
    ("since", "until"),
    [("9999-12-31T23:00:00Z", "9999-12-31T23:59:59Z"), ("0001-01-01T00:00:00Z", "0001-01-02T00:00:00Z")],
)
def test_a_window_at_the_calendars_end_is_refused_naming_it(
    since: str, until: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last hour of 9999 is a date, but the hour after it, which the run aligns its window to, is none: the run
    ended in an OverflowError ("date value out of range") without a run record. It is refused, the window named,
    before anything runs; the first day of the year 1 likewise, whose hours before are none."""
    assert_refused_before_anything_runs(
        {"window": {"since": since, "until": until}},
        r"^window \S+ falls outside the years 2 to 9998$",
        "ingest",
        monkeypatch,
    )


@pytest.mark.parametrize("datasets", ["dynatrace/problems", 5, {"dynatrace/problems": True}])
def test_datasets_that_are_no_list_of_names_are_refused(datasets: object, monkeypatch: pytest.MonkeyPatch) -> None:
    """One name not in a list was read letter by letter ("dynatrace does not ingest 'd'"), a number ended in a
    TypeError (not iterable) and an object was read as its keys. Each is refused, naming the field."""
    assert_refused_before_anything_runs(
        {"datasets": datasets}, r"^datasets must be a list of dataset names, not ", "ingest", monkeypatch
    )


@pytest.mark.parametrize("function", ["ingest_dynatrace", "ingest_servicenow", "ingest_deploys", "ingest_logs"])
@pytest.mark.parametrize(("event", "kind"), [(["dynatrace/problems"], "an array"), ("{}", "a string"), (None, "null")])
def test_an_event_that_is_no_json_object_is_refused_before_anything_is_read(
    function: str, event: object, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A list of datasets sent as the whole event, or the event's JSON sent as a string, ended in an AttributeError
    ('list' object has no attribute 'get') after the lake and the source settings had been read; null ran a whole
    ingestion as {} does. Each is refused naming the object expected, before the settings are read: these cannot be
    read, and the error is still the event's."""
    monkeypatch.setenv("ROSETTA_DUCKDB_THREADS", "many")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    ran: list[object] = []
    monkeypatch.setattr(lambda_entry, "ingest", lambda *args, **kwargs: ran.append(args))
    handler = importlib.import_module(f"functions.{function}.handler").handler
    expected = f'the event must be a JSON object, e.g. {{}} or {{"backfill_days": 3}}, not {kind}'
    with pytest.raises(ValueError, match=f"^{re.escape(expected)}$"):
        handler(event, LambdaContext(function_name=function))
    assert ran == []
