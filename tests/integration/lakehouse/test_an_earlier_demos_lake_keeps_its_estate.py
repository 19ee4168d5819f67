"""The demo run on the lake folder of a demo of an earlier release, which recorded no estate (state/demo/estate.json).

The demo took the current hour as that estate's end and recorded it: run in a later hour than the earlier demo, it
loaded a second estate beside the first (19 rows in mv_deployments where a fresh lake has 10). It now finds the
estate's end and days in the window the earlier demo's ingestion read, as its run records hold it, and records them;
a lake whose run log does not tell is refused, and nothing written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import lakehouse.demo
from tests.integration.lakehouse.test_errors_and_cli import run_cli
from tests.integration.lakehouse.test_the_demo_started_again_later_keeps_one_estate import (
    DEMO,
    AnHourLater,
    deployment_events,
    lake_files,
)


def earlier_demos_lake(capsys: pytest.CaptureFixture[str], lake: Path) -> dict[str, object]:
    """A demo over 2 days on `lake`, left as a demo of an earlier release left it: without its estate's record. The
    record it wrote first, as it was."""
    assert run_cli(capsys, "--lake-url", str(lake), *DEMO, "--days", "2")[0] == 0
    record = lake / "state" / "demo" / "estate.json"
    written = json.loads(record.read_text(encoding="utf-8"))
    record.unlink()
    return written


def test_a_demo_an_hour_after_an_earlier_demo_refreshes_its_events_and_records_its_estate(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    lake = tmp_path / "lake"
    first_record = earlier_demos_lake(capsys, lake)
    first = deployment_events(lake)
    assert first, "the estate has deployments to count"

    monkeypatch.setattr(lakehouse.demo, "datetime", AnHourLater)
    code, out, err = run_cli(capsys, "--lake-url", str(lake), *DEMO, "--days", "2")
    assert code == 0, err
    assert deployment_events(lake) == first
    recorded = json.loads((lake / "state" / "demo" / "estate.json").read_text(encoding="utf-8"))
    assert recorded == {"seed": 3, "apps": 2, "days": 2, "end": first_record["end"]}
    assert "[2/6] the lake's estate of 2 applications over 2 days to " in out


def test_other_days_on_an_earlier_demos_lake_are_refused_naming_its_days(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    lake = tmp_path / "lake"
    earlier_demos_lake(capsys, lake)
    before = lake_files(lake)
    code, out, err = run_cli(capsys, "--lake-url", str(lake), *DEMO, "--days", "3")
    assert code == 2
    assert err.startswith(f"error: {lake} already holds the demo estate of seed 3 with 2 applications over 2 days to ")
    assert "give --days 2 (with --seed 3 --apps 2)" in err
    assert "[4/6]" not in out
    assert lake_files(lake) == before


def test_an_earlier_demos_lake_whose_run_log_does_not_tell_its_estate_is_refused_and_nothing_written(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Its run records gone (they expire on AWS), nothing tells the hour the estate ends: made to this hour, the
    estate would be loaded a second time beside the lake's."""
    lake = tmp_path / "lake"
    earlier_demos_lake(capsys, lake)
    for day in (lake / "runs").glob("day=*"):
        shutil.rmtree(day)
    before = lake_files(lake)
    code, out, err = run_cli(capsys, "--lake-url", str(lake), *DEMO, "--days", "2")
    assert code == 2
    assert err.startswith(f"error: {lake} holds the mapping of an earlier demo (version 1 by demo) but no record of ")
    assert "give --lake-url a folder of its own, or write state/demo/estate.json as " in err
    assert err.endswith("Nothing was written\n") and err.count("\n") == 1
    assert "[4/6]" not in out
    assert lake_files(lake) == before
