"""ServiceNow Table API pages to rows: strings typed, "" as null, UTC dates, references as sys_id + display value.

Pure functions. Records are read field by field into columns; dates are parsed column-wise.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from lakehouse.ingest.records import INT64, ParseResult, Reject, array_of, table_of
from lakehouse.schemas import UTC_MS, get_dataset

DATE_FORMAT = "%Y-%m-%d %H:%M:%S"

# Out-of-the-box choice labels, used when the page carries values without display values.
INCIDENT_STATES = {1: "New", 2: "In Progress", 3: "On Hold", 6: "Resolved", 7: "Closed", 8: "Canceled"}
CHANGE_STATES = {
    -5: "New",
    -4: "Assess",
    -3: "Authorize",
    -2: "Scheduled",
    -1: "Implement",
    0: "Review",
    3: "Closed",
    4: "Canceled",
}
PROBLEM_STATES = {
    1: "Open",
    2: "Known Error",
    3: "Pending Change",
    4: "Closed/Resolved",
    101: "New",
    102: "Assess",
    103: "Root Cause Analysis",
    104: "Fix in Progress",
    106: "Resolved",
    107: "Closed",
}
PRIORITIES = {1: "1 - Critical", 2: "2 - High", 3: "3 - Moderate", 4: "4 - Low", 5: "5 - Planning"}
CHANGE_RISKS = {1: "Very High", 2: "High", 3: "Moderate", 4: "Low"}


@dataclass(frozen=True)
class Field:
    """One column: where it comes from in the record and how to read it."""

    column: str
    source: str
    kind: str  # str | int | bool | float | time | ref | label | risk
    labels: Mapping[int, str] | None = None


def _fields(*items: tuple[str, str, str] | tuple[str, str, str, Mapping[int, str]]) -> tuple[Field, ...]:
    return tuple(Field(*i) for i in items)


TABLES: dict[str, tuple[str, tuple[Field, ...]]] = {
    "servicenow/incidents": (
        "incident",
        _fields(
            ("sys_id", "sys_id", "str"),
            ("number", "number", "str"),
            ("state", "state", "int"),
            ("state_label", "state", "label", INCIDENT_STATES),
            ("priority", "priority", "int"),
            ("priority_label", "priority", "label", PRIORITIES),
            ("impact", "impact", "int"),
            ("urgency", "urgency", "int"),
            ("short_description", "short_description", "str"),
            ("opened_at", "opened_at", "time"),
            ("resolved_at", "resolved_at", "time"),
            ("closed_at", "closed_at", "time"),
            ("cmdb_ci", "cmdb_ci", "ref"),
            ("business_service", "business_service", "ref"),
            ("assignment_group", "assignment_group", "ref"),
            ("reassignment_count", "reassignment_count", "int"),
            ("problem", "problem_id", "ref"),
            ("caused_by_change", "caused_by", "ref"),
            ("sys_updated_on", "sys_updated_on", "time"),
        ),
    ),
    "servicenow/changes": (
        "change_request",
        _fields(
            ("sys_id", "sys_id", "str"),
            ("number", "number", "str"),
            ("type", "type", "str"),
            ("state", "state", "int"),
            ("state_label", "state", "label", CHANGE_STATES),
            ("risk", "risk", "label", CHANGE_RISKS),
            ("short_description", "short_description", "str"),
            ("planned_start", "start_date", "time"),
            ("planned_end", "end_date", "time"),
            ("work_start", "work_start", "time"),
            ("work_end", "work_end", "time"),
            ("close_code", "close_code", "str"),
            ("cmdb_ci", "cmdb_ci", "ref"),
            ("business_service", "business_service", "ref"),
            ("assignment_group", "assignment_group", "ref"),
            ("sys_created_on", "sys_created_on", "time"),
            ("sys_updated_on", "sys_updated_on", "time"),
        ),
    ),
    "servicenow/problems": (
        "problem",
        _fields(
            ("sys_id", "sys_id", "str"),
            ("number", "number", "str"),
            ("state", "state", "int"),
            ("state_label", "state", "label", PROBLEM_STATES),
            ("priority", "priority", "int"),
            ("short_description", "short_description", "str"),
            ("known_error", "known_error", "bool"),
            ("opened_at", "opened_at", "time"),
            ("resolved_at", "resolved_at", "time"),
            ("closed_at", "closed_at", "time"),
            ("cmdb_ci", "cmdb_ci", "ref"),
            ("sys_updated_on", "sys_updated_on", "time"),
        ),
    ),
    "servicenow/task_slas": (
        "task_sla",
        _fields(
            ("sys_id", "sys_id", "str"),
            ("task", "task", "ref"),
            ("sla", "sla", "ref"),
            ("stage", "stage", "str"),
            ("has_breached", "has_breached", "bool"),
            ("start_time", "start_time", "time"),
            ("end_time", "end_time", "time"),
            ("planned_end_time", "planned_end_time", "time"),
            ("breach_time", "original_breach_time", "time"),
            ("business_percentage", "business_percentage", "float"),
            ("sys_updated_on", "sys_updated_on", "time"),
        ),
    ),
    "servicenow/cmdb_ci": (
        "cmdb_ci",
        _fields(
            ("sys_id", "sys_id", "str"),
            ("name", "name", "str"),
            ("sys_class_name", "sys_class_name", "str"),
            ("operational_status", "operational_status", "int"),
            ("sys_updated_on", "sys_updated_on", "time"),
        ),
    ),
}
# A reference fills two columns: <column>_sys_id and <column>_name (task_slas: task_number, sla_name).
_REF_NAME_COLUMN = {"task": "task_number"}


def requested_fields(dataset: str) -> list[str]:
    """sysparm_fields for a dataset: exactly what the parser reads (ServiceNow ignores unknown names silently)."""
    return sorted({f.source for f in TABLES[dataset][1]})


def value_of(cell: Any) -> Any:
    """The stored value of a field in any of the Table API's shapes; "" stays "" here."""
    if isinstance(cell, dict):
        if "value" in cell:
            return cell["value"]
        link = cell.get("link")
        # display_value=true drops the sys_id; the link still ends with it.
        return link.rstrip("/").rsplit("/", 1)[-1] if isinstance(link, str) and link else ""
    return cell


