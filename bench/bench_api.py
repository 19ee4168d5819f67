"""API latency, throughput, cold start and memory on a large lake served from the embedded S3 server.

Run: .venv/bin/python bench/bench_api.py [--cache /tmp/rosetta-bench-cache] [--apps 1000] [--days 365]

The raw lake comes from bench/lake_generator.py (reused from --cache when there); the mart is built once in a
scratch copy, then mart/, the build state and the mapping are uploaded to the embedded S3 server, which is what
the API reads. uvicorn runs the API in a subprocess; an httpx client measures it from this process.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import math
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lake_generator import DEFAULT_END, LakeSpec, generate
from peak_memory import status_mb

from lakehouse.aggregates.build import build
from lakehouse.local_s3 import EmbeddedS3
from lakehouse.settings import Settings
from lakehouse.storage import Lake

KEY = "bench-reader-key"
ROOT = Path(__file__).resolve().parent.parent


def ensure_mart(cache: Path, work: Path, spec: LakeSpec) -> Path:
    """A lake with a built mart in `work` (the raw part copied from the shared cache, never written there)."""
    lake_dir = work / f"lake-{spec.apps}x{spec.days}"
    if (lake_dir / "state" / "build" / "aggregates.json").exists():
        return lake_dir
    source = cache / f"lake-{spec.apps}x{spec.days}-seed{spec.seed}"
    if not source.with_name(source.name + ".done").exists():
        print(f"generating {spec.apps} x {spec.days} in {lake_dir}")
        generate(lake_dir, spec)
    else:
        print(f"copying the raw lake from {source}")
        shutil.rmtree(lake_dir, ignore_errors=True)
        shutil.copytree(source, lake_dir)
    settings = Settings(lake_url=str(lake_dir), duckdb_temp_directory=work / "duckdb", duckdb_memory_limit="3GB")
    started = time.monotonic()
    as_of = datetime.combine(spec.end + timedelta(days=1), dtime(), tzinfo=UTC)
    build(Lake.from_settings(settings), settings, mode="full", as_of=as_of)
    print(f"mart built in {time.monotonic() - started:.1f} s")
    return lake_dir


def upload(lake_dir: Path, s3: Settings) -> int:
    lake = Lake.from_settings(s3)
    sent = 0
    for prefix in ("mart", "ref", "state/build"):
        for path in sorted((lake_dir / prefix).rglob("*")):
            if path.is_file():
                lake.store.put(str(path.relative_to(lake_dir)), path.read_bytes())
                sent += path.stat().st_size
    return sent


def compile_as_the_image() -> None:
    """The project's modules compiled to bytecode beside their sources, as pip compiles the image's
    (infra/docker/Dockerfile). A machine that writes no bytecode (PYTHONDONTWRITEBYTECODE) would otherwise compile
    every module of the project again in each new process: 0.1-0.2 s of the import that Lambda, reading the image's
    compiled files, never spends. Python reads a compiled file only while its source is unchanged."""
    packages = [str(ROOT / name) for name in ("lakehouse", "functions")]
    subprocess.run([sys.executable, "-m", "compileall", "-q", *packages], check=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_processes(pid: int) -> list[int]:
    """The server's process and its children (uvicorn's workers when there are more than one), from /proc."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [pid, *map(int, children)]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of the server's processes (their threads included), from /proc."""
    total = 0
    for process in server_processes(pid):
        fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> tuple[float, float]:
    """The server's processes' resident memory, and the sum of their peaks (each process's own)."""
    sizes = [status_mb("VmRSS", "VmHWM", pid=process) for process in server_processes(pid)]
    return sum(rss for rss, _ in sizes), sum(peak for _, peak in sizes)


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank percentile: the smallest value at least `q` of the values are at or under (p99 of 60 is the
    largest: rounding an index down took the second largest)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


