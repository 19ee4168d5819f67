"""What the run log costs once it holds months of runs: the reads an hourly build makes of it, `rosetta-monitoring
runs`, admin batch-runs and config/sources, and the analysts' views script, counted and timed on a local-folder lake.

Run: .venv/bin/python bench/bench_run_log.py [--days 365] [--cache /tmp/rosetta-bench-cache]

The records are written through RunLog on the default schedules: ServiceNow and the deployments every 15 minutes,
Dynatrace, the logs and the build every hour, a daily build at 02:40, one record per dataset a run reads (some 1,180
a day). They are kept in the cache folder for the next run: a year takes some 15 minutes to write. Each operation is
timed as the best of three, and the lake's calls it made are counted (a GET per record read).
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from functions.api.routers.admin import _run_keys, _runs_page
from lakehouse.aggregates.build import _first_days_to_rebuild
from lakehouse.aggregates.inputs import read_datasets
from lakehouse.aggregates.sqlfiles import load_sql_files
from lakehouse.runlog import RunLog
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from lakehouse.views import render_views

END = datetime(2026, 12, 1, tzinfo=UTC)
# Every 15 minutes: ServiceNow's and the deployments' datasets; every hour: Dynatrace's and the logs'.
QUARTERLY = {
    "ingest_servicenow": ["servicenow/incidents", "servicenow/changes", "servicenow/task_slas", "servicenow/cmdb_ci"],
    "ingest_deploys": [
        "argocd/app_status",
        "argocd/sync_operations",
        "argocd/deployment_history",
        "gitlab/deployments",
        "gitlab/pipelines",
        "gitlab/merge_requests",
        "deploys/deployment_events",
    ],
}
HOURLY = {
    "ingest_dynatrace": ["dynatrace/service_metrics_hourly", "dynatrace/problems", "dynatrace/entities"],
    "ingest_logs": ["elasticsearch/log_counts_hourly"],
}
SOURCES = ("dynatrace", "servicenow", "argocd", "gitlab", "elasticsearch", "deploys")


def write_runs(lake: Lake, days: int) -> int:
    """`days` of run records ending at END, as the schedules above write them; how many."""
    runs, written = RunLog(lake), 0

    def run(function: str, datasets: list[str], at: datetime) -> None:
        nonlocal written
        for dataset in datasets:
            record = runs.start(function, dataset.split("/")[0], dataset, window=(at - timedelta(hours=1), at), now=at)
            record.days_written = [at.date().isoformat()]
            runs.finish(record, "succeeded", now=at + timedelta(seconds=20))
            written += 1

    at = END - timedelta(days=days)
    while at < END:
        for function, datasets in QUARTERLY.items():
            run(function, datasets, at)
        if at.minute == 0:
            for offset, (function, datasets) in enumerate(HOURLY.items(), start=1):
                run(function, datasets, at + timedelta(minutes=5 * offset))
            modes = ["hourly", "daily"] if at.hour == 2 else ["hourly"]
            for mode in modes:
                started = at + timedelta(minutes=25 if mode == "hourly" else 40)
                runs.finish(runs.start("build_aggregates", "mart", mode, now=started), "succeeded", now=started)
                written += 1
        at += timedelta(minutes=15)
        if at.hour == 0 and at.minute == 0 and at.day == 1:
            print(f"  {at.date()}: {written:,} records", flush=True)
    return written


def counting(lake: Lake) -> Counter[str]:
    """The lake's store calls from now on, by method: every call the store answers (`versions` is a listing too)."""
    calls: Counter[str] = Counter()
    store: Any = lake.store
    for name in ("get", "list", "folders", "versions", "put", "put_file", "delete", "check"):
        method = getattr(store, name, None)
        if method is None:
            continue

        def counted(*args: Any, _method: Callable[..., Any] = method, _name: str = name, **kwargs: Any) -> Any:
            calls[_name] += 1
            return _method(*args, **kwargs)

        setattr(store, name, counted)
    return calls


def timed(label: str, calls: Counter[str], operation: Callable[[], object]) -> tuple[str, float, dict[str, int]]:
    best = float("inf")
    for _ in range(3):
        calls.clear()
        started = time.perf_counter()
        operation()
        best = min(best, time.perf_counter() - started)
    print(f"  {label}: {best * 1000:.1f} ms, {dict(calls)}", flush=True)
    return label, best, dict(calls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=365, help="days of run records (default 365)")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/rosetta-bench-cache"), help="where the lake is kept")
    args = parser.parse_args()
    folder = args.cache / f"run-log-{args.days}d"
    lake = Lake.from_settings(Settings(lake_url=str(folder)))
    if not (folder / ".done").exists():
        print(f"writing {args.days} days of run records into {folder} ...", flush=True)
        started = time.monotonic()
        fsync = os.fsync
        os.fsync = lambda fd: None  # the setup's speed only: a local folder's durability is not what is measured
        try:
            written = write_runs(lake, args.days)
        finally:
            os.fsync = fsync
        (folder / ".done").write_text(str(written))
        print(f"  {written:,} records in {time.monotonic() - started:.0f} s")
    records = int((folder / ".done").read_text())

    calls = counting(lake)
    read = read_datasets(load_sql_files())
    # The build of midnight, the last one at 23:25 the evening before.
    previous = {
        "started_at": (END - timedelta(minutes=35)).isoformat(),
        "as_of": (END - timedelta(hours=1)).isoformat(),
    }
    log = RunLog(lake)
    rows = [
        timed(
            "hourly build: the runs since the last build",
            calls,
            lambda: _first_days_to_rebuild(lake, "hourly", previous, END, read),
        ),
        timed(
            "`rosetta-monitoring runs` (7 days, 50 runs)",
            calls,
            lambda: log.list(since=(END - timedelta(days=7)).date(), limit=50),
        ),
        timed("admin batch-runs, first page of 50", calls, lambda: _runs_page(lake, _run_keys(lake, None), 50, None)),
        timed(
            "admin batch-runs, status=failed (none)",
            calls,
            lambda: _runs_page(lake, _run_keys(lake, None), 50, "failed"),
        ),
        timed("config/sources: the last run of each source", calls, lambda: [log.last_run(s) for s in SOURCES]),
        timed("`rosetta-monitoring views` (the script for this lake)", calls, lambda: render_views(lake)),
    ]
    print()
    print(
        f"Machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, Python "
        f"{platform.python_version()}. Run log: {records:,} records over {args.days} days, a local-folder lake."
    )
    print()
    print("| operation | best of 3 | store calls |")
    print("|---|---:|---|")
    for label, seconds, counted in rows:
        print(f"| {label} | {seconds * 1000:.1f} ms | {', '.join(f'{k} {v}' for k, v in counted.items())} |")


if __name__ == "__main__":
    main()
