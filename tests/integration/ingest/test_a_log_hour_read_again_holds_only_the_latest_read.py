"""Elasticsearch gives no bucket for a level without a line: an hour read again after a level's lines were deleted or
re-levelled holds only what the later read returned, not the union of both reads. Hours the run did not read, an
index pattern Elasticsearch refused, and a run that failed leave the lake as it was."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

import duckdb
import pytest

from lakehouse.schemas import get_dataset
from lakehouse.storage import Lake
from tests.integration.api.test_endpoints import QuietHandler, serving
from tests.integration.ingest.conftest import index_not_found, lake_reading_indices, search_answer
from tests.integration.ingest.conftest import read_logs as _read

LOG_COUNTS = get_dataset("elasticsearch/log_counts_hourly")
TEN = datetime(2024, 3, 5, 10, tzinfo=UTC)
ELEVEN = datetime(2024, 3, 5, 11, tzinfo=UTC)
TWELVE = datetime(2024, 3, 5, 12, tzinfo=UTC)
THIRTEEN = datetime(2024, 3, 5, 13, tzinfo=UTC)


class Logs:
    """What Elasticsearch holds now: lines per (index pattern, hour, level) of shop-api in production; the patterns
    it answers 404 (index_not_found); and whether its shards time out (a partial answer, asked again, then failed)."""

    lines: ClassVar[dict[tuple[str, datetime], dict[str, int]]] = {}
    gone: ClassVar[set[str]] = set()
    timing_out = False


@pytest.fixture
def elasticsearch() -> Iterator[str]:
    """Elasticsearch on loopback: one bucket per level of each hour of Logs.lines the search asks for."""

    class Search(QuietHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            asked = body["query"]["bool"]["filter"][0]["range"]["@timestamp"]
            pattern = self.path.split("/")[1]
            if pattern in Logs.gone:
                self.send_json(index_not_found(pattern), status=404)
                return
            buckets = []
            for (index, hour), levels in Logs.lines.items():
                start = int(hour.timestamp() * 1000)
                if index != pattern or not asked["gte"] <= start < asked["lt"]:
                    continue
                for level, count in levels.items():
                    key = {"service": "shop-api", "environment": "production", "level": level, "severity": None}
                    buckets.append({"key": key | {"hour": start}, "doc_count": count, "exceptions": {"doc_count": 0}})
            self.send_json(search_answer(buckets, timed_out=Logs.timing_out))

    Logs.lines, Logs.gone, Logs.timing_out = {}, set(), False
    with serving(Search) as url:
        yield url


def _lake(root: Path) -> Lake:
    """A lake whose mapping reads two index patterns: shop's logs-shop-* and pay's logs-pay-*."""
    return lake_reading_indices(root, {"shop": "logs-shop-*", "pay": "logs-pay-*"})


def _stored(lake: Lake) -> set[tuple[str, int, str, int]]:
    """(index pattern, hour of day, level, count) of every log count row, read as the build reads the raw days."""
    urls = lake.partition_urls(LOG_COUNTS)
    rows = duckdb.sql(
        "select index_pattern, hour(hour at time zone 'UTC'), level, count "
        "from read_parquet($files, hive_partitioning = true, union_by_name = true)",
        params={"files": urls},
    ).fetchall()
    return set(rows)


def test_a_level_gone_from_an_hour_read_again_leaves_the_lake_and_an_hour_not_read_keeps_its_rows(
    tmp_path: Path, elasticsearch: str
) -> None:
    """By hand: the first run reads 10:00-13:00: shop-api has 3 ERROR and 2 WARN lines at 10:00, 1 ERROR and 4 WARN
    at 12:00. The WARN lines of 10:00 are then re-levelled, and a run reads 10:00-11:00 again: 10:00 holds ERROR 3
    alone; 12:00, not read again, keeps ERROR 1 and WARN 4."""
    lake = _lake(tmp_path)
    Logs.lines = {("logs-shop-*", TEN): {"ERROR": 3, "WARN": 2}, ("logs-shop-*", TWELVE): {"ERROR": 1, "WARN": 4}}
    assert _read(lake, elasticsearch, TEN, THIRTEEN) == "succeeded"
    assert _stored(lake) == {
        ("logs-shop-*", 10, "ERROR", 3),
        ("logs-shop-*", 10, "WARN", 2),
        ("logs-shop-*", 12, "ERROR", 1),
        ("logs-shop-*", 12, "WARN", 4),
    }

    Logs.lines[("logs-shop-*", TEN)] = {"ERROR": 3}
    assert _read(lake, elasticsearch, TEN, ELEVEN) == "succeeded"

    assert _stored(lake) == {
        ("logs-shop-*", 10, "ERROR", 3),
        ("logs-shop-*", 12, "ERROR", 1),
        ("logs-shop-*", 12, "WARN", 4),
    }


def test_an_hour_read_again_with_no_line_left_holds_no_row(tmp_path: Path, elasticsearch: str) -> None:
    """By hand: 10:00 has 2 WARN lines, 12:00 has 1 ERROR; the WARN lines are deleted and 10:00-11:00 read again:
    Elasticsearch answers no bucket at all, and the lake keeps 12:00's ERROR 1 alone."""
    lake = _lake(tmp_path)
    Logs.lines = {("logs-shop-*", TEN): {"WARN": 2}, ("logs-shop-*", TWELVE): {"ERROR": 1}}
    assert _read(lake, elasticsearch, TEN, THIRTEEN) == "succeeded"

    del Logs.lines[("logs-shop-*", TEN)]
    assert _read(lake, elasticsearch, TEN, ELEVEN) == "succeeded"

    assert _stored(lake) == {("logs-shop-*", 12, "ERROR", 1)}


