"""Live mode's time: a source slow to take a connection is given what is left of the live budget, and each source's
figures say when that source answered, not when the slowest of the page's sources did."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import ThreadingHTTPServer
from pathlib import Path

from fastapi.testclient import TestClient
from pydantic import SecretStr

from functions.api.main import create_app
from lakehouse.ingest.config import IngestSettings
from lakehouse.settings import Settings
from tests.integration.api.conftest import READER, api_settings
from tests.integration.api.test_endpoints import QuietHandler, source_on_loopback
from tests.integration.api.test_live_sources import PIPELINE, SHOP_API_PROD

SHOP_API = "/monitoring/components/shop-api/deployments"
LIVE_BUDGET_S = 5.0


class ShopApiProd(QuietHandler):
    """ArgoCD answering shop-api-prod, Synced at r9."""

    def do_GET(self) -> None:
        self.send_json(SHOP_API_PROD)


@contextmanager
def slow_to_connect() -> Iterator[tuple[str, threading.Event]]:
    """ArgoCD on loopback whose queue of connections waiting to be taken is full: Linux drops a new connection's SYN
    until the event is set and the queue is emptied, and the client sends it again 1 s after the first, then every
    second (Linux 6.5 on) or 2 s later. Its URL and the event."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), ShopApiProd, bind_and_activate=False)
    server.server_bind()
    server.socket.listen(1)
    address = server.server_address
    fillers = []
    for _ in range(16):
        filler = socket.socket()
        filler.settimeout(0.3)
        try:
            filler.connect(address)
        except TimeoutError:
            filler.close()
            break
        fillers.append(filler)
    else:
        raise AssertionError("the listening queue never filled")
    free = threading.Event()

    def serve_once_free() -> None:
        free.wait()
        for filler in fillers:
            filler.close()
        server.serve_forever()

    threading.Thread(target=serve_once_free, daemon=True).start()
    try:
        yield f"http://{address[0]}:{address[1]}", free
    finally:
        free.set()
        server.shutdown()
        server.server_close()


def test_a_source_slow_to_connect_is_read_live_within_the_live_budget(estate_lake: tuple[Settings, Path]) -> None:
    """A live budget of 5 s; ArgoCD takes 2 to 3 s to connect to (its queue freed 1.5 s after the page asked, the
    SYN taken when next sent), then answers shop-api-prod Synced at r9 at once. The connect timeout was 1 s whatever
    the budget: ArgoCD was a fallback, "timeout (ConnectTimeout)", though the page would have waited for it. It is
    now read live."""
    settings, root = estate_lake
    api = api_settings(root).model_copy(update={"live_timeout_s": LIVE_BUDGET_S})
    with slow_to_connect() as (url, free):
        sources = IngestSettings(argocd_url=url, argocd_token=SecretStr("t"), gitlab_url=None, gitlab_token=None)
        with TestClient(create_app(api, settings, sources), raise_server_exceptions=False) as c:
            # The mart read first, so that the live call starts when the page is asked for.
            assert c.get(f"{SHOP_API}?mode=history", headers=READER).status_code == 200
            threading.Timer(1.5, free.set).start()
            asked = time.monotonic()
            r = c.get(f"{SHOP_API}?mode=live", headers=READER)
            took = time.monotonic() - asked
    assert r.status_code == 200, r.text
    (item,) = r.json()["live"]
    assert item["sources"]["argocd"]["state"] == "live", item["sources"]["argocd"]
    assert (item["syncStatus"], item["revision"]) == ("Synced", "r9")
    # Read once the queue was freed: the connection did take longer than the old 1 s.
    assert 1.5 < took < LIVE_BUDGET_S + 0.5


def test_each_source_is_stamped_when_it_answered(estate_lake: tuple[Settings, Path]) -> None:
    """GitLab answers project 11's pipeline at once, ArgoCD shop-api-prod 2 s later, within a 5 s budget. Both were
    stamped once the page had every answer: GitLab's fetchedAt read 2 s after GitLab answered. Each source's
    fetchedAt is now when its answer came, and the item's, the older of its live reads, is GitLab's."""
    answered: dict[str, datetime] = {}

    def answer(path: str) -> tuple[int, object]:
        if path.startswith("/api/v1/"):
            time.sleep(2.0)
            answered["argocd"] = datetime.now(UTC)
            return 200, SHOP_API_PROD
        answered["gitlab"] = datetime.now(UTC)
        return 200, [PIPELINE]

    settings, root = estate_lake
    api = api_settings(root).model_copy(update={"live_timeout_s": LIVE_BUDGET_S})
    with source_on_loopback(answer) as url:
        token = SecretStr("t")
        sources = IngestSettings(argocd_url=url, argocd_token=token, gitlab_url=url, gitlab_token=token)
        with TestClient(create_app(api, settings, sources), raise_server_exceptions=False) as c:
            r = c.get(f"{SHOP_API}?mode=live", headers=READER)
    assert r.status_code == 200, r.text
    (item,) = r.json()["live"]
    assert {name: s["state"] for name, s in item["sources"].items()} == {"argocd": "live", "gitlab": "live"}
    gitlab = datetime.fromisoformat(item["sources"]["gitlab"]["fetchedAt"])
    argocd = datetime.fromisoformat(item["sources"]["argocd"]["fetchedAt"])
    assert 0 <= (gitlab - answered["gitlab"]).total_seconds() < 0.5
    assert 0 <= (argocd - answered["argocd"]).total_seconds() < 0.5
    assert datetime.fromisoformat(item["fetchedAt"]) == gitlab
    # The sync status is ArgoCD's, read when ArgoCD answered.
    assert datetime.fromisoformat(item["statusObservedAt"]) == argocd
