"""A run that could not start (a build with no mapping yet, an ingestion whose source is not configured) is written
to the run log failed from its first write. It was written "running", then "failed": a reader in between (the admin
API's batch runs, a trigger waiting to say whether its run failed at once) read a run under way that was not, and a
trigger answered 202 "started" for a build that had already failed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lakehouse.aggregates.build import build
from lakehouse.errors import RosettaError
from lakehouse.ingest.config import IngestSettings
from lakehouse.ingest.sources import ingest
from lakehouse.runlog import RunLog
from lakehouse.settings import Settings
from lakehouse.storage import Lake


def run_log_writes(lake: Lake, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every run record the lake is given (runs/day=.../<run id>.json), in the order it is given them."""
    written: list[dict[str, Any]] = []
    put_json = lake.put_json

    def recording(key: str, value: Any, *args: Any, **kwargs: Any) -> Any:
        if key.startswith("runs/day="):
            written.append(dict(value))
        return put_json(key, value, *args, **kwargs)

    monkeypatch.setattr(lake, "put_json", recording)
    return written


def test_a_build_with_no_mapping_is_written_failed_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(lake_url=str(tmp_path / "lake"), duckdb_temp_directory=tmp_path / "duckdb")
    lake = Lake.from_settings(settings)
    written = run_log_writes(lake, monkeypatch)

    with pytest.raises(RosettaError, match=r"^no mapping"):
        build(lake, settings, mode="hourly", trigger="api:abc123")

    assert [(w["function"], w["status"], w["trigger"]) for w in written] == [
        ("build_aggregates", "failed", "api:abc123")
    ]
    (record,) = RunLog(lake).list(limit=10)
    assert (record.status, record.dataset, record.finished_at) == ("failed", "hourly", record.started_at)
    assert record.error is not None and record.error.startswith("no mapping")


def test_an_ingestion_whose_source_is_not_configured_is_written_failed_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ROSETTA_SERVICENOW_URL", raising=False)
    lake = Lake.from_settings(Settings(lake_url=str(tmp_path / "lake"), duckdb_temp_directory=tmp_path / "duckdb"))
    written = run_log_writes(lake, monkeypatch)

    with pytest.raises(RosettaError, match="ROSETTA_SERVICENOW_URL"):
        ingest("servicenow", lake, IngestSettings().resolved(), trigger="api:abc123")

    assert [(w["source"], w["status"]) for w in written] == [("servicenow", "failed")]
    (record,) = RunLog(lake).list(limit=10)
    assert record.status == "failed" and record.finished_at == record.started_at
    assert record.error is not None and "ROSETTA_SERVICENOW_URL" in record.error
