"""Dynatrace pages to rows: metric series (column-oriented), problems and entities. Pure functions."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import datetime
from itertools import chain
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from lakehouse.ingest.records import (
    ParseResult,
    Reject,
    array_of,
    checked_row,
    earliest_read,
    ms_to_datetime,
    rows_table,
    table_of,
)
from lakehouse.schemas import READ_AT, UTC_MS

METRICS_DATASET = "dynatrace/service_metrics_hourly"
PROBLEMS_DATASET = "dynatrace/problems"
ENTITIES_DATASET = "dynatrace/entities"
HOUR_MS = 3_600_000

SERVICE_DIMENSION = "dt.entity.service"
CONTAINER_DIMENSION = "dt.entity.container_group_instance"

# Metric selector -> (column, factor). Response times arrive in microseconds (descriptor unit MicroSecond).
SERVICE_METRICS: dict[str, tuple[str, float]] = {
    "builtin:service.requestCount.total:names": ("request_count", 1.0),
    "builtin:service.errors.server.count": ("error_count", 1.0),
    "builtin:service.response.time:percentile(50)": ("latency_p50_ms", 0.001),
    "builtin:service.response.time:percentile(95)": ("latency_p95_ms", 0.001),
    "builtin:service.response.time:percentile(99)": ("latency_p99_ms", 0.001),
}
# Saturation is measured on the containers a service runs on; the client maps each container to its service.
CONTAINER_METRICS: dict[str, tuple[str, float]] = {
    "builtin:containers.cpu.usagePercent": ("cpu_usage_pct", 1.0),
    "builtin:containers.memory.usagePercent": ("memory_usage_pct", 1.0),
}
METRIC_COLUMNS = tuple(c for c, _ in chain(SERVICE_METRICS.values(), CONTAINER_METRICS.values()))
_KNOWN = {**SERVICE_METRICS, **CONTAINER_METRICS}
# Also read the fixtures' and other tenants' spellings of the same measures.
_ALIASES: dict[str, tuple[str, float]] = {
    "builtin:service.requestCount.total": ("request_count", 1.0),
}
# Measures Dynatrace offers that the lake keeps no column for: their series are set aside with this reason, and the
# rest of the page is read. The bare response time is an average (its descriptor's default aggregation); latency is
# kept as percentiles (lakehouse.schemas: latency_p50_ms, latency_p95_ms, latency_p99_ms), which an average is none of.
NOT_KEPT: dict[str, str] = {
    "builtin:service.response.time": "average response time, which the lake does not keep (latency is read as "
    "its p50, p95 and p99)",
}
_NEUTRAL = re.compile(r":(names|avg|value|splitBy\([^)]*\)|merge\([^)]*\))")
_UNITS_MS = {"m": 60_000, "h": HOUR_MS, "d": 86_400_000, "w": 7 * 86_400_000, "s": 1000}


def resolution_ms(label: Any) -> int | None:
    """'1h' -> 3600000; 'Inf' (one point for the whole frame) -> None."""
    if not isinstance(label, str) or label.lower() == "inf":
        return None
    number, unit = label[:-1], label[-1]
    if not number.isdigit() or unit not in _UNITS_MS:
        raise ValueError(f"unknown resolution {label!r}")
    return int(number) * _UNITS_MS[unit]


def metric_column(metric_id: str) -> tuple[str, float] | None:
    """The column and factor for a metricId as echoed by the API (the full selector, transformations included).

    Transformations that do not change values (`:names`, `:splitBy(...)`, `:merge(...)`, `:avg`) are ignored.
    """
    found = _KNOWN.get(metric_id)
    if found:
        return found
    base = _NEUTRAL.sub("", metric_id)
    return _KNOWN.get(base) or _KNOWN.get(base + ":names") or _ALIASES.get(base)


def _unread_metric(metric_id: Any, result: Any) -> str:
    """Why a metric's series are not read: a measure the lake keeps no column for (saying how many series it
    held), or one it does not know."""
    why = NOT_KEPT.get(_NEUTRAL.sub("", metric_id)) if isinstance(metric_id, str) else None
    if why is None:
        return f"unknown metric {metric_id!r}"
    data = result.get("data")
    return f"{metric_id}: {why}; {len(data) if isinstance(data, list) else 0} series not read"


POINT_SCHEMA = pa.schema(
    [
        pa.field("entity_id", pa.string()),
        pa.field("entity_name", pa.string()),
        pa.field("slot_start", UTC_MS),
        pa.field("metric", pa.string()),
        pa.field("value", pa.float64()),
    ]
)


def metric_points(page: Mapping[str, Any], context: Mapping[str, Any] | None = None) -> tuple[pa.Table, list[Reject]]:
    """Every data point of a metrics query page, long: entity, slot START (Dynatrace stamps slot ends), metric, value.

    Values are converted to the column's unit (µs -> ms) and nulls stay null. Built column-wise from the
    `timestamps`/`values` lists, so a page of millions of points never becomes Python objects per point.
    With the run's window in the context (`since_ms`, `until_ms`), a series with points outside it is a reject
    whole (see `_stray_points`).
    """
    ctx = context or {}
    services: Mapping[str, list[str]] = ctx.get("service_of_container") or {}
    window = (ctx["since_ms"], ctx["until_ms"]) if "since_ms" in ctx else None
    rejects: list[Reject] = []
    step = resolution_ms(page.get("resolution"))
    stamps: list[list[Any]] = []
    values: list[list[Any]] = []
    entities: list[str] = []
    names: list[str | None] = []
    metrics: list[str] = []
    factors: list[float] = []
    lengths: list[int] = []
    for result in page.get("result") or []:
        metric_id = result.get("metricId") if isinstance(result, dict) else None
        known = metric_column(metric_id) if isinstance(metric_id, str) else None
        if known is None:
            rejects.append(Reject(METRICS_DATASET, _unread_metric(metric_id, result), _brief(result)))
            continue
        column, factor = known
        data = result.get("data")
        data = [] if data is None else data
        if not isinstance(data, list):
            # Not a list, so not large: the result is kept whole.
            reason = f"{metric_id}: data should be a list of series, got {data!r:.40}"
            rejects.append(Reject(METRICS_DATASET, reason, result))
            continue
        for index, series in enumerate(data):
            problem = _series_problem(series)
            targets: list[str] = []
            if problem is None:
                dims = series["dimensionMap"]
                problem = _dimension_problem(dims)
                if problem is None:
                    # A service's own series, or a container's, which counts for every service running on it.
                    own = dims.get(SERVICE_DIMENSION)
                    targets = [own] if own else list(services.get(dims.get(CONTAINER_DIMENSION) or "") or ())
                    if not targets:
                        problem = "series has no service entity in dimensionMap"
            if problem is None and window is not None and step is not None:
                problem = _stray_points(series["timestamps"], step, window)
            if problem is not None:
                rejects.append(Reject(METRICS_DATASET, f"{metric_id}: {problem}", series, index))
                continue
            for entity in targets:
                stamps.append(series["timestamps"])
                values.append(series["values"])
                entities.append(entity)
                names.append(series["dimensionMap"].get(SERVICE_DIMENSION + ".name"))
                metrics.append(column)
                factors.append(factor)
                lengths.append(len(series["timestamps"]))
    if not lengths:
        return POINT_SCHEMA.empty_table(), rejects
    flat_stamps, flat_values = list(chain.from_iterable(stamps)), list(chain.from_iterable(values))
    # pyarrow reads a null timestamp as a null and true as 1, where the contract has an integer for every timestamp
    # and a number or null for every value: such a page is read series by series, where those series are rejects.
    if set(map(type, flat_stamps)) != {int} or bool in set(map(type, flat_values)):
        return _points_slowly(stamps, values, entities, names, metrics, factors, step, rejects)
    try:
        ts = pa.array(flat_stamps, pa.int64())
        raw = pa.array(flat_values, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError):
        return _points_slowly(stamps, values, entities, names, metrics, factors, step, rejects)
    earliest, latest = pc.min_max(ts).values()
    # NaN and Infinity are not JSON, but Python's parser reads them: a series holding one is rejected, not summed.
    finite = pc.all(pc.is_finite(raw)).as_py() is not False
    on_the_hour = step != HOUR_MS or pc.all(pc.equal(pc.modulo(ts, HOUR_MS), 0)).as_py() is not False
    if earliest.as_py() not in EPOCH_MS or latest.as_py() not in EPOCH_MS or not finite or not on_the_hour:
        return _points_slowly(stamps, values, entities, names, metrics, factors, step, rejects)
    return _points_table(ts, raw, entities, names, metrics, factors, lengths, step), rejects


def _points_table(
    ts: pa.Array,
    raw: pa.Array,
    entities: list[str],
    names: list[str | None],
    metrics: list[str],
    factors: list[float],
    lengths: list[int],
    step: int | None,
) -> pa.Table:
    take = _series_index(lengths)
    scale = pa.array(factors, pa.float64()).take(take)
    starts = pc.subtract(ts, step) if step is not None else ts
    return pa.Table.from_arrays(
        [
            array_of(entities, pa.string()).take(take),
            array_of(names, pa.string()).take(take),
            starts.cast(UTC_MS),
            pa.array(metrics, pa.string()).take(take),
            pc.multiply(raw, scale),
        ],
        schema=POINT_SCHEMA,
    )


def _series_index(lengths: list[int]) -> pa.Array:
    """For each point, the index of its series: [2, 3] -> [0, 0, 1, 1, 1]."""
    offsets = [0]
    for n in lengths:
        offsets.append(offsets[-1] + n)
    spans = pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), pa.nulls(offsets[-1], pa.null()))
    return pc.list_parent_indices(spans)


def _points_slowly(
    stamps: list[list[Any]],
    values: list[list[Any]],
    entities: list[str],
    names: list[str | None],
    metrics: list[str],
    factors: list[float],
    step: int | None,
    rejects: list[Reject],
) -> tuple[pa.Table, list[Reject]]:
    """Series by series, so that one series with a wrongly typed value, or stamped off its hours, is rejected
    alone."""
    keep: list[int] = []
    for i, (s, v) in enumerate(zip(stamps, values, strict=True)):
        problem = _unreadable(s, v, step)
        if problem is not None:
            rejects.append(
                Reject(
                    METRICS_DATASET,
                    problem,
                    {"entity": entities[i], "metric": metrics[i], "timestamps": s, "values": v},
                    i,
                )
            )
        else:
            keep.append(i)
    if not keep:
        return POINT_SCHEMA.empty_table(), rejects
    ts = pa.array(list(chain.from_iterable(stamps[i] for i in keep)), pa.int64())
    raw = pa.array(list(chain.from_iterable(values[i] for i in keep)), pa.float64())
    table = _points_table(
        ts,
        raw,
        [entities[i] for i in keep],
        [names[i] for i in keep],
        [metrics[i] for i in keep],
        [factors[i] for i in keep],
        [len(stamps[i]) for i in keep],
        step,
    )
    return table, rejects


# Values are doubles: an integer written past 2**53 is no double Dynatrace could have meant exactly.
EXACT_IN_DOUBLE = range(-(2**53), 2**53 + 1)
# Slot ends from 1970 to the end of year 9999: any 64-bit number fits the column, but only these are days the lake
# can store (and moving a slot's end to its start cannot wrap around).
EPOCH_MS = range(0, 253_402_300_800_000)


def _unreadable(stamps: list[Any], values: list[Any], step: int | None) -> str | None:
    """Why a series' lists do not fit its columns (64-bit timestamps, doubles) or its hours, or None.

    The points of an hourly answer end on the hour: one stamped 01:30 would be stored as an hour from 00:30, which
    no other figure of the lake shares, so such a series is not read.
    """
    for x in stamps:
        if isinstance(x, bool) or not isinstance(x, int):
            return f"non-numeric value {x!r} in a series"
        if x not in EPOCH_MS:
            return f"timestamp {x} out of range in a series"
        if step == HOUR_MS and x % HOUR_MS:
            return f"timestamps not on the hour in a series of 1h (the first at {ms_to_datetime(x).isoformat()})"
    for x in values:
        if x is not None and (isinstance(x, bool) or not isinstance(x, int | float)):
            return f"non-numeric value {x!r} in a series"
        if isinstance(x, int) and x not in EXACT_IN_DOUBLE:
            return f"value {x} out of range in a series"
        if isinstance(x, float) and not math.isfinite(x):
            return f"value {x} is not a number in a series"
    return None


def _stray_points(stamps: list[Any], step: int, window: tuple[int, int]) -> str | None:
    """How many of a series' slots lie outside the run's window, when any do, or None.

    The query asks for the window's slots only; the last slot may reach past the window's end, by one slot at
    most (the slot in progress: the Metrics FAQ says the last point can be in the future). Any other point outside
    means the series' timestamps are not the query's (seconds read as milliseconds land in 1970), so none of its
    points can be trusted to be the hour it names: the whole series is a reject. Timestamps that are no numbers,
    or no time the lake holds, are left to `_unreadable`.
    """
    since, until = window
    try:
        earliest, latest, last = min(stamps), max(stamps), stamps[-1]
        if not (earliest >= 0 and latest < EPOCH_MS.stop) or (since <= earliest - step and latest <= until):
            return None
        stray = [end for end in stamps if end - step < since or end > until]
    except (TypeError, ValueError, IndexError):
        return None
    if since <= last - step and until < last <= until + step:
        stray.pop()  # the slot in progress, which the window filter leaves for a later run
    if not stray:
        return None
    bounds = f"{ms_to_datetime(since).isoformat()}..{ms_to_datetime(until).isoformat()}"
    return f"{len(stray)} of the series' {len(stamps)} points lie outside the window {bounds} (the first at {stray[0]})"


def _series_problem(series: Any) -> str | None:
    if not isinstance(series, dict) or not isinstance(series.get("dimensionMap"), dict):
        return "series without dimensionMap"
    ts, vs = series.get("timestamps"), series.get("values")
    if not isinstance(ts, list) or not isinstance(vs, list):
        return "timestamps and values must be lists"
    if len(ts) != len(vs):
        return f"{len(ts)} timestamps but {len(vs)} values"
    return None


def _dimension_problem(dims: Mapping[str, Any]) -> str | None:
    """The dimensions read are ids and names: text, or absent (a name only comes with `:names`)."""
    for key in (SERVICE_DIMENSION, SERVICE_DIMENSION + ".name", CONTAINER_DIMENSION):
        value = dims.get(key)
        if value is not None and not isinstance(value, str):
            return f"{key} should be a string, got {type(value).__name__} {value!r:.40}"
    return None


def parse_metrics_page(page: Mapping[str, Any], context: Mapping[str, Any] | None = None) -> ParseResult:
    """Hourly rows (sparse: a page may hold only some metrics); `combine_hourly` merges them across pages.

    Only 1h pages fit the dataset; the hour is the slot start. A series with points outside the context's window
    is a reject whole, save for its last slot reaching past the window's end (the slot in progress), which is left
    out here: a later run reads it whole. So is a series whose timestamps are not on the hour.
    """
    step = page.get("resolution")
    if step != "1h":
        return ParseResult(rejects=_at_another_resolution(page, step))
    points, rejects = metric_points(page, context)
    ctx = context or {}
    if "since_ms" in ctx and points.num_rows:
        hour_ms = points.column("slot_start").cast(pa.int64())
        inside = pc.and_(
            pc.greater_equal(hour_ms, ctx["since_ms"]), pc.less_equal(pc.add(hour_ms, HOUR_MS), ctx["until_ms"])
        )
        points = points.filter(inside)
    return ParseResult({METRICS_DATASET: pivot_hourly(points)}, rejects)


def pivot_hourly(points: pa.Table) -> pa.Table:
    """Long points to one row per (entity, hour) with a column per metric; rows with no value at all are dropped."""
    if points.num_rows == 0:
        return table_of(METRICS_DATASET, {})
    metric = points.column("metric")
    value = points.column("value")
    none = pa.scalar(None, pa.float64())
    wide = {
        "entity_id": points.column("entity_id"),
        "hour": points.column("slot_start"),
        "entity_name": points.column("entity_name"),
    }
    for column in METRIC_COLUMNS:
        wide[column] = pc.if_else(pc.equal(metric, column), value, none)
    return combine_hourly(pa.table(wide))


def combine_hourly(table: pa.Table) -> pa.Table:
    """One row per (entity_id, hour): each metric from whichever page carried it."""
    if table.num_rows == 0:
        return table_of(METRICS_DATASET, {})
    grouped = table.group_by(["entity_id", "hour"], use_threads=False).aggregate(
        [("entity_name", "max"), *[(c, "max") for c in METRIC_COLUMNS], *earliest_read(table)]
    )
    columns = {
        "entity_id": grouped.column("entity_id"),
        "hour": grouped.column("hour"),
        "entity_name": grouped.column("entity_name_max"),
    }
    if READ_AT in table.column_names:
        columns[READ_AT] = grouped.column(f"{READ_AT}_min")
    columns |= {c: grouped.column(f"{c}_max") for c in METRIC_COLUMNS}
    out = table_of(METRICS_DATASET, columns)
    valid = pc.is_valid(out.column(METRIC_COLUMNS[0]))
    for c in METRIC_COLUMNS[1:]:
        valid = pc.or_(valid, pc.is_valid(out.column(c)))
    return out.filter(valid)


# --- problems ---------------------------------------------------------------------------------------------------
# Problems are times Dynatrace saw, in epoch ms: none is before 2000 (Dynatrace itself began in 2005). A time in
# seconds read as ms lands before it for any date up to the year 31,000 (1.7e9 s is 1970-01-20 as ms).
PROBLEMS_BEGIN_MS = 946_684_800_000  # 2000-01-01T00:00:00Z


def parse_problems_page(page: Mapping[str, Any], context: Mapping[str, Any] | None = None) -> ParseResult:
    rows, rejects = [], []
    for index, problem in enumerate(page.get("problems") or []):
        try:
            rows.append(_problem_row(problem))
        except (KeyError, TypeError, ValueError) as exc:
            rejects.append(Reject(PROBLEMS_DATASET, _reason(exc), problem, index))
    return ParseResult({PROBLEMS_DATASET: rows_table(PROBLEMS_DATASET, rows)}, rejects)


def parse_problem(problem: Mapping[str, Any]) -> dict[str, Any]:
    """One problem object (list item or GET /problems/{id}) to a row."""
    return _problem_row(problem)


def _problem_row(p: Mapping[str, Any]) -> dict[str, Any]:
    start, end = p["startTime"], p.get("endTime")
    for name, value in (("startTime", start), ("endTime", end)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ValueError(f"{name} should be epoch milliseconds, got {value!r}")
        # An endTime of -1 means still open; a start is always a time.
        if value is not None and (value >= 0 or name == "startTime"):
            try:
                ms_to_datetime(value)
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from None
            if value < 0:
                raise ValueError(f"{name} {value} is before 1970: no time Dynatrace gives")
            if value < PROBLEMS_BEGIN_MS:
                when = ms_to_datetime(value).isoformat()
                raise ValueError(f"{name} {value} is {when}, before 2000: no time of a Dynatrace problem")
    for name in ("problemId", "displayId", "title", "status"):
        if not isinstance(p.get(name), str):
            raise ValueError(f"{name} should be a string, got {type(p.get(name)).__name__}")
    root = p.get("rootCauseEntity")
    row = {
        "problem_id": p["problemId"],
        "display_id": p["displayId"],
        "title": p["title"],
        "status": p["status"],
        "severity_level": p.get("severityLevel"),
        "impact_level": p.get("impactLevel"),
        "start_time": ms_to_datetime(start),
        # -1 means still open: never a timestamp.
        "end_time": None if end is None or end < 0 else ms_to_datetime(end),
        "root_cause_entity_id": root["entityId"]["id"] if root else None,
        "affected_entity_ids": [e["entityId"]["id"] for e in p.get("affectedEntities") or []],
        "impacted_entity_ids": [e["entityId"]["id"] for e in p.get("impactedEntities") or []],
        "management_zones": [z["name"] for z in p.get("managementZones") or []],
        "entity_tags": [t["stringRepresentation"] for t in p.get("entityTags") or []],
    }
    return checked_row(PROBLEMS_DATASET, row)


# --- entities ---------------------------------------------------------------------------------------------------
def parse_entities_page(page: Mapping[str, Any], context: Mapping[str, Any] | None = None) -> ParseResult:
    """Entities listed on a day: `context["seen_on_ms"]` is midnight UTC of that day."""
    seen_on = ms_to_datetime(int((context or {})["seen_on_ms"]))
    rows, rejects = [], []
    for index, entity in enumerate(page.get("entities") or []):
        try:
            rows.append(_entity_row(entity, seen_on))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            rejects.append(Reject(ENTITIES_DATASET, _reason(exc), entity, index))
    return ParseResult({ENTITIES_DATASET: rows_table(ENTITIES_DATASET, rows)}, rejects)


def _entity_row(entity: Mapping[str, Any], seen_on: datetime) -> dict[str, Any]:
    if not isinstance(entity.get("entityId"), str):
        raise ValueError("entityId should be a string")
    row = {
        "entity_id": entity["entityId"],
        "entity_type": entity.get("type"),
        "display_name": entity.get("displayName"),
        "tags": [t["stringRepresentation"] for t in entity.get("tags") or []],
        "management_zones": [z["name"] for z in entity.get("managementZones") or []],
        "seen_on": seen_on,
    }
    return checked_row(ENTITIES_DATASET, row)


def _related(page: Mapping[str, Any], relationship: str, target_type: str) -> dict[str, list[str]]:
    """target id -> listed entity ids, through one `fromRelationships` relationship."""
    found: dict[str, list[str]] = {}
    for entity in page.get("entities") or []:
        if not isinstance(entity, dict) or not isinstance(entity.get("entityId"), str):
            continue
        for target in (entity.get("fromRelationships") or {}).get(relationship) or []:
            if isinstance(target, dict) and target.get("type") == target_type:
                listed = found.setdefault(str(target.get("id")), [])
                if entity["entityId"] not in listed:
                    listed.append(entity["entityId"])
    return found


def processes_of(page: Mapping[str, Any]) -> dict[str, list[str]]:
    """process group instance id -> ids of the services running on it (a process may serve several), from services
    listed with `fromRelationships` (runsOnProcessGroupInstance; a service's `runsOn` leads to its process group,
    never to a container)."""
    return _related(page, "runsOnProcessGroupInstance", "PROCESS_GROUP_INSTANCE")


def containers_of(page: Mapping[str, Any], services_of_process: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """container id -> ids of the services running in it, from process group instances listed with
    `fromRelationships` (isPgiOfCgi)."""
    found: dict[str, list[str]] = {}
    for container, processes in _related(page, "isPgiOfCgi", "CONTAINER_GROUP_INSTANCE").items():
        for process in processes:
            for service in services_of_process.get(process, ()):
                if service not in found.setdefault(container, []):
                    found[container].append(service)
    return {container: services for container, services in found.items() if services}


def _reason(exc: BaseException) -> str:
    return f"missing field {exc}" if isinstance(exc, KeyError) else f"{type(exc).__name__}: {exc}"


def _at_another_resolution(page: Mapping[str, Any], step: Any) -> list[Reject]:
    """A page Dynatrace served at another resolution than an hour (it coarsens a query it cannot answer in as many
    points): a reject per series, kept with its points, as any record the dataset cannot hold (a result of another
    shape whole); the page, without its results, when it holds none."""
    reason = f"resolution {step!r}, expected 1h"
    results = page.get("result")
    rejects: list[Reject] = []
    for result in results if isinstance(results, list) else []:
        data = result.get("data") if isinstance(result, dict) else None
        if not isinstance(data, list):
            rejects.append(Reject(METRICS_DATASET, reason, result))
            continue
        metric = result.get("metricId")
        for series in data:
            raw = {"metricId": metric, **series} if isinstance(series, dict) else series
            rejects.append(Reject(METRICS_DATASET, f"{metric}: {reason}", raw))
    return rejects or [Reject(METRICS_DATASET, reason, _brief(page))]


def _brief(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: v for k, v in node.items() if k not in ("data", "result")}
    return node
