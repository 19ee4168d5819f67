"""What every ingestion handler does once its Powertools decorators are in place: read the event, run, report."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from lakehouse.errors import RosettaError
from lakehouse.ingest.config import IngestSettings
from lakehouse.ingest.run import IngestionFailed, RunOutcome
from lakehouse.ingest.sources import ingest, recorded_if_not_started, run_backfill
from lakehouse.ingest.window import backfill_window, window_from_event
from lakehouse.lambda_event import event_object
from lakehouse.runlog import describe_error, new_run_id, took, trigger_of
from lakehouse.settings import Settings
from lakehouse.storage import Lake


def handle_scheduled_event(
    source: str, event: object, *, logger: Logger, metrics: Metrics, now: datetime | None = None
) -> dict[str, Any]:
    """Run the source for the event's window, its backfill days, or since the watermark; raise if any dataset failed.

    Event: {"window": {"since": ISO, "until": ISO}} | {"backfill_days": N} | {} ; optional "datasets": [...] and
    "trigger" (who asked: the API's batch trigger sends "api:<id>" and finds its runs in the run log by it). An
    EventBridge event carries them in its detail.
    """
    event = event_object(event, '{} or {"backfill_days": 3}', ("window", "backfill_days", "datasets", "trigger"))
    moment = now or datetime.now(UTC)
    invocation = new_run_id(moment)
    logger.set_correlation_id(invocation)
    started = time.monotonic()
    logger.info("ingestion started", extra=_asked(source, event))
    begun: list[RunOutcome] = []  # each run as it starts, its datasets added as they start
    not_started: list[str] = []  # the run id of the record of a run that could not start
    try:
        outcomes, trigger = _run(source, event, moment, logger, begun, not_started)
    except BaseException as exc:
        # A run that cannot start, stops on an error no dataset caught, or is stopped before Lambda's timeout
        # (functions.deadline): the end line says so all the same, with the records written before, and the
        # metrics count what was done.
        _emit_stopped(metrics, begun)
        line = {
            "source": source,
            "trigger": _asked(source, event)["trigger"],
            "status": "failed",
            "error": describe_error(exc),
            **_done(begun, not_started),
            **took(started),
        }
        logger.error("ingestion finished", extra=line)
        raise
    _emit(metrics, outcomes, moment, whole=_reads_every_dataset_up_to_now(event))
    summary = {
        "invocation": invocation,
        "source": source,
        "trigger": trigger,
        "runs": [o.summary() for o in outcomes],
    }
    _log_end(logger, source, trigger, outcomes, started)
    failed = [o for o in outcomes if o.failed]
    if failed:
        raise IngestionFailed(failed[0])
    return summary


def _run(
    source: str,
    event: dict[str, Any],
    moment: datetime,
    logger: Logger,
    begun: list[RunOutcome],
    not_started: list[str],
) -> tuple[list[RunOutcome], str]:
    """The runs the event asks for, and what started them; `begun` gets each run as it starts, `not_started` the run
    id of the record of a run that could not start."""
    _one_window(event)
    # Built here, never at import: a warm container must see configuration changes.
    lake = Lake.from_settings(Settings())
    datasets = _datasets(event.get("datasets"))
    # Given is given, whatever its value: a backfill of 0 days is refused, not read as a run since the watermark.
    # The windows come before the secrets (a bad one refused first), so that a run that cannot start is recorded
    # with the window it was asked for, a backfill as one.
    days = event.get("backfill_days")
    backfill = None if days is None else backfill_window(_backfill_days(days), moment)
    window = window_from_event(event)
    trigger = "backfill" if backfill is not None else trigger_of(event)
    # A secret that cannot be read: the run log says so, as for any run that cannot start.
    with recorded_if_not_started(source, lake, window=backfill or window, trigger=trigger, not_started=not_started):
        settings = IngestSettings().resolved()
    if backfill is not None:
        outcomes = run_backfill(
            source,
            lake,
            settings,
            window=backfill,
            datasets=datasets,
            now=moment,
            logger=logger,
            progress=begun,
            not_started=not_started,
        )
    else:
        outcomes = [
            ingest(
                source,
                lake,
                settings,
                window=window,
                datasets=datasets,
                trigger=trigger,
                now=moment,
                logger=logger,
                progress=begun,
                not_started=not_started,
            )
        ]
    return outcomes, trigger


def _asked(source: str, event: dict[str, Any]) -> dict[str, Any]:
    """What the start line says: the source and what the event asked (no window: since the watermarks)."""
    return {
        "source": source,
        "trigger": "backfill" if event.get("backfill_days") is not None else trigger_of(event),
        "window": event.get("window"),
        "backfill_days": event.get("backfill_days"),
        "datasets": event.get("datasets"),
    }


def _log_end(logger: Logger, source: str, trigger: str, outcomes: list[RunOutcome], started: float) -> None:
    """One line for the whole invocation, with the outcome an operator searches for and the run ids of runs/."""
    status = _status([o.record.status for run in outcomes for o in run.outcomes])
    line = {"source": source, "trigger": trigger, "status": status, **_done(outcomes), **took(started)}
    write = {"failed": logger.error, "partial": logger.warning}.get(status, logger.info)
    write("ingestion finished", extra=line)


def _done(outcomes: list[RunOutcome], not_started: Sequence[str] = ()) -> dict[str, Any]:
    """What the end line says the runs did, with the run ids of their records (and of a run that could not start)."""
    records = [o.record for run in outcomes for o in run.outcomes]
    totals = _totals(outcomes)  # the figures the metrics give, under the names an operator searches the logs by
    return {
        "windows": [run.window.label() for run in outcomes],
        "records_read": sum(r.rows_in for r in records),
        "rows_written": totals.get("rows", 0),
        "rows_rejected": totals.get("rejects", 0),
        "failed_datasets": totals.get("failed_datasets", 0),
        "requests": totals.get("requests", 0),
        "retries": totals.get("retries", 0),
        "run_ids": [r.run_id for r in records] + list(not_started),
        "errors": {r.dataset or r.source: r.error for r in records if r.error},
    }


def _status(statuses: list[str]) -> str:
    """The invocation's outcome: failed if any dataset failed, partial if any set records aside."""
    for worst in ("failed", "partial"):
        if worst in statuses:
            return worst
    return "succeeded"


def _totals(outcomes: list[RunOutcome]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for o in outcomes:
        for k, v in o.totals().items():
            totals[k] = totals.get(k, 0) + v
    return totals


def _one_window(event: dict[str, Any]) -> None:
    """A backfill runs its own window (the last days and today): a window given with it would be dropped unseen."""
    if event.get("backfill_days") is not None and event.get("window") is not None:
        raise RosettaError('give "backfill_days" or "window", not both: a backfill reads the last days and today')


def _datasets(given: Any) -> list[str] | None:
    """The event's datasets, a list of names: one name alone would be read letter by letter, an object as its keys."""
    if given is None or (isinstance(given, list) and all(isinstance(name, str) for name in given)):
        return given
    raise RosettaError(f"datasets must be a list of dataset names, not {given!r}")


def _backfill_days(given: Any) -> int:
    """The event's backfill_days, a whole number (in JSON or as text): refused before anything runs otherwise, since
    int() would read 2.5 or true as another number of days, and fail on other text without naming the field."""
    if isinstance(given, str) and given.strip().isascii() and given.strip().isdecimal():
        given = int(given)
    if not isinstance(given, int) or isinstance(given, bool) or given < 1:
        raise RosettaError(f"backfill_days must be a whole number of days, 1 or more, not {given!r}")
    return given


def _reads_every_dataset_up_to_now(event: dict[str, Any]) -> bool:
    """Whether the event asks for every dataset of the source up to now: a scheduled run (since the watermarks) or a
    backfill (the last days and today). A run of some datasets, or of a window given by hand (which may start after
    the watermark and leave the gap before it unread), says nothing of the source's lag."""
    return event.get("datasets") is None and event.get("window") is None


def _emit(metrics: Metrics, outcomes: list[RunOutcome], now: datetime, *, whole: bool) -> None:
    # One function per source: the `service` dimension already names it. (Powertools keeps dimensions in
    # process-wide state, so a second dimension added by handlers run side by side locally would collide.)
    totals = _emit_counts(metrics, outcomes)
    metrics.add_metric(name="Rejects", unit=MetricUnit.Count, value=totals.get("rejects", 0))
    # Lag only from an invocation that loaded every dataset up to now: one reporting the end of a window it failed,
    # of the days a failed backfill did load, or of some datasets alone would keep the data-lag alarm quiet (or turn
    # it OK) while a dataset is stale.
    if whole and outcomes and not any(o.failed for o in outcomes):
        newest = max(o.window.until for o in outcomes)
        metrics.add_metric(name="LagSeconds", unit=MetricUnit.Seconds, value=max(0.0, (now - newest).total_seconds()))


def _emit_stopped(metrics: Metrics, begun: list[RunOutcome]) -> None:
    """What an invocation that ended early had done: the rows written, the records set aside (kept in
    <source>/rejects; a dataset that ended moved its watermark, and the next run may not meet them again), the datasets
    the stop ended failed. Rejects only when there are some: a run that did not read every dataset cannot tell the
    rejects alarm there were none. No lag: the window was not loaded."""
    if not begun:
        return
    totals = _emit_counts(metrics, begun)
    if totals.get("rejects", 0):
        metrics.add_metric(name="Rejects", unit=MetricUnit.Count, value=totals["rejects"])


def _emit_counts(metrics: Metrics, outcomes: list[RunOutcome]) -> dict[str, int]:
    """The counts every invocation reports; their totals."""
    totals = _totals(outcomes)
    metrics.add_metric(name="RowsWritten", unit=MetricUnit.Count, value=totals.get("rows", 0))
    metrics.add_metric(name="Pages", unit=MetricUnit.Count, value=totals.get("pages", 0))
    metrics.add_metric(name="Requests", unit=MetricUnit.Count, value=totals.get("requests", 0))
    metrics.add_metric(name="Retries", unit=MetricUnit.Count, value=totals.get("retries", 0))
    metrics.add_metric(name="FailedDatasets", unit=MetricUnit.Count, value=totals.get("failed_datasets", 0))
    return totals
