"""A store that takes every connection and never answers (a proxy on loopback in front of the embedded server holding
chosen requests): a call fails after the store's timeouts, not botocore's 60 s a try nor httpfs's 30 s, and a build
with a deadline stops in time to record its end, leaving the mart and the build state as they were."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from functions.build_aggregates import handler as build_handler
from lakehouse.aggregates import build as build_module
from lakehouse.aggregates.build import STATE_KEY, build
from lakehouse.duckdb_session import open_duckdb
from lakehouse.errors import LakeAccessError, RosettaError
from lakehouse.local_s3 import S3Endpoint
from lakehouse.runlog import RunLog, RunRecord
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.integration.store_faults import HANG, FaultyStore, method_on
from tests.lambda_context import LambdaContext
from tests.unit.aggregates.estate import AS_OF, write_estate

pytestmark = pytest.mark.s3

WATERMARK = "state/servicenow/incidents.json"
# What botocore alone would take on a held request: 60 s a try, and the retries after it (one, with `one_retry`).
BOTOCORE_DEFAULT_S = 60 * 2
# What a build leaves in the lake: its mart objects by key, and its build state.
Built = tuple[dict[str, Any], Any]


def where(faulty_s3: FaultyStore) -> str:
    return f"s3://{faulty_s3.endpoint.bucket} at {faulty_s3.endpoint.endpoint_url}"


def built_lake(endpoint: S3Endpoint, prefix: str, tmp_path: Path) -> tuple[Settings, Lake, Built]:
    """A lake of the small estate behind `endpoint`, built once, and what its build left (mart objects, build state)."""
    settings = endpoint.settings(prefix, duckdb_temp_directory=tmp_path / "duckdb")
    lake = Lake.from_settings(settings)
    write_estate(lake)
    build(lake, settings, mode="full", as_of=AS_OF)
    return settings, lake, what_the_build_left(lake)


def what_the_build_left(lake: Lake) -> Built:
    return {key: lake.store.get(key) for key in lake.list_keys("mart/")}, lake.get_json(STATE_KEY)


def as_lambda_sees_it(
    monkeypatch: pytest.MonkeyPatch, endpoint: S3Endpoint, prefix: str, tmp_path: Path, *, read_timeout_s: int
) -> None:
    """The build function's environment: the lake behind `endpoint`, 1 s to connect and `read_timeout_s` to answer."""
    for name, value in endpoint.environment(prefix).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ROSETTA_DUCKDB_TEMP_DIRECTORY", str(tmp_path / "duckdb"))
    monkeypatch.setenv("ROSETTA_S3_CONNECT_TIMEOUT_S", "1")
    monkeypatch.setenv("ROSETTA_S3_READ_TIMEOUT_S", str(read_timeout_s))
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "RosettaMonitoringTest")


def failed_and_nothing_lost(settings: Settings, lake: Lake, before: Built) -> RunRecord:
    """The stopped build's run record, failed and ended; the mart and the build state as the last build left them, and
    the lease given back (the next build runs at once)."""
    (failed,) = [r for r in RunLog(lake).list(limit=10) if r.function == "build_aggregates" and r.status == "failed"]
    assert failed.finished_at is not None
    assert what_the_build_left(lake) == before
    assert build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=1)).tables
    return failed


@pytest.mark.usefixtures("one_retry")
def test_a_read_the_store_never_answers_fails_after_its_read_timeouts_naming_the_object(
    faulty_s3: FaultyStore, tmp_path: Path
) -> None:
    """Read timeout 1 s: the GET of a watermark is held, tried twice (one retry here); the error says the store did not
    answer in time, with the operation, the key and the setting, in seconds rather than two minutes."""
    settings = faulty_s3.endpoint.settings(
        f"t-{uuid.uuid4().hex[:12]}", duckdb_temp_directory=tmp_path / "duckdb", s3_read_timeout_s=1
    )
    lake = Lake.from_settings(settings)
    lake.store.put(WATERMARK, b"{}")
    held = faulty_s3.fail(method_on("GET", WATERMARK), HANG)
    started = time.monotonic()
    with pytest.raises(LakeAccessError) as caught:
        lake.store.get(WATERMARK)
    took = time.monotonic() - started
    assert str(caught.value) == (
        f"S3 store {where(faulty_s3)} did not answer in time getting {WATERMARK}: "
        "no answer within 1 s (ROSETTA_S3_READ_TIMEOUT_S) on any try"
    )
    assert held.hit == 2
    assert took < BOTOCORE_DEFAULT_S / 2
    assert faulty_s3.endpoint.secret_access_key not in str(caught.value)


