"""A cursor is opaque, but a client can decode and rewrite it. One whose last value was replaced by a lone surrogate
("\\ud800" in its JSON: no character, and not UTF-8) kept its build, mapping and list, passed the cursor's checks and
failed in DuckDB as the query bound it: a 500. A cursor the route never gave is a 422 naming `cursor`."""

from __future__ import annotations

import base64
import json

import pytest
from fastapi.testclient import TestClient

from tests.integration.api.conftest import READER, get_json

ROUTES = [
    "/monitoring/kpis/incidents?period=last_30d",
    "/monitoring/kpis/slo?period=last_30d",
    "/monitoring/applications/shop/incidents?status=all&period=last_30d",
    "/monitoring/applications/shop/changes?period=last_30d",
    "/monitoring/applications/shop/deployments?mode=history&period=last_30d",
]


def with_last_value(cursor: str, value: str) -> str:
    """`cursor` with its last value replaced, written back as the API writes its cursors."""
    values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    written = json.dumps([*values[:-1], value], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(written).decode().rstrip("=")


@pytest.mark.parametrize("route", ROUTES)
def test_a_cursor_whose_last_value_is_a_lone_surrogate_is_a_422_naming_the_cursor(
    client: TestClient, route: str
) -> None:
    given = get_json(client, f"{route}&limit=1")["page"]["nextCursor"]
    assert given, "the first page has a next one"
    cursor = with_last_value(given, "\ud800")
    assert "\\ud800" in base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()

    refused = client.get(f"{route}&limit=1&cursor={cursor}", headers=READER)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["errors"][0]["parameter"] == "cursor"
