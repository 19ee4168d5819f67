"""A deployment a daily or full build settled, given a later finish on a recent day, counts once in the next hourly
build, on its new day, as a full rebuild counts it.

The deploys ingest rewrites only the last 30 days: the new finish lands on a recent day and the deployment's old day,
before the settled part's cut, keeps its old record. Both records are then in the lake; the later finish is the one
kept.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from lakehouse.aggregates.build import build
from lakehouse.schemas import get_dataset
from tests.unit.aggregates.estate import AS_OF, estate_lake, rows, t
from tests.unit.aggregates.test_build import BEFORE_THE_CUT, assert_same_mart, ingest, mart_snapshot


def moved(deployment_key: str) -> dict:
    """The deployment of BEFORE_THE_CUT with that key, finished again on 19 Nov at 09:00."""
    old = next(r for r in BEFORE_THE_CUT if r["deployment_key"] == deployment_key)
    return old | {"started_at": t(19, 8, 58), "finished_at": t(19, 9)}


@pytest.mark.parametrize(
    ("deployment_key", "revision"),
    [
        ("gitlab:201", "s0"),  # settled: its next success (gitlab:202) finished on 20 Sep
        ("gitlab:202", "s5"),  # settled, and the success the carried gitlab:203 follows
    ],
)
def test_a_deployment_moved_from_before_the_cut_counts_once_in_the_hourly_build(
    tmp_path: Path, deployment_key: str, revision: str
) -> None:
    lake, settings = estate_lake(tmp_path / "hourly")
    lake.write_days(get_dataset("deploys/deployment_events"), rows("deploys/deployment_events", *BEFORE_THE_CUT))
    build(lake, settings, mode="full", as_of=AS_OF)
    ingest(lake, "deploys/deployment_events", moved(deployment_key))
    result = build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=1))
    assert result.mode == "hourly"

    # By hand: once, on 19 Nov at 09:00, after the estate's gitlab:102 (s1, 18 Nov). Its revision ran nowhere
    # before on shop-db (its old record is replaced), so it is no rollback.
    found = [r for r in mart_snapshot(lake)["mv_deployments"] if r["deployment_key"] == deployment_key]
    assert [(r["finished_at"], r["revision"]) for r in found] == [(t(19, 9), revision)]
    assert found[0]["previous_revision"] == "s1"
    assert not found[0]["is_rollback"]

    full_lake, full_settings = estate_lake(tmp_path / "full")
    full_lake.write_days(get_dataset("deploys/deployment_events"), rows("deploys/deployment_events", *BEFORE_THE_CUT))
    ingest(full_lake, "deploys/deployment_events", moved(deployment_key))
    build(full_lake, full_settings, mode="full", as_of=AS_OF + timedelta(hours=1))
    assert_same_mart(lake, full_lake, "hourly")
