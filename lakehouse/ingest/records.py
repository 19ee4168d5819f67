"""What parsers return: typed rows of a declared dataset and the records they had to reject, with reasons."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from lakehouse.schemas import BOOL, FLOAT, INT, READ_AT, STR, UTC_MS, get_dataset
from lakehouse.text import valid_text


@dataclass(frozen=True)
class Reject:
    """A record that could not be parsed: why, the record as received, and where it sat in its page."""

    dataset: str
    reason: str
    raw: Any
    index: int | None = None


# The fields of a record its parser reads: a name with None keeps its value as it came, a name with fields of its own
# keeps those of the object under it.
Fields = Mapping[str, Any]


def fields_read(record: Any, fields: Fields) -> Any:
    """What a reject keeps of `record`: the fields its parser reads, as they came (the malformed one among them).
    A source that sends more than is read (GitLab sends its people whole: name, e-mail address, profile) would
    otherwise have the rejects keep what the datasets leave out."""
    if not isinstance(record, Mapping):
        return record
    return {
        name: record[name] if inner is None else fields_read(record[name], inner)
        for name, inner in fields.items()
        if name in record
    }


@dataclass
class ParseResult:
    """One page parsed: rows for each dataset it feeds, and its rejects."""

    tables: dict[str, pa.Table] = field(default_factory=dict)
    rejects: list[Reject] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(t.num_rows for t in self.tables.values())


def table_of(dataset_id: str, columns: Mapping[str, Sequence[Any] | pa.Array]) -> pa.Table:
    """A table of the dataset's declared schema from column lists (missing columns are all null)."""
    schema = get_dataset(dataset_id).schema
    length = next((len(v) for v in columns.values()), 0)
    arrays = []
    for f in schema:
        values = columns.get(f.name)
        if values is None:
            arrays.append(pa.nulls(length, f.type))
        elif isinstance(values, pa.Array | pa.ChunkedArray):
            arrays.append(values if values.type.equals(f.type) else values.cast(f.type))
        else:
            arrays.append(array_of(values, f.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def rows_table(dataset_id: str, rows: Iterable[Mapping[str, Any]]) -> pa.Table:
    """A table of the dataset's declared schema from row dicts (low-volume datasets)."""
    rows = list(rows)
    schema = get_dataset(dataset_id).schema
    try:
        return pa.Table.from_pylist(rows, schema=schema)
    except UnicodeEncodeError:
        # Only a page holding a lone surrogate pays for looking at every value.
        return pa.Table.from_pylist(valid_text(rows), schema=schema)


def array_of(values: Sequence[Any], arrow_type: pa.DataType) -> pa.Array:
    """An Arrow array of `values`, with any lone surrogate in their text replaced by U+FFFD (lakehouse.text): the
    record and the rest of its text are kept, which rejecting an incident over half an emoji would not do."""
    try:
        return pa.array(values, type=arrow_type)
    except UnicodeEncodeError:
        return pa.array(valid_text(list(values)), type=arrow_type)


def checked_row(dataset_id: str, row: dict[str, Any]) -> dict[str, Any]:
    """`row` once every value fits its column: called inside a parser's per-record `try`, a wrongly typed field
    (or a missing key) rejects that record alone instead of failing the whole page in `rows_table`."""
    for name, nullable, fits, arrow_type in _column_checks(dataset_id):
        value = row.get(name)
        if value is None:
            if not nullable:
                raise ValueError(f"{name} is missing")
        elif not fits(value):
            raise ValueError(f"{name} should be {arrow_type}, got {type(value).__name__} {repr(value)[:40]}")
    return row


INT64 = range(-(2**63), 2**63)


def _fits_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value in INT64


def _fits_float(value: Any) -> bool:
    # NaN and Infinity are not JSON, but Python's parser reads them; in the lake NaN > 0 holds and sums turn NaN.
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _fits_instant(value: Any) -> bool:
    return isinstance(value, datetime) and value.tzinfo is not None


def _fits_by_arrow(arrow_type: pa.DataType) -> Callable[[Any], bool]:
    """Other types (lists): Arrow itself tells, at a few microseconds a value."""

    def fits(value: Any) -> bool:
        try:
            pa.scalar(value, type=arrow_type)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            return False
        return True

    return fits


# The checks of the common types in plain Python: a page of 20,000 rows is checked in milliseconds.
_FITS: dict[pa.DataType, Callable[[Any], bool]] = {
    STR: lambda value: isinstance(value, str),
    INT: _fits_int,
    FLOAT: _fits_float,
    BOOL: lambda value: isinstance(value, bool),
    UTC_MS: _fits_instant,
}


@functools.cache
def _column_checks(dataset_id: str) -> tuple[tuple[str, bool, Callable[[Any], bool], pa.DataType], ...]:
    return tuple(
        (f.name, f.nullable, _FITS.get(f.type) or _fits_by_arrow(f.type), f.type)
        for f in get_dataset(dataset_id).schema
    )


def earliest_read(table: pa.Table) -> list[tuple[str, str]]:
    """The aggregation keeping a combined row's earliest read (`read_at_min`), when its pages were stamped: its values
    were all read by then, so a later read of the key that differs replaces them. A page's own rows are combined before
    the run stamps them."""
    return [(READ_AT, "min")] if READ_AT in table.column_names else []


def ms_to_datetime(ms: int) -> datetime:
    """Epoch milliseconds to a UTC instant; ValueError for a number no date holds (the platform's own errors for
    those differ: OverflowError, OSError)."""
    try:
        return datetime.fromtimestamp(ms / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        shown = str(ms) if len(str(ms)) <= 24 else f"a {len(str(ms))}-character number"
        raise ValueError(f"{shown} is no time in epoch milliseconds") from None


def parse_instant(value: Any) -> datetime | None:
    """ISO 8601 / RFC 3339 with a zone (Z or an offset) to a UTC datetime; None for null or empty.

    Raises ValueError for a zoneless or unreadable value: an instant without a zone is ambiguous.
    """
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"expected an ISO 8601 string, got {type(value).__name__}")
    # RFC 3339 (section 5.6) allows a lower-case "t" and "z"; Python reads the "t" but not the "z".
    moment = datetime.fromisoformat(value[:-1] + "Z" if value.endswith("z") else value)
    if moment.tzinfo is None:
        raise ValueError(f"instant without a time zone: {value!r}")
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{value} is outside the dates UTC can hold") from None


def require_str(record: Mapping[str, Any], key: str) -> str:
    value = record.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{key} is {'missing' if value is None else type(value).__name__ + ' ' + repr(value)[:40]}")
    return value


def optional_str(record: Mapping[str, Any], key: str) -> str | None:
    value = record.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"{key} should be a string, got {type(value).__name__}")
    return value


def require_int(record: Mapping[str, Any], key: str) -> int:
    value = record.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{key} should be an integer, got {type(value).__name__}")
    return value


def optional_int(record: Mapping[str, Any], key: str) -> int | None:
    value = record.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{key} should be an integer, got {type(value).__name__}")
    return value