COLD_START = """
import time, sys
t0 = time.perf_counter()
from functions.api.main import handler
t1 = time.perf_counter()
event = {"version": "2.0", "routeKey": "$default", "rawPath": "/monitoring/applications/app-0042/summary",
         "rawQueryString": "", "headers": {"x-api-key": sys.argv[1], "host": "api"}, "isBase64Encoded": False,
         "requestContext": {"http": {"method": "GET", "path": "/monitoring/applications/app-0042/summary",
         "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "bench"}, "stage": "$default",
         "requestId": "r", "routeKey": "$default", "accountId": "1", "apiId": "a", "domainName": "api",
         "domainPrefix": "api", "time": "x", "timeEpoch": 0}}
answer = handler(event, None)
t2 = time.perf_counter()
from bench.peak_memory import peak_rss_mb
print(answer["statusCode"], round(t1 - t0, 3), round(t2 - t0, 3), int(peak_rss_mb()))
"""


def endpoints(app: str) -> dict[str, str]:
    comp = f"{app}-api"
    return {
        "summary": f"/monitoring/applications/{app}/summary",
        "timeseries 24h": f"/monitoring/applications/{app}/timeseries?metric=latency_p95",
        "timeseries 30d": f"/monitoring/applications/{app}/timeseries?metric=error_rate&period=last_30d",
        "component summary": f"/monitoring/components/component:default/{comp}/summary",
        "incidents": f"/monitoring/applications/{app}/incidents?status=all",
        "changes": f"/monitoring/applications/{app}/changes",
        "deployments": f"/monitoring/applications/{app}/deployments?period=last_90d",
        "logs link": f"/monitoring/applications/{app}/logs/link?timeRange=now-1h",
        "overview": "/monitoring/overview?period=last_30d",
        "kpis/slo app": "/monitoring/kpis/slo?period=last_30d&groupBy=app&limit=100",
        "kpis/slo domain from/to": "/monitoring/kpis/slo?groupBy=domain&from=2025-06-01&to=2025-09-01",
        "kpis/dora team": "/monitoring/kpis/dora?period=last_90d&groupBy=team&limit=100",
        "kpis/dora team from/to": "/monitoring/kpis/dora?groupBy=team&from=2025-06-01&to=2025-09-01&limit=100",
        "risk/top": "/monitoring/risk/top?metric=risk&limit=10",
        "risk/top error_rate 90d": "/monitoring/risk/top?metric=error_rate&period=last_90d",
    }


