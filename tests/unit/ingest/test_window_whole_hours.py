"""An hourly source's window holds whole hours that have ended: Dynatrace has only part of the hour under way, and
its stamps are slot ends, so that hour's point would be stored as a whole hour's."""

from datetime import UTC, datetime, timedelta

from lakehouse.ingest.window import Window

HOUR = timedelta(hours=1)


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2024, 3, 5, hour, minute, tzinfo=UTC)


def test_a_window_ending_after_now_stops_at_the_hour_under_way() -> None:
    """At 10:30, a window given by hand from 08:00 to 12:00 read 10:00 to 11:00, half of it served (300 requests of
    600): stored as the hour's count until a scheduled run read it again, for good after a run by hand alone. It
    reads 08:00 to 10:00; 10:00 is read once it has ended."""
    assert Window(at(8), at(12)).aligned(HOUR, now=at(10, 30)) == Window(at(8), at(10))
    assert Window(at(8), at(12)).aligned(HOUR, now=at(11)) == Window(at(8), at(11))
    # Ended by now: rounded down only, as before.
    assert Window(at(8, 20), at(9, 40)).aligned(HOUR, now=at(12)) == Window(at(8), at(9))
    # Within the hour under way: the hour before it, read again.
    assert Window(at(10, 5), at(10, 25)).aligned(HOUR, now=at(10, 30)) == Window(at(9), at(10))
    assert Window(at(10, 5), at(10, 25)).aligned(HOUR, now=at(11, 30)) == Window(at(10), at(11))
