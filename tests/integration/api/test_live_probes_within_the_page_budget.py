"""A page's live budget bounds the sources' probes and the lookup of Kibana's data views as it bounds every other live
call: a source still answering when the budget is spent is said not to have answered, and the page answers on time."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi.testclient import TestClient

from functions.api.main import create_app
from lakehouse.settings import Settings
from tests.integration.api.conftest import ADMIN, READER, api_settings, down_sources
from tests.integration.api.test_endpoints import QuietHandler, every_source_at, serving

LIVE_BUDGET_S = 1.0
# What a page may take beyond its live budget: its own work (reading the run log, the mapping), on a loaded machine.
MARGIN_S = 0.45
# A source sending its answer's head a byte at a time: each wait is far under the budget, the whole some 14 s.
BYTE_EVERY_S = 0.2
HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n"


@contextmanager
def trickling_source() -> Iterator[str]:
    """A source on loopback answering every request with an empty JSON object, its status line and headers sent a
    byte every 0.2 s; its URL."""
    done = threading.Event()

    class Trickling(QuietHandler):
        def do_GET(self) -> None:
            try:
                for byte in HEAD:
                    if done.wait(BYTE_EVERY_S):
                        return
                    self.wfile.write(bytes([byte]))
                self.wfile.write(b"{}")
            except OSError:
                pass  # the API gave up and closed the connection

    with serving(Trickling) as url:
        try:
            yield url
        finally:
            done.set()  # the answers under way stop: the server closes at once


def timed_get(client: TestClient, route: str, headers: dict[str, str]) -> tuple[dict, float]:
    asked = time.monotonic()
    answer = client.get(route, headers=headers)
    took = time.monotonic() - asked
    assert answer.status_code == 200, answer.text
    return answer.json(), took


def test_the_sources_page_answers_within_its_live_budget_when_the_probes_do_not(
    estate_lake: tuple[Settings, Path],
) -> None:
    """The five sources send their probes' answers a byte every 0.2 s; the live budget is 1 s. The probes kept the
    live timeout for each wait, never reached, and ran on after the page had waited its budget and half a second more
    for them. They now end with the budget: the page answers within 1 s and a small margin, every source
    unreachable, having given no answer within 1 s."""
    settings, root = estate_lake
    api = api_settings(root).model_copy(update={"live_timeout_s": LIVE_BUDGET_S})
    with trickling_source() as url, TestClient(create_app(api, settings, every_source_at(url))) as client:
        # The mart copy and the mapping loaded first, as a serving API has them: the page's time is then its own.
        client.get("/monitoring/applications/shop/summary", headers=READER)
        body, took = timed_get(client, "/monitoring/admin/config/sources", ADMIN)
    assert LIVE_BUDGET_S <= took < LIVE_BUDGET_S + MARGIN_S
    states = {s["name"]: (s["reachable"], s["authenticated"], s["probeError"]) for s in body["items"]}
    assert states == dict.fromkeys(
        ("dynatrace", "servicenow", "argocd", "gitlab", "elasticsearch"), (False, None, "no answer within 1 s")
    )


def test_a_logs_link_answers_within_its_live_budget_when_kibana_does_not(estate_lake: tuple[Settings, Path]) -> None:
    """No data view configured for logs-shop-*, and Kibana sending its list of data views a byte every 0.2 s, the
    live budget 1 s. The lookup kept the live timeout for each wait, and the link took its budget and half a second
    more. It now answers within 1 s and a small margin, opening the index pattern itself, as Kibana's list could not
    be read."""
    settings, root = estate_lake
    with trickling_source() as url:
        api = api_settings(root).model_copy(
            update={"live_timeout_s": LIVE_BUDGET_S, "kibana_url": url, "kibana_data_views": {}}
        )
        with TestClient(create_app(api, settings, down_sources())) as client:
            # The mart copy loaded first: the link's time is then its own.
            client.get("/monitoring/applications/shop/summary", headers=READER)
            body, took = timed_get(client, "/monitoring/applications/shop/logs/link", READER)
    assert LIVE_BUDGET_S <= took < LIVE_BUDGET_S + MARGIN_S
    assert (body["dataViewId"], body["dataViewFrom"]) == ("logs-shop-*", "index pattern")
    assert body["dataViewReason"] == "Kibana's data views could not be read: no answer within 1 s"
