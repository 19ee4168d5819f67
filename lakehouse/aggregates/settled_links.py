"""Incident links an hourly build need not find again: those of the incidents nothing since the last build can
have moved.

An incident's links (`20_mv_incident_links`) are found from its own version at as_of, the deployments finished before
it opened, the change requests covering them, and the Dynatrace problems open when it opened. For an incident opened
before `links_recent_from`, none of these moves, so long as:
- the deployments before the settled deployments' `recent_from` are the settled ones (their part is in use), and the
  incident opened before that instant;
- its own versions are those the last build read: the incidents are partitioned by their opening, so the incident
  opened before the first day an ingest wrote since then (the day the build starts from, before the events reach
  further), and its version at as_of is the one at the last build's as_of (none updated since that instant);
- the change requests read again are not about it: none can link it by the rules (on its CI within the window after
  the change's work ended, once the attempt the change covers had finished, or named by it as its cause, once the
  change's window had opened: an earlier attempt in it stands for the one covered when that one came later), and none
  of its links names one of them (the changes settled, lakehouse.aggregates.settled_changes, are as the last build
  found them; a change read again may have covered another attempt then, or none);
- the problems it could be rooted in are unchanged: they are partitioned by their start, which is before the
  incident opened, so a problem written since the last build moves the day the build starts from back to it;
- the windows the rules use are the last build's.

So `links_recent_from` is the earliest of those instants, and an hourly build finds the links of the incidents opened
from it on, over the deployments finished from one window before it (`links_deployments_from`), and carries the
others' links from the stored table: which deployment and change each names, by which rule and with what confidence.
The rest of each row (the incident's priority, when it was restored, whether the link counts) is read again from the
incident, as for a link found now. A daily or full build finds every link.
"""

from __future__ import annotations

from datetime import datetime

import duckdb

from lakehouse.duckdb_session import first_row
from lakehouse.storage import Lake

TABLE = "mv_incident_links"
# A link as carried: the columns 20_mv_incident_links finds, before it reads the rest from the incident.
COLUMNS = "correlation_mode, incident_sys_id, deployment_key, change_sys_id, rule, confidence"
VARIABLES = ("links_recent_from", "links_deployments_from")


def windows(full_window_hours: int, light_window_hours: int) -> list[int]:
    """The rules' windows, as the build's state records them: links are carried only under the same ones."""
    return [full_window_hours, light_window_hours]


def register_empty(con: duckdb.DuckDBPyConnection) -> None:
    """No carried link, no bound: `20_mv_incident_links` finds every link."""
    con.execute(
        "create or replace table settled_links (correlation_mode varchar, incident_sys_id varchar, "
        "deployment_key varchar, change_sys_id varchar, rule varchar, confidence double)"
    )
    for name in VARIABLES:
        con.execute(f"set variable {name} = cast(null as timestamptz)")


def stored(lake: Lake) -> list[str]:
    """The stored table's objects (one empty object when it had no row); none before a first build wrote it."""
    return lake.list_keys(f"mart/{TABLE}/")


def register(
    con: duckdb.DuckDBPyConnection,
    lake: Lake,
    objects: list[str],
    recent_from: datetime,
    read_from: datetime,
    last_as_of: datetime,
    full_window_hours: int,
    window_hours: int,
) -> int:
    """`settled_links` and the two bounds (see the module's docstring), once `stg_incidents`, `stg_changes` and
    `stg_change_deployments` are built. `recent_from`: the settled deployments'; `read_from`: the first instant of the
    first day an ingest wrote since the last build; `last_as_of`: that build's as_of; `full_window_hours`: the change
    window rule's; `window_hours`: the widest rule's. Returns the links carried."""
    con.execute("set variable settled_link_objects = $urls", {"urls": [lake.url_of(k) for k in objects]})
    con.execute(
        f"create or replace table stored_links as select {COLUMNS} "  # noqa: S608 - this module's constant
        "from read_parquet(getvariable('settled_link_objects'), hive_partitioning = false, union_by_name = true)"
    )
    # In an hourly build that takes the settled changes, stg_changes holds the changes read again, and only those:
    # the attempts they cover are theirs.
    con.execute(
        "create or replace temp table read_again as "
        "select * from stg_change_deployments as cd semi join stg_changes as c on cd.change_sys_id = c.sys_id"
    )
    # The bound stays in DuckDB (a variable): the incidents' instants are compared there, never in Python.
    con.execute(
        "set variable links_recent_from = least("
        "$recent_from, $read_from, "
        "(select min(i.opened_at) from stg_incidents as i where i.sys_updated_on >= $last_as_of), "
        # The incidents a change read again can link, by the rules of 20_mv_incident_links: on its CI within the
        # window after its work ended, once the attempt it covers had finished, or naming it, once its window had
        # opened (an earlier attempt in it stands for the one covered when that one finished after the incident).
        "(select min(i.opened_at) from read_again as cd inner join stg_incidents as i "
        " on i.cmdb_ci_sys_id = cd.cmdb_ci_sys_id and cd.deployment_status = 'succeeded' "
        " and cd.change_end <= i.opened_at and cd.change_end >= i.opened_at - to_hours($full_window_hours) "
        " and cd.deployed_at <= i.opened_at), "
        "(select min(i.opened_at) from read_again as cd inner join stg_incidents as i "
        " on i.caused_by_change_sys_id = cd.change_sys_id and cd.covers_from <= i.opened_at), "
        "(select min(i.opened_at) from stored_links as s "
        " inner join stg_incidents as i on s.incident_sys_id = i.sys_id "
        " semi join stg_changes as c on s.change_sys_id = c.sys_id))",
        {
            "recent_from": recent_from,
            "read_from": read_from,
            "last_as_of": last_as_of,
            "full_window_hours": full_window_hours,
        },
    )
    con.execute(
        "set variable links_deployments_from = getvariable('links_recent_from') - to_hours($hours)",
        {"hours": window_hours},
    )
    carried = first_row(
        con.execute(
            f"insert into settled_links select {COLUMNS} from stored_links as s "  # noqa: S608 - as above
            # Those 20_mv_incident_links does not find again, among its incidents (not canceled; mapped, or naming
            # their change).
            "semi join stg_incidents as i on s.incident_sys_id = i.sys_id "
            "and i.opened_at < getvariable('links_recent_from') and not i.is_canceled "
            "and (i.app_id is not null or i.caused_by_change_sys_id is not null)"
        )
    )
    return int(carried[0]) if carried else 0
