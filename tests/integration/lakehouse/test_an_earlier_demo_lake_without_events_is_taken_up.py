"""The lake of an earlier release's demo stopped after loading its mapping, before its first ingestion.

That demo recorded no estate (state/demo/estate.json) and its run log holds no ingestion, so nothing tells the hour
its estate ends: the demo refused the lake, although it holds no event to mix with another hour's. A lake holding no
raw object is now taken up: the demo makes its estate to this run's hour and records it. A lake holding raw objects
whose window nothing tells stays refused."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import pytest

import lakehouse.demo
from lakehouse.demo import DemoOptions, run_demo
from lakehouse.errors import RosettaError
from lakehouse.scheduler import invoke
from tests.integration.lakehouse.test_the_demo_started_again_later_keeps_one_estate import (
    AnHourLater,
    deployment_events,
    lake_files,
)

OPTIONS = {"seed": 3, "apps": 2, "days": 2, "serve": False}


class Stopped(Exception):
    """The earlier demo stopped (Ctrl-C, a closed terminal) at this point."""


def stopped_demos_lake(lake: Path, monkeypatch: pytest.MonkeyPatch, *, sources_ingested: int) -> None:
    """`lake` as an earlier release's demo left it when stopped after its mapping was loaded, once
    `sources_ingested` sources were ingested: its mapping, no record of its estate, no run record."""
    ingested: list[str] = []

    def stopping(name: str, *args: Any) -> dict[str, Any]:
        if name.startswith("ingest_") and len(ingested) == sources_ingested:
            raise Stopped
        ingested.append(name)
        return invoke(name, *args)

    with monkeypatch.context() as patch:
        patch.setattr(lakehouse.demo, "invoke", stopping)
        with pytest.raises(Stopped):
            run_demo(DemoOptions(lake_url=str(lake), **OPTIONS), say=lambda line: None)
    (lake / "state" / "demo" / "estate.json").unlink()  # an earlier release recorded none
    for day in (lake / "runs").glob("day=*"):
        shutil.rmtree(day)  # none was written, or it expired
    assert list((lake / "ref" / "mappings").rglob("*.parquet")), "the mapping was loaded"


def test_a_lake_stopped_before_its_first_ingestion_is_taken_up_and_its_estate_recorded(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    lake = tmp_path / "lake"
    stopped_demos_lake(lake, monkeypatch, sources_ingested=0)
    assert not (lake / "raw").exists()

    monkeypatch.setattr(lakehouse.demo, "datetime", AnHourLater)
    hour = (AnHourLater.now(UTC)).replace(minute=0, second=0, microsecond=0)
    said: list[str] = []
    assert run_demo(DemoOptions(lake_url=str(lake), **OPTIONS), say=said.append) == 0

    assert any(line.startswith("[2/6] estate of 2 applications over 2 days to ") for line in said), said
    recorded = json.loads((lake / "state" / "demo" / "estate.json").read_text(encoding="utf-8"))
    ends = [h.isoformat() for h in (hour, hour + timedelta(hours=1))]  # the hour may have turned during the run
    assert recorded in [{"seed": 3, "apps": 2, "days": 2, "end": end} for end in ends]
    events = deployment_events(lake)
    assert events and len({row[0] for row in events}) == len(events)  # the estate's deployments, each once


def test_a_lake_stopped_once_a_source_was_ingested_stays_refused_and_nothing_written(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Its raw objects hold events of an hour nothing tells: made to this hour, the estate would be loaded a second
    time beside them."""
    lake = tmp_path / "lake"
    stopped_demos_lake(lake, monkeypatch, sources_ingested=1)
    assert list((lake / "raw").rglob("*.parquet")), "the first source's events were written"
    before = lake_files(lake)

    with pytest.raises(RosettaError) as refusal:
        run_demo(DemoOptions(lake_url=str(lake), **OPTIONS), say=lambda line: None)
    assert str(refusal.value).startswith(f"{lake} holds the mapping of an earlier demo (version 1 by demo) but no ")
    assert lake_files(lake) == before
