"""Stopping a scheduled function before Lambda's timeout does.

Lambda kills a function at its timeout without a word: nothing after that runs, so a run record would say "running"
for ever and a build would hold the lake's lease until it ran out. The handlers stop their work a little earlier, the
way Ctrl-C stops a run by hand: the run records end "failed", a build gives its lease back, and the invocation fails
as a timeout would (Lambda counts the error and retries the event).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import Any

from lakehouse.deadline import note_deadline
from lakehouse.errors import RosettaError
from lakehouse.runlog import hold_stop, note_stop

# Time left to end the run records and let go of the lease. A signal waits for the call in C it lands in (a DuckDB
# query, an S3 put) to return, so the margin covers the longest of those too.
STOP_BEFORE_TIMEOUT_S = 30


class LambdaTimeout(BaseException):
    """Lambda's timeout is near. A BaseException, like KeyboardInterrupt: no `except Exception` keeps the run going."""


@contextmanager
def stop_before_timeout(context: Any, margin_s: float = STOP_BEFORE_TIMEOUT_S) -> Iterator[None]:
    """Raise LambdaTimeout in the work `margin_s` before the invocation's timeout; the invocation then fails with one
    line saying so. An invocation given less than that (a function configured with a short timeout) stops
    `STOP_BEFORE_TIMEOUT_S` before, the time to record its end, which covers all but the longest calls; given less
    than that it would stop at once, so it runs unguarded, as one off the main thread does (only it takes a signal).

    The timeout itself is noted as the run deadline (lakehouse.deadline.note_deadline): a run record still "running"
    past it reads as failed, and the sources' requests and the lake's store calls end by it. Noted from the main
    thread only, where an invocation runs alone; under a short timeout too, since Lambda kills the process then
    whatever the margin."""
    left = context.get_remaining_time_in_millis() / 1000
    # A local run nothing stops (lakehouse.scheduler) has no timeout to note: its run records renew alive_until.
    if threading.current_thread() is not threading.main_thread() or not getattr(context, "has_timeout", True):
        yield
        return
    note_deadline(datetime.now(UTC) + timedelta(seconds=left))
    margin_s = margin_s if left > margin_s else STOP_BEFORE_TIMEOUT_S
    try:
        if left <= margin_s:
            yield
        else:
            with _stop_after(left - margin_s, margin_s):
                yield
    finally:
        note_deadline(None)


@contextmanager
def _stop_after(seconds: float, margin_s: float) -> Iterator[None]:
    stopped: list[LambdaTimeout] = []

    def stop(signum: int, frame: FrameType | None) -> None:
        stopped.append(LambdaTimeout(f"Lambda's timeout is {margin_s:.0f} s away"))
        if hold_stop(stopped[0]):  # raised once the run's end it landed in is written
            return
        note_stop(stopped[0])
        raise stopped[0]

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    except BaseException:
        if not stopped:
            raise
        # Whatever the stop became on its way out (DuckDB turns it into "Query interrupted"), the invocation fails
        # with an Exception: Lambda reports a BaseException as a crash of its runtime, not as the function's error.
        raise RosettaError(
            f"stopped {margin_s:.0f} s before the Lambda timeout; the run log says what was done"
        ) from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        note_stop(None)
