"""What live mode says of each source: per live component, whether ArgoCD's and GitLab's figures are live or
history's, and on a logs link, how its Kibana data view was found; and answers read no larger than live mode reads."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from functions.api.main import create_app
from lakehouse.ingest.config import IngestSettings
from lakehouse.settings import Settings
from simulators.estate import generate_estate
from simulators.serve import start_simulators
from tests.integration.api.conftest import ADMIN, api_settings, closed_port, down_sources
from tests.integration.api.test_endpoints import (
    get,
    kibana_answering,
    logs_link_with_kibana,
    serving,
    source_on_loopback,
)
from tests.integration.api.test_live_review import ARGOCD_READ, shop_api_item

ARGOCD_DOWN = "HTTP 500 on GET /api/v1/applications/shop-api-prod, still after 1 attempts"
GITLAB_NOT_CONFIGURED = "GitLab is not configured (ROSETTA_GITLAB_URL/ROSETTA_GITLAB_TOKEN)"
SHOP_API_PROD = {"metadata": {"name": "shop-api-prod"}, "status": {"sync": {"status": "Synced", "revision": "r9"}}}
PIPELINE = {"id": 901, "project_id": 11, "status": "running", "ref": "main", "updated_at": "2026-11-20T09:30:00Z"}


def test_each_source_says_whether_its_figures_are_live_or_from_history(estate_lake: tuple[Settings, Path]) -> None:
    """ArgoCD answers 500, GitLab gives project 11's pipeline 901, running. shop-api's item said stale, the reason
    naming ArgoCD in a sentence: a client could not tell the pipeline (live) from the sync status (history's)
    without parsing it. Its sources now say so: ArgoCD a fallback with its reason, GitLab live with when it was
    fetched; stale and staleReason say what they said."""

    def answer(path: str) -> tuple[int, object]:
        return (500, {"message": "boom"}) if path.startswith("/api/v1/") else (200, [PIPELINE])

    with source_on_loopback(answer) as url:
        token = SecretStr("t")
        sources = IngestSettings(argocd_url=url, argocd_token=token, gitlab_url=url, gitlab_token=token)
        item, _ = shop_api_item(estate_lake, sources)
    assert item["sources"]["argocd"] == {"state": "fallback", "fetchedAt": None, "reason": ARGOCD_DOWN}
    # GitLab alone was read live: the item's fetchedAt, the older of the live reads, is GitLab's.
    assert item["sources"]["gitlab"] == {"state": "live", "fetchedAt": item["fetchedAt"], "reason": None}
    assert item["fetchedAt"] is not None
    assert (item["stale"], item["staleReason"]) == (True, f"argocd: {ARGOCD_DOWN}")
    argocd = (item["syncStatus"], item["healthStatus"], item["operationPhase"], item["statusObservedAt"])
    assert argocd == ARGOCD_READ
    assert (item["lastPipelineStatus"], item["lastPipelineAt"]) == ("running", "2026-11-20T09:30:00Z")


def test_a_source_not_configured_or_not_mapped_is_said_so(estate_lake: tuple[Settings, Path]) -> None:
    """GitLab not configured, ArgoCD answering shop-api-prod live. shop's components: shop-api (ArgoCD
    shop-api-prod, GitLab project 11) reads ArgoCD live and GitLab's history, not configured; shop-db (GitLab
    project 12 alone, no ArgoCD application) has no ArgoCD figures to read, not mapped, and GitLab's history. Not
    configured is history as a fallback is: stale, as before; not mapped is not."""
    settings, root = estate_lake
    with source_on_loopback(lambda path: (200, SHOP_API_PROD)) as url:
        sources = IngestSettings(argocd_url=url, argocd_token=SecretStr("t"), gitlab_url=None, gitlab_token=None)
        with TestClient(create_app(api_settings(root), settings, sources), raise_server_exceptions=False) as c:
            items = {i["componentId"]: i for i in get(c, "/monitoring/applications/shop/deployments?mode=live")["live"]}
    shop_api, shop_db = items["shop-api"], items["shop-db"]
    assert shop_api["sources"] == {
        "argocd": {"state": "live", "fetchedAt": shop_api["statusObservedAt"], "reason": None},
        "gitlab": {"state": "not configured", "fetchedAt": None, "reason": GITLAB_NOT_CONFIGURED},
    }
    assert shop_api["syncStatus"] == "Synced" and shop_api["revision"] == "r9"
    assert shop_db["sources"] == {
        "argocd": {"state": "not mapped", "fetchedAt": None, "reason": None},
        "gitlab": {"state": "not configured", "fetchedAt": None, "reason": GITLAB_NOT_CONFIGURED},
    }
    for item in (shop_api, shop_db):
        assert (item["stale"], item["staleReason"]) == (True, f"gitlab: {GITLAB_NOT_CONFIGURED}")


SHOP_VIEW = {"id": "9f1c-shop", "title": "logs-shop-*"}


@pytest.mark.parametrize(
    ("views", "expected"),
    [
        ({"data_view": [SHOP_VIEW]}, ("9f1c-shop", "kibana", None)),
        (
            {"data_view": [{"id": "77aa-web", "title": "logs-web-*"}]},
            ("logs-shop-*", "index pattern", "Kibana lists no data view titled logs-shop-* in space default"),
        ),
        (
            "Kibana server is not ready yet",
            (
                "logs-shop-*",
                "index pattern",
                "Kibana's data views could not be read: ValueError: unexpected answer",
            ),
        ),
    ],
)
def test_a_logs_link_says_how_its_data_view_was_found(
    estate_lake: tuple[Settings, Path], views: object, expected: tuple[str, str, str | None]
) -> None:
    """No data view configured for logs-shop-*: the API asks Kibana. Kibana listing it gives its id; listing only
    another's, or answering a string, the link opened the index pattern as its data view without a word: a
    Discover on no data view when Kibana has none of that id. It now says where the id came from and why."""
    with kibana_answering(views) as url:
        r = logs_link_with_kibana(estate_lake, url)
    assert r.status_code == 200, r.text
    link = r.json()
    assert (link["dataViewId"], link["dataViewFrom"], link["dataViewReason"]) == expected


def test_a_logs_link_says_kibana_could_not_be_reached_or_its_view_was_configured(
    estate_lake: tuple[Settings, Path], client: TestClient
) -> None:
    """Kibana unreachable, the link opens the index pattern, saying why; logs-shop-* configured
    (ROSETTA_API_KIBANA_DATA_VIEWS, 0f8c7d2e-shop in the tests' settings), the link says it is Kibana not asked."""
    r = logs_link_with_kibana(estate_lake, f"http://127.0.0.1:{closed_port()}")
    assert r.status_code == 200, r.text
    unreachable = r.json()
    assert (unreachable["dataViewId"], unreachable["dataViewFrom"], unreachable["dataViewReason"]) == (
        "logs-shop-*",
        "index pattern",
        "Kibana's data views could not be read: no answer (ConnectError)",
    )
    configured = get(client, "/monitoring/applications/shop/logs/link?timeRange=now-1h")
    assert (configured["dataViewId"], configured["dataViewFrom"], configured["dataViewReason"]) == (
        "0f8c7d2e-shop",
        "configured",
        None,
    )


def test_kibanas_data_views_are_read_up_to_2_mb(estate_lake: tuple[Settings, Path]) -> None:
    """A live call reads an answer up to 2 MB; the data views lookup read Kibana's whole, so a Kibana answering
    3 MB (logs-shop-* listed, then 3 x 2**20 bytes of padding) gave 9f1c-shop. It is now read as live calls read:
    over 2 MB, not read, and the link opens the index pattern, saying why."""
    with kibana_answering({"data_view": [SHOP_VIEW], "padding": "x" * 3 * 2**20}) as url:
        r = logs_link_with_kibana(estate_lake, url)
    assert r.status_code == 200, r.text
    link = r.json()
    assert (link["dataViewId"], link["dataViewFrom"], link["dataViewReason"]) == (
        "logs-shop-*",
        "index pattern",
        "Kibana's data views could not be read: an answer over 2 MB, more than live mode reads",
    )


@contextmanager
def source_answering_without_end() -> Iterator[str]:
    """A source answering every GET with a 200 in JSON whose body never ends (64 KB every 10 ms, till the server
    stops); its URL."""
    stop = threading.Event()

    class Endless(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            try:
                while not stop.wait(0.01):
                    self.wfile.write(b" " * 2**16)
            except OSError:
                pass

        def log_message(self, format: str, *args: Any) -> None:
            pass

    with serving(Endless) as url:
        try:
            yield url
        finally:
            stop.set()  # before the server closes, which waits for the answer under way


def test_a_probe_reads_no_body(estate_lake: tuple[Settings, Path]) -> None:
    """A probe decides by the status and the headers, yet read the whole body, of any size: ArgoCD answering its
    probe with a 200 in JSON whose body never ends was read until the page gave up (no answer within the live
    timeout), said unreachable while a thread kept reading it. The body is now not read: ArgoCD is reachable and
    its credential accepted."""
    settings, root = estate_lake
    with source_answering_without_end() as url:
        sources = down_sources().model_copy(update={"argocd_url": url, "argocd_token": SecretStr("t")})
        with TestClient(create_app(api_settings(root), settings, sources), raise_server_exceptions=False) as c:
            items = get(c, "/monitoring/admin/config/sources", ADMIN)["items"]
    argocd = next(s for s in items if s["name"] == "argocd")
    assert (argocd["reachable"], argocd["authenticated"], argocd["probeError"]) == (True, True, None)


@pytest.mark.parametrize("credentials", ["theirs", "wrong"])
def test_the_simulated_sources_say_whether_their_credentials_are_accepted(
    estate_lake: tuple[Settings, Path], monkeypatch: pytest.MonkeyPatch, credentials: str
) -> None:
    """The sources page of the demo, against the simulators: GitLab's probe asks the list of projects, which the
    GitLab simulator did not serve (404), so its token was "unknown" where the four others were accepted. Each
    simulated source now says whether the credentials are accepted: all with their own, none with wrong ones."""
    estate = generate_estate(seed=3, apps=1, days=1, end=datetime(2026, 11, 20, tzinfo=UTC))
    settings, root = estate_lake
    with start_simulators(estate) as sims:
        for name, value in sims.env().items():
            secret = any(word in name for word in ("TOKEN", "PASSWORD", "API_KEY"))
            monkeypatch.setenv(name, "wrong-credential-0123" if secret and credentials == "wrong" else value)
        with TestClient(create_app(api_settings(root), settings, IngestSettings()), raise_server_exceptions=False) as c:
            items = get(c, "/monitoring/admin/config/sources", ADMIN)["items"]
    probed = {s["name"]: (s["reachable"], s["authenticated"]) for s in items if s["name"] in SOURCES}
    assert probed == {name: (True, credentials == "theirs") for name in SOURCES}


SOURCES = ("dynatrace", "servicenow", "argocd", "gitlab", "elasticsearch")
