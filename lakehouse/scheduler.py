"""A local scheduler that fires the events EventBridge Scheduler would: ingestion, then the build.

Every period: each configured ingestion source since its watermark (`{}`), then an hourly build; once a
day (the first tick after midnight UTC) a daily build refreshes the period tables. Used by the demo and by
`rosetta-monitoring scheduler` (the docker-compose scheduler service).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from lakehouse.aggregates.build import BUILD_LEASE
from lakehouse.runlog import describe_error

INGESTION = ("dynatrace", "servicenow", "deploys", "logs")
# What an ingestion's context says is left: locally nothing stops it (a first read of a large estate may take long).
NO_TIMEOUT = timedelta(days=1)


@dataclass
class LambdaContext:
    """What Lambda passes as context; Powertools reads these fields."""

    function_name: str
    memory_limit_in_mb: int = 2048
    invoked_function_arn: str = "arn:aws:lambda:local:000000000000:function:rosetta-local"
    aws_request_id: str = "local"
    # A build's: its lease lasts as long as one run by hand would hold the lake, and a build still going near the end
    # stops as it would near Lambda's timeout (functions.deadline), before another may take the lake over.
    time_left: timedelta = BUILD_LEASE

    def get_remaining_time_in_millis(self) -> int:
        return int(self.time_left.total_seconds() * 1000)


def handler_for(name: str) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The Lambda handler of a function folder, imported late so the environment is set first."""
    module = __import__(f"functions.{name}.handler", fromlist=["handler"])
    handler: Callable[[dict[str, Any], Any], dict[str, Any]] = module.handler
    return handler


def tick(sources: Iterable[str], last_daily: date | None, say: Callable[[str], None]) -> date | None:
    """One round of scheduled events; returns the day of the last daily build."""
    for source in sources:
        try:
            handler_for(f"ingest_{source}")({}, LambdaContext(f"ingest_{source}", time_left=NO_TIMEOUT))
        except Exception as exc:  # the failure is in the run log; the other sources and the build still run
            say(f"scheduled ingestion of {source} failed: {describe_error(exc)}")
    today = datetime.now(UTC).date()
    mode = "daily" if last_daily != today else "hourly"
    try:
        built = handler_for("build_aggregates")({"mode": mode, "trigger": "scheduler"}, LambdaContext("build"))
    except Exception as exc:  # the schedule goes on; the daily build is not counted done, so the next tick retries it
        say(f"scheduled {mode} build failed: {describe_error(exc)}")
        return last_daily
    say(f"scheduled {built['mode']} build done: run {built['run_id']}")
    return today if mode == "daily" else last_daily


def run_schedule(
    minutes: float,
    say: Callable[[str], None],
    *,
    sources: Iterable[str] = INGESTION,
    stop: threading.Event | None = None,
    last_daily: date | None = None,
) -> None:
    """Tick every `minutes` until `stop` is set (or forever)."""
    stop = stop or threading.Event()
    chosen = tuple(sources)
    while not stop.wait(minutes * 60):
        last_daily = tick(chosen, last_daily, say)
