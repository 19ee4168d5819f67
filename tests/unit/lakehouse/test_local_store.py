"""The local-folder store: what its listing calls an object."""

from __future__ import annotations

from pathlib import Path

from lakehouse.objectstore import LocalStore

DAY = "raw/servicenow/incidents/day=2026-11-01/data.parquet"


def test_a_write_or_a_lock_in_progress_is_not_an_object(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.put(DAY, b"rows")
    store.put("state/build/aggregates.json", b"{}")
    folder = tmp_path / "raw/servicenow/incidents/day=2026-11-01"
    (folder / ".data.parquet.x1y2.tmp").write_bytes(b"half a write")
    (folder / ".data.parquet.lock").write_bytes(b"")
    (tmp_path / "raw/servicenow/incidents/day=2026-11-02").mkdir()  # a folder left empty

    assert store.list("raw/") == [DAY]
    assert store.list("") == [DAY, "state/build/aggregates.json"]
    assert list(store.versions("raw/servicenow/")) == [DAY]
    assert store.list(DAY) == [DAY]  # a key names itself
    assert store.list("raw/gitlab/") == []


def test_a_version_changes_when_the_object_is_replaced(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.put(DAY, b"rows")
    before = store.versions("raw/")[DAY]
    store.put(DAY, b"more rows")
    assert store.versions("raw/")[DAY] != before
