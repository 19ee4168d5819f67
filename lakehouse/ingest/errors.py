"""The ingestion error taxonomy: retriable answers are retried by the client, the rest fail the run clearly."""

from __future__ import annotations

from lakehouse.errors import RosettaError


class SourceError(RosettaError):
    """A source could not give us what we asked; the message names the source and never carries a secret."""

    def __init__(self, source: str, message: str) -> None:
        self.source = source
        super().__init__(f"{source}: {message}")


class SourceUnavailable(SourceError):
    """Retries ran out on timeouts, dropped connections, 429s or 5xx answers: the source is down or overloaded."""


class RateLimited(SourceUnavailable):
    """The source asks to be left alone longer than a run waits (ServiceNow's hourly rate limit): the run does not
    ask it again, and the next run reads the window."""

    def __init__(self, source: str, message: str, until: float) -> None:
        self.until = until  # epoch seconds
        super().__init__(source, message)


class SourceRefused(SourceError):
    """A 4xx answer other than 429: retrying the same request cannot help (auth, ACL, bad query)."""

    def __init__(self, source: str, message: str, status: int) -> None:
        self.status = status
        super().__init__(source, message)


class BudgetExhausted(SourceError):
    """The run used up its request budget; the next run reads its window again, from the start."""


class LoopDetected(SourceError):
    """A paginator was handed a page token it had already followed, or a page that does not move forward."""


class PagingBroken(SourceError):
    """A page says how to ask for the next in a way that cannot be followed (a token of the wrong kind, a full
    page without one): reading it as the last page would lose the rest without a word."""


class PageTooLarge(SourceError):
    """An answer larger than a run reads: asked again, it would be as large."""


class NoMappingError(RosettaError):
    """Ingestion needs the mapping to know which entities to fetch."""

    def __init__(self) -> None:
        super().__init__("no mapping: import one with `rosetta-monitoring mappings import`")


class Retriable(Exception):
    """Internal signal to the retry loop: this attempt failed in a way worth another try."""

    def __init__(self, reason: str, *, retry_after: float | None = None, status: int | None = None) -> None:
        self.reason = reason
        self.retry_after = retry_after
        self.status = status
        super().__init__(reason)
