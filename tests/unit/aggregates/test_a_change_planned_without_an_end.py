"""Changes whose plan gives a start but no end, and whose work times were never recorded, on shop-api's CI. Whether
closed or still scheduled, the plan's start is all that says when they happen: each is an instant there, so it is
counted on that day and covers only an attempt within the hour around it, never the last attempt before each
build's as-of, however long after.

The hand-made estate (tests/unit/aggregates/estate.py, as_of the 20th at 10:00 UTC): shop-api's attempts finished on
the 1st at 12:00 and on the 19th at 10:00 and 13:00 (the rollback argocd:shop-api-prod:3). Plus CHG71, planned to
start on the 5th at 10:00, closed unsuccessful, and CHG72, planned to start on the 6th at 10:00, still scheduled."""

from __future__ import annotations

from pathlib import Path

from lakehouse.aggregates.build import build
from tests.unit.aggregates.estate import AS_OF, CI_API, change, estate_lake, t, write
from tests.unit.aggregates.test_kpis import mart, one, reading


def test_a_change_planned_without_an_end_is_an_instant_at_its_planned_start(tmp_path: Path) -> None:
    lake, settings = estate_lake(tmp_path)
    unrecorded = {"work_start": None, "work_end": None}
    closed = change("f" * 31 + "1", "CHG71", CI_API, (t(5, 10), t(5, 10)), "unsuccessful", t(1), t(5, 12))
    closed |= unrecorded | {"planned_start": t(5, 10)}
    scheduled = change("f" * 31 + "2", "CHG72", CI_API, (t(6, 10), t(6, 10)), "", t(1), t(5, 12))
    scheduled |= unrecorded | {"planned_start": t(6, 10), "state": -2, "close_code": None}
    write(lake, "servicenow/changes", closed, scheduled)
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        changes = {c["number"]: c for c in mart(built, "mv_changes", "number in ('CHG71', 'CHG72')")}
        fifth = one(mart(built, "mv_changes_app_day", "app_id = 'shop' and day = $d", d=t(5).date()))
        rollback = one(mart(built, "mv_deployments", "deployment_key = 'argocd:shop-api-prod:3'"))
    # Neither covers the rollback two weeks later, and CHG71's failure is not the rollback's.
    assert {n: c["deployment_key"] for n, c in changes.items()} == {"CHG71": None, "CHG72": None}
    assert rollback["change_unsuccessful"] is False
    assert {n: (c["change_start"], c["change_end"]) for n, c in changes.items()} == {
        "CHG71": (t(5, 10), t(5, 10)),
        "CHG72": (t(6, 10), t(6, 10)),
    }
    # CHG71 was implemented, unsuccessfully, on the 5th.
    assert (fifth["planned"], fifth["implemented"], fifth["unsuccessful"]) == (1, 1, 1)
