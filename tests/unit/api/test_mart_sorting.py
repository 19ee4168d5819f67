"""Which mart objects the serving copy can mirror as they are (already ordered by application)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from functions.api.mart import ROW_GROUP, _sorted_by_app


def _write(path: Path, apps: list[str], row_group: int) -> Path:
    table = pa.table({"app_id": apps, "value": list(range(len(apps)))})
    pq.write_table(table, path, row_group_size=row_group)
    return path


def test_row_groups_in_application_order_need_no_resort(tmp_path: Path) -> None:
    # Groups: [a, a], [a, b], [c, c] -- an application may span two groups.
    path = _write(tmp_path / "sorted.parquet", ["app-a", "app-a", "app-a", "app-b", "app-c", "app-c"], 2)
    assert _sorted_by_app(path)


def test_overlapping_row_groups_are_resorted(tmp_path: Path) -> None:
    # Groups: [a, c], [b, d] -- the second starts before the first ends.
    path = _write(tmp_path / "mixed.parquet", ["app-a", "app-c", "app-b", "app-d"], 2)
    assert not _sorted_by_app(path)


def test_table_without_application_column_is_not_treated_as_sorted(tmp_path: Path) -> None:
    path = tmp_path / "other.parquet"
    pq.write_table(pa.table({"team": ["x", "y"]}), path)
    assert not _sorted_by_app(path)


def test_one_large_row_group_is_resorted(tmp_path: Path) -> None:
    # Statistics of a single group cannot skip anything: the copy is split into small sorted groups instead.
    rows = ROW_GROUP + 1
    path = _write(tmp_path / "large.parquet", ["app-a"] * rows, rows)
    assert not _sorted_by_app(path)
