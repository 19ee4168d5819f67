"""A level without a line counts 0 only in an hour the logs ingestion read the entity's own index. An index mapped
after the first runs, or one Elasticsearch refused (404 index_not_found: the run goes on, partial), was not read: its
entities' hours have no log count (null), where they read 0 as if Elasticsearch had said no line came."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import duckdb
import pytest

from lakehouse.aggregates.build import build
from lakehouse.index_hours import IndexHoursRead
from lakehouse.ingest.sources import ingest
from lakehouse.mappings import MappingStore
from lakehouse.runlog import Watermarks
from lakehouse.schemas import get_dataset
from lakehouse.storage import Lake
from tests.integration.api.test_endpoints import QuietHandler, serving
from tests.integration.ingest.conftest import elasticsearch_reader, index_not_found, read_logs, search_answer
from tests.integration.store_faults import SLOW_DOWN, FaultyStore
from tests.unit.aggregates.estate import AS_OF, estate_lake, mapping, t

# The bucket key of quiet-svc's ERROR lines in production: 7 of them, at 19 Nov 03:00.
QUIET_LINES = {"service": "quiet-svc", "environment": "production", "level": "ERROR", "severity": None}
SHOP_LINES = QUIET_LINES | {"service": "shop-api"}
# Searches Elasticsearch refuses for one index pattern's own sake, as it words them.
REFUSED = {
    "logs-shop-private": (
        403,
        {
            "type": "security_exception",
            "reason": "action [indices:data/read/search] is unauthorized for user [reader] on indices "
            "[logs-shop-private]",
        },
    ),
    "logs-shop-text": (
        400,
        {
            "type": "search_phase_execution_exception",
            "reason": "all shards failed",
            "phase": "query",
            "caused_by": {
                "type": "illegal_argument_exception",
                "reason": "Text fields are not optimised for operations that require per-document field data",
            },
        },
    ),
}


@pytest.fixture
def elasticsearch() -> Iterator[str]:
    """Elasticsearch on loopback: logs-quiet-* holds quiet-svc's 7 lines, answered when the search asks their hour;
    logs-shop-* holds none; logs-shop (a concrete name) does not exist."""

    class Search(QuietHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            asked = body["query"]["bool"]["filter"][0]["range"]["@timestamp"]
            if self.path.startswith("/logs-shop/"):
                self.send_json(index_not_found("logs-shop"), status=404)
                return
            for pattern, (status, error) in REFUSED.items():
                if self.path.startswith(f"/{pattern}/"):
                    self.send_json({"error": {"root_cause": [error], **error}, "status": status}, status=status)
                    return
            if self.path.startswith("/logs-shop-legacy-*/"):  # one index of the pattern fails every search
                legacy = search_answer(
                    [
                        {
                            "key": SHOP_LINES | {"hour": int(t(19, 4).timestamp() * 1000)},
                            "doc_count": 2,
                            "exceptions": {"doc_count": 0},
                        }
                    ]
                )
                legacy["_shards"] = {"total": 2, "successful": 1, "skipped": 0, "failed": 1}
                self.send_json(legacy)
                return
            if unquote(self.path).startswith("/remote:logs-shop-*/"):  # its cluster unavailable, skip_unavailable
                skipped = search_answer([])
                del skipped["aggregations"]  # no shard searched: no aggregation
                skipped["_shards"] = {"total": 0, "successful": 0, "skipped": 0, "failed": 0}
                skipped["_clusters"] = {"total": 1, "successful": 0, "skipped": 1}
                self.send_json(skipped)
                return
            buckets = []
            hour = int(t(19, 3).timestamp() * 1000)
            if self.path.startswith("/logs-quiet-") and asked["gte"] <= hour < asked["lt"]:
                buckets = [{"key": QUIET_LINES | {"hour": hour}, "doc_count": 7, "exceptions": {"doc_count": 0}}]
            self.send_json(search_answer(buckets))

    with serving(Search) as url:
        yield url


def map_indices(lake: Lake, indices: dict[str, str]) -> None:
    """The estate's mapping with these applications' elisa_index."""
    entries = [e | {"elisa_index": indices[e["entity_id"]]} if e["entity_id"] in indices else e for e in mapping()]
    MappingStore(lake).apply(entries, actor="test", replace=True)


def hourly_log_errors(root: Path, component: str, first: int = 0, last: int = 8) -> dict[int, int | None]:
    """The component's log errors of 19 Nov from hour `first` to hour `last`, by hour."""
    rows = duckdb.sql(
        "select hour(hour), log_errors from read_parquet($glob, hive_partitioning = true) "
        "where level = 'component' and component_id = $component and hour between $since and $until",
        params={
            "glob": f"{root}/lake/mart/mv_golden_signals_hourly/**/*.parquet",
            "component": component,
            "since": t(19, first),
            "until": t(19, last),
        },
    ).fetchall()
    return dict(rows)


