"""Reporting periods: names (last_7d, month, ...) or an explicit UTC from/to, capped; Kibana time ranges."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from fastapi import Query

from functions.api.problems import invalid

# Named periods, as the build computes them (lakehouse/sql/01_stg_periods.sql), plus last_24h.
NAMED_PERIODS = (
    "last_24h",
    "last_7d",
    "last_30d",
    "last_90d",
    "month",
    "quarter",
    "previous_month",
    "previous_quarter",
)
# The ones the period tables hold (the KPI tables have no last_24h).
BUILT_PERIODS = NAMED_PERIODS[1:]
ROLLING = {"last_24h": timedelta(hours=24), "last_7d": timedelta(days=7), "last_30d": timedelta(days=30)}
ROLLING["last_90d"] = timedelta(days=90)
RELATIVE = re.compile(r"^now-([0-9]{1,6})([smhdw])$")  # ASCII digits: Kibana reads no others
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
# An offset after a space: what a query string makes of an unencoded `+` (...T10:00:00+02:00 read as ... 02:00).
SPACED_OFFSET = re.compile(r" ([0-9]{2}(?::?[0-9]{2})?)$")
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def period_parameter(allowed: tuple[str, ...]) -> Any:
    """The `period` query parameter of a route taking `allowed`: the OpenAPI document lists them as its values, so a
    client generated from it types the names (the route's own check answers any other with the names it takes)."""
    return Query(
        max_length=40,
        description=f"One of {', '.join(allowed)}.",
        json_schema_extra={"anyOf": [{"type": "string", "enum": list(allowed)}, {"type": "null"}]},
    )


@dataclass(frozen=True)
class Period:
    """A half-open UTC interval [start, end); `name` is set for a named period."""

    start: datetime
    end: datetime
    name: str | None = None

    @property
    def days(self) -> float:
        return (self.end - self.start).total_seconds() / 86400

    @property
    def first_day(self) -> date:
        return self.start.date()

    @property
    def last_day(self) -> date:
        """The last day the interval touches (its end is excluded); the day before its first when it is empty."""
        if self.end <= self.start:
            return self.first_day - timedelta(days=1)
        return (self.end - timedelta(microseconds=1)).date()

    def whole_days(self, data_end: datetime) -> Period:
        """The window a sum of day rows covers: every whole UTC day the interval touches, up to data_end (the
        mart's last hour) when that comes first. What a report summed from day rows says it covers. Empty, at
        its start, when it begins at or after data_end: none of it has happened, nor has a day of it."""
        if self.start >= data_end:
            return Period(self.start, self.start, self.name)
        start = datetime.combine(self.first_day, time(), UTC)
        end = min(datetime.combine(self.last_day + timedelta(days=1), time(), UTC), max(data_end, start))
        return Period(start, end, self.name)

    def up_to(self, data_end: datetime) -> Period:
        """The part of the interval that has happened by data_end (the build's as_of): an event ingested ahead of
        the build has not happened yet, and days to come hold no deployments. Empty when it all lies after."""
        return Period(self.start, min(self.end, max(data_end, self.start)), self.name)


def parse_instant(name: str, text: str) -> datetime:
    """ISO 8601 date or date-time; without an offset it is read as UTC (every instant here is UTC)."""
    value = text.strip()
    if len(value) > 40:
        raise invalid(name, f"{name} is not an ISO 8601 date or date-time")
    try:
        if len(value) == 10:
            moment = datetime.combine(date.fromisoformat(value), time(), tzinfo=UTC)
        else:
            moment = _date_time(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise invalid(
            name, f"{name} {value[:40]!r} is not an ISO 8601 date or date-time, e.g. 2026-11-01T00:00:00Z"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    # Compared before the move to UTC, which an offset can take out of the years a datetime holds (1 to 9999).
    if not EARLIEST <= moment <= LATEST:
        raise invalid(name, f"{name} must lie between 2000 and 2100")
    return moment.astimezone(UTC)


def _date_time(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        # Only once the value is no date-time as it stands: "2026-11-19 10:00" is 10:00, not an offset.
        if not SPACED_OFFSET.search(value):
            raise
        return datetime.fromisoformat(SPACED_OFFSET.sub(r"+\1", value))


def named_period(name: str, anchor: datetime) -> Period:
    """The period ending at `anchor` (the data's as_of), the way the build defines it."""
    anchor = anchor.astimezone(UTC)
    if name in ROLLING:
        return Period(anchor - ROLLING[name], anchor, name)
    month_start = anchor.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    quarter_start = month_start.replace(month=3 * ((anchor.month - 1) // 3) + 1)
    if name == "month":
        return Period(month_start, anchor, name)
    if name == "quarter":
        return Period(quarter_start, anchor, name)
    if name == "previous_month":
        return Period(_add_months(month_start, -1), month_start, name)
    if name == "previous_quarter":
        return Period(_add_months(quarter_start, -3), quarter_start, name)
    raise invalid("period", f"unknown period {name[:40]!r}", list(NAMED_PERIODS))


def resolve(
    period: str | None,
    start: str | None,
    end: str | None,
    *,
    anchor: datetime,
    default: str,
    max_days: int,
    allowed: tuple[str, ...] = NAMED_PERIODS,
) -> Period:
    """`period` or `from`/`to` (not both); `to` defaults to the anchor. Explicit ranges are capped at max_days."""
    if start is None and end is None:
        # `period=` with no value is refused, not read as left out: the caller meant a period and named none.
        # Spaces around a name are dropped, as they are around timeRange, from, to and an entity id.
        name = default if period is None else period.strip()
        if name not in allowed:
            raise invalid("period", f"period must be one of {', '.join(allowed)} (or from/to)", list(allowed))
        return named_period(name, anchor)
    if period is not None:
        raise invalid("period", "give either period or from/to, not both")
    if start is None:
        raise invalid("from", "from is required with to")
    begin = parse_instant("from", start)
    finish = parse_instant("to", end) if end is not None else anchor.astimezone(UTC)
    # Without to, the range ends at the anchor: only from can be wrong, and the problem names it.
    if finish <= begin and end is None:
        raise invalid("from", f"from must be before {_iso(finish)}, where the range ends when to is not given")
    if finish <= begin:
        # A day asked for as from=D&to=D is the common slip: to is excluded, so the day is from=D&to=D+1.
        raise invalid("to", "to must be after from: to is excluded, so one day D is from=D&to=(D + 1 day)")
    if finish - begin > timedelta(days=max_days):
        raise invalid("to" if end is not None else "from", f"the range from/to is longer than {max_days} days")
    return Period(begin, finish)


def kibana_range(
    time_range: str | None, start: str | None, end: str | None, *, now: datetime, max_days: int
) -> tuple[str, str]:
    """A Kibana time range: relative (now-1h .. now) kept relative, named periods mapped, from/to as ISO UTC."""
    if start is not None or end is not None:
        if time_range is not None:
            raise invalid("timeRange", "give either timeRange or from/to, not both")
        p = resolve(None, start, end, anchor=now, default="last_24h", max_days=max_days)
        # Kibana counts in milliseconds: two ends within the same one would give Discover a range ending before it
        # starts.
        if _iso(p.end) <= _iso(p.start):
            raise invalid("to", "to must be at least 1 ms after from: Kibana's times are to the millisecond")
        return _iso(p.start), _iso(p.end)
    value = "now-24h" if time_range is None else time_range.strip()
    match = RELATIVE.match(value)
    if match:
        seconds = int(match.group(1)) * UNIT_SECONDS[match.group(2)]
        if seconds <= 0:
            raise invalid("timeRange", f"timeRange {value} is empty: reach back at least 1s, e.g. now-15m")
        if seconds > max_days * 86400:
            raise invalid("timeRange", f"timeRange must be at most {max_days} days")
        return value, "now"
    relative = {
        "last_24h": ("now-24h", "now"),
        "last_7d": ("now-7d", "now"),
        "last_30d": ("now-30d", "now"),
        "last_90d": ("now-90d", "now"),
    }
    if value in relative:
        return relative[value]
    if value in NAMED_PERIODS:
        # Months and quarters are UTC ones: Kibana rounds now/M in the browser's time zone, and has no quarter
        # unit. Give the instants.
        p = named_period(value, now)
        return _iso(p.start), _iso(p.end)
    raise invalid(
        "timeRange",
        "timeRange is now-<n><s|m|h|d|w> (e.g. now-1h), a period name, or from/to",
        ["now-15m", "now-1h", "now-24h", "now-7d", *NAMED_PERIODS],
    )


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _add_months(moment: datetime, months: int) -> datetime:
    index = moment.year * 12 + moment.month - 1 + months
    return moment.replace(year=index // 12, month=index % 12 + 1)
