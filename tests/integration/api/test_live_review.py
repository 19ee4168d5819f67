"""Live mode as a Backstage user and an SRE press it: sources on loopback that refuse, throttle, answer too much or
answer for someone else, many components at once, the cache, and sources not configured."""

from __future__ import annotations

import json
import re
import threading
import time
from datetime import UTC, datetime
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from functions.api.live import SIDE_BY_SIDE, LiveSources, TtlCache
from functions.api.main import create_app
from functions.api.settings import ApiSettings
from lakehouse.ingest.config import IngestSettings
from lakehouse.settings import Settings
from simulators.estate import generate_estate
from simulators.faults import FaultConfig
from simulators.serve import start_simulators
from tests.conftest import FIXTURES
from tests.integration.api.conftest import READER, api_settings, closed_port
from tests.integration.api.test_endpoints import shop_api_live_page, source_on_loopback

SHOP_API = "/monitoring/components/shop-api/deployments?mode=live"
# What history holds for shop-api (tests/unit/aggregates/estate.py and the estate_lake fixture): its last deployment
# r1 on the 19th at 13:00, shop-api-prod read Synced and Healthy at 09:45 on the 20th, project 11's last pipeline
# read a success on main updated on the 19th at 03:00.
LAST_DEPLOYMENT = ("r1", "2026-11-19T13:00:00Z")
ARGOCD_READ = ("Synced", "Healthy", "Succeeded", "2026-11-20T09:45:00Z")
PIPELINE_READ = ("success", "main", "2026-11-19T03:00:00Z")
TOKEN = "glpat-Zx81kQ3vN0pL5tRw"


def shows_history(item: dict[str, Any]) -> None:
    """shop-api's item shows what history holds, for both sources."""
    assert (item["revision"], item["lastDeployedAt"]) == LAST_DEPLOYMENT
    argocd = (item["syncStatus"], item["healthStatus"], item["operationPhase"], item["statusObservedAt"])
    assert argocd == ARGOCD_READ
    assert (item["lastPipelineStatus"], item["lastPipelineRef"], item["lastPipelineAt"]) == PIPELINE_READ


def shop_api_item(estate_lake: tuple[Settings, Path], sources: IngestSettings) -> tuple[dict[str, Any], str]:
    """shop-api's live item, the sources at `sources`, and the answer's text."""
    settings, root = estate_lake
    with TestClient(create_app(api_settings(root), settings, sources), raise_server_exceptions=False) as c:
        r = c.get(SHOP_API, headers=READER)
    assert r.status_code == 200, r.text
    (item,) = r.json()["live"]
    return item, r.text


def test_an_answer_for_another_application_or_project_is_not_shown_as_live(
    estate_lake: tuple[Settings, Path],
) -> None:
    """A proxy or cache in front of the sources answering the wrong request: asked for shop-api-prod, ArgoCD answers
    the fixture's velero-test (Synced, Healthy, rev1, deployed 2024-03-05); asked for project 11's pipelines, GitLab
    answers the docs' pipeline of project 1 (pending on new-pipeline). Both were shown live as shop-api's, stale
    false. Each is now its source's failure, named, and shop-api shows what history holds."""
    argocd = json.loads((FIXTURES / "argocd/application__live_velero-test__converted.json").read_text())
    (pipeline, *_) = json.loads((FIXTURES / "gitlab/pipelines__list_docs.json").read_text())
    r = shop_api_live_page(estate_lake, argocd, pipeline)
    assert r.status_code == 200, r.text
    (item,) = r.json()["live"]
    assert (item["stale"], item["staleReason"]) == (
        True,
        "argocd: answered for application argo-cd/velero-test, not shop-api-prod; "
        "gitlab: answered a pipeline of project 1, not 11",
    )
    shows_history(item)
    assert item["fetchedAt"] is None


