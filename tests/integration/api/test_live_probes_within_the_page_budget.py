"""A page's live budget bounds the sources' probes and the lookup of Kibana's data views as it bounds every other live
call: a source still answering when the budget is spent is said not to have answered, and the call ends there: its
connection is closed, not held while the source trickles on.

What is measured is the connections' lives as the source sees them, some 1 s against the 14 s a call held to the end
would take: a loaded machine stretches the first by a second or two and never makes it the second. The page's own time
is not bounded here beyond its budget: it waits for its calls at most its budget and half a second more whatever they
do, and on a loaded machine its own work may take longer than any margin one would pick."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from fastapi.testclient import TestClient

from functions.api.main import create_app
from lakehouse.settings import Settings
from tests.integration.api.conftest import ADMIN, READER, api_settings, down_sources
from tests.integration.api.test_endpoints import QuietHandler, every_source_at, serving

LIVE_BUDGET_S = 1.0
# A source sending its answer's head a byte at a time: each wait is far under the budget, the whole some 14 s.
BYTE_EVERY_S = 0.2
HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n"
# The longest a call's connection may live: its budget, the source's noticing the close (a write or two), and a loaded
# machine's delays; well under the trickle's whole.
CONNECTION_AT_MOST_S = LIVE_BUDGET_S + 3.0


@dataclass
class Connection:
    """One request the trickling source served, as it saw it (time.monotonic)."""

    opened: float
    ended: float | None = None
    client_left: bool = False


@contextmanager
def trickling_source() -> Iterator[tuple[str, list[Connection]]]:
    """A source on loopback answering every request with an empty JSON object, its status line and headers sent a
    byte every 0.2 s; its URL, and the requests it served as they come and end."""
    done = threading.Event()
    served: list[Connection] = []

    class Trickling(QuietHandler):
        def do_GET(self) -> None:
            connection = Connection(time.monotonic())
            served.append(connection)
            try:
                for byte in HEAD:
                    if done.wait(BYTE_EVERY_S):
                        return
                    self.wfile.write(bytes([byte]))
                self.wfile.write(b"{}")
            except OSError:
                connection.client_left = True  # the API gave up and closed the connection
            finally:
                connection.ended = time.monotonic()

    with serving(Trickling) as url:
        try:
            yield url, served
        finally:
            done.set()  # the answers under way stop: the server closes at once


def lives_once_ended(served: list[Connection]) -> list[tuple[bool, float]]:
    """Whether the client closed each connection, and how long it lived; awaited until every one has ended, or for
    the longest a connection may live from its opening (a connection held to the trickle's end is then still open)."""
    assert served, "the source was never asked"
    give_up = max(c.opened for c in served) + CONNECTION_AT_MOST_S
    while any(c.ended is None for c in served) and time.monotonic() < give_up:
        time.sleep(0.05)
    return [(c.client_left, (c.ended or time.monotonic()) - c.opened) for c in served]


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
    live timeout for each wait, never reached, and ran on some 14 s, each holding a thread and a connection, after the
    page had answered. They now end with the budget: the page answers once it is spent, every source unreachable,
    having given no answer within 1 s, and the API has closed each probe's connection within a few seconds."""
    settings, root = estate_lake
    api = api_settings(root).model_copy(update={"live_timeout_s": LIVE_BUDGET_S})
    with trickling_source() as (url, served), TestClient(create_app(api, settings, every_source_at(url))) as client:
        # The mart copy and the mapping loaded first, as a serving API has them.
        client.get("/monitoring/applications/shop/summary", headers=READER)
        body, took = timed_get(client, "/monitoring/admin/config/sources", ADMIN)
        lives = lives_once_ended(served)
    assert took >= LIVE_BUDGET_S
    assert len(lives) >= 5  # a probe each, at least
    assert all(left and life < CONNECTION_AT_MOST_S for left, life in lives), lives
    states = {s["name"]: (s["reachable"], s["authenticated"], s["probeError"]) for s in body["items"]}
    assert states == dict.fromkeys(
        ("dynatrace", "servicenow", "argocd", "gitlab", "elasticsearch"), (False, None, "no answer within 1 s")
    )


def test_a_logs_link_answers_within_its_live_budget_when_kibana_does_not(estate_lake: tuple[Settings, Path]) -> None:
    """No data view configured for logs-shop-*, and Kibana sending its list of data views a byte every 0.2 s, the
    live budget 1 s. The lookup kept the live timeout for each wait, and ran on some 14 s after the link had answered.
    It now ends with the budget: the link answers once it is spent, opening the index pattern itself, as Kibana's list
    could not be read, and the API has closed the lookup's connection within a few seconds."""
    settings, root = estate_lake
    with trickling_source() as (url, served):
        api = api_settings(root).model_copy(
            update={"live_timeout_s": LIVE_BUDGET_S, "kibana_url": url, "kibana_data_views": {}}
        )
        with TestClient(create_app(api, settings, down_sources())) as client:
            # The mart copy loaded first, as a serving API has it.
            client.get("/monitoring/applications/shop/summary", headers=READER)
            body, took = timed_get(client, "/monitoring/applications/shop/logs/link", READER)
            lives = lives_once_ended(served)
    assert took >= LIVE_BUDGET_S
    assert len(lives) == 1
    assert all(left and life < CONNECTION_AT_MOST_S for left, life in lives), lives
    assert (body["dataViewId"], body["dataViewFrom"]) == ("logs-shop-*", "index pattern")
    assert body["dataViewReason"] == "Kibana's data views could not be read: no answer within 1 s"
