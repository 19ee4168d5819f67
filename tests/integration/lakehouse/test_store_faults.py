"""The lake on an S3 store that misbehaves (a proxy on loopback in front of the embedded server answering chosen
requests with S3's errors, resetting them, or holding them): what each operation says, and what a build leaves."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from lakehouse.aggregates.build import STATE_KEY, BuildError, build
from lakehouse.errors import LakeAccessError
from lakehouse.runlog import RunLog
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.integration.store_faults import (
    ACCESS_DENIED,
    RESET,
    SLOW_DOWN,
    FaultyStore,
    Request,
    listing_of,
    method_on,
)
from tests.unit.aggregates.estate import AS_OF, write_estate
from tests.unit.aggregates.test_build import ingest_metrics

pytestmark = pytest.mark.s3

WATERMARK = "state/servicenow/incidents.json"


@pytest.fixture
def faulty_settings(faulty_s3: FaultyStore, tmp_path: Path) -> Settings:
    return faulty_s3.endpoint.settings(f"t-{uuid.uuid4().hex[:12]}", duckdb_temp_directory=tmp_path / "duckdb")


def where(faulty_s3: FaultyStore) -> str:
    return f"s3://{faulty_s3.endpoint.bucket} at {faulty_s3.endpoint.endpoint_url}"


Operation = Callable[[Lake], object]
# Each operation the lake does on state/, the request it sends, and how the error names it.
OPERATIONS: dict[str, tuple[Operation, Callable[[Request], bool], str]] = {
    "get": (lambda lake: lake.store.get(WATERMARK), method_on("GET", WATERMARK), f"getting {WATERMARK}"),
    "put": (lambda lake: lake.store.put(WATERMARK, b"{}"), method_on("PUT", WATERMARK), f"putting {WATERMARK}"),
    "list": (lambda lake: lake.store.list("state/"), listing_of("state/"), "listing state/"),
    "delete": (lambda lake: lake.store.delete(WATERMARK), method_on("DELETE", WATERMARK), f"deleting {WATERMARK}"),
}


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_a_role_without_the_state_grant_is_told_the_operation_and_the_key(
    faulty_s3: FaultyStore, faulty_settings: Settings, operation: str
) -> None:
    """A role granted raw/ but not state/: S3 answers 403 AccessDenied on state/. The error says which operation on
    which key was refused (once: a refusal is not retried), and never the secret key."""
    lake = Lake.from_settings(faulty_settings)
    lake.store.put(WATERMARK, b"{}")
    call, matches, doing = OPERATIONS[operation]
    refused = faulty_s3.fail(matches, ACCESS_DENIED)
    with pytest.raises(LakeAccessError) as caught:
        call(lake)
    assert str(caught.value) == f"access denied on {where(faulty_s3)} {doing}: the credentials lack permission for it"
    assert refused.hit == 1
    assert faulty_s3.endpoint.secret_access_key not in str(caught.value)


def test_a_few_503s_are_absorbed_by_the_retries(faulty_s3: FaultyStore, faulty_settings: Settings) -> None:
    """S3 throttles: two SlowDowns on a GET, then the object. The caller gets the object, on the third request."""
    lake = Lake.from_settings(faulty_settings)
    lake.store.put(WATERMARK, b'{"watermark": "2024-03-01T00:00:00+00:00"}')
    throttled = faulty_s3.fail(method_on("GET", WATERMARK), SLOW_DOWN, times=2)
    found = lake.store.get(WATERMARK)
    assert found is not None and found.data == b'{"watermark": "2024-03-01T00:00:00+00:00"}'
    assert throttled.hit == 2


@pytest.mark.usefixtures("one_retry")
def test_throttling_past_the_retries_names_the_object_read(faulty_s3: FaultyStore, faulty_settings: Settings) -> None:
    """S3 answers SlowDown to every try of a GET: after the first and its retry (one here), the error names the
    operation and the key, with S3's own words."""
    lake = Lake.from_settings(faulty_settings)
    lake.store.put(WATERMARK, b"{}")
    throttled = faulty_s3.fail(method_on("GET", WATERMARK), SLOW_DOWN)
    with pytest.raises(LakeAccessError) as caught:
        lake.store.get(WATERMARK)
    assert str(caught.value) == (
        f"S3 error SlowDown on {where(faulty_s3)} getting {WATERMARK}: Please reduce your request rate."
    )
    assert throttled.hit == 2


@pytest.mark.usefixtures("one_retry")
def test_a_connection_reset_on_every_try_names_the_listing(faulty_s3: FaultyStore, faulty_settings: Settings) -> None:
    """A load balancer resets every connection of a LIST of runs/: the error names the prefix listed."""
    lake = Lake.from_settings(faulty_settings)
    faulty_s3.fail(listing_of("runs/"), RESET)
    with pytest.raises(LakeAccessError, match=r"^S3 request to s3://\S+ at http://\S+ failed listing runs/: "):
        lake.list_keys("runs/")


def test_an_s3_error_while_the_build_reads_raw_fails_it_in_one_line_and_keeps_the_mart(
    faulty_s3: FaultyStore, faulty_settings: Settings
) -> None:
    """The build reads raw/ through DuckDB's httpfs: S3 throttles every read of Dynatrace's new day while the build
    defines its inputs. The build fails with a BuildError (one line, as the CLI prints it) naming the day's object,
    its run is recorded as failed, and the mart and build state stay the last build's."""
    lake = Lake.from_settings(faulty_settings)
    write_estate(lake)
    build(lake, faulty_settings, mode="full", as_of=AS_OF)
    mart = {key: lake.store.get(key) for key in lake.list_keys("mart/")}
    state = lake.get_json(STATE_KEY)
    ingest_metrics(lake, timedelta(days=1))  # the 20th's signals
    new_day = "raw/dynatrace/service_metrics_hourly/day%3D2026-11-20/data.parquet"
    faulty_s3.fail(lambda r: r.method in ("GET", "HEAD") and r.path.endswith(new_day), SLOW_DOWN)
    with pytest.raises(BuildError) as caught:
        build(lake, faulty_settings, mode="full", as_of=AS_OF + timedelta(hours=1))
    message = str(caught.value)
    assert message.startswith("reading the build's inputs: HTTP Error: ") and new_day in message
    assert "\n" not in message
    faulty_s3.clear()
    assert {key: lake.store.get(key) for key in lake.list_keys("mart/")} == mart
    assert lake.get_json(STATE_KEY) == state
    (failed,) = [r for r in RunLog(lake).list(limit=10) if r.function == "build_aggregates" and r.status == "failed"]
    assert failed.error == message
