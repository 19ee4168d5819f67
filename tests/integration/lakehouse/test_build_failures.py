"""The aggregate build under failure and concurrency, on a real lake (a local folder and S3 on loopback): a build
that dies halfway, two builds at once, an S3 error on one write, a raw day rewritten while the build reads it, and
lakes holding little or nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from botocore.awsrequest import AWSPreparedRequest, AWSResponse

from functions.build_aggregates.handler import handler
from lakehouse.aggregates import build as build_module
from lakehouse.aggregates import mart_writes
from lakehouse.aggregates.build import STATE_KEY, BuildError, build
from lakehouse.aggregates.lease import LEASE_KEY
from lakehouse.aggregates.sqlfiles import load_sql_files
from lakehouse.errors import RosettaError
from lakehouse.mappings import MappingStore
from lakehouse.runlog import RunLog
from lakehouse.schemas import Dataset, get_dataset
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.integration.lakehouse.test_incremental_builds import table_rows
from tests.lambda_context import LambdaContext
from tests.unit.aggregates.estate import AS_OF, CI_API, incident, mapping, metrics, t, write, write_estate
from tests.unit.aggregates.test_build import ingest, ingest_metrics, mart_snapshot
from tests.unit.aggregates.test_handler import EVENTS


def stored_mart(lake: Lake) -> dict[str, object]:
    """Every mart object as it is stored, bytes and version."""
    return {key: lake.store.get(key) for key in lake.list_keys("mart/")}


def hourly_tables(lake: Lake) -> dict[str, list[dict]]:
    """The rows of the mart tables an hourly build writes (it leaves the period tables to the daily build)."""
    hourly = {f.table for f in load_sql_files() if f.refresh == "hourly" and f.is_mart}
    return {table: found for table, found in mart_snapshot(lake).items() if table in hourly}


def assert_the_next_hourly_build_equals_a_full_one_and_counts_both_incidents(lake: Lake, settings: Settings) -> None:
    """The hourly build at 12:00 gives the hourly tables a full rebuild gives, and shop's 19th counts INC1 and INC4
    opened: 2."""
    build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=2))
    incremental = hourly_tables(lake)
    build(lake, settings, mode="full", as_of=AS_OF + timedelta(hours=2))
    assert incremental == hourly_tables(lake)
    days = table_rows(lake, "mv_incidents_app_day")
    assert [r["opened"] for r in days if r["day"] == t(19).date() and r["app_id"] == "shop"] == [2]


@pytest.mark.parametrize(
    ("step", "refusal"),
    [
        # Landed while the older build computed: it finds its lease taken before its first put.
        ("register_inputs", r"^this build's lease on the lake ran out and another build took it: this one put nothing"),
        # Landed while the older build put its history copies, its last put: the build state is compared and swapped.
        ("put_all", r"^another build wrote state/build/aggregates.json while this one put its tables"),
    ],
)
def test_a_build_that_outlived_its_lease_leaves_the_newer_builds_state_and_mart(
    lake: Lake, settings: Settings, monkeypatch: pytest.MonkeyPatch, step: str, refusal: str
) -> None:
    """The hourly build of 11:00 runs past its lease (here a lease of no time); the daily build of 12:00 takes the
    lake and lands. The 11:00 build then fails, and the API still finds the 12:00 build's state and tables: not the
    older ones put over them, under the older build's id."""
    write_estate(lake)
    build(lake, settings, mode="full", as_of=AS_OF)
    original = getattr(build_module, step)
    landed: list[object] = []

    def newer_build_lands_first(*args: object, **kwargs: object) -> object:
        if step == "put_all" and not any(o.key.startswith("state/build/") for o in args[1]):  # type: ignore[attr-defined]
            return original(*args, **kwargs)
        monkeypatch.setattr(build_module, step, original)
        ingest_metrics(lake, timedelta(days=1))
        newer = build(lake, settings, mode="daily", as_of=AS_OF + timedelta(hours=2))
        landed.extend([newer.run_id, stored_mart(lake)])
        return original(*args, **kwargs)

    monkeypatch.setattr(build_module, step, newer_build_lands_first)
    with pytest.raises(BuildError, match=refusal):
        build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=1), lease_for=timedelta(0))
    newer_run, newer_mart = landed
    state = lake.get_json(STATE_KEY)
    assert state is not None
    assert (state[0]["run_id"], state[0]["as_of"]) == (newer_run, (AS_OF + timedelta(hours=2)).isoformat())
    assert stored_mart(lake) == newer_mart
    # A build's run record names its mode where an ingest's names its dataset.
    runs = {r.dataset: r.status for r in RunLog(lake).list(limit=10) if r.function == "build_aggregates"}
    assert runs == {"full": "succeeded", "daily": "succeeded", "hourly": "failed"}