def record_version(record: Any) -> tuple[str, str] | None:
    """The version a reject keeps of a record: its sys_id and its update time as sent (rows are kept per version);
    None without a sys_id, which nothing tells from another record alike."""
    sys_id = value_of(record.get("sys_id")) if isinstance(record, dict) else None
    if not isinstance(sys_id, str) or not sys_id:
        return None
    return sys_id, json.dumps(value_of(record.get("sys_updated_on")), sort_keys=True, default=str)


def display_of(cell: Any) -> str | None:
    if isinstance(cell, dict):
        shown = cell.get("display_value")
        return shown if isinstance(shown, str) and shown != "" else None
    return None


def _text(cell: Any, name: str) -> str | None:
    value = value_of(cell)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"{name}: expected a string, got {type(value).__name__} {value!r}")
    return value


def _integer(cell: Any, name: str) -> int | None:
    value = value_of(cell)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"{name}: expected an integer, got a boolean")
    if isinstance(value, float) and value.is_integer():  # the Change Management API sends 3.0
        number = int(value)
    elif isinstance(value, int):
        number = value
    elif isinstance(value, str):
        try:
            number = int(value)
        except ValueError:
            raise ValueError(f"{name}: expected an integer, got {value!r}") from None
    else:
        raise ValueError(f"{name}: expected an integer, got {type(value).__name__}")
    if number not in INT64:
        raise ValueError(f"{name}: {value!r} is out of range")
    return number


def _number(cell: Any, name: str) -> float | None:
    value = value_of(cell)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"{name}: expected a number, got {type(value).__name__}")
    try:
        number = float(value)
    except (ValueError, OverflowError):
        raise ValueError(f"{name}: expected a number, got {value!r:.40}") from None
    if not math.isfinite(number):
        raise ValueError(f"{name}: expected a finite number, got {value!r:.40}")
    return number


def _flag(cell: Any, name: str) -> bool | None:
    value = value_of(cell)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return value == "true"
    raise ValueError(f"{name}: expected 'true' or 'false', got {value!r}")


