"""The collector names the Table API's version. On an instance whose default Table API version is v1, the
unversioned path answers a query that matches nothing with a 404 "No Record found" (v2 answers 200 and an empty
list): a quiet window, the most common read of all, failed the run as if the source had refused it.

By hand: the lake read incidents up to 12:00 UTC; the run at 12:30 reads 11:45 to 12:30 (15 minutes of overlap), and
the one incident was last updated at 10:00, outside it. The window is empty, the run succeeds with nothing read and
the watermark moves to 12:30."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
from pydantic import SecretStr

from lakehouse.ingest.config import IngestSettings
from lakehouse.ingest.sources import ingest
from lakehouse.runlog import Watermarks
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.integration.api.test_endpoints import serving

from .servicenow_table_api import FakeTableApi
from .test_servicenow_user_zone_changed_after_set_up import incident

WATERMARK = datetime(2024, 3, 1, 12, tzinfo=UTC)
NOW = datetime(2024, 3, 1, 12, 30, tzinfo=UTC)
INCIDENTS = "servicenow/incidents"


def test_a_quiet_window_on_an_instance_defaulting_to_v1_succeeds_with_nothing_read(tmp_path: Path) -> None:
    lake = Lake.from_settings(Settings(lake_url=str(tmp_path / "lake")))
    Watermarks(lake).advance("servicenow", "incidents", WATERMARK, run_id="earlier")
    api = FakeTableApi("incident", [incident(1, "2024-03-01 10:00:00")], default_version="v1")
    with serving(api.handler()) as url:
        # The fake answers as such an instance does on its unversioned path.
        quiet = httpx.get(f"{url}/api/now/table/incident", params={"sysparm_query": "sys_updated_on>2024-03-02"})
        assert quiet.status_code == 404 and quiet.json()["error"]["message"] == "No Record found"
        settings = IngestSettings(
            servicenow_url=url, servicenow_user="svc-rosetta", servicenow_password=SecretStr("s3cret-Pw-4711")
        )
        summary = ingest("servicenow", lake, settings, datasets=[INCIDENTS], now=NOW).summary()["datasets"][INCIDENTS]
    assert (summary["status"], summary["rows_out"]) == ("succeeded", 0), summary.get("error")
    mark = Watermarks(lake).get("servicenow", "incidents")
    assert mark is not None and mark.value == NOW
    # Every read the collector made named the version (the fake's own request above is not among them).
    assert set(api.paths) == {"/api/now/v2/table/incident", "/api/now/table/incident"}
    assert api.paths.count("/api/now/table/incident") == 1
