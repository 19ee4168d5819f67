"""The local scheduler fires what EventBridge would: ingestion since the watermark, then the build."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from lakehouse import scheduler
from lakehouse.mappings import MappingStore, from_catalog
from lakehouse.runlog import RunLog
from lakehouse.scheduler import function_output_to, tick
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from simulators.estate import generate_estate
from simulators.serve import start_simulators


@contextmanager
def simulated_estate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, metrics: bool) -> Iterator[Lake]:
    """Two applications over the last two days behind the simulators, the functions' settings pointing at them and
    at a lake of the test's own, mapped from the estate's catalog."""
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    estate = generate_estate(seed=5, apps=2, days=2, end=end)
    with start_simulators(estate) as sims:
        for name, value in sims.env().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("ROSETTA_LAKE_URL", str(tmp_path / "lake"))
        monkeypatch.setenv("ROSETTA_DUCKDB_TEMP_DIRECTORY", str(tmp_path / "duckdb"))
        monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
        monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false" if metrics else "true")
        lake = Lake.from_settings(Settings())
        catalog = httpx.get(f"{sims.urls['catalog']}/catalog-info.yaml", timeout=30).text
        MappingStore(lake).apply(from_catalog(list(yaml.safe_load_all(catalog)))[0], actor="test")
        yield lake


def test_a_round_ingests_then_builds_daily_once_a_day(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with simulated_estate(tmp_path, monkeypatch, metrics=False) as lake:
        said: list[str] = []
        last_daily = tick(("servicenow",), None, said.append)
        tick(("servicenow",), last_daily, said.append)
    assert last_daily == datetime.now(UTC).date()
    runs = RunLog(lake).list(limit=50)
    builds = [r for r in runs if r.function == "build_aggregates"]
    # The first build is full (no earlier build), the second hourly: the daily refresh ran once today.
    assert [(r.dataset, r.trigger) for r in reversed(builds)] == [("full", "scheduler"), ("hourly", "scheduler")]
    ingested = [r for r in runs if r.source == "servicenow" and r.status == "succeeded"]
    assert ingested and all(r.trigger == "schedule" for r in ingested)
    assert any(line.startswith("scheduled build_aggregates (full): succeeded") for line in said)


def test_a_round_killed_outright_leaves_its_ingestion_runs_to_read_failed_within_minutes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing stops a local ingestion, yet its records kept the day its context said was left as their deadline and no
    sign of life: a round killed outright (SIGKILL, a crashed machine) read "running" for a day. They now have no
    deadline and renew alive_until, 15 minutes ahead, as a run by hand does; the build's keeps its lease's 30 minutes,
    by which it stops itself."""
    with simulated_estate(tmp_path, monkeypatch, metrics=False) as lake:
        tick(("servicenow",), None, lambda line: None)
    runs = RunLog(lake).list(limit=50)
    ingested = [r for r in runs if r.source == "servicenow"]
    assert ingested and all(r.deadline is None and r.alive_until is not None for r in ingested)
    assert all(r.alive_until - r.started_at <= timedelta(minutes=15, seconds=5) for r in ingested if r.alive_until)
    (built,) = [r for r in runs if r.function == "build_aggregates"]
    assert built.deadline is not None and built.alive_until is None
    assert timedelta(minutes=29) < built.deadline - built.started_at <= timedelta(minutes=30, seconds=5)


def test_a_round_says_one_line_per_run_and_keeps_the_functions_output_in_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """The demo's scheduler printed the functions' Powertools JSON log lines and EMF metric blobs on the terminal,
    between its own lines. Each run now says one line (function, status, rows or tables, seconds), and what the
    functions print, as they print it in Lambda, goes to the log file."""
    with simulated_estate(tmp_path, monkeypatch, metrics=True):  # the metric blobs Lambda sends CloudWatch
        capfd.readouterr()
        said: list[str] = []
        log_file = tmp_path / ".rosetta" / "demo.log"
        with function_output_to(log_file) as log:
            tick(("servicenow", "logs"), None, said.append, log=log)
    assert capfd.readouterr().out == ""
    assert len(said) == 3, said
    assert re.fullmatch(r"scheduled ingest_servicenow: succeeded, [1-9]\d* rows in \d+\.\d s", said[0]), said
    assert re.fullmatch(r"scheduled ingest_logs: succeeded, [1-9]\d* rows in \d+\.\d s", said[1]), said
    assert re.fullmatch(r"scheduled build_aggregates \(full\): succeeded, \d+ tables in \d+\.\d s, run \S+", said[2])
    printed = [json.loads(line) for line in log_file.read_text(encoding="utf-8").splitlines()]
    metric_blobs = {record["service"] for record in printed if "_aws" in record}
    assert metric_blobs == {"ingest_servicenow", "ingest_logs", "build_aggregates"}


