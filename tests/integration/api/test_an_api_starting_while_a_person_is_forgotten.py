"""`forget` holds the build's lease while it rewrites raw days and landing pages, so that no build starts meanwhile.
An API instance starting then (a new Lambda sandbox, a restarted server) read that lease as a build putting its tables
and answered 503 to every request for the whole run, though forget writes neither the mart nor the build's state.
A build's lease still keeps a new instance waiting: that build may be landing its objects."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from functions.api.main import create_app
from lakehouse.aggregates import lease
from lakehouse.aggregates.build import build
from lakehouse.forget import forget
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.integration.api.conftest import READER, api_settings, down_sources
from tests.unit.aggregates.estate import AS_OF, write_estate

SHOP = "/monitoring/applications/shop/summary"


def test_an_api_instance_starting_while_a_person_is_forgotten_answers_from_the_mart(
    local_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake = Lake.from_settings(local_settings)
    write_estate(lake)
    run_id = build(lake, local_settings, mode="full", as_of=AS_OF).run_id
    lake.put_landing(
        "argocd", "app_status", "run-1", 1, {"items": [{"initiatedBy": {"username": "jane"}}]}, AS_OF.date()
    )
    read = Lake.read_landing_text
    answers: list[tuple[int, Any]] = []

    def read_with_an_api_starting(self: Lake, key: str) -> str | None:
        app = create_app(api_settings(tmp_path / f"api-{len(answers)}"), local_settings, down_sources())
        with TestClient(app) as client:
            response = client.get(SHOP, headers=READER)
            answers.append((response.status_code, response.json()))
        return read(self, key)

    monkeypatch.setattr(Lake, "read_landing_text", read_with_an_api_starting)
    outcome = forget(lake, "jane", say=lambda _: None)
    assert outcome.run_id is not None
    assert [code for code, _ in answers] == [200]
    assert answers[0][1]["freshness"]["buildRunId"] == run_id


def test_a_new_api_instance_waits_while_a_build_holds_the_lake(local_settings: Settings, tmp_path: Path) -> None:
    lake = Lake.from_settings(local_settings)
    write_estate(lake)
    build(lake, local_settings, mode="full", as_of=AS_OF)
    running = lease.take(lake, "schedule", timedelta(minutes=5))
    assert lease.build_running(lake) is True
    app = create_app(api_settings(tmp_path), local_settings, down_sources())
    with TestClient(app) as client:
        refused = client.get(SHOP, headers=READER)
    lease.release(lake, running)
    assert refused.status_code == 503
    assert refused.headers["content-type"].startswith("application/problem+json")
