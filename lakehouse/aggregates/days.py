"""Days and months as the build counts them: UTC days, months by their first day, midnights in UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta


def month_bounds(year: int, month: int) -> tuple[date, date]:
    """The month's first day and the first day of the next."""
    return date(year, month, 1), date(year + month // 12, month % 12 + 1, 1)


def days_between(first: date, last: date) -> list[date]:
    """Every day from `first` to `last`, both included."""
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def midnight(day: date) -> datetime:
    """The day's first instant, in UTC."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)
