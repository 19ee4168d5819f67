"""The two processes that live for days, the scheduler service and the API, driven through many rounds in one process:
what a round starts or opens (threads, file descriptors, local files, the serving copies) is gone once it ends."""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from functions.api import mart
from functions.api.main import create_app
from lakehouse.aggregates.build import build
from lakehouse.scheduler import INGESTION, tick
from simulators.estate import generate_estate
from tests.integration.api.conftest import READ_ROUTES, READER, api_settings, down_sources
from tests.integration.pipeline.simulated import simulated_lake
from tests.unit.aggregates.estate import AS_OF, estate_lake

ROUNDS = 3
# Descriptors a round may hold open beyond the baseline when it ends: a keep-alive connection the simulators or the
# test client have not closed yet. A leak adds some every round and passes this within a few.
SPARE_FDS = 6
# Growth of the resident memory over the rounds after the warm-up: a copy of the mart never freed, or DuckDB's memory
# kept by a connection never closed, would pass it.
SPARE_RSS_MB = 32
# The threads a round starts that end on their own once their work is done.
ENDING = ("mart-", "live", "run-heartbeat", "duckdb-release")
# What the API reads in a round: every read route Backstage calls (the shop application has no log index in the
# hand-made mapping: its logs link is left out) and the live deployments, whose sources are down.
API_ROUTES = [r for r in READ_ROUTES if not r.endswith("/logs/link")] + [
    "/monitoring/applications/shop/deployments?mode=live",
    "/monitoring/components/shop-api/deployments?mode=live",
]


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc/self/status")


def threads_once_settled(before: set[threading.Thread], wait_s: float = 20.0) -> list[str]:
    """The names of the threads started since `before` (those running when the test began) still running once those
    a round leaves to end on their own (a refresh, a copy's loader or its retirement, a live call past its page, a
    run's last write) have ended, or once `wait_s` has passed: one of these kinds that never ends is then listed."""
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline and any(t.name.startswith(ENDING) for t in started_since(before)):
        time.sleep(0.05)
    return sorted(t.name for t in started_since(before))


def started_since(before: set[threading.Thread]) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t not in before]


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


def test_scheduler_rounds_leave_no_thread_descriptor_or_scratch_file(tmp_path: Path) -> None:
    """The scheduler service runs every ingestion and a build in its own process every few minutes, for days. After a
    warm-up round (the imports, the first full build), each round ends with the threads it started ended, no more
    descriptors open than after the warm-up, and nothing left in DuckDB's temporary folder."""
    before = set(threading.enumerate())
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    estate = generate_estate(seed=5, apps=2, days=2, end=end)
    with simulated_lake(tmp_path, estate) as (_, settings, _):
        said: list[str] = []
        last_daily = tick(INGESTION, None, said.append)
        threads = threads_once_settled(before)
        fds, rss = open_fds(), rss_mb()
        for _ in range(ROUNDS):
            last_daily = tick(INGESTION, last_daily, said.append)
            assert threads_once_settled(before) == threads
            assert open_fds() <= fds + SPARE_FDS
            assert files_under(settings.duckdb_temp_directory) == []
        assert rss_mb() - rss < SPARE_RSS_MB
    assert len(said) == (ROUNDS + 1) * (len(INGESTION) + 1)
    assert [line for line in said if "failed" in line] == []


def test_a_build_failing_every_round_leaves_nothing_in_the_temporary_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A raw day the build cannot read (a damaged object) fails the scheduler's build every round until someone mends
    it. The history copies the build had written for the datasets read before it stayed in the folder of
    ROSETTA_DUCKDB_TEMP_DIRECTORY, one more set per failed round, until the disk was full. Each failed round now leaves
    the folder empty."""
    _, settings = estate_lake(tmp_path)
    # The hand-made estate's changes are read after its deployment events, whose history copy is written first.
    damaged = tmp_path / "lake" / "raw" / "servicenow" / "changes" / "day=2026-11-17" / "data.parquet"
    damaged.write_bytes(damaged.read_bytes()[:100])  # cut short
    monkeypatch.setenv("ROSETTA_LAKE_URL", settings.lake_url)
    monkeypatch.setenv("ROSETTA_DUCKDB_TEMP_DIRECTORY", str(settings.duckdb_temp_directory))
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    said: list[str] = []
    for round_ in range(ROUNDS):
        tick((), None, said.append)
        assert said[-1].startswith("scheduled build_aggregates (daily): failed after"), said[-1]
        assert "servicenow/changes/day=2026-11-17/data.parquet" in said[-1]
        assert files_under(settings.duckdb_temp_directory) == [], f"round {round_ + 1}"


def test_api_serving_new_builds_keeps_one_copy_and_no_growing_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The API (uvicorn, or a warm Lambda sandbox) answers thousands of requests and sees a new build land every
    quarter of an hour. Round after round of every read route, live ones included, and a new build served: the threads
    come back to what they were after the warm-up round, the descriptors do not grow, one copy of the mart is on disk,
    the one serving, and the serving mart keeps nothing per build it served before: its fetch locks piled up, one per
    object of every copy ever loaded, and so did the names of its copies."""
    # The copy a build replaces is retired at once: no request is under way when the next build is swapped in.
    monkeypatch.setattr(mart, "RETIRE_AFTER_S", 0.0)
    monkeypatch.setattr(mart, "_OWN_COPIES", set())  # this app's copies alone, whatever ran before in the process
    before = set(threading.enumerate())
    lake, settings = estate_lake(tmp_path)
    build(lake, settings, mode="full", as_of=AS_OF)
    app = create_app(api_settings(tmp_path), settings, down_sources())
    serving: mart.ServingMart = app.state.context.mart
    local_dir = tmp_path / "api"

    def one_round(hour: int) -> None:
        for _ in range(3):
            for route in API_ROUTES:
                answer = client.get(route, headers=READER)
                assert answer.status_code == 200, (route, answer.text)
        run_id = build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=hour)).run_id
        assert serving.refresh(force=True)
        served = client.get("/monitoring/applications/shop/summary", headers=READER).json()
        assert served["freshness"]["buildRunId"] == run_id

    with TestClient(app, raise_server_exceptions=False) as client:
        one_round(1)
        threads = threads_once_settled(before)
        fds, rss = open_fds(), rss_mb()
        for hour in range(2, ROUNDS + 2):
            one_round(hour)
            assert threads_once_settled(before) == threads
            assert open_fds() <= fds + SPARE_FDS
            serving_copy = serving.snapshot().folder
            assert serving_copy is not None
            assert [p.name for p in local_dir.iterdir()] == [serving_copy.name]
            assert {serving_copy.name} == mart._OWN_COPIES
            assert serving._fetching == {}
        assert rss_mb() - rss < SPARE_RSS_MB
