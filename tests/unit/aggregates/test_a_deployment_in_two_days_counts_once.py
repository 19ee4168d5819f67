"""A deployment an ingest run stopped while moving it to another day: its finish given again on a later day, it is
written there before it leaves its old day, so until the next run the raw events hold it on both days. Every count
takes it once, at the later of its two finishes, as stg_deployments keeps it: the lead time of a request it handed
to ArgoCD and the mapping coverage too. Worked out by hand on the estate of estate.py."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from lakehouse.aggregates.build import build
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.unit.aggregates.estate import AS_OF, deployment, estate_lake, t, write
from tests.unit.aggregates.test_build import assert_same_mart, ingest
from tests.unit.aggregates.test_kpis import mart, merged_and_listed, one, reading

# shop-api's pipeline (GitLab project 11) hands the release to ArgoCD in G301: a hand-off, since ArgoCD has deployed
# shop-api since the 1st. First read finished on the 18th at 22:00, then GitLab gave its finish again: the 19th, 10:30.
HANDED_OFF_FIRST = deployment("gitlab:301", "gitlab", "11", t(18, 22), "succeeded", "c10")
HANDED_OFF_MOVED = HANDED_OFF_FIRST | {"started_at": t(19, 10, 28), "finished_at": t(19, 10, 30)}
# ArgoCD syncs shop-api on the 19th at 12:00 too, beside the estate's D2 (10:00) and the rollback D3 (13:00).
SYNC = deployment("argocd:shop-api-prod:4", "argocd", "shop-api-prod", t(19, 12), "succeeded", "r3")
# MR 10, merged on the 18th at 20:00; GitLab lists it in G301.
MERGED = {10: t(18, 20)}
LISTED = {301: [10]}


def lake_with(path: Path, *events: dict[str, Any]) -> tuple[Lake, Settings]:
    """The estate with the sync, MR 10 listed in G301, and `events`."""
    lake, settings = estate_lake(path)
    write(lake, "deploys/deployment_events", SYNC, *events)
    merged_and_listed(lake, 11, MERGED, LISTED)
    return lake, settings


def lead_time_of_mr_10(lake: Lake, settings: Settings) -> tuple[str, float, str]:
    with reading(lake, settings) as built:
        row = one(mart(built, "mv_lead_times", "mr_id = 10"))
    return row["deployment_key"], row["lead_time_hours"], row["match_rule"]


def deployments_covered(lake: Lake, settings: Settings) -> tuple[int, int]:
    with reading(lake, settings) as built:
        row = one(mart(built, "mv_mapping_coverage", "record_kind = 'deployment'"))
    return row["records"], row["attributed"]


# MR 10 ships with the first sync at or after G301's hand-off, 10:30 on the 19th: the sync at 12:00 (not D2 at
# 10:00, the first after the earlier finish; nor D3, a rollback): 16 hours after its merge.
SHIPPED = ("argocd:shop-api-prod:4", pytest.approx(16.0), "gitops hand-off")
# The estate's 8 deployment events of the 30 days before AS_OF (all attributed but gitlab:103, to staging), the sync
# and G301, once: 10 deployments, 9 attributed.
COVERED = (10, 9)


def test_a_full_build_counts_a_deployment_held_on_two_days_once_at_its_later_finish(tmp_path: Path) -> None:
    lake, settings = lake_with(tmp_path, HANDED_OFF_FIRST, HANDED_OFF_MOVED)
    build(lake, settings, mode="full", as_of=AS_OF)
    assert lead_time_of_mr_10(lake, settings) == SHIPPED
    assert deployments_covered(lake, settings) == COVERED


def test_the_coverage_leaves_out_a_deployment_whose_later_finish_is_after_as_of(tmp_path: Path) -> None:
    """G302, shop-db's (project 12, which ArgoCD does not deploy), read as finished on the 19th at 15:00, then again on
    the 20th at 11:00, after AS_OF (10:00): stg_deployments keeps the 20th's, which has not happened yet as the build
    counts, in the coverage either. The deployments are those of the test above: 10, 9 attributed."""
    first = deployment("gitlab:302", "gitlab", "12", t(19, 15), "succeeded", "s2")
    moved = first | {"started_at": t(20, 10, 58), "finished_at": t(20, 11)}
    lake, settings = lake_with(tmp_path, HANDED_OFF_MOVED, first, moved)
    build(lake, settings, mode="full", as_of=AS_OF)
    assert deployments_covered(lake, settings) == COVERED
    with reading(lake, settings) as built:
        kept = one(mart(built, "mv_deployments", "deployment_key = 'gitlab:302'"))
    assert kept["finished_at"] == t(20, 11)


def test_builds_after_a_run_stopped_mid_move_count_it_as_a_full_rebuild_does(tmp_path: Path) -> None:
    """A full build as of AS_OF finds G301 on the 18th alone. Then a deploys run writes it on the 19th, and stops
    before it removes it from the 18th. The hourly build an hour later takes the later finish, and gives the mart a
    full build of that lake does; the next daily build counts G301 once in the coverage."""
    lake, settings = lake_with(tmp_path / "incremental", HANDED_OFF_FIRST)
    build(lake, settings, mode="full", as_of=AS_OF)
    ingest(lake, "deploys/deployment_events", HANDED_OFF_MOVED)
    assert build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=1)).mode == "hourly"
    assert lead_time_of_mr_10(lake, settings) == SHIPPED

    full_lake, full_settings = lake_with(tmp_path / "full", HANDED_OFF_FIRST, HANDED_OFF_MOVED)
    build(full_lake, full_settings, mode="full", as_of=AS_OF + timedelta(hours=1))
    assert_same_mart(lake, full_lake, "hourly")

    assert build(lake, settings, mode="daily", as_of=AS_OF + timedelta(hours=2)).mode == "daily"
    assert deployments_covered(lake, settings) == COVERED