def _label(cell: Any, name: str, labels: Mapping[int, str] | None) -> str | None:
    shown = display_of(cell)
    if shown is not None:
        return shown
    code = _integer(cell, name)
    if code is None:
        return None
    return (labels or {}).get(code, str(code))


_READERS: dict[str, Callable[[Any, str], Any]] = {
    "str": _text,
    "int": _integer,
    "bool": _flag,
    "float": _number,
    "time": _text,
}


def parse_table_page(dataset: str, page: Mapping[str, Any]) -> ParseResult:
    """One Table API list page (`{"result": [...]}`) to rows of `dataset`, rejecting records that do not fit.

    Column by column: each field is pulled out of every record at once and typed with Arrow; only a column that
    holds something unexpected is read value by value, to name the records to reject.
    """
    spec = TABLES[dataset][1]
    declared = get_dataset(dataset)
    records = page.get("result")
    if not isinstance(records, list):
        records = [records] if isinstance(records, dict) else []
    kept = [i for i, r in enumerate(records) if isinstance(r, dict)]
    rejects = [
        Reject(dataset, "record is not an object", r, i) for i, r in enumerate(records) if not isinstance(r, dict)
    ]
    rows = [records[i] for i in kept]
    columns: dict[str, Any] = {}
    bad: dict[int, str] = {}
    cells_of = _transpose(rows, spec)
    for f in spec:
        cells = cells_of[f.source]
        if f.kind == "ref":
            columns[f"{f.column}_sys_id"] = _column(cells, "str", f, bad)
            columns[_REF_NAME_COLUMN.get(f.column, f"{f.column}_name")] = _displays(cells, f, bad)
        elif f.kind in ("label", "risk"):
            columns[f.column] = _labels(cells, f, bad)
        else:
            columns[f.column] = _column(cells, f.kind, f, bad)
    for c in declared.columns:
        if not c.nullable and c.name in columns:
            values = columns[c.name]
            nulls = (
                values.is_null() if isinstance(values, pa.Array) else pa.array([v is None for v in values], pa.bool_())
            )
            for position in pc.indices_nonzero(nulls).to_pylist():
                bad.setdefault(position, f"{c.name} is empty")
    table = table_of(dataset, columns)
    if bad:
        rejects += [Reject(dataset, reason, rows[row], kept[row]) for row, reason in sorted(bad.items())]
        table = table.filter(pa.array([i not in bad for i in range(table.num_rows)]))
    return ParseResult({dataset: table}, rejects)


def _transpose(rows: list[dict[str, Any]], spec: tuple[Field, ...]) -> dict[str, list[Any]]:
    """Records to field columns, one C-level pass per field; a field some records lack falls back to dict.get."""
    columns: dict[str, list[Any]] = {}
    for name in dict.fromkeys(f.source for f in spec):
        try:
            columns[name] = list(map(itemgetter(name), rows))
        except KeyError:
            columns[name] = [r.get(name) for r in rows]
    return columns


_VALUE = itemgetter("value")
_DISPLAY = itemgetter("display_value")


def _plain(cells: list[Any]) -> list[Any]:
    """Stored values; pages mixing shapes (plain strings, display_value=true without value) are read one by one."""
    try:
        return list(map(_VALUE, cells))
    except (KeyError, TypeError):
        return [value_of(c) for c in cells]


def _column(cells: list[Any], kind: str, f: Field, bad: dict[int, str]) -> Any:
    values = _plain(cells)
    if set(map(type, values)) <= {str, type(None)}:
        try:
            return _typed(values, kind)
        except (pa.ArrowInvalid, ValueError):
            pass
    # Slow path: something is not a string (a number, a wrongly typed field) or does not convert.
    read = _READERS[kind]
    out: list[Any] = []
    for row, cell in enumerate(cells):
        try:
            out.append(read(cell, f.source))
        except ValueError as exc:
            bad.setdefault(row, str(exc))
            out.append(None)
    if kind == "time":
        return _times_checked(out, f, bad)
    return out


