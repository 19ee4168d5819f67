"""What every ingestion handler does once its Powertools decorators are in place: read the event, run, report."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from lakehouse.errors import RosettaError
from lakehouse.ingest.config import IngestSettings
from lakehouse.ingest.run import IngestionFailed, RunOutcome
from lakehouse.ingest.sources import ingest, record_not_started, run_backfill
from lakehouse.ingest.window import backfill_window, window_from_event
from lakehouse.lambda_event import event_object
from lakehouse.runlog import new_run_id, trigger_of
from lakehouse.settings import Settings
from lakehouse.storage import Lake


def handle_scheduled_event(
    source: str, event: object, *, logger: Logger, metrics: Metrics, now: datetime | None = None
) -> dict[str, Any]:
    """Run the source for the event's window, its backfill days, or since the watermark; raise if any dataset failed.

    Event: {"window": {"since": ISO, "until": ISO}} | {"backfill_days": N} | {} ; optional "datasets": [...] and
    "trigger" (who asked: the API's batch trigger sends "api:<id>" and finds its runs in the run log by it).
    """
    event = event_object(event, '{} or {"backfill_days": 3}')
    moment = now or datetime.now(UTC)
    invocation = new_run_id(moment)
    logger.set_correlation_id(invocation)
    # Built here, never at import: a warm container must see configuration changes.
    lake = Lake.from_settings(Settings())
    datasets = _datasets(event.get("datasets"))
    try:
        settings = IngestSettings().resolved()
    except Exception as exc:  # a secret that cannot be read: the run log says so, as for any run that cannot start
        record_not_started(source, lake, exc, trigger=trigger_of(event))
        raise
    # Given is given, whatever its value: a backfill of 0 days is refused, not read as a run since the watermark.
    if event.get("backfill_days") is not None:
        outcomes = run_backfill(
            source,
            lake,
            settings,
            window=backfill_window(_backfill_days(event["backfill_days"]), moment),
            datasets=datasets,
            now=moment,
            logger=logger,
        )
        trigger = "backfill"
    else:
        trigger = trigger_of(event)
        outcomes = [
            ingest(
                source,
                lake,
                settings,
                window=window_from_event(event),
                datasets=datasets,
                trigger=trigger,
                now=moment,
                logger=logger,
            )
        ]
    _emit(metrics, outcomes, moment)
    summary = {
        "invocation": invocation,
        "source": source,
        "trigger": trigger,
        "runs": [o.summary() for o in outcomes],
    }
    logger.info("ingestion finished", extra={"summary": _totals(outcomes)})
    failed = [o for o in outcomes if o.failed]
    if failed:
        raise IngestionFailed(failed[0])
    return summary


def _totals(outcomes: list[RunOutcome]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for o in outcomes:
        for k, v in o.totals().items():
            totals[k] = totals.get(k, 0) + v
    return totals


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


def _emit(metrics: Metrics, outcomes: list[RunOutcome], now: datetime) -> None:
    # One function per source: the `service` dimension already names it. (Powertools keeps dimensions in
    # process-wide state, so a second dimension added by handlers run side by side locally would collide.)
    totals = _totals(outcomes)
    metrics.add_metric(name="RowsWritten", unit=MetricUnit.Count, value=totals.get("rows", 0))
    metrics.add_metric(name="Pages", unit=MetricUnit.Count, value=totals.get("pages", 0))
    metrics.add_metric(name="Requests", unit=MetricUnit.Count, value=totals.get("requests", 0))
    metrics.add_metric(name="Retries", unit=MetricUnit.Count, value=totals.get("retries", 0))
    metrics.add_metric(name="Rejects", unit=MetricUnit.Count, value=totals.get("rejects", 0))
    metrics.add_metric(name="FailedDatasets", unit=MetricUnit.Count, value=totals.get("failed_datasets", 0))
    # Lag only from runs that loaded their window: a failed run reporting its window's end would keep the data-lag
    # alarm quiet for as long as a source is down.
    loaded = [o for o in outcomes if not o.failed]
    if loaded:
        newest = max(o.window.until for o in loaded)
        metrics.add_metric(name="LagSeconds", unit=MetricUnit.Seconds, value=max(0.0, (now - newest).total_seconds()))
