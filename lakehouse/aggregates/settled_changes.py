"""The settled change requests: what a daily or full build keeps so that an hourly build reads and attributes only
the changes a later version or deployment can still alter.

A change's row in `mv_changes`, and the attempt it covers (`15_stg_change_deployments`), depend on its versions up
to as_of, the mapping, whether its work ended before as_of, and the attempts finished within an hour of its work
window. None of these moves for a change created before the settled deployments' `cut`
(lakehouse.aggregates.settled_deployments) whose every version was updated before their `recent_from`, whose work
ended over an hour before `recent_from`, and whose covered attempt, if any, is a settled one, so long as the
deployments before `recent_from` are the settled ones (their part is in use, with the same cut) and its versions
are those read then. The dataset is partitioned by a change's creation, and every version of a settled change was
created the same day: so a change's versions are unchanged while its creation day's partition is.

A daily or full build stores, beside its history copies:
- `mv_changes.parquet` and `stg_change_deployments.parquet`: the settled changes' rows of the two tables;
- `change_versions.parquet`: the raw versions of the changes created before the cut that are not settled.

An hourly build that can use them reads the changes created from the cut on, those carried versions, and every
change of a day before the cut written since (a new version of an old change, closed long ago and edited again)
(`11_stg_changes`), so its `stg_changes` holds only the changes not settled; the settled rows of the other days are
added to `stg_change_deployments` and `mv_changes` once those are built. Otherwise (the settled deployments out of
date, say) it reads every change, as a daily build does.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import duckdb

from lakehouse.aggregates import footers
from lakehouse.aggregates.settled_deployments import Settled, key
from lakehouse.duckdb_session import first_row
from lakehouse.storage import Lake

MANIFEST_KEY = "rosetta_settled_changes"
OBJECTS = ("mv_changes", "stg_change_deployments", "change_versions")
# 15_stg_change_deployments widens a change's window by this much after its work ended.
COVER_SLACK = timedelta(hours=1)


def manifest(deployments: Settled, change_versions: dict[date, str]) -> str:
    """What the settled changes are valid for: the settled deployments, and the change requests' days before the cut
    with their versions."""
    return json.dumps({"deployments": deployments.manifest(), "days": _before_cut(deployments, change_versions)})


def _before_cut(deployments: Settled, change_versions: dict[date, str]) -> dict[str, str]:
    return {d.isoformat(): v for d, v in sorted(change_versions.items()) if d < deployments.cut.date()}


def register_empty(con: duckdb.DuckDBPyConnection) -> None:
    """No settled change: `11_stg_changes` reads every version."""
    con.execute("create or replace view settled_change_versions as select * from raw_servicenow_changes limit 0")


def usable(
    con: duckdb.DuckDBPyConnection,
    lake: Lake,
    keys: set[str],
    deployments: Settled | None,
    change_versions: dict[date, str],
) -> list[date] | None:
    """The days before the cut written, added or removed since the stored settled changes were made, whose changes
    this build reads again, when the rest holds (`keys`: the stored keys under state/build/); None when it does
    not, or the part cannot be read (the next daily build makes it again)."""
    if deployments is None or any(key(name) not in keys for name in OBJECTS):
        return None
    try:
        text = footers.read_shared(con, [lake.url_of(key(name)) for name in OBJECTS], MANIFEST_KEY)
        if text is None:
            return None
        stored = json.loads(text)
        held = stored["days"]
        if stored["deployments"] != deployments.manifest() or not isinstance(held, dict):
            return None
    except (duckdb.Error, ValueError, KeyError, TypeError):
        return None
    now = _before_cut(deployments, change_versions)
    return sorted(date.fromisoformat(d) for d in held.keys() | now.keys() if held.get(d) != now.get(d))


# Whether a change was created on a day read again (the build's time zone is UTC, as the partitions' days are).
_REREAD = "list_contains(cast(getvariable('settled_changes_reread') as date[]), cast({column} as date))"


def register_stored(con: duckdb.DuckDBPyConnection, lake: Lake, reread: list[date]) -> None:
    """`settled_change_versions` for `11_stg_changes`: the carried versions, and every version of the days before the
    cut read again (`reread`); the bound, the cut, is the build's to set."""
    for name in OBJECTS:
        con.execute(f"set variable settled_{name}_url = $url", {"url": lake.url_of(key(name))})
    con.execute("set variable settled_changes_reread = $days", {"days": reread})
    query = "select * from read_parquet(getvariable('settled_change_versions_url'))"
    if reread:
        # The condition is this module's constant; the days are bound.
        day = _REREAD.format(column="sys_created_on")
        query += f" where not {day} union all by name select * from raw_servicenow_changes where {day}"  # noqa: S608
    con.execute(f"create or replace table settled_change_versions as {query}")


def complete(con: duckdb.DuckDBPyConnection, table: str, reread: list[date]) -> int:
    """`stg_change_deployments` or `mv_changes` whole, once built from the changes not settled: the settled rows of
    the days not read again (`reread`) added. Returns the rows added."""
    created = {"stg_change_deployments": "change_created_on", "mv_changes": "sys_created_on"}[table]
    extra = " exclude (change_created_on)" if created == "change_created_on" else ""
    where = f" where not {_REREAD.format(column=created)}" if reread else ""
    added = first_row(
        con.execute(
            # Names from the dict above and this module's constant.
            f"insert into {table} by name select *{extra} from read_parquet(getvariable('settled_{table}_url')){where}"  # noqa: S608
        )
    )
    return int(added[0]) if added else 0


def queries(con: duckdb.DuckDBPyConnection, deployments: Settled) -> dict[str, tuple[str, dict[str, object]]]:
    """Each object of the settled changes, as a query over a daily or full build's tables once `mv_changes` is
    built, with its bound values. Marks the settled changes first (`settled_change_ids`)."""
    bounds: dict[str, object] = {"cut": deployments.cut, "recent_from": deployments.recent_from}
    con.execute(
        "create or replace table settled_change_ids as "
        "select c.sys_id from stg_changes as c "
        "left join stg_change_deployments as cd on c.sys_id = cd.change_sys_id "
        "left join stg_deployments as d on cd.deployment_key = d.deployment_key "
        # Every version before recent_from, and created the same day before the cut (so in one partition).
        "anti join (select sys_id from raw_servicenow_changes group by sys_id having max(sys_updated_on) >= "
        "$recent_from or max(sys_created_on) >= $cut or min(sys_created_on) < max(sys_created_on)) using (sys_id) "
        "where c.sys_created_on < $cut and c.change_end < $ended_before "
        "and (cd.deployment_key is null or d.next_success_at < $recent_from)",
        bounds | {"ended_before": deployments.recent_from - COVER_SLACK},
    )
    return {
        "mv_changes": ("select m.* from mv_changes as m semi join settled_change_ids using (sys_id)", {}),
        # With the change's creation, to leave out those of a day read again.
        "stg_change_deployments": (
            "select cd.*, c.sys_created_on as change_created_on from stg_change_deployments as cd "
            "inner join stg_changes as c on cd.change_sys_id = c.sys_id "
            "semi join settled_change_ids as s on cd.change_sys_id = s.sys_id",
            {},
        ),
        "change_versions": (
            "select r.* from raw_servicenow_changes as r anti join settled_change_ids using (sys_id) "
            "where r.sys_created_on < $cut",
            {"cut": deployments.cut},
        ),
    }
