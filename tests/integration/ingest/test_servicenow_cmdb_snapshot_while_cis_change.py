"""The daily full read of the CMDB on a large CMDB whose CIs keep changing (Discovery writes `last_discovered` all
day). Read by offset in update-time order, each CI updated while the CMDB was paged left the read (its new time is
after the window) and the count dropped: the whole CMDB was read again, and again, until the run gave up after eight
reads. The snapshot was never written and every run failed. Paged by sys_id, which no update changes, every CI is
read once however many are updated meanwhile."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import SecretStr

from lakehouse.ingest.config import IngestSettings
from lakehouse.ingest.sources import ingest
from lakehouse.runlog import Watermarks
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.integration.api.test_endpoints import serving

from .servicenow_table_api import FORMAT, FakeTableApi
from .truth import rows

NOW = datetime(2024, 3, 1, 12, tzinfo=UTC)
CIS = "servicenow/cmdb_ci"
# More CIs than one page of a whole re-read (10,000) holds, read 1,000 a page (the default).
COUNT = 10_500
PAGE_SIZE = 1_000


def ci(number: int) -> dict[str, str]:
    """A server discovered in 2023; sys_ids are GUIDs, in no relation to the order CIs were created or updated in."""
    return {
        "sys_id": hashlib.md5(str(number).encode(), usedforsecurity=False).hexdigest(),
        "name": f"srv-{number:05d}",
        "sys_class_name": "cmdb_ci_server",
        "operational_status": "1",
        "sys_updated_on": (datetime(2023, 1, 1, tzinfo=UTC) + timedelta(minutes=number)).strftime(FORMAT),
    }


def test_every_ci_is_in_the_snapshot_once_while_discovery_updates_cis(tmp_path: Path) -> None:
    """After each page is served, Discovery updates one CI (one already read or one still to come) to a time after
    the run's window. By hand: 10,500 CIs at 1,000 a page are 11 pages (the last of 500), then one empty answer that
    ends the read: 12 requests."""
    cmdb = FakeTableApi("cmdb_ci", [ci(n) for n in range(COUNT)])

    def discover(served: int) -> None:
        cmdb.records[served * 997 % COUNT]["sys_updated_on"] = (NOW + timedelta(minutes=served)).strftime(FORMAT)

    cmdb.after_page = discover
    lake = Lake.from_settings(Settings(lake_url=str(tmp_path / "lake")))
    with serving(cmdb.handler()) as url:
        settings = IngestSettings(
            servicenow_url=url,
            servicenow_user="svc-rosetta",
            servicenow_password=SecretStr("s3cret-Pw-4711"),
            servicenow_page_size=PAGE_SIZE,
        )
        outcome = ingest("servicenow", lake, settings, datasets=[CIS], now=NOW)
    result = outcome.summary()["datasets"][CIS]
    assert result["status"] == "succeeded", result["error"]
    snapshot = [r["sys_id"] for r in rows(lake, CIS)]
    assert len(snapshot) == COUNT
    assert set(snapshot) == {ci(n)["sys_id"] for n in range(COUNT)}
    assert result["requests"] == 12
    # The snapshot is remembered: the next runs read CIs incrementally until it is due again.
    assert Watermarks(lake).get("servicenow", "cmdb_ci_full_read") is not None