@pytest.mark.filterwarnings("always")
def test_a_failed_run_says_its_line_and_its_warnings_go_to_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a lake without a mapping every run fails before it counts anything, and Powertools warned on the terminal
    that it had no metrics to publish, a warning and its source line after the run's own line. Each run says its line;
    the warning goes to the log file with the rest of the functions' output."""
    monkeypatch.setenv("ROSETTA_LAKE_URL", str(tmp_path / "lake"))
    monkeypatch.setenv("ROSETTA_DUCKDB_TEMP_DIRECTORY", str(tmp_path / "duckdb"))
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    Lake.from_settings(Settings())
    said: list[str] = []
    log_file = tmp_path / ".rosetta" / "demo.log"
    with function_output_to(log_file) as log:
        tick(("servicenow",), None, said.append, log=log)
    assert [line.split(":")[0] for line in said] == [
        "scheduled ingest_servicenow",
        "scheduled build_aggregates (daily)",
    ]
    assert all(": failed after " in line for line in said), said
    assert log_file.read_text(encoding="utf-8").count("UserWarning: No application metrics to publish") == 2


def test_a_failed_build_is_logged_and_the_schedule_goes_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """A build that fails (the lake briefly unreachable) prints one line and the scheduler keeps running:
    the demo and the scheduler service stay up, and the next round retries the daily build."""
    builds: list[str] = []
    stop = threading.Event()

    def build(event: dict[str, Any], context: Any) -> dict[str, Any]:
        builds.append(event["mode"])
        if len(builds) == 1:
            raise RuntimeError("the lake was briefly unreachable")
        stop.set()
        return {"mode": event["mode"], "run_id": "r2"}

    monkeypatch.setattr(scheduler, "handler_for", lambda name: build)
    said: list[str] = []
    worker = threading.Thread(
        target=scheduler.run_schedule, args=(0.001, said.append), kwargs={"sources": (), "stop": stop}, daemon=True
    )
    worker.start()
    worker.join(timeout=5)
    stop.set()
    assert builds == ["daily", "daily"], builds
    assert re.fullmatch(
        r"scheduled build_aggregates \(daily\): failed after \d+\.\d s: RuntimeError: the lake was briefly unreachable",
        said[0],
    )


def test_a_run_that_set_records_aside_says_so_in_its_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """A deploys run whose GitLab deployments kept 10 rows and set 1 aside (a project gone, a malformed record) is
    `partial` in the run log, yet the scheduler said "succeeded, 15 rows", the reject nowhere. Its line now says
    partial, the 10 + 5 = 15 rows written and the 1 rejected; a run without rejects keeps its short line."""
    deploys = {
        "runs": [
            {
                "status": "succeeded",
                "datasets": {
                    "gitlab/deployments": {"status": "partial", "rows_out": 10, "rows_rejected": 1},
                    "argocd/app_status": {"status": "succeeded", "rows_out": 5, "rows_rejected": 0},
                },
            }
        ]
    }
    logs = {
        "runs": [
            {
                "status": "succeeded",
                "datasets": {
                    "elasticsearch/log_counts_hourly": {"status": "succeeded", "rows_out": 42, "rows_rejected": 0}
                },
            }
        ]
    }

    def handler_for(name: str) -> Any:
        answers = {"ingest_deploys": deploys, "ingest_logs": logs}
        return lambda event, context: answers.get(name) or {"mode": event["mode"], "run_id": "r1", "tables": {}}

    monkeypatch.setattr(scheduler, "handler_for", handler_for)
    said: list[str] = []
    tick(("deploys", "logs"), None, said.append)
    assert re.fullmatch(r"scheduled ingest_deploys: partial, 15 rows, 1 rejected in \d+\.\d s", said[0]), said
    assert re.fullmatch(r"scheduled ingest_logs: succeeded, 42 rows in \d+\.\d s", said[1]), said


