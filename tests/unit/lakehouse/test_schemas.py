"""Dataset declarations: conforming tables, and clear errors that name the column."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pytest

from lakehouse.errors import SchemaMismatchError
from lakehouse.schemas import REGISTRY, get_dataset

LOGS = get_dataset("elasticsearch/log_counts_hourly")
HOUR = datetime(2026, 11, 1, 13, tzinfo=UTC)


def log_rows(**overrides: object) -> dict[str, object]:
    row: dict[str, object] = {
        "index_pattern": "logs-pay-*",
        "service_name": "payments-api",
        "environment": "production",
        "level": "ERROR",
        "hour": [HOUR],
        "count": [7],
    }
    row = {k: (v if isinstance(v, list) else [v]) for k, v in row.items()}
    row.update({k: (v if isinstance(v, list) else [v]) for k, v in overrides.items()})
    return row


def test_conform_orders_columns_and_widens_safe_types() -> None:
    table = pa.table({**log_rows(), "count": pa.array([7], pa.int32())}).select(
        ["count", "hour", "level", "environment", "service_name", "index_pattern"]
    )
    out = LOGS.conform(table)
    assert out.column_names == [c.name for c in LOGS.columns]
    assert out.schema.field("count").type == pa.int64()
    assert out.column("count").to_pylist() == [7]


def test_missing_column_is_named() -> None:
    rows = log_rows()
    del rows["level"]
    with pytest.raises(SchemaMismatchError, match="missing column 'level'"):
        LOGS.conform(pa.table(rows))


def test_unexpected_column_is_named() -> None:
    with pytest.raises(SchemaMismatchError, match="unexpected column 'host'"):
        LOGS.conform(pa.table(log_rows(host="h1")))


def test_string_where_number_expected_is_refused() -> None:
    with pytest.raises(SchemaMismatchError, match=r"column 'count' is string, expected int64"):
        LOGS.conform(pa.table(log_rows(count="7")))


def test_null_in_a_required_column_is_refused() -> None:
    table = pa.table({**log_rows(), "service_name": pa.array([None], pa.string())})
    with pytest.raises(SchemaMismatchError, match="column 'service_name' has 1 null"):
        LOGS.conform(table)


def test_naive_timestamps_are_refused() -> None:
    table = pa.table({**log_rows(), "hour": pa.array([datetime(2026, 11, 1, 13)], pa.timestamp("ms"))})  # noqa: DTZ001
    with pytest.raises(SchemaMismatchError, match="'hour' holds naive timestamps"):
        LOGS.conform(table)


def test_unknown_dataset_lists_the_known_ones() -> None:
    with pytest.raises(SchemaMismatchError, match=r"unknown dataset 'servicenow/incident'.*servicenow/incidents"):
        get_dataset("servicenow/incident")


@pytest.mark.parametrize("dataset", sorted(REGISTRY), ids=str)
def test_every_declaration_is_coherent(dataset: str) -> None:
    d = REGISTRY[dataset]
    names = [c.name for c in d.columns]
    assert len(names) == len(set(names)), "duplicate column"
    assert all(n == n.lower() and " " not in n for n in names), "snake_case column names"
    for key in d.natural_key:
        assert not d.column(key).nullable, f"key column {key} must be required"
    partition = d.column(d.partition_column)
    assert pa.types.is_timestamp(partition.type) and partition.type.tz == "UTC" and not partition.nullable
    for c in d.columns:
        if pa.types.is_timestamp(c.type):
            assert c.type.tz == "UTC", f"{c.name} must be UTC"
    if d.version_column:
        assert d.version_column in names
