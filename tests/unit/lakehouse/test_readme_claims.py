"""What the README's Configuration section says a setting takes is what the code takes, and does what it says."""

from __future__ import annotations

import json
import re
from pathlib import Path

from fastapi.testclient import TestClient

from functions.api.main import create_app
from functions.api.settings import ApiSettings
from lakehouse.ingest.config import IngestSettings
from lakehouse.settings import Settings
from tests.unit.lakehouse.test_readme_settings import configuration_section


def configuration_row(variable: str) -> str:
    """The README's Configuration table row of one variable."""
    rows = [line for line in configuration_section().splitlines() if line.startswith(f"| `{variable}`")]
    assert len(rows) == 1, f"{variable}: {len(rows)} rows in the README's Configuration tables"
    return rows[0]


def test_every_cors_origins_list_the_readme_gives_is_taken_and_star_allows_any_origin(tmp_path: Path) -> None:
    """The row says which entries stop the start: `*`, which the API takes, must be among those it gives, and then
    a page on any origin may call the API."""
    row = configuration_row("ROSETTA_API_CORS_ORIGINS")
    given = [json.loads(text) for text in re.findall(r"`(\[[^`]*\])`", row)]
    assert ["https://backstage.example.org"] in given
    assert ["*"] in given, "the API takes * (any origin), which the README's row says stops the start"
    for origins in given:
        assert ApiSettings(cors_origins=origins).cors_origins == origins

    api = ApiSettings(cors_origins=["*"], local_dir=tmp_path / "api")
    settings = Settings(lake_url=str(tmp_path / "lake"), duckdb_temp_directory=tmp_path / "duckdb")
    client = TestClient(create_app(api, settings, IngestSettings()))
    preflight = {
        "Origin": "https://portal.example.com",  # an origin no setting names
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "X-API-Key",
    }
    answer = client.options("/monitoring/overview", headers=preflight)
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == "*"
