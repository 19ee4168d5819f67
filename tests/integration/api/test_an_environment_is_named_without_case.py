"""`environment` names a mapping environment in any case: `PRODUCTION` (a dashboard variable, a GitLab environment
copied as it is spelt there) reads production. A value no entry is mapped in, whatever its characters, is the 404
naming the mapping's environments; a 422 quoting a pattern told the user neither."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.integration.api.conftest import (
    READ_ROUTES,
    READER,
    api_built_as_of,
    assert_parameter_refused,
    by_id,
    with_shop_api_in_staging,
)
from tests.unit.aggregates.estate import estate_lake, mapping

SLO = "/monitoring/kpis/slo?period=last_7d&groupBy=app"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The hand-made estate, shop with a log index (for its logs links), shop-api mapped in staging too (SERVICE-S,
    10 requests an hour on the 19th): the mapping's environments are production and staging."""
    root = tmp_path_factory.mktemp("environment-case")
    lake, settings = estate_lake(root)
    entries = [e | {"elisa_index": "logs-shop-*"} if e["entity_id"] == "shop" else e for e in mapping()]
    with_shop_api_in_staging(lake, entries)
    with api_built_as_of(root, lake, settings) as c:
        yield c


def shop_slo(client: TestClient, environment: str) -> dict:
    response = client.get(f"{SLO}&environment={environment}", headers=READER)
    assert response.status_code == 200, response.text
    return by_id(response.json())["shop"]


@pytest.mark.parametrize("spelling", ["PRODUCTION", "Production"])
def test_production_in_capitals_reads_production(client: TestClient, spelling: str) -> None:
    """shop's production week: 24 h x 1000 requests of shop-api and 20 h x 500 of shop-db, 34,000, 124 failed."""
    shop = shop_slo(client, spelling)
    assert (shop["availabilityDenominator"], shop["badRequests"]) == (34_000, 124)
    assert shop == shop_slo(client, "production")


def test_staging_in_capitals_reads_staging(client: TestClient) -> None:
    """shop's staging week: SERVICE-S's 24 h x 10 requests."""
    shop = shop_slo(client, "STAGING")
    assert shop["availabilityDenominator"] == 240
    summary = client.get("/monitoring/applications/shop/summary?environment=Staging", headers=READER)
    assert summary.status_code == 200, summary.text
    assert summary.json()["entity"]["environment"] == "staging"


def answer_at_any_time(client: TestClient, url: str) -> dict:
    """A read route's 200 answer, less what tells only when it was asked (generatedAt and the lag after the
    build)."""
    response = client.get(url, headers=READER)
    assert response.status_code == 200, response.text[:300]
    body = response.json()
    body.pop("generatedAt")
    body["freshness"].pop("lagSeconds")
    return body


@pytest.mark.parametrize("route", READ_ROUTES)
def test_every_read_route_takes_the_environment_in_capitals(client: TestClient, route: str) -> None:
    """PRODUCTION answers what production answers: the same rows and figures, not an empty report."""
    in_capitals = answer_at_any_time(client, f"{route}?environment=PRODUCTION")
    assert in_capitals == answer_at_any_time(client, f"{route}?environment=production")


def test_the_dora_report_in_capitals_has_production_s_applications(client: TestClient) -> None:
    """The estate's three applications, each mapped in production: broken, quiet and shop."""
    body = answer_at_any_time(client, "/monitoring/kpis/dora?environment=PRODUCTION")
    assert body["environment"] == "production"
    assert sorted(by_id(body)) == ["broken", "quiet", "shop"]


@pytest.mark.parametrize(
    ("value", "quoted"),
    [
        ("review/feature-x", "'review/feature-x'"),
        ("PROD", "'PROD'"),
        ("prod%27%3B%20drop", '"prod\'; drop"'),
    ],
)
def test_an_environment_not_mapped_is_a_404_naming_the_mapped_ones_on_every_read_route(
    client: TestClient, value: str, quoted: str
) -> None:
    for route in READ_ROUTES:
        response = client.get(f"{route}?environment={value}", headers=READER)
        assert response.status_code == 404, (route, response.text[:300])
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["detail"] == (
            f"no entity is mapped in environment {quoted}; the mapping's environments are production, staging"
        )


def test_an_empty_environment_is_still_refused_naming_it(client: TestClient) -> None:
    assert_parameter_refused(client.get(f"{SLO}&environment=", headers=READER), "environment")
