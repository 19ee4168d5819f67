"""A mapping change landing while a request is answered: the answer is wholly of the mapping version it took first."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from functions.api.ids import Directory
from functions.api.main import create_app
from functions.api.mart import ServingMart
from lakehouse.aggregates.build import build
from lakehouse.mappings import MappingStore
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.integration.api.conftest import ADMIN, READER, api_settings, down_sources, get_json
from tests.unit.aggregates.estate import AS_OF, estate_lake, mapping

# Version 2 of the mapping (the estate's is 1): shop's logs are in logs-shop-*. The mart is built under it.
SHOP_LOGS = {
    "entity_id": "shop",
    "kind": "application",
    "team": "t1",
    "group": "g1",
    "domain": "d1",
    "elisa_index": "logs-shop-*",
}
# Version 3, imported while a request is answered: shop-api moves to a new application, shop2, whose logs are in
# logs-shop2-*.
SHOP2 = {"entity_id": "shop2", "kind": "application", "team": "t9", "elisa_index": "logs-shop2-*"}
SHOP_API = next(e for e in mapping() if e["entity_id"] == "shop-api")


def _lake_built_under_version_2(root: Path) -> tuple[Lake, Settings]:
    lake, settings = estate_lake(root)
    MappingStore(lake).apply([SHOP_LOGS], actor="alice")
    build(lake, settings, mode="full", as_of=AS_OF)
    return lake, settings


def _client(root: Path, settings: Settings) -> TestClient:
    api = api_settings(root).model_copy(
        update={"kibana_data_views": {"logs-shop-*": "view-shop", "logs-shop2-*": "view-shop2"}}
    )
    return TestClient(create_app(api, settings, down_sources()), raise_server_exceptions=False)


def _import_once_environment_resolved(
    monkeypatch: pytest.MonkeyPatch, lake: Lake, serving: ServingMart
) -> Callable[[], None]:
    """Once the next request has resolved its environment (its first read of the mapping), version 3 is imported
    (`rosetta-monitoring mappings import`) and the API's check takes it up, before the request reads the mapping
    again. Returns a check that the swap did happen."""
    resolve = Directory.resolve_environment
    swapped: list[int] = []

    def then_imported(self: Directory, environment: str | None) -> str:
        found = resolve(self, environment)
        monkeypatch.setattr(Directory, "resolve_environment", resolve)
        moved = SHOP_API | {"application_id": "shop2"}
        swapped.append(MappingStore(lake).apply([SHOP2, moved], actor="bob", note="shop-api to shop2").version)
        assert serving.refresh(force=True)
        return found

    monkeypatch.setattr(Directory, "resolve_environment", then_imported)

    def happened() -> None:
        assert swapped == [3] and serving.snapshot().directory.version == 3

    return happened


def _freshness(body: dict[str, Any]) -> tuple[int, int]:
    return body["freshness"]["mappingVersion"], body["freshness"]["buildMappingVersion"]


def test_a_components_logs_link_is_of_the_mapping_version_it_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under version 2 shop-api is shop's and has no index of its own: its link opens shop's logs-shop-*. Under
    version 3 it is shop2's, whose logs are in logs-shop2-*. A link answered while version 3 lands is one or the
    other, never shop's index said to be version 3's."""
    lake, settings = _lake_built_under_version_2(tmp_path)
    with _client(tmp_path, settings) as client:
        swapped = _import_once_environment_resolved(monkeypatch, lake, client.app.state.context.mart)  # type: ignore[attr-defined]
        during = get_json(client, "/monitoring/components/shop-api/logs/link")
        swapped()
        assert (during["freshness"]["mappingVersion"], during["indexPattern"], during["dataViewId"]) == (
            2,
            "logs-shop-*",
            "view-shop",
        )
        after = get_json(client, "/monitoring/components/shop-api/logs/link")
        assert (after["freshness"]["mappingVersion"], after["indexPattern"], after["dataViewId"]) == (
            3,
            "logs-shop2-*",
            "view-shop2",
        )


def test_an_application_summary_lists_the_components_its_figures_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """shop-api stands for its application. Under version 2 that is shop, with shop-api and shop-db, whose figures
    the build counted: 1000 requests an hour from shop-api and 500 from shop-db for 14 of the 24 hours before the
    as-of, 21,000. Answered while version 3 moves shop-api away, the summary is still version 2's whole: shop with
    both components and their 21,000 requests, not shop-db alone beside shop-api's requests."""
    lake, settings = _lake_built_under_version_2(tmp_path)
    with _client(tmp_path, settings) as client:
        swapped = _import_once_environment_resolved(monkeypatch, lake, client.app.state.context.mart)  # type: ignore[attr-defined]
        during = client.get("/monitoring/applications/shop-api/summary", headers=READER)
        swapped()
        assert during.status_code == 200, during.text
        body = during.json()
        assert body["entity"]["id"] == "shop"
        assert body["entity"]["components"] == ["shop-api", "shop-db"]
        assert body["goldenSignals"]["requests"] == 14 * 1000 + 14 * 500
        assert _freshness(body) == (2, 2)
        # Its ETag is version 2's too: sent back now that version 3 is served, it is not taken for the new answer.
        again = client.get(
            "/monitoring/applications/shop/summary", headers=READER | {"If-None-Match": during.headers["etag"]}
        )
        assert again.status_code == 200
        assert again.json()["entity"]["components"] == ["shop-db"] and _freshness(again.json()) == (3, 2)


def test_an_answer_says_when_its_figures_predate_the_mapping_it_resolved_ids_with(tmp_path: Path) -> None:
    """The mart is built under version 2. An admin then onboards newapp (version 3): the API resolves it at once,
    but no build has counted anything of it yet, and the answer says so: mappingVersion 3, buildMappingVersion 2.
    After the next build both are 3."""
    lake, settings = _lake_built_under_version_2(tmp_path)
    with _client(tmp_path, settings) as client:
        before = get_json(client, "/monitoring/kpis/slo")
        assert _freshness(before) == (2, 2)
        onboarding = {"entries": [{"entity_id": "newapp", "kind": "application", "team": "t9"}]}
        assert client.post("/monitoring/admin/mappings", headers=ADMIN, json=onboarding).status_code == 201
        summary = get_json(client, "/monitoring/applications/newapp/summary")
        assert summary["entity"]["id"] == "newapp" and _freshness(summary) == (3, 2)
        build(lake, settings, mode="full", as_of=AS_OF)
        assert client.app.state.context.mart.refresh(force=True)  # type: ignore[attr-defined]
        assert _freshness(get_json(client, "/monitoring/applications/newapp/summary")) == (3, 3)
