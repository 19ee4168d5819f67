"""End-to-end ingestion of a synthetic estate from the simulators into a local lake: time, peak memory, requests.

Run: .venv/bin/python bench/bench_ingest.py [--apps 500] [--days 30] [--sources dynatrace,servicenow,deploys,logs]
The simulators run in their own process (python -m simulators) and each source is ingested in a fresh child
process, so the peak memory reported is the ingestion's alone.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from peak_memory import peak_rss_mb

END = datetime(2024, 3, 6, tzinfo=UTC)
REPO = Path(__file__).resolve().parent.parent


def start_simulators(apps: int, days: int) -> tuple[subprocess.Popen[str], dict[str, str]]:
    command = [
        sys.executable,
        "-m",
        "simulators",
        "--apps",
        str(apps),
        "--days",
        str(days),
        "--seed",
        "42",
        "--end",
        END.isoformat(),
    ]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    env: dict[str, str] = {}
    assert process.stdout is not None
    for line in process.stdout:
        match = re.match(r"^export (\w+)='(.*)'$", line.strip())
        if match:
            env[match.group(1)] = match.group(2)
        if line.startswith("Serving until"):
            return process, env
    raise RuntimeError("the simulators did not start")


def run_one(source: str, days: int) -> dict[str, Any]:
    """In the child: one source, one window, then report."""
    from lakehouse.ingest.config import IngestSettings
    from lakehouse.ingest.sources import ingest
    from lakehouse.ingest.window import Window
    from lakehouse.settings import Settings
    from lakehouse.storage import Lake

    lake = Lake.from_settings(Settings())
    start = END - timedelta(days=days)
    window = (
        Window(start, END)
        if source in ("dynatrace", "logs")
        else Window(start - timedelta(days=401), END + timedelta(hours=1))
    )
    t0 = time.perf_counter()
    outcome = ingest(source, lake, IngestSettings(), window=window)
    seconds = time.perf_counter() - t0
    return {
        "source": source,
        "seconds": round(seconds, 1),
        "peak_rss_mb": round(peak_rss_mb()),
        **outcome.totals(),
        "datasets": {
            d: {k: s[k] for k in ("rows_out", "pages", "requests", "status", "error")}
            for d, s in outcome.summary()["datasets"].items()
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--apps", type=int, default=500)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--sources", default="dynatrace,servicenow,deploys,logs")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.days)))
        return
    t0 = time.perf_counter()
    simulators, env = start_simulators(args.apps, args.days)
    print(f"simulators ready in {time.perf_counter() - t0:.1f} s ({args.apps} apps, {args.days} days)", flush=True)
    lake_dir = tempfile.mkdtemp(prefix="rosetta-bench-")
    child_env = {**os.environ, **env, "ROSETTA_LAKE_URL": lake_dir, "POWERTOOLS_TRACE_DISABLED": "true"}
    try:
        catalog = Path(lake_dir) / "catalog-info.yaml"
        catalog.write_text(_catalog(args.apps, args.days))
        subprocess.run(
            [sys.executable, "-m", "lakehouse.cli", "mappings", "import", str(catalog)],
            cwd=REPO,
            env=child_env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        for source in args.sources.split(","):
            done = subprocess.run(
                [sys.executable, __file__, "--one", source, "--days", str(args.days)],
                cwd=REPO,
                env=child_env,
                check=True,
                capture_output=True,
                text=True,
            )
            print(done.stdout.strip().splitlines()[-1], flush=True)
    finally:
        simulators.terminate()
        simulators.wait(timeout=30)


def _catalog(apps: int, days: int) -> str:
    from simulators.estate import generate_estate

    return generate_estate(seed=42, apps=apps, days=days, end=END).catalog_yaml()


if __name__ == "__main__":
    main()
