"""The build's history copies of the event datasets: a build reads the same rows as from raw/ alone."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pyarrow.parquet as pq
import pytest

from lakehouse.aggregates.build import build
from lakehouse.aggregates.history import MANIFEST_KEY, history_key
from lakehouse.schemas import get_dataset
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.unit.aggregates.estate import AS_OF, CI_DB, incident, rows, t, write_estate

INCIDENTS = get_dataset("servicenow/incidents")


def held_days(lake: Lake) -> dict[str, str]:
    """The days the incidents' copy lists in its footer, with their versions."""
    stored = lake.store.get(history_key(INCIDENTS))
    assert stored is not None
    footer = pq.read_metadata(io.BytesIO(stored.data)).metadata
    return json.loads(footer[MANIFEST_KEY.encode()])["days"]


@pytest.fixture
def built(settings: Settings) -> tuple[Lake, Settings]:
    lake = Lake.from_settings(settings)
    write_estate(lake)
    build(lake, settings, mode="full", as_of=AS_OF)
    return lake, settings


def open_incidents(lake: Lake) -> dict[str, bool]:
    found = {}
    for key in lake.list_keys("mart/mv_incidents/"):
        table = lake.get_table(key)
        assert table is not None
        found |= {r["number"]: r["is_open"] for r in table.to_pylist()}
    return found


def test_a_full_build_copies_every_day_with_its_version(built: tuple[Lake, Settings]) -> None:
    lake, _ = built
    versions = {d.isoformat(): v for d, v in lake.partition_versions(INCIDENTS).items()}
    # The estate's incidents were opened on the 10th, 18th and 19th.
    assert sorted(versions) == ["2026-11-10", "2026-11-18", "2026-11-19"]
    assert held_days(lake) == versions
    copy = lake.get_table(history_key(INCIDENTS))
    assert copy is not None and sorted(copy.column("number").to_pylist()) == ["INC1", "INC2", "INC3"]


def test_a_day_rewritten_after_the_copy_is_read_from_its_partition(built: tuple[Lake, Settings]) -> None:
    lake, settings = built
    assert open_incidents(lake)["INC2"] is True
    copied = lake.store.get(history_key(INCIDENTS))
    # INC2 (opened on the 18th) is resolved: its new version is written into the 18th's partition.
    resolved = incident("i2" * 16, "INC2", CI_DB, t(18, 8), 1, 6, AS_OF + timedelta(minutes=20))
    lake.write_days(INCIDENTS, rows("servicenow/incidents", resolved))
    build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=1))
    assert open_incidents(lake)["INC2"] is False
    # One stale day: an hourly build reads it from its partition and leaves the copy as it was.
    assert lake.store.get(history_key(INCIDENTS)) == copied
    # A daily build writes a new copy, listing the 18th's new version.
    build(lake, settings, mode="daily", as_of=AS_OF + timedelta(hours=2))
    assert held_days(lake) == {d.isoformat(): v for d, v in lake.partition_versions(INCIDENTS).items()}
    assert open_incidents(lake)["INC2"] is False


def test_a_day_removed_from_raw_is_not_read_from_the_copy(built: tuple[Lake, Settings]) -> None:
    lake, settings = built
    lake.store.delete(lake.partition_key(INCIDENTS, t(10).date()))
    build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=1))
    assert sorted(open_incidents(lake)) == ["INC1", "INC2"]
    build(lake, settings, mode="daily", as_of=AS_OF + timedelta(hours=2))
    assert sorted(held_days(lake)) == ["2026-11-18", "2026-11-19"]
    copy = lake.get_table(history_key(INCIDENTS))
    assert copy is not None and sorted(copy.column("number").to_pylist()) == ["INC1", "INC2"]


def test_an_unreadable_copy_is_ignored_and_replaced(built: tuple[Lake, Settings]) -> None:
    lake, settings = built
    lake.store.put(history_key(INCIDENTS), b"not a parquet file")
    build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=1))
    assert sorted(open_incidents(lake)) == ["INC1", "INC2", "INC3"]
    build(lake, settings, mode="daily", as_of=AS_OF + timedelta(hours=2))
    assert held_days(lake) == {d.isoformat(): v for d, v in lake.partition_versions(INCIDENTS).items()}
