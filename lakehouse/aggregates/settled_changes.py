"""The settled change requests: what a daily or full build keeps so that an hourly build reads and attributes only
the changes a later version or deployment can still alter.

A change's row in `mv_changes`, and the attempt it covers (`15_stg_change_deployments`), depend on its versions up
to as_of, the mapping, whether its work ended before as_of, and the attempts finished within an hour of its work
window. None of these moves for a change created before the settled deployments' `cut`
(lakehouse.aggregates.settled_deployments) whose every version was updated before their `recent_from`, whose work
ended over an hour before `recent_from`, and whose covered attempt, if any, is a settled one, so long as:
- the deployments before `recent_from` are the settled ones (their part is in use, with the same cut);
- the change requests' days before the cut are unchanged (the dataset is partitioned by a change's creation, so a
  new version of an old change rewrites an old day).

A daily or full build stores, beside its history copies:
- `mv_changes.parquet` and `stg_change_deployments.parquet`: the settled changes' rows of the two tables;
- `change_versions.parquet`: the raw versions of the changes created before the cut that are not settled.

An hourly build that can use them reads the changes created from the cut on and those carried versions
(`11_stg_changes`), so its `stg_changes` holds only the changes not settled; the settled rows are added to
`stg_change_deployments` and `mv_changes` once those are built. Otherwise it reads every change, as a daily build
does.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta

import duckdb

from lakehouse.aggregates import footers
from lakehouse.aggregates.settled_deployments import SETTLED_PREFIX, Settled
from lakehouse.storage import Lake

MANIFEST_KEY = "rosetta_settled_changes"
OBJECTS = ("mv_changes", "stg_change_deployments", "change_versions")
# 15_stg_change_deployments widens a change's window by this much after its work ended.
COVER_SLACK = timedelta(hours=1)


def key(name: str) -> str:
    return f"{SETTLED_PREFIX}/{name}.parquet"


def manifest(deployments: Settled, change_versions: dict[date, str]) -> str:
    """What the settled changes are valid for: the settled deployments, and the change requests' days before the cut
    with their versions."""
    before = sorted((d.isoformat(), v) for d, v in change_versions.items() if d < deployments.cut.date())
    digest = hashlib.sha256(json.dumps(before).encode()).hexdigest()
    return json.dumps({"deployments": deployments.manifest(), "changes": digest}, sort_keys=True)


def register_empty(con: duckdb.DuckDBPyConnection) -> None:
    """No settled change: `11_stg_changes` reads every version."""
    con.execute("create or replace view settled_change_versions as select * from raw_servicenow_changes limit 0")


def usable(
    con: duckdb.DuckDBPyConnection,
    lake: Lake,
    keys: set[str],
    deployments: Settled | None,
    change_versions: dict[date, str],
) -> bool:
    """Whether the stored settled changes hold in this build (`keys`: the stored keys under state/build/)."""
    if deployments is None or any(key(name) not in keys for name in OBJECTS):
        return False
    try:
        texts = {footers.read(con, lake.url_of(key(name)), MANIFEST_KEY) for name in OBJECTS}
    except duckdb.Error:
        return False
    return texts == {manifest(deployments, change_versions)}


def register_stored(con: duckdb.DuckDBPyConnection, lake: Lake) -> None:
    """`settled_change_versions` for `11_stg_changes`, from the stored part (its bound, the cut, is the build's to
    set)."""
    for name in OBJECTS:
        con.execute(f"set variable settled_{name}_url = $url", {"url": lake.url_of(key(name))})
    con.execute(
        "create or replace table settled_change_versions as "
        "select * from read_parquet(getvariable('settled_change_versions_url'))"
    )


def complete(con: duckdb.DuckDBPyConnection, table: str) -> int:
    """`stg_change_deployments` or `mv_changes` whole, once built from the changes not settled: the settled rows
    added. Returns the rows added."""
    assert table in ("stg_change_deployments", "mv_changes")
    added = con.execute(
        f"insert into {table} by name select * from read_parquet(getvariable('settled_{table}_url'))"  # noqa: S608
    ).fetchone()
    return int(added[0]) if added else 0


def queries(con: duckdb.DuckDBPyConnection, deployments: Settled) -> dict[str, tuple[str, dict[str, object]]]:
    """Each object of the settled changes, as a query over a daily or full build's tables once `mv_changes` is
    built, with its bound values. Marks the settled changes first (`settled_change_ids`)."""
    bounds: dict[str, object] = {"cut": deployments.cut, "recent_from": deployments.recent_from}
    con.execute(
        "create or replace temp table settled_change_ids as "
        "select c.sys_id from stg_changes as c "
        "left join stg_change_deployments as cd on c.sys_id = cd.change_sys_id "
        "left join stg_deployments as d on cd.deployment_key = d.deployment_key "
        "anti join (select distinct sys_id from raw_servicenow_changes "
        "    where sys_updated_on >= $recent_from or sys_created_on >= $cut) as later using (sys_id) "
        "where c.sys_created_on < $cut and c.change_end < $ended_before "
        "and (cd.deployment_key is null or d.next_success_at < $recent_from)",
        bounds | {"ended_before": deployments.recent_from - COVER_SLACK},
    )
    return {
        "mv_changes": ("select m.* from mv_changes as m semi join settled_change_ids using (sys_id)", {}),
        "stg_change_deployments": (
            "select cd.* from stg_change_deployments as cd "
            "semi join settled_change_ids as s on cd.change_sys_id = s.sys_id",
            {},
        ),
        "change_versions": (
            "select r.* from raw_servicenow_changes as r anti join settled_change_ids using (sys_id) "
            "where r.sys_created_on < $cut",
            {"cut": deployments.cut},
        ),
    }
