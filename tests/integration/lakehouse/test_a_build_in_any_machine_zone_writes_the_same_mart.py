"""A build run on a machine whose zone is not UTC (the demo on a laptop in Auckland or Los Angeles) writes the mart a
build in UTC writes: its days, hours and months are UTC ones. DuckDB starts a session in the machine's zone, and reads
that zone once per process, so each build runs in a child process started with TZ set, over the hand-made estate of
tests/unit/aggregates/estate.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

REPO = Path(__file__).resolve().parents[3]

# Writes the estate into a new lake at argv[1] and builds it, fully then hourly an hour later.
BUILD = """
import sys
from datetime import timedelta
from pathlib import Path
from lakehouse.aggregates.build import build
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.unit.aggregates.estate import AS_OF, write_estate

root = Path(sys.argv[1])
settings = Settings(lake_url=str(root / "lake"), duckdb_temp_directory=root / "duckdb")
lake = Lake.from_settings(settings)
write_estate(lake)
build(lake, settings, mode="full", as_of=AS_OF)
build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=1))
"""


def mart_built_in_zone(root: Path, zone: str) -> dict[str, list[str]]:
    """Every mart object's rows, by key, of the estate built by a process in `zone`: each row as its text, in sorted
    order, as a table written without an order may hold the same rows in another (two builds in UTC do)."""
    done = subprocess.run(
        [sys.executable, "-c", BUILD, str(root)],
        cwd=REPO,
        env={**os.environ, "TZ": zone, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    mart = root / "lake" / "mart"
    return {str(path.relative_to(mart)): rows(path) for path in sorted(mart.rglob("*.parquet"))}


def rows(path: Path) -> list[str]:
    return sorted(repr(row) for row in pq.read_table(path).to_pylist())


@pytest.mark.parametrize("zone", ["Pacific/Auckland", "America/Los_Angeles"])
def test_a_build_in_another_zone_writes_the_mart_a_build_in_utc_writes(tmp_path: Path, zone: str) -> None:
    in_utc = mart_built_in_zone(tmp_path / "utc", "UTC")
    elsewhere = mart_built_in_zone(tmp_path / "elsewhere", zone)
    assert in_utc  # the estate's tables were written
    assert elsewhere.keys() == in_utc.keys()
    assert [key for key in in_utc if elsewhere[key] != in_utc[key]] == []
