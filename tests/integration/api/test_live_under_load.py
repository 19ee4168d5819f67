"""Live mode under load, against the simulators on loopback: many pages at once while one source hangs."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fastapi.testclient import TestClient
from pydantic import SecretStr

from functions.api.main import create_app
from lakehouse.aggregates.build import build
from lakehouse.ingest.config import IngestSettings
from lakehouse.mappings import MappingEntry, MappingStore, from_catalog
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from simulators.estate import generate_estate
from simulators.faults import FaultConfig
from simulators.serve import RunningSimulators, start_simulators
from tests.integration.api.conftest import READER, api_settings

# Far longer than any live timeout: ArgoCD hangs.
HANGS_S = 60
# Generous: GitLab answers in milliseconds, but 27 pages at once make some hundred calls on a machine of two cores.
LIVE_TIMEOUT_S = 5.0
# A page that never answers would keep the test this long before it fails, not for ever.
NEVER_S = 60


# ArgoCD holding each answer before its first byte, or sending it a piece now and then (each piece within the
# live timeout, the whole answer taking HANGS_S).
HANGS = {
    "slow": {"slow": 1.0, "slow_seconds": HANGS_S},
    "trickle": {"trickle": 1.0, "trickle_seconds": HANGS_S},
}


@pytest.fixture(scope="module", params=sorted(HANGS))
def hanging_argocd(request: pytest.FixtureRequest) -> Iterator[tuple[RunningSimulators, list[MappingEntry]]]:
    estate = generate_estate(seed=7, apps=8, days=3, end=datetime(2026, 11, 20, tzinfo=UTC))
    faults = FaultConfig.from_dict({"argocd": HANGS[request.param]})
    with start_simulators(estate, faults=faults) as sims:
        yield sims, from_catalog(list(yaml.safe_load_all(_get(sims, "catalog", "/catalog-info.yaml").text)))[0]


def _live_calls_end_within(seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while any(t.name.startswith("live") for t in threading.enumerate()):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def _get(sims: RunningSimulators, source: str, path: str, **kwargs: Any) -> httpx.Response:
    response = httpx.get(f"{sims.urls[source]}{path}", timeout=30, **kwargs)
    response.raise_for_status()
    return response


def built_with_live_sources(
    sims: RunningSimulators, entries: list[MappingEntry], tmp_path: Path
) -> tuple[Settings, IngestSettings]:
    """A lake under `tmp_path` holding the estate's mapping, built in full, and the simulators' ArgoCD and GitLab as the
    API's live sources."""
    settings = Settings(lake_url=str(tmp_path / "lake"), duckdb_temp_directory=tmp_path / "duckdb")
    lake = Lake.from_settings(settings)
    MappingStore(lake).apply([e.model_dump(exclude_none=True) for e in entries], actor="test")
    build(lake, settings, mode="full")
    sources = IngestSettings(
        argocd_url=sims.urls["argocd"],
        argocd_token=SecretStr(sims.credentials["argocd"]["token"]),
        gitlab_url=sims.urls["gitlab"],
        gitlab_token=SecretStr(sims.credentials["gitlab"]["private_token"]),
    )
    return settings, sources


