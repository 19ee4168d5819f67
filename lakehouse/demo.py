"""The demo: start the embedded S3 store, load the example mapping, write and read a sample partition."""

from __future__ import annotations

import contextlib
import math
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa

from lakehouse.duckdb_session import open_duckdb
from lakehouse.local_s3 import EmbeddedS3
from lakehouse.mappings import MappingStore, load_file
from lakehouse.runlog import RunLog
from lakehouse.schemas import get_dataset
from lakehouse.settings import Settings
from lakehouse.storage import Lake

EXAMPLE_MAPPING = Path(__file__).resolve().parent / "examples" / "mappings.yaml"


def sample_log_counts(day_start: datetime) -> pa.Table:
    """A day of hourly error counts for two services, with a daily rhythm."""
    rows = []
    for hour in range(24):
        at = day_start + timedelta(hours=hour)
        for service, base in (("payments-api", 40), ("ledger", 12)):
            rhythm = 1 + 0.6 * math.sin((hour - 6) / 24 * 2 * math.pi)
            rows.append(
                {
                    "index_pattern": "logs-payments-*",
                    "service_name": service,
                    "environment": "production",
                    "level": "ERROR",
                    "hour": at,
                    "count": round(base * rhythm),
                }
            )
    return pa.Table.from_pylist(rows)


def write_env_file(env: dict[str, str], path: Path = Path(".rosetta/local-s3.env")) -> Path:
    """Keep the embedded store's credentials in a private file rather than on the terminal."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text("".join(f"{name}={value}\n" for name, value in env.items()), encoding="utf-8")
    return path


def run_demo(*, lake_url: str | None = None, s3_endpoint: str | None = None, keep_running: bool = False) -> int:
    with contextlib.ExitStack() as stack:
        if lake_url:
            settings = Settings(lake_url=lake_url, s3_endpoint_url=s3_endpoint)
            print(f"[1/4] using the lake at {lake_url}")
        else:
            endpoint = stack.enter_context(EmbeddedS3())
            settings = endpoint.settings("demo")
            print(f"[1/4] embedded S3 store on {endpoint.endpoint_url}, bucket {endpoint.bucket!r}")
        lake = Lake.from_settings(settings)
        lake.check()

        entries, problems = load_file(EXAMPLE_MAPPING)
        version = MappingStore(lake).apply(entries, actor="demo", note="example mapping")
        print(f"[2/4] mapping version {version.version}: {len(version.entries)} entries ({len(problems)} rejected)")

        dataset = get_dataset("elasticsearch/log_counts_hourly")
        day_start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)
        runs = RunLog(lake)
        run = runs.start("demo", "elasticsearch", dataset.id, window=(day_start, day_start + timedelta(days=1)))
        table = sample_log_counts(day_start)
        writes = lake.write_days(dataset, table)
        run.rows_in, run.rows_out = table.num_rows, sum(w.rows_after for w in writes)
        run.days_written = [w.day.isoformat() for w in writes]
        runs.finish(run, "succeeded")
        print(f"[3/4] wrote {writes[0].key} ({writes[0].rows_after} rows), run {run.run_id}")

        con = open_duckdb(settings, lake)
        glob = lake.dataset_glob(dataset)
        query = (
            "select service_name, sum(count) as errors, max(count) as worst_hour "
            "from read_parquet($glob, hive_partitioning = true) group by service_name order by service_name"
        )
        result = con.execute(query, {"glob": glob}).fetchall()
        print("[4/4] read back through DuckDB:")
        for service, errors, worst in result:
            print(f"      {service:<14} {errors:6d} errors in the day, worst hour {worst}")
        print(f"\nQuery it yourself: select * from read_parquet('{glob}', hive_partitioning = true);")  # noqa: S608
        if lake.is_s3 and not lake_url:
            env_file = write_env_file(endpoint.environment("demo"))
            print(f"While the store runs, `set -a; . {env_file}; set +a` points the CLI at it (file mode 600).")
        if keep_running:
            print("The store stays up until Ctrl-C.")
            with contextlib.suppress(KeyboardInterrupt):
                threading.Event().wait()
    return 0
