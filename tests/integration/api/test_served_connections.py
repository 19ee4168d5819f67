"""The API as `rosetta-monitoring serve` and the demo run it: uvicorn over a real socket."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from functions.api.cli import server_config
from functions.api.main import create_app
from tests.integration.api.conftest import api_settings, closed_port


@contextmanager
def served(root: Path) -> Iterator[int]:
    port = closed_port()
    server = uvicorn.Server(server_config(create_app(api_settings(root)), log_level="warning", port=port))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started and thread.is_alive():
        time.sleep(0.05)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(10)


def test_a_connection_kept_alive_longer_than_nodes_agent_keeps_it_is_still_answered(tmp_path: Path) -> None:
    """The Backstage backend's proxy (Node's HTTP agent) reuses an idle connection for up to 5 s. A server that
    closes idle connections after 5 s, uvicorn's default, closes one just as the proxy sends on it: the request fails
    with a reset. Six seconds idle, the same connection must still be answered."""
    with served(tmp_path) as port:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/monitoring/health")
        first = conn.getresponse()
        assert (first.status, json.loads(first.read())["status"]) == (200, "ok")
        time.sleep(6)
        conn.request("GET", "/monitoring/health")
        again = conn.getresponse()
        assert again.status == 200
        conn.close()
