"""The history a simulated estate may cover, checked before any is generated (the demo's options, the simulators')."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

# The history an estate may cover: ten years at most (generating it costs applications x days), after 2000 and before
# 9000 (its sources stamp records in epoch milliseconds, and some records are dated up to two years before it).
MAX_DAYS = 3660
EARLIEST, LATEST = datetime(2000, 1, 1, tzinfo=UTC), datetime(9000, 1, 1, tzinfo=UTC)


def history_refused(days: int, end: datetime | None) -> str | None:
    """Why an estate cannot cover `days` up to `end` (None: this hour), or None."""
    if not 1 <= days <= MAX_DAYS:
        return f"days must be 1 to {MAX_DAYS} (ten years), not {days}"
    last = end if end is not None else datetime.now(UTC)
    if last.tzinfo is None:
        last = last.replace(tzinfo=UTC)
    if not EARLIEST + timedelta(days=days) <= last <= LATEST:
        return f"a history of {days} days up to {last.isoformat(timespec='minutes')} does not lie between 2000 and 9000"
    return None
