"""An ArgoCD operation whose start is missing is set aside as a reject of argocd/sync_operations, counted by the
run, while the application's status and history are kept."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from functions.ingest_deploys import parse
from lakehouse.ingest.config import IngestSettings
from lakehouse.ingest.sources import ingest
from lakehouse.ingest.window import Window
from lakehouse.mappings import MappingStore
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.integration.api.test_endpoints import QuietHandler, serving
from tests.integration.ingest.truth import rows
from tests.unit.ingest.test_deploys_parse import load


def failed_sync_without_start() -> dict[str, object]:
    """The fixture's application, its last operation failed and written without startedAt."""
    app = json.loads(json.dumps(load("argocd/application__live_velero-test__converted.json")))
    operation = app["status"]["operationState"]
    operation["phase"] = "Failed"
    operation["message"] = "one or more objects failed to apply"
    del operation["startedAt"]
    return {"metadata": {"resourceVersion": "1"}, "items": [app]}


@pytest.fixture
def argocd() -> Iterator[str]:
    """ArgoCD on loopback, listing that one application."""

    class Applications(QuietHandler):
        def do_GET(self) -> None:
            self.send_json(failed_sync_without_start())

    with serving(Applications) as url:
        yield url


def test_an_operation_without_start_is_a_counted_reject_and_the_status_is_kept(tmp_path: Path, argocd: str) -> None:
    """A failed sync without startedAt was left out of sync_operations with no word: the run said succeeded, 0
    rejected, and the failure never reached the change failure rate. By hand: the status row (phase Failed) and the
    10 history entries (ids 14..23) are kept, sync_operations holds no row, and its run is partial with 1 reject in
    argocd/rejects naming the application and startedAt, its text the operation as sent."""
    lake = Lake.from_settings(Settings(lake_url=str(tmp_path / "lake")))
    entry = {"entity_id": "velero", "kind": "application", "argocd_app_name": "velero-test"}
    MappingStore(lake).apply([entry], actor="test", replace=True)
    settings = IngestSettings(argocd_url=argocd, argocd_token=SecretStr("argocd-reader-token"))
    now = datetime(2024, 3, 5, 8, tzinfo=UTC)
    window = Window(now - timedelta(hours=1), now)
    outcome = ingest("deploys", lake, settings, window=window, datasets=list(parse.ARGOCD_DATASETS))

    records = {o.dataset: o.record for o in outcome.outcomes}
    operations = records[parse.SYNC_OPERATIONS]
    assert (operations.status, operations.rows_out, operations.rows_rejected) == ("partial", 0, 1)
    assert records[parse.APP_STATUS].status == "succeeded"
    (status,) = rows(lake, parse.APP_STATUS)
    assert (status["app_name"], status["operation_phase"]) == ("velero-test", "Failed")
    assert sorted(h["history_id"] for h in rows(lake, parse.HISTORY)) == list(range(14, 24))
    assert rows(lake, parse.SYNC_OPERATIONS) == []
    (reject,) = rows(lake, "argocd/rejects")
    assert reject["dataset"] == parse.SYNC_OPERATIONS
    assert "'velero-test'" in reject["reason"] and "startedAt" in reject["reason"]
    kept = json.loads(reject["raw_text"])
    assert (kept["phase"], kept["message"]) == ("Failed", "one or more objects failed to apply")