async def load(base: str, urls: list[str], concurrency: int, seconds: float) -> tuple[int, int, float]:
    done = errors = 0
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, headers={"X-API-Key": KEY}, limits=limits, timeout=30) as client:

        async def worker(n: int) -> None:
            nonlocal done, errors
            i = n
            while time.monotonic() < deadline:
                r = await client.get(urls[i % len(urls)])
                i += concurrency
                done += 1
                errors += r.status_code != 200

        started = time.monotonic()
        await asyncio.gather(*(worker(n) for n in range(concurrency)))
        return done, errors, time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/rosetta-bench-cache"))
    parser.add_argument("--work", type=Path, default=Path("/tmp/rosetta-api-bench"))
    parser.add_argument("--apps", type=int, default=1000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--samples", type=int, default=200, help="sequential requests per endpoint")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    args = parser.parse_args()
    spec = LakeSpec(apps=args.apps, days=args.days, end=DEFAULT_END, seed=42)
    args.work.mkdir(parents=True, exist_ok=True)
    lake_dir = ensure_mart(args.cache, args.work, spec)
    env_keys = json.dumps([{"name": "bench", "sha256": hashlib.sha256(KEY.encode()).hexdigest(), "roles": ["reader"]}])
    cpu = platform.processor() or platform.machine()
    print(f"machine: {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}")

    with EmbeddedS3(bucket="rosetta-bench") as endpoint:
        s3 = endpoint.settings("api-bench")
        t = time.monotonic()
        size = upload(lake_dir, s3)
        print(f"uploaded {size / 1e6:.1f} MB of mart/ref/state to the embedded S3 in {time.monotonic() - t:.1f} s")
        env = (
            os.environ
            | endpoint.environment("api-bench")
            | {
                "ROSETTA_API_API_KEYS": env_keys,
                "ROSETTA_API_KIBANA_URL": "http://kibana.example.org",
                "ROSETTA_API_LOCAL_DIR": str(args.work / "serving"),
                "ROSETTA_DUCKDB_TEMP_DIRECTORY": str(args.work / "duckdb-api"),
                "ROSETTA_DUCKDB_MEMORY_LIMIT": "256MB",
                "PYTHONPATH": str(ROOT),
            }
        )

        compile_as_the_image()
        # An empty folder for its copy, as a new Lambda environment's /tmp is: in the server's folder, the cold start
        # would first remove the copy the previous run's server left there (some 200 MB, 0.05-0.1 s).
        cold_dir = args.work / "cold-start"
        shutil.rmtree(cold_dir, ignore_errors=True)
        cold = subprocess.run(
            [sys.executable, "-c", COLD_START, KEY],
            env=env | {"ROSETTA_API_LOCAL_DIR": str(cold_dir)},
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        status, imported, first, hwm = cold.stdout.split()[-4:]
        print(
            f"cold start (new process, Lambda handler): import {imported} s, first answer {first} s "
            f"(status {status}, peak RSS {hwm} MB)"
        )

        port = free_port()
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "functions.api.main:create_app",
                "--port",
                str(port),
                "--workers",
                str(args.workers),
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            env=env,
            cwd=ROOT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(200):
                try:
                    if httpx.get(f"{base}/monitoring/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            t = time.monotonic()
            first_answer = httpx.get(
                f"{base}/monitoring/applications/app-0001/summary", headers={"X-API-Key": KEY}, timeout=300
            )
            print(
                f"first answer on the server (serving copy loaded from S3): {time.monotonic() - t:.2f} s "
                f"({first_answer.status_code})"
            )
            # Warm means loaded: a route other than the summary waits until the whole copy is defined.
            httpx.get(f"{base}/monitoring/overview", headers={"X-API-Key": KEY}, timeout=300)
            rows = []
            with httpx.Client(base_url=base, headers={"X-API-Key": KEY}, timeout=30) as client:
                for name, _ in endpoints("app-0000").items():
                    timings = []
                    for i in range(args.samples):
                        url = endpoints(f"app-{(i * 37) % args.apps:04d}")[name]
                        t = time.perf_counter()
                        r = client.get(url)
                        timings.append((time.perf_counter() - t) * 1000)
                        assert r.status_code == 200, (url, r.status_code, r.text[:300])
                    rows.append(
                        (name, statistics.median(timings), percentile(timings, 0.95), percentile(timings, 0.99))
                    )
            print("\n| endpoint | p50 ms | p95 ms | p99 ms |\n|---|---|---|---|")
            for name, p50, p95, p99 in rows:
                print(f"| {name} | {p50:.1f} | {p95:.1f} | {p99:.1f} |")
            mix = [endpoints(f"app-{i:04d}")[k] for i in range(0, args.apps, 7) for k in ("summary", "timeseries 24h")]
            cpu_before = cpu_seconds(server.pid)
            done, errors, elapsed = asyncio.run(load(base, mix, args.concurrency, args.seconds))
            server_cpu = cpu_seconds(server.pid) - cpu_before
            if errors:
                # A fast error is no request served: a throughput counting them would say nothing.
                raise SystemExit(f"{errors} of {done} requests under load were not answered 200: no throughput figure")
            print(
                f"\nthroughput: {done / elapsed:.0f} req/s over {elapsed:.1f} s, {args.concurrency} concurrent "
                f"clients, summary+timeseries mix, every request answered 200; server CPU "
                f"{server_cpu / elapsed:.2f} cores, {server_cpu / max(done, 1) * 1000:.1f} ms of CPU per request (the "
                "client runs on the same 2 cores)"
            )
            rss, peak = rss_mb(server.pid)
            processes = len(server_processes(server.pid))
            print(f"server RSS {rss:.0f} MB, peak {peak:.0f} MB ({processes} uvicorn process{'es' * (processes > 1)})")
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
