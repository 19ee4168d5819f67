"""Scheduled Lambda: rebuild the aggregate tables (hourly: touched days; daily: period tables too)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.deadline import STOP_BEFORE_TIMEOUT_S, stop_before_timeout
from functions.json_logs import plain_loggers_as_json
from lakehouse.aggregates.as_of import AS_OF_EXAMPLE, outside_years
from lakehouse.aggregates.build import BuildError, build
from lakehouse.aggregates.build_types import BuildResult, failed_run_id
from lakehouse.duckdb_session import longest_store_read_s
from lakehouse.lambda_event import event_object
from lakehouse.runlog import describe_error, took, trigger_of
from lakehouse.settings import Settings
from lakehouse.storage import Lake

logger = Logger(service="build_aggregates")
metrics = Metrics(namespace="RosettaMonitoring", service="build_aggregates")
tracer = Tracer(service="build_aggregates")
plain_loggers_as_json(logger)

MODES = ("hourly", "daily", "full")
SLOWEST_STEPS = 5


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Event (from EventBridge Scheduler): {"mode": "hourly" | "daily" | "full", "as_of": ISO instant, optional,
    "trigger": who asked, optional (the API's batch trigger sends "api:<id>" to find the run again; anything but a
    plain `word` or `word:id` is recorded as "schedule", as ingestion does)}; an EventBridge event carries them in its
    detail.

    A failure raises, so that Lambda retries the run (the scheduler invokes it asynchronously: one retry, as the
    Terraform sets it) and the failed-run alarm sees it. A build still running shortly before the Lambda timeout is
    stopped, ends its run record and gives its lease back (functions.deadline).
    """
    started = time.monotonic()
    logger.info("build started", extra={"event": event if isinstance(event, dict) else None})
    try:
        result = _run(event, context)
    except Exception as exc:
        # The run log keeps the failure too; this is the line the failed-run alarm sends an operator to, naming the run
        # record (none for a build refused before it recorded one: a bad event, another build running).
        # Powertools leaves a null field out of the line: run_recorded says outright whether there is a run to find.
        run_id = failed_run_id(exc)
        failed = {"status": "failed", "run_id": run_id, "run_recorded": run_id is not None}
        logger.error("build finished", extra={**failed, "error": describe_error(exc), **took(started)})
        raise
    slowest = {step: round(seconds, 3) for step, seconds in result.slowest_steps(SLOWEST_STEPS).items()}
    logger.info(
        "build finished",
        extra={
            "status": "succeeded",
            "run_id": result.run_id,
            "mode": result.mode,
            "full_because": result.full_because,
            "daily_because": result.daily_because,
            "as_of": result.as_of.isoformat(),
            "tables": len(result.tables),
            "objects_written": result.objects_written,
            "slowest_steps": slowest,
            "settled_rows": result.settled_rows,
            **took(started),
        },
    )
    metrics.add_metric(name="TablesBuilt", unit=MetricUnit.Count, value=len(result.tables))
    metrics.add_metric(name="MartObjectsWritten", unit=MetricUnit.Count, value=result.objects_written)
    metrics.add_metric(name="DaysRebuilt", unit=MetricUnit.Count, value=(result.day_to - result.day_from).days + 1)
    return {
        "run_id": result.run_id,
        "mode": result.mode,
        "full_because": result.full_because,
        "daily_because": result.daily_because,
        "as_of": result.as_of.isoformat(),
        "day_from": result.day_from.isoformat(),
        "day_to": result.day_to.isoformat(),
        "mapping_version": result.mapping_version,
        "tables": result.tables,
        "objects_written": result.objects_written,
        "slowest_steps": slowest,
        # What an hourly build took from the last daily or full build instead of computing it: none when it could
        # use no settled part (a backfill before the cut, say), which is why such a build is slower.
        "settled_rows": result.settled_rows,
    }


def _run(event: Any, context: LambdaContext) -> BuildResult:
    event = event_object(event, '{"mode": "hourly"}', ("mode", "as_of", "trigger"))
    mode = event.get("mode", "hourly")
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    as_of = _as_of(event.get("as_of"))
    settings = Settings()
    lake = Lake.from_settings(settings)
    # The lease lasts as long as this invocation can: a build killed where it cannot let go (out of memory) holds the
    # lake no longer than its timeout, and the retry that follows finds the lake free.
    lease_for = timedelta(milliseconds=context.get_remaining_time_in_millis())
    trigger = trigger_of(event)
    with stop_before_timeout(context, STOP_BEFORE_TIMEOUT_S + _longest_store_read_s(settings, lake)):
        # Under the invocation's deadline: a store that never answers fails the check by then.
        lake.check()
        return build(lake, settings, mode=mode, as_of=as_of, trigger=trigger, lease_for=lease_for)


def _longest_store_read_s(settings: Settings, lake: Lake) -> float:
    """What the stop before Lambda's timeout must leave room for beyond recording the run's end: a query DuckDB sends to
    a store that never answers is not interrupted until its tries have all waited out their timeout."""
    return longest_store_read_s(settings) if lake.is_s3 else 0.0


def _as_of(given: Any) -> datetime | None:
    """The event's as_of, refused as the command line's --as-of is, before anything is read: text that is no instant,
    one without a time zone, or one whose periods no date holds (the build would fail halfway, in an OverflowError)."""
    if given is None:
        return None
    try:
        as_of = datetime.fromisoformat(given) if isinstance(given, str) else None
    except ValueError:
        as_of = None
    if as_of is None:
        raise BuildError(f"as_of {given!r} is not an ISO 8601 instant: give e.g. {AS_OF_EXAMPLE}")
    if as_of.tzinfo is None:
        # Local time would be UTC on Lambda and another hour elsewhere: one event, two builds.
        raise BuildError(f"as_of needs a time zone, e.g. {AS_OF_EXAMPLE}, not {given!r}")
    outside = outside_years(as_of)
    if outside:
        raise BuildError(f"as_of {given} {outside}")
    return as_of
