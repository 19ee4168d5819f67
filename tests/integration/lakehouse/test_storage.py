"""Day partitions on a local folder and on S3 over loopback: merge, dedupe, atomic replace, DuckDB reads."""

from __future__ import annotations

import gzip
import hashlib
import json
import socket
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest

from lakehouse.duckdb_session import open_duckdb
from lakehouse.errors import SchemaMismatchError
from lakehouse.objectstore import LocalStore, PreconditionFailed, S3Store, StoredObject
from lakehouse.schemas import get_dataset
from lakehouse.settings import Settings
from lakehouse.storage import Lake, days_written

INCIDENTS = get_dataset("servicenow/incidents")
LOGS = get_dataset("elasticsearch/log_counts_hourly")
DAY = date(2026, 11, 2)
T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)


def incident(sys_id: str, updated: datetime, state: int, opened: datetime = T0) -> dict[str, object]:
    row: dict[str, object] = {c.name: None for c in INCIDENTS.columns}
    row.update(sys_id=sys_id, number=f"INC{sys_id[-4:]}", state=state, opened_at=opened, sys_updated_on=updated)
    return row


def incidents(*rows: dict[str, object]) -> pa.Table:
    return pa.Table.from_pylist(list(rows), schema=INCIDENTS.schema)


def log_counts(service: str, counts: list[int], start: datetime = T0) -> pa.Table:
    return pa.Table.from_pylist(
        [
            {
                "index_pattern": "logs-*",
                "service_name": service,
                "environment": "production",
                "level": "ERROR",
                "hour": start + timedelta(hours=i),
                "count": n,
            }
            for i, n in enumerate(counts)
        ],
        schema=LOGS.schema,
    )


def test_writing_the_same_partition_twice_keeps_one_copy_of_every_row(lake: Lake) -> None:
    rows = log_counts("api", [3, 5, 8])
    first = lake.write_partition(LOGS, DAY, rows)
    second = lake.write_partition(LOGS, DAY, rows)
    assert (first.rows_before, first.rows_after, first.changed) == (0, 3, True)
    assert (second.rows_before, second.rows_after, second.changed) == (3, 3, False)
    stored = lake.read_partition(LOGS, DAY)
    assert stored is not None and sorted(stored.column("count").to_pylist()) == [3, 5, 8]
    assert stored.equals(LOGS.conform(rows))


def test_rerun_gives_identical_bytes(lake: Lake) -> None:
    lake.write_partition(LOGS, DAY, log_counts("api", [1, 2]))
    before = lake.store.get(lake.partition_key(LOGS, DAY))
    lake.write_partition(LOGS, DAY, log_counts("api", [1, 2]).take([1, 0]))
    after = lake.store.get(lake.partition_key(LOGS, DAY))
    assert before is not None and after is not None and before.data == after.data


def test_new_rows_merge_with_the_day_and_newest_write_wins_without_a_version(lake: Lake) -> None:
    lake.write_partition(LOGS, DAY, log_counts("api", [1, 1, 1]))
    lake.write_partition(LOGS, DAY, log_counts("api", [9], start=T0 + timedelta(hours=1)))
    lake.write_partition(LOGS, DAY, log_counts("db", [4]))
    stored = lake.read_partition(LOGS, DAY)
    assert stored is not None
    got = {(r["service_name"], r["hour"].hour): r["count"] for r in stored.to_pylist()}
    assert got == {("api", 9): 1, ("api", 10): 9, ("api", 11): 1, ("db", 9): 4}


def test_latest_version_wins_even_when_it_arrives_first(lake: Lake) -> None:
    v1, v2 = T0 + timedelta(minutes=5), T0 + timedelta(hours=2)
    # Versions are distinct keys for incidents (every version kept); a re-sent version replaces itself.
    lake.write_partition(INCIDENTS, DAY, incidents(incident("a" * 32, v2, 6)))
    lake.write_partition(INCIDENTS, DAY, incidents(incident("a" * 32, v1, 1)))
    lake.write_partition(INCIDENTS, DAY, incidents(incident("a" * 32, v2, 6)))
    stored = lake.read_partition(INCIDENTS, DAY)
    assert stored is not None
    assert sorted((r["sys_updated_on"], r["state"]) for r in stored.to_pylist()) == [(v1, 1), (v2, 6)]


