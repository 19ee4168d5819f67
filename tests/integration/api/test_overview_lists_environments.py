"""The overview names the estate's environments and its production one, so that Backstage's estate pages can offer
a choice of them: an estate whose production is named `prod`, with shop also mapped in staging and its shop-db
component in pre-production."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from functions.api.main import create_app
from lakehouse.aggregates.build import build
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.integration.api.conftest import api_settings, down_sources, get_json
from tests.unit.aggregates.estate import AS_OF, write_estate_in

SHOP = {"entity_id": "shop", "kind": "application", "team": "t1", "group": "g1", "domain": "d1"}
SHOP_DB = {"entity_id": "shop-db", "kind": "component", "application_id": "shop"}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("environments-estate")
    settings = Settings(
        lake_url=str(root / "lake"), duckdb_temp_directory=root / "duckdb", production_environment="prod"
    )
    lake = Lake.from_settings(settings)
    write_estate_in(lake, "prod", SHOP | {"environment": "staging"}, SHOP_DB | {"environment": "pre-production"})
    build(lake, settings, mode="full", as_of=AS_OF)
    with TestClient(create_app(api_settings(root), settings, down_sources()), raise_server_exceptions=False) as c:
        yield c


def test_the_overview_lists_every_mapped_environment_sorted(client: TestClient) -> None:
    """Every entry of the estate is in prod; shop is also in staging and shop-db in pre-production: three
    environments, in alphabetical order, and prod is the production one."""
    body = get_json(client, "/monitoring/overview")
    assert body["environments"] == ["pre-production", "prod", "staging"]
    assert (body["environment"], body["productionEnvironment"]) == ("prod", "prod")


def test_the_list_is_the_same_whichever_environment_is_asked_for(client: TestClient) -> None:
    body = get_json(client, "/monitoring/overview?environment=staging")
    assert body["environments"] == ["pre-production", "prod", "staging"]
    assert (body["environment"], body["productionEnvironment"]) == ("staging", "prod")


def test_every_listed_environment_is_one_the_reports_take(client: TestClient) -> None:
    """What the estate pages offer must be what the reports answer for, never a 404."""
    listed = get_json(client, "/monitoring/overview")["environments"]
    assert len(listed) == 3
    for environment in listed:
        report = get_json(client, f"/monitoring/kpis/dora?groupBy=app&environment={environment}")
        assert report["environment"] == environment
