"""A request that waits for the serving copy (a new instance's first load, or the tables after the summaries') waits
alone: the API keeps answering what needs no more than it has, the health check a load balancer makes among them."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from functions.api.main import create_app
from functions.api.mart import ServingMart
from lakehouse.aggregates.build import build
from tests.integration.api.conftest import READER, api_settings, down_sources
from tests.unit.aggregates.estate import AS_OF, estate_lake

SUMMARY = "/monitoring/applications/shop/summary"
# Needs every table of the copy, not only the summaries'.
OVERVIEW = "/monitoring/overview"
# How long a held load may take to start: far more than it needs, so that a failing test ends rather than hangs.
NEVER_S = 30.0


def held(monkeypatch: pytest.MonkeyPatch, step: str) -> tuple[threading.Event, threading.Event]:
    """Holds ServingMart's `step` of loading a copy until released: (reached, release)."""
    reached, release = threading.Event(), threading.Event()
    original: Callable[..., Any] = getattr(ServingMart, step)

    def holding(self: ServingMart, *args: Any, **kwargs: Any) -> Any:
        reached.set()
        release.wait(NEVER_S)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(ServingMart, step, holding)
    return reached, release


def answered_while_waiting(
    client: TestClient, waiting_url: str, reached: threading.Event, release: threading.Event, *others: str
) -> tuple[httpx.Response, list[httpx.Response]]:
    """`waiting_url` asked, held by the copy's load; the `others` asked meanwhile, each answered before the load is
    released. Returns the held request's answer and theirs."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        waiting = pool.submit(client.get, waiting_url, headers=READER)
        try:
            assert reached.wait(NEVER_S), "the load was never reached"
            answers = []
            for url in others:
                answers.append(client.get(url, headers=READER))
                assert not waiting.done(), f"{url} was answered only once {waiting_url} had its answer"
        finally:
            release.set()
        return waiting.result(timeout=NEVER_S), answers


def test_the_first_request_of_an_instance_waits_for_the_copy_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new instance's first request waits while the copy loads from the lake (up to 25 s on a slow store); a health
    check made then is answered at once, not after the load."""
    lake, settings = estate_lake(tmp_path)
    build(lake, settings, mode="full", as_of=AS_OF)
    reached, release = held(monkeypatch, "_load")
    app = create_app(api_settings(tmp_path), settings, down_sources())
    with TestClient(app, raise_server_exceptions=False) as client:
        summary, (health,) = answered_while_waiting(client, SUMMARY, reached, release, "/monitoring/health")
    assert health.status_code == 200, health.text
    assert health.json()["status"] == "ok"
    assert summary.status_code == 200, summary.text
    assert summary.json()["entity"]["id"] == "shop"


def test_a_request_waiting_for_the_rest_of_the_copy_leaves_the_summaries_answering(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The summaries are served as soon as their tables are loaded; the overview waits for the rest of the copy. While
    it does, a summary and a health check are answered, and the overview once the rest is loaded."""
    lake, settings = estate_lake(tmp_path)
    build(lake, settings, mode="full", as_of=AS_OF)
    reached, release = held(monkeypatch, "_define_rest")
    app = create_app(api_settings(tmp_path), settings, down_sources())
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get(SUMMARY, headers=READER).status_code == 200  # the summaries' tables loaded first
        overview, (summary, health) = answered_while_waiting(
            client, OVERVIEW, reached, release, SUMMARY, "/monitoring/health"
        )
    assert summary.status_code == 200, summary.text
    assert summary.json()["entity"]["id"] == "shop"
    assert health.status_code == 200, health.text
    assert overview.status_code == 200, overview.text
    assert overview.json()["estateHealth"]["applications"] >= 1
