"""ServiceNow reads a window's `gs.dateGenerate` bounds in the integration user's time zone. The collector checks the
zone on the records a window brings, but a user moved off UTC after set-up reads a window hours away from the real
one, which may bring nothing at all: the run succeeded with no row and the watermark moved past the incidents
updated in the real window, lost for good. Now a window that brings nothing has the table's latest record checked.

By hand: the lake read incidents up to 12:00 UTC; with 15 minutes of overlap the run at 12:30 reads 11:45 to 12:30.
A user on UTC-8 has it read 19:45 to 20:30 UTC (in the future), a user on UTC+1 10:45 to 11:30 UTC: neither holds the
incidents updated at 12:05 and 12:20 UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from lakehouse.ingest.config import IngestSettings
from lakehouse.ingest.sources import ingest
from lakehouse.runlog import Watermarks
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.integration.api.test_endpoints import serving

from .servicenow_table_api import FakeTableApi
from .truth import rows

WATERMARK = datetime(2024, 3, 1, 12, tzinfo=UTC)
NOW = datetime(2024, 3, 1, 12, 30, tzinfo=UTC)
INCIDENTS = "servicenow/incidents"
LATEST_RECORD = "ORDERBYDESCsys_updated_on"


def incident(number: int, updated: str) -> dict[str, str]:
    return {
        "sys_id": f"{number:032x}",
        "number": f"INC{number:07d}",
        "state": "2",
        "priority": "3",
        "impact": "2",
        "urgency": "2",
        "short_description": "checkout slow",
        "opened_at": "2024-03-01 09:00:00",
        "resolved_at": "",
        "closed_at": "",
        "cmdb_ci": "c" * 32,
        "business_service": "",
        "assignment_group": "",
        "reassignment_count": "0",
        "problem_id": "",
        "caused_by": "",
        "sys_updated_on": updated,
    }


TWO_IN_THE_WINDOW = [incident(1, "2024-03-01 12:05:00"), incident(2, "2024-03-01 12:20:00")]


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    lake = Lake.from_settings(Settings(lake_url=str(tmp_path / "lake")))
    Watermarks(lake).advance("servicenow", "incidents", WATERMARK, run_id="earlier")
    return lake


def run(api: FakeTableApi, lake: Lake) -> dict[str, Any]:
    """The incidents read at 12:30 from the fake Table API; what the run says of them."""
    with serving(api.handler()) as url:
        settings = IngestSettings(
            servicenow_url=url, servicenow_user="svc-rosetta", servicenow_password=SecretStr("s3cret-Pw-4711")
        )
        outcome = ingest("servicenow", lake, settings, datasets=[INCIDENTS], now=NOW)
    summary: dict[str, Any] = outcome.summary()["datasets"][INCIDENTS]
    return summary


def watermark(lake: Lake) -> datetime | None:
    mark = Watermarks(lake).get("servicenow", "incidents")
    return mark.value if mark else None


def latest_record_asked(api: FakeTableApi) -> int:
    return sum(1 for q in api.queries if q.get("sysparm_query") == LATEST_RECORD)


@pytest.mark.parametrize(
    ("zone", "shown"),
    [
        (timedelta(hours=-8), "2024-03-01 12:20:00 UTC is shown as 2024-03-01 04:20:00"),
        (timedelta(hours=1), "2024-03-01 12:20:00 UTC is shown as 2024-03-01 13:20:00"),
    ],
    ids=["UTC-8", "UTC+1"],
)
def test_a_user_off_utc_whose_window_brings_nothing_fails_the_run_naming_the_time_zone(
    lake: Lake, zone: timedelta, shown: str
) -> None:
    api = FakeTableApi("incident", TWO_IN_THE_WINDOW, zone)
    result = run(api, lake)
    assert result["status"] == "failed"
    assert "another time zone than UTC" in result["error"] and shown in result["error"]
    assert "set the user's time zone to UTC" in result["error"]
    assert watermark(lake) == WATERMARK
    assert rows(lake, INCIDENTS) == []
    assert latest_record_asked(api) == 1


def test_a_user_on_utc_reads_both_incidents_with_no_extra_request(lake: Lake) -> None:
    api = FakeTableApi("incident", TWO_IN_THE_WINDOW)
    result = run(api, lake)
    assert result["status"] == "succeeded" and result["rows_out"] == 2
    assert sorted(r["number"] for r in rows(lake, INCIDENTS)) == ["INC0000001", "INC0000002"]
    assert watermark(lake) == NOW
    # The window brought records, checked on them: the latest record is not asked for.
    assert latest_record_asked(api) == 0


def test_a_user_on_utc_with_a_quiet_window_succeeds_with_nothing_read(lake: Lake) -> None:
    """Nothing updated since 10:00: the latest record is shown as stored, and the run moves the watermark on."""
    api = FakeTableApi("incident", [incident(1, "2024-03-01 10:00:00")])
    result = run(api, lake)
    assert result["status"] == "succeeded" and result["rows_out"] == 0
    assert watermark(lake) == NOW
    assert latest_record_asked(api) == 1


def test_an_empty_table_has_nothing_to_check(lake: Lake) -> None:
    api = FakeTableApi("incident", [], timedelta(hours=-8))
    result = run(api, lake)
    assert result["status"] == "succeeded" and result["rows_out"] == 0
    assert watermark(lake) == NOW
