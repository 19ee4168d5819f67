"""A change whose plan gives an end but no start, and whose work times were never recorded, on quiet's CI: the plan's
end is all that says when it happened, so it is an instant there, as one planned with a start and no end is an
instant at its start. It covers quiet's attempt finished within the hour around it, and fails it when closed
unsuccessful.

The hand-made estate (tests/unit/aggregates/estate.py, as_of the 20th at 10:00 UTC), plus quiet's production attempt
finished on the 5th at 10:00 and CHG73, planned to end on the 5th at 10:30, closed unsuccessful. By hand: CHG73
starts and ends at 10:30, covers the attempt (30 minutes before it, within the hour), which fails: 1 change failure
of 1 attempt over the last 30 days in full mode; on the 5th, 1 implemented, 1 unsuccessful."""

from __future__ import annotations

from pathlib import Path

from lakehouse.aggregates.build import build
from tests.unit.aggregates.estate import AS_OF, CI_Q, change, deployment, estate_lake, t, write
from tests.unit.aggregates.test_kpis import mart, one, reading


def test_a_change_planned_without_a_start_is_an_instant_at_its_planned_end(tmp_path: Path) -> None:
    lake, settings = estate_lake(tmp_path)
    write(
        lake,
        "deploys/deployment_events",
        deployment("argocd:quiet-prod:5", "argocd", "quiet-prod", t(5, 10), "succeeded", "q5"),
    )
    closed = change("f" * 31 + "3", "CHG73", CI_Q, (t(5, 10), t(5, 10)), "unsuccessful", t(1), t(5, 12))
    closed |= {"work_start": None, "work_end": None, "planned_start": None, "planned_end": t(5, 10, 30)}
    write(lake, "servicenow/changes", closed)
    build(lake, settings, mode="full", as_of=AS_OF)
    dora = (
        "app_id = 'quiet' and environment = 'production' and period = 'last_30d' and correlation_mode = 'full' "
        "and band_set = '2023'"
    )
    with reading(lake, settings) as built:
        chg73 = one(mart(built, "mv_changes", "number = 'CHG73'"))
        attempt = one(mart(built, "mv_deployments", "deployment_key = 'argocd:quiet-prod:5'"))
        quiet = one(mart(built, "mv_dora_app_period", dora))
        fifth = one(mart(built, "mv_changes_app_day", "app_id = 'quiet' and day = $d", d=t(5).date()))
    assert (chg73["change_start"], chg73["change_end"]) == (t(5, 10, 30), t(5, 10, 30))
    assert chg73["deployment_key"] == "argocd:quiet-prod:5"
    assert attempt["change_unsuccessful"] is True
    assert (quiet["change_failure_numerator"], quiet["change_failure_denominator"]) == (1, 1)
    assert (fifth["implemented"], fifth["unsuccessful"]) == (1, 1)
