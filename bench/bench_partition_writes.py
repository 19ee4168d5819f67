"""Day partitions written as an ingest writes them: a window of incidents split by day, each day merged with what
the lake holds (the first pass writes new days, the second merges the same rows again, as a re-run does).

Run: .venv/bin/python bench/bench_partition_writes.py [--days 90] [--per-day 200]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa

from lakehouse.objectstore import LocalStore
from lakehouse.schemas import get_dataset
from lakehouse.storage import Lake

START = datetime(2026, 8, 1, tzinfo=UTC)


def incidents(days: int, per_day: int) -> pa.Table:
    dataset = get_dataset("servicenow/incidents")
    items = []
    for day in range(days):
        for i in range(per_day):
            opened = START + timedelta(days=day, minutes=7 * i)
            items.append(
                {
                    "sys_id": f"{day:06d}{i:06d}".ljust(32, "0"),
                    "number": f"INC{day:04d}{i:04d}",
                    "cmdb_ci_sys_id": f"ci{i % 50}",
                    "opened_at": opened,
                    "priority": 1 + i % 5,
                    "state": 2,
                    "sys_updated_on": opened,
                }
            )
    return pa.Table.from_pylist(
        [{c.name: item.get(c.name) for c in dataset.columns} for item in items], schema=dataset.schema
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--per-day", type=int, default=200)
    args = parser.parse_args()
    dataset = get_dataset("servicenow/incidents")
    table = incidents(args.days, args.per_day)
    with tempfile.TemporaryDirectory() as folder:
        lake = Lake(LocalStore(Path(folder)), folder)
        for label in ("new days", "merged again"):
            started = time.perf_counter()
            writes = lake.write_days(dataset, table)
            seconds = time.perf_counter() - started
            print(f"{label}: {len(writes)} partitions in {seconds:.2f} s ({1000 * seconds / len(writes):.1f} ms each)")


if __name__ == "__main__":
    main()
