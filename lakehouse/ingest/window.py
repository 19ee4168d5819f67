"""Run windows: what a scheduled event, a CLI call or a backfill asks for, in UTC."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from lakehouse.errors import RosettaError

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
# The years a window may lie in: the steps and lookbacks around it must stay within the calendar.
YEARS = (2, 9998)
# The keys of an event's window.
WINDOW_KEYS = ("since", "until")


@dataclass(frozen=True)
class Window:
    """[since, until) in UTC."""

    since: datetime
    until: datetime

    def __post_init__(self) -> None:
        if self.since.tzinfo is None or self.until.tzinfo is None:
            raise RosettaError("window bounds must carry a time zone (UTC)")
        if self.until <= self.since:
            raise RosettaError(f"empty window: until {self.until.isoformat()} is not after since")
        if not (YEARS[0] <= self.since.year and self.until.year <= YEARS[1]):
            # Aligning the window, or the hours and days read around it, would pass the calendar's end.
            raise RosettaError(f"window {self.label()} falls outside the years {YEARS[0]} to {YEARS[1]}")

    @property
    def first_day(self) -> date:
        return self.since.astimezone(UTC).date()

    def aligned(self, step: timedelta, now: datetime | None = None) -> Window:
        """Whole steps only: since rounded down, until rounded down (a partial last step is left for later), and no
        later than the step under way at `now`: its source has only part of it, which would be stored as whole (a
        window given by hand that ends later). A window within one step reads that step whole once it has ended by
        `now`; still under way, the step before it is read again instead."""
        since, until = floor(self.since, step), floor(self.until, step)
        if now is not None:
            until = min(until, floor(now, step))
        if until > since:
            return Window(since, until)
        return Window(since, since + step) if now is None or since + step <= now else Window(since - step, since)

    def days(self) -> list[Window]:
        """Split into UTC day windows (the unit of a backfill)."""
        out = []
        start = floor(self.since, DAY)
        while start < self.until:
            out.append(Window(max(start, self.since), min(start + DAY, self.until)))
            start += DAY
        return out

    def label(self) -> str:
        return f"{self.since.isoformat()}..{self.until.isoformat()}"


def floor(moment: datetime, step: timedelta) -> datetime:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    seconds = int((moment - epoch).total_seconds())
    size = int(step.total_seconds())
    return epoch + timedelta(seconds=seconds - seconds % size)


def parse_moment(text: str) -> datetime:
    """ISO 8601; a date alone is midnight; no zone means UTC (as Dynatrace and the CLI document)."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise RosettaError(f"not an ISO 8601 instant: {text!r}") from None
    try:
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except OverflowError:
        # Midnight of the year 1 at +05:00 is in the year 0 in UTC.
        raise RosettaError(f"{text!r} falls outside the years 1 to 9999 in UTC, which no date holds") from None


def backfill_window(days: int, now: datetime) -> Window:
    """The last `days` whole UTC days plus today so far."""
    if days < 1:
        raise RosettaError("backfill needs --days 1 or more")
    today = floor(now, DAY)
    try:
        since = today - days * DAY
    except OverflowError:
        raise RosettaError(f"backfill --days {days} reaches back before the year 1: give fewer days") from None
    return Window(since, max(now, today + HOUR))


def window_from_event(event: dict[str, Any] | None) -> Window | None:
    """The explicit window of a scheduled event {"window": {"since": ..., "until": ...}}, if any."""
    spec = (event or {}).get("window")
    if spec is None:
        return None
    if not isinstance(spec, dict) or "since" not in spec:
        raise RosettaError('event "window" needs "since" (and optionally "until"), as ISO 8601')
    # A misspelt end ("untill", "to") would be no end at all: the window would run to now, weeks instead of a day.
    unknown = sorted(str(key) for key in spec if key not in WINDOW_KEYS)
    if unknown:
        named = ", ".join(repr(key) for key in unknown[:5])
        raise RosettaError(f'event "window" has no key {named}: it takes "since" and "until", as ISO 8601')
    since = parse_moment(str(spec["since"]))
    until = parse_moment(str(spec["until"])) if spec.get("until") else datetime.now(UTC)
    return Window(since, until)
