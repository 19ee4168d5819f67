"""An ingestion Lambda whose writes the store takes and never answers (a proxy on loopback in front of the embedded
server holding them): the run stops retrying by its deadline, fails naming the object, records its end, and loses
nothing."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from functions.ingest_servicenow import handler as servicenow_handler
from lakehouse.ingest.run import IngestionFailed
from lakehouse.local_s3 import S3Endpoint
from lakehouse.runlog import RunLog, Watermarks
from lakehouse.schemas import get_dataset
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from simulators.serve import RunningSimulators
from tests.integration.store_faults import HANG, faulty_store

from .conftest import import_catalog, invoke, scheduled_event

pytestmark = [pytest.mark.simulators, pytest.mark.s3]
Point = Callable[[RunningSimulators, Settings], None]
# The Lambda's time left when the second run starts, and what botocore alone would take on one held put: six tries of
# 60 s.
REMAINING_S = 20
BOTOCORE_DEFAULT_S = 6 * 60


def incidents_event(window: dict[str, datetime]) -> dict[str, object]:
    as_text = {bound: moment.isoformat() for bound, moment in window.items()}
    return {**scheduled_event(servicenow_handler.__file__, as_text), "datasets": ["servicenow/incidents"]}


def test_a_run_whose_day_writes_are_held_fails_by_its_deadline_and_keeps_the_days_and_the_watermark(
    s3_endpoint: S3Endpoint, sims: RunningSimulators, point: Point, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first run reads ServiceNow's incidents up to three days before the estate's end. The next run, invoked with
    20 s left, finds every PUT of an incident day held (1 s connect and 5 s read timeouts, botocore's five retries).
    It fails before its deadline, its record, ended, names the day object it was putting and says the store did not
    answer in time, never the secret; the incident days and the watermark are as the first run left them."""
    estate = sims.estate
    first = {"since": estate.start - timedelta(days=1), "until": estate.end - timedelta(days=3)}
    rest = {"since": estate.end - timedelta(days=4), "until": estate.end + timedelta(hours=1)}
    incidents = get_dataset("servicenow/incidents")
    with faulty_store(s3_endpoint) as store:
        settings = store.endpoint.settings(f"t-{uuid.uuid4().hex[:12]}", duckdb_temp_directory=tmp_path / "duckdb")
        point(sims, settings)
        monkeypatch.setenv("ROSETTA_S3_CONNECT_TIMEOUT_S", "1")
        monkeypatch.setenv("ROSETTA_S3_READ_TIMEOUT_S", "5")
        lake = Lake.from_settings(settings)
        import_catalog(lake, estate)
        invoke(servicenow_handler, incidents_event(first))
        days = {day: lake.read_partition(incidents, day) for day in lake.list_partitions(incidents)}
        mark = Watermarks(lake).get("servicenow", "incidents")
        assert days and mark is not None

        held = store.fail(lambda r: r.method == "PUT" and "/raw/servicenow/incidents/" in r.path, HANG)
        started = time.monotonic()
        with pytest.raises(IngestionFailed):
            invoke(servicenow_handler, incidents_event(rest), remaining_ms=REMAINING_S * 1000)
        took = time.monotonic() - started
        assert took < REMAINING_S < BOTOCORE_DEFAULT_S / 2
        assert held.hit >= 1

        store.clear()
        record = next(r for r in RunLog(lake).list(limit=10) if r.dataset == "servicenow/incidents")  # the latest
        assert record.status == "failed" and record.finished_at is not None
        assert record.error is not None
        assert f"S3 store s3://{store.endpoint.bucket} at {store.endpoint.endpoint_url} did not answer in time " in (
            record.error
        )
        assert "putting raw/servicenow/incidents/day=" in record.error
        assert "\n" not in record.error
        assert store.endpoint.secret_access_key not in record.error
        assert {day: lake.read_partition(incidents, day) for day in lake.list_partitions(incidents)} == days
        assert Watermarks(lake).get("servicenow", "incidents") == mark
