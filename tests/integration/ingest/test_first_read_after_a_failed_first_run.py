"""The first read of ServiceNow's incidents is the start of the first window a run or a backfill completed, even when
the very first run failed halfway and left a day behind: the day it left is this release's, not a sign of a lake an
older release wrote. Only a lake that held incidents before any first read was recorded keeps it unknown."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from lakehouse.ingest.config import IngestSettings
from lakehouse.ingest.sources import ingest, run_backfill
from lakehouse.ingest.window import Window
from lakehouse.runlog import FirstReads, Watermarks
from lakehouse.schemas import Dataset, get_dataset
from lakehouse.storage import Lake
from tests.integration.ingest.conftest import END

INCIDENTS = "servicenow/incidents"
LAST_THREE_DAYS = Window(END - timedelta(days=3), END)


def _incidents(lake: Lake, window: Window) -> str:
    """One run over the window; its status."""
    outcome = ingest("servicenow", lake, IngestSettings().resolved(), window=window, datasets=[INCIDENTS])
    (only,) = outcome.outcomes
    return only.record.status


def _failing_at_second_day(lake: Lake, monkeypatch: pytest.MonkeyPatch, window: Window) -> list[str]:
    """A run over the window whose store refuses the second day it puts: the first day stays in the lake. The days it
    wrote."""
    real = Lake.write_days
    puts = 0

    def refuse_second(self: Lake, ds: Dataset, table: Any, **kw: Any) -> Any:
        nonlocal puts
        if ds.id == INCIDENTS:
            puts += 1
            if puts == 2:
                raise OSError("store refused the put")
        return real(self, ds, table, **kw)

    with monkeypatch.context() as patched:
        patched.setattr(Lake, "write_days", refuse_second)
        outcome = ingest("servicenow", lake, IngestSettings().resolved(), window=window, datasets=[INCIDENTS])
    (only,) = outcome.outcomes
    assert only.record.status == "failed"
    return only.record.days_written


def test_a_run_after_a_failed_first_run_records_the_first_read(
    sims_lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    left = _failing_at_second_day(sims_lake, monkeypatch, LAST_THREE_DAYS)
    assert len(left) == 1 and sims_lake.list_partitions(get_dataset(INCIDENTS))
    assert FirstReads(sims_lake).get("servicenow", "incidents") is None
    assert Watermarks(sims_lake).get("servicenow", "incidents") is None

    assert _incidents(sims_lake, LAST_THREE_DAYS) == "succeeded"
    assert FirstReads(sims_lake).get("servicenow", "incidents") == END - timedelta(days=3)


def test_a_backfill_after_a_failed_first_run_records_the_first_read(
    sims_lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first scheduled run wrote a day and failed (or has not finished yet); a backfill of the two days before
    then completes: the lake has read incidents since the backfill's first day."""
    _failing_at_second_day(sims_lake, monkeypatch, Window(END - timedelta(days=1), END))
    earlier = Window(END - timedelta(days=3), END - timedelta(days=1))
    days = run_backfill(
        "servicenow", sims_lake, IngestSettings().resolved(), window=earlier, datasets=[INCIDENTS], now=END
    )
    assert [d.outcomes[0].record.status for d in days] == ["succeeded", "succeeded"]
    assert FirstReads(sims_lake).get("servicenow", "incidents") == END - timedelta(days=3)


def test_a_lake_an_older_release_wrote_keeps_its_first_read_unknown(
    sims_lake: Lake, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Incidents read before first reads were recorded: the lake holds them and no record of their first read. A
    failed run then a successful one leave it unknown: how far back the older days reach is not known."""
    assert _incidents(sims_lake, Window(END - timedelta(days=6), END - timedelta(days=3))) == "succeeded"
    (tmp_path / "lake" / sims_lake.read_from_key("servicenow", "incidents")).unlink()  # as an older release left it
    assert sims_lake.list_partitions(get_dataset(INCIDENTS))

    _failing_at_second_day(sims_lake, monkeypatch, LAST_THREE_DAYS)
    assert _incidents(sims_lake, LAST_THREE_DAYS) == "succeeded"
    assert FirstReads(sims_lake).get("servicenow", "incidents") is None
    assert not FirstReads(sims_lake).never_read("servicenow", "incidents")


def test_a_first_run_that_wrote_no_day_leaves_incidents_never_read(
    sims_lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store refuses the first day the first run puts: nothing of incidents is in the lake, so they were never
    read (the reports say 'not read'), not read since an unknown instant."""
    real = Lake.write_days

    def refuse(self: Lake, ds: Dataset, table: Any, **kw: Any) -> Any:
        if ds.id == INCIDENTS:
            raise OSError("store refused the put")
        return real(self, ds, table, **kw)

    monkeypatch.setattr(Lake, "write_days", refuse)
    outcome = ingest("servicenow", sims_lake, IngestSettings().resolved(), window=LAST_THREE_DAYS, datasets=[INCIDENTS])
    assert outcome.outcomes[0].record.status == "failed"
    assert FirstReads(sims_lake).never_read("servicenow", "incidents")
