"""The demo's API keys: a reader key for Backstage's proxy entry and for reading, an admin key for the admin routes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from functions.api.main import create_app
from lakehouse.demo import ADMIN_KEY, READER_KEY, api_keys_setting, new_api_keys, try_lines
from lakehouse.settings import Settings

BASE = "http://127.0.0.1:8000"
# A printed line: the key's variable and the route it is sent to.
CURL = re.compile(r'X-API-Key: \$(?P<variable>\w+)" "?' + re.escape(BASE) + r'(?P<path>/[^"?\s]*)')


def test_the_printed_curl_lines_send_the_admin_key_only_to_admin_routes() -> None:
    """The plugin's README says the proxy entry needs a reader-only key; the demo wrote one key, with both roles, and
    every printed line sent it. The read routes' lines now send the reader key, the admin route's line the admin key."""
    lines = try_lines(BASE, "profiles")
    calls = [m.groupdict() for line in lines if (m := CURL.search(line))]
    assert len(calls) == len(lines) == 4
    assert calls == [
        {"variable": READER_KEY, "path": "/monitoring/overview"},
        {"variable": READER_KEY, "path": "/monitoring/applications/profiles/summary"},
        {"variable": READER_KEY, "path": "/monitoring/kpis/dora"},
        {"variable": ADMIN_KEY, "path": "/monitoring/admin/batch-runs"},
    ]


def test_the_reader_key_is_refused_the_admin_routes_and_the_admin_key_is_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The API as the demo configures it, through its ASGI app on an empty lake: the run log is an admin route."""
    keys = new_api_keys()
    assert [k.variable for k in keys] == [READER_KEY, ADMIN_KEY]
    assert len({k.value for k in keys}) == 2
    monkeypatch.setenv("ROSETTA_API_API_KEYS", api_keys_setting(keys))
    monkeypatch.setenv("ROSETTA_API_LOCAL_DIR", str(tmp_path / "api"))
    settings = Settings(lake_url=str(tmp_path / "lake"), duckdb_temp_directory=tmp_path / "duckdb")
    value = {k.variable: k.value for k in keys}
    assert value[READER_KEY] not in api_keys_setting(keys)  # digests only
    with TestClient(create_app(settings=settings), raise_server_exceptions=False) as client:
        runs = "/monitoring/admin/batch-runs"
        assert client.get(runs, headers={"X-API-Key": value[READER_KEY]}).status_code == 403
        answer = client.get(runs, headers={"X-API-Key": value[ADMIN_KEY]})
        assert (answer.status_code, answer.json()["items"]) == (200, [])
        # The reader key passes authorization on a read route (an unbuilt mart is another answer than 401 or 403).
        assert client.get("/monitoring/overview", headers={"X-API-Key": value[READER_KEY]}).status_code not in (
            401,
            403,
        )
