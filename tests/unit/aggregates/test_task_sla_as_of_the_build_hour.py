"""A task SLA counts as its last version updated by the build's as-of hour, as its incident does: a cancellation
read ahead of the build has not happened yet."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from lakehouse.aggregates.build import build
from lakehouse.schemas import get_dataset
from lakehouse.storage import Lake
from tests.unit.aggregates.estate import (
    AS_OF,
    CI_DB,
    CI_Q,
    breached_sla,
    estate_lake,
    incident,
    rows,
    t,
    task_slas_read_from,
)
from tests.unit.aggregates.test_build import assert_same_mart, ingest, mart_snapshot

# The estate's INC2: P1 on shop-db, opened on the 18th at 08:00, still in progress.
INC2 = incident("i2" * 16, "INC2", CI_DB, t(18, 8), 1, 2)
# Its task SLA breached on the 19th at 07:00, as the ingest of 07:05 read it; cancelled at 10:30, after the as-of
# hour of the build of 10:00 but read before that build runs.
BREACHED = breached_sla(INC2, t(19, 7)) | {"sys_updated_on": t(19, 7, 5)}
CANCELLED = BREACHED | {"stage": "cancelled", "sys_updated_on": t(20, 10, 30)}


def sla_state(lake: Lake, app_id: str, number: str, day: int) -> tuple[bool | None, int | None]:
    """The incident's sla_breached in mv_incidents, and its application's production SLA breaches on a day."""
    mart = mart_snapshot(lake)
    incident_row = next(r for r in mart["mv_incidents"] if r["number"] == number)
    day_row = next(
        r
        for r in mart["mv_incidents_app_day"]
        if r["app_id"] == app_id and r["environment"] == "production" and r["day"] == t(day).date()
    )
    return incident_row["sla_breached"], day_row["sla_breaches"]


def test_an_sla_cancelled_after_as_of_still_counts_its_breach(tmp_path: Path) -> None:
    """At 10:00 INC2's SLA had breached and was not cancelled yet: INC2 breached, one breach on the 18th (its
    opening day). At 11:00 it is cancelled: INC2 has no SLA to meet (null), and no breach counts on the 18th."""
    lake, settings = estate_lake(tmp_path)
    task_slas_read_from(lake)
    ingest(lake, "servicenow/task_slas", BREACHED, CANCELLED)
    build(lake, settings, mode="full", as_of=AS_OF)
    assert sla_state(lake, "shop", "INC2", 18) == (True, 1)
    build(lake, settings, mode="full", as_of=AS_OF + timedelta(hours=1))
    assert sla_state(lake, "shop", "INC2", 18) == (None, 0)


def test_an_hourly_build_passing_the_cancellation_agrees_with_a_full_one(tmp_path: Path) -> None:
    """Nothing is ingested between the build of 10:00 and the hourly one of 11:00: that one sees the cancellation
    pass, rebuilds the 18th and gives the mart a full build of 11:00 gives."""
    lake, settings = estate_lake(tmp_path / "hourly")
    task_slas_read_from(lake)
    ingest(lake, "servicenow/task_slas", BREACHED, CANCELLED)
    build(lake, settings, mode="full", as_of=AS_OF)
    result = build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=1))
    assert result.mode == "hourly"
    assert result.day_from == t(18).date()
    assert sla_state(lake, "shop", "INC2", 18) == (None, 0)

    full_lake, full_settings = estate_lake(tmp_path / "full")
    task_slas_read_from(full_lake)
    slas = get_dataset("servicenow/task_slas")
    full_lake.write_days(slas, rows(slas.id, BREACHED, CANCELLED))
    build(full_lake, full_settings, mode="full", as_of=AS_OF + timedelta(hours=1))
    assert_same_mart(lake, full_lake, "hourly")


def test_an_sla_first_read_after_as_of_counts_as_its_last_version(tmp_path: Path) -> None:
    """INC9 opened on quiet on the 19th at 09:00. Its SLA, running since then, breached on the 20th at 09:30 and
    was first read at 10:20 (its only version), before the build of 10:00 runs. As an incident first read after
    as_of, it is that version: at 10:00 it had breached, so INC9 breached and one breach counts on the 19th."""
    lake, settings = estate_lake(tmp_path)
    task_slas_read_from(lake)
    inc9 = incident("i9" * 16, "INC9", CI_Q, t(19, 9), 3, 2)
    ingest(lake, "servicenow/incidents", inc9)
    ingest(lake, "servicenow/task_slas", breached_sla(inc9, t(20, 9, 30)) | {"sys_updated_on": t(20, 10, 20)})
    build(lake, settings, mode="full", as_of=AS_OF)
    assert sla_state(lake, "quiet", "INC9", 19) == (True, 1)
