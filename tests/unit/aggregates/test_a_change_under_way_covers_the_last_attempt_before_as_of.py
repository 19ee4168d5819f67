"""A change under way covers the last attempt finished before as_of: one finished at as_of has not finished yet.

A build's periods end at as_of, excluded, and an event at that instant has not happened for it. A change under way
(work started, no work end) covers the attempt of its entity finished closest to as_of, the last so far. Over the
hand-made estate (estate.py): quiet-svc is deployed by ArgoCD's quiet-prod, its CI is CI_Q.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from lakehouse.aggregates.build import build
from tests.unit.aggregates.estate import AS_OF, CI_Q, change, deployment, estate_lake, t, write
from tests.unit.aggregates.test_kpis import dora, mart, one, reading

Q1, Q2 = "argocd:quiet-prod:1", "argocd:quiet-prod:2"


def test_an_attempt_finished_at_as_of_is_not_yet_the_one_an_emergency_change_under_way_covers(tmp_path: Path) -> None:
    """CHG95, an emergency change on quiet's CI, started its work on the 20th at 08:00 and is still under way.
    quiet-prod deployed Q1 at 09:00 and Q2 at 10:00, the build's as_of. At 10:00 Q1 is the last attempt so far: CHG95
    covers it, so Q1 is rework, and over the last 30 days (Q2 is at their end, excluded) quiet's rework is 1 of 1
    deployments. At 11:00 Q2 has finished: CHG95 covers it, the closest to 11:00."""
    emergency = change("9" * 32, "CHG95", CI_Q, (t(20, 8), t(20, 8)), "", t(19), t(20, 8), change_type="emergency")
    under_way = emergency | {"state": -1, "work_end": None, "close_code": None, "planned_end": t(20, 9)}
    attempts = [
        deployment(Q1, "argocd", "quiet-prod", t(20, 9), "succeeded", "q1"),
        deployment(Q2, "argocd", "quiet-prod", AS_OF, "succeeded", "q2"),
    ]

    def built_at(path: Path, as_of) -> tuple:
        lake, settings = estate_lake(path)
        write(lake, "deploys/deployment_events", *attempts)
        write(lake, "servicenow/changes", under_way)
        build(lake, settings, mode="full", as_of=as_of)
        return lake, settings

    lake, settings = built_at(tmp_path / "ten", AS_OF)
    with reading(lake, settings) as built:
        covered = one(mart(built, "mv_changes", "number = 'CHG95'"))["deployment_key"]
        rework = {r["deployment_key"]: r["is_rework"] for r in mart(built, "mv_deployments", "app_id = 'quiet'")}
        full = dora(built, "quiet", "full")
    assert covered == Q1
    assert rework == {Q1: True, Q2: False}
    assert (full["rework_numerator"], full["rework_denominator"]) == (1, 1)

    lake, settings = built_at(tmp_path / "eleven", AS_OF + timedelta(hours=1))
    with reading(lake, settings) as built:
        assert one(mart(built, "mv_changes", "number = 'CHG95'"))["deployment_key"] == Q2
