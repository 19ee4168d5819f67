"""The stored log counts a run replaces are those of the whole hours it read each index pattern for, read before it
asked: an hour read in part (the span starts or ends within it), another pattern's rows and a later read's rows (a
run at the same time) are merged as before, never dropped."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pyarrow as pa

from functions.ingest_logs.source import hours_read_again
from lakehouse.schemas import get_dataset

LOG_COUNTS = get_dataset("elasticsearch/log_counts_hourly")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2024, 3, day, hour, minute, tzinfo=UTC)


def stored(*keys: tuple[str, datetime], read_at: datetime | None = None) -> pa.Table:
    """A day's log counts: one ERROR line of shop-api in production per (index pattern, hour), read at `read_at`
    (by default 5 Mar 08:00, before any run of these tests asked)."""
    row = {"service_name": "shop-api", "environment": "production", "level": "ERROR", "count": 1}
    row["read_at"] = read_at or at(5, 8)
    return LOG_COUNTS.conform(pa.Table.from_pylist([row | {"index_pattern": p, "hour": h} for p, h in keys]))


def test_the_whole_hours_of_the_pattern_read_are_read_again_across_midnight() -> None:
    """By hand: logs-a-* read 5 Mar 22:30 to 6 Mar 01:20: its whole hours are 23:00 and 00:00, on 5 and 6 Mar. 22:00
    and 01:00 were read in part; logs-b-* was not read."""
    read_again = hours_read_again({"logs-a-*": (at(5, 22, 30), at(6, 1, 20))}, {"logs-a-*": at(6, 1, 20)})
    rows = stored(
        ("logs-a-*", at(5, 22)),
        ("logs-a-*", at(5, 23)),
        ("logs-a-*", at(6, 0)),
        ("logs-a-*", at(6, 1)),
        ("logs-b-*", at(5, 23)),
    )

    assert read_again.covers(rows).to_pylist() == [False, True, True, False, False]
    assert read_again.days == (date(2024, 3, 5), date(2024, 3, 6))


def test_a_span_without_a_whole_hour_reads_nothing_again() -> None:
    """By hand: logs-a-* read 10:10 to 10:50 has no whole hour: no day, no row is read again."""
    read_again = hours_read_again({"logs-a-*": (at(5, 10, 10), at(5, 10, 50))}, {"logs-a-*": at(5, 10, 50)})

    assert read_again.covers(stored(("logs-a-*", at(5, 10)))).to_pylist() == [False]
    assert read_again.days == ()


def test_a_row_read_after_the_run_asked_is_a_later_reads_and_is_not_read_again() -> None:
    """By hand: logs-a-* asked at 6 Mar 01:20 for 5 Mar 22:30 to 6 Mar 01:20. The 23:00 row read at 01:19 was read
    before: read again. The same hour's row read at 01:21 came from a run that asked later: kept."""
    read_again = hours_read_again({"logs-a-*": (at(5, 22, 30), at(6, 1, 20))}, {"logs-a-*": at(6, 1, 20)})
    before = stored(("logs-a-*", at(5, 23)), read_at=at(6, 1, 19))
    after = stored(("logs-a-*", at(5, 23)), read_at=at(6, 1, 21))

    assert read_again.covers(before).to_pylist() == [True]
    assert read_again.covers(after).to_pylist() == [False]
