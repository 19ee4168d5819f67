"""Two unsuccessful changes covering one deployment are one failure in the top risks, wherever the deployment falls.

Over the hand-made estate (estate.py): quiet-svc is deployed by ArgoCD's quiet-prod, its CI is CI_Q, and it has no
other deployment nor change; as_of is 20 Nov 10:00, so the last 7 days start on the 13th at 10:00.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from lakehouse.aggregates.build import build
from tests.unit.aggregates.estate import AS_OF, CI_Q, QUIET_SLOS_NOT_JUDGED, change, deployment, estate_lake, t, write
from tests.unit.aggregates.test_kpis import mart, one, reading


@pytest.mark.parametrize(
    ("deployed_at", "why"),
    [
        (t(13, 9, 30), "before the 7 days: the changes count it"),
        (t(13, 10, 5), "within the 7 days: the deployment counts itself"),
    ],
)
def test_one_deployment_under_two_failed_changes_scores_one_failed_change(
    tmp_path: Path, deployed_at: datetime, why: str
) -> None:
    """quiet-prod deployed q1 on the 13th; CHG82 (work 09:00-10:10) and CHG83 (work 09:15-10:20), both closed
    unsuccessful, cover it: each has it within its work and no other attempt. One failed change, +10: green."""
    lake, settings = estate_lake(tmp_path)
    write(
        lake,
        "deploys/deployment_events",
        deployment("argocd:quiet-prod:1", "argocd", "quiet-prod", deployed_at, "succeeded", "q1"),
    )
    write(
        lake,
        "servicenow/changes",
        change("8" * 31 + "2", "CHG82", CI_Q, (t(13, 9), t(13, 10, 10)), "unsuccessful", t(12), t(13, 11)),
        change("8" * 31 + "3", "CHG83", CI_Q, (t(13, 9, 15), t(13, 10, 20)), "unsuccessful", t(12), t(13, 11)),
    )
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        covered = {r["number"]: r["deployment_key"] for r in mart(built, "mv_changes", "app_id = 'quiet'")}
        quiet = one(mart(built, "mv_monitoring_top_risks", "app_id = 'quiet'"))
    assert covered == {"CHG82": "argocd:quiet-prod:1", "CHG83": "argocd:quiet-prod:1"}, why
    assert (quiet["failed_changes_7d"], quiet["score_failed_changes"], quiet["health"]) == (1, 10, "green"), why
    assert quiet["reasons"] == ["1 failed change(s) in 7 days", QUIET_SLOS_NOT_JUDGED], why