def test_many_live_pages_at_once_against_a_hanging_source_each_answer_with_the_other_source(
    hanging_argocd: tuple[RunningSimulators, list[MappingEntry]], tmp_path: Path
) -> None:
    """The simulators' eight applications and their nineteen components asked for live at once (27 pages, a live
    timeout of 5 s), while ArgoCD holds every request for a minute. Each page's calls waited on a shared pool of eight
    threads, where the calls of the other pages, ArgoCD's holding a thread their whole timeout, were queued ahead of
    them: GitLab, answering at once, was "no answer within 5 s" for most. Every page now answers, none hangs, every
    component's ArgoCD status is stale with ArgoCD named as the reason, and every GitLab pipeline is read live: the
    one GitLab itself gives as the project's last. ArgoCD sending its answers a piece every 3 s (each within the live
    timeout) held each call's thread and connection for the minute its answer took, after its page had answered
    without it; the calls now end on the live timeout, whichever way ArgoCD hangs."""
    sims, entries = hanging_argocd
    settings, sources = built_with_live_sources(sims, entries, tmp_path)
    gitlab_token = sims.credentials["gitlab"]["private_token"]
    api = api_settings(tmp_path).model_copy(update={"live_timeout_s": LIVE_TIMEOUT_S})
    pages = [f"/monitoring/applications/{e.entity_id}" for e in entries if e.kind == "application"]
    pages += [f"/monitoring/components/{e.entity_id}" for e in entries if e.kind == "component"]
    assert len(pages) == 27

    with TestClient(create_app(api, settings, sources)) as c, ThreadPoolExecutor(len(pages)) as pool:
        asked = [pool.submit(c.get, f"{page}/deployments?mode=live", headers=READER) for page in pages]
        answers = [a.result(timeout=NEVER_S) for a in asked]
        # The calls left running when their pages answered end on the live timeout, not on ArgoCD's minute.
        assert _live_calls_end_within(LIVE_TIMEOUT_S), [t.name for t in threading.enumerate()]

    assert [a.status_code for a in answers] == [200] * len(pages), [a.text[:200] for a in answers]
    live = [item for a in answers for item in a.json()["live"]]
    with_argocd = [i for i in live if i["argocdApp"]]
    assert with_argocd and [i for i in with_argocd if not (i["staleReason"] or "").startswith("argocd: ")] == []
    with_gitlab = [i for i in live if i["gitlabProjectId"]]
    assert len(with_gitlab) >= 8 and [i for i in with_gitlab if "gitlab" in (i["staleReason"] or "")] == []
    gitlab = {"PRIVATE-TOKEN": gitlab_token}
    for project in {i["gitlabProjectId"] for i in with_gitlab}:
        query = {"per_page": 1, "order_by": "id", "sort": "desc"}
        found = _get(sims, "gitlab", f"/api/v4/projects/{project}/pipelines", params=query, headers=gitlab).json()
        last = found[0] if found else {}  # a project without pipelines is read as such
        read = {(i["lastPipelineStatus"], i["lastPipelineRef"]) for i in with_gitlab if i["gitlabProjectId"] == project}
        assert read == {(last.get("status"), last.get("ref"))}, project


@pytest.fixture(scope="module")
def answering_sources(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[RunningSimulators, list[MappingEntry]]]:
    estate = generate_estate(seed=11, apps=2, days=2, end=datetime(2026, 11, 20, tzinfo=UTC))
    with start_simulators(estate) as sims:
        yield sims, from_catalog(list(yaml.safe_load_all(_get(sims, "catalog", "/catalog-info.yaml").text)))[0]


