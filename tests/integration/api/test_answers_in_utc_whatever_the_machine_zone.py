"""The API's instants are UTC ('Z') on a machine whose zone is not: the demo and `rosetta-monitoring api` run on
laptops in Auckland or Los Angeles, and DuckDB starts every cursor in the machine's zone.

DuckDB reads the machine's zone once per process, so the API is served by a child process started with TZ set,
over the lake the estate fixture built."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lakehouse.settings import Settings

REPO = Path(__file__).resolve().parents[3]

# Serves the app over the lake at argv[1] and prints the answers of the routes after it, one JSON line each.
SERVE_AND_ASK = """
import json, sys
from pathlib import Path
from fastapi.testclient import TestClient
from functions.api.main import create_app
from lakehouse.settings import Settings
from tests.integration.api.conftest import READER, api_settings, down_sources

root = Path(sys.argv[1])
settings = Settings(lake_url=str(root / "lake"), duckdb_temp_directory=root / "duckdb-child")
with TestClient(create_app(api_settings(root / "child"), settings, down_sources())) as client:
    for route in sys.argv[2:]:
        response = client.get(route, headers=READER)
        print(json.dumps({"status": response.status_code, "body": response.json()}))
"""


def answers_in_zone(root: Path, zone: str, routes: list[str]) -> list[dict]:
    env = {**os.environ, "TZ": zone, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", SERVE_AND_ASK, str(root), *routes],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    answers = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert [a["status"] for a in answers] == [200] * len(routes), answers
    return [a["body"] for a in answers]


@pytest.mark.parametrize("zone", ["Pacific/Auckland", "America/Los_Angeles"])
def test_instants_read_from_the_mart_are_given_in_utc(estate_lake: tuple[Settings, Path], zone: str) -> None:
    """The estate's INC2 was opened at 08:00 UTC on 18 Nov, its ArgoCD deployment 3 finished at 13:00 UTC
    on 19 Nov, and the timeseries' last 24 hours before the as-of 10:00 UTC on 20 Nov start at 10:00 UTC on 19 Nov:
    each is said as that UTC time, ending in Z, whatever the zone of the machine serving it."""
    _, root = estate_lake
    incidents, deployments, timeseries = answers_in_zone(
        root,
        zone,
        [
            "/monitoring/applications/shop/incidents?status=open",
            "/monitoring/applications/shop/deployments?mode=history",
            "/monitoring/applications/shop/timeseries?metric=latency_p95",
        ],
    )
    assert [(i["number"], i["openedAt"]) for i in incidents["items"]] == [("INC2", "2026-11-18T08:00:00Z")]
    finished = {d["deploymentKey"]: d["finishedAt"] for d in deployments["items"]}
    assert finished["argocd:shop-api-prod:3"] == "2026-11-19T13:00:00Z"
    assert timeseries["points"][0]["t"] == "2026-11-19T10:00:00Z"
