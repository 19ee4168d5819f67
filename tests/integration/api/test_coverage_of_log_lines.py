"""GET /monitoring/admin/mappings/coverage lists the log lines the mapping leaves out, on the hand-made estate with
shop's index logs-shop-* and 24 hours of ERROR lines on the 19th: shop-api in production 5 an hour, shop-checkout-v2
(no entity) in production 50 an hour, shop-api in prod (no environment of the mapping) 7 an hour."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from functions.api.main import create_app
from tests.integration.api.conftest import ADMIN, api_settings, down_sources
from tests.unit.aggregates.test_coverage_of_log_lines import the_reviews_day


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root: Path = tmp_path_factory.mktemp("log-lines-coverage")
    _, settings = the_reviews_day(root)
    with TestClient(create_app(api_settings(root), settings, down_sources()), raise_server_exceptions=False) as c:
        yield c


def test_an_admin_sees_the_log_lines_the_mapping_attributes(client: TestClient) -> None:
    response = client.get("/monitoring/admin/mappings/coverage", headers=ADMIN)
    assert response.status_code == 200, response.text
    kinds = {k["recordKind"]: k for k in response.json()["kinds"]}
    assert list(kinds) == ["incident", "change", "deployment", "log_line"]
    lines = kinds["log_line"]
    # 24 x (5 + 50 + 7) = 1,488 lines; shop-api's in production, 24 x 5 = 120, are counted in the golden signals.
    assert (lines["records"], lines["attributed"], lines["unattributed"]) == (1488, 120, 1368)
    assert lines["attributedShare"] == 120 / 1488


def test_the_unmapped_log_lines_name_the_service_and_environment_logged(client: TestClient) -> None:
    response = client.get("/monitoring/admin/mappings/coverage?recordKind=log_line", headers=ADMIN)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["unmappedTotal"] == 2
    listed = [
        (u["recordKind"], u["keyKind"], u["key"], u["environment"], u["records"], u["latestRecord"])
        for u in body["unmapped"]
    ]
    assert listed == [
        ("log_line", "elisa_service", "logs-shop-*|shop-checkout-v2", "production", 1200, None),
        ("log_line", "elisa_service", "logs-shop-*|shop-api", "prod", 168, None),
    ]
    first = body["unmapped"][0]
    assert (first["firstSeen"], first["lastSeen"]) == ("2026-11-19T00:00:00Z", "2026-11-19T23:00:00Z")
