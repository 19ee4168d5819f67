"""An ingestion run whose writes S3 keeps throttling past botocore's retries (a proxy on loopback in front of the
embedded server): the run fails naming the object, loses nothing, and the next run catches up."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from functions.ingest_servicenow import handler as servicenow_handler
from lakehouse.ingest.run import IngestionFailed
from lakehouse.local_s3 import S3Endpoint
from lakehouse.runlog import Watermarks
from lakehouse.settings import Settings
from simulators.serve import RunningSimulators
from tests.integration.store_faults import SLOW_DOWN, faulty_store

from .conftest import incident_days, invoke, lake_on_faulty_store, servicenow_incidents_event
from .truth import rows

pytestmark = [pytest.mark.simulators, pytest.mark.s3]
Point = Callable[[RunningSimulators, Settings], None]


@pytest.mark.usefixtures("one_retry")
def test_a_write_throttled_past_the_retries_fails_the_run_and_the_next_run_catches_up(
    s3_endpoint: S3Endpoint, sims: RunningSimulators, point: Point, tmp_path: Path
) -> None:
    """A first run reads ServiceNow's incidents from the estate's start up to three days before its end. The next
    run's every PUT of an incident day gets SlowDown: it ends failed naming the day object, the incident days and
    the watermark stay as the first run left them. With S3 back, the same window is read again and the lake holds
    every incident the simulator serves, each version once."""
    estate = sims.estate
    first = {"since": estate.start - timedelta(days=1), "until": estate.end - timedelta(days=3)}
    rest = {"since": estate.end - timedelta(days=4), "until": estate.end + timedelta(hours=1)}
    with faulty_store(s3_endpoint) as store:
        lake = lake_on_faulty_store(store, sims, point, tmp_path)
        event = servicenow_incidents_event(first)
        invoke(servicenow_handler, event)
        days = incident_days(lake)
        mark = Watermarks(lake).get("servicenow", "incidents")
        assert days and mark is not None

        throttled = store.fail(lambda r: r.method == "PUT" and "/raw/servicenow/incidents/" in r.path, SLOW_DOWN)
        event = servicenow_incidents_event(rest)
        with pytest.raises(IngestionFailed) as caught:
            invoke(servicenow_handler, event)
        failed = {o.record.dataset: o.record for o in caught.value.outcome.outcomes if o.record.status == "failed"}
        assert set(failed) == {"servicenow/incidents"}
        assert failed["servicenow/incidents"].error is not None
        assert "S3 error SlowDown" in failed["servicenow/incidents"].error
        assert "putting raw/servicenow/incidents/day=" in failed["servicenow/incidents"].error
        assert store.endpoint.secret_access_key not in failed["servicenow/incidents"].error
        assert throttled.hit >= 2  # the first try of a day's put and its retry
        assert incident_days(lake) == days
        assert Watermarks(lake).get("servicenow", "incidents") == mark

        store.clear()
        invoke(servicenow_handler, event)
        table = sims.apis["servicenow"].tables["incident"]
        stored = [(r["sys_id"], r["sys_updated_on"]) for r in rows(lake, "servicenow/incidents")]
        assert len(stored) == len(set(stored))
        assert {sys_id for sys_id, _ in stored} == {table.sys_id(r) for r in table.rows}
