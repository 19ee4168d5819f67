"""A field ArgoCD sent that cannot be read sets aside its own record (one history entry, the last operation or the
status row), counted by the run, while the application's other rows are kept. One bad history entry used to reject
the whole application, every run, until the entry left ArgoCD's last 10."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from functions.ingest_deploys import parse
from lakehouse.ingest.config import IngestSettings
from lakehouse.ingest.sources import ingest
from lakehouse.ingest.window import Window
from lakehouse.mappings import MappingStore
from lakehouse.runlog import RunRecord
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.integration.api.test_endpoints import QuietHandler, serving
from tests.integration.ingest.truth import rows
from tests.unit.ingest.test_deploys_parse import load

DEPLOY_TOKEN = "glpat-deploy-token-17"
APP = "velero-test"

Spoil = Callable[[dict[str, Any]], None]


def listing(spoil: Spoil) -> dict[str, Any]:
    """The fixture's application (history ids 14..23, last operation Succeeded), spoiled by `spoil`."""
    app = json.loads(json.dumps(load("argocd/application__live_velero-test__converted.json")))
    spoil(app)
    return {"metadata": {"resourceVersion": "1"}, "items": [app]}


@pytest.fixture
def argocd_listing() -> Iterator[Callable[[Spoil], str]]:
    """ArgoCD on loopback, listing the fixture's application as the test spoils it."""
    served: list[dict[str, Any]] = []

    class Applications(QuietHandler):
        def do_GET(self) -> None:
            self.send_json(served[0])

    with serving(Applications) as url:

        def serve(spoil: Spoil) -> str:
            served.append(listing(spoil))
            return url

        yield serve


def run(tmp_path: Path, url: str) -> tuple[Lake, dict[str, RunRecord]]:
    """One ingestion of the three ArgoCD datasets, velero-test mapped; each dataset's run record."""
    lake = Lake.from_settings(Settings(lake_url=str(tmp_path / "lake")))
    entry = {"entity_id": "velero", "kind": "application", "argocd_app_name": APP}
    MappingStore(lake).apply([entry], actor="test", replace=True)
    settings = IngestSettings(argocd_url=url, argocd_token=SecretStr("argocd-reader-token"))
    now = datetime(2024, 3, 5, 8, tzinfo=UTC)
    window = Window(now - timedelta(hours=1), now)
    outcome = ingest("deploys", lake, settings, window=window, datasets=list(parse.ARGOCD_DATASETS))
    return lake, {o.dataset: o.record for o in outcome.outcomes}


def counted(record: RunRecord) -> tuple[str, int, int]:
    return record.status, record.rows_out, record.rows_rejected


def test_a_history_entry_without_a_time_zone_is_one_reject_and_the_rest_of_the_application_is_kept(
    tmp_path: Path, argocd_listing: Callable[[Spoil], str]
) -> None:
    """Entry 17's deployedAt came without a zone (and its repository URL with a deploy token). By hand: the status row
    (Synced, Healthy), the operation started 2024-03-05 07:33:03Z and the 9 other entries (14..16, 18..23) are kept;
    deployment_history is partial with 1 reject naming velero-test and entry 17, its text the entry as sent but for
    the token and the plugin's values."""

    def no_zone(app: dict[str, Any]) -> None:
        entry = app["status"]["history"][3]
        entry["deployedAt"] = "2024-03-04 22:00:06"
        entry["source"]["repoURL"] = f"https://deploy:{DEPLOY_TOKEN}@github.com/foo/manifests-velero.git"

    lake, records = run(tmp_path, argocd_listing(no_zone))

    assert counted(records[parse.APP_STATUS]) == ("succeeded", 1, 0)
    assert counted(records[parse.SYNC_OPERATIONS]) == ("succeeded", 1, 0)
    assert counted(records[parse.HISTORY]) == ("partial", 9, 1)
    (status,) = rows(lake, parse.APP_STATUS)
    assert (status["app_name"], status["sync_status"], status["health_status"]) == (APP, "Synced", "Healthy")
    (operation,) = rows(lake, parse.SYNC_OPERATIONS)
    assert operation["started_at"] == datetime(2024, 3, 5, 7, 33, 3, tzinfo=UTC)
    assert sorted(h["history_id"] for h in rows(lake, parse.HISTORY)) == [14, 15, 16, 18, 19, 20, 21, 22, 23]
    (reject,) = rows(lake, "argocd/rejects")
    assert reject["dataset"] == parse.HISTORY
    assert "'velero-test'" in reject["reason"] and "entry 17" in reject["reason"]
    assert DEPLOY_TOKEN not in reject["raw_text"]
    sent = json.loads(reject["raw_text"])
    assert (sent["id"], sent["deployedAt"]) == (17, "2024-03-04 22:00:06")
    assert sent["source"]["repoURL"] == "https://github.com/foo/manifests-velero.git"
    assert {e["value"] for e in sent["source"]["plugin"]["env"] if e["value"]} == {"<redacted>"}


def test_an_operation_end_that_cannot_be_read_is_one_reject_and_the_status_and_history_are_kept(
    tmp_path: Path, argocd_listing: Callable[[Spoil], str]
) -> None:
    """The last operation's finishedAt came as "yesterday". By hand: sync_operations is partial with 1 reject naming
    velero-test; the status row is kept, its phase Succeeded and the operation's start, its end unknown (null); the
    10 history entries 14..23 are kept."""

    def unreadable_end(app: dict[str, Any]) -> None:
        app["status"]["operationState"]["finishedAt"] = "yesterday"

    lake, records = run(tmp_path, argocd_listing(unreadable_end))

    assert counted(records[parse.APP_STATUS]) == ("succeeded", 1, 0)
    assert counted(records[parse.SYNC_OPERATIONS]) == ("partial", 0, 1)
    assert counted(records[parse.HISTORY]) == ("succeeded", 10, 0)
    (status,) = rows(lake, parse.APP_STATUS)
    assert (status["operation_phase"], status["operation_finished_at"]) == ("Succeeded", None)
    assert status["operation_started_at"] == datetime(2024, 3, 5, 7, 33, 3, tzinfo=UTC)
    assert sorted(h["history_id"] for h in rows(lake, parse.HISTORY)) == list(range(14, 24))
    (reject,) = rows(lake, "argocd/rejects")
    assert reject["dataset"] == parse.SYNC_OPERATIONS and "'velero-test'" in reject["reason"]
    assert json.loads(reject["raw_text"])["finishedAt"] == "yesterday"


def test_a_status_field_that_cannot_be_read_rejects_the_status_row_alone(
    tmp_path: Path, argocd_listing: Callable[[Spoil], str]
) -> None:
    """The health status came as the number 1. By hand: app_status is partial with 0 rows and 1 reject naming
    velero-test and health_status; the operation and the 10 history entries are kept."""

    def numeric_health(app: dict[str, Any]) -> None:
        app["status"]["health"]["status"] = 1

    lake, records = run(tmp_path, argocd_listing(numeric_health))

    assert counted(records[parse.APP_STATUS]) == ("partial", 0, 1)
    assert counted(records[parse.SYNC_OPERATIONS]) == ("succeeded", 1, 0)
    assert counted(records[parse.HISTORY]) == ("succeeded", 10, 0)
    assert sorted(h["history_id"] for h in rows(lake, parse.HISTORY)) == list(range(14, 24))
    (reject,) = rows(lake, "argocd/rejects")
    assert reject["dataset"] == parse.APP_STATUS
    assert "'velero-test'" in reject["reason"] and "health_status" in reject["reason"]
