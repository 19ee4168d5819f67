"""A build's as_of is counted in UTC, and its year checked there: 9998-12-31T23:00-02:00 is 01:00 on 1 January 9999
in UTC, whose month ends in the year 10000, which no calendar holds. It passed the check (its own year, 9998) and
the build failed later with a traceback; it is now refused as one written in UTC would be."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from lakehouse.aggregates.as_of import outside_years

ROOM = "leaves no room for the build's periods around it: give an instant from the year 2 to 9998"


def test_an_as_of_in_the_year_9999_in_utc_is_refused_whatever_its_offset() -> None:
    west = datetime(9998, 12, 31, 23, tzinfo=timezone(timedelta(hours=-2)))
    assert (outside_years(west) or "").startswith(ROOM)
    assert (outside_years(west.astimezone(UTC)) or "").startswith(ROOM)
    # Before the first instant UTC holds: refused, not an OverflowError.
    assert (outside_years(datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=2)))) or "").startswith(ROOM)


def test_an_as_of_in_the_year_2_in_utc_is_kept_whatever_its_offset() -> None:
    # 0001-12-31T23:00-02:00 is 0002-01-01T01:00 in UTC: in the years a build can hold.
    assert outside_years(datetime(1, 12, 31, 23, tzinfo=timezone(timedelta(hours=-2)))) is None
    assert outside_years(datetime(9998, 12, 31, 23, tzinfo=UTC)) is None
