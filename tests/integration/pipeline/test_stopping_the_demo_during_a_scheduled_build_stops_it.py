"""Ctrl-C or SIGTERM stops the demo wherever it is: in a scheduled build, in its first build, or serving.

Each test runs the demo as a user does, in a process of its own on a small folder lake, and sends it a real signal.
A build is held in a long DuckDB query first, so that the signal lands where DuckDB turns it into "Query interrupted".
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from functions.deadline import LambdaTimeout
from lakehouse import scheduler
from lakehouse.errors import RosettaError
from lakehouse.runlog import RunLog, RunRecord
from lakehouse.settings import Settings
from lakehouse.storage import Lake

ROOT = Path(__file__).resolve().parents[3]
# The demo, with the build its first argument counts (1 the demo's own, 2 the first scheduled one, 0 none) held in a
# query that runs until it is interrupted. Its line goes to stderr: while a function runs, stdout goes to the log file.
HELD_DEMO = """
import signal
import sys

# Ctrl-C as a terminal gives it: a process started in the background of a shell without job control (a CI job)
# inherits SIGINT ignored, and Python then raises no KeyboardInterrupt.
signal.signal(signal.SIGINT, signal.default_int_handler)
import lakehouse.aggregates.build as build
from lakehouse.cli import run

hold_at = int(sys.argv[1])
register_inputs = build.register_inputs
builds = []

def held_in_a_query(con, *args):
    builds.append(None)
    if len(builds) == hold_at:
        print("HELD IN A QUERY", file=sys.__stderr__, flush=True)
        # DuckDB 1.5 stops waiting for a query on a signal, yet leaves it running: the build interrupts it, or
        # closing the connection would wait for this one to end (hours), and the demo would not stop.
        con.execute("select count(*) from range(100000000000) where hash(range) % 7 = 0").fetchall()
    return register_inputs(con, *args)

