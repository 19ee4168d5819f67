"""The instants work must end by: a run's deadline, for the whole process, and an API request's, for its own calls.

The S3 client reads both before each try (lakehouse.objectstore), so a store that takes a request and never answers
cannot keep a run past its function's timeout, nor a request past API Gateway's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

# The instant this process is stopped for certain (Lambda's timeout), noted by the function's handler: every run record
# started meanwhile keeps it, a source's requests and the lake's store calls end by it. One invocation at a time runs in
# a Lambda process, so one instant for the process, whatever thread asks.
_run_deadline: datetime | None = None

# The instant the request being answered must have its answer by. Per request, not per process: an API serves requests
# side by side. The route's own thread sees it (the API runs a route in a thread with the request's context).
_request_deadline: ContextVar[datetime | None] = ContextVar("request_deadline", default=None)


def note_deadline(deadline: datetime | None) -> None:
    """Note the instant the process is stopped for certain; None once the invocation is over."""
    global _run_deadline
    _run_deadline = deadline


def run_deadline() -> datetime | None:
    """The instant noted by `note_deadline`, None when nothing stops the process (a run by hand)."""
    return _run_deadline


@contextmanager
def answering_by(deadline: datetime) -> Iterator[None]:
    """The calls made inside the block, in this context, end by `deadline`."""
    token = _request_deadline.set(deadline)
    try:
        yield
    finally:
        _request_deadline.reset(token)


def request_deadline() -> datetime | None:
    """The deadline of the request being answered here (`answering_by`), None outside one."""
    return _request_deadline.get()


def carrying_deadline(call: Callable[P, R]) -> Callable[P, R]:
    """`call`, to run in a pool's threads, bound by the deadline of the request wrapping it: a pool's threads do not
    see the request's context, so a store read there would wait out its own timeouts, past the route's wait."""
    deadline = request_deadline()
    if deadline is None:
        return call

    def bound(*args: P.args, **kwargs: P.kwargs) -> R:
        with answering_by(deadline):
            return call(*args, **kwargs)

    return bound
