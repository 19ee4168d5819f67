"""An index pattern Elasticsearch refuses after its first page leaves the counts a run stored before as they were.
Its first page's buckets are part of an hour's count only: ERROR and error lines are one ERROR row, and exceptions
are counted over every level, so a row of the first page alone sums part of the lines. Written, that row, read later,
would replace the whole count. The pattern's hours count as not read this run, which says so (partial), and the
other patterns' counts are written as ever."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from lakehouse.ingest.sources import ingest
from lakehouse.ingest.window import Window
from lakehouse.schemas import get_dataset
from lakehouse.storage import Lake
from tests.integration.api.test_endpoints import QuietHandler, serving
from tests.integration.ingest.conftest import elasticsearch_reader, index_not_found, lake_reading_indices, search_answer

LOG_COUNTS = get_dataset("elasticsearch/log_counts_hourly")
TEN = datetime(2024, 3, 5, 10, tzinfo=UTC)
ELEVEN = datetime(2024, 3, 5, 11, tzinfo=UTC)
TEN_MS = int(TEN.timestamp() * 1000)


def bucket(level: str, lines: int, exceptions: int, service: str = "shop-api") -> dict[str, Any]:
    key = {"service": service, "environment": "production", "level": level, "severity": None, "hour": TEN_MS}
    return {"key": key, "doc_count": lines, "exceptions": {"doc_count": exceptions}}


def page(buckets: list[dict[str, Any]]) -> dict[str, Any]:
    """A page of the composite aggregation: a full one (one bucket) names its last key, from which the next reads."""
    answer = search_answer(buckets)
    if buckets:
        answer["aggregations"]["logs"]["after_key"] = buckets[-1]["key"]
    return answer


@pytest.fixture
def elasticsearch() -> Iterator[tuple[str, dict[str, bool]]]:
    """logs-shop-* holds, in the 10:00 hour, 3 ERROR lines (2 with an exception) and 2 error lines (1 with one): with
    one bucket a page, two pages. logs-pay-* holds 1 ERROR line of pay-api. `state["refuse"]`: logs-shop-*'s second
    page is a 404 (its index deleted between the two)."""
    state = {"refuse": False}

    class Search(QuietHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            after = body["aggs"]["logs"]["composite"].get("after")
            if self.path.startswith("/logs-pay-*/"):
                self.send_json(page([bucket("ERROR", 1, 0, service="pay-api")] if after is None else []))
            elif after is None:
                self.send_json(page([bucket("ERROR", 3, 2)]))
            elif after["level"] == "error":  # past the last bucket
                self.send_json(page([]))
            elif state["refuse"]:
                self.send_json(index_not_found("logs-shop-*"), status=404)
            else:
                self.send_json(page([bucket("error", 2, 1)]))

    with serving(Search) as url:
        yield url, state


def read(lake: Lake, url: str) -> str:
    settings = elasticsearch_reader(url, http_attempts=1, elasticsearch_page_size=1)
    (outcome,) = ingest("logs", lake, settings, window=Window(TEN, ELEVEN)).outcomes
    return outcome.record.status


def stored(lake: Lake) -> dict[tuple[str, str], int]:
    rows = duckdb.sql(
        "select index_pattern, level, count from read_parquet($files, hive_partitioning = true, union_by_name = true)",
        params={"files": lake.partition_urls(LOG_COUNTS)},
    ).fetchall()
    return {(pattern, level): count for pattern, level, count in rows}


def test_a_pattern_refused_after_its_first_page_leaves_its_stored_counts(
    tmp_path: Path, elasticsearch: tuple[str, dict[str, bool]]
) -> None:
    url, state = elasticsearch
    lake = lake_reading_indices(tmp_path, {"shop": "logs-shop-*", "pay": "logs-pay-*"})
    assert read(lake, url) == "succeeded"
    whole = stored(lake)
    # 3 + 2 ERROR lines, 2 + 1 with an exception; pay's one line.
    assert whole[("logs-shop-*", "ERROR")] == 5 and whole[("logs-shop-*", "EXCEPTION")] == 3
    assert whole[("logs-pay-*", "ERROR")] == 1

    state["refuse"] = True
    assert read(lake, url) == "partial"
    assert stored(lake) == whole
