"""Deployment rows an hourly build need not find again: the `mv_deployments` rows of the attempts nothing since the
last build can have moved.

An attempt's row (`21_mv_deployments`) is made from its attribution (`stg_deployments`), the incident links naming
it (`mv_incident_links`), the change requests covering it (`stg_change_deployments`), and, for a fix forward, the
links of the attempt before it. In an hourly build that takes the settled deployments, the settled changes and the
carried links (lakehouse.aggregates.settled_deployments, settled_changes, settled_links), none of these moves for a
settled attempt (one whose next success finished before `recent_from`), unless:
- a link names it whose incident is found again (its links may be others now), or named it in the stored table
  (that link may be gone), or whose incident was restored from `recent_from` on (whether it was restored by as_of
  may differ);
- a change read again covers it, or covered it in the stored `mv_changes` (so may not now), as may one created on a
  day read again (it may be gone);
- it is the next success of an attempt of the first kind (whether it fixed forward may differ).
Every other settled attempt's stored row holds: what it compares with as_of (a success, a rollback, an incident's
opening or restoration, a change's end) is before `recent_from`, and so before either build's as_of.

So the build finds the rows of the other attempts only, and carries the stored rows of the months it writes: those
holding an attempt found now, and every month from `recent_from`'s on (an attempt attributed again may be gone
from them, a GitLab deployment become a hand-off). The other months' objects stay as they are, and so does the
record of their days the last build left (build._reach_event_days). Each entity's latest attempt is found, never
carried (no success follows it), so `23_mv_deployments_latest` finds it in the months written; so does the attempt
before one gone (its next success was the one gone, or none).

The build finds every row instead when a month it writes lacks a carried attempt, or a stored object cannot be read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

import duckdb

from lakehouse.duckdb_session import first_row
from lakehouse.storage import Lake

TABLE = "mv_deployments"


@dataclass(frozen=True)
class Carried:
    """The months an hourly build writes of `mv_deployments` ('YYYY-MM'), the rows it carries into them, and the
    table's month objects as the build listed them (key: month)."""

    months: frozenset[str]
    rows: int
    stored: Mapping[str, str]


def register_empty(con: duckdb.DuckDBPyConnection) -> None:
    """No carried row: `21_mv_deployments` finds every one."""
    con.execute("create or replace table deployments_found_again (deployment_key varchar)")
    con.execute("set variable deployment_rows_from = cast(null as timestamptz)")


def register(con: duckdb.DuckDBPyConnection, lake: Lake, recent_from: datetime, reread: list[date]) -> Carried | None:
    """What `21_mv_deployments` finds: the rows of the attempts finished from the variable `deployment_rows_from` on,
    and of those in `deployments_found_again` (the others are settled, and their stored rows hold); and
    `carried_deployment_rows`, the stored rows of the others in the months the build writes. Run once
    `mv_incident_links` is built with the carried links, and the settled changes and deployments are added to
    `stg_change_deployments` and `stg_deployments`. None when the stored table cannot be carried (see the module's
    docstring): every row is found then."""
    carried = _carry(con, lake, recent_from, reread)
    if carried is None:
        register_empty(con)
    return carried


def _carry(con: duckdb.DuckDBPyConnection, lake: Lake, recent_from: datetime, reread: list[date]) -> Carried | None:
    objects = lake.list_keys(f"mart/{TABLE}/")
    months = {k: m for k in objects if (m := Lake.mart_month_of(k))}
    changes = lake.list_keys("mart/mv_changes/")
    if not months or len(months) != len(objects) or not changes:
        return None
    try:
        # Every month object readable: the build may add any of them to the table (add_months).
        con.execute("select count(*) from parquet_metadata($urls)", {"urls": [lake.url_of(k) for k in months]})
        _register_found_again(con, [lake.url_of(k) for k in changes], recent_from, reread)
        # The attempts found: those finished from recent_from on, and those found again (the others are settled).
        found = con.execute(
            "select distinct utc_month(finished_at) from stg_deployments "
            "where finished_at >= $recent_from "
            "or deployment_key in (select deployment_key from deployments_found_again)",
            {"recent_from": recent_from},
        ).fetchall()
        first = recent_from.strftime("%Y-%m")
        # recent_from's month at least: a lake none of whose attempts came since still carries that month's.
        written = sorted({m for (m,) in found if m is not None} | {m for m in months.values() if m >= first} | {first})
        # The settled attempts carried in the months written: those stg_deployments took from the settled part, whose
        # next success finished before recent_from (those attributed again have a later one, or none).
        con.execute(
            "create or replace temp table carried_deployments as select deployment_key from stg_deployments "
            "anti join deployments_found_again using (deployment_key) "
            # The instant first spares the month's text to the other attempts.
            "where next_success_at < $recent_from and finished_at >= $first "
            "and list_contains($months, utc_month(finished_at))",
            {
                "recent_from": recent_from,
                "months": written,
                "first": datetime.strptime(written[0], "%Y-%m").replace(tzinfo=UTC),
            },
        )
        urls = sorted(lake.url_of(k) for k, m in months.items() if m in written)
        con.execute("set variable carried_deployment_months = $urls", {"urls": urls})
        con.execute(
            "create or replace table carried_deployment_rows as select * "
            "from read_parquet(getvariable('carried_deployment_months'), hive_partitioning = false) "
            "semi join carried_deployments using (deployment_key)"
        )
        expected = first_row(con.execute("select count(*) from carried_deployments"))
        carried = first_row(con.execute("select count(*) from carried_deployment_rows"))
    except duckdb.Error:
        return None
    if expected is None or carried is None or expected[0] != carried[0]:
        # A month written lacks a carried attempt's row: its object is not what the last build found.
        return None
    con.execute("set variable deployment_rows_from = $at", {"at": recent_from})
    return Carried(frozenset(written), int(carried[0]), months)


