"""Lead times an hourly build need not find again: those the last daily or full build found before the cut.

A merge request's lead time runs to the first deployment that shipped it (`22_mv_lead_times`). Where that deployment
finished before the settled deployments' `recent_from` (lakehouse.aggregates.settled_deployments), and the request
was merged before it too, nothing later changes the row, so long as:
- the deployments before that instant are the settled ones (their part is in use);
- the merge requests and GitLab's deployment links of the days before the cut are unchanged (both datasets are
  partitioned by the request's merge: a link listing an older request lands in an older day);
- each project's deploy branches and default branch (`stg_deploy_branches`) are as the last daily or full build
  found them, which this module keeps in `state/build/settled/stg_deploy_branches.parquet`;
- no link of a request merged from `recent_from` on lists a deployment finished before it (a deployment to a request
  merged after it, which the data should not hold: a deployment listed no longer ships the requests none lists).

An hourly build then finds the lead times of the other requests only: those merged from `recent_from` on, and those
merged before it that had not shipped by then (or were not counted), over the deployments from `recent_from` on
(such a request cannot have shipped earlier). Its rows replace theirs in the month objects they fall in; the other
months are left as they are. Otherwise it finds every lead time, as a daily build does.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime

import duckdb

from lakehouse.aggregates import footers
from lakehouse.aggregates.settled_deployments import SETTLED_PREFIX, Settled
from lakehouse.schemas import REGISTRY
from lakehouse.storage import Lake

TABLE = "mv_lead_times"
# A stored lead time that holds: merged and shipped before `recent_from` (bound as $recent_from). A request has one row
# per environment, so a stored row holds exactly when its request and environment are among the settled ones.
HOLDS = "merged_at < $recent_from and deployed_at < $recent_from"
BRANCHES_KEY = f"{SETTLED_PREFIX}/stg_deploy_branches.parquet"
MANIFEST_KEY = "rosetta_settled_lead_times"
REQUEST_DATASETS = (REGISTRY["gitlab/merge_requests"], REGISTRY["gitlab/deployment_merge_requests"])


def manifest(deployments: Settled, versions: dict[str, dict[date, str]]) -> str:
    """What kept branches are valid for: the settled deployments, and the request datasets' days before the cut."""
    days = {
        d.id: sorted((day.isoformat(), v) for day, v in versions.get(d.id, {}).items() if day < deployments.cut.date())
        for d in REQUEST_DATASETS
    }
    digest = hashlib.sha256(json.dumps(days, sort_keys=True).encode()).hexdigest()
    return json.dumps({"deployments": deployments.manifest(), "requests": digest}, sort_keys=True)


def register_empty(con: duckdb.DuckDBPyConnection) -> None:
    """No settled lead time: `22_mv_lead_times` finds every one."""
    con.execute("create or replace table settled_lead_times (mr_id bigint, environment varchar)")


def usable(
    con: duckdb.DuckDBPyConnection,
    lake: Lake,
    keys: set[str],
    deployments: Settled | None,
    versions: dict[str, dict[date, str]],
) -> list[str] | None:
    """The month objects of the stored lead times, when their rows before the settled deployments' `recent_from`
    hold in this build (see the module's docstring); None when they may not. Run once `stg_deploy_branches` and
    `stg_deployments` are built."""
    if deployments is None or BRANCHES_KEY not in keys:
        return None
    objects = lake.list_keys(f"mart/{TABLE}/")
    months = sorted(k for k in objects if "/month=" in k)
    if not months or len(months) != len(objects):
        return None  # no lead time yet (one empty object), or a table stored before it was by month
    try:
        if footers.read(con, lake.url_of(BRANCHES_KEY), MANIFEST_KEY) != manifest(deployments, versions):
            return None
        con.execute("set variable settled_branches_url = $url", {"url": lake.url_of(BRANCHES_KEY)})
        changed = con.execute(
            "with stored as (select * from read_parquet(getvariable('settled_branches_url'))) "
            "select (select count(*) from (select * from stg_deploy_branches except all select * from stored)) "
            "+ (select count(*) from (select * from stored except all select * from stg_deploy_branches))"
        ).fetchone()
    except duckdb.Error:
        return None
    if changed is None or changed[0]:
        return None
    relisted = con.execute(
        "select count(*) from raw_gitlab_deployment_merge_requests as l "
        "inner join stg_deployments as d on d.deployment_key = 'gitlab:' || l.deployment_id "
        "where l.merged_at >= $recent_from and d.finished_at < $recent_from",
        {"recent_from": deployments.recent_from},
    ).fetchone()
    if relisted is None or relisted[0]:
        return None
    return months


def register(con: duckdb.DuckDBPyConnection, lake: Lake, months: list[str], recent_from: datetime) -> None:
    """`settled_lead_times`: the requests whose stored rows hold (merged and shipped before `recent_from`, which is
    also the bound `22_mv_lead_times` finds the others' deployments from: the build's to set)."""
    con.execute("set variable settled_lead_time_months = $urls", {"urls": [lake.url_of(k) for k in months]})
    con.execute(
        "create or replace table stored_lead_times as "
        "select mr_id, environment, merged_at, deployed_at "
        "from read_parquet(getvariable('settled_lead_time_months'), hive_partitioning = false)"
    )
    con.execute(
        # The condition is this module's constant; the instant is bound.
        f"create or replace table settled_lead_times as select mr_id, environment from stored_lead_times where {HOLDS}",  # noqa: S608
        {"recent_from": recent_from},
    )


def months_to_patch(con: duckdb.DuckDBPyConnection, recent_from: datetime) -> list[tuple[int, int]]:
    """The months whose objects an hourly build that found only the recent lead times replaces: those holding a row
    it found again, or one it finds now."""
    rows = con.execute(
        "select distinct strftime(merged_at, '%Y-%m') from ("
        "select merged_at from stored_lead_times where merged_at >= $recent_from or deployed_at >= $recent_from "
        "union all select merged_at from mv_lead_times)",
        {"recent_from": recent_from},
    ).fetchall()
    return sorted((int(name[:4]), int(name[5:])) for (name,) in rows)
