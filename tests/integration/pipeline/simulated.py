"""A lake fed by the simulators, as the pipeline tests start one: the simulators serving an estate, the process's
settings pointed at them and at a lake of its own, and the lake holding the estate's catalog as its mapping."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from lakehouse.mappings import MappingStore, from_catalog
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from simulators.estate import Estate
from simulators.serve import RunningSimulators, start_simulators


@contextmanager
def simulated_lake(
    root: Path, estate: Estate, extra_entries: Sequence[dict[str, Any]] = ()
) -> Iterator[tuple[RunningSimulators, Settings, Lake]]:
    """The running simulators, the settings and the lake under `root`, its mapping the catalog's entries and
    `extra_entries`; the environment is set back when the block ends."""
    with pytest.MonkeyPatch.context() as env, start_simulators(estate) as sims:
        for name, value in sims.env().items():
            env.setenv(name, value)
        env.setenv("ROSETTA_LAKE_URL", str(root / "lake"))
        env.setenv("ROSETTA_DUCKDB_TEMP_DIRECTORY", str(root / "duckdb"))
        env.setenv("POWERTOOLS_TRACE_DISABLED", "true")
        env.setenv("POWERTOOLS_METRICS_DISABLED", "true")
        settings = Settings()
        lake = Lake.from_settings(settings)
        catalog = httpx.get(f"{sims.urls['catalog']}/catalog-info.yaml", timeout=30).text
        entries, problems = from_catalog(list(yaml.safe_load_all(catalog)))
        assert problems == []
        MappingStore(lake).apply([*entries, *extra_entries], actor="test")
        yield sims, settings, lake


def handler_of(name: str) -> Any:
    """The Lambda handler of the function `name` (ingest_dynatrace, build_aggregates, ...)."""
    return __import__(f"functions.{name}.handler", fromlist=["handler"]).handler
