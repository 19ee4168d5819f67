"""The copy a new build replaces is retired a minute later, as requests may still read it; an API ending within that
minute (uvicorn stopped, a demo closed) left it on disk, with every row it held: a person forgotten and a full build
served still had theirs there. A process ending normally now removes the copies it retired.

The API runs in a child process over the hand-made estate: it serves the first build, reloads after a second one,
and ends at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from lakehouse.aggregates.build import build
from tests.unit.aggregates.estate import AS_OF, estate_lake

REPO = Path(__file__).resolve().parents[3]

# Serves the lake at argv[1], reloads after an hourly build, and prints the two copies' folders, one JSON line.
SERVE_RELOAD_AND_END = """
import json, sys
from datetime import timedelta
from pathlib import Path
from fastapi.testclient import TestClient
from functions.api.main import create_app
from lakehouse.aggregates.build import build
from lakehouse.schemas import get_dataset
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.integration.api.conftest import READER, api_settings, down_sources
from tests.unit.aggregates.estate import AS_OF, rows

root = Path(sys.argv[1])
settings = Settings(lake_url=str(root / "lake"), duckdb_temp_directory=root / "duckdb")
lake = Lake.from_settings(settings)
app = create_app(api_settings(root), settings, down_sources())
serving = app.state.context.mart
with TestClient(app) as client:
    assert client.get("/monitoring/applications/shop/summary", headers=READER).status_code == 200
    first = serving.snapshot()
    assert first.complete.wait(timeout=60)
    metrics = get_dataset("dynatrace/service_metrics_hourly")
    lake.write_days(metrics, rows(metrics.id, {"entity_id": "SERVICE-A", "hour": AS_OF, "request_count": 700.0}))
    build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=1))
    assert serving.refresh(force=True)
    second = serving.snapshot()
    assert client.get("/monitoring/applications/shop/summary", headers=READER).status_code == 200
    print(json.dumps({"first": first.folder.name, "second": second.folder.name, "first_kept": first.folder.is_dir()}))
"""


def test_a_retired_serving_copy_goes_when_the_process_ends(tmp_path: Path) -> None:
    """By hand: the child loads one copy, then a second after the new build; the first is still on disk when the
    second serves (it is retired a minute later), and once the child has ended only the second is left."""
    lake, settings = estate_lake(tmp_path)
    build(lake, settings, mode="full", as_of=AS_OF)
    done = subprocess.run(
        [sys.executable, "-c", SERVE_RELOAD_AND_END, str(tmp_path)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    (said,) = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert said["first"] != said["second"]
    assert said["first_kept"]  # the process ended within the minute the replaced copy is kept
    assert sorted(p.name for p in (tmp_path / "api").iterdir()) == [said["second"]]
