"""A backfill that cannot start (ServiceNow's settings missing here) stopped with the error and left nothing in the
run log, where a run that cannot start leaves one failed record for its source (README, Run log): the admin API's
batch runs and sources' state could not say why a requested backfill brought nothing. It is now recorded as a run's
is, under the backfill's trigger and window."""

from __future__ import annotations

from pathlib import Path

import pytest

from lakehouse.mappings import MappingStore
from lakehouse.runlog import RunLog
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.integration.lakehouse.test_errors_and_cli import run_cli


def test_a_backfill_without_its_settings_is_one_failed_record(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("ROSETTA_SERVICENOW_URL", "ROSETTA_SERVICENOW_USER", "ROSETTA_SERVICENOW_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    lake = Lake.from_settings(Settings(lake_url=str(tmp_path / "lake")))
    MappingStore(lake).apply([{"entity_id": "shop", "kind": "application"}], actor="test", replace=True)
    code, _, err = run_cli(capsys, "--lake-url", lake.url, "backfill", "servicenow", "--days", "2")
    assert code == 2 and "missing settings: ROSETTA_SERVICENOW_URL" in err
    (record,) = RunLog(lake).list()
    assert (record.function, record.source, record.dataset, record.status, record.trigger) == (
        "ingest_servicenow",
        "servicenow",
        None,
        "failed",
        "backfill",
    )
    assert record.error is not None and "missing settings: ROSETTA_SERVICENOW_URL" in record.error
    # Its window: the two whole UTC days before today, and today so far.
    assert record.window_start is not None and record.window_end is not None
    assert record.window_start.hour == 0 and (record.window_end - record.window_start).days == 2