def test_a_pattern_refused_when_read_again_keeps_its_rows_and_the_other_holds_its_latest_read(
    tmp_path: Path, elasticsearch: str
) -> None:
    """By hand: at 10:00 logs-shop-* has ERROR 3 and WARN 2, logs-pay-* ERROR 5 and WARN 1. The WARN lines of both
    are re-levelled, and logs-pay-* is deleted (404) before 10:00-11:00 is read again (a partial run): logs-shop-*
    holds ERROR 3 alone; logs-pay-*, not read, keeps ERROR 5 and WARN 1."""
    lake = _lake(tmp_path)
    Logs.lines = {("logs-shop-*", TEN): {"ERROR": 3, "WARN": 2}, ("logs-pay-*", TEN): {"ERROR": 5, "WARN": 1}}
    assert _read(lake, elasticsearch, TEN, ELEVEN) == "succeeded"

    Logs.lines = {("logs-shop-*", TEN): {"ERROR": 3}, ("logs-pay-*", TEN): {"ERROR": 5}}
    Logs.gone = {"logs-pay-*"}
    assert _read(lake, elasticsearch, TEN, ELEVEN) == "partial"

    assert _stored(lake) == {
        ("logs-shop-*", 10, "ERROR", 3),
        ("logs-pay-*", 10, "ERROR", 5),
        ("logs-pay-*", 10, "WARN", 1),
    }


def test_a_failed_read_again_leaves_the_hour_as_the_last_good_read_left_it(tmp_path: Path, elasticsearch: str) -> None:
    """By hand: 10:00 has ERROR 3 and WARN 2; the WARN lines are re-levelled, and the read again times out (a partial
    answer, asked once: the run fails). The hour keeps ERROR 3 and WARN 2, byte for byte."""
    lake = _lake(tmp_path)
    Logs.lines = {("logs-shop-*", TEN): {"ERROR": 3, "WARN": 2}}
    assert _read(lake, elasticsearch, TEN, ELEVEN) == "succeeded"
    key = lake.partition_key(LOG_COUNTS, TEN.date())
    held = lake.store.get(key)
    assert held is not None

    Logs.lines = {("logs-shop-*", TEN): {"ERROR": 3}}
    Logs.timing_out = True
    assert _read(lake, elasticsearch, TEN, ELEVEN) == "failed"

    after = lake.store.get(key)
    assert after is not None and after.data == held.data
    assert _stored(lake) == {("logs-shop-*", 10, "ERROR", 3), ("logs-shop-*", 10, "WARN", 2)}
