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

Nor need it read the requests merged before `recent_from`, seven hundred thousand a year, to find those few. A daily
or full build keeps, beside the branches and under the same manifest:
- `stg_merge_requests.parquet`: the requests merged before `recent_from` that count (merged into a branch their
  project deploys from) and whose lead time is not settled, as `stg_merge_requests` holds them. A request settled
  stays so, and one not settled cannot become so: the deployments before `recent_from` are the settled ones;
- `request_targets.parquet`: the branches every request merged before `recent_from` targets, for
  `stg_deploy_branches`.
An hourly build whose requests before the cut are those read then reads the requests merged from `recent_from` on,
adds those carried (`14_stg_merge_requests`) and the targets (`16_stg_deploy_branches`), and so finds the deploy
branches whole. Where the branches, or a link, then show the settled lead times do not hold, it reads every request
again.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime

import duckdb

from lakehouse.aggregates import footers
from lakehouse.aggregates.settled_deployments import SETTLED_PREFIX, Settled, key
from lakehouse.duckdb_session import first_row
from lakehouse.schemas import REGISTRY
from lakehouse.storage import Lake

TABLE = "mv_lead_times"
# A stored lead time that holds: merged and shipped before `recent_from` (bound as $recent_from). A request has one row
# per environment, so a stored row holds exactly when its request and environment are among the settled ones.
HOLDS = "merged_at < $recent_from and deployed_at < $recent_from"
BRANCHES_KEY = f"{SETTLED_PREFIX}/stg_deploy_branches.parquet"
# The carried requests' objects (settled_deployments.key(name)), written with the branches' manifest.
REQUEST_OBJECTS = ("stg_merge_requests", "request_targets")
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
        changed = first_row(
            con.execute(
                "with stored as (select * from read_parquet(getvariable('settled_branches_url'))) "
                "select (select count(*) from (select * from stg_deploy_branches except all select * from stored)) "
                "+ (select count(*) from (select * from stored except all select * from stg_deploy_branches))"
            )
        )
    except duckdb.Error:
        return None
    if changed is None or changed[0]:
        return None
    relisted = first_row(
        con.execute(
            "select count(*) from raw_gitlab_deployment_merge_requests as l "
            "inner join stg_deployments as d on d.deployment_key = 'gitlab:' || l.deployment_id "
            "where l.merged_at >= $recent_from and d.finished_at < $recent_from",
            {"recent_from": deployments.recent_from},
        )
    )
    if relisted is None or relisted[0]:
        return None
    return months


def register(
    con: duckdb.DuckDBPyConnection, lake: Lake, months: list[str], recent_from: datetime, *, requests_carried: bool
) -> int:
    """`settled_lead_times`: the requests whose stored rows hold (merged and shipped before `recent_from`, which is
    also the bound `22_mv_lead_times` finds the others' deployments from: the build's to set), and the stored rows
    that do not (`stored_lead_times`). With the requests carried, `stg_merge_requests` holds none whose row holds, so
    the table is left empty. Returns the rows that hold."""
    con.execute("set variable settled_lead_time_months = $urls", {"urls": [lake.url_of(k) for k in months]})
    stored = "read_parquet(getvariable('settled_lead_time_months'), hive_partitioning = false)"
    if requests_carried:
        # The condition is this module's constant; the instant is bound.
        con.execute(
            "create or replace table stored_lead_times as select mr_id, environment, merged_at, deployed_at "  # noqa: S608
            f"from {stored} where not ({HOLDS})",
            {"recent_from": recent_from},
        )
        register_empty(con)
        # The objects' row counts are in their footers: only the rows that do not hold are read.
        total = first_row(con.execute(f"select count(*) from {stored}"))  # noqa: S608
        left = first_row(con.execute("select count(*) from stored_lead_times"))
        return (int(total[0]) if total else 0) - (int(left[0]) if left else 0)
    con.execute(
        "create or replace table stored_lead_times as "  # noqa: S608
        f"select mr_id, environment, merged_at, deployed_at from {stored}"
    )
    con.execute(
        # The condition is this module's constant; the instant is bound.
        f"create or replace table settled_lead_times as select mr_id, environment from stored_lead_times where {HOLDS}",  # noqa: S608
        {"recent_from": recent_from},
    )
    held = first_row(con.execute("select count(*) from settled_lead_times"))
    return int(held[0]) if held else 0


def register_requests_empty(con: duckdb.DuckDBPyConnection) -> None:
    """No carried request: `14_stg_merge_requests` reads every one (the variable requests_merged_from null)."""
    con.execute("set variable requests_merged_from = cast(null as timestamptz)")
    con.execute(
        "create or replace table settled_merge_requests as "
        "select mr_id, project_id, merged_at, merge_commit_sha, target_branch, mr_iid, title, web_url, "
        "cast(null as varchar) as entity_id, "
        "cast(null as varchar) as app_id, cast(null as varchar) as component_id, cast(null as varchar) as environment "
        "from raw_gitlab_merge_requests limit 0"
    )
    con.execute(
        "create or replace table settled_request_targets as "
        "select project_id, cast(null as varchar) as environment, target_branch from raw_gitlab_merge_requests limit 0"
    )


def requests_usable(
    con: duckdb.DuckDBPyConnection,
    lake: Lake,
    keys: set[str],
    deployments: Settled,
    versions: dict[str, dict[date, str]],
) -> bool:
    """Whether the stored carried requests were made from the requests this build reads before the cut, with the
    settled deployments in use (`keys`: the stored keys under state/build/)."""
    urls = [lake.url_of(key(name)) for name in REQUEST_OBJECTS]
    if any(key(name) not in keys for name in REQUEST_OBJECTS):
        return False
    try:
        return footers.read_shared(con, urls, MANIFEST_KEY) == manifest(deployments, versions)
    except duckdb.Error:
        return False


def register_requests(con: duckdb.DuckDBPyConnection, lake: Lake, recent_from: datetime) -> int:
    """The carried requests and targets, from the stored objects, and the first merge instant `14_stg_merge_requests`
    reads every request from (the variable requests_merged_from: a constant, so the scan skips the older row groups).
    Returns the requests carried."""
    con.execute("set variable requests_merged_from = $at", {"at": recent_from})
    for name in REQUEST_OBJECTS:
        con.execute(
            f"create or replace table settled_{name.removeprefix('stg_')} as select * from read_parquet($url)",  # noqa: S608
            {"url": lake.url_of(key(name))},
        )
    carried = first_row(con.execute("select count(*) from settled_merge_requests"))
    return int(carried[0]) if carried else 0


def request_queries(deployments: Settled) -> dict[str, tuple[str, dict[str, object]]]:
    """Each object of the carried requests, as a query over a daily or full build's tables once `mv_lead_times` is
    built, with its bound values."""
    bound: dict[str, object] = {"recent_from": deployments.recent_from}
    return {
        "stg_merge_requests": (
            # The condition is this module's constant; the instant is bound.
            "select m.* from stg_merge_requests as m "  # noqa: S608
            "left join stg_deploy_branches as b on cast(m.project_id as varchar) = b.project_id "
            "and m.environment = b.environment "
            f"anti join (select mr_id, environment from mv_lead_times where {HOLDS}) as s "
            "on m.mr_id = s.mr_id and m.environment = s.environment "
            "where m.merged_at < $recent_from and counts_for_lead_time(m.target_branch, b.branches, b.default_branch)",
            bound,
        ),
        "request_targets": (
            "select distinct project_id, environment, target_branch from stg_merge_requests "
            "where merged_at < $recent_from",
            bound,
        ),
    }


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
