"""Write a synthetic, seeded lake of N applications × D days (hourly signals and events) to a local folder."""

from __future__ import annotations

import argparse
import hashlib
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from lakehouse.aggregates.days import midnight
from lakehouse.mappings import MappingStore
from lakehouse.objectstore import LocalStore
from lakehouse.schemas import get_dataset
from lakehouse.storage import Lake, PartitionWrite, to_parquet

COMPONENT_KINDS = ("web", "api", "worker")
DOMAINS = ("payments", "retail", "logistics", "identity", "data", "marketing", "support", "platform")
# Day numbers count from a fixed anchor, so a day's rows and ids do not depend on the range generated.
ANCHOR = date(2000, 1, 1)
DEFAULT_END = date(2026, 11, 19)
METRICS = "dynatrace/service_metrics_hourly"
LOGS = "elasticsearch/log_counts_hourly"
EVENT_DATASETS = (
    "deploys/deployment_events",
    "servicenow/changes",
    "servicenow/incidents",
    "gitlab/merge_requests",
)


@dataclass(frozen=True)
class LakeSpec:
    apps: int
    days: int
    end: date = DEFAULT_END
    seed: int = 42
    logs: bool = False

    @property
    def start(self) -> date:
        return self.end - timedelta(days=self.days - 1)


def _hex(seed: int, *parts: object, length: int = 32) -> str:
    return hashlib.sha256(":".join(str(p) for p in (seed, *parts)).encode()).hexdigest()[:length]


