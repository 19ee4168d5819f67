"""An application whose mapping entry gives no name is shown by its id in the incidents and changes reports, as the
ranking (risk/top) shows it, where those reports said no name at all. The hand-made estate
(tests/unit/aggregates/estate.py) names none of its applications; shop is given "Shop" here."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from lakehouse.mappings import MappingStore
from tests.integration.api.conftest import api_built_as_of, get_json
from tests.unit.aggregates.estate import estate_lake


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("unnamed-application")
    lake, settings = estate_lake(root)
    shop = {"entity_id": "shop", "kind": "application", "name": "Shop", "team": "t1", "group": "g1", "domain": "d1"}
    MappingStore(lake).apply([shop], actor="test")
    with api_built_as_of(root, lake, settings) as c:
        yield c


@pytest.mark.parametrize("report", ["incidents", "changes"])
def test_a_report_by_application_names_an_unnamed_one_by_its_id(client: TestClient, report: str) -> None:
    items = get_json(client, f"/monitoring/kpis/{report}?groupBy=app&period=last_30d")["items"]
    assert {r["id"]: r["name"] for r in items} == {"broken": "broken", "quiet": "quiet", "shop": "Shop"}


def test_the_ranking_names_them_the_same(client: TestClient) -> None:
    items = get_json(client, "/monitoring/risk/top?metric=incidents&period=last_30d")["items"]
    assert {r["appId"]: r["appName"] for r in items} == {"broken": "broken", "quiet": "quiet", "shop": "Shop"}
