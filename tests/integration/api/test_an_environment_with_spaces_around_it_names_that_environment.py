"""`environment` pasted with a space before or after it (` production`, `production `, from a dashboard variable or
a copied link) reads that environment, as `production` does, not the 404 of an environment no entry is mapped in.
Spaces alone name nothing: the 422 of `environment=` given empty."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.integration.api.conftest import READER, api_built_as_of, assert_parameter_refused, by_id
from tests.unit.aggregates.estate import estate_lake

SLO = "/monitoring/kpis/slo?period=last_7d&groupBy=app"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("environment-spaces")
    lake, settings = estate_lake(root)
    with api_built_as_of(root, lake, settings) as c:
        yield c


@pytest.mark.parametrize("spelling", ["%20production", "production%20", "%20%20Production%20"])
def test_production_with_spaces_around_it_reads_production(client: TestClient, spelling: str) -> None:
    """shop's production week: 24 h x 1000 requests of shop-api and 20 h x 500 of shop-db, 34,000, 124 failed."""
    response = client.get(f"{SLO}&environment={spelling}", headers=READER)
    assert response.status_code == 200, response.text
    assert response.json()["environment"] == "production"
    shop = by_id(response.json())["shop"]
    assert (shop["availabilityDenominator"], shop["badRequests"]) == (34_000, 124)


def test_an_application_summary_takes_the_environment_with_a_space_after_it(client: TestClient) -> None:
    response = client.get("/monitoring/applications/shop/summary?environment=production%20", headers=READER)
    assert response.status_code == 200, response.text
    assert response.json()["entity"]["environment"] == "production"


def test_spaces_alone_are_refused_as_an_empty_environment(client: TestClient) -> None:
    assert_parameter_refused(client.get(f"{SLO}&environment=%20%20", headers=READER), "environment")
