"""The listed records' links are made from the configured source URLs, which an operator may change between two
builds: a browser holding the answer's ETag must then get the new links, not a 304 keeping the old ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from lakehouse.settings import Settings
from tests.integration.api.conftest import READER, get_json
from tests.integration.api.test_records_link_to_their_source import (
    SERVICENOW,
    SERVICENOW_URL,
    api,
    estate,
    no_source_urls,
)

__all__ = ["estate", "no_source_urls"]  # that module's fixtures, used here as they are there

ROUTE = "/monitoring/applications/shop/incidents?status=all&period=last_30d"


@pytest.mark.usefixtures("no_source_urls")
def test_another_servicenow_url_is_another_etag(estate: tuple[Settings, Path]) -> None:
    with api(estate, "before", servicenow_url=SERVICENOW_URL) as client:
        before = client.get(ROUTE, headers=READER)
        assert before.status_code == 200
        etag = before.headers["etag"]
        assert client.get(ROUTE, headers=READER | {"If-None-Match": etag}).status_code == 304
    moved = "https://acme.service-now.example/other/"
    with api(estate, "after", servicenow_url=moved) as client:
        after = client.get(ROUTE, headers=READER | {"If-None-Match": etag})
        assert after.status_code == 200
        assert after.headers["etag"] != etag
        urls = [item["url"] for item in get_json(client, ROUTE)["items"]]
        assert urls and all(u.startswith("https://acme.service-now.example/other/nav_to.do?uri=") for u in urls)
        assert not any(u.startswith(SERVICENOW) for u in urls)