def daily_log_errors(root: Path, app: str) -> dict[date, int | None]:
    """The application's log errors of 18 and 19 Nov."""
    rows = duckdb.sql(
        "select day, log_errors from read_parquet($glob, hive_partitioning = true) "
        "where app_id = $app and environment = 'production' and day in ($d18, $d19)",
        params={
            "glob": f"{root}/lake/mart/mv_monitoring_app_day_summary/**/*.parquet",
            "app": app,
            "d18": date(2026, 11, 18),
            "d19": date(2026, 11, 19),
        },
    ).fetchall()
    return dict(rows)


def by_hour(first: int, last: int, value: Any) -> dict[int, Any]:
    return dict.fromkeys(range(first, last + 1), value)


def forget_hours_read(lake: Lake) -> None:
    """The lake as a release that kept no hours read per index pattern leaves it (its watermark and first read)."""
    key = lake.state_key("elasticsearch", "hours_read/log_counts_hourly")
    if lake.get_json(key) is not None:
        lake.store.delete(key)


def test_an_index_mapped_later_has_no_log_count_before_it_was_first_read(tmp_path: Path, elasticsearch: str) -> None:
    """By hand: run 1 reads 19 Nov 00:00-09:00 with only logs-quiet-* mapped; shop is then mapped to logs-shop-*, and
    run 2 reads 07:00 to as-of (20 Nov 10:00). shop's components: null 00:00-06:00 (no run asked shop's index then),
    0 from 07:00 (asked, no line); quiet-svc: 0 every hour but 03:00's 7 lines. The day summary: shop's 18 Nov null,
    its 19 Nov 0 (hours from 07:00 read, no line); quiet's 19 Nov 7."""
    lake, settings = estate_lake(tmp_path)
    map_indices(lake, {"quiet": "logs-quiet-*"})
    assert read_logs(lake, elasticsearch, t(19, 0), t(19, 9)) == "succeeded"
    map_indices(lake, {"quiet": "logs-quiet-*", "shop": "logs-shop-*"})
    assert read_logs(lake, elasticsearch, t(19, 7), AS_OF) == "succeeded"

    build(lake, settings, mode="full", as_of=AS_OF)

    for component in ("shop-api", "shop-db"):
        assert hourly_log_errors(tmp_path, component) == by_hour(0, 6, None) | by_hour(7, 8, 0), component
    assert hourly_log_errors(tmp_path, "quiet-svc") == by_hour(0, 8, 0) | {3: 7}
    assert daily_log_errors(tmp_path, "shop") == {date(2026, 11, 18): None, date(2026, 11, 19): 0}
    assert daily_log_errors(tmp_path, "quiet") == {date(2026, 11, 18): None, date(2026, 11, 19): 7}


def test_a_refused_index_has_no_log_count_and_the_other_index_keeps_its_own(tmp_path: Path, elasticsearch: str) -> None:
    """By hand: shop is mapped to logs-shop, which Elasticsearch answers 404 (the run is partial, the watermark
    moves); quiet to logs-quiet-*. One run reads 19 Nov 00:00 to as-of. shop's components: null every hour, and its
    days null; quiet-svc: 7 at 03:00, 0 the other hours, 7 on 19 Nov."""
    lake, settings = estate_lake(tmp_path)
    map_indices(lake, {"quiet": "logs-quiet-*", "shop": "logs-shop"})
    assert read_logs(lake, elasticsearch, t(19, 0), AS_OF) == "partial"

    build(lake, settings, mode="full", as_of=AS_OF)

    for component in ("shop-api", "shop-db"):
        assert hourly_log_errors(tmp_path, component) == by_hour(0, 8, None), component
    assert hourly_log_errors(tmp_path, "quiet-svc") == by_hour(0, 8, 0) | {3: 7}
    assert daily_log_errors(tmp_path, "shop") == {date(2026, 11, 18): None, date(2026, 11, 19): None}
    assert daily_log_errors(tmp_path, "quiet") == {date(2026, 11, 18): None, date(2026, 11, 19): 7}


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        ("logs-shop-private", "HTTP 403"),
        ("logs-shop-text", "HTTP 400"),
        ("logs-shop-legacy-*", "answered in part (1 shards failed)"),
        ("remote:logs-shop-*", "answered in part (1 of 1 clusters skipped)"),
    ],
)
def test_an_index_pattern_refused_for_its_own_sake_leaves_the_others_counted(
    tmp_path: Path, elasticsearch: str, pattern: str, why: str
) -> None:
    """By hand: shop's index pattern is refused (the credentials may not read it; a field mapped as text fails every
    shard; one of its indices fails every search; its remote cluster is unavailable, skipped with no shard failed),
    quiet's is answered. One run reads 19 Nov 00:00 to as-of: partial,
    one reject naming shop's pattern; quiet-svc 7 at 03:00 and 0 the other hours, its day 7; shop null throughout."""
    lake, settings = estate_lake(tmp_path)
    map_indices(lake, {"quiet": "logs-quiet-*", "shop": pattern})
    assert read_logs(lake, elasticsearch, t(19, 0), AS_OF) == "partial"
    (reject,) = [
        r
        for rows in (
            lake.read_partition(get_dataset("elasticsearch/rejects"), d)
            for d in lake.list_partitions(get_dataset("elasticsearch/rejects"))
        )
        for r in rows.to_pylist()
    ]
    assert pattern in reject["location"] and why in reject["reason"]

    build(lake, settings, mode="full", as_of=AS_OF)

    assert hourly_log_errors(tmp_path, "quiet-svc") == by_hour(0, 8, 0) | {3: 7}
    assert daily_log_errors(tmp_path, "quiet") == {date(2026, 11, 18): None, date(2026, 11, 19): 7}
    assert hourly_log_errors(tmp_path, "shop-db") == by_hour(0, 8, None)
    assert daily_log_errors(tmp_path, "shop")[date(2026, 11, 19)] is None


