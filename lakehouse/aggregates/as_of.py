"""The instants a build may be made as of, one definition for the command line, the build Lambda and the build."""

from __future__ import annotations

from datetime import UTC, datetime

# A build's lookbacks reach some 200 days back and a month's bounds into the next month, which a date before the year
# 2 or after 9998 cannot hold.
AS_OF_YEARS = (2, 9998)
AS_OF_EXAMPLE = "2026-11-20T10:00:00+00:00"


def outside_years(as_of: datetime) -> str | None:
    """Why no build can be made as of `as_of` (its periods would fall outside the calendar), or None."""
    first, last = AS_OF_YEARS
    # The year the build counts in: UTC's (9998-12-31T23:00-02:00 is in 9999 there).
    try:
        year = as_of.astimezone(UTC).year if as_of.tzinfo is not None else as_of.year
    except OverflowError:  # 0001-01-01T00:00+02:00 lies before the first instant UTC holds
        year = 0
    if first <= year <= last:
        return None
    return (
        f"leaves no room for the build's periods around it: give an instant from the year {first} to {last}, "
        f"e.g. {AS_OF_EXAMPLE}"
    )
