"""A store that takes every connection and never answers (a proxy on loopback in front of the embedded server holding
chosen requests): a call fails after the store's timeouts, not botocore's 60 s a try nor httpfs's 30 s, and a build
with a deadline stops in time to record its end, leaving the mart and the build state as they were."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from functions.build_aggregates import handler as build_handler
from lakehouse.aggregates import build as build_module
from lakehouse.aggregates.build import STATE_KEY, build
from lakehouse.errors import LakeAccessError, RosettaError
from lakehouse.local_s3 import S3Endpoint
from lakehouse.runlog import RunLog
from lakehouse.storage import Lake
from tests.integration.store_faults import HANG, FaultyStore, method_on
from tests.lambda_context import LambdaContext
from tests.unit.aggregates.estate import AS_OF, write_estate

pytestmark = pytest.mark.s3

WATERMARK = "state/servicenow/incidents.json"
# What botocore alone would take on a held request: 60 s a try, and the retries after it (one, with `one_retry`).
BOTOCORE_DEFAULT_S = 60 * 2


def where(faulty_s3: FaultyStore) -> str:
    return f"s3://{faulty_s3.endpoint.bucket} at {faulty_s3.endpoint.endpoint_url}"


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
    settings = faulty_s3.endpoint.settings(prefix, duckdb_temp_directory=tmp_path / "duckdb")
    lake = Lake.from_settings(settings)
    write_estate(lake)
    build(lake, settings, mode="full", as_of=AS_OF)
    mart = {key: lake.store.get(key) for key in lake.list_keys("mart/")}
    state = lake.get_json(STATE_KEY)
    for name, value in faulty_s3.endpoint.environment(prefix).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ROSETTA_DUCKDB_TEMP_DIRECTORY", str(tmp_path / "duckdb"))
    monkeypatch.setenv("ROSETTA_S3_CONNECT_TIMEOUT_S", "1")
    monkeypatch.setenv("ROSETTA_S3_READ_TIMEOUT_S", "5")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "RosettaMonitoringTest")

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
    (failed,) = [r for r in RunLog(lake).list(limit=10) if r.function == "build_aggregates" and r.status == "failed"]
    assert failed.error is not None and failed.error.endswith(message)
    assert failed.finished_at is not None
    assert {key: lake.store.get(key) for key in lake.list_keys("mart/")} == mart
    assert lake.get_json(STATE_KEY) == state
    # The lease was given back: the next build runs at once.
    assert build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=1)).tables


def test_a_build_whose_duckdb_reads_of_the_lake_are_held_stops_before_lambda_kills_it(
    faulty_s3: FaultyStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DuckDB reads the raw day files itself (httpfs), and a query is not interrupted while httpfs waits: with its own
    timeouts (30 s a try, four tries) a store that holds those reads kept the build two minutes, past a Lambda
    invoked with 48 s left, which would kill it with its run record "running". With the store's timeouts (1 s to
    connect, 3 s to answer) a query holds at most 4 x 3 s and the waits between tries (0.1 + 0.4 + 1.6 s), and the
    build stops that long and 30 s more before the timeout: it ends within the 48 s, its run record failed and ended,
    the mart, the build state and the lease as the last build left them."""
    prefix = f"t-{uuid.uuid4().hex[:12]}"
    settings = faulty_s3.endpoint.settings(prefix, duckdb_temp_directory=tmp_path / "duckdb")
    lake = Lake.from_settings(settings)
    write_estate(lake)
    build(lake, settings, mode="full", as_of=AS_OF)
    mart = {key: lake.store.get(key) for key in lake.list_keys("mart/")}
    state = lake.get_json(STATE_KEY)
    for name, value in faulty_s3.endpoint.environment(prefix).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ROSETTA_DUCKDB_TEMP_DIRECTORY", str(tmp_path / "duckdb"))
    monkeypatch.setenv("ROSETTA_S3_CONNECT_TIMEOUT_S", "1")
    monkeypatch.setenv("ROSETTA_S3_READ_TIMEOUT_S", "3")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "RosettaMonitoringTest")

    metrics = "/raw/dynatrace/service_metrics_hourly/"
    held = [faulty_s3.fail(method_on(method, metrics), HANG) for method in ("HEAD", "GET")]
    started = time.monotonic()
    with pytest.raises(RosettaError, match=r"^stopped 44 s before the Lambda timeout"):
        build_handler.handler({"mode": "full", "as_of": AS_OF.isoformat()}, LambdaContext(remaining_ms=48_000))
    took = time.monotonic() - started
    assert took < 48, f"took {took:.1f} s"
    assert sum(rule.hit for rule in held) >= 1

    faulty_s3.clear()
    (failed,) = [r for r in RunLog(lake).list(limit=10) if r.function == "build_aggregates" and r.status == "failed"]
    assert failed.finished_at is not None
    assert {key: lake.store.get(key) for key in lake.list_keys("mart/")} == mart
    assert lake.get_json(STATE_KEY) == state
    assert build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=1)).tables