def test_a_record_keeps_its_latest_version_and_a_version_sent_again_replaces_itself(lake: Lake) -> None:
    """A merge request is one row whatever its versions: the version updated at 10:00 stays when the one of 09:30
    arrives after it, and the same version sent again (its title edited without a new update time) replaces it."""
    merge_requests = get_dataset("gitlab/merge_requests")

    def version(updated: datetime, title: str) -> pa.Table:
        row = {c.name: None for c in merge_requests.columns}
        row.update(mr_id=7, project_id=1, title=title, merged_at=T0, updated_at=updated)
        return pa.Table.from_pylist([row], schema=merge_requests.schema)

    ten, half_past_nine = T0 + timedelta(hours=1), T0 + timedelta(minutes=30)
    lake.write_partition(merge_requests, DAY, version(ten, "at ten"))
    lake.write_partition(merge_requests, DAY, version(half_past_nine, "at half past nine"))
    stored = lake.read_partition(merge_requests, DAY)
    assert stored is not None and stored.select(["updated_at", "title"]).to_pylist() == [
        {"updated_at": ten, "title": "at ten"}
    ]
    lake.write_partition(merge_requests, DAY, version(ten, "at ten, edited"))
    stored = lake.read_partition(merge_requests, DAY)
    assert stored is not None and stored.column("title").to_pylist() == ["at ten, edited"]


def test_duplicates_inside_one_batch_keep_the_last_row(lake: Lake) -> None:
    table = pa.concat_tables([log_counts("api", [1]), log_counts("api", [2])])
    write = lake.write_partition(LOGS, DAY, table)
    assert write.rows_in == 2 and write.rows_after == 1
    stored = lake.read_partition(LOGS, DAY)
    assert stored is not None and stored.column("count").to_pylist() == [2]


def test_rows_of_another_day_are_refused(lake: Lake) -> None:
    with pytest.raises(SchemaMismatchError, match="does not belong to day=2026-11-01"):
        lake.write_partition(LOGS, date(2026, 11, 1), log_counts("api", [1]))
    assert lake.list_partitions(LOGS) == []


def test_write_days_splits_by_utc_day_and_partitions_are_listed(lake: Lake) -> None:
    rows = log_counts("api", [1] * 30, start=datetime(2026, 11, 1, 20, tzinfo=UTC))
    writes = lake.write_days(LOGS, rows)
    assert [(w.day, w.rows_after) for w in writes] == [
        (date(2026, 11, 1), 4),
        (date(2026, 11, 2), 24),
        (date(2026, 11, 3), 2),
    ]
    assert lake.list_partitions(LOGS) == [date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)]
    assert lake.list_partitions(INCIDENTS) == []


def test_a_partition_version_changes_when_the_day_is_rewritten_and_only_then(lake: Lake) -> None:
    lake.write_days(LOGS, log_counts("api", [1] * 30, start=datetime(2026, 11, 1, 20, tzinfo=UTC)))
    before = lake.partition_versions(LOGS)
    assert list(before) == [date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)]
    time.sleep(0.01)  # a local file's tag includes its modification time
    lake.write_days(LOGS, log_counts("web", [5], start=datetime(2026, 11, 2, 9, tzinfo=UTC)))
    after = lake.partition_versions(LOGS)
    assert after[date(2026, 11, 2)] != before[date(2026, 11, 2)]
    assert {d: v for d, v in after.items() if d != date(2026, 11, 2)} == {
        d: v for d, v in before.items() if d != date(2026, 11, 2)
    }
    lake.store.delete(lake.partition_key(LOGS, date(2026, 11, 3)))
    assert list(lake.partition_versions(LOGS)) == [date(2026, 11, 1), date(2026, 11, 2)]