def mapping_entries(apps: int, seed: int) -> list[dict[str, Any]]:
    """One application with three components each; every component carries all its source pivots."""
    entries: list[dict[str, Any]] = []
    for i in range(apps):
        app = f"app-{i:04d}"
        entries.append(
            {
                "entity_id": app,
                "kind": "application",
                "name": f"Application {i:04d}",
                "team": f"team-{i // 5:03d}",
                "group": f"group-{i // 50:02d}",
                "domain": DOMAINS[(i // 50) % len(DOMAINS)],
            }
        )
        for j, kind in enumerate(COMPONENT_KINDS):
            k = 3 * i + j
            service = f"SERVICE-{_hex(seed, 'dt', k, length=16).upper()}"
            entries.append(
                {
                    "entity_id": f"{app}-{kind}",
                    "kind": "component",
                    "application_id": app,
                    "dynatrace_entity_selector": f'type(SERVICE),entityId("{service}")',
                    "servicenow_ci_id": _hex(seed, "ci", k),
                    "cmdb_ci_name": f"{app}-{kind}",
                    # Web and api deploy with ArgoCD, the worker with a GitLab environment.
                    "argocd_app_name": f"{app}-{kind}-prod" if j < 2 else None,
                    "gitlab_project_id": 1000 + k,
                    "elisa_index": f"logs-{app}-*",
                }
            )
    return entries


def components_table(apps: int, seed: int) -> pa.Table:
    """The generator's view of the components: ids plus per-component traits drawn from the seed."""
    rows = []
    for i in range(apps):
        for j, kind in enumerate(COMPONENT_KINDS):
            k = 3 * i + j
            rows.append(
                {
                    "k": k,
                    "app": i,
                    "app_id": f"app-{i:04d}",
                    "component_id": f"app-{i:04d}-{kind}",
                    "team": f"team-{i // 5:03d}",
                    "dt_id": f"SERVICE-{_hex(seed, 'dt', k, length=16).upper()}",
                    "ci": _hex(seed, "ci", k),
                    "ci_name": f"app-{i:04d}-{kind}",
                    "origin": "argocd" if j < 2 else "gitlab",
                    "source_ref": f"app-{i:04d}-{kind}-prod" if j < 2 else str(1000 + k),
                    "project_id": 1000 + k,
                    "index_pattern": f"logs-app-{i:04d}-*",
                }
            )
    return pa.Table.from_pylist(rows)


# Pseudo-random numbers are hashes of (seed, key...), so every row is reproducible on its own.
MACROS = """
create or replace macro u(a, b, c, d) as (hash($seed, a, b, c, d) % 1000000) / 1000000.0;
"""

METRICS_SQL = """
with base as (
    select
        c.k,
        c.dt_id,
        c.component_id,
        h.range as hr,
        cast($day as timestamptz) + to_hours(h.range) as hour,
        -- traffic between ~30 and ~15,000 requests/hour at peak, one level per component
        exp(ln(30) + u(c.k, 0, 0, 1) * ln(500)) as level,
        0.55 + 0.45 * cos(2 * pi() * (h.range - 14) / 24) as diurnal,
        case when dayofweek(cast($day as date)) in (0, 6) then 0.6 else 1.0 end as weekly,
        0.0002 + 0.004 * u(c.k, 0, 0, 2) as error_ratio,
        40 + 160 * u(c.k, 0, 0, 3) as latency_level,
        u(c.k, $di, h.range, 10) as u_missing,
        u(c.k, $di, h.range, 11) as u_traffic,
        u(c.k, $di, h.range, 12) as u_errors,
        u(c.k, $di, h.range, 13) as u_spike,
        u(c.k, $di, h.range, 14) as u_p50,
        u(c.k, $di, h.range, 15) as u_p95,
        u(c.k, $di, h.range, 16) as u_p99,
        u(c.k, $di, h.range, 17) as u_cpu,
        u(c.k, $di, h.range, 18) as u_mem
    from components as c
    cross join range(24) as h
),

traffic as (
    select
        *,
        round(level * diurnal * weekly * (0.85 + 0.3 * u_traffic)) as requests,
        -- one hour in 400 is a bad hour: errors x40 and slow
        u_spike < 0.0025 as bad_hour
    from base
    where u_missing >= 0.002  -- Dynatrace sometimes has no data point for a slot
)

select
    dt_id as entity_id,
    component_id as entity_name,
    hour,
    requests as request_count,
    least(requests, round(requests * error_ratio * (0.4 + 1.2 * u_errors) * case when bad_hour then 40 else 1 end))
        as error_count,
    case when requests > 0 then round(latency_level * (0.8 + 0.4 * u_p50) * (0.8 + 0.4 * diurnal), 1) end
        as latency_p50_ms,
    case when requests > 0 then round(latency_level * (0.8 + 0.4 * u_p50) * (0.8 + 0.4 * diurnal)
        * (2 + 2 * u_p95) * case when bad_hour or u_p95 > 0.995 then 3 else 1 end, 1) end as latency_p95_ms,
    case when requests > 0 then round(latency_level * (0.8 + 0.4 * u_p50) * (0.8 + 0.4 * diurnal)
        * (2 + 2 * u_p95) * case when bad_hour or u_p95 > 0.995 then 3 else 1 end * (1.3 + u_p99), 1) end
        as latency_p99_ms,
    round(least(100, 5 + 70 * diurnal * weekly * (0.7 + 0.6 * u_cpu)), 1) as cpu_usage_pct,
    round(30 + 40 * u(k, 0, 0, 4) + 15 * u_mem, 1) as memory_usage_pct
from traffic
order by entity_id, hour
"""

LOGS_SQL = """
select
    c.index_pattern,
    c.component_id as service_name,
    'production' as environment,
    l.level,
    cast($day as timestamptz) + to_hours(h.range) as hour,
    cast(1 + floor(200 * pow(u(c.k, $di, h.range * 3 + l.i, 20), 4)) as bigint) as count
from components as c
cross join range(24) as h
cross join (values (0, 'ERROR'), (1, 'WARN'), (2, 'EXCEPTION')) as l (i, level)
-- sparse, as Elasticsearch answers: only buckets with documents
where u(c.k, $di, h.range * 3 + l.i, 21) < case l.level when 'WARN' then 0.3 when 'ERROR' then 0.15 else 0.05 end
order by service_name, level, hour
"""

# Events of the days [$first, $last]: deployments, the changes covering some, incidents (some caused by a
# deployment through its change), and the merge requests each deployment shipped.
EVENTS_SQL = """
create or replace temp table days as
select cast(d.range as date) as day, datediff('day', date '2000-01-01', cast(d.range as date)) as di
from range(cast($first as timestamp), cast($last as timestamp) + interval 1 day, interval 1 day) as d;

-- a few deployments per component per week, fewer at weekends, during working hours
create or replace temp table dep_base as
select
    c.*,
    d.di,
    s.range as slot,
    cast(d.day as timestamptz) + to_minutes(cast(7 * 60 + floor(u(c.k, d.di, s.range, 31) * 11 * 60) as int))
        + to_seconds(cast(floor(u(c.k, d.di, s.range, 32) * 60) as int)) as finished_at,
    u(c.k, d.di, s.range, 33) < 0.06 as failed,
    u(c.k, d.di, s.range, 34) < 0.03 as rollback_wanted,
    substr(sha256(concat($seed, ':rev:', c.k, ':', d.di, ':', s.range)), 1, 40) as own_revision
from components as c
cross join days as d
cross join range(2) as s
where u(c.k, d.di, s.range, 30) < case when dayofweek(d.day) in (0, 6) then 0.08 else 0.3 end;

create or replace temp table deployments as
with ordered as (
    select
        *,
        lag(own_revision, 2) over (partition by k, failed order by finished_at) as revision_two_back
    from dep_base
)
select
    *,
    not failed and rollback_wanted and revision_two_back is not null as is_rollback,
    case when not failed and rollback_wanted and revision_two_back is not null then revision_two_back
        else own_revision end as revision,
    case
        when origin = 'gitlab' then concat('gitlab:', di * 100000 + k * 2 + slot)
        when failed then concat('argocd:', source_ref, ':op', epoch(finished_at)::bigint)
        else concat('argocd:', source_ref, ':', di * 2 + slot)
    end as deployment_key
from ordered;

create or replace temp table changes as
select
    d.*,
    sha256(concat($seed, ':chg:', d.deployment_key))[1:32] as change_sys_id,
    concat('CHG', lpad(cast((d.di * 20000 + d.k * 2 + d.slot) % 100000000 as varchar), 8, '0')) as change_number,
    case when u(d.k, d.di, d.slot, 41) < 0.05 then 'emergency'
        when u(d.k, d.di, d.slot, 41) < 0.40 then 'normal' else 'standard' end as change_type,
    case when d.failed then 'unsuccessful'
        when u(d.k, d.di, d.slot, 42) < 0.08 then 'successful_issues' else 'successful' end as close_code,
    d.finished_at - to_minutes(cast(10 + floor(40 * u(d.k, d.di, d.slot, 43)) as int)) as work_start,
    d.finished_at + to_minutes(cast(5 + floor(20 * u(d.k, d.di, d.slot, 44)) as int)) as work_end,
    date_trunc('hour', d.finished_at) - interval 1 hour as planned_start,
    date_trunc('hour', d.finished_at) + interval 2 hour as planned_end,
    -- created one to five days ahead, but never before the first day of the lake
    greatest(
        cast($floor as timestamptz),
        date_trunc('hour', d.finished_at) - to_hours(cast(24 + floor(96 * u(d.k, d.di, d.slot, 45)) as int))
    ) as created_at
from deployments as d
where u(d.k, d.di, d.slot, 40) < 0.35;

-- background incidents (about 2.4 per application and month) and incidents a deployment caused
create or replace temp table incident_base as
select
    c.k,
    d.di,
    0 as slot,
    cast(d.day as timestamptz) + to_minutes(cast(floor(u(c.k, d.di, 0, 50) * 1440) as int)) as opened_at,
    cast(null as varchar) as caused_by
from components as c
cross join days as d
where u(c.k, d.di, 0, 51) < 0.027
union all
select
    d.k,
    d.di,
    1 + d.slot,
    d.finished_at + to_minutes(cast(10 + floor(170 * u(d.k, d.di, d.slot, 52)) as int)),
    ch.change_sys_id
from deployments as d
left join changes as ch on d.deployment_key = ch.deployment_key
where not d.failed and u(d.k, d.di, d.slot, 53) < 0.03;

create or replace temp table incidents as
with drawn as (
    select
        b.*,
        c.ci,
        c.ci_name,
        c.team,
        c.component_id,
        case when u(b.k, b.di, b.slot, 54) < 0.02 then 1 when u(b.k, b.di, b.slot, 54) < 0.10 then 2
            when u(b.k, b.di, b.slot, 54) < 0.55 then 3 when u(b.k, b.di, b.slot, 54) < 0.92 then 4 else 5 end
            as priority,
        u(b.k, b.di, b.slot, 55) as u_duration,
        u(b.k, b.di, b.slot, 56) as u_state,
        u(b.k, b.di, b.slot, 57) as u_ci
    from incident_base as b
    inner join components as c on b.k = c.k
)
select
    *,
    sha256(concat($seed, ':inc:', k, ':', di, ':', slot))[1:32] as sys_id,
    concat('INC', lpad(cast((di * 30000 + k * 3 + slot) % 1000000000 as varchar), 9, '0')) as number,
    -- time to restore grows with the priority number: P1 about an hour or two, P4/P5 up to two weeks
    opened_at + to_minutes(cast(
        case priority when 1 then 20 + 200 * u_duration when 2 then 60 + 700 * u_duration
            when 3 then 120 + 4000 * u_duration else 600 + 20000 * u_duration end as int)) as restore_at,
    u_state < 0.01 as canceled,
    u_state > 0.995 as stays_open,
    case when u_ci < 0.03 then sha256(concat($seed, ':unmapped:', sys_id))[1:32] else ci end as incident_ci
from drawn;

-- merge requests: up to three merged in the three days before each successful deployment
create or replace temp table merge_requests as
select
    d.project_id,
    (d.di * 100000 + d.k * 2 + d.slot) * 4 + m.range as mr_id,
    d.di * 8 + d.slot * 4 + m.range as mr_iid,
    d.finished_at - to_minutes(cast(30 + floor(4300 * u(d.k, d.di, d.slot * 4 + m.range, 61)) as int)) as merged_at,
    sha256(concat($seed, ':mr:', d.deployment_key, ':', m.range))[1:40] as merge_commit_sha
from deployments as d
cross join range(3) as m
where
    not d.failed and not d.is_rollback and u(d.k, d.di, d.slot * 4 + m.range, 60) < 0.5
    and d.finished_at - to_minutes(cast(30 + floor(4300 * u(d.k, d.di, d.slot * 4 + m.range, 61)) as int))
    >= cast($floor as timestamptz);
"""

DEPLOYMENT_EVENTS = """
select
    deployment_key,
    origin,
    source_ref,
    'production' as environment,
    revision,
    finished_at - to_seconds(cast(60 + floor(540 * u(k, di, slot, 35)) as int)) as started_at,
    finished_at,
    case when failed then 'failed' else 'succeeded' end as status,
    is_rollback,
    case when u(k, di, slot, 36) < 0.7 then 'automated' else concat('dev-', k % 97) end as initiated_by,
    case when origin = 'gitlab' then 'production' end as source_environment,
    -- GitLab gives its deploying pipeline's page with a deployment; ArgoCD's history has none.
    case
        when origin = 'gitlab'
            then concat('https://gitlab.example.org/apps/', source_ref, '/-/pipelines/', di * 8 + slot)
    end as web_url
from deployments
"""

CHANGE_ROWS = """
-- every change is seen twice: when it was created, and when it was closed
select
    change_sys_id as sys_id, change_number as number, change_type as type, -5 as state, 'New' as state_label,
    'Moderate' as risk, concat('Deploy ', component_id) as short_description, planned_start, planned_end,
    cast(null as timestamptz) as work_start, cast(null as timestamptz) as work_end, '' as close_code,
    ci as cmdb_ci_sys_id, ci_name as cmdb_ci_name, cast(null as varchar) as business_service_sys_id,
    cast(null as varchar) as business_service_name, cast(null as varchar) as assignment_group_sys_id,
    team as assignment_group_name, created_at as sys_created_on, created_at as sys_updated_on
from changes
union all
select
    change_sys_id, change_number, change_type, 3, 'Closed', 'Moderate', concat('Deploy ', component_id),
    planned_start, planned_end, work_start, work_end, close_code, ci, ci_name, null, null, null, team, created_at,
    work_end + interval 1 hour
from changes
"""

INCIDENT_ROWS = """
-- an incident is seen when it opens and again when it is restored (if that happened before $horizon)
select
    sys_id, number, 2 as state, 'In Progress' as state_label, priority, concat(priority, ' - P', priority)
        as priority_label, least(3, 1 + priority // 2) as impact, least(3, 1 + (priority + 1) // 2) as urgency,
    concat('Degraded service on ', component_id) as short_description, opened_at,
    cast(null as timestamptz) as resolved_at, cast(null as timestamptz) as closed_at,
    incident_ci as cmdb_ci_sys_id, ci_name as cmdb_ci_name, cast(null as varchar) as business_service_sys_id,
    cast(null as varchar) as business_service_name, cast(null as varchar) as assignment_group_sys_id,
    team as assignment_group_name, 0 as reassignment_count, cast(null as varchar) as problem_sys_id,
    caused_by as caused_by_change_sys_id, opened_at as sys_updated_on
from incidents
union all
select
    sys_id, number, case when canceled then 8 else 6 end, case when canceled then 'Canceled' else 'Resolved' end,
    priority, concat(priority, ' - P', priority), least(3, 1 + priority // 2), least(3, 1 + (priority + 1) // 2),
    concat('Degraded service on ', component_id), opened_at, case when canceled then null else restore_at end,
    case when canceled then restore_at end, incident_ci, ci_name, null, null, null, team,
    cast(u_state * 3 as int), null, caused_by, restore_at
from incidents
where not stays_open and restore_at < $horizon
"""

MERGE_REQUEST_ROWS = """
select
    mr_id, project_id, mr_iid, concat('Change ', mr_iid) as title, 'merged' as state, 'main' as target_branch,
    merged_at - interval 20 hour as created_at, merged_at, merge_commit_sha,
    cast(null as varchar) as squash_commit_sha, merged_at as updated_at, 'main' as default_branch,
    concat('https://gitlab.example.org/apps/', project_id, '/-/merge_requests/', mr_iid) as web_url
from merge_requests
"""

EVENT_ROWS = {
    "deploys/deployment_events": DEPLOYMENT_EVENTS,
    "servicenow/changes": CHANGE_ROWS,
    "servicenow/incidents": INCIDENT_ROWS,
    "gitlab/merge_requests": MERGE_REQUEST_ROWS,
}


def _connect(spec: LakeSpec) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(config={"threads": 2, "memory_limit": "4GB"})
    con.execute("set TimeZone = 'UTC'")
    con.execute("set variable seed = $seed", {"seed": spec.seed})
    con.execute(_sql(MACROS))
    con.register("components_arrow", components_table(spec.apps, spec.seed))
    con.execute("create table components as select * from components_arrow")
    return con


def _sql(text: str) -> str:
    # The seed is held in a DuckDB variable (SET VARIABLE): macros and CREATE statements cannot take bound parameters.
    return text.replace("$seed", "getvariable('seed')")


def _day_params(day: date) -> dict[str, Any]:
    return {"day": day, "di": (day - ANCHOR).days}


def _split_by_day(table: pa.Table, column: str) -> dict[date, pa.Table]:
    """Rows sorted by `column`, cut into one slice per UTC day (slices share the buffers, no copies)."""
    if table.num_rows == 0:
        return {}
    table = table.sort_by(column)
    days = pc.cast(table[column], pa.date32()).to_pylist()
    out: dict[date, pa.Table] = {}
    start = 0
    for i in range(1, len(days) + 1):
        if i == len(days) or days[i] != days[start]:
            out[days[start]] = table.slice(start, i - start)
            start = i
    return out


def _put_day(lake: Lake, dataset_id: str, day: date, rows: pa.Table) -> None:
    dataset = get_dataset(dataset_id)
    lake.store.put(Lake.partition_key(dataset, day), to_parquet(dataset.conform(rows)))


def hourly_rows(con: duckdb.DuckDBPyConnection, dataset_id: str, day: date) -> pa.Table:
    sql = METRICS_SQL if dataset_id == METRICS else LOGS_SQL
    return con.sql(_sql(sql), params=_day_params(day)).to_arrow_table()


def event_rows(
    con: duckdb.DuckDBPyConnection, first: date, last: date, *, floor: date, horizon: datetime
) -> dict[str, pa.Table]:
    """The events of days first..last, keyed by dataset: nothing dated before `floor`, no update after `horizon`."""
    values = {"first": first, "last": last, "floor": midnight(floor), "horizon": horizon}
    for statement in EVENTS_SQL.split(";"):
        if statement.strip():
            con.execute(_sql(statement), {k: v for k, v in values.items() if f"${k}" in statement})
    return {
        dataset_id: con.sql(_sql(sql), params={k: v for k, v in values.items() if f"${k}" in sql}).to_arrow_table()
        for dataset_id, sql in EVENT_ROWS.items()
    }


def generate(folder: Path, spec: LakeSpec, *, log: bool = True) -> Lake:
    """Write the mapping and every day partition of the lake; returns the lake."""
    started = time.perf_counter()
    folder.mkdir(parents=True, exist_ok=True)
    lake = Lake(LocalStore(folder), str(folder.resolve()))
    horizon = midnight(spec.end) + timedelta(days=1)
    MappingStore(lake).apply(
        mapping_entries(spec.apps, spec.seed), actor="bench", replace=True, now=horizon - timedelta(days=spec.days)
    )
    con = _connect(spec)
    try:
        hourly = [METRICS, LOGS] if spec.logs else [METRICS]
        for n in range(spec.days):
            day = spec.start + timedelta(days=n)
            for dataset_id in hourly:
                _put_day(lake, dataset_id, day, hourly_rows(con, dataset_id, day))
            if log and (n + 1) % 30 == 0:
                print(f"  {n + 1}/{spec.days} days of hourly data ({time.perf_counter() - started:.0f} s)", flush=True)
        events = event_rows(con, spec.start, spec.end, floor=spec.start, horizon=horizon)
        for dataset_id, rows in events.items():
            dataset = get_dataset(dataset_id)
            for day, part in _split_by_day(rows, dataset.partition_column).items():
                _put_day(lake, dataset_id, day, part)
            if log:
                print(f"  {dataset_id}: {rows.num_rows:,} rows", flush=True)
    finally:
        con.close()
    return lake


def append_day(lake: Lake, spec: LakeSpec, day: date) -> list[PartitionWrite]:
    """Ingest one more day the way the connectors do (merge into the day partitions); returns the writes."""
    horizon = midnight(day) + timedelta(days=1)
    con = _connect(spec)
    try:
        writes = [lake.write_partition(get_dataset(METRICS), day, hourly_rows(con, METRICS, day))]
        if spec.logs:
            writes.append(lake.write_partition(get_dataset(LOGS), day, hourly_rows(con, LOGS, day)))
        for dataset_id, rows in event_rows(con, day, day, floor=day, horizon=horizon).items():
            writes += lake.write_days(get_dataset(dataset_id), rows)
    finally:
        con.close()
    return writes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folder", type=Path, help="lake folder to write (created; existing partitions replaced)")
    parser.add_argument("--apps", type=int, default=1000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--end", type=date.fromisoformat, default=DEFAULT_END, help="last day (UTC)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--logs", action="store_true", help="also write elasticsearch/log_counts_hourly")
    args = parser.parse_args()
    spec = LakeSpec(args.apps, args.days, args.end, args.seed, args.logs)
    started = time.perf_counter()
    generate(args.folder, spec)
    seconds = time.perf_counter() - started
    print(f"lake of {spec.apps} apps x {spec.days} days written to {args.folder} in {seconds:.1f} s")


if __name__ == "__main__":
    main()
