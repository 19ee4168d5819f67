"""An estate whose production environment is named `prod`, as its GitLab names it, served with
ROSETTA_PRODUCTION_ENVIRONMENT=prod: a request naming no environment reads prod, and the risk scores, which are
production's, are there."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from functions.api.main import create_app
from lakehouse.aggregates.build import build
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.integration.api.conftest import ADMIN, READER, api_settings, down_sources
from tests.unit.aggregates.estate import AS_OF, write_estate_in


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("prod-estate")
    settings = Settings(
        lake_url=str(root / "lake"), duckdb_temp_directory=root / "duckdb", production_environment="prod"
    )
    lake = Lake.from_settings(settings)
    write_estate_in(lake, "prod")
    build(lake, settings, mode="full", as_of=AS_OF)
    with TestClient(create_app(api_settings(root), settings, down_sources()), raise_server_exceptions=False) as c:
        yield c


def test_the_summary_reads_prod_and_carries_its_risk(client: TestClient) -> None:
    """shop's summary without an environment is prod's: 24 h x 1000 requests of shop-api and 20 h x 500 of
    shop-db on the 19th... the last 24 hours before as_of (10:00 on the 20th) hold 14 h of each; INC2, an open P1,
    makes shop red (open P1/P2 +20, two failed changes +20: a score of 40)."""
    body = client.get("/monitoring/applications/shop/summary", headers=READER).json()
    assert body["entity"]["environment"] == "prod"
    assert body["goldenSignals"]["requests"] == 14 * 1000 + 14 * 500
    assert (body["risk"]["health"], body["risk"]["riskScore"]) == ("red", 40)


def test_the_risk_ranking_and_dora_default_to_prod(client: TestClient) -> None:
    top = client.get("/monitoring/risk/top", headers=READER)
    assert top.status_code == 200, top.text
    assert top.json()["items"][0]["appId"] == "shop"
    dora = client.get("/monitoring/kpis/dora?groupBy=app", headers=READER).json()
    shop = next(r for r in dora["items"] if r["id"] == "shop")
    # ArgoCD deployments are in the environment their application is mapped in: D1, D2, D3 (a rollback), G1
    # (failed) and G2 are prod's five attempts, as in the estate's production.
    assert (dora["environment"], shop["changeFailureDenominator"]) == ("prod", 5)


def test_production_is_an_environment_no_entry_is_mapped_in_here(client: TestClient) -> None:
    response = client.get("/monitoring/applications/shop/summary?environment=production", headers=READER)
    assert response.status_code == 404
    assert response.json()["title"] == "Unknown environment"


def test_an_admin_change_without_an_environment_is_in_prod(client: TestClient) -> None:
    """An entry posted without an environment is prod's, and a key to remove without one names prod's entry."""
    added = client.post(
        "/monitoring/admin/mappings", json={"entries": [{"entity_id": "ledger", "kind": "application"}]}, headers=ADMIN
    )
    assert added.status_code == 201, added.text
    listed = client.get("/monitoring/admin/mappings", headers=ADMIN).json()["entries"]
    assert [e["environment"] for e in listed if e["entity_id"] == "ledger"] == ["prod"]
    removed = client.post("/monitoring/admin/mappings", json={"remove": [{"entity_id": "ledger"}]}, headers=ADMIN)
    assert removed.status_code == 201, removed.text
    listed = client.get("/monitoring/admin/mappings", headers=ADMIN).json()["entries"]
    assert [e for e in listed if e["entity_id"] == "ledger"] == []