def test_a_day_written_again_as_it_was_keeps_its_version(lake: Lake) -> None:
    """Rows a day holds already, merged again or given again whole (a dataset computed again over its last days), leave
    the object as it is: its version stays, and the write says the day did not change. A row changed in one day
    rewrites that day alone."""
    rows = log_counts("api", [1] * 30, start=datetime(2026, 11, 1, 20, tzinfo=UTC))
    lake.write_days(LOGS, rows)
    before = lake.partition_versions(LOGS)
    time.sleep(0.01)  # a local file's tag includes its modification time
    assert [w.changed for w in lake.write_days(LOGS, rows.take([2, 1, 0]))] == [False]
    assert [w.changed for w in lake.replace_days(LOGS, rows, date(2026, 11, 2))] == [False, False, False]
    assert lake.partition_versions(LOGS) == before
    changed = rows.set_column(rows.schema.get_field_index("count"), "count", pa.array([1] * 29 + [2], pa.int64()))
    writes = lake.replace_days(LOGS, changed, date(2026, 11, 2))
    assert [(w.day, w.changed) for w in writes] == [
        (date(2026, 11, 1), False),
        (date(2026, 11, 2), False),
        (date(2026, 11, 3), True),
    ]
    assert days_written(writes) == ["2026-11-03"]
    after = lake.partition_versions(LOGS)
    assert after[date(2026, 11, 3)] != before[date(2026, 11, 3)]
    assert {d: v for d, v in after.items() if d != date(2026, 11, 3)} == {
        d: v for d, v in before.items() if d != date(2026, 11, 3)
    }


def test_racing_writers_on_one_day_lose_no_rows(lake: Lake) -> None:
    """Eight writers merge into the same day at once; compare-and-swap makes every row land."""
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            lake.write_partition(LOGS, DAY, log_counts(f"svc-{n}", [n + 1] * 3))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    stored = lake.read_partition(LOGS, DAY)
    assert stored is not None and stored.num_rows == 24
    assert {r["service_name"] for r in stored.to_pylist()} == {f"svc-{n}" for n in range(8)}


def test_a_failed_write_leaves_the_previous_day_readable(lake: Lake, monkeypatch: pytest.MonkeyPatch) -> None:
    lake.write_partition(LOGS, DAY, log_counts("api", [1, 2]))
    store = lake.store
    if isinstance(store, LocalStore):
        # Fail while the new bytes are being written to disk.
        import os

        real_fsync = os.fsync

        def crash(fd: int) -> None:
            raise OSError("disk full")

        monkeypatch.setattr(os, "fsync", crash)
        with pytest.raises(OSError, match="disk full"):
            lake.write_partition(LOGS, DAY, log_counts("api", [7, 7, 7]))
        monkeypatch.setattr(os, "fsync", real_fsync)
        leftovers = [p.name for p in (store.root / "raw").rglob("*") if p.name.endswith(".tmp")]
        assert leftovers == []
    else:
        assert isinstance(store, S3Store)
        _put_truncated(store, lake.partition_key(LOGS, DAY), declared=10_000, sent=100)
    stored = lake.read_partition(LOGS, DAY)
    assert stored is not None and stored.column("count").to_pylist() == [1, 2]


