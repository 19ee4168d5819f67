"""Elasticsearch answers every sub-aggregation asked for, 0 included: a bucket without its count of lines with an
exception gives no count, and was read as 0 exceptions with no word. It is a reject of that bucket, counted."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from functions.ingest_logs.parse import DATASET
from lakehouse.ingest.sources import ingest
from lakehouse.ingest.window import Window
from tests.integration.api.test_endpoints import QuietHandler, serving
from tests.integration.ingest.conftest import elasticsearch_reader, lake_reading_indices, search_answer
from tests.integration.ingest.truth import rows

HOUR = datetime(2024, 3, 5, 10, tzinfo=UTC)
WINDOW = Window(HOUR, datetime(2024, 3, 5, 11, tzinfo=UTC))
MISSING = object()


def bucket(level: str, lines: int, exceptions: Any) -> dict[str, Any]:
    """shop-api's lines of one level in production for HOUR; `exceptions` is the sub-aggregation as sent, or MISSING."""
    key = {"service": "shop-api", "environment": "production", "level": level, "severity": None}
    found = {"key": key | {"hour": int(HOUR.timestamp() * 1000)}, "doc_count": lines}
    return found if exceptions is MISSING else found | {"exceptions": exceptions}


@pytest.fixture(params=[MISSING, None, {}], ids=["no sub-aggregation", "null", "no doc_count"])
def elasticsearch(request: pytest.FixtureRequest) -> Iterator[str]:
    """Elasticsearch on loopback: 4 ERROR lines, 3 of them with an exception, and 2 WARN lines whose count of
    exceptions is not given (the parameter)."""
    buckets = [bucket("ERROR", 4, {"doc_count": 3}), bucket("WARN", 2, request.param)]

    class Search(QuietHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_json(search_answer(buckets))

    with serving(Search) as url:
        yield url


def test_a_bucket_without_its_exceptions_count_is_a_reject_not_zero_exceptions(
    tmp_path: Path, elasticsearch: str
) -> None:
    """By hand: the ERROR bucket counts (ERROR 4, EXCEPTION 3); the WARN bucket is one reject naming the exceptions
    count, its text the bucket as sent; the run is partial, 2 rows out and 1 rejected."""
    lake = lake_reading_indices(tmp_path, {"shop": "logs-shop-*"})

    (outcome,) = ingest("logs", lake, elasticsearch_reader(elasticsearch), window=WINDOW).outcomes

    record = outcome.record
    assert (record.status, record.rows_out, record.rows_rejected) == ("partial", 2, 1)
    assert sorted((r["level"], r["count"]) for r in rows(lake, DATASET)) == [("ERROR", 4), ("EXCEPTION", 3)]
    (reject,) = rows(lake, "elasticsearch/rejects")
    assert "exceptions" in reject["reason"]
    sent = json.loads(reject["raw_text"])
    assert (sent["key"]["level"], sent["doc_count"]) == ("WARN", 2)