def _typed(values: list[Any], kind: str) -> Any:
    if kind == "str":
        return [v if v else None for v in values]
    text = pa.array(values, pa.string())
    text = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
    if kind == "int":
        return pc.cast(text, pa.int64())
    if kind == "float":
        numbers = pc.cast(text, pa.float64())
        if not pc.all(pc.is_finite(pc.drop_null(numbers))).as_py():
            raise ValueError("not a finite number")  # "NaN", "1e400": the slow path names the record
        return numbers
    if kind == "bool":
        present = pc.drop_null(text)
        if len(present) and not pc.all(pc.is_in(present, pa.array(["true", "false"]))).as_py():
            raise ValueError("not a boolean")
        return pc.equal(text, "true")
    if kind == "time":
        parsed, failures = _times(text)
        if failures:
            raise ValueError("bad date")
        return parsed
    raise ValueError(kind)


def _times_checked(values: list[Any], f: Field, bad: dict[int, str]) -> pa.Array:
    parsed, failures = _times(array_of(values, pa.string()))
    for row in failures:
        bad.setdefault(row, f"{f.source}: not a 'yyyy-MM-dd HH:mm:ss' date: {values[row]!r}")
    return parsed


def _displays(cells: list[Any], f: Field, bad: dict[int, str]) -> list[str | None]:
    """Display values ("" as None); one that is not text rejects its record, as a value that is not would."""
    try:
        shown = list(map(_DISPLAY, cells))
    except (KeyError, TypeError):
        shown = [c.get("display_value") if isinstance(c, dict) else None for c in cells]
    if set(map(type, shown)) <= {str, type(None)}:
        return [d if d else None for d in shown]
    out: list[str | None] = []
    for row, d in enumerate(shown):
        if d is not None and not isinstance(d, str):
            bad.setdefault(row, f"{f.source}: display value should be a string, got {type(d).__name__} {d!r:.40}")
            d = None
        out.append(d or None)
    return out


def _labels(cells: list[Any], f: Field, bad: dict[int, str]) -> list[str | None]:
    shown = _displays(cells, f, bad)
    if all(shown):
        return shown
    labels = f.labels if f.kind == "label" else CHANGE_RISKS
    out: list[str | None] = []
    for row, (display, cell) in enumerate(zip(shown, cells, strict=True)):
        if display:
            out.append(display)
            continue
        try:
            out.append(_label(cell, f.source, labels))
        except ValueError as exc:
            bad.setdefault(row, str(exc))
            out.append(None)
    return out


def _times(text: pa.Array) -> tuple[pa.Array, list[int]]:
    """ServiceNow stored dates are UTC without a zone marker; parsed column-wise. Returns rows that failed."""
    parsed = pc.strptime(text, format=DATE_FORMAT, unit="s", error_is_null=True)
    # strptime rolls an impossible date on (2024-02-30 is read as 1 March, 10:00:60 as 10:01): a date that does not
    # read back as written is no date.
    as_written = pc.fill_null(pc.equal(pc.strftime(parsed, format=DATE_FORMAT), text), False)
    failed = pc.and_(pc.is_valid(text), pc.invert(as_written))
    failures = pc.indices_nonzero(failed).to_pylist() if pc.any(failed).as_py() else []
    return parsed.cast(pa.timestamp("s", tz="UTC")).cast(UTC_MS), failures


def parse_incidents_page(page: Mapping[str, Any], context: Mapping[str, Any] | None = None) -> ParseResult:
    return parse_table_page("servicenow/incidents", page)


def parse_changes_page(page: Mapping[str, Any], context: Mapping[str, Any] | None = None) -> ParseResult:
    return parse_table_page("servicenow/changes", page)


def parse_problems_page(page: Mapping[str, Any], context: Mapping[str, Any] | None = None) -> ParseResult:
    return parse_table_page("servicenow/problems", page)


def parse_task_slas_page(page: Mapping[str, Any], context: Mapping[str, Any] | None = None) -> ParseResult:
    return parse_table_page("servicenow/task_slas", page)


def parse_cmdb_ci_page(page: Mapping[str, Any], context: Mapping[str, Any] | None = None) -> ParseResult:
    return parse_table_page("servicenow/cmdb_ci", page)


PARSERS = {
    "servicenow/incidents": parse_incidents_page,
    "servicenow/changes": parse_changes_page,
    "servicenow/problems": parse_problems_page,
    "servicenow/task_slas": parse_task_slas_page,
    "servicenow/cmdb_ci": parse_cmdb_ci_page,
}
