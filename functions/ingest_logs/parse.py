"""Elasticsearch composite-aggregation pages to hourly log counts. Bucket keys are hour STARTS. Pure functions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from lakehouse.ingest.config import DEFAULT_ENVIRONMENT_FIELD
from lakehouse.ingest.records import INT64, ParseResult, Reject, earliest_read, ms_to_datetime, rows_table
from lakehouse.schemas import get_dataset

DATASET = "elasticsearch/log_counts_hourly"
AGGREGATION = "logs"
EXCEPTION = "EXCEPTION"
HOUR_MS = 3_600_000
# The levels counted as errors and warnings, as loggers name them in log.level: java.util.logging's SEVERE (Elastic's
# ECS formatter writes the JUL name) and syslog's err (ECS's own example of log.level) are errors, and so are the
# levels above error: Log4j's and OpenTelemetry's FATAL, Python's CRITICAL, syslog's crit, alert and emerg,
# Monolog's ALERT and EMERGENCY, zap's and logrus's panic.
ERROR_NAMES = ("ERROR", "FATAL", "CRITICAL", "SEVERE", "ERR", "CRIT", "ALERT", "EMERG", "EMERGENCY", "PANIC")
WARN_NAMES = ("WARN", "WARNING")
# Each name as loggers spell it (upper, capitalised or lower case; log.level is matched exactly), and the level each
# counts as.
LEVEL_SPELLINGS = {
    spelling: level
    for level, names in (("ERROR", ERROR_NAMES), ("WARN", WARN_NAMES))
    for name in names
    for spelling in (name, name.capitalize(), name.lower())
}


def parse_log_counts_page(page: Mapping[str, Any], context: Mapping[str, Any] | None = None) -> ParseResult:
    """One `_search` answer: a bucket per (service, environment, log.level, severity_text, hour) with a sub-count of
    documents that carry an exception (`error.type` or `exception.type`); the latter are summed into level EXCEPTION
    per (service, environment, hour).
    The context names the index pattern asked, the field the environment was read from and the run's window
    (`since_ms`, `until_ms`): a bucket whose hour lies outside it is a reject (see `_outside_window`)."""
    index_pattern = str((context or {})["index_pattern"])
    environment_field = str((context or {}).get("environment_field") or DEFAULT_ENVIRONMENT_FIELD)
    window = (context["since_ms"], context["until_ms"]) if context and "since_ms" in context else None
    if (partial := partial_answer(page) or _unreadable_shards(page)) is not None:
        # Partial answers would be stored as if complete: refuse the page.
        return ParseResult(rejects=[Reject(DATASET, partial, _brief(page))])
    buckets = (((page.get("aggregations") or {}).get(AGGREGATION)) or {}).get("buckets") or []
    rows: dict[tuple[str, str, str, int], int] = {}
    rejects: list[Reject] = []
    for index, bucket in enumerate(buckets):
        try:
            key = bucket["key"]
            service, environment, hour = key["service"], key["environment"], key["hour"]
            level = _level(key["level"], key.get("severity"))
            count, exceptions = bucket["doc_count"], _exceptions(bucket)
            if service is None:
                raise ValueError(f"{count} log lines without service.name: no service to attribute them to")
            if environment is None:
                raise ValueError(f"{count} log lines without {environment_field}: no environment to count them in")
            for name, value in (("service", service), ("environment", environment), ("level", level)):
                if not isinstance(value, str) or not value:
                    raise ValueError(f"{name} should be a non-empty string, got {value!r}")
            for name, number in (("hour", hour), ("doc_count", count), ("exceptions", exceptions)):
                if isinstance(number, bool) or not isinstance(number, int):
                    raise ValueError(f"{name} should be an integer, got {number!r}")
                if number not in INT64:
                    raise ValueError(f"{name} {number} is out of range")
                if number < 0 and name != "hour":
                    raise ValueError(f"{name} {number} is no count of lines")
            try:
                ms_to_datetime(hour)
            except ValueError:
                raise ValueError(f"hour {hour} is no time in epoch milliseconds") from None
            if window is not None and (outside := _outside_window(hour, window)) is not None:
                raise ValueError(outside)
            level = LEVEL_SPELLINGS.get(level, level.upper())
            counted = [((service, environment, level, hour), count)]
            if exceptions:
                counted.append(((service, environment, EXCEPTION, hour), exceptions))
            for k, n in counted:
                # Buckets of one level's spellings, and the exceptions of every level, add up into one count.
                if rows.get(k, 0) + n not in INT64:
                    raise ValueError(f"{k[2]} lines of the hour add up past a 64-bit count")
        except (KeyError, TypeError, ValueError) as exc:
            reason = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
            rejects.append(Reject(DATASET, reason, bucket, index))
            continue
        for k, n in counted:
            rows[k] = rows.get(k, 0) + n
    table = rows_table(
        DATASET,
        (
            {
                "index_pattern": index_pattern,
                "service_name": s,
                "environment": e,
                "level": lvl,
                "hour": ms_to_datetime(h),
                "count": c,
            }
            for (s, e, lvl, h), c in rows.items()
        ),
    )
    return ParseResult({DATASET: table}, rejects)


def _outside_window(hour: int, window: tuple[int, int]) -> str | None:
    """Why a bucket's hour is none the search asked for, or None.

    The search counts lines from `since` to `until`; a bucket's key is the start of the UTC hour holding its lines,
    so it may start up to an hour before `since` (when `since` is off the hour), never at or after `until`. A key
    elsewhere is no hour of the window (seconds read as milliseconds land in 1970) and its lines would be counted
    on a day the run never read."""
    since, until = window
    if since - HOUR_MS < hour < until:
        return None
    bounds = f"{ms_to_datetime(since).isoformat()}..{ms_to_datetime(until).isoformat()}"
    return f"hour {hour} ({ms_to_datetime(hour).isoformat()}) is outside the window {bounds} the search asked for"


def _exceptions(bucket: Mapping[str, Any]) -> Any:
    """The bucket's count of lines with an exception. Elasticsearch answers every sub-aggregation asked for, 0
    included: one missing is no count, and reading it as 0 would hide the hour's exceptions."""
    if "exceptions" not in bucket:
        raise ValueError("exceptions sub-aggregation is missing: the lines with an exception were not counted")
    sub = bucket["exceptions"]
    if not isinstance(sub, dict):
        raise ValueError(f"exceptions should be an aggregation object, got {sub!r:.40}")
    if "doc_count" not in sub:
        raise ValueError("exceptions sub-aggregation has no doc_count: the lines with an exception were not counted")
    return sub["doc_count"]


