"""An ingestion Lambda whose writes the store takes and never answers (a proxy on loopback in front of the embedded
server holding them): the run stops retrying by its deadline, fails naming the object, records its end, and loses
nothing."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from functions.ingest_servicenow import handler as servicenow_handler
from lakehouse.ingest.run import IngestionFailed
from lakehouse.local_s3 import S3Endpoint
from lakehouse.runlog import RunLog, Watermarks
from lakehouse.settings import Settings
from simulators.serve import RunningSimulators
from tests.integration.store_faults import HANG, faulty_store

from .conftest import incident_days, invoke, lake_on_faulty_store, servicenow_incidents_event

pytestmark = [pytest.mark.simulators, pytest.mark.s3]
Point = Callable[[RunningSimulators, Settings], None]
# The Lambda's time left when the second run starts, and what botocore alone would take on one held put: six tries of
# 60 s.
REMAINING_S = 20
BOTOCORE_DEFAULT_S = 6 * 60


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
    monkeypatch.setenv("ROSETTA_S3_CONNECT_TIMEOUT_S", "1")
    monkeypatch.setenv("ROSETTA_S3_READ_TIMEOUT_S", "5")
    with faulty_store(s3_endpoint) as store:
        lake = lake_on_faulty_store(store, sims, point, tmp_path)
        invoke(servicenow_handler, servicenow_incidents_event(first))
        days = incident_days(lake)
        mark = Watermarks(lake).get("servicenow", "incidents")
        assert days and mark is not None

        held = store.fail(lambda r: r.method == "PUT" and "/raw/servicenow/incidents/" in r.path, HANG)
        started = time.monotonic()
        with pytest.raises(IngestionFailed):
            invoke(servicenow_handler, servicenow_incidents_event(rest), remaining_ms=REMAINING_S * 1000)
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
        assert incident_days(lake) == days
        assert Watermarks(lake).get("servicenow", "incidents") == mark