def test_a_build_that_dies_while_putting_its_tables_loses_no_day_to_the_next_hourly_build(
    lake: Lake, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An hourly build dies after putting some mart objects (the process killed, say). Its days were read from the
    run log but it wrote no build state: the state still names the last build, and the next hourly build rebuilds
    those days again, ending with the mart a full rebuild gives."""
    write_estate(lake)
    build(lake, settings, mode="full", as_of=AS_OF)
    last = lake.get_json(STATE_KEY)
    # Since the last build: a day of signals on the 20th, and an incident opened on the 19th (an older day).
    ingest_metrics(lake, timedelta(days=1))
    ingest(lake, "servicenow/incidents", incident("i4" * 16, "INC4", CI_API, t(19, 15), 2, 2))
    put = mart_writes._put
    put_keys: list[str] = []

    def dies_after_two_puts(lake: Lake, key: str, path: Path) -> None:
        if len(put_keys) >= 2:
            raise KeyboardInterrupt
        put_keys.append(key)
        put(lake, key, path)

    monkeypatch.setattr(mart_writes, "_put", dies_after_two_puts)
    with pytest.raises(KeyboardInterrupt):
        build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=1))
    monkeypatch.undo()
    assert [k for k in put_keys if k.startswith("mart/")]
    assert lake.get_json(STATE_KEY) == last
    # INC1 and INC4 opened on the shop's 19th: the day the dead build had taken was built.
    assert_the_next_hourly_build_equals_a_full_one_and_counts_both_incidents(lake, settings)


class FailingPuts:
    """S3 answering 500 to the PUTs of one key, `times` times, before the request leaves the client: botocore sees
    the answer as it would see S3's own."""

    def __init__(self, lake: Lake, key: str, times: int) -> None:
        self.key, self.left, self.answered = key, times, 0
        lake.store.client.meta.events.register("before-send.s3.PutObject", self)  # type: ignore[attr-defined]

    def __call__(self, request: AWSPreparedRequest, **kwargs: object) -> AWSResponse | None:
        if self.left == 0 or not request.url.split("?")[0].endswith(self.key):
            return None
        self.left -= 1
        self.answered += 1
        body = b"<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>"
        return AWSResponse(request.url, 500, {}, _Raw(body))


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **kwargs: object) -> Iterator[bytes]:
        yield self.body


TOP_RISKS = "mart/mv_monitoring_top_risks/data.parquet"


def test_an_s3_500_on_one_mart_write_is_retried_and_the_build_lands(s3_settings: Settings) -> None:
    """botocore retries S3's 500 (and its throttling) in its standard mode: one refused PUT costs a retry."""
    lake = Lake.from_settings(s3_settings)
    write_estate(lake)
    failing = FailingPuts(lake, TOP_RISKS, times=1)
    result = build(lake, s3_settings, mode="full", as_of=AS_OF)
    assert failing.answered == 1
    assert lake.get_table(TOP_RISKS) is not None
    state = lake.get_json(STATE_KEY)
    assert state is not None and state[0]["run_id"] == result.run_id


# A mart table's object; the build state, the last write (the run was recorded as succeeded before it).
@pytest.mark.parametrize("key", [TOP_RISKS, STATE_KEY])
def test_an_s3_write_failing_every_retry_fails_the_build_naming_it_and_keeps_the_last_state(
    s3_settings: Settings, key: str
) -> None:
    """S3 answers 500 to the first PUT of one object and to each of botocore's five retries: the build fails with
    S3's error naming the object, its run is recorded as failed, and the build state still names the last build."""
    lake = Lake.from_settings(s3_settings)
    write_estate(lake)
    build(lake, s3_settings, mode="full", as_of=AS_OF)
    last = lake.get_json(STATE_KEY)
    failing = FailingPuts(lake, key, times=100)
    with pytest.raises(RosettaError, match=rf"^S3 error InternalError on s3://.* putting {key}: "):
        build(lake, s3_settings, mode="daily", as_of=AS_OF + timedelta(hours=1))
    assert failing.answered == 1 + 5
    assert lake.get_json(STATE_KEY) == last
    runs = {r.dataset: r.status for r in RunLog(lake).list(limit=10) if r.function == "build_aggregates"}
    assert runs == {"full": "succeeded", "daily": "failed"}


