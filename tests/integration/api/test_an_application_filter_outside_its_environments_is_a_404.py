"""A report's `app` filter in an environment the application is not mapped in is the 404 its own routes answer there,
not an empty report: a page about quiet in staging would otherwise read 'nothing to report', as if quiet ran in
staging without an incident, a change or a request. An application is in every environment one of its components is
mapped in, as on its routes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.integration.api.conftest import READER, api_built_as_of, by_id, with_shop_api_in_staging
from tests.unit.aggregates.estate import estate_lake, mapping

REPORTS = [
    "/monitoring/kpis/slo?groupBy=app",
    "/monitoring/kpis/dora?groupBy=app",
    "/monitoring/kpis/incidents?groupBy=app",
    "/monitoring/kpis/changes?groupBy=app",
    "/monitoring/risk/top?metric=incidents",
]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The hand-made estate with shop's component shop-api mapped in staging too (SERVICE-S, 10 requests an hour on
    the 19th); quiet is mapped in production only."""
    root = tmp_path_factory.mktemp("app-filter-environment")
    lake, settings = estate_lake(root)
    with_shop_api_in_staging(lake, mapping())
    with api_built_as_of(root, lake, settings) as c:
        yield c


@pytest.mark.parametrize("report", REPORTS)
def test_an_application_not_mapped_in_the_environment_is_a_404(client: TestClient, report: str) -> None:
    response = client.get(f"{report}&app=quiet&environment=staging", headers=READER)
    assert response.status_code == 404, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["detail"] == "'quiet' is not mapped in environment 'staging'"
    # The same answer as quiet's own route there.
    own = client.get("/monitoring/applications/quiet/summary?environment=staging", headers=READER)
    assert (own.status_code, own.json()["detail"]) == (404, response.json()["detail"])


@pytest.mark.parametrize("report", REPORTS)
def test_the_same_filter_where_it_is_mapped_answers_its_rows(client: TestClient, report: str) -> None:
    """quiet in production: its report rows, every one of them quiet's."""
    response = client.get(f"{report}&app=quiet", headers=READER)
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert items and {r.get("id", r.get("appId")) for r in items} == {"quiet"}


def test_an_application_mapped_in_staging_by_a_component_alone_keeps_its_staging_row(client: TestClient) -> None:
    """shop has no entry of its own in staging, only shop-api's: its staging SLO row is SERVICE-S's 24 h x 10."""
    response = client.get("/monitoring/kpis/slo?groupBy=app&app=shop&environment=staging", headers=READER)
    assert response.status_code == 200, response.text
    assert by_id(response.json())["shop"]["availabilityDenominator"] == 240
