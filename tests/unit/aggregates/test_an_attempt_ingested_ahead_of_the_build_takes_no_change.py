"""An attempt finished after as_of, ingested ahead of the build, has not happened yet: it takes no change from an
attempt that had.

Over the hand-made estate (estate.py): quiet-svc is deployed by ArgoCD's quiet-prod, its CI is CI_Q, and it has no
other deployment. as_of is 20 Nov 10:00.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from lakehouse.aggregates.build import build
from tests.unit.aggregates.estate import AS_OF, CI_Q, change, deployment, estate_lake, t, write
from tests.unit.aggregates.test_build import assert_same_mart
from tests.unit.aggregates.test_kpis import dora, mart, one, reading

D1, D2 = "argocd:quiet-prod:1", "argocd:quiet-prod:2"


def test_a_failed_change_keeps_the_attempt_before_as_of_once_a_later_one_has_finished(
    tmp_path: Path,
) -> None:
    """quiet-prod deployed q1 at 09:10; CHG81 worked 09:00-09:50 and was closed unsuccessful; q2 finished at 10:20
    and was ingested before the 10:00 build ran. At 10:00 q2 has not finished: CHG81 covers q1, and the last 7 days
    hold 1 attempt, 1 change failure. At 11:00 q2 has finished, 30 minutes after the change's end against q1's 40, but
    in the hour after its work, not within it: CHG81 still covers q1, a figure once reported does not move, and q2 is
    no change failure. The hourly build's mart is a full rebuild's."""
    chg81 = "8" * 31 + "1"
    failed_change = change(chg81, "CHG81", CI_Q, (t(20, 9), t(20, 9, 50)), "unsuccessful", t(19), t(20, 9, 55))
    q1 = deployment(D1, "argocd", "quiet-prod", t(20, 9, 10), "succeeded", "q1")
    q2 = deployment(D2, "argocd", "quiet-prod", t(20, 10, 20), "succeeded", "q2")

    lake, settings = estate_lake(tmp_path / "incremental")
    write(lake, "deploys/deployment_events", q1, q2)
    write(lake, "servicenow/changes", failed_change)
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        covered = one(mart(built, "mv_changes", "number = 'CHG81'"))["deployment_key"]
        week = dora(built, "quiet", "full", "last_7d")
    assert covered == D1
    assert (week["change_failure_numerator"], week["change_failure_denominator"]) == (1, 1)

    eleven = AS_OF + timedelta(hours=1)
    assert build(lake, settings, mode="hourly", as_of=eleven).mode == "hourly"
    with reading(lake, settings) as built:
        covered = one(mart(built, "mv_changes", "number = 'CHG81'"))["deployment_key"]
        failed = {
            r["deployment_key"]: r["is_change_failure_full"] for r in mart(built, "mv_deployments", "app_id = 'quiet'")
        }
    assert covered == D1
    assert failed == {D1: True, D2: False}

    full_lake, full_settings = estate_lake(tmp_path / "full")
    write(full_lake, "deploys/deployment_events", q1, q2)
    write(full_lake, "servicenow/changes", failed_change)
    build(full_lake, full_settings, mode="full", as_of=eleven)
    assert_same_mart(lake, full_lake, "hourly")