def test_a_pipeline_of_another_project_asked_by_its_path_is_not_read_as_its(tmp_path: Path) -> None:
    """A project named by its path has no id to compare: the pipeline's link holds the project's path. The docs'
    pipeline (https://example.com/foo/bar/pipelines/47) is foo/bar's, not retail/by-path's."""
    (pipeline, *_) = json.loads((FIXTURES / "gitlab/pipelines__list_docs.json").read_text())
    with source_on_loopback(lambda path: (200, [pipeline])) as url:
        live = LiveSources(ApiSettings(local_dir=tmp_path), IngestSettings(gitlab_url=url, gitlab_token=SecretStr("t")))
        own, other = live.side_by_side([live.ask_gitlab_last_pipeline(p) for p in ("foo/bar", "retail/by-path")])
    assert (own.error, own.value["status"]) == (None, "pending")
    assert other.error == "answered a pipeline at /foo/bar/pipelines/47, not of project retail/by-path"


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_credential_is_said_so_without_echoing_it(estate_lake: tuple[Settings, Path], status: int) -> None:
    """A token expired (401) or without the rights (403), the sources' error pages quoting it in part: the reason was
    "HTTP 401 on GET ...: <the source's words>", which named no credential and passed on whatever the page quoted.
    It now says the credential was refused, names the setting to fix, and holds nothing of the token."""
    words = {"message": f"{status} Unauthorized: token {TOKEN[:12]}... has expired"}
    with source_on_loopback(lambda path: (status, words)) as url:
        token = SecretStr(TOKEN)
        sources = IngestSettings(argocd_url=url, argocd_token=token, gitlab_url=url, gitlab_token=token)
        item, text = shop_api_item(estate_lake, sources)
    argocd = (
        f"the credential was refused (HTTP {status}); check ROSETTA_ARGOCD_TOKEN"
        if status == 401
        else f"application shop-api-prod refused (HTTP {status}): {ARGOCD_403}; check the mapping's ArgoCD "
        "application and ROSETTA_ARGOCD_TOKEN"
    )
    assert (item["stale"], item["staleReason"]) == (
        True,
        f"argocd: {argocd}; gitlab: the credential was refused (HTTP {status}); check ROSETTA_GITLAB_TOKEN",
    )
    assert TOKEN[:12] not in text
    shows_history(item)


ARGOCD_403 = "ArgoCD answers so for an application that does not exist as for one the token may not read"


def test_an_application_argocd_does_not_have_is_not_said_to_be_a_refused_token(
    estate_lake: tuple[Settings, Path],
) -> None:
    """The mapping names shop-api-prod, which the ArgoCD of another estate does not have (renamed, or deleted).
    ArgoCD 2.6.7 on answers 403 "permission denied" for an application that does not exist, not to tell which exist:
    the reason said the credential was refused and sent the SRE to rotate a token that works. It names both causes;
    the same token reads the estate's own applications live."""
    estate = generate_estate(seed=3, apps=1, days=1, end=datetime(2026, 11, 20, tzinfo=UTC))
    root = estate_lake[1]
    with start_simulators(estate) as sims:
        sources = IngestSettings(
            argocd_url=sims.urls["argocd"], argocd_token=SecretStr(sims.credentials["argocd"]["token"])
        )
        item, _ = shop_api_item(estate_lake, sources)
        live = LiveSources(api_settings(root), sources)
        (own,) = live.side_by_side([live.ask_argocd_app(next(iter(sims.apis["argocd"].apps)))])
    assert item["sources"]["argocd"] == {
        "state": "fallback",
        "reason": f"application shop-api-prod refused (HTTP 403): {ARGOCD_403}; check the mapping's ArgoCD "
        "application and ROSETTA_ARGOCD_TOKEN",
        "fetchedAt": None,
    }
    assert (own.error, own.value is not None) == (None, True)


def test_a_source_asking_to_wait_is_not_asked_again_before_its_retry_after(estate_lake: tuple[Settings, Path]) -> None:
    """GitLab throttles: every request is a 429 with Retry-After: 60. The live page of shop-api asks for project 11,
    that of shop-db, right after, for project 12: each page asked again, every project of a throttled source once
    its failure left the cache (10 s), and the API's calls kept the token's shared limit spent. shop-db's page now
    asks GitLab nothing, and both say until when GitLab is left alone: the 429's time plus 60 s, in UTC."""
    estate = generate_estate(seed=3, apps=1, days=1, end=datetime(2026, 11, 20, tzinfo=UTC))
    faults = FaultConfig.from_dict({"gitlab": {"rate_limit": 1.0, "retry_after": 60}})
    settings, root = estate_lake
    with start_simulators(estate, faults=faults) as sims:
        sources = IngestSettings(
            argocd_url=f"http://127.0.0.1:{closed_port()}",
            argocd_token=SecretStr("t"),
            gitlab_url=sims.urls["gitlab"],
            gitlab_token=SecretStr(sims.credentials["gitlab"]["private_token"]),
        )
        gitlab = sims.injectors["gitlab"]
        with TestClient(create_app(api_settings(root), settings, sources), raise_server_exceptions=False) as c:
            asked = time.time()
            pages = [
                c.get(f"/monitoring/components/{entity}/deployments?mode=live", headers=READER)
                for entity in ("shop-api", "shop-db")
            ]
            answered = time.time()
        assert gitlab.request_count == 1
    reasons = [r.json()["live"][0]["staleReason"] for r in pages]
    waited = (
        r"gitlab: asked not to be called before (\S+Z) \(its Retry-After or rate-limit reset\): not asked till then"
    )
    waits = [re.search(waited, reason) for reason in reasons]
    assert all(waits), reasons
    until = {datetime.fromisoformat(w.group(1)).timestamp() for w in waits if w}
    # One time for both, written to the second: 60 s after the 429 came, which was between the first ask and the
    # last answer.
    assert len(until) == 1 and int(asked) + 60 <= until.pop() <= answered + 60