def complete(con: duckdb.DuckDBPyConnection, carried: Carried) -> Carried:
    """`mv_deployments` as the months written hold it, once `21_mv_deployments` found the other rows: the carried
    rows added."""
    added = first_row(con.execute(f"insert into {TABLE} by name select * from carried_deployment_rows"))  # noqa: S608
    con.execute("drop table carried_deployment_rows")
    return replace(carried, rows=int(added[0]) if added else 0)


def add_months(con: duckdb.DuckDBPyConnection, lake: Lake, carried: Carried, first_day: date) -> Carried:
    """`mv_deployments` with the stored rows of the months from `first_day`'s on that the build does not write: the
    day tables rebuild the days from `first_day` on, and count each day's deployments. Every attempt of such a month
    is carried (those found are in the months written), so its rows are the stored ones, and its object is not
    written again (the fingerprint in its footer is theirs)."""
    first = first_day.strftime("%Y-%m")
    extra = {k: m for k, m in carried.stored.items() if m >= first and m not in carried.months}
    if not extra:
        return carried
    added = first_row(
        con.execute(
            f"insert into {TABLE} by name select * from read_parquet($urls, hive_partitioning = false)",  # noqa: S608
            {"urls": sorted(lake.url_of(k) for k in extra)},
        )
    )
    rows = carried.rows + (int(added[0]) if added else 0)
    return replace(carried, months=carried.months | frozenset(extra.values()), rows=rows)


def _register_found_again(
    con: duckdb.DuckDBPyConnection, changes: list[str], recent_from: datetime, reread: list[date]
) -> None:
    """`deployments_found_again`: the attempts finished before `recent_from` whose rows are found: those not settled,
    and the settled ones whose rows may have moved (see the module's docstring).
    `stored_links`, `settled_links` and `read_again` are settled_links.register's."""
    con.execute("set variable stored_change_objects = $urls", {"urls": changes})
    con.execute(
        "create or replace temp table linked_again as "
        # Links of the incidents found again (those not carried), and those restored from recent_from on.
        "select l.deployment_key from mv_incident_links as l "
        "anti join settled_links as s on l.incident_sys_id = s.incident_sys_id "
        "union select deployment_key from mv_incident_links where restored_at >= $recent_from "
        # What the stored table linked of the incidents found again.
        "union select l.deployment_key from stored_links as l "
        "anti join settled_links as s on l.incident_sys_id = s.incident_sys_id",
        {"recent_from": recent_from},
    )
    stored_changes = (
        "select * from read_parquet(getvariable('stored_change_objects'), hive_partitioning = false, "
        "union_by_name = true) where deployment_key is not null"
    )
    # Covered in the stored mv_changes by a change read again, or created on a day read again (it may be gone).
    covered = f"select s.deployment_key from ({stored_changes}) as s semi join stg_changes as c on s.sys_id = c.sys_id"  # noqa: S608 - this module's text
    if reread:
        covered += (
            f" union select deployment_key from ({stored_changes}) "  # noqa: S608 - as above
            "where list_contains(cast(getvariable('settled_changes_reread') as date[]), cast(sys_created_on as date))"
        )
    con.execute(
        "create or replace table deployments_found_again as "  # noqa: S608 - as above
        # The attempts not settled that finished before recent_from (their next success came later, or none).
        "select deployment_key from stg_deployments "
        "where finished_at < $recent_from and coalesce(next_success_at >= $recent_from, true) "
        "union select deployment_key from linked_again "
        # The next success of an attempt linked again: whether it fixed forward may differ.
        "union select d.next_success_key from stg_deployments as d semi join linked_again using (deployment_key) "
        "where d.next_success_key is not null "
        # Covered by a change read again.
        f"union select deployment_key from read_again union {covered}",
        {"recent_from": recent_from},
    )
