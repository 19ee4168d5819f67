"""The settled part of the deployment sequences: what a daily or full build keeps so that an hourly build attributes
only the recent attempts.

Attributing an attempt (`12_stg_deployments`) reads its entity's whole sequence: the success before it, the next
success after it, when each revision first ran, when ArgoCD first deployed the entity. Yet an attempt whose next
success finished before `recent_from` cannot change unless an attempt before that instant does: everything it
depends on lies before it. GitLab's hand-offs are the one reach forward (an attempt is left out from a day before
ArgoCD's first deployment), which is why `recent_from` is a day before the `cut`: only attempts in the days before
the cut can move it. So a daily or full build stores, beside its history copies:

- `stg_deployments.parquet`: the settled attempts, those whose next success finished before `recent_from`;
- `deployment_events.parquet`: the raw records of the attempts before `recent_from` that are not settled (from each
  sequence's first success whose next success is later, or never came), and of the last settled success of each
  sequence, which the first of them follows (`context`: read, not attributed again).

When each revision first ran (in each sequence, a GitLab region's, and in the environment) is read from the settled
attempts' successes, for the revisions attributed again.

When ArgoCD first deployed an entity needs no carrying: where that attempt is settled, the sequence's first
success not settled came after it, so it is ArgoCD's (a GitLab one would be a hand-off) and carried; any ArgoCD
attempt carried or recent then leaves out the same GitLab hand-offs among the attempts attributed again. So for an
application whose components ArgoCD deploys: its date is the first of theirs, each read from its own carried
ArgoCD attempts; and for a component of an application ArgoCD deploys itself (an umbrella), the application's. A
hand-off is never carried (it is no attempt), and a recent one comes after the ArgoCD sequence's carried success
finished before `recent_from`, or, with none, after a first deployment both builds read among the recent ones.

An hourly build uses them when its deployment events are unchanged before the cut (every day partition before it
has the version it had), with the same mapping and SQL: it attributes the attempts from `recent_from` on and those
carried, and adds the settled attempts to the table. A day before the cut written since (a backfill), an event from
`recent_from` on with a settled attempt's key (the attempt given a later finish), or any other difference, and it
attributes every attempt, as a daily build does.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import duckdb

from lakehouse.aggregates import footers
from lakehouse.aggregates.days import midnight
from lakehouse.duckdb_session import first_row
from lakehouse.storage import Lake

SETTLED_PREFIX = "state/build/settled"
MANIFEST_KEY = "rosetta_settled"
# The deploys ingest computes the last 30 days of events again on each run (functions/ingest_deploys/events.py) and
# rewrites those that changed: the cut lies before those days and a day of hourly builds after the daily one, so that
# their rewrites leave it valid.
SETTLED_BEFORE_DAYS = 35
# gitlab_hand_off (macros.sql): a GitLab deployment from a day before ArgoCD's first one on is a hand-off.
HAND_OFF_REACH = timedelta(days=1)
OBJECTS = ("stg_deployments", "deployment_events")


@dataclass(frozen=True)
class Settled:
    """Where a settled part stops, and what it was made from."""

    cut: datetime
    events_digest: str  # the deployment events' days before the cut, with their versions
    mapping_digest: str  # ref_pivots and ref_entities
    sql_version: str

    @property
    def recent_from(self) -> datetime:
        return self.cut - HAND_OFF_REACH

    def manifest(self) -> str:
        return json.dumps(
            {
                "cut": self.cut.isoformat(),
                "events": self.events_digest,
                "mapping": self.mapping_digest,
                "sql": self.sql_version,
            },
            sort_keys=True,
        )


def key(name: str) -> str:
    """Where a settled part's object is stored (every settled part's: deployments, changes)."""
    return f"{SETTLED_PREFIX}/{name}.parquet"


def cut_for(as_of: datetime) -> datetime:
    """The cut a build at `as_of` stores its settled part at."""
    day = as_of.date() - timedelta(days=SETTLED_BEFORE_DAYS)
    return midnight(day)


def settled_at(
    con: duckdb.DuckDBPyConnection, cut: datetime, event_versions: dict[date, str], sql_version: str
) -> Settled:
    """What a settled part at `cut` would be made from now (`event_versions`: the deployment events' day
    partitions with their versions)."""
    before = sorted((d.isoformat(), v) for d, v in event_versions.items() if d < cut.date())
    events = hashlib.sha256(json.dumps(before).encode()).hexdigest()
    row = first_row(
        con.execute(
            "select (select sum(hash(p)::hugeint) from ref_pivots as p)::varchar, "
            "(select sum(hash(e)::hugeint) from ref_entities as e)::varchar"
        )
    )
    mapping = hashlib.sha256(json.dumps(list(row) if row else []).encode()).hexdigest()
    return Settled(cut, events, mapping, sql_version)


def register_empty(con: duckdb.DuckDBPyConnection) -> None:
    """The relations `12_stg_deployments` reads, empty: it attributes every attempt."""
    con.execute(
        "create or replace view settled_deployment_events as select * from raw_deploys_deployment_events limit 0"
    )
    con.execute(
        "create or replace table settled_successes (entity_id varchar, environment varchar, "
        "sequence_environment varchar, revision varchar, finished_at timestamptz, deployment_key varchar)"
    )


def usable(
    con: duckdb.DuckDBPyConnection,
    lake: Lake,
    keys: set[str],
    event_versions: dict[date, str],
    sql_version: str,
) -> Settled | None:
    """The stored settled part, when it was made from what the build reads now (`keys`: the stored keys under
    state/build/); None when it was not, an event since moved one of its attempts, or it cannot be read (it is then
    made again by the next daily build)."""
    if any(key(name) not in keys for name in OBJECTS):
        return None
    try:
        text = footers.read_shared(con, [lake.url_of(key(name)) for name in OBJECTS], MANIFEST_KEY)
        if text is None:
            return None
        cut = datetime.fromisoformat(json.loads(text)["cut"])
    except (duckdb.Error, ValueError, KeyError, TypeError):
        return None
    now = settled_at(con, cut, event_versions, sql_version)
    if now.manifest() != text:
        return None
    try:
        return None if _moved_since(con, lake, now) else now
    except duckdb.Error:
        return None


def _moved_since(con: duckdb.DuckDBPyConnection, lake: Lake, settled: Settled) -> bool:
    """Whether a recent deployment event gives a settled attempt a later finish (the ingest wrote it on a recent day
    and left its old day as it was). `12_stg_deployments` keeps the later finish, but only among the rows it
    attributes; the settled copy, added after, would count the attempt twice."""
    row = first_row(
        con.execute(
            "select 1 from raw_deploys_deployment_events as r "
            "semi join read_parquet($url) as s using (deployment_key) "
            "where r.finished_at >= $recent_from limit 1",
            {"url": lake.url_of(key("stg_deployments")), "recent_from": settled.recent_from},
        )
    )
    return row is not None


def register_stored(con: duckdb.DuckDBPyConnection, lake: Lake, settled: Settled) -> None:
    """The relations `12_stg_deployments` reads, from the stored settled part (its bound, `recent_from`, is the
    build's to set)."""
    for name in OBJECTS:
        con.execute(f"set variable settled_{name}_url = $url", {"url": lake.url_of(key(name))})
    con.execute(
        "create or replace table settled_deployment_events as "
        "select * from read_parquet(getvariable('settled_deployment_events_url'))"
    )
    # Read where 12_stg_deployments needs a few of its rows: the successes of the revisions attributed again.
    con.execute(
        "create or replace view settled_successes as "
        "select entity_id, environment, sequence_environment, revision, finished_at, deployment_key "
        "from read_parquet(getvariable('settled_stg_deployments_url')) "
        "where status = 'succeeded' and revision is not null"
    )


def complete(con: duckdb.DuckDBPyConnection) -> int:
    """`stg_deployments` whole, once `12_stg_deployments` attributed the recent attempts: the settled ones added,
    the carried context left out. Returns the settled attempts added."""
    con.execute(
        "delete from stg_deployments where deployment_key in "
        "(select deployment_key from settled_deployment_events where context)"
    )
    added = first_row(
        con.execute(
            "insert into stg_deployments by name select * from read_parquet(getvariable('settled_stg_deployments_url'))"
        )
    )
    return int(added[0]) if added else 0


def queries(settled: Settled) -> dict[str, tuple[str, dict[str, object]]]:
    """Each object of the settled part at `settled.cut`, as a query over a build's `stg_deployments` and the raw
    deployment events, with its bound values."""
    bound: dict[str, object] = {"recent_from": settled.recent_from}
    return {
        "stg_deployments": ("select * from stg_deployments where next_success_at < $recent_from", bound),
        "deployment_events": (
            "select r.*, c.context from raw_deploys_deployment_events as r inner join ("
            "select deployment_key, false as context from stg_deployments "
            "where finished_at < $recent_from and coalesce(next_success_at >= $recent_from, true) "
            # Per sequence, the last settled success: the success before the first attempt attributed again.
            "union all select arg_max(deployment_key, {'finished_at': finished_at, 'deployment_key': deployment_key}), "
            "true from stg_deployments where next_success_at < $recent_from and status = 'succeeded' "
            "group by entity_id, environment, sequence_environment"
            ") as c using (deployment_key)",
            bound,
        ),
    }