build.register_inputs = held_in_a_query
del sys.argv[1]  # the rest is the command's, which ends as `rosetta-monitoring` does
run()
"""
# Only a guard against a demo that does not stop: it stops in a few seconds.
ENDED_WITHIN_S = 120
# The held build prints its line just before its query: by then the query runs, and a signal lands in DuckDB.
QUERY_RUNNING_AFTER_S = 1


@contextmanager
def demo(tmp_path: Path, *, hold_at: int, schedule_minutes: str) -> Iterator[subprocess.Popen[str]]:
    """The demo of one application over one day on the folder lake tmp_path/lake, in a session of its own; whatever is
    left of it at the end is killed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROSETTA_")} | {"PYTHONPATH": str(ROOT)}
    args = ["--lake-url", str(tmp_path / "lake"), "demo", "--apps", "1", "--days", "1", "--port", "0"]
    process = subprocess.Popen(
        [sys.executable, "-c", HELD_DEMO, str(hold_at), *args, "--schedule-minutes", schedule_minutes],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()


def wait_for_the_held_query(process: subprocess.Popen[str]) -> list[str]:
    """The demo's lines up to the held build's, once its query runs."""
    said = wait_for(process, "HELD IN A QUERY")
    time.sleep(QUERY_RUNNING_AFTER_S)
    return said


def wait_for(process: subprocess.Popen[str], text: str) -> list[str]:
    """The demo's lines up to the first that starts with `text`."""
    assert process.stdout is not None
    lines: list[str] = []
    for line in process.stdout:
        lines.append(line.rstrip())
        if line.startswith(text):
            return lines
    raise AssertionError(f"the demo ended before {text!r}:\n" + "\n".join(lines))


def stopped_by(process: subprocess.Popen[str], signum: signal.Signals) -> tuple[int, str]:
    """Send `signum`; the exit code and what the demo said after it. Fails when the demo has not ended in time."""
    process.send_signal(signum)
    try:
        out, _ = process.communicate(timeout=ENDED_WITHIN_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the demo was still running {ENDED_WITHIN_S} s after {signum.name}")
    return process.returncode, out


def nothing_left_of(process: subprocess.Popen[str]) -> bool:
    """No process of the demo's session is left (its own ended, and started none that outlived it)."""
    try:
        os.killpg(process.pid, 0)
    except ProcessLookupError:
        return True
    return False


def builds(tmp_path: Path) -> list[RunRecord]:
    runs = RunLog(Lake.from_settings(Settings(lake_url=str(tmp_path / "lake")))).list(limit=100)
    return sorted((r for r in runs if r.function == "build_aggregates"), key=lambda r: r.started_at)


def lease_let_go(tmp_path: Path) -> bool:
    lease = Lake.from_settings(Settings(lake_url=str(tmp_path / "lake"))).get_json("state/build/lease.json")
    return lease is not None and lease[0]["holder"] is None


@pytest.mark.parametrize(
    ("signum", "code", "stop"), [(signal.SIGINT, 130, "KeyboardInterrupt"), (signal.SIGTERM, 143, "SystemExit")]
)
def test_a_signal_during_a_scheduled_build_stops_the_demo(
    tmp_path: Path, signum: signal.Signals, code: int, stop: str
) -> None:
    """DuckDB turned the stop into "Query interrupted", which the schedule took for a build that failed: it said so
    and went on, and a second SIGTERM was ignored. The first signal now stops the demo, with the exit code the
    command's help gives, the build's run failed and the lake's lease let go."""
    with demo(tmp_path, hold_at=2, schedule_minutes="0.02") as process:
        wait_for(process, "READY ")
        said = wait_for_the_held_query(process)
        assert not any(line.startswith("scheduled build_aggregates") for line in said), said
        exit_code, out = stopped_by(process, signum)
    assert exit_code == code, out
    assert nothing_left_of(process)
    first, scheduled = builds(tmp_path)
    assert (first.status, scheduled.status, scheduled.trigger) == ("succeeded", "failed", "scheduler")
    assert scheduled.error == f"stopped ({stop})"
    assert lease_let_go(tmp_path)
    assert "Traceback" not in out, out


def test_sigterm_during_the_first_build_exits_143(tmp_path: Path) -> None:
    """The demo's own build, before it serves: SIGTERM exited 130, the code of Ctrl-C."""
    with demo(tmp_path, hold_at=1, schedule_minutes="0.02") as process:
        wait_for_the_held_query(process)
        exit_code, out = stopped_by(process, signal.SIGTERM)
    assert exit_code == 143, out
    assert nothing_left_of(process)
    (first,) = builds(tmp_path)
    assert (first.status, first.error) == ("failed", "stopped (SystemExit)")
    assert lease_let_go(tmp_path)
    assert "Traceback" not in out, out


@pytest.mark.parametrize("schedule_minutes", ["0", "60"])
def test_ctrl_c_while_serving_exits_130(tmp_path: Path, schedule_minutes: str) -> None:
    """Serving, the local scheduler off or waiting for its next round: Ctrl-C exited 0, as if the demo had done."""
    with demo(tmp_path, hold_at=0, schedule_minutes=schedule_minutes) as process:
        wait_for(process, "Serving until Ctrl-C")
        exit_code, out = stopped_by(process, signal.SIGINT)
    assert exit_code == 130, out
    assert nothing_left_of(process)
    assert "Traceback" not in out, out


def test_a_build_that_stopped_before_its_own_deadline_is_said_and_the_schedule_goes_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Only Ctrl-C and SIGTERM stop the schedule: a build that stopped itself before its deadline (as before Lambda's
    timeout, DuckDB's "Query interrupted" on the way) failed as any other build does, and the next round retries."""

    def build(event: dict[str, object], context: object) -> dict[str, object]:
        try:
            try:
                raise LambdaTimeout("Lambda's timeout is 30 s away")
            except LambdaTimeout as stop:
                raise RuntimeError("Query interrupted") from stop
        except RuntimeError:
            raise RosettaError("stopped 30 s before the Lambda timeout; the run log says what was done") from None

    monkeypatch.setattr(scheduler, "handler_for", lambda name: build)
    said: list[str] = []
    assert scheduler.tick((), None, said.append) is None  # the daily build not done: the next round tries it again
    assert len(said) == 1 and re.fullmatch(
        r"scheduled build_aggregates \(daily\): failed after \d+\.\d s: stopped \(LambdaTimeout\)", said[0]
    ), said