def test_live_pages_in_a_row_share_one_connection_pool_per_source(
    answering_sources: tuple[RunningSimulators, list[MappingEntry]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each live call built an HTTP client of its own, loading the TLS certificates every time (some 75 ms of CPU,
    most of a live page's). Three live pages of every application in a row, uncached, are now served by one client of
    ArgoCD and one of GitLab, closed when the API stops; and they read what the sources say, as before."""
    sims, entries = answering_sources
    settings, sources = built_with_live_sources(sims, entries, tmp_path)
    argocd_token, gitlab_token = sims.credentials["argocd"]["token"], sims.credentials["gitlab"]["private_token"]
    # No cache: every page asks the sources again.
    api = api_settings(tmp_path).model_copy(update={"live_timeout_s": LIVE_TIMEOUT_S, "live_cache_ttl_s": 0})
    built: list[httpx.Client] = []
    build_client = httpx.Client.__init__

    def counted(client: httpx.Client, *args: Any, **kwargs: Any) -> None:
        build_client(client, *args, **kwargs)
        built.append(client)

    monkeypatch.setattr(httpx.Client, "__init__", counted)
    apps = [e.entity_id for e in entries if e.kind == "application"]
    with TestClient(create_app(api, settings, sources)) as c:
        answers = [
            c.get(f"/monitoring/applications/{app}/deployments?mode=live", headers=READER)
            for _ in range(3)
            for app in apps
        ]
        of_sources = [client for client in built if str(client.base_url).rstrip("/") in sims.urls.values()]
        assert sorted(str(client.base_url).rstrip("/") for client in of_sources) == sorted(
            [sims.urls["argocd"], sims.urls["gitlab"]]
        )
        assert [client.is_closed for client in of_sources] == [False, False]
    assert [client.is_closed for client in of_sources] == [True, True]

    assert [a.status_code for a in answers] == [200] * len(answers), [a.text[:200] for a in answers]
    live = [item for a in answers for item in a.json()["live"]]
    assert live and [i for i in live if i["stale"]] == []
    for item in live:
        if item["argocdApp"]:
            app = _get(sims, "argocd", f"/api/v1/applications/{item['argocdApp']}", headers=_bearer(argocd_token))
            status = app.json()["status"]
            assert (item["syncStatus"], item["healthStatus"]) == (status["sync"]["status"], status["health"]["status"])
        if item["gitlabProjectId"]:
            query = {"per_page": 1, "order_by": "id", "sort": "desc"}
            path = f"/api/v4/projects/{item['gitlabProjectId']}/pipelines"
            found = _get(sims, "gitlab", path, params=query, headers={"PRIVATE-TOKEN": gitlab_token}).json()
            last = found[0] if found else {}
            assert (item["lastPipelineStatus"], item["lastPipelineRef"]) == (last.get("status"), last.get("ref"))


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_live_page_asked_once_the_api_stopped_is_read_from_history_without_reopening_connections(
    answering_sources: tuple[RunningSimulators, list[MappingEntry]], tmp_path: Path
) -> None:
    """The app's shutdown closes its connections to the sources. A live page asked after it (a request still arriving
    while the server stops) opened new ones, which nothing would close. It is now answered from the lake as when a
    source fails, naming why, and no source is asked; the same app started again reads the sources live again."""
    sims, entries = answering_sources
    settings, sources = built_with_live_sources(sims, entries, tmp_path)
    api = api_settings(tmp_path).model_copy(update={"live_timeout_s": LIVE_TIMEOUT_S, "live_cache_ttl_s": 0})
    app = create_app(api, settings, sources)
    component = next(e for e in entries if e.kind == "component" and e.argocd_app_name and e.gitlab_project_id)
    page = f"/monitoring/components/{component.entity_id}/deployments?mode=live"
    with TestClient(app) as running:
        assert running.get(page, headers=READER).json()["live"][0]["stale"] is False

    asked = [sims.injectors[source].request_count for source in ("argocd", "gitlab")]
    stopped = TestClient(app).get(page, headers=READER)  # no lifespan: the app's has ended
    assert stopped.status_code == 200, stopped.text[:200]
    (item,) = stopped.json()["live"]
    stopping = "not asked: the API is stopping"
    assert (item["stale"], item["staleReason"]) == (True, f"argocd: {stopping}; gitlab: {stopping}")
    assert [sims.injectors[source].request_count for source in ("argocd", "gitlab")] == asked

    with TestClient(app) as again:
        (item,) = again.get(page, headers=READER).json()["live"]
    assert (item["stale"], item["staleReason"]) == (False, None)


def test_pages_asking_at_once_for_a_hanging_source_share_one_call_to_it(
    hanging_argocd: tuple[RunningSimulators, list[MappingEntry]], tmp_path: Path
) -> None:
    """Eight Backstage users open the same component's tab while ArgoCD hangs. Each page made a call of its own to
    ArgoCD, each holding a thread and a connection its whole timeout: a tab opened by many people during an outage
    piled calls on the dead source, as many as there were pages. The pages asking for the same application while a
    call to it is under way now wait for that call: ArgoCD is asked once, and every page still answers from history,
    naming ArgoCD as the reason."""
    sims, entries = hanging_argocd
    settings, sources = built_with_live_sources(sims, entries, tmp_path)
    api = api_settings(tmp_path).model_copy(update={"live_timeout_s": LIVE_TIMEOUT_S})
    component = next(e for e in entries if e.kind == "component" and e.argocd_app_name)
    page = f"/monitoring/components/{component.entity_id}/deployments?mode=live"
    users = 8

    with TestClient(create_app(api, settings, sources)) as c, ThreadPoolExecutor(users) as pool:
        asked_before = sims.injectors["argocd"].request_count
        asked = [pool.submit(c.get, page, headers=READER) for _ in range(users)]
        answers = [a.result(timeout=NEVER_S) for a in asked]
        asked_after = sims.injectors["argocd"].request_count

    assert [a.status_code for a in answers] == [200] * users, [a.text[:200] for a in answers]
    items = [item for a in answers for item in a.json()["live"]]
    assert [(i["stale"], (i["staleReason"] or "").startswith("argocd: ")) for i in items] == [(True, True)] * users
    # The first page's call, which every other page arriving while it hangs waits for (a failure is then cached).
    assert asked_after - asked_before == 1
