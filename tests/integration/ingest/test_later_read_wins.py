"""Elasticsearch gives log counts without a version: of two reads of one hour that differ, the day keeps the one read
later, whichever run writes its day last (two runs side by side, a backfill finishing after a scheduled run)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from lakehouse.ingest.run import RunOutcome
from lakehouse.ingest.sources import ingest
from lakehouse.ingest.window import Window
from lakehouse.schemas import get_dataset
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.integration.api.test_endpoints import QuietHandler, serving
from tests.integration.ingest.conftest import elasticsearch_reader, lake_reading_indices, search_answer
from tests.integration.ingest.test_ingest_handlers import partition_bytes

LOG_COUNTS = get_dataset("elasticsearch/log_counts_hourly")
HOUR = datetime(2024, 3, 5, 10, tzinfo=UTC)
WINDOW = Window(HOUR, datetime(2024, 3, 5, 11, tzinfo=UTC))


class Counts:
    """What the source says now: the ERROR lines of shop-api in production for HOUR (more come in as it goes on)."""

    errors = 3


@pytest.fixture
def elasticsearch() -> Iterator[str]:
    """Elasticsearch on loopback, answering the counts' search with one bucket: Counts.errors ERROR lines."""

    class Search(QuietHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            key = {"service": "shop-api", "environment": "production", "level": "ERROR", "severity": None}
            bucket = {"key": key | {"hour": int(HOUR.timestamp() * 1000)}, "doc_count": Counts.errors}
            self.send_json(search_answer([bucket | {"exceptions": {"doc_count": 0}}]))

    with serving(Search) as url:
        yield url


def _stored(lake: Lake) -> list[tuple[str, int]]:
    day = lake.read_partition(LOG_COUNTS, HOUR.date())
    assert day is not None
    return [(r["level"], r["count"]) for r in day.to_pylist()]


def test_an_older_read_written_after_a_newer_one_leaves_the_newer_count(tmp_path: Path, elasticsearch: str) -> None:
    """Run A reads 3 ERROR lines and is slow to write; meanwhile 2 more lines come in, run B reads 5 and writes; then
    A writes its 3. The day says 5, as the source last said, and as B's read (the later) stamped it."""
    lake = lake_reading_indices(tmp_path, {"shop": "logs-shop-*"})
    slow = Lake.from_settings(Settings(lake_url=lake.url))
    read, newer_written = threading.Event(), threading.Event()
    write_days = slow.write_days

    def held_back(ds: Any, rows: Any, **written_by: Any) -> Any:
        if ds.id == LOG_COUNTS.id:
            read.set()
            assert newer_written.wait(30)
        return write_days(ds, rows, **written_by)

    slow.write_days = held_back  # type: ignore[method-assign]
    Counts.errors = 3
    first: list[RunOutcome] = []
    run_a = threading.Thread(
        target=lambda: first.append(ingest("logs", slow, elasticsearch_reader(elasticsearch), window=WINDOW))
    )
    run_a.start()
    try:
        assert read.wait(30)
        Counts.errors = 5
        before_b = datetime.now(UTC)
        run_b = ingest("logs", lake, elasticsearch_reader(elasticsearch), window=WINDOW)
        after_b = datetime.now(UTC)
    finally:
        newer_written.set()
        run_a.join(60)
    assert not first[0].failed and not run_b.failed
    assert _stored(lake) == [("ERROR", 5)]
    (row,) = lake.read_partition(LOG_COUNTS, HOUR.date()).to_pylist()  # type: ignore[union-attr]
    assert before_b <= row["read_at"] <= after_b


def test_a_later_read_that_differs_replaces_the_count_and_one_that_agrees_changes_no_byte(
    tmp_path: Path, elasticsearch: str
) -> None:
    lake = lake_reading_indices(tmp_path, {"shop": "logs-shop-*"})
    Counts.errors = 3
    ingest("logs", lake, elasticsearch_reader(elasticsearch), window=WINDOW)
    Counts.errors = 4
    ingest("logs", lake, elasticsearch_reader(elasticsearch), window=WINDOW)
    assert _stored(lake) == [("ERROR", 4)]
    held = partition_bytes(lake)
    again = ingest("logs", lake, elasticsearch_reader(elasticsearch), window=WINDOW)
    assert partition_bytes(lake) == held
    (outcome,) = again.outcomes
    assert outcome.record.days_written == []
