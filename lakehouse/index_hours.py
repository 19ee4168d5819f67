"""The hours the logs ingestion read each index pattern for, under state/ beside the log counts' watermark.

Elasticsearch gives no bucket for a level without a line, so a level without a line counts 0 only in an hour its
entity's index was read: the watermark and the first read say how far the logs were read, not which index was (one
mapped later, or one Elasticsearch refused, was not). A pattern answered whole by a run adds the run's window; a
pattern refused adds nothing. Kept as merged spans per pattern: a pattern read every run keeps one span, and one
refused now and then gains at most one per run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from lakehouse.ingest.window import HOUR, floor
from lakehouse.storage import Lake

SOURCE = "elasticsearch"
DATASET = "log_counts_hourly"

Span = tuple[datetime, datetime]
# An index pattern and the whole hours read of it, [from, until); from None: every hour before until.
IndexSpan = tuple[str, datetime | None, datetime]
# Stands for "every hour before" while spans are merged: the log counts' first read when it is unknown.
EARLIEST = datetime(1, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class IndexHours:
    """What the lake holds of the hours read per index pattern."""

    spans: Mapping[str, list[Span]]
    # The hours before it were read by a release that kept no spans: there every pattern mapped counts as read from
    # the log counts' first read, as that release counted them. None when runs of this release read every hour.
    older_until: datetime | None


class IndexHoursRead:
    """The hours read per index pattern; written by a run only once its rows are in the lake, as a watermark is."""

    def __init__(self, lake: Lake) -> None:
        self.lake = lake
        self.key = lake.state_key(SOURCE, f"hours_read/{DATASET}")

    def get(self) -> IndexHours | None:
        """None when no run recorded any: a lake an older release wrote, or none read yet."""
        found = self.lake.get_json(self.key)
        if not found:
            return None
        stored = found[0]
        spans = {pattern: [_span(s) for s in spans] for pattern, spans in stored["patterns"].items()}
        older = stored.get("older_until")
        return IndexHours(spans, datetime.fromisoformat(older) if older else None)

    def record(self, read: Mapping[str, Span], *, older_until: datetime | None) -> None:
        """Add the span each pattern was read for. `older_until` counts only when no run recorded spans before (see
        IndexHours.older_until)."""

        def added(stored: dict | None) -> dict:
            patterns = dict(stored["patterns"]) if stored else {}
            for pattern, span in read.items():
                spans = merged([*(_span(s) for s in patterns.get(pattern, [])), span])
                patterns[pattern] = [[since.isoformat(), until.isoformat()] for since, until in spans]
            older = stored.get("older_until") if stored else (older_until.isoformat() if older_until else None)
            return {"older_until": older, "patterns": patterns}

        self.lake.update_json(self.key, added)


def merged(spans: Iterable[Span]) -> list[Span]:
    """The spans in order, those that overlap or touch made one; empty ones left out."""
    out: list[Span] = []
    for since, until in sorted(s for s in spans if s[0] < s[1]):
        if out and since <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], until))
        else:
            out.append((since, until))
    return out


def hours_read_by_index(
    found: IndexHours | None,
    patterns: Iterable[str],
    read_from: datetime | None,
    read_until: datetime | None,
    as_of: datetime,
) -> list[IndexSpan]:
    """The whole hours read of each mapped pattern, up to `as_of`, as the build counts them. Before the spans were
    kept (`older_until`, or every hour on a lake without any), a pattern counts as read over the hours the logs
    ingestion read, [read_from, read_until), whichever index was asked then: that release's rule."""
    older_until = read_until if found is None else _earlier(found.older_until, read_until)
    older = [(read_from or EARLIEST, older_until)] if older_until is not None else []
    rows: list[IndexSpan] = []
    for pattern in sorted(set(patterns)):
        stored = found.spans.get(pattern, []) if found else []
        hours = [_whole_hours(since, until, as_of) for since, until in [*stored, *older]]
        spans = merged(h for h in hours if h is not None)
        rows += [(pattern, None if since == EARLIEST else since, until) for since, until in spans]
    return rows


def whole_hours(since: datetime, until: datetime) -> Span | None:
    """The whole hours of [since, until), None when there is none: the hours a span counts as read."""
    start = floor(since, HOUR)
    start = start if start == since else start + HOUR
    end = floor(until, HOUR)
    return (start, end) if start < end else None


def _whole_hours(since: datetime, until: datetime, as_of: datetime) -> Span | None:
    """The whole hours of [since, until) before as_of, None when there is none."""
    hours = whole_hours(since, until)
    if hours is None or hours[0] >= as_of:
        return None
    return hours[0], min(hours[1], as_of)


def _earlier(a: datetime | None, b: datetime | None) -> datetime | None:
    """The earlier of two instants; None when either is None (no hours)."""
    return min(a, b) if a is not None and b is not None else None


def _span(stored: list[str]) -> Span:
    return datetime.fromisoformat(stored[0]), datetime.fromisoformat(stored[1])
