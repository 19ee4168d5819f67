"""ServiceNow down for two days of scheduled runs, then back: what an SRE reads meanwhile and after.

The estate's simulators serve six days ending at END. ServiceNow is read up to three days before END; then its port
answers nothing for the runs of the next two days, while the hourly builds go on; then it comes back. During the
outage the incidents report must not count the days it could not read as days without incidents; once ServiceNow is
back, the scheduled runs catch up and the report counts every incident the simulator opened."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from functions.api.main import create_app
from lakehouse.aggregates.build import build
from lakehouse.ingest.config import IngestSettings
from lakehouse.ingest.sources import ingest
from lakehouse.runlog import Watermarks
from lakehouse.schemas import get_dataset
from tests.integration.api.conftest import READER, api_settings, down_sources
from tests.integration.pipeline.servicenow_outage import (
    END,
    OUTAGE_START,
    opened_per_day,
    outage_estate,
    read_then_down,
)
from tests.integration.pipeline.simulated import simulated_lake


def incidents_report(root: Path, settings: object, app: str) -> dict:
    with TestClient(create_app(api_settings(root), settings, down_sources())) as client:  # type: ignore[arg-type]
        answer = client.get(f"/monitoring/kpis/incidents?groupBy=app&period=last_7d&app={app}", headers=READER)
    assert answer.status_code == 200, answer.text
    (row,) = answer.json()["items"]
    return row


def test_days_servicenow_could_not_be_read_are_unknown_then_counted_once_it_is_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    estate = outage_estate(monkeypatch)
    with simulated_lake(tmp_path, estate) as (_, settings, lake), pytest.MonkeyPatch.context() as outage:
        app = estate.applications[0].id
        # Down: each scheduled run fails saying why, the watermark stays where the read before left it, the hourly
        # builds go on.
        for outcome in read_then_down(lake, settings, outage):
            errors = {o.dataset: o.record.error for o in outcome.failed}
            refused = "connection failed (ConnectError) on GET /api/now/v2/table/incident"
            assert refused in errors["servicenow/incidents"]
        kept = Watermarks(lake).get("servicenow", "incidents")
        assert kept is not None and kept.value == OUTAGE_START

        # As of 19 November 23:00, ServiceNow was read up to the 17th at 00:00: the 17th, 18th and 19th are unknown,
        # not days without incidents, and so is the backlog at the period's end; the days before count as read.
        during = incidents_report(tmp_path, settings, app)
        days = {d["day"]: d["opened"] for d in during["days"]}
        assert [days[d] for d in ("2026-11-17", "2026-11-18", "2026-11-19")] == [None, None, None]
        truth_before = opened_per_day(estate, app, OUTAGE_START)
        assert truth_before == {"2026-11-16": 1}  # INC0010003; INC0010001, of the 14th, was updated on the 18th
        assert days["2026-11-16"] == 1
        assert during["opened"] == sum(truth_before.values())
        assert during["openEndOfPeriod"] is None

        # Back: the next scheduled runs catch up (48 hours a run at most), every incident lands once.
        outage.undo()  # ServiceNow back, at the simulator's URL
        for at in (END, END + timedelta(minutes=15)):
            assert ingest("servicenow", lake, IngestSettings().resolved(), now=at).failed == []
        assert Watermarks(lake).get("servicenow", "incidents").value == END + timedelta(minutes=15)  # type: ignore[union-attr]
        incidents = get_dataset("servicenow/incidents")
        rows = [
            (row["number"], row["sys_updated_on"])
            for day in lake.list_partitions(incidents)
            for row in lake.read_partition(incidents, day).select(["number", "sys_updated_on"]).to_pylist()
        ]
        assert len(rows) == len(set(rows))  # no version twice, in the overlap nor across days
        assert {number for number, _ in rows} == {i.number for i in estate.incidents}
        build(lake, settings, mode="hourly", as_of=END)

        after = incidents_report(tmp_path, settings, app)
        truth = opened_per_day(estate, app, END)
        assert {d["day"]: d["opened"] for d in after["days"] if d["opened"]} == dict(truth)
        assert after["opened"] == sum(truth.values())
        assert after["openEndOfPeriod"] is not None
