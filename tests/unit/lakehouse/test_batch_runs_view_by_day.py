"""An analyst asking the batch_runs view for last week's runs reads last week's records only: a year of the run log
is some 450,000 objects, one GET each. The view gives the day each run started on, its folder, and a filter on it
leaves the other folders unread: a record an older folder holds that cannot be read at all does not stop the query."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest

from lakehouse.runlog import RunLog
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from lakehouse.views import render_views


def view_over(lake: Lake, per_lake: bool) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("set variable lake = $url", {"url": lake.url})
    script = render_views(lake if per_lake else None)
    con.execute(next(s for s in script.split(";\n") if "view batch_runs" in s))
    return con


@pytest.mark.parametrize("per_lake", [False, True])
def test_a_filter_on_the_day_reads_only_that_days_records(tmp_path: Path, per_lake: bool) -> None:
    lake = Lake.from_settings(Settings(lake_url=str(tmp_path / "lake")))
    log = RunLog(lake)
    # 1 Nov 23:30 UTC, 2 Dec 00:10 and 2 Dec 09:00: the day is the UTC day each started on.
    for started in (datetime(2026, 11, 1, 23, 30, tzinfo=UTC), datetime(2026, 12, 2, 0, 10, tzinfo=UTC)):
        log.finish(log.start("ingest_logs", "elasticsearch", None, now=started), "succeeded", now=started)
    log.start("ingest_logs", "elasticsearch", None, now=datetime(2026, 12, 2, 9, 0, tzinfo=UTC))
    # A record of 1 Nov no reader can parse.
    (tmp_path / "lake" / "runs" / "day=2026-11-01" / "unreadable.json").write_text("{not json")
    con = view_over(lake, per_lake)

    december = con.execute(
        "select day, status, strftime(timezone('UTC', started_at), '%H:%M') from batch_runs "
        "where day >= date '2026-12-01' order by 3"
    ).fetchall()

    assert december == [
        (date(2026, 12, 2), "succeeded", "00:10"),
        (date(2026, 12, 2), "running", "09:00"),
    ]
    with pytest.raises(duckdb.Error):
        con.execute("select count(*) from batch_runs").fetchall()
