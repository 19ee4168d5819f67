"""How a source's last run ended (admin config/sources) when many runs of other sources came since, and what a
trigger says of a run already going."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from functions.api.batch import Trigger
from functions.api.routers import admin
from lakehouse.ingest.config import IngestSettings
from lakehouse.runlog import RunRecord, Watermarks, new_run_id
from lakehouse.storage import Lake
from tests.integration.api.conftest import run_record_reads
from tests.unit.api.test_admin_runs_and_sources import (
    ADMIN,
    NOW,
    StoppedClock,
    admin_app,
    iso,
    ran,
    sources_state,
)
from tests.unit.api.test_admin_runs_and_sources import lake as lake  # the fixture, under its name

SERVICENOW_TABLES = ("incidents", "changes", "problems", "task_slas", "cmdb_ci")


def test_a_source_run_once_a_day_keeps_its_last_run_behind_a_day_of_other_runs(
    tmp_path: Path, lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Elasticsearch is read once a day: its run 26 hours ago set records aside (partial), ending a minute after it
    started. ServiceNow has run every quarter hour since, five tables each: 26 h x 4 x 5 = 520 newer records, more
    than the 500 newest the route read, after which Elasticsearch said it never ran. It still says partial, ended
    25 h 59 min ago. The route reads the six last runs noted (the five sources and ingest_deploys) and the records
    of the two that ran, 1 + 5: twelve run objects, not the 520 records."""
    (ended,) = ran(
        lake, "ingest_logs", "elasticsearch", {"elasticsearch/log_counts_hourly": "partial"}, NOW - timedelta(hours=26)
    )
    for quarter in range(1, 26 * 4 + 1):
        at = NOW - timedelta(hours=26) + timedelta(minutes=15 * quarter)
        ran(lake, "ingest_servicenow", "servicenow", dict.fromkeys(SERVICENOW_TABLES, "succeeded"), at)
    monkeypatch.setattr(admin, "datetime", StoppedClock)

    with admin_app(tmp_path, IngestSettings()) as c:
        reads = run_record_reads(monkeypatch, c)
        r = c.get("/monitoring/admin/config/sources", headers=ADMIN)

    state = {s["name"]: s for s in r.json()["items"]}
    elasticsearch = state["elasticsearch"]
    assert (elasticsearch["lastRunStatus"], elasticsearch["lastSuccess"]) == ("partial", iso(ended))
    assert ended == NOW - timedelta(hours=25, minutes=59)
    assert (state["servicenow"]["lastRunStatus"], state["dynatrace"]["lastRunStatus"]) == ("succeeded", None)
    assert len(reads) == 12


def test_a_run_recorded_before_last_runs_were_noted_is_still_found_among_the_newest(
    tmp_path: Path, lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lake whose run records were written before each source's last run was noted: Elasticsearch's run an hour
    ago failed. Its watermark says it is in use; its last run is looked for among the newest runs, and found."""
    at = NOW - timedelta(hours=1)
    record = RunRecord(
        new_run_id(at), "ingest_logs", "elasticsearch", "elasticsearch/log_counts_hourly", None, None, at
    )
    record.status = "failed"
    lake.put_json(lake.run_key(record.run_id, at), record.to_json())
    Watermarks(lake).advance("elasticsearch", "log_counts_hourly", NOW - timedelta(hours=2), run_id="r")

    assert sources_state(tmp_path, monkeypatch, IngestSettings())["elasticsearch"]["lastRunStatus"] == "failed"


def test_a_run_already_going_is_named_with_its_article(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A GitLab ingestion (ingest_deploys) and a build started here are still running: asked again, each answer
    names the run as a person would write it, "an ingest:deploys run" and "a build run"."""
    release = threading.Event()
    monkeypatch.setattr(Trigger, "_run", lambda *args: release.wait(timeout=30))
    answers: list[Any] = []
    with admin_app(tmp_path, IngestSettings(), trigger_wait_s=0) as c:
        try:
            for body in ({"kind": "ingest", "source": "gitlab"}, {"kind": "build"}) * 2:
                answers.append(c.post("/monitoring/admin/batch/trigger", headers=ADMIN, json=body))
        finally:
            release.set()
    assert [a.status_code for a in answers] == [202, 202, 409, 409]
    assert [a.json()["detail"] for a in answers[2:]] == [
        "an ingest:deploys run started here is still running",
        "a build run started here is still running",
    ]
