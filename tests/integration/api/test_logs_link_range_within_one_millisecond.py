"""Kibana's times are to the millisecond: a from/to range whose two ends fall within the same millisecond would
open Discover on a range ending before it starts, which Kibana refuses. The API says so instead, as it does for a
`to` not after `from`."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.integration.api.conftest import READER
from tests.integration.api.test_logs_link_period_end import discover_time


def test_ends_within_one_millisecond_are_refused_naming_to(client: TestClient) -> None:
    for period in (
        "from=2026-11-01T00:00:00Z&to=2026-11-01T00:00:00.0005Z",
        "from=2026-11-01T00:00:00.0002Z&to=2026-11-01T00:00:00.0009Z",
    ):
        response = client.get(f"/monitoring/applications/shop/logs/link?{period}", headers=READER)
        assert response.status_code == 422, period
        assert response.headers["content-type"].startswith("application/problem+json")
        assert "1 ms after from" in response.text


def test_ends_one_millisecond_apart_open_that_millisecond(client: TestClient) -> None:
    response = client.get(
        "/monitoring/applications/shop/logs/link?from=2026-11-01T00:00:00Z&to=2026-11-01T00:00:00.001Z", headers=READER
    )
    assert response.status_code == 200
    assert discover_time(response.json()["url"]) == {
        "from": "2026-11-01T00:00:00.000Z",
        "to": "2026-11-01T00:00:00.000Z",
    }
