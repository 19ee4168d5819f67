"""The Discover link opens exactly the period asked for: Kibana includes the instant its `to` names, the API's `to`
is excluded, so the link ends on the millisecond before it."""

from __future__ import annotations

from urllib.parse import unquote

import rison
from fastapi.testclient import TestClient

from tests.integration.api.conftest import get_json


def discover_time(url: str) -> dict:
    """The time range of a Discover link, decoded from its `_g` rison."""
    fragment = url.split("#/?", 1)[1]
    params = dict(part.split("=", 1) for part in fragment.split("&"))
    return rison.loads(unquote(params["_g"]))["time"]


def test_six_hours_asked_end_before_the_seventh_begins(client: TestClient) -> None:
    """00:00 to 06:00 on 19 November: a line stamped 06:00:00.000 is the next hour's (the log counts put it there),
    so Discover searches up to 05:59:59.999. The answer still says the period as asked."""
    period = "from=2026-11-19T00:00:00Z&to=2026-11-19T06:00:00Z"
    body = get_json(client, f"/monitoring/components/shop-api/logs/link?{period}")
    assert discover_time(body["url"]) == {"from": "2026-11-19T00:00:00.000Z", "to": "2026-11-19T05:59:59.999Z"}
    assert (body["timeFrom"], body["timeTo"]) == ("2026-11-19T00:00:00.000Z", "2026-11-19T06:00:00.000Z")


def test_a_day_asked_ends_at_its_last_millisecond_not_at_the_next_midnight(client: TestClient) -> None:
    body = get_json(client, "/monitoring/applications/shop/logs/link?from=2026-11-19&to=2026-11-20")
    assert discover_time(body["url"]) == {"from": "2026-11-19T00:00:00.000Z", "to": "2026-11-19T23:59:59.999Z"}


def test_a_relative_range_stays_kibanas_own(client: TestClient) -> None:
    body = get_json(client, "/monitoring/applications/shop/logs/link?timeRange=now-1h")
    assert discover_time(body["url"]) == {"from": "now-1h", "to": "now"}
