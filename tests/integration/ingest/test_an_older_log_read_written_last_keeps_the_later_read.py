"""Two runs of the logs ingestion at once (a backfill, or a scheduled run started while a slow one still runs): the
run that read first writes last. Its rows replace the stored rows of the hours it read only where those were read
before it asked; the later run's rows stay, and of a key read by both the later read wins, as in any merge. Else
the older read would undo the newer one for good: the next scheduled run's overlap no longer reaches that hour."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.integration.ingest.test_a_log_hour_read_again_holds_only_the_latest_read import (
    LOG_COUNTS,
    TEN,
    THIRTEEN,
    TWELVE,
    Logs,
    _lake,
    _read,
    _stored,
    elasticsearch,  # noqa: F401 - the fixture
)


def _held_until(event: threading.Event, read: threading.Event, call: Callable[..., Any]) -> Callable[..., Any]:
    """`call`, made to wait for `event` once its run has read (`read` set when it is reached)."""

    def held(*args: Any, **kwargs: Any) -> Any:
        read.set()
        assert event.wait(60)
        return call(*args, **kwargs)

    return held


def test_the_run_that_read_first_and_writes_last_keeps_the_later_reads_rows(
    tmp_path: Path,
    elasticsearch: str,  # noqa: F811 - the fixture
) -> None:
    """By hand: a first run reads 10:00-13:00: 10:00 has ERROR 3. Run A reads the same hours (ERROR 3) and is held
    before it writes. Meanwhile 2 more ERROR lines and 2 WARN lines are logged for 10:00, and run B reads the hours
    and writes: ERROR 5, WARN 2. Then A writes. The lake holds B's later read: ERROR 5 and WARN 2 at 10:00, and
    12:00's ERROR 1 (read alike by both)."""
    lake = _lake(tmp_path)
    Logs.lines = {("logs-shop-*", TEN): {"ERROR": 3}, ("logs-shop-*", TWELVE): {"ERROR": 1}}
    assert _read(lake, elasticsearch, TEN, THIRTEEN) == "succeeded"

    # Run A's own lake: each call that begins its writes waits until B has written.
    slow = Lake.from_settings(Settings(lake_url=str(tmp_path / "lake")))
    a_read, b_written = threading.Event(), threading.Event()
    listing = slow.list_partitions
    slow.write_days = _held_until(b_written, a_read, slow.write_days)  # type: ignore[method-assign]
    slow.rewrite_partition = _held_until(b_written, a_read, slow.rewrite_partition)  # type: ignore[method-assign]
    slow.list_partitions = lambda ds: (  # type: ignore[method-assign,assignment]
        _held_until(b_written, a_read, listing)(ds) if ds.id == LOG_COUNTS.id else listing(ds)
    )
    statuses: list[str] = []
    run_a = threading.Thread(target=lambda: statuses.append(_read(slow, elasticsearch, TEN, THIRTEEN)))
    run_a.start()
    assert a_read.wait(60)

    Logs.lines = {("logs-shop-*", TEN): {"ERROR": 5, "WARN": 2}, ("logs-shop-*", TWELVE): {"ERROR": 1}}
    assert _read(lake, elasticsearch, TEN, THIRTEEN) == "succeeded"
    b_written.set()
    run_a.join(120)

    assert statuses == ["succeeded"]
    assert _stored(lake) == {
        ("logs-shop-*", 10, "ERROR", 5),
        ("logs-shop-*", 10, "WARN", 2),
        ("logs-shop-*", 12, "ERROR", 1),
    }
