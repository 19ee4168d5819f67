"""The daily build refreshes the period tables (SLO, DORA). One stopped while it put them (a Lambda timeout, a store
error) left some of them its own and the rest the day before's: a team's SLO and DORA rows then covered other
periods than its applications' until the next daily build, a day later. The next build, hourly as scheduled,
refreshes them in its place."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from lakehouse.aggregates.build import build
from lakehouse.storage import Lake
from tests.unit.aggregates.estate import AS_OF, estate_lake
from tests.unit.aggregates.test_build import ingest_metrics

PERIOD_TABLES = ("mv_slo_app_period", "mv_slo_group_period", "mv_dora_app_period", "mv_dora_group_period")
GROUP_TABLES = ("mart/mv_slo_group_period/", "mart/mv_dora_group_period/")


def last_90_days(lake: Lake, table: str) -> set[tuple[Any, Any]]:
    """The (start, end) of the last_90d rows of a period table, whatever objects hold them."""
    found: set[tuple[Any, Any]] = set()
    for key in lake.list_keys(f"mart/{table}/"):
        part = lake.get_table(key)
        assert part is not None
        found |= {(r["period_start"], r["period_end"]) for r in part.to_pylist() if r["period"] == "last_90d"}
    return found


def refuse_group_period_tables(lake: Lake, monkeypatch: pytest.MonkeyPatch) -> None:
    """The store refuses the rollups' period tables (a build putting them stops there), and takes the rest."""
    put_file = lake.store.put_file

    def refused(key: str, *args: Any, **kwargs: Any) -> Any:
        if key.startswith(GROUP_TABLES):
            raise RuntimeError("period table refused")
        return put_file(key, *args, **kwargs)

    monkeypatch.setattr(lake.store, "put_file", refused)


def test_an_hourly_build_after_a_stopped_daily_build_refreshes_the_period_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake, settings = estate_lake(tmp_path)
    build(lake, settings, mode="full", as_of=AS_OF)  # 20 November, 10:00
    ingest_metrics(lake, timedelta(days=1))
    # The daily build the day after puts the applications' period tables, then stops before the groups'.
    with monkeypatch.context() as patched:
        refuse_group_period_tables(lake, patched)
        with pytest.raises(RuntimeError, match="refused"):
            build(lake, settings, mode="daily", as_of=AS_OF + timedelta(days=1))
    stopped_at = AS_OF + timedelta(days=1)
    assert last_90_days(lake, "mv_slo_app_period") == {(stopped_at - timedelta(days=90), stopped_at)}
    assert last_90_days(lake, "mv_slo_group_period") == {(AS_OF - timedelta(days=90), AS_OF)}

    # An hour later the hourly build finds the period tables as of 20 November 10:00, more than a day before.
    result = build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=25))
    assert result.mode == "daily"
    assert result.daily_because == f"the period tables are as of {AS_OF.isoformat()}, more than a day before"
    now = AS_OF + timedelta(hours=25)
    for table in PERIOD_TABLES:
        assert last_90_days(lake, table) == {(now - timedelta(days=90), now)}, table

    # The hour after, the period tables are an hour old: an hourly build stays one and leaves them as they are.
    later = build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=26))
    assert (later.mode, later.daily_because) == ("hourly", None)
    assert last_90_days(lake, "mv_slo_group_period") == {(now - timedelta(days=90), now)}


def test_an_hourly_build_a_day_after_the_daily_one_stays_hourly(tmp_path: Path) -> None:
    """The daily build runs at 02:40 and the hourly ones at 25 past: the hourly build of 02:25 the next day finds
    the period tables exactly a day old (as of 02:00, its own hour a day on), the daily build still to come."""
    lake, settings = estate_lake(tmp_path)
    build(lake, settings, mode="full", as_of=AS_OF)
    same_hour = build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(days=1))
    assert (same_hour.mode, same_hour.daily_because) == ("hourly", None)


def test_a_daily_build_failing_for_good_costs_one_hourly_build_a_day(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The group period tables cannot be written at all (a store refusing them, say). The hourly build that finds
    the period tables more than a day old runs as a daily one and fails as the daily build did; the hourly builds
    after it stay hourly and keep the day tables fresh, until a day after that try, when one tries again."""
    lake, settings = estate_lake(tmp_path)
    build(lake, settings, mode="full", as_of=AS_OF)
    refuse_group_period_tables(lake, monkeypatch)
    with pytest.raises(RuntimeError, match="refused"):
        build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=25))
    for hours in (26, 27, 49):
        result = build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=hours))
        assert (result.mode, result.daily_because) == ("hourly", None), hours
    with pytest.raises(RuntimeError, match="refused"):
        build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=50))
