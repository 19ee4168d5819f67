"""The failed deployment recovery time is the median over the change failures that recovered, as DORA defines it: a
failure still not recovered at the build's as-of has no time to take. The DORA rows count those beside the median
(change_failures_not_recovered), since 'ok' with a median says only that at least one failure recovered.

The hand-made estate (estate.py), built as of 20 November 10:00, with quiet-prod (quiet's ArgoCD application, team
t2) deploying in production:
- Q1 fails on the 10th at 12:00, and Q2 succeeds at 14:00: Q1 recovered in 2 hours;
- Q3 fails on the 17th at 09:00 and Q4 at 10:00, and nothing succeeds after them: both still not recovered at as-of,
  three days later.
The last 30 days (from 21 October 10:00): 3 change failures of 4 attempts, recovery median 2 h over 1 recovered
('ok', 'high' on the 2023 bands: under a day), 2 not recovered. The last 7 days (from the 13th 10:00): Q3 and Q4
alone, none recovered: 'not recovered', no median, 2 not recovered. No incident is on quiet: full and light
correlation agree. Team t2 adds broken, whose two failed attempts (the 15th and the 16th at 09:00) never recovered:
5 change failures of 6 attempts, the same median over the same 1 recovered, and 2 + 2 = 4 not recovered.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lakehouse.aggregates.build import build
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.unit.aggregates.estate import AS_OF, deployment, estate_lake, t, write
from tests.unit.aggregates.test_kpis import mart, one, reading

FIGURES = (
    "change_failure_numerator",
    "change_failure_denominator",
    "recovery_sample",
    "recovery_median_hours",
    "recovery_state",
    "recovery_level",
    "change_failures_not_recovered",
)


def quiet_failures_lake(root: Path) -> tuple[Lake, Settings]:
    """The estate with quiet's four attempts above, built in full at AS_OF."""
    lake, settings = estate_lake(root)
    write(
        lake,
        "deploys/deployment_events",
        deployment("argocd:quiet-prod:1", "argocd", "quiet-prod", t(10, 12), "failed", "q1"),
        deployment("argocd:quiet-prod:2", "argocd", "quiet-prod", t(10, 14), "succeeded", "q1"),
        deployment("argocd:quiet-prod:3", "argocd", "quiet-prod", t(17, 9), "failed", "q2"),
        deployment("argocd:quiet-prod:4", "argocd", "quiet-prod", t(17, 10), "failed", "q2"),
    )
    build(lake, settings, mode="full", as_of=AS_OF)
    return lake, settings


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Lake, Settings]:
    return quiet_failures_lake(tmp_path_factory.mktemp("not-recovered"))


def figures(built: tuple[Lake, Settings], table: str, where: str, **params: Any) -> dict[str, Any]:
    lake, settings = built
    where += " and environment = 'production' and band_set = '2023'"
    with reading(lake, settings) as con:
        row = one(mart(con, table, where, **params))
    return {name: row[name] for name in FIGURES}


@pytest.mark.parametrize("mode", ["full", "light"])
def test_the_application_row_counts_the_failures_not_recovered_beside_the_median(
    built: tuple[Lake, Settings], mode: str
) -> None:
    where = "app_id = 'quiet' and period = $period and correlation_mode = $mode"
    last_30d = figures(built, "mv_dora_app_period", where, period="last_30d", mode=mode)
    assert last_30d == dict(zip(FIGURES, (3, 4, 1, 2.0, "ok", "high", 2), strict=True))
    last_7d = figures(built, "mv_dora_app_period", where, period="last_7d", mode=mode)
    assert last_7d == dict(zip(FIGURES, (2, 2, 0, None, "not recovered", None, 2), strict=True))


def test_a_team_sums_its_applications_failures_not_recovered(built: tuple[Lake, Settings]) -> None:
    where = "level = 'team' and level_id = 't2' and period = 'last_30d' and correlation_mode = 'full'"
    t2 = figures(built, "mv_dora_group_period", where)
    assert t2 == dict(zip(FIGURES, (5, 6, 1, 2.0, "ok", "high", 4), strict=True))
