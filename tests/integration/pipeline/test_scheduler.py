"""The local scheduler fires what EventBridge would: ingestion since the watermark, then the build."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import yaml

from lakehouse.mappings import MappingStore, from_catalog
from lakehouse.runlog import RunLog
from lakehouse.scheduler import tick
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from simulators.estate import generate_estate
from simulators.serve import start_simulators


def test_a_round_ingests_then_builds_daily_once_a_day(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    estate = generate_estate(seed=5, apps=2, days=2, end=end)
    with start_simulators(estate) as sims:
        for name, value in sims.env().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("ROSETTA_LAKE_URL", str(tmp_path / "lake"))
        monkeypatch.setenv("ROSETTA_DUCKDB_TEMP_DIRECTORY", str(tmp_path / "duckdb"))
        monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
        monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
        lake = Lake.from_settings(Settings())
        catalog = httpx.get(f"{sims.urls['catalog']}/catalog-info.yaml", timeout=30).text
        MappingStore(lake).apply(from_catalog(list(yaml.safe_load_all(catalog)))[0], actor="test")
        said: list[str] = []
        last_daily = tick(("servicenow",), None, said.append)
        tick(("servicenow",), last_daily, said.append)
    assert last_daily == datetime.now(UTC).date()
    runs = RunLog(lake).list(limit=50)
    builds = [r for r in runs if r.function == "build_aggregates"]
    # The first build is full (no earlier build), the second hourly: the daily refresh ran once today.
    assert [(r.dataset, r.trigger) for r in reversed(builds)] == [("full", "scheduler"), ("hourly", "scheduler")]
    ingested = [r for r in runs if r.source == "servicenow" and r.status == "succeeded"]
    assert ingested and all(r.trigger == "schedule" for r in ingested)
    assert any(line.startswith("scheduled full build done") for line in said)