def test_a_day_removed_while_a_writer_merges_is_written_again_with_the_new_rows(
    lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The day holds api at 09:00 and 10:00 (counts 1, 2). A writer reads it; before it puts its merge, another
    run removes the day (replace_days empties it). The writer's replace names a version that no longer exists: it
    must read again, find no day, and create it with its own row only (api at 09:00, count 7)."""
    lake.write_partition(LOGS, DAY, log_counts("api", [1, 2]))
    key = lake.partition_key(LOGS, DAY)
    store = lake.store
    real_get = store.get
    reads = 0

    def get_then_removed(k: str) -> StoredObject | None:
        nonlocal reads
        got = real_get(k)
        reads += 1
        if k == key and reads == 1:
            store.delete(key)
        return got

    monkeypatch.setattr(store, "get", get_then_removed)
    write = lake.write_partition(LOGS, DAY, log_counts("api", [7]))
    assert (write.rows_before, write.rows_after) == (0, 1)
    stored = lake.read_partition(LOGS, DAY)
    assert stored is not None and stored.column("count").to_pylist() == [7]


def test_duckdb_reads_what_was_written(lake: Lake, settings: Settings) -> None:
    lake.write_days(LOGS, log_counts("api", [5] * 48, start=datetime(2026, 11, 1, tzinfo=UTC)))
    con = open_duckdb(settings, lake)
    everything = lake.read_dataset(con, LOGS)
    assert everything.num_rows == 48 and sum(everything.column("count").to_pylist()) == 240
    one_day = lake.read_dataset(con, LOGS, days=[date(2026, 11, 2)])
    assert one_day.num_rows == 24
    # The analysts' way: a glob with Hive partitioning, pruning on day.
    per_day = con.execute(
        "select day, sum(count) from read_parquet($glob, hive_partitioning = true) group by day order by day",
        {"glob": lake.dataset_glob(LOGS)},
    ).fetchall()
    assert [(str(d), n) for d, n in per_day] == [("2026-11-01", 120), ("2026-11-02", 120)]


def test_a_day_an_older_release_wrote_without_a_column_reads_as_null_beside_a_full_day(
    lake: Lake, settings: Settings
) -> None:
    metrics = get_dataset("dynatrace/service_metrics_hourly")
    row = {"entity_id": "SERVICE-1", "entity_name": "shop", "request_count": 100.0, "latency_p99_ms": 250.0}
    lake.write_days(metrics, pa.Table.from_pylist([row | {"hour": T0}], schema=metrics.schema))
    # The next day as a release without latency_p99_ms wrote it.
    older = pa.Table.from_pylist([row | {"hour": T0 + timedelta(days=1)}], schema=metrics.schema)
    older = older.drop_columns(["latency_p99_ms"])
    sink = pa.BufferOutputStream()
    pq.write_table(older, sink)
    lake.store.put(lake.partition_key(metrics, (T0 + timedelta(days=1)).date()), sink.getvalue().to_pybytes())

    both = lake.read_dataset(open_duckdb(settings, lake), metrics).sort_by("hour")
    assert both.column("request_count").to_pylist() == [100.0, 100.0]
    assert both.column("latency_p99_ms").to_pylist() == [250.0, None]


def test_landing_pages_are_gzip_json_and_replay_in_order(lake: Lake) -> None:
    pages = [{"result": [{"n": 1}]}, {"result": [{"n": 2}]}]
    keys = [lake.put_landing("servicenow", "incidents", "run-1", i + 1, p, DAY) for i, p in enumerate(pages)]
    assert keys[0] == "landing/servicenow/incidents/day=2026-11-02/run-1/page-00001.json.gz"
    raw = lake.store.get(keys[1])
    assert raw is not None and json.loads(gzip.decompress(raw.data)) == pages[1]
    assert [p for _, p in lake.iter_landing("servicenow", "incidents", "run-1")] == pages


def _put_truncated(store: S3Store, key: str, *, declared: int, sent: int) -> None:
    """A signed PUT whose connection drops after `sent` of `declared` bytes, as a crashed writer's would."""
    url = f"{store.endpoint_url}/{store.bucket}/{store._key(key)}"
    request = AWSRequest(
        method="PUT", url=url, headers={"Content-Length": str(declared), "x-amz-content-sha256": "UNSIGNED-PAYLOAD"}
    )
    S3SigV4Auth(store.session.get_credentials().get_frozen_credentials(), "s3", "us-east-1").add_auth(request)
    target = urlparse(url)
    head = f"PUT {target.path} HTTP/1.1\r\nHost: {target.netloc}\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in request.headers.items()) + "\r\n"
    with socket.create_connection((target.hostname, target.port)) as sock:
        sock.sendall(head.encode() + b"PAR1" + b"\0" * (sent - 4))
    time.sleep(0.5)  # let the server notice the short body


def test_a_conditional_put_lets_one_of_racing_writers_win(lake: Lake) -> None:
    """The compare-and-swap under write_partition: writers that all read the same version and put at once with
    If-Match on it must not all succeed. Exactly one does; the others are told to merge again."""
    key = "raw/race/object.bin"
    lake.store.put(key, b"v0")
    current = lake.store.get(key)
    assert current is not None
    start = threading.Barrier(16)
    outcomes: list[str] = []

    def writer(n: int) -> None:
        start.wait()
        try:
            lake.store.put(key, bytes([n]) * 100_000, if_match=current.etag)
            outcomes.append("won")
        except PreconditionFailed:
            outcomes.append("lost")

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["lost"] * 15 + ["won"]


def test_reads_racing_writes_see_whole_objects_with_their_own_etag(s3_settings: Settings) -> None:
    """The ETag is what the compare-and-swap trusts: read while the object is being replaced, every body must be
    whole and its ETag the MD5 of that body (a GET racing the server's first ETag computation once returned part
    of a body, and an ETag that did not match it)."""
    store = Lake.from_settings(s3_settings).store
    key = "raw/race/replaced.bin"
    stop = threading.Event()
    problems: list[str] = []
    reads = 0

    def writer() -> None:
        version = 0
        while not stop.is_set():
            version += 1
            store.put(key, str(version).encode() * 6_000_000)

    def reader() -> None:
        nonlocal reads
        while not stop.is_set():
            try:
                got = store.get(key)
            except Exception as exc:  # a body that fails its checksum is one of the failures looked for
                problems.append(repr(exc)[:120])
                continue
            reads += 1
            if got is not None and hashlib.md5(got.data).hexdigest() != got.etag.strip('"'):
                problems.append(f"{len(got.data)} bytes under ETag {got.etag}")

    threads = [threading.Thread(target=writer)] + [threading.Thread(target=reader) for _ in range(12)]
    for t in threads:
        t.start()
    time.sleep(8)
    stop.set()
    for t in threads:
        t.join()
    assert reads > 100 and problems == []


def test_a_day_an_older_release_wrote_without_a_column_added_since_is_read_and_merged_into(lake: Lake) -> None:
    """INC…0001 was stored by a release whose incidents had no caused_by_change_sys_id. Reading the day gives it
    null there; a new version naming its change (CHG 'c'×32) merges into the day: two versions, the old one null."""
    old = incidents(incident("a" * 28 + "0001", T0, 1)).drop_columns(["caused_by_change_sys_id"])
    lake.put_table(lake.partition_key(INCIDENTS, DAY), old)
    stored = lake.read_partition(INCIDENTS, DAY)
    assert stored is not None and stored.column("caused_by_change_sys_id").to_pylist() == [None]
    newer = incident("a" * 28 + "0001", T0 + timedelta(hours=1), 2) | {"caused_by_change_sys_id": "c" * 32}
    write = lake.write_partition(INCIDENTS, DAY, incidents(newer))
    assert (write.rows_before, write.rows_after) == (1, 2)
    merged = lake.read_partition(INCIDENTS, DAY)
    assert merged is not None
    assert sorted((r["state"], r["caused_by_change_sys_id"]) for r in merged.to_pylist()) == [(1, None), (2, "c" * 32)]


def test_a_local_file_put_whole_replaces_the_object_and_reads_back_byte_for_byte(lake: Lake, tmp_path: Path) -> None:
    """How a build puts its mart objects: a file written beside the lake goes whole under its key, replacing the
    object there, and nothing else is left under the key's folder (no temporary file listed as an object)."""
    key = "mart/mv_incidents/month=2026-11/data.parquet"
    lake.store.put(key, b"the previous build's month")
    body = bytes(range(256)) * 40_000  # ten megabytes: more than one read of a file
    written = tmp_path / "scratch" / "month.parquet"
    written.parent.mkdir()
    written.write_bytes(body)

    lake.store.put_file(key, written)

    got = lake.store.get(key)
    assert got is not None and got.data == body
    assert lake.store.list("mart/") == [key]
