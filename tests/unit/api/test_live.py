"""Live calls to the sources, on the real payloads: what the deployments panel shows of an ArgoCD application."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from functions.api.live import LiveSources
from functions.api.settings import ApiSettings
from functions.ingest_deploys.client import ArgoCDClient
from lakehouse.errors import SettingsError
from lakehouse.ingest.client import ApiResponse, PageRequest
from lakehouse.ingest.config import IngestSettings
from tests.conftest import FIXTURES

SHA = "ea8759964626a583667a2bfd08f334ec2070040a"


def live_status(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, application: dict[str, Any]) -> dict[str, Any]:
    """The ArgoCD part of a live answer, the source answering `application`."""

    def send(self: ArgoCDClient, request: PageRequest) -> ApiResponse:
        return ApiResponse(200, httpx.Headers(), application, request)

    monkeypatch.setattr(ArgoCDClient, "send", send)
    sources = IngestSettings(argocd_url="https://argocd.example.org", argocd_token=SecretStr("t"))
    result = LiveSources(ApiSettings(local_dir=tmp_path), sources).argocd_app("velero-test")
    assert result.error is None
    value: dict[str, Any] = result.value
    return value


def test_a_multi_source_application_shows_the_revisions_it_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An application with `spec.sources` reports `status.sync.revisions` and history `revisions` (one per source,
    no `revision`): the live panel showed no revision at all. The fixture's application turned into a two-source one
    (its chart at SHA, a values repository at v1.4.2) shows both, joined as the history dataset stores them."""
    app = json.loads((FIXTURES / "argocd/application__live_velero-test__converted.json").read_text())
    status = app["status"]
    del status["sync"]["revision"]
    status["sync"]["revisions"] = [SHA, "v1.4.2"]
    for entry in status["history"]:
        entry["revisions"] = [entry.pop("revision"), "v1.4.2"]
    shown = live_status(tmp_path, monkeypatch, app)
    assert shown["revision"] == f"{SHA},v1.4.2"
    # the last history entry (id 23)
    assert shown["last_deployed_at"] == datetime(2024, 3, 5, 7, 33, 4, tzinfo=UTC)


def test_a_single_source_application_shows_its_synced_revision(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = json.loads((FIXTURES / "argocd/application__live_velero-test__converted.json").read_text())
    shown = live_status(tmp_path, monkeypatch, app)
    # status.sync.revision of the live fixture, as found
    assert (shown["revision"], shown["sync_status"], shown["health_status"]) == ("rev1", "Synced", "Healthy")


def test_an_application_outside_argocds_namespace_is_asked_for_in_its_namespace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The live panel asked ArgoCD for the name alone, which ArgoCD reads in its own namespace: a component mapped
    to velero-test of team-b was shown the status of argo-cd's velero-test (the fixture's)."""
    app = json.loads((FIXTURES / "argocd/application__live_velero-test__converted.json").read_text())
    twin = json.loads(json.dumps(app))
    twin["metadata"]["namespace"] = "team-b"
    twin["status"]["health"]["status"] = "Degraded"
    asked: list[Any] = []

    def send(self: ArgoCDClient, request: PageRequest) -> ApiResponse:
        asked.append(dict(request.params or {}))
        namespace = (request.params or {}).get("appNamespace")
        return ApiResponse(200, httpx.Headers(), twin if namespace == "team-b" else app, request)

    monkeypatch.setattr(ArgoCDClient, "send", send)
    sources = IngestSettings(argocd_url="https://argocd.example.org", argocd_token=SecretStr("t"))
    live = LiveSources(ApiSettings(local_dir=tmp_path), sources)
    own = live.argocd_app("velero-test")
    team = live.argocd_app("velero-test", "team-b")
    assert own.value["health_status"] == "Healthy" and team.value["health_status"] == "Degraded"
    assert asked == [{}, {"appNamespace": "team-b"}]


def test_a_live_timeout_the_api_gateway_would_not_wait_out_is_refused() -> None:
    """API Gateway answers 504 after 29 s. A live call is bounded at its timeout and half a second more, and the
    page still reads the mart after it: 25 s is the longest timeout that leaves room; 28 s would give a 504 where the
    page should fall back to history."""
    assert ApiSettings(live_timeout_s=25).live_timeout_s == 25
    with pytest.raises(SettingsError, match="ROSETTA_API_LIVE_TIMEOUT_S"):
        ApiSettings(live_timeout_s=28)


@pytest.mark.parametrize("sync_status", ["OutOfSync", "Unknown"])
def test_an_application_out_of_sync_without_a_history_runs_no_known_revision(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sync_status: str
) -> None:
    """The fixture's application out of sync, its history empty (never synced, or created again): the revision ArgoCD
    compares with (rev1) is the one it would sync to, not deployed yet. The panel showed it as the one running; no
    revision is known to run, nor when it was deployed."""
    app = json.loads((FIXTURES / "argocd/application__live_velero-test__converted.json").read_text())
    app["status"]["sync"]["status"] = sync_status
    app["status"]["history"] = []
    shown = live_status(tmp_path, monkeypatch, app)
    assert (shown["revision"], shown["last_deployed_at"], shown["sync_status"]) == (None, None, sync_status)


def test_an_application_out_of_sync_runs_its_history_s_last_revision(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Out of sync with a history: the history's last entry (id 23, revision ea87595…, deployed at 07:33:04
    on 5 March 2024) runs, while the sync status says a newer one (rev2 here) is not deployed yet."""
    app = json.loads((FIXTURES / "argocd/application__live_velero-test__converted.json").read_text())
    app["status"]["sync"] |= {"status": "OutOfSync", "revision": "rev2"}
    shown = live_status(tmp_path, monkeypatch, app)
    assert shown["last_deployed_at"] == datetime(2024, 3, 5, 7, 33, 4, tzinfo=UTC)
    assert shown["revision"] == app["status"]["history"][-1]["revision"]