def test_the_scheduler_and_the_api_use_the_lake_given_on_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`rosetta-monitoring --lake-url <folder> scheduler` (or `serve`) works on that lake, as every other command
    does, not on $ROSETTA_LAKE_URL; the environment is the caller's again once the command returns."""
    import uvicorn

    import functions.api.main as api_main
    from lakehouse.cli import main

    given = tmp_path / "given-lake"
    given.mkdir()  # a lake there: the scheduler refuses a folder that is not, as a mistyped path
    monkeypatch.setenv("ROSETTA_LAKE_URL", str(tmp_path / "environment-lake"))
    seen: list[str] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        seen.append(Settings().lake_url)
        return {"mode": event.get("mode"), "run_id": "r1"}

    monkeypatch.setattr(scheduler, "handler_for", lambda name: handler)
    monkeypatch.setattr(scheduler, "run_schedule", lambda *args, **kwargs: None)
    assert main(["--lake-url", str(given), "scheduler", "--now", "--source", "logs"]) == 0
    monkeypatch.setattr(api_main, "create_app", lambda *args: seen.append(Settings().lake_url))
    monkeypatch.setattr(uvicorn.Server, "run", lambda *args, **kwargs: None)
    assert main(["--lake-url", str(given), "serve"]) == 0
    # The ingestion of logs and the build, then the API.
    assert seen == [str(given)] * 3
    assert Settings().lake_url == str(tmp_path / "environment-lake")


def test_a_local_round_gives_ingestion_no_timeout_and_the_build_its_lease(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lambda's handlers stop 30 s before the time their context says is left. Locally nothing stops an ingestion (a
    first read of a large estate may take longer than half an hour), so its context says a day, 86,400,000 ms; the
    build's says its lease, 30 minutes = 1,800,000 ms, so that no other build takes the lake over while it runs."""
    left: dict[str, int] = {}

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        left[context.function_name] = context.get_remaining_time_in_millis()
        return {"mode": event.get("mode"), "run_id": "r1"}

    monkeypatch.setattr(scheduler, "handler_for", lambda name: handler)
    tick(("servicenow", "logs"), None, lambda line: None)
    assert left == {"ingest_servicenow": 86_400_000, "ingest_logs": 86_400_000, "build": 1_800_000}


class CountedWaits(threading.Event):
    """A stop that waits on a clock of the test's own: each wait advances it, and the stop comes after `rounds`."""

    def __init__(self, clock: list[float], rounds: int) -> None:
        super().__init__()
        self.clock, self.rounds, self.waits = clock, rounds, []

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(timeout or 0.0)
        self.clock[0] += timeout or 0.0
        return len(self.waits) > self.rounds


def test_rounds_start_a_period_apart_however_long_each_takes(monkeypatch: pytest.MonkeyPatch) -> None:
    """A 10-minute schedule whose rounds take 6 minutes, then one of 25: each wait was the whole period after a round
    ended, so rounds started 16 minutes apart. They now start at 10, 20 and 30 minutes (waits of 10, 4 and 4), the
    round of 25 minutes is followed at once (at 55), and the next comes 10 minutes after that one started."""
    clock = [0.0]
    lengths = iter([6.0, 6.0, 25.0, 6.0])
    started: list[float] = []

    def round_taking_its_time(sources: Any, last_daily: Any, say: Any, *, log: Any = None) -> None:
        started.append(clock[0] / 60)
        clock[0] += next(lengths) * 60

    monkeypatch.setattr(scheduler, "tick", round_taking_its_time)
    stop = CountedWaits(clock, rounds=4)
    scheduler.run_schedule(10, lambda line: None, sources=(), stop=stop, clock=lambda: clock[0])
    assert started == [10, 20, 30, 55]
    assert [w / 60 for w in stop.waits] == [10, 4, 4, 0, 4]
