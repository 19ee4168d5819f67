"""A run asked for the deployments' merge requests alone (`gitlab/deployment_merge_requests`) reads the deployments to
find the ones that shipped, without storing them. A deployment it cannot read was skipped without a word: its
merge requests were never asked for, and no reject said so, since the deployments' own rejects belong to a dataset
that run does not read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from functions.ingest_deploys import source as deploys
from lakehouse.ingest.config import IngestSettings
from lakehouse.ingest.sources import ingest
from tests.conftest import FIXTURES
from tests.integration.ingest.truth import rows
from tests.unit.ingest.test_credentials_in_text import lake_at, serve
from tests.unit.ingest.test_secrets_review import WINDOW

LINKS = "gitlab/deployment_merge_requests"
DEPLOYMENTS_PATH = "/api/v4/projects/11/deployments"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / "gitlab" / name).read_text())


def test_a_deployment_it_cannot_read_is_a_reject_of_the_merge_requests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GitLab's documented listing of project 11's two production deployments (41 and 42), both made successful, the
    first without its `id`; deployment 42's merge requests are the three of the real answer, all still open. By hand:
    the run asks for 42's merge requests (none merged, so no link), and keeps one reject for the deployment it could
    not read, located by its place in the listing, saying why and that its merge requests were not read, with the
    fields the parser reads as received (the deploying username, not the user's name). The run is partial (one
    rejected), not succeeded."""
    listing = fixture("deployments__list_docs.json")
    for deployment in listing:
        deployment["status"] = "success"
    unreadable = listing[0]
    del unreadable["id"]
    links = fixture("deployment_merge_requests__gitlab_com_real_go-gitlab.json")

    asked: list[str] = []

    def gitlab(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        if request.url.path == DEPLOYMENTS_PATH:
            return httpx.Response(200, json=listing)
        if request.url.path == f"{DEPLOYMENTS_PATH}/42/merge_requests":
            return httpx.Response(200, json=links)
        return httpx.Response(404, json={"message": "404 Not found"})

    serve(monkeypatch, deploys, "GitLabClient", gitlab)
    lake = lake_at(tmp_path, [{"entity_id": "shop", "kind": "application", "gitlab_project_id": 11}])
    settings = IngestSettings(gitlab_url="https://gitlab.example", gitlab_token=SecretStr("glpat-x"))
    (run,) = ingest("deploys", lake, settings, window=WINDOW, datasets=[LINKS]).outcomes

    assert (run.record.status, run.record.rows_rejected) == ("partial", 1)
    assert asked == [DEPLOYMENTS_PATH, f"{DEPLOYMENTS_PATH}/42/merge_requests"]
    assert rows(lake, LINKS) == []
    (reject,) = rows(lake, "gitlab/rejects")
    assert (reject["dataset"], reject["location"], reject["reason"]) == (
        LINKS,
        "GitLab project 11 deployments, record 0",
        "ValueError: id should be an integer, got NoneType; its merge requests were not read",
    )
    sent = json.loads(reject["raw_text"])
    assert (sent["iid"], sent["status"], sent["user"], "id" in sent) == (1, "success", {"username": "root"}, False)
    assert "Administrator" not in reject["raw_text"]
