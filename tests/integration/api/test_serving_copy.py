"""The serving copy loads the summary's tables first: the summary answers while the rest is still coming."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from functions.api import mart as serving
from functions.api.main import create_app
from lakehouse.settings import Settings
from tests.integration.api.conftest import READER, api_settings, down_sources


def test_the_summary_answers_before_the_rest_of_the_copy_is_loaded(
    estate_lake: tuple[Settings, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, _ = estate_lake
    release = threading.Event()
    define_rest = serving.ServingMart._define_rest

    def held_back(self: serving.ServingMart, *args: object) -> None:
        release.wait(30)
        define_rest(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(serving.ServingMart, "_define_rest", held_back)
    monkeypatch.setattr(serving, "LOAD_WAIT_S", 0.2)
    app = create_app(api_settings(tmp_path), settings, down_sources())
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            summary = client.get("/monitoring/applications/shop/summary", headers=READER)
            assert summary.status_code == 200, summary.text
            body = summary.json()
            # The same figures as with the whole copy (test_endpoints.test_summary_of_shop).
            assert body["goldenSignals"]["requests"] == 14 * 1000 + 14 * 500
            assert body["incidents"]["openP1P2"] == 1 and body["risk"]["riskScore"] == 50
            assert body["lastDeployments"][0]["deploymentKey"] == "argocd:shop-api-prod:3"
            component = client.get("/monitoring/components/shop-db/summary", headers=READER)
            assert component.status_code == 200 and component.json()["incidents"]["open"] == 1
            # shop-db served 500 requests an hour for 14 of the 24 hours before as_of.
            assert component.json()["goldenSignals"]["requests"] == 14 * 500
            # Other routes wait for the rest; past the wait they say so rather than answer from half a copy.
            waiting = client.get("/monitoring/applications/shop/changes", headers=READER)
            assert waiting.status_code == 503
            assert waiting.headers["content-type"] == "application/problem+json"
            release.set()
            monkeypatch.setattr(serving, "LOAD_WAIT_S", 30.0)
            changes = client.get("/monitoring/applications/shop/changes", headers=READER)
            assert changes.status_code == 200, changes.text
            # Loaded: the last day's signals now come from the copy's precomputed table, and agree.
            for route, first in (
                ("/monitoring/applications/shop/summary", summary),
                ("/monitoring/components/shop-db/summary", component),
            ):
                again = client.get(route, headers=READER).json()["goldenSignals"]
                assert again == first.json()["goldenSignals"]
    finally:
        release.set()


def test_before_any_build_every_route_says_so_at_once(tmp_path: Path) -> None:
    settings = Settings(lake_url=str(tmp_path / "lake"), duckdb_temp_directory=tmp_path / "duckdb")
    app = create_app(api_settings(tmp_path), settings, down_sources())
    with TestClient(app, raise_server_exceptions=False) as client:
        for route in ("/monitoring/applications/shop/summary", "/monitoring/kpis/dora"):
            answer = client.get(route, headers=READER)
            assert answer.status_code == 503 and answer.json()["title"] == "No data yet"
