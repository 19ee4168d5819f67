"""A change closed unsuccessful over a release and its rollback fails the release, not the rollback.

The usual failed change: the release goes out, goes wrong, is rolled back inside the change's work, and the change is
closed unsuccessful. The rollback finishes nearer the change's end than the release, yet it is the fix, not a cause:
the change covers the release. Over the hand-made estate (estate.py): quiet-svc is deployed by ArgoCD's quiet-prod,
its CI is CI_Q, and it has no other deployment.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lakehouse.aggregates.build import build
from tests.unit.aggregates.estate import AS_OF, CI_Q, change, deployment, estate_lake, t, write
from tests.unit.aggregates.test_kpis import dora, mart, one, reading

R0, R1, BACK, R2 = (f"argocd:quiet-prod:{n}" for n in range(4))


def test_the_change_covers_the_release_and_the_rollback_recovers_it(tmp_path: Path) -> None:
    """quiet-prod deployed q0 on 1 Nov, q1 on the 10th at 09:20, rolled back to q0 at 10:40, and deployed q2 on the
    13th at 10:40. CHG80 worked on the 10th 09:00-10:50 and was closed unsuccessful: its window (08:00-11:50) holds q1
    (90 minutes before its end) and the rollback (10 minutes). It covers q1. Over the last 30 days (21 Oct 10:00 to
    20 Nov 10:00): 4 attempts, 1 change failure (q1: rolled back, and its change failed), recovered by the rollback
    1 h 20 min later. The rollback is rework, not a failure."""
    lake, settings = estate_lake(tmp_path)
    write(
        lake,
        "deploys/deployment_events",
        deployment(R0, "argocd", "quiet-prod", t(1, 12), "succeeded", "q0"),
        deployment(R1, "argocd", "quiet-prod", t(10, 9, 20), "succeeded", "q1"),
        deployment(BACK, "argocd", "quiet-prod", t(10, 10, 40), "succeeded", "q0", rollback=True),
        deployment(R2, "argocd", "quiet-prod", t(13, 10, 40), "succeeded", "q2"),
    )
    chg80 = "8" * 31 + "0"
    write(
        lake,
        "servicenow/changes",
        change(chg80, "CHG80", CI_Q, (t(10, 9), t(10, 10, 50)), "unsuccessful", t(9), t(10, 11)),
    )
    build(lake, settings, mode="full", as_of=AS_OF)

    with reading(lake, settings) as built:
        covered = one(mart(built, "mv_changes", "number = 'CHG80'"))["deployment_key"]
        rows = {r["deployment_key"]: r for r in mart(built, "mv_deployments", "app_id = 'quiet'")}
        full = dora(built, "quiet", "full")
    assert covered == R1
    assert {k: r["is_change_failure_full"] for k, r in rows.items()} == {R0: False, R1: True, BACK: False, R2: False}
    assert rows[R1]["change_numbers"] == ["CHG80"] and rows[BACK]["change_numbers"] is None
    assert rows[R1]["recovered_at_full"] == t(10, 10, 40)
    assert (full["change_failure_numerator"], full["change_failure_denominator"]) == (1, 4)
    assert full["recovery_sample"] == 1 and full["recovery_median_hours"] == pytest.approx(80 / 60)
    assert (full["rework_numerator"], full["rework_denominator"]) == (1, 4)