def test_an_answer_larger_than_live_mode_reads_is_the_sources_failure(estate_lake: tuple[Settings, Path]) -> None:
    """A page's calls run 32 at once, each read up to ingestion's 64 MB: 2 GB, in a function of 2048 MB whose DuckDB
    holds 60%. An answer is now read up to 2 MB (32 x 2 = 64 MB): ArgoCD answering shop-api-prod in 3 MB is its
    failure, named, and shop-api shows what history holds of ArgoCD (GitLab answers live)."""
    argocd = {
        "metadata": {"name": "shop-api-prod"},
        "status": {"sync": {"status": "OutOfSync", "revision": "r9"}, "health": {"status": "Degraded"}},
        "padding": "x" * 3 * 2**20,
    }
    pipeline = {"id": 901, "project_id": 11, "status": "running", "ref": "main", "updated_at": "2026-11-20T09:30:00Z"}
    r = shop_api_live_page(estate_lake, argocd, pipeline)
    assert r.status_code == 200, r.text
    (item,) = r.json()["live"]
    assert (item["stale"], item["staleReason"]) == (True, "argocd: an answer over 2 MB, more than live mode reads")
    argocd_read = (item["syncStatus"], item["healthStatus"], item["operationPhase"], item["statusObservedAt"])
    assert argocd_read == ARGOCD_READ and (item["revision"], item["lastDeployedAt"]) == LAST_DEPLOYMENT
    assert (item["lastPipelineStatus"], item["lastPipelineAt"]) == ("running", "2026-11-20T09:30:00Z")


def test_a_live_revision_is_not_dated_by_another_deployment(estate_lake: tuple[Settings, Path]) -> None:
    """ArgoCD gives shop-api-prod live at r9 with no history yet; GitLab answers 500. The fallback dated r9 with the
    last historized deployment's time, r1's (the 19th at 13:00): a deployment that never was. r9 stays, undated."""
    argocd = {"metadata": {"name": "shop-api-prod"}, "status": {"sync": {"status": "Synced", "revision": "r9"}}}

    def answer(path: str) -> tuple[int, object]:
        return (200, argocd) if path.startswith("/api/v1/") else (500, {"message": "boom"})

    with source_on_loopback(answer) as url:
        token = SecretStr("t")
        item, _ = shop_api_item(
            estate_lake, IngestSettings(argocd_url=url, argocd_token=token, gitlab_url=url, gitlab_token=token)
        )
    assert (item["stale"], item["staleReason"]) == (
        True,
        "gitlab: HTTP 500 on GET /api/v4/projects/11/pipelines, still after 1 attempts",
    )
    assert (item["syncStatus"], item["revision"], item["lastDeployedAt"]) == ("Synced", "r9", None)


@pytest.mark.parametrize("gitlab_status", [200, 500])
def test_an_application_argocd_never_synced_has_no_revision_whatever_gitlab_answers(
    estate_lake: tuple[Settings, Path], gitlab_status: int
) -> None:
    """ArgoCD answers shop-api-prod live, OutOfSync with an empty history: it never synced, so no revision. With
    GitLab answering, none was shown; with GitLab failing, history's r1 of the 19th was put beside ArgoCD's live
    state, as if ArgoCD had deployed it. What ArgoCD answers live does not turn on GitLab."""
    argocd = {"metadata": {"name": "shop-api-prod"}, "status": {"sync": {"status": "OutOfSync"}, "history": []}}

    def answer(path: str) -> tuple[int, object]:
        if path.startswith("/api/v1/"):
            return 200, argocd
        return (200, []) if gitlab_status == 200 else (500, {"message": "boom"})

    with source_on_loopback(answer) as url:
        token = SecretStr("t")
        item, _ = shop_api_item(
            estate_lake, IngestSettings(argocd_url=url, argocd_token=token, gitlab_url=url, gitlab_token=token)
        )
    assert item["sources"]["argocd"]["state"] == "live"
    assert item["sources"]["gitlab"]["state"] == ("live" if gitlab_status == 200 else "fallback")
    assert (item["syncStatus"], item["revision"], item["lastDeployedAt"]) == ("OutOfSync", None, None)


