"""A period that ended before the lake first read ServiceNow's incidents has no MTTR the lake can tell: the incidents
it holds of that period are only those updated again after the first read (an incident resolved then closed later,
say), a sample chosen by when they were last edited. Its MTTR is 'insufficient data', with no median, level nor
sample, as for a period holding none, and as kpis/incidents leaves the days before the first read unknown."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient

from functions.api.main import create_app
from lakehouse.runlog import FirstReads
from tests.integration.api.conftest import READER, api_settings, down_sources
from tests.unit.aggregates.estate import CI_Q, estate_lake, incident, t, write
from tests.unit.aggregates.test_dora_edge_cases import quiet_dora


def test_an_incident_restored_before_the_first_read_gives_no_mttr(tmp_path: Path) -> None:
    """By hand: incidents first read on 10 November at 10:00. INC50 of quiet opened on 10 August at 09:00 and was
    restored at 15:00 (6 hours), its record updated again after the first read. The previous quarter (July to
    September) ended before the first read: MTTR 'insufficient data', no median, no level, a sample of 0, where the
    code gave 'ok', 6 hours over 1. The API's range of August says the same."""
    lake, settings = estate_lake(tmp_path)
    FirstReads(lake).record("servicenow", "incidents", t(10, 10), run_id="first-run")
    inc50 = incident("i50" * 10 + "ab", "INC50", CI_Q, datetime(2026, 8, 10, 9, tzinfo=UTC), 3, 7)
    inc50 |= {"resolved_at": datetime(2026, 8, 10, 15, tzinfo=UTC), "sys_updated_on": t(12, 9)}
    write(lake, "servicenow/incidents", inc50)

    quarter = quiet_dora(lake, settings, period="previous_quarter")

    assert (quarter["mttr_sample"], quarter["mttr_median_hours"], quarter["mttr_level"]) == (0, None, None)
    assert quarter["mttr_state"] == "insufficient data"
    with TestClient(create_app(api_settings(tmp_path), settings, down_sources())) as client:
        august = client.get("/monitoring/kpis/dora?groupBy=app&from=2026-08-01&to=2026-09-01", headers=READER)
    assert august.status_code == 200, august.text
    row = {r["id"]: r for r in august.json()["items"]}["quiet"]
    assert (row["mttrState"], row["mttrMedianHours"], row["mttrSample"]) == ("insufficient data", None, 0)