def test_a_build_whose_reads_are_held_stops_by_its_deadline_records_its_end_and_keeps_the_mart(
    faulty_s3: FaultyStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build Lambda invoked with 20 s left, against a store that holds every read of the first-read instants
    (state/<source>/read_from/), with botocore's five retries and a 5 s read timeout: six tries alone would take 30 s
    and their waits between tries up to 31 s more. The build stops retrying so that one whole try (6 s) is left before
    the deadline, fails within the 20 s naming the object it read and that the store did not answer in time, and its
    run record says so, ended; the mart, the build state and the lease are as the last build left them."""
    prefix = f"t-{uuid.uuid4().hex[:12]}"
    settings, lake, before = built_lake(faulty_s3.endpoint, prefix, tmp_path)
    as_lambda_sees_it(monkeypatch, faulty_s3.endpoint, prefix, tmp_path, read_timeout_s=5)

    held = faulty_s3.fail(method_on("GET", "/read_from/"), HANG)
    started = time.monotonic()
    with pytest.raises(RosettaError) as caught:
        build_handler.handler({"mode": "full", "as_of": AS_OF.isoformat()}, LambdaContext(remaining_ms=20_000))
    took = time.monotonic() - started
    message = str(caught.value)
    assert took < 20
    assert held.hit >= 1
    assert message.startswith(f"S3 store {where(faulty_s3)} did not answer in time getting state/")
    assert "/read_from/" in message and "\n" not in message
    assert faulty_s3.endpoint.secret_access_key not in message

    faulty_s3.clear()
    failed = failed_and_nothing_lost(settings, lake, before)
    assert failed.error is not None and failed.error.endswith(message)


def test_a_build_whose_duckdb_reads_of_the_lake_are_held_stops_before_lambda_kills_it(
    faulty_s3: FaultyStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DuckDB reads the raw day files itself (httpfs), and a query is not interrupted while httpfs waits: with its own
    timeouts (30 s a try, four tries) a store that holds those reads kept the build two minutes, past a Lambda
    invoked with 70 s left, which would kill it with its run record "running". With the store's timeouts (1 s to
    connect, 5 s to answer) a query holds at most 4 x 5 s and the waits between tries (0.1 + 0.4 + 1.6 s), 22.1 s, and
    the build stops that long and 30 s more before the timeout: it ends within the 70 s, its run record failed and
    ended, the mart, the build state and the lease as the last build left them.

    The stop comes 17.9 s in: inside the held query whenever the build reaches it within that time, however fast.
    (Invoked with 60 s left and 3 s to answer, a build reaching the held reads within 1.9 s failed of their error
    before its stop; with 48 s, a loaded machine was stopped before it reached them.)"""
    prefix = f"t-{uuid.uuid4().hex[:12]}"
    settings, lake, before = built_lake(faulty_s3.endpoint, prefix, tmp_path)
    as_lambda_sees_it(monkeypatch, faulty_s3.endpoint, prefix, tmp_path, read_timeout_s=5)

    metrics = "/raw/dynatrace/service_metrics_hourly/"
    held = [faulty_s3.fail(method_on(method, metrics), HANG) for method in ("HEAD", "GET")]
    started = time.monotonic()
    with pytest.raises(RosettaError, match=r"^stopped 52 s before the Lambda timeout"):
        build_handler.handler({"mode": "full", "as_of": AS_OF.isoformat()}, LambdaContext(remaining_ms=70_000))
    took = time.monotonic() - started
    assert took < 70, f"took {took:.1f} s"
    assert sum(rule.hit for rule in held) >= 1

    faulty_s3.clear()
    failed_and_nothing_lost(settings, lake, before)


@pytest.mark.parametrize(
    ("read_timeout_s", "left_s", "stopped_before_s", "stopped_by_s"),
    [
        # 4 x 3 s and 2.1 s of waits more than 30 s: stopped at about 6 s.
        (3, 50, 44, 15),
        # With 20 s to answer the margin would be 112 s, more than the 40 s given: the usual 30 s, at about 10 s,
        # rather than no stop at all.
        (20, 40, 30, 20),
    ],
)
def test_a_build_on_the_store_stops_early_enough_for_a_query_the_store_holds_to_end(
    s3_endpoint: S3Endpoint,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    read_timeout_s: int,
    left_s: int,
    stopped_before_s: int,
    stopped_by_s: int,
) -> None:
    """A stop before Lambda's timeout waits for the DuckDB query it lands in, and a query the store holds ends only
    when its four tries have waited out their timeout (1 s to connect here): four read timeouts and 2.1 s of waits
    between tries. So a build on the store stops that long before the usual 30 s (a build on a local folder keeps
    30 s, tests/unit/aggregates/test_handler.py), unless the invocation is given less than that: it then stops 30 s
    before, which covers all but such a query. Invoked with `left_s` and reading its inputs for a minute."""
    prefix = f"t-{uuid.uuid4().hex[:12]}"
    write_estate(Lake.from_settings(s3_endpoint.settings(prefix, duckdb_temp_directory=tmp_path / "duckdb")))
    as_lambda_sees_it(monkeypatch, s3_endpoint, prefix, tmp_path, read_timeout_s=read_timeout_s)
    read_inputs = build_module.register_inputs

    def slow_read(*args: Any, **kwargs: Any) -> Any:
        read = read_inputs(*args, **kwargs)
        time.sleep(60)
        return read

    monkeypatch.setattr(build_module, "register_inputs", slow_read)
    started = time.monotonic()
    with pytest.raises(RosettaError, match=rf"^stopped {stopped_before_s} s before the Lambda timeout"):
        build_handler.handler({"mode": "full", "as_of": AS_OF.isoformat()}, LambdaContext(remaining_ms=left_s * 1000))
    took = time.monotonic() - started
    assert took < stopped_by_s, f"took {took:.1f} s"


def test_a_build_whose_first_look_at_the_bucket_is_held_fails_within_its_invocation(
    faulty_s3: FaultyStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The build's first request asks whether the bucket is there. Held, with 1 s to connect and 5 s to answer and
    botocore's five retries, it took six tries of 5 s and the waits between them, past an invocation given 20 s: the
    check ran before the invocation's deadline was noted. It now ends within the 20 s, saying the store did not
    answer in time."""
    prefix = f"t-{uuid.uuid4().hex[:12]}"
    as_lambda_sees_it(monkeypatch, faulty_s3.endpoint, prefix, tmp_path, read_timeout_s=5)
    held = faulty_s3.fail(lambda r: r.method == "HEAD" and r.path.strip("/") == faulty_s3.endpoint.bucket, HANG)
    started = time.monotonic()
    with pytest.raises(RosettaError) as caught:
        build_handler.handler({"mode": "hourly"}, LambdaContext(remaining_ms=20_000))
    took = time.monotonic() - started
    assert took < 20, f"took {took:.1f} s"
    assert held.hit >= 1
    # The line names what was asked, as for any other operation: a held HeadBucket is not a held object.
    assert str(caught.value).startswith(f"S3 store {where(faulty_s3)} did not answer in time checking the bucket: ")


def test_a_read_on_a_cursor_of_the_build_connection_ends_after_the_store_timeouts(
    faulty_s3: FaultyStore, tmp_path: Path
) -> None:
    """The build's background writes read the lake on cursors of its connection, each a session of its own. A read
    there that the store holds ends after the store's timeouts too (1 s to connect, 2 s to answer: four tries of 2 s
    and 2.1 s of waits), not httpfs's own 30 s a try: two minutes."""
    settings = faulty_s3.endpoint.settings(
        f"t-{uuid.uuid4().hex[:12]}",
        duckdb_temp_directory=tmp_path / "duckdb",
        s3_connect_timeout_s=1,
        s3_read_timeout_s=2,
    )
    lake = Lake.from_settings(settings)
    con = open_duckdb(settings, lake)
    con.execute("copy (select 1 as x) to $path (format parquet)", {"path": str(tmp_path / "x.parquet")})
    lake.store.put("mart/x/data.parquet", (tmp_path / "x.parquet").read_bytes())
    held = [faulty_s3.fail(method_on(method, "/mart/x/"), HANG) for method in ("HEAD", "GET")]
    cursor = con.cursor()
    started = time.monotonic()
    with pytest.raises(duckdb.IOException, match="Timeout was reached"):
        cursor.execute("select count(*) from read_parquet($url)", {"url": lake.url_of("mart/x/data.parquet")})
    took = time.monotonic() - started
    assert took < 4 * 2 + 2.1 + 5, f"took {took:.1f} s"
    assert sum(rule.hit for rule in held) == 4