class LostAnswer:
    """The first conditional PUT of one key reaches S3 and lands, and its answer is lost (a 500 stands in for a read
    timeout): botocore sends it again, and S3 refuses the same put (412), the object being this put's already."""

    def __init__(self, lake: Lake, key: str) -> None:
        self.key, self.lost = key, 0
        lake.store.client.meta.events.register("before-send.s3.PutObject", self)  # type: ignore[attr-defined]

    def __call__(self, request: AWSPreparedRequest, **kwargs: object) -> AWSResponse | None:
        conditional = "If-Match" in request.headers or "If-None-Match" in request.headers
        if self.lost or not conditional or not request.url.split("?")[0].endswith(self.key):
            return None
        self.lost += 1
        body = request.body if isinstance(request.body, bytes) else request.body.read()  # type: ignore[union-attr]
        landed = httpx.request(request.method, request.url, headers=dict(request.headers.items()), content=body)
        assert landed.status_code == 200, landed.text
        return AWSResponse(request.url, 500, {}, _Raw(b"<Error><Code>InternalError</Code></Error>"))


@pytest.mark.parametrize("key", [LEASE_KEY, STATE_KEY])
def test_a_build_whose_own_conditional_put_landed_without_an_answer_lands(s3_settings: Settings, key: str) -> None:
    """The lease's put lost its answer: the build failed saying another build (itself) was running, and kept the lake
    held until its lease ran out. The state's: the state was written, and the build failed saying another build
    wrote it. Each put is read back: this build's own, it goes on, lands, and lets the lake go."""
    lake = Lake.from_settings(s3_settings)
    write_estate(lake)
    build(lake, s3_settings, mode="full", as_of=AS_OF)
    lost = LostAnswer(lake, key)
    result = build(lake, s3_settings, mode="hourly", as_of=AS_OF + timedelta(hours=1))
    assert lost.lost == 1
    state = lake.get_json(STATE_KEY)
    assert state is not None and state[0]["run_id"] == result.run_id
    held = lake.get_json(LEASE_KEY)
    assert held is not None and held[0]["holder"] is None
    assert RunLog(lake).list(limit=1)[0].status == "succeeded"


def test_a_raw_day_rewritten_between_the_listing_and_the_read_is_read_again_by_the_next_build(
    lake: Lake, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An ingest rewrites the incidents' 19th after the daily build listed it and before it read it, then dies: its
    run record never names the day. The build reads the day once, into its history copy, so its mart counts one
    version of the day; the copy records the version listed, older than the one it holds, so the next hourly build
    reads the 19th again from raw/ and ends with the mart a full rebuild gives."""
    write_estate(lake)
    build(lake, settings, mode="full", as_of=AS_OF)
    incidents = get_dataset("servicenow/incidents")
    list_versions = lake.partition_versions

    def rewritten_once_listed(dataset: Dataset) -> dict[date, str]:
        listed = list_versions(dataset)
        if dataset == incidents:
            monkeypatch.setattr(lake, "partition_versions", list_versions)
            write(lake, incidents.id, incident("i4" * 16, "INC4", CI_API, t(19, 15), 2, 2))
        return listed

    ingest_metrics(lake, timedelta(days=1))
    monkeypatch.setattr(lake, "partition_versions", rewritten_once_listed)
    build(lake, settings, mode="daily", as_of=AS_OF + timedelta(hours=1))
    assert_the_next_hourly_build_equals_a_full_one_and_counts_both_incidents(lake, settings)


@pytest.mark.parametrize(
    ("ingested", "numerator", "denominator", "status"),
    [
        # A mapping imported, nothing ingested yet: no availability to tell.
        (False, None, None, "no data"),
        # Dynatrace's day of signals alone: the shop's SERVICE-A (24 h x 1,000 requests, 23 x 1 + 101 errors) and
        # SERVICE-B (20 h x 500 requests, no error): 34,000 requests, 34,000 - 124 = 33,876 good; one day of seven.
        (True, 33_876.0, 34_000.0, "insufficient data"),
    ],
)
def test_a_scheduled_build_of_a_lake_holding_little_lands_with_what_it_can_tell(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    ingested: bool,
    numerator: float | None,
    denominator: float | None,
    status: str,
) -> None:
    monkeypatch.setenv("ROSETTA_LAKE_URL", str(tmp_path / "lake"))
    monkeypatch.setenv("ROSETTA_DUCKDB_TEMP_DIRECTORY", str(tmp_path / "duckdb"))
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    lake = Lake.from_settings(Settings())
    MappingStore(lake).apply(mapping(), actor="test", replace=True)
    if ingested:
        ingest(lake, "dynatrace/service_metrics_hourly", *metrics().to_pylist())
    summary = handler(json.loads((EVENTS / "daily.json").read_text()), LambdaContext())
    assert summary["mode"] == "full"
    state = lake.get_json(STATE_KEY)
    assert state is not None and state[0]["run_id"] == summary["run_id"]
    slo = [r for r in table_rows(lake, "mv_slo_app_period") if r["app_id"] == "shop" and r["period"] == "last_7d"]
    found = [(r["availability_numerator"], r["availability_denominator"], r["availability_status"]) for r in slo]
    assert found == [(numerator, denominator, status)]
    assert table_rows(lake, "mv_deployments") == []
