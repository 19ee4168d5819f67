"""A local scheduler that fires the events EventBridge Scheduler would: ingestion, then the build.

Every period: each configured ingestion source since its watermark (`{}`), then an hourly build; once a
day (the first tick after midnight UTC) a daily build refreshes the period tables. Used by the demo and by
`rosetta-monitoring scheduler` (the docker-compose scheduler service).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from aws_lambda_powertools import Metrics

from lakehouse.aggregates.lease import BUILD_LEASE
from lakehouse.runlog import describe_error

INGESTION = ("dynatrace", "servicenow", "deploys", "logs")
FUNCTIONS = (*(f"ingest_{source}" for source in INGESTION), "build_aggregates")
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
    # False for a run nothing stops (an ingestion): no deadline is set, and its run record shows it alive instead
    # (alive_until), so that a round killed outright reads failed within minutes, not a day after.
    has_timeout: bool = True

    def get_remaining_time_in_millis(self) -> int:
        return int(self.time_left.total_seconds() * 1000)


def handler_for(name: str) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The Lambda handler of a function folder, imported late so the environment is set first."""
    module = __import__(f"functions.{name}.handler", fromlist=["handler"])
    handler: Callable[[dict[str, Any], Any], dict[str, Any]] = module.handler
    return handler


def invoke(name: str, event: dict[str, Any], context: LambdaContext, log: TextIO | None = None) -> dict[str, Any]:
    """A function's handler run as Lambda runs it; with `log`, what the handler prints itself (EMF metric blobs) and
    its warnings (Powertools' "no metrics to publish" after a run that failed early) go there, not to the terminal."""
    handler = handler_for(name)
    # Powertools keeps metrics in one process-wide set, which a flush with metrics disabled (locally, by default)
    # leaves as it is: each run starts from an empty set, as a Lambda invocation does, so the set does not grow run
    # after run in the scheduler's process, and a run that counted nothing says so.
    Metrics().clear_metrics()
    if log is None:
        return handler(event, context)
    with contextlib.redirect_stdout(log), warnings.catch_warnings():
        warnings.showwarning = _warning_writer(log)
        return handler(event, context)


def _warning_writer(log: TextIO) -> Callable[..., None]:
    def write(message: Warning | str, category: type[Warning], filename: str, lineno: int, *_: object) -> None:
        log.write(warnings.formatwarning(message, category, filename, lineno))

    return write


@contextlib.contextmanager
def function_output_to(path: Path) -> Iterator[TextIO]:
    """While open, the functions' Powertools JSON log lines go to `path` (mode 600, appended to), as does what `invoke`
    is given it for: locally one line per run says enough on the terminal, and the file keeps what Lambda would send
    to CloudWatch. Each logger's stream is put back afterwards; deployed, nothing changes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with open(fd, "a", encoding="utf-8", buffering=1) as log:
        # Imported here, as handler_for does, after the caller set the environment Powertools reads at import.
        handlers = [h for h in (_log_handler(name) for name in FUNCTIONS) if isinstance(h, logging.StreamHandler)]
        # Swapped, not setStream: that flushes the stream it replaces, which may be closed by now.
        streams = [h.stream for h in handlers]
        for h in handlers:
            h.stream = log
        try:
            yield log
        finally:
            for h, stream in zip(handlers, streams, strict=True):
                h.stream = stream


def _log_handler(name: str) -> logging.Handler:
    module = __import__(f"functions.{name}.handler", fromlist=["logger"])
    handler: logging.Handler = module.logger.registered_handler
    return handler


def tick(
    sources: Iterable[str], last_daily: date | None, say: Callable[[str], None], *, log: TextIO | None = None
) -> date | None:
    """One round of scheduled events, each run said in one line; returns the day of the last daily build."""
    for source in sources:
        name = f"ingest_{source}"
        started = time.monotonic()
        try:
            summary = invoke(name, {}, LambdaContext(name, time_left=NO_TIMEOUT, has_timeout=False), log)
        except Exception as exc:  # the failure is in the run log; the other sources and the build still run
            _let_a_stop_through(exc)
            say(f"scheduled {name}: failed after {time.monotonic() - started:.1f} s: {describe_error(exc)}")
            continue
        say(f"scheduled {name}: {_ingested(summary)} in {time.monotonic() - started:.1f} s")
    today = datetime.now(UTC).date()
    mode = "daily" if last_daily != today else "hourly"
    started = time.monotonic()
    try:
        built = invoke("build_aggregates", {"mode": mode, "trigger": "scheduler"}, LambdaContext("build"), log)
    except Exception as exc:  # the schedule goes on; the daily build is not counted done, so the next tick retries it
        _let_a_stop_through(exc)
        failed = f"failed after {time.monotonic() - started:.1f} s: {describe_error(exc)}"
        say(f"scheduled build_aggregates ({mode}): {failed}")
        return last_daily
    say(
        f"scheduled build_aggregates ({built['mode']}): succeeded, {len(built.get('tables', ()))} tables in "
        f"{time.monotonic() - started:.1f} s, run {built['run_id']}"
    )
    return today if mode == "daily" else last_daily


def _let_a_stop_through(error: Exception) -> None:
    """Raise `error` again when Ctrl-C or SIGTERM is behind it: DuckDB turns either, landing in a query, into "Query
    interrupted", which is the process being stopped, not a failure to say and go on from. The run's record already
    ends failed, and a build has let go of the lake's lease."""
    if _process_stop_behind(error) is not None:
        raise error


def _process_stop_behind(error: BaseException) -> BaseException | None:
    """The KeyboardInterrupt (Ctrl-C) or SystemExit (SIGTERM, lakehouse.cli) `error` is, or was raised while handling.
    Not Lambda's coming timeout (functions.deadline.LambdaTimeout): a build stopped before its own deadline failed, and
    the schedule goes on."""
    seen: BaseException | None = error
    for _ in range(8):  # an error's chain is short; a bound keeps a cycle from looping
        if seen is None or isinstance(seen, KeyboardInterrupt | SystemExit):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _ingested(summary: dict[str, Any]) -> str:
    """`succeeded, 24 rows`: an ingestion's status and the rows it wrote, from its handler's answer; `partial, 24 rows,
    3 rejected` when records were set aside, as the run log says of those runs."""
    runs = summary.get("runs", [])
    datasets = [dataset for run in runs for dataset in run["datasets"].values()]
    rows = sum(dataset["rows_out"] for dataset in datasets)
    rejected = sum(dataset.get("rows_rejected", 0) for dataset in datasets)
    if any(run["status"] == "failed" for run in runs):
        return f"failed, {rows} rows"
    if rejected or any(dataset.get("status") == "partial" for dataset in datasets):
        return f"partial, {rows} rows, {rejected} rejected"
    return f"succeeded, {rows} rows"


def run_schedule(
    minutes: float,
    say: Callable[[str], None],
    *,
    sources: Iterable[str] = INGESTION,
    stop: threading.Event | None = None,
    last_daily: date | None = None,
    log: TextIO | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Tick every `minutes` until `stop` is set (or forever), at a fixed rate as EventBridge fires: a round starts a
    period after the last one started, not after it ended (waiting a period after each round, rounds came a round's
    length late each time). A round that outlasts its period is followed at once; the rounds it overran are not made
    up in a burst, as each reads from its watermarks anyway."""
    stop = stop or threading.Event()
    chosen = tuple(sources)
    period = minutes * 60
    next_round = clock() + period
    while not stop.wait(max(0.0, next_round - clock())):
        last_daily = tick(chosen, last_daily, say, log=log)
        next_round = max(next_round + period, clock())