def test_many_components_are_asked_at_most_32_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Forty ArgoCD applications asked by one page, ArgoCD answering none until 32 requests have come (or 5 s have
    passed): the first 32 are asked at once, side by side, the other 8 as those answer, never more than 32 in
    flight; and every one is answered."""
    arrived = threading.Condition()
    seen = {"now": 0, "most": 0, "all": 0}

    def held(path: str) -> tuple[int, object]:
        with arrived:
            seen["now"] += 1
            seen["all"] += 1
            seen["most"] = max(seen["most"], seen["now"])
            arrived.notify_all()
            arrived.wait_for(lambda: seen["all"] >= SIDE_BY_SIDE, timeout=5)
            seen["now"] -= 1
        return 200, {}

    # The loopback server's backlog of 5 connections would drop the SYNs of 32 calls connecting at once.
    monkeypatch.setattr(ThreadingHTTPServer, "request_queue_size", 64)
    with source_on_loopback(held) as url:
        sources = IngestSettings(argocd_url=url, argocd_token=SecretStr("t"))
        live = LiveSources(ApiSettings(local_dir=tmp_path, live_timeout_s=20.0), sources)
        results = live.side_by_side([live.ask_argocd_app(f"app-{i}") for i in range(40)])
        live.close()
    assert (SIDE_BY_SIDE, seen["most"], seen["all"]) == (32, 32, 40)
    assert [r.error for r in results] == [None] * 40, [r.error for r in results]


def test_a_cached_live_answer_keeps_the_time_it_was_fetched(estate_lake: tuple[Settings, Path]) -> None:
    """Live answers are cached 30 s (ROSETTA_API_LIVE_CACHE_TTL_S), by ArgoCD application and GitLab project. shop-api's
    page asked twice in a row asks each source once (2 requests, not 4), and the second answer says it was fetched
    when the first was: a cached value is never shown as read now. Once ArgoCD's answer has left the cache before
    GitLab's, the third page reads ArgoCD anew (its status observed now) beside GitLab's cached pipeline: it said
    fetched now, as if the pipeline were read now too; it says when the older of the two was read, the pipeline."""
    asked: list[str] = []
    argocd = {"metadata": {"name": "shop-api-prod"}, "status": {"sync": {"status": "Synced", "revision": "r9"}}}
    pipeline = {"id": 901, "project_id": 11, "status": "running", "ref": "main", "updated_at": "2026-11-20T09:30:00Z"}

    def answer(path: str) -> tuple[int, object]:
        asked.append(path.split("?")[0])
        return 200, argocd if path.startswith("/api/v1/") else [pipeline]

    settings, root = estate_lake
    with source_on_loopback(answer) as url:
        token = SecretStr("t")
        sources = IngestSettings(argocd_url=url, argocd_token=token, gitlab_url=url, gitlab_token=token)
        with TestClient(create_app(api_settings(root), settings, sources)) as c:
            (first,), (second,) = (c.get(SHOP_API, headers=READER).json()["live"] for _ in range(2))
            live: LiveSources = c.app.state.context.live  # type: ignore[attr-defined]
            kept = live.cache.get("gitlab:11")
            assert kept is not None
            live.cache = TtlCache(30)
            live.cache.put("gitlab:11", kept)
            (third,) = c.get(SHOP_API, headers=READER).json()["live"]
    # The first page's two calls, side by side in either order; the third page's call to ArgoCD alone.
    assert sorted(asked[:2]) == ["/api/v1/applications/shop-api-prod", "/api/v4/projects/11/pipelines"]
    assert asked[2:] == ["/api/v1/applications/shop-api-prod"]
    assert [i["stale"] for i in (first, second, third)] == [False, False, False]
    assert second["fetchedAt"] == first["fetchedAt"] == first["statusObservedAt"]
    # ArgoCD read anew, after the first page; GitLab's pipeline read when the first page read it.
    assert datetime.fromisoformat(third["statusObservedAt"]) > datetime.fromisoformat(first["fetchedAt"])
    assert datetime.fromisoformat(third["fetchedAt"]) == kept.fetched_at


def test_sources_not_configured_are_a_stated_fallback(estate_lake: tuple[Settings, Path]) -> None:
    """Neither ArgoCD nor GitLab configured: the live page is no 500 nor an empty answer but history, stale, each
    source named with the settings that would configure it."""
    item, _ = shop_api_item(estate_lake, IngestSettings(argocd_url=None, argocd_token=None, gitlab_url=None))
    assert (item["stale"], item["staleReason"]) == (
        True,
        "argocd: ArgoCD is not configured (ROSETTA_ARGOCD_URL/ROSETTA_ARGOCD_TOKEN); "
        "gitlab: GitLab is not configured (ROSETTA_GITLAB_URL/ROSETTA_GITLAB_TOKEN)",
    )
    shows_history(item)
