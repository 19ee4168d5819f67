"""The local-folder store: what its listing calls an object, and how a local file is put."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lakehouse.objectstore import LocalStore

DAY = "raw/servicenow/incidents/day=2026-11-01/data.parquet"


def _another_file_system(here: Path) -> Path:
    """A writable folder on another file system than `here`'s (Linux mounts shared memory on its own)."""
    for candidate in (Path("/dev/shm"), Path("/run/user") / str(os.getuid()), Path("/var/tmp"), Path("/tmp")):
        if candidate.is_dir() and os.access(candidate, os.W_OK) and candidate.stat().st_dev != here.stat().st_dev:
            return candidate
    pytest.skip("no writable folder on another file system than the test's own")


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


def test_a_file_on_another_file_system_is_copied_whole_and_left_for_the_caller(tmp_path: Path) -> None:
    """A build's scratch folder need not share the lake's disk: a file put from another file system (here the
    machine's shared-memory one) cannot be moved into place, so it is copied beside the target, then swapped in."""
    other = _another_file_system(tmp_path)
    source = other / f"rosetta-put-{tmp_path.name}.parquet"
    source.write_bytes(b"month rows" * 100_000)
    try:
        store = LocalStore(tmp_path / "lake")
        store.put(DAY, b"the previous version")

        store.put_file(DAY, source)

        assert (tmp_path / "lake" / DAY).read_bytes() == b"month rows" * 100_000
        assert source.exists()  # not removed by the store: the caller removes what is left
        assert store.list("") == [DAY]
        assert [p.name for p in (tmp_path / "lake" / DAY).parent.iterdir()] == ["data.parquet"]
    finally:
        source.unlink(missing_ok=True)


def test_a_file_on_the_same_file_system_is_moved_into_place(tmp_path: Path) -> None:
    source = tmp_path / "scratch.parquet"
    source.write_bytes(b"month rows")
    store = LocalStore(tmp_path / "lake")

    store.put_file(DAY, source)

    assert (tmp_path / "lake" / DAY).read_bytes() == b"month rows"
    assert not source.exists()