def test_a_lake_an_older_release_wrote_counts_every_index_read_up_to_its_watermark(
    tmp_path: Path, elasticsearch: str
) -> None:
    """By hand: an older release read 19 Nov 00:00-09:00 with shop mapped to logs-shop (refused) and kept no hours per
    index: as it counted them, every mapped index was read there, shop's components 0 from 00:00 to 08:00. A run of
    this release then reads 07:00 to as-of, shop still refused: the hours up to that release's watermark (09:00) stay
    0, and those after it have no count (null). quiet-svc keeps its 7 lines at 03:00 throughout."""
    lake, settings = estate_lake(tmp_path)
    map_indices(lake, {"quiet": "logs-quiet-*", "shop": "logs-shop"})
    assert read_logs(lake, elasticsearch, t(19, 0), t(19, 9)) == "partial"
    forget_hours_read(lake)

    build(lake, settings, mode="full", as_of=t(19, 9))

    for component in ("shop-api", "shop-db"):
        assert hourly_log_errors(tmp_path, component) == by_hour(0, 8, 0), component
    assert hourly_log_errors(tmp_path, "quiet-svc") == by_hour(0, 8, 0) | {3: 7}

    assert read_logs(lake, elasticsearch, t(19, 7), AS_OF) == "partial"
    build(lake, settings, mode="full", as_of=AS_OF)

    for component in ("shop-api", "shop-db"):
        assert hourly_log_errors(tmp_path, component) == by_hour(0, 8, 0), component
        assert hourly_log_errors(tmp_path, component, 9, 10) == {9: None, 10: None}, component
    assert hourly_log_errors(tmp_path, "quiet-svc") == by_hour(0, 8, 0) | {3: 7}
    assert daily_log_errors(tmp_path, "shop") == {date(2026, 11, 18): None, date(2026, 11, 19): 0}


@pytest.mark.s3
@pytest.mark.usefixtures("one_retry")
def test_hours_read_the_store_refused_to_record_are_read_again(
    tmp_path: Path, elasticsearch: str, faulty_s3: FaultyStore
) -> None:
    """By hand, on S3 behind a proxy: run 0 reads 18 Nov 22:00-19 Nov 00:00. Run 1 reads 00:00-09:00 and writes its
    counts, but the store answers SlowDown to every put of the hours read: the run fails and the watermark stays at
    00:00. The run moved the watermark to 09:00 before that put, ended succeeded, and the hours 00:00-06:00 were never
    recorded as read: the next run reads from two hours before the watermark, so quiet-svc's hours before 07:00 stayed
    null for good (not read), where Elasticsearch had said no line came. With the store back, the scheduled run reads
    from 22:00 on again, and the hours read are one span, 18 Nov 22:00 to the as-of."""
    settings = faulty_s3.endpoint.settings(f"t-{uuid.uuid4().hex[:12]}", duckdb_temp_directory=tmp_path / "duckdb")
    lake = Lake.from_settings(settings)
    map_indices(lake, {"quiet": "logs-quiet-*"})
    assert read_logs(lake, elasticsearch, t(18, 22), t(19, 0)) == "succeeded"

    refused = faulty_s3.fail(lambda r: r.method == "PUT" and "/hours_read/" in r.path, SLOW_DOWN)
    assert read_logs(lake, elasticsearch, t(19, 0), t(19, 9)) == "failed"
    assert refused.hit >= 2  # the put and its retry
    mark = Watermarks(lake).get("elasticsearch", "log_counts_hourly")
    assert mark is not None and mark.value == t(19, 0)

    faulty_s3.clear()
    scheduled = ingest("logs", lake, elasticsearch_reader(elasticsearch, http_attempts=1), now=AS_OF)
    assert [o.record.status for o in scheduled.outcomes] == ["succeeded"] and scheduled.window.since == t(18, 22)
    # What the build reads to tell 0 (read, no line) from null (not read): every hour from run 0's start on.
    hours = IndexHoursRead(lake).get()
    assert hours is not None and hours.spans == {"logs-quiet-*": [(t(18, 22), AS_OF)]}
