"""The build function's lake grants in infra/terraform are what a build reads and writes, no less and no more."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from functions.build_aggregates.handler import handler
from lakehouse.objectstore import LocalStore
from lakehouse.schemas import Dataset
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.lambda_context import LambdaContext
from tests.unit.aggregates.estate import write_estate

ROOT = Path(__file__).resolve().parents[3]
EVENTS = ROOT / "functions" / "build_aggregates" / "events"


def build_grants() -> dict[str, list[str]]:
    """local.lake_access.build_aggregates of functions.tf: the lake prefixes the build may read, write, delete."""
    terraform = (ROOT / "infra" / "terraform" / "functions.tf").read_text(encoding="utf-8")
    line = re.search(r"^\s*build_aggregates\s*=\s*\{\s*(read\s*=.*)\}\s*$", terraform, re.M)
    assert line is not None
    return {
        name: re.findall(r'"([^"]+)"', prefixes)
        for name, prefixes in re.findall(r"(read|write|delete)\s*=\s*\[([^\]]*)\]", line.group(1))
    }


def record_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every key or prefix the lake reads, lists or hands DuckDB to read, as the store's calls name them."""
    read: list[str] = []

    def recording(method: Any) -> Any:
        def call(self: Any, key: Any, *args: Any, **kwargs: Any) -> Any:
            read.append(f"raw/{key.source}/{key.name}/" if isinstance(key, Dataset) else key)
            return method(self, key, *args, **kwargs)

        return call

    for name in ("get", "list", "versions", "folders"):
        monkeypatch.setattr(LocalStore, name, recording(getattr(LocalStore, name)))
    for name in ("url_of", "dataset_glob"):
        monkeypatch.setattr(Lake, name, recording(getattr(Lake, name)))
    return read


def test_every_prefix_the_build_may_read_is_one_it_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A full build, then a daily one, read the raw datasets, the mapping (ref/), the run log (runs/) and their own
    state (state/build/, which they write too). The build was also granted all of state/, every source's watermarks
    and backfill markers, which it never reads: a grant beyond what it reads."""
    monkeypatch.setenv("ROSETTA_LAKE_URL", str(tmp_path / "lake"))
    monkeypatch.setenv("ROSETTA_DUCKDB_TEMP_DIRECTORY", str(tmp_path / "duckdb"))
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    write_estate(Lake.from_settings(Settings()))
    read = record_reads(monkeypatch)
    for _ in range(2):
        handler(json.loads((EVENTS / "daily.json").read_text()), LambdaContext())
    grants = build_grants()
    written = tuple(grants["write"])
    # Every read lies under a grant (a writer reads back what it writes).
    assert [key for key in read if not key.startswith((*grants["read"], *written))] == []
    # Every read grant beyond the writes is used by a read beyond the writes.
    outside = [key for key in read if not key.startswith(written)]
    unused = [p for p in grants["read"] if not p.startswith(written) and not any(k.startswith(p) for k in outside)]
    assert unused == []