def test_a_build_on_the_store_stops_early_enough_for_a_query_the_store_holds_to_end(
    s3_endpoint: S3Endpoint, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stop before Lambda's timeout waits for the DuckDB query it lands in, and a query the store holds ends only
    when its four tries have waited out their timeout: with 1 s to connect and 3 s to answer, 4 x 3 s and 2.1 s of
    waits between tries. So a build on the store stops that long before the usual 30 s: 44 s before, not 30 (a build
    on a local folder keeps 30 s, tests/unit/aggregates/test_handler.py). Invoked with 50 s left and reading its
    inputs for a minute, it is stopped about 6 s in."""
    prefix = f"t-{uuid.uuid4().hex[:12]}"
    write_estate(Lake.from_settings(s3_endpoint.settings(prefix, duckdb_temp_directory=tmp_path / "duckdb")))
    for name, value in s3_endpoint.environment(prefix).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ROSETTA_DUCKDB_TEMP_DIRECTORY", str(tmp_path / "duckdb"))
    monkeypatch.setenv("ROSETTA_S3_CONNECT_TIMEOUT_S", "1")
    monkeypatch.setenv("ROSETTA_S3_READ_TIMEOUT_S", "3")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "RosettaMonitoringTest")
    read_inputs = build_module.register_inputs

    def slow_read(*args: Any, **kwargs: Any) -> Any:
        read = read_inputs(*args, **kwargs)
        time.sleep(60)
        return read

    monkeypatch.setattr(build_module, "register_inputs", slow_read)
    started = time.monotonic()
    with pytest.raises(RosettaError, match=r"^stopped 44 s before the Lambda timeout"):
        build_handler.handler({"mode": "full", "as_of": AS_OF.isoformat()}, LambdaContext(remaining_ms=50_000))
    assert time.monotonic() - started < 50 - 30


def test_a_build_whose_first_look_at_the_bucket_is_held_fails_within_its_invocation(
    faulty_s3: FaultyStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The build's first request asks whether the bucket is there. Held, with 1 s to connect and 5 s to answer and
    botocore's five retries, it took six tries of 5 s and the waits between them, past an invocation given 20 s: the
    check ran before the invocation's deadline was noted. It now ends within the 20 s, saying the store did not
    answer in time."""
    prefix = f"t-{uuid.uuid4().hex[:12]}"
    for name, value in faulty_s3.endpoint.environment(prefix).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ROSETTA_DUCKDB_TEMP_DIRECTORY", str(tmp_path / "duckdb"))
    monkeypatch.setenv("ROSETTA_S3_CONNECT_TIMEOUT_S", "1")
    monkeypatch.setenv("ROSETTA_S3_READ_TIMEOUT_S", "5")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "RosettaMonitoringTest")
    held = faulty_s3.fail(lambda r: r.method == "HEAD" and r.path.strip("/") == faulty_s3.endpoint.bucket, HANG)
    started = time.monotonic()
    with pytest.raises(RosettaError) as caught:
        build_handler.handler({"mode": "hourly"}, LambdaContext(remaining_ms=20_000))
    took = time.monotonic() - started
    assert took < 20, f"took {took:.1f} s"
    assert held.hit >= 1
    assert str(caught.value).startswith(f"S3 store {where(faulty_s3)} did not answer in time")
