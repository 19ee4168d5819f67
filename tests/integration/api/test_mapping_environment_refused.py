"""The admin API refuses a mapping change naming an environment outside the estate's (ROSETTA_ENVIRONMENTS) with a
422 problem that points at the entry and names the environment meant, and writes no version."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from functions.api.main import create_app
from lakehouse.mappings import MappingStore
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.integration.api.conftest import ADMIN, api_settings, down_sources


def test_a_change_in_a_misspelt_environment_is_a_422_naming_the_one_meant(tmp_path: Path) -> None:
    settings = Settings(lake_url=str(tmp_path / "lake"), environments=["production", "staging"])
    client = TestClient(create_app(api_settings(tmp_path), settings, down_sources()), raise_server_exceptions=False)
    body = {
        "entries": [
            {"entity_id": "payments", "kind": "application", "team": "t1"},
            {"entity_id": "payments", "kind": "application", "team": "t1", "environment": "staging"},
            {"entity_id": "ledger", "kind": "application", "team": "t1", "environment": "prodution"},
        ],
        "note": "payments and ledger",
    }
    with client:
        refused = client.post("/monitoring/admin/mappings", headers=ADMIN, json=body)
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        problem = refused.json()
        assert problem["detail"] == "1 problem(s): nothing was written"
        (error,) = problem["errors"]
        assert error["parameter"] == "entries"
        assert error["detail"].startswith("entry 3 (ledger): environment: 'prodution' is not one of the estate's")
        assert error["detail"].endswith("did you mean 'production'?")
        assert MappingStore(Lake.from_settings(settings)).versions() == []

        body["entries"][2]["environment"] = "production"
        assert client.post("/monitoring/admin/mappings", headers=ADMIN, json=body).status_code == 201