def partial_answer(body: Mapping[str, Any]) -> str | None:
    """Why a search answer holds only part of its buckets (it timed out, shards failed, or a remote cluster of a
    cross-cluster pattern was skipped or answered in part), or None. A cluster left out with `skip_unavailable` is
    answered as a 200 whose `_shards` counts no failure: only `_clusters` says its lines are missing."""
    if body.get("timed_out"):
        return "search timed out"
    shards = body.get("_shards")
    failed = shards.get("failed") if isinstance(shards, dict) else None
    if _counted(failed):
        return f"{failed} shards failed"
    clusters = body.get("_clusters")
    if isinstance(clusters, dict):
        for state in ("skipped", "partial", "failed"):  # partial and failed: Elasticsearch 8.10 on
            if _counted(clusters.get(state)):
                return f"{clusters[state]} of {clusters.get('total')} clusters {state}"
    return None


def _counted(count: Any) -> bool:
    """Whether `count` is a count of one or more."""
    return isinstance(count, int) and not isinstance(count, bool) and count > 0


def _unreadable_shards(body: Mapping[str, Any]) -> str | None:
    """Why an answer's `_shards` cannot tell whether it is complete, or None."""
    shards = body.get("_shards")
    if shards is None:
        return None
    failed = shards.get("failed") if isinstance(shards, dict) else None
    if isinstance(shards, dict) and (failed is None or (isinstance(failed, int) and not isinstance(failed, bool))):
        return None
    return f"_shards should count the shards searched and failed, got {shards!r:.60}"


def _level(log_level: Any, severity_text: Any) -> Any:
    """The level a line is counted at: its log.level (ECS loggers) or its severity_text (OpenTelemetry exporters),
    whichever is a counted spelling when a line has both."""
    for spelling in (log_level, severity_text):
        if isinstance(spelling, str) and spelling in LEVEL_SPELLINGS:
            return spelling
    return log_level if log_level is not None else severity_text


def combine_counts(table: pa.Table) -> pa.Table:
    """EXCEPTION counts of one hour can come from buckets on two pages (ERROR and WARN): add them up."""
    keys = ["index_pattern", "service_name", "environment", "level", "hour"]
    aggregations = [("count", "sum"), *earliest_read(table)]
    # The keys come first, then each aggregate, named here after the column it aggregates.
    summed = table.group_by(keys, use_threads=False).aggregate(aggregations)
    summed = summed.rename_columns([*keys, *(column for column, _ in aggregations)])
    return get_dataset(DATASET).conform(summed)


def _brief(page: Mapping[str, Any]) -> Any:
    return {k: v for k, v in page.items() if k != "aggregations"}
