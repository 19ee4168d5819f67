"""Every query the API runs, over the serving copy of the mart. SQL is constant text; values are bound parameters.

The only identifiers that vary (a metric's column, a KPI's table and id column) come from the allow-lists below; the
columns a report's rows are read with, from its response model and the mart's columns (mart_columns).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import duckdb

from functions.api.models import DoraRow, RiskRow, SloRow, UnmappedKey
from functions.api.periods import Period
from lakehouse.aggregates.columns import DESCRIPTIONS
from lakehouse.aggregates.sqlfiles import load_macros, load_sql_files

PARAM = re.compile(r"\$([a-z_]+)")


SQL_FILES = {f.table: f for f in load_sql_files()}
# Its header names the columns readers derive from the stored ones (the error rate).
HOURLY_FILE = SQL_FILES["mv_golden_signals_hourly"]

# metric name in the API -> column of mv_golden_signals_hourly
TIMESERIES_METRICS: dict[str, str] = {
    "latency_p50": "latency_p50_ms",
    "latency_p95": "latency_p95_ms",
    "latency_p99": "latency_p99_ms",
    "error_rate": "error_rate",
    "requests": "requests",
    "errors": "errors",
    "cpu": "cpu_usage_pct",
    "memory": "memory_usage_pct",
    "log_errors": "log_errors",
    "log_exceptions": "log_exceptions",
}
TIMESERIES_UNITS = {
    "latency_p50": "ms",
    "latency_p95": "ms",
    "latency_p99": "ms",
    "error_rate": "ratio",
    "requests": "requests/hour",
    "errors": "errors/hour",
    "cpu": "percent",
    "memory": "percent",
    "log_errors": "lines/hour",
    "log_exceptions": "lines/hour",
}
GROUP_LEVELS = {"team": "team", "group": "group", "domain": "domain"}


@dataclass(frozen=True)
class Scope:
    """Whose data: an application, or one component of it, in one environment."""

    app_id: str
    environment: str
    component_id: str | None = None

    @property
    def level(self) -> str:
        return "component" if self.component_id else "application"

    def params(self) -> dict[str, Any]:
        return {"app": self.app_id, "component": self.component_id, "env": self.environment, "level": self.level}


def used(sql: str, params: dict[str, Any] | None) -> dict[str, Any]:
    """The parameters a statement names: DuckDB refuses extra ones, and scopes carry more than each query needs."""
    names = set(PARAM.findall(sql))
    return {k: v for k, v in (params or {}).items() if k in names}


def fetch(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    # Through Arrow: DuckDB's own conversion of time-zoned timestamps needs pytz, which is not installed.
    rows: list[dict[str, Any]] = con.execute(sql, used(sql, params)).to_arrow_table().to_pylist()
    return rows


def fetch_one(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None = None) -> dict[str, Any] | None:
    found = fetch(con, sql, params)
    return found[0] if found else None


def mart_columns(table: str, wanted: Iterable[str], alias: str = "", besides: Iterable[str] = ()) -> str:
    """The `wanted` columns the mart table `table` has (as this release's build writes it: columns.py, which a test
    holds to the build), named in a select list, each after `alias`; `besides`: those the query gives otherwise.
    Named, not `*`: a table an earlier release wrote without one of them is then a binder error, which the route
    answers 503 until the next build (deps._mart), where `*` would have read it as null."""
    given = set(besides)
    return ", ".join(f"{alias}{c}" for c in wanted if c in DESCRIPTIONS[table] and c not in given)


# A KPI report's page and its total: `report` (every row of the report, with its `id`) counted, and the page asked
# for. Materialized: counted and paged from one computation. The total rides on each row of the page, and on one row
# of nulls when the page is empty, so that an empty page still says it.
REPORT_PAGE = """
select r.*, n.report_total
from (select count(*) as report_total from report) as n
left join (select * from report where $after is null or id > $after order by id limit $limit) as r on true
order by r.id
"""


@dataclass(frozen=True)
class ReportRows:
    """A page of a KPI report and how many rows the report has."""

    rows: list[dict[str, Any]]
    total: int


def report_rows(found: list[dict[str, Any]], key: str = "id") -> ReportRows:
    """The rows of a statement ending with REPORT_PAGE (or its day reports' like, or RANKING_PAGE, whose rows' `key`
    is their place), read apart from their total."""
    total = int(found[0]["report_total"]) if found else 0
    return ReportRows([r for r in found if r[key] is not None], total)


@dataclass(frozen=True)
class Under:
    """The part of the estate a KPI report is restricted to: the applications under a team, a group and a domain,
    or one application, each optional (the whole estate without any)."""

    team: str | None = None
    group: str | None = None
    domain: str | None = None
    app: str | None = None

    def params(self, group_by: str) -> dict[str, Any]:
        return {
            "under_team": self.team,
            "under_group": self.group,
            "under_domain": self.domain,
            "under_app": self.app,
            "filtered": any((self.team, self.group, self.domain, self.app)),
            "row_level": group_by,
        }


ESTATE = Under()


@dataclass(frozen=True)
class DaysRead:
    """The UTC days the lake had read a ServiceNow dataset over when the build ran: from the day it first read it
    (read in part) to the day of the last instant its watermark had reached (ServiceNow down since: the days after were
    not read). A day outside is unknown, never a day of none; None at either end: unknown, every day counted."""

    first: date | None = None
    last: date | None = None
    # The watermark itself, for a state at an instant (see current_at).
    until: datetime | None = None

    @classmethod
    def between(cls, read_from: datetime | None, read_until: datetime | None) -> DaysRead:
        return cls(_utc_day(read_from), last_day_of(read_until) if read_until else None, read_until)

    @classmethod
    def none(cls) -> DaysRead:
        """No day read: a dataset the lake has never read."""
        return cls(date.max, date.min)

    def read_through(self, day: date) -> bool:
        """Whether the watermark had reached `day`: a backlog at its end, or a list up to it, is then known."""
        return self.last is None or day <= self.last

    def current_at(self, moment: datetime) -> bool:
        """Whether the watermark was within an hour of `moment` (stale_since in macros.sql, the top risks' rule):
        a state at that instant, such as a backlog, is then known. ServiceNow is read every 15 minutes: a day read
        in part may still hide hours of incidents."""
        if not self.read_through(last_day_of(moment)):
            return False
        return self.until is None or self.until >= moment - timedelta(hours=1)

    def reads_any(self, first_day: date, last_day: date) -> bool:
        """Whether a day from `first_day` to `last_day` was read: a sum over them is then over those days."""
        return (self.first is None or self.first <= last_day) and (self.last is None or first_day <= self.last)

    def params(self, prefix: str = "") -> dict[str, date | None]:
        """The bounds day_read(..., prefix) reads."""
        return {f"{prefix}first_day_read": self.first, f"{prefix}last_day_read": self.last}


def day_read(day: str, prefix: str = "") -> str:
    """SQL: whether the date `day` was read (see DaysRead), from DaysRead.params(prefix)."""
    return (
        f"(coalesce({day} >= cast(${prefix}first_day_read as date), true)"
        f" and coalesce({day} <= cast(${prefix}last_day_read as date), true))"
    )


def _utc_day(moment: datetime | None) -> date | None:
    """The UTC day an instant falls on: the first day the lake read a source, read in part."""
    return moment.astimezone(UTC).date() if moment else None


def last_day_of(end: datetime) -> date:
    """The UTC day of the last instant before `end`: a watermark or period ending at midnight has none of its day."""
    return (end - timedelta(microseconds=1)).astimezone(UTC).date()


def _under(apps: str) -> str:
    """`under`: the applications of `apps` (app_id, team, group_id, domain: a report's own attribution, so that the
    filter and its rows agree) under the filter, as the ids of the rows holding them at $row_level (the report's
    groupBy). A report keeps those rows whole (KEPT): a team's row under a domain is the team's, its applications in
    another domain included, never a part of it."""
    return f"""
under as (
    select
        case $row_level when 'app' then app_id when 'team' then team when 'group' then group_id else domain end
            as row_id
    from {apps}
    where ($under_team is null or team = $under_team) and ($under_group is null or group_id = $under_group)
        and ($under_domain is null or domain = $under_domain) and ($under_app is null or app_id = $under_app)
)"""  # noqa: S608 - the relation's name is one of ours


# Whether a report's row (its id) is kept: every row without a filter.
KEPT = "(not $filtered or {id} in (select row_id from under))"
# The build's teams, groups and domains of each application (its stg_apps, as the period tables were built with).
SCOPED_APPS = """
scoped_apps as (
    select
        app_id,
        any_value(level_id) filter (where level = 'team') as team,
        any_value(level_id) filter (where level = 'group') as group_id,
        any_value(level_id) filter (where level = 'domain') as domain
    from mv_dora_scopes
    where environment = $env
    group by app_id
)"""
UNDER_SCOPES = SCOPED_APPS + "," + _under("scoped_apps")
# The environment's applications over the days $first_day to $last_day, for the reports summed from day tables:
# the build's (as the SLO reports have them) and any the day summary holds besides, under their day rows' team, group
# and domain. One without a day row in the period (a period before the day tables) is there under the build's, its
# days unread, so that a period before the mart's first day still has a row of each, with null figures.
PERIOD_APPS = f"""{SCOPED_APPS},
day_apps as (
    select app_id, any_value(team) as team, any_value(group_id) as group_id, any_value(domain) as domain
    from mv_monitoring_app_day_summary
    where environment = $env and day >= $first_day and day <= $last_day
    group by app_id
),
period_apps as (
    select
        coalesce(d.app_id, s.app_id) as app_id,
        case when d.app_id is null then s.team else d.team end as team,
        case when d.app_id is null then s.group_id else d.group_id end as group_id,
        case when d.app_id is null then s.domain else d.domain end as domain
    from day_apps as d
    full join scoped_apps as s on d.app_id = s.app_id
    -- None over a period without a day (one starting at the as-of hour): nothing of it has happened to report.
    where cast($first_day as date) <= cast($last_day as date)
)"""  # noqa: S608 - constant text


# --- golden signals -----------------------------------------------------------------------------------------
# Errors count in hours with traffic only, as in the day summary: an hour without a request has no error rate.
GOLDEN_SIGNALS_AGGREGATES = """
    sum(requests) as requests,
    sum(errors) filter (where requests > 0) as errors,
    sum(errors) filter (where requests > 0) / nullif(sum(requests), 0) as error_rate,
    max(latency_p50_ms) as latency_p50_max_ms,
    max(latency_p95_ms) as latency_p95_max_ms,
    max(latency_p99_ms) as latency_p99_max_ms,
    max(cpu_usage_pct) as cpu_max_pct,
    max(memory_usage_pct) as memory_max_pct,
    cast(sum(log_errors) as double) as log_errors,
    cast(sum(log_exceptions) as double) as log_exceptions,
    count(*) filter (where requests > 0) as measured_hours,
    max(hour) as last_hour"""
GOLDEN_SIGNALS_SQL = (
    "select"
    + GOLDEN_SIGNALS_AGGREGATES
    + """
from read_parquet($files, union_by_name = true)
where app_id = $app and level = $level and component_id is not distinct from $component
    and environment = $env and hour >= $start and hour < $end
"""
)
# The key of an entity's hourly rows.
SIGNALS_KEY = ("app_id", "level", "component_id", "environment")
# The recent hours a copy holds in memory, as the loader names them while it aggregates the summary's window,
# and the columns it keeps of them (what the series and the summary's aggregates read).
RECENT_HOURLY = "mv_golden_signals_recent"
RECENT_COLUMNS = (*SIGNALS_KEY, "hour", *TIMESERIES_METRICS.values())
RECENT_SELECT = ", ".join(f"{HOURLY_FILE.expression(c)} as {c}" for c in RECENT_COLUMNS)
# The summary's window (the 24 hours before the build's as_of) aggregated per entity once, when the copy loads
# (entity_index.py): the same aggregates, keyed by entity.
_SIGNALS_KEY_COLUMNS = ", ".join(SIGNALS_KEY)
SUMMARY_SIGNALS_SQL = (
    f"select {_SIGNALS_KEY_COLUMNS},"
    + GOLDEN_SIGNALS_AGGREGATES
    + f"""
from {RECENT_HOURLY}
where hour >= $start and hour < $end
group by {_SIGNALS_KEY_COLUMNS}
order by {_SIGNALS_KEY_COLUMNS}
"""
)


def golden_signals(
    con: duckdb.DuckDBPyConnection,
    *,
    files: list[str],
    scope: Scope,
    start: datetime,
    end: datetime,
) -> dict[str, Any]:
    """Over the hourly table's month objects `files` (local paths; the hour filter prunes row groups)."""
    if not files:
        return {}
    row = fetch_one(con, GOLDEN_SIGNALS_SQL, scope.params() | {"files": files, "start": start, "end": end})
    return row or {}


def timeseries(
    con: duckdb.DuckDBPyConnection,
    *,
    files: list[str],
    scope: Scope,
    metric: str,
    start: datetime,
    end: datetime,
) -> list[tuple[datetime, float | None]]:
    """One entity's metric per hour over the month objects `files` (entity_index.RecentHours for the last hours)."""
    column = TIMESERIES_METRICS[metric]  # KeyError for anything outside the allow-list
    if not files:
        return []
    value = HOURLY_FILE.expression(column)
    sql = (
        f"select hour, cast({value} as double) from read_parquet($files, union_by_name = true) "  # noqa: S608
        "where app_id = $app and level = $level and component_id is not distinct from $component "
        "and environment = $env and hour >= $start and hour < $end order by hour"
    )
    params = scope.params() | {"files": files, "start": start, "end": end}
    table = con.execute(sql, used(sql, params)).to_arrow_table()
    return list(zip(table.column(0).to_pylist(), table.column(1).to_pylist(), strict=True))


# --- incidents ----------------------------------------------------------------------------------------------
# Task SLAs are read from $slas_from on (null: unknown since when, or never): an incident opened before it may have
# a task SLA recorded, breached and last updated before it, never read. Its breach is then unknown unless a breached
# SLA of it was read. The incidents list says so of each incident, the summary's count of them all.
SLA_READ = "coalesce(sla_breached or opened_at >= cast($slas_from as timestamptz), false)"
# In the list, also: with task SLAs not read since $slas_until (ServiceNow down), an incident still open then, or
# opened since, may have breached unread; one resolved before it had its SLAs read to their end.
LISTED_SLA_READ = """coalesce(sla_breached or (
        opened_at >= cast($slas_from as timestamptz)
        and ($slas_until is null or coalesce(resolved_at, closed_at) < cast($slas_until as timestamptz))
    ), false)"""
INCIDENTS_SQL = f"""
select sys_id, number, app_id, component_id, environment, state, state_label, priority, impact, urgency,
    short_description, opened_at, resolved_at, closed_at, restored_at, is_open, is_canceled, cmdb_ci_name,
    assignment_group_name, duration_hours, open_age_hours, sla_breached, {LISTED_SLA_READ} as sla_read,
    linked_deployment_full, link_rule_full, link_confidence_full, link_counts_as_change_failure_full,
    linked_deployment_light
from mv_incidents
where app_id = $app and ($component is null or component_id = $component) and environment = $env
    and (
        ($status = 'open' and is_open)
        -- The period is the whole UTC days kpis/incidents adds up (up to as_of): every incident it counts opened or
        -- restored in them is listed, closed or all. restored_at is null after as_of (mv_incidents).
        -- Closed at as_of, as is_open is open at as_of (an incident opened after it is neither, nor listed), and
        -- opened or restored in the period.
        or ($status = 'closed' and not is_open and opened_at < $as_of and (
            (opened_at >= $start and opened_at < $end) or (restored_at >= $start and restored_at < $end)
        ))
        -- Open at some time in the period, up to as_of: opened before its end, and opened in it or still open at its
        -- start (open at as_of, or restored since). One opened after the period's end is not listed, open or not,
        -- unless its record says it was restored in the period (restored before it opened): counted restored there.
        or ($status = 'all' and opened_at < $as_of and (
            (opened_at < $end and (opened_at >= $start or is_open or restored_at >= $start))
            or (restored_at >= $start and restored_at < $end)
        ))
    )
    and ($after_at is null or (opened_at, sys_id) < ($after_at, $after_id))
order by opened_at desc, sys_id desc
limit $limit
"""  # noqa: S608 - constant text


def incidents(
    con: duckdb.DuckDBPyConnection,
    *,
    scope: Scope,
    status: str,
    as_of: datetime,
    start: datetime,
    end: datetime,
    limit: int,
    after: tuple[datetime, str] | None,
    slas_from: datetime | None,
    slas_until: datetime | None,
) -> list[dict[str, Any]]:
    """`slas_from`: the first instant the lake read task SLAs from, as the build had it (None when unknown);
    `slas_until`: how far it read them when that lies more than an hour before as-of (None when read to within it)."""
    params = scope.params() | {"status": status, "as_of": as_of, "start": start, "end": end, "limit": limit}
    params |= {"slas_from": slas_from, "slas_until": slas_until}
    params |= {"after_at": after[0] if after else None, "after_id": after[1] if after else None}
    return fetch(con, INCIDENTS_SQL, params)


# Open incidents of every application, and of every component, for the summary index (entity_index.py). When one
# of them has an unknown breach (SLA_READ false), so is the count (null, not a count of the others).
OPEN_INCIDENTS_COUNTS = f"""count(*) as open, count(*) filter (where priority <= 2) as open_p1_p2,
    case when bool_and({SLA_READ}) then count(*) filter (where sla_breached) end as sla_breached"""
SUMMARY_OPEN_BY_APP_SQL = f"""
select app_id, environment, {OPEN_INCIDENTS_COUNTS}
from mv_incidents where is_open
group by app_id, environment order by app_id, environment
"""  # noqa: S608 - constant text
SUMMARY_OPEN_BY_COMPONENT_SQL = f"""
select app_id, environment, component_id, {OPEN_INCIDENTS_COUNTS}
from mv_incidents where is_open and component_id is not null
group by app_id, environment, component_id order by app_id, environment, component_id
"""  # noqa: S608 - constant text


# --- changes and deployments ----------------------------------------------------------------------------------
CHANGES_SQL = """
select sys_id, number, app_id, component_id, environment, type, state, state_label, risk, short_description,
    planned_start, planned_end, work_start, work_end, change_start, change_end, close_code, is_failed, is_closed,
    cmdb_ci_name, assignment_group_name, deployment_key, covers_deployment
from mv_changes
where app_id = $app and ($component is null or component_id = $component) and environment = $env
    and (
        -- A change canceled by as_of is not to come (the calendar counts it canceled, not planned); one of the period
        -- stays among the recent ones, with its state.
        ($status in ('upcoming', 'all') and change_start >= $as_of and not is_canceled)
        -- Recent: started before the as-of, its time (start to end) overlapping the period, so that a change counted
        -- on the day it ended is listed. One under way (work started, no end) lasts up to the as-of; one without an
        -- end and not started is an instant, at its planned start.
        or ($status in ('recent', 'all')
            and change_start < least($end, $as_of)
            and coalesce(change_end, case when work_start is not null then $as_of end, change_start) >= $start)
    )
    and ($after_at is null or (change_start, sys_id) < ($after_at, $after_id))
order by change_start desc, sys_id desc
limit $limit
"""


def changes(
    con: duckdb.DuckDBPyConnection,
    *,
    scope: Scope,
    status: str,
    as_of: datetime,
    start: datetime,
    end: datetime,
    limit: int,
    after: tuple[datetime, str] | None,
) -> list[dict[str, Any]]:
    params = scope.params() | {"status": status, "as_of": as_of, "start": start, "end": end, "limit": limit}
    params |= {"after_at": after[0] if after else None, "after_id": after[1] if after else None}
    return fetch(con, CHANGES_SQL, params)


DEPLOYMENTS_SQL = """
select deployment_key, origin, source_ref, app_id, component_id, environment, revision, previous_revision,
    started_at, finished_at, status, is_rollback, initiated_by, rolled_back, change_numbers, change_unsuccessful,
    is_change_failure_full, is_change_failure_light, incident_numbers_full, incident_numbers_light, recovered_at_full,
    recovered_at_light, is_rework, web_url, source_environment
-- A mart an earlier release built has no web_url, or no source_environment: its deployments are listed without their
-- GitLab link or GitLab environment until the next build, not refused (an empty relation of the columns, joined by
-- name, gives them as null).
from (
    select * from {source}
    union all by name
    select cast(null as varchar) as web_url, cast(null as varchar) as source_environment where false
)
where app_id = $app and ($component is null or component_id = $component) and environment = $env
    -- One finished after as_of, read ahead of the build, has not happened yet (as the last deployment has it).
    and finished_at >= $start and finished_at < $end and finished_at < $as_of
    and ($after_at is null or (finished_at, deployment_key) < ($after_at, $after_id))
order by finished_at desc, deployment_key desc
limit $limit
"""


def deployments(
    con: duckdb.DuckDBPyConnection,
    *,
    scope: Scope,
    as_of: datetime,
    start: datetime,
    end: datetime,
    limit: int,
    after: tuple[datetime, str] | None,
    files: list[str] | None = None,
) -> list[dict[str, Any]]:
    """`files`: the month objects that overlap the range (Snapshot.table_months); None reads the table's view."""
    params = scope.params() | {"as_of": as_of, "start": start, "end": end, "limit": limit}
    params |= {"after_at": after[0] if after else None, "after_id": after[1] if after else None}
    return _over_months(con, DEPLOYMENTS_SQL, "mv_deployments", params, files)


# The merge requests behind an entity's lead time: the rows DORA's lead_time_sample counts (43_stg_dora_facts.sql),
# those shipped from $counted_from (the period's deployments_from) to its end, newest merge first.
LEAD_TIMES_SQL = """
select mr_id, mr_iid as merge_request_iid, title, project_id, component_id, merged_at, deployed_at, lead_time_hours,
    deployment_key, match_rule, mr_url as url
-- A mart an earlier release built has none of the request's iid, title and page: its requests are listed without
-- them until the next build, not refused.
from (
    select * from {source}
    union all by name
    select cast(null as bigint) as mr_iid, cast(null as varchar) as title, cast(null as varchar) as mr_url where false
)
where app_id = $app and ($component is null or component_id = $component) and environment = $env
    and deployed_at >= $counted_from and deployed_at < $end
    and ($after_at is null or (merged_at, mr_id) < ($after_at, $after_id))
order by merged_at desc, mr_id desc
limit $limit
"""


def lead_times(
    con: duckdb.DuckDBPyConnection,
    *,
    scope: Scope,
    counted_from: datetime,
    end: datetime,
    limit: int,
    after: tuple[datetime, int] | None,
    files: list[str] | None = None,
) -> list[dict[str, Any]]:
    """The lead times of the requests shipped in [counted_from, end). `files`: the month objects of merges up to the
    end's month (Snapshot.months_up_to); None reads the table's view."""
    params = scope.params() | {"counted_from": counted_from, "end": end, "limit": limit}
    params |= {"after_at": after[0] if after else None, "after_id": after[1] if after else None}
    return _over_months(con, LEAD_TIMES_SQL, "mv_lead_times", params, files)


def _over_months(
    con: duckdb.DuckDBPyConnection, sql: str, table: str, params: dict[str, Any], files: list[str] | None
) -> list[dict[str, Any]]:
    """`sql` over the given month objects of a mart table, or over its view when `files` is None; none given, no
    row (the range's months hold none)."""
    if files is None:
        return fetch(con, sql.format(source=table), params)
    if not files:
        return []
    return fetch(con, sql.format(source="read_parquet($files, union_by_name = true)"), params | {"files": files})


# The latest deployment of each component, and of each of its GitLab environments (regions), from history; a scope's
# rows ordered by component, then GitLab environment.
LAST_DEPLOYMENT_COLUMNS = (
    "component_id",
    "deployment_key",
    "finished_at",
    "status",
    "revision",
    "origin",
    "source_environment",
)
SUMMARY_LATEST_SQL = f"""
select app_id, environment, {", ".join(LAST_DEPLOYMENT_COLUMNS)}
from mv_deployments_latest
order by app_id, environment, component_id, lower(source_environment)
"""  # noqa: S608 - constant names


# What live mode falls back to when ArgoCD or GitLab cannot be reached: the last status and pipeline read, by build.
LIVE_STATUS_COLUMNS = (
    "component_id",
    "sync_status",
    "health_status",
    "operation_phase",
    "status_observed_at",
    "last_pipeline_status",
    "last_pipeline_ref",
    "last_pipeline_at",
    "last_pipeline_url",
)
SUMMARY_LIVE_STATUS_SQL = f"""
select app_id, environment, {", ".join(LIVE_STATUS_COLUMNS)}
from mv_live_status_latest
order by app_id, environment, component_id
"""  # noqa: S608 - constant names


# --- SLO, health, risk ------------------------------------------------------------------------------------------
# What a summary shows of each application's SLO (last 30 days) and risk: the availability and, for a card without a
# second request, both latency SLOs with their thresholds, target, coverage and budgets.
# The burn rates are the last build's (mv_slo_burn_rates and mv_slo_group_burn_rates, hourly), over windows ending at
# the table's windows_end, served as burn_windows_end; the periods' figures are daily.
BURN_RATE_COLUMNS = (
    "burn_rate_1h",
    "burn_rate_2h",
    "burn_rate_6h",
    "burn_rate_24h",
    "burn_rate_3d",
    "burn_rate_alert",
    "burn_windows_end",
)
BURN_RATES = ", ".join(f"b.{c}" for c in BURN_RATE_COLUMNS[:-1]) + ", b.windows_end as burn_windows_end"
BURN_RATES_JOIN = "left join mv_slo_burn_rates as b on s.app_id = b.app_id and s.environment = b.environment"
GROUP_BURN_RATES_JOIN = (
    "left join mv_slo_group_burn_rates as b on s.level = b.level and s.level_id = b.level_id "
    "and s.environment = b.environment"
)
SUMMARY_SLO_SQL = f"""
select s.app_id, s.environment, s.period, s.period_start, s.period_end, s.availability, s.availability_target,
    s.availability_status,
    s.error_budget_remaining, s.error_budget_consumed, s.burn_rate_period, b.burn_rate_1h, b.burn_rate_alert,
    b.windows_end as burn_windows_end,
    s.latency_p95_sli, s.latency_p95_status, s.coverage,
    s.latency_p95_threshold_ms, s.latency_p99_threshold_ms, s.latency_target, s.latency_target as latency_p99_target,
    s.latency_coverage, s.latency_p99_sli, s.latency_p99_status, s.latency_p99_coverage,
    s.latency_p95_budget_consumed, s.latency_p95_budget_remaining,
    s.latency_p99_budget_consumed, s.latency_p99_budget_remaining,
    s.availability_denominator, s.availability_numerator, s.bad_requests, s.measured_hours, s.expected_hours,
    s.latency_measured_hours, s.latency_p95_good_hours, s.latency_p99_measured_hours, s.latency_p99_good_hours
from mv_slo_app_period as s
{BURN_RATES_JOIN}
where s.period = 'last_30d'
order by s.app_id, s.environment
"""  # noqa: S608 - constant text
SUMMARY_RISK_SQL = "select app_id, rank, risk_score, health, reasons from mv_monitoring_top_risks order by app_id"


# What a report row answers with, of each period table (see mart_columns).
SLO_APP_COLUMNS = mart_columns(
    "mv_slo_app_period", SloRow.model_fields, "s.", ("id", "applications", "latency_p99_target", *BURN_RATE_COLUMNS)
)
SLO_GROUP_COLUMNS = mart_columns("mv_slo_group_period", SloRow.model_fields, "s.", ("id", *BURN_RATE_COLUMNS))
DORA_APP_COLUMNS = mart_columns("mv_dora_app_period", DoraRow.model_fields, besides=("id", "applications"))
DORA_GROUP_COLUMNS = mart_columns("mv_dora_group_period", DoraRow.model_fields, besides=("id",))

# An application row sums one application (`applications`), as a team's row sums its own.
SLO_APPS_SQL = (
    f"""
with {UNDER_SCOPES},
report as materialized (
    select s.app_id as id, 1 as applications, {SLO_APP_COLUMNS}, s.latency_target as latency_p99_target, {BURN_RATES}
    from mv_slo_app_period as s
    {BURN_RATES_JOIN}
    where s.period = $period and s.environment = $env and {KEPT.format(id="s.app_id")}
)"""  # noqa: S608 - constant text
    + REPORT_PAGE
)
SLO_GROUPS_SQL = (
    f"""
with {UNDER_SCOPES},
report as materialized (
    select s.level_id as id, {SLO_GROUP_COLUMNS}, {BURN_RATES} from mv_slo_group_period as s
    {GROUP_BURN_RATES_JOIN}
    where s.period = $period and s.environment = $env and s.level = $level and {KEPT.format(id="s.level_id")}
)"""  # noqa: S608 - constant text
    + REPORT_PAGE
)

# The build's SQL by table: explicit ranges run it over inputs of their own (see _slo_range_sql, _dora_range_sql),
# on a connection that has defined the macros it uses, as the build's has (the copy's connection: mart.py).
BUILD_SQL = {table: f.text.strip().rstrip(";") for table, f in SQL_FILES.items()}
BUILD_MACROS = load_macros()


def _slo_range_sql(group_by: str) -> str:
    """SLO for an explicit range: the build's own SQL (40, and 41 for teams, groups and domains), over the whole UTC
    days the range touches. Only its inputs are replaced: the day table's sums for those days stand for the hourly
    windows, the applications are the build's (with their day rows' team, group and domain), and the targets and
    thresholds are those the build used."""
    sql = SLO_RANGE_TEMPLATE.replace("{mv_slo_app_period}", BUILD_SQL["mv_slo_app_period"]).replace(
        "{scoped_apps}", SCOPED_APPS.strip()
    )
    if group_by == "app":
        return sql + SLO_RANGE_APPS
    return sql + SLO_RANGE_GROUPS.replace("{mv_slo_group_period}", BUILD_SQL["mv_slo_group_period"])


SLO_RANGE_TEMPLATE = """
with build_params as (
    select any_value(min_coverage) as min_coverage from mv_slo_app_period
),
-- Each application's targets, as the build resolved them (its mapping's, else the build's defaults).
app_targets as (
    select
        app_id,
        environment,
        any_value(availability_target) as availability_target,
        any_value(latency_p95_threshold_ms) as latency_p95_threshold_ms,
        any_value(latency_p99_threshold_ms) as latency_p99_threshold_ms,
        any_value(latency_target) as latency_target
    from mv_slo_app_period
    where environment = $env
    group by app_id, environment
),
stg_periods as (
    select
        'range' as period,
        cast($start as timestamptz) as period_start,
        cast($end as timestamptz) as period_end,
        -- Null for a range that has not begun, as stg_periods has a named period: no 0 / 0 coverage.
        nullif(epoch(cast($end as timestamptz)) - epoch(cast($start as timestamptz)), 0) / 3600.0 as period_hours
),
day_rows as (
    select * from mv_monitoring_app_day_summary where environment = $env and day >= $first_day and day <= $last_day
),
day_apps as (
    select app_id, any_value(team) as team, any_value(group_id) as group_id, any_value(domain) as domain
    from day_rows
    group by app_id
),
{scoped_apps},
-- The build's applications, as a named period has them: one without a day row in the range (a range before the
-- data held) is there with no data, under the team, group and domain the build gave it; the others under their
-- day rows', as the day reports have them.
stg_apps as (
    select
        t.*,
        case when d.app_id is null then s.team else d.team end as team,
        case when d.app_id is null then s.group_id else d.group_id end as group_id,
        case when d.app_id is null then s.domain else d.domain end as domain
    from app_targets as t
    left join day_apps as d on t.app_id = d.app_id
    left join scoped_apps as s on t.app_id = s.app_id
),
stg_app_signals_windows as (
    select
        app_id, environment, 'range' as window_name, requests, errors, measured_hours, latency_measured_hours,
        latency_p95_good_hours, latency_p99_good_hours, latency_p99_measured_hours
    from day_rows
),
mv_slo_app_period as (
{mv_slo_app_period}
)"""
SLO_RANGE_APPS = (
    f""",{_under("stg_apps")},
report as materialized (
    select s.app_id as id, 1 as applications, s.*, s.latency_target as latency_p99_target, {BURN_RATES}
    from mv_slo_app_period as s
    {BURN_RATES_JOIN}
    where {KEPT.format(id="s.app_id")}
)"""  # noqa: S608 - constant text
    + REPORT_PAGE
)
SLO_RANGE_GROUPS = (
    f""",
mv_slo_group_period as (
{{mv_slo_group_period}}
),{_under("stg_apps")},
report as materialized (
    select s.level_id as id, s.*, {BURN_RATES} from mv_slo_group_period as s
    {GROUP_BURN_RATES_JOIN}
    where s.level = $level and {KEPT.format(id="s.level_id")}
)"""  # noqa: S608 - constant text
    + REPORT_PAGE
)
SLO_RANGE_SQL = {group_by: _slo_range_sql(group_by) for group_by in ("app", *GROUP_LEVELS)}


def slo_named(
    con: duckdb.DuckDBPyConnection,
    *,
    group_by: str,
    period: str,
    environment: str,
    limit: int,
    after: str | None,
    under: Under = ESTATE,
) -> ReportRows:
    params: dict[str, Any] = {"period": period, "env": environment, "limit": limit, "after": after}
    params |= under.params(group_by)
    if group_by == "app":
        return report_rows(fetch(con, SLO_APPS_SQL, params))
    return report_rows(fetch(con, SLO_GROUPS_SQL, params | {"level": GROUP_LEVELS[group_by]}))


def slo_range(
    con: duckdb.DuckDBPyConnection,
    *,
    group_by: str,
    period: Period,
    environment: str,
    limit: int,
    after: str | None,
    under: Under = ESTATE,
) -> ReportRows:
    """SLO rows with their `id` over `period`, whole UTC days (see Period.whole_days)."""
    params: dict[str, Any] = {
        "env": environment,
        "start": period.start,
        "end": period.end,
        "first_day": period.first_day,
        "last_day": period.last_day,
        "limit": limit,
        "after": after,
    }
    params |= under.params(group_by)
    if group_by != "app":
        params["level"] = GROUP_LEVELS[group_by]
    return report_rows(fetch(con, SLO_RANGE_SQL[group_by], params))


DORA_APPS_SQL = (
    f"""
with {UNDER_SCOPES},
report as materialized (
    select app_id as id, 1 as applications, {DORA_APP_COLUMNS} from mv_dora_app_period
    where period = $period and environment = $env and correlation_mode = $mode and band_set = $bands
        and {KEPT.format(id="app_id")}
)"""  # noqa: S608 - constant text
    + REPORT_PAGE
)
DORA_GROUPS_SQL = (
    f"""
with {UNDER_SCOPES},
report as materialized (
    select level_id as id, {DORA_GROUP_COLUMNS} from mv_dora_group_period
    where period = $period and environment = $env and correlation_mode = $mode and band_set = $bands
        and level = $level and {KEPT.format(id="level_id")}
)"""  # noqa: S608 - constant text
    + REPORT_PAGE
)


# The daily build's period tables, whose rows say the bounds of their named periods.
PERIOD_TABLES = {"dora": "mv_dora_app_period", "slo": "mv_slo_app_period"}


def named_period(con: duckdb.DuckDBPyConnection, kpi: str, period: Period) -> Period:
    """The bounds a named period's figures cover: the period tables are the daily build's, which the hourly builds
    since (and the API's as_of with them) have not moved. `period` itself when the table holds no row."""
    sql = f"select period_start, period_end from {PERIOD_TABLES[kpi]} where period = $period limit 1"  # noqa: S608
    found = fetch_one(con, sql, {"period": period.name})
    return Period(found["period_start"], found["period_end"], period.name) if found else period


def _dora_range_sql(deployment_files: bool, lead_time_files: bool) -> str:
    """DORA for an explicit range: the build's own SQL (43, 44), run over the one requested period and scope.

    The definitions stay in one place; only the inputs the build would give it are replaced: a one-row
    stg_periods for the range, the scopes and bands the build published (mv_dora_scopes, mv_dora_bands), and the
    event tables' rows the range can count. With `deployment_files` (`lead_time_files`), the deployments (lead times)
    are read from the month objects in $deployment_files ($lead_time_files) rather than the whole table.
    """
    # main.: the table's view itself, not the bounded one of its name below.
    deployments = "read_parquet($deployment_files, union_by_name = true)" if deployment_files else "main.mv_deployments"
    lead_times = "read_parquet($lead_time_files, union_by_name = true)" if lead_time_files else "main.mv_lead_times"
    return (
        DORA_RANGE_TEMPLATE.replace("{deployments}", deployments)
        .replace("{lead_times}", lead_times)
        .replace("{stg_dora_facts}", BUILD_SQL["stg_dora_facts"])
        .replace("{stg_dora_levels}", BUILD_SQL["stg_dora_levels"])
        .replace("{under_scopes}", UNDER_SCOPES)
        .replace("{kept}", KEPT.format(id="level_id"))
    )


DORA_RANGE_TEMPLATE = """
with stg_periods as (
    select
        'range' as period,
        cast($start as timestamptz) as period_start,
        cast($end as timestamptz) as period_end,
        -- Null for a range with nothing before as_of, as stg_periods has it for a period not begun.
        nullif(epoch(cast($end as timestamptz)) - epoch(cast($start as timestamptz)), 0) / 86400.0 as period_days,
        -- The part of the range the lake read deployments over, as stg_periods has it for a named period.
        least(
            cast($end as timestamptz),
            greatest(cast($start as timestamptz), cast($deployments_read_from as timestamptz))
        ) as deployments_from,
        nullif(
            greatest(epoch(cast($end as timestamptz)) - epoch(deployments_from), 0), 0
        ) / 86400.0 as deployment_days,
        -- A range with nothing before as_of has none of it read, as stg_periods has it for a period not begun.
        period_days is not null
        and coalesce(cast($deployments_read_from as timestamptz) < cast($end as timestamptz), true) as deployments_read,
        period_days is not null
        and coalesce(cast($incidents_read_from as timestamptz) < cast($end as timestamptz), true) as incidents_read,
        period_days is not null
        and coalesce(cast($changes_read_from as timestamptz) < cast($end as timestamptz), true) as changes_read,
        -- The first reads after the range's start, as stg_periods says them for a named period.
        case when cast($incidents_read_from as timestamptz) > cast($start as timestamptz)
            then cast($incidents_read_from as timestamptz) end as incidents_read_from,
        case when cast($changes_read_from as timestamptz) > cast($start as timestamptz)
            then cast($changes_read_from as timestamptz) end as changes_read_from,
        -- The incidents' watermark when the range's last day lies wholly after it (the caller decides, as DaysRead).
        cast($incidents_read_until as timestamptz) as incidents_read_until,
        cast($changes_read_until as timestamptz) as changes_read_until,
        cast($deployments_read_until as timestamptz) as deployments_read_until
),
stg_dora_scopes as (select * from mv_dora_scopes where level = $level and environment = $env),
stg_dora_bands as (select * from mv_dora_bands where band_set = $bands),
-- The rows of the event tables the range can count, under the names the build's SQL reads: the deployments finished
-- in it and the lead times deployed in it (it counts those from deployments_from on, never before the range's
-- start), the incidents restored in it (MTTR; opened whenever). What makes a deployment a change failure, or
-- recovers it, is in its row as the build found it, however far after the range. Constant bounds, which Parquet
-- readers skip row groups by (a month's deployments, the lead times of merges in earlier months).
mv_deployments as (
    select * from {deployments}
    where finished_at >= cast($start as timestamptz) and finished_at < cast($end as timestamptz)
),
mv_lead_times as (
    select * from {lead_times}
    where deployed_at >= cast($start as timestamptz) and deployed_at < cast($end as timestamptz)
),
mv_incidents as (
    select * from main.mv_incidents
    where restored_at >= cast($start as timestamptz) and restored_at < cast($end as timestamptz)
),
stg_dora_facts as (
{stg_dora_facts}
),
stg_dora_levels as (
{stg_dora_levels}
),
{under_scopes},
report as materialized (
    select level_id as id, * exclude (level)
    from stg_dora_levels
    where correlation_mode = $mode and {kept}
)"""
# By whether the deployments, and the lead times, are read from month objects (see dora).
DORA_RANGE_SQL = {
    (deployment_files, lead_time_files): _dora_range_sql(deployment_files, lead_time_files) + REPORT_PAGE
    for deployment_files in (False, True)
    for lead_time_files in (False, True)
}


def dora(
    con: duckdb.DuckDBPyConnection,
    *,
    group_by: str,
    period: Period,
    environment: str,
    mode: str,
    band_set: str,
    limit: int,
    after: str | None,
    under: Under = ESTATE,
    deployments_read_from: datetime | None = None,
    incidents_read_from: datetime | None = None,
    changes_read_from: datetime | None = None,
    incidents_read_until: datetime | None = None,
    changes_read_until: datetime | None = None,
    deployments_read_until: datetime | None = None,
    deployment_files: list[str] | None = None,
    lead_time_files: list[str] | None = None,
) -> ReportRows:
    """DORA rows with their `id`: a named period from the build's tables, an explicit range computed here (its
    deployments counted from `deployments_read_from`, the build's, when the range starts before it; MTTR unknown over
    a range that ended before `incidents_read_from`, and the change failures, recovery and rework over one that ended
    before it or `changes_read_from`, each said on the rows when after the range's start; `incidents_read_until`,
    `changes_read_until` and `deployments_read_until`, the watermarks of the incidents, change requests and
    deployments when the range goes past them, said on each row). A range reads its deployments from
    `deployment_files`, the month objects it overlaps (Snapshot.table_months), and its lead times from
    `lead_time_files`, the months of merges up to its end (Snapshot.months_up_to), when given; else (none, or a table
    stored whole) from the table's view."""
    params: dict[str, Any] = {"env": environment, "mode": mode, "bands": band_set, "limit": limit, "after": after}
    params |= under.params(group_by)
    if period.name is None:
        level = "application" if group_by == "app" else GROUP_LEVELS[group_by]
        bounds = {
            "start": period.start,
            "end": period.end,
            "deployments_read_from": deployments_read_from,
            "incidents_read_from": incidents_read_from,
            "changes_read_from": changes_read_from,
            "incidents_read_until": incidents_read_until,
            "changes_read_until": changes_read_until,
            "deployments_read_until": deployments_read_until,
        }
        # No month object within reach holds a row of the range: the table's view, bounded, finds none either.
        files = {"deployment_files": deployment_files or None, "lead_time_files": lead_time_files or None}
        sql = DORA_RANGE_SQL[files["deployment_files"] is not None, files["lead_time_files"] is not None]
        found = fetch(con, sql, params | {"level": level} | bounds | files)
    elif group_by == "app":
        found = fetch(con, DORA_APPS_SQL, params | {"period": period.name})
    else:
        found = fetch(con, DORA_GROUPS_SQL, params | {"period": period.name, "level": GROUP_LEVELS[group_by]})
    return report_rows(found)


# The incidents report: mv_incidents_app_day's days summed per application, or per team, group or domain (sums of
# the applications' events), with each row's incidents opened per day (the heatmap). The applications are the
# build's (PERIOD_APPS), under their day rows' team, group and domain, as the SLO range rollups take them (stg_apps
# in SLO_RANGE_TEMPLATE).
# $level picks the id a row is summed by: 'app', 'team', 'group' or 'domain'.

# Between a day report's totals and its days: the rows kept under the filter, how many they are, the page of them
# asked for, and every day of the period. Its final select reads the page beside its count, as REPORT_PAGE does.
PAGE_AND_CALENDAR = f"""
kept as (
    select * from totals where {KEPT.format(id="id")}
),
counted as (
    select count(*) as report_total from kept
),
page as (
    select * from kept where $after is null or id > $after order by id limit $limit
),
calendar as (
    select
        cast(d.day as date) as day,
        -- False for a day wholly before the lake first read the report's records, or wholly after how far it read
        -- them (ServiceNow down since), or one the day table does not hold: its counts are unknown, not 0.
        {day_read("cast(d.day as date)")} and cast(d.day as date) in (select day from held) as is_read
    from unnest(generate_series(cast($first_day as date), cast($last_day as date), interval 1 day)) as d (day)
),"""  # noqa: S608 - constant text


def _scoped_day_rows(day_table: str) -> str:
    """The opening of a report summed from a day table: `scoped`, its rows of the environment and days with the
    `id` they are summed under (the application, or its team, group or domain), `apps`, each application's, and
    `held`, the days the table holds. Every application in scope has a row in `scoped`, one with no day row in the
    period (a period before the day tables) a row without a day, read on none.
    Only the applications in $measured count: the day tables zero-fill every application, and the zeros of one
    whose events could never be found would read as none having happened."""
    return f"""
with day_rows as (
    select * from {day_table}
    where environment = $env and day >= $first_day and day <= $last_day and list_contains($measured, app_id)
),
-- A day the table lacks (before the mart's first day) was never counted: unknown, as a day not read.
held as (
    select distinct day from day_rows
),
{PERIOD_APPS},
apps as (
    select * from period_apps where list_contains($measured, app_id)
),
scoped as (
    select
        case $level when 'app' then a.app_id when 'team' then a.team when 'group' then a.group_id
            else a.domain end as id,
        a.team,
        a.app_id,
        -- False for a day wholly before the lake first read the report's records, or wholly after how far it read
        -- them: unknown, so in no total either.
        d.day is not null and {day_read("d.day")} as is_read,
        d.* exclude (app_id)
    from apps as a
    left join day_rows as d on d.app_id = a.app_id
),{_under("apps")},
"""  # noqa: S608 - the table name is one of ours


# The incidents report's totals and, after PAGE_AND_CALENDAR, its heatmap.
INCIDENTS_TOTALS_SQL = f"""
-- Times to restore are taken over the incidents themselves, those the restored counts count (up to the period's end,
-- the build's as_of on its day: a restoration after it has not happened yet): medians do not roll up from day rows,
-- and a day's mean leaves out its restorations without a duration (see mv_incidents), which its count does not.
restores as (
    select
        case $level when 'app' then i.app_id when 'team' then a.team when 'group' then a.group_id
            else a.domain end as id,
        i.duration_hours,
        -- In whole milliseconds, summed exactly: the mean does not move with the order rows are added in.
        case when i.duration_hours is not null then epoch_ms(i.restored_at) - epoch_ms(i.opened_at) end as duration_ms
    from mv_incidents as i
    inner join apps as a on i.app_id = a.app_id
    where
        i.environment = $env and not i.is_canceled and i.restored_at is not null
        and cast(i.restored_at as date) >= $first_day and cast(i.restored_at as date) <= $last_day
        and i.restored_at < $end
        -- On a day read, as the restored counts (see totals).
        and {day_read("cast(i.restored_at as date)")} and cast(i.restored_at as date) in (select day from held)
),
-- Summed over the days read (scoped.is_read), so that a row's totals are the sum of its days: a day before the lake
-- first read ServiceNow's incidents is unknown (null in the heatmap), and a period with no day read has none (null).
-- The backlog at the period's end is known only when its last day was read (not while ServiceNow is down), and,
-- a state at an instant (the as-of on its day), when the incidents were read to within the hour before it
-- ($backlog_read: DaysRead.current_at, the summary's rule).
totals as materialized (
    select
        id,
        case when $level = 'app' then any_value(team) end as team,
        count(distinct app_id) as applications,
        cast(sum(opened) filter (where is_read) as bigint) as opened,
        cast(sum(opened_p1_p2) filter (where is_read) as bigint) as opened_p1_p2,
        cast(sum(restored) filter (where is_read) as bigint) as restored,
        -- A day before the lake first read task SLAs has none (null, see mv_incidents_app_day): in no sum either;
        -- nor has a day wholly after how far it read them (their watermark), which the day table counts 0.
        cast(sum(sla_breaches) filter (where is_read and {day_read("day", "slas_")}) as bigint) as sla_breaches,
        case when bool_or(is_read and day = $last_day) and $backlog_read then
            cast(coalesce(sum(open_end_of_day) filter (where day = $last_day), 0) as bigint) end as open_end_of_period,
        case when bool_or(is_read and day = $last_day) and $backlog_read then
            cast(coalesce(sum(open_p1_p2_end_of_day) filter (where day = $last_day), 0) as bigint) end
            as open_p1_p2_end_of_period
    from scoped
    where id is not null
    group by id
),
"""  # noqa: S608 - constant text
INCIDENTS_DAYS_SQL = """
heat as (
    select p.id, c.day, case when c.is_read then cast(coalesce(sum(s.opened), 0) as bigint) end as opened
    from page as p
    cross join calendar as c
    left join scoped as s on s.id = p.id and s.day = c.day
    group by p.id, c.day, c.is_read
)
select
    p.*,
    n.report_total,
    (select avg(r.duration_ms) / 3600000.0 from restores as r where r.id = p.id) as mttr_mean_hours,
    (select median(r.duration_hours) from restores as r where r.id = p.id) as mttr_median_hours,
    (select list({'day': h.day, 'opened': h.opened} order by h.day) from heat as h where h.id = p.id) as days
from counted as n
left join page as p on true
order by p.id
"""


# The changes report's totals and, after PAGE_AND_CALENDAR, its calendar.
CHANGES_TOTALS_SQL = """
-- The day table counts a change on its planned day, the as-of day's later hours included (the plan is known). The
-- period ends at $end, the as-of hour on that day: what is planned after it is upcoming, shown on the calendar's day
-- as planned (an emergency one as an emergency too) but in none of the period's counts, as nothing of it has happened.
upcoming as (
    select
        app_id,
        cast(planned_start as date) as day,
        count(*) filter (where not is_canceled) as planned,
        count(*) filter (where is_canceled) as canceled,
        count(*) filter (where type = 'emergency' and not is_canceled) as emergency
    from mv_changes
    where environment = $env and planned_start >= $end and cast(planned_start as date) = $last_day
    group by app_id, cast(planned_start as date)
),
change_days as (
    select
        s.*,
        coalesce(u.planned, 0) as upcoming,
        coalesce(u.canceled, 0) as canceled_upcoming,
        coalesce(u.emergency, 0) as emergency_upcoming
    from scoped as s
    left join upcoming as u on s.app_id = u.app_id and s.day = u.day
),
-- Summed over the days read, as the incidents report's totals are: the sum of the calendar's days (less what is
-- upcoming on them), null without one.
totals as materialized (
    select
        id,
        case when $level = 'app' then any_value(team) end as team,
        count(distinct app_id) as applications,
        cast(sum(planned - upcoming) filter (where is_read) as bigint) as planned,
        cast(sum(canceled - canceled_upcoming) filter (where is_read) as bigint) as canceled,
        cast(sum(emergency - emergency_upcoming) filter (where is_read) as bigint) as emergency,
        cast(sum(implemented) filter (where is_read) as bigint) as implemented,
        cast(sum(successful) filter (where is_read) as bigint) as successful,
        cast(sum(successful_with_issues) filter (where is_read) as bigint) as successful_with_issues,
        cast(sum(unsuccessful) filter (where is_read) as bigint) as unsuccessful,
        cast(sum(failed) filter (where is_read) as bigint) as failed,
        cast(sum(closed_with_code) filter (where is_read) as bigint) as closed_with_code,
        cast(sum(other_close_code) filter (where is_read) as bigint) as other_close_code,
        -- Weighted by changes: the failed over every change closed with a code, not a mean of day rates.
        sum(failed) filter (where is_read) / nullif(sum(closed_with_code) filter (where is_read), 0)
            as change_failure_rate
    from change_days
    where id is not null
    group by id
),
"""
CHANGES_DAYS_SQL = """
by_day as (
    select
        p.id,
        c.day,
        case when c.is_read then cast(coalesce(sum(s.planned), 0) as bigint) end as planned,
        case when c.is_read then cast(coalesce(sum(s.implemented), 0) as bigint) end as implemented,
        case when c.is_read then cast(coalesce(sum(s.unsuccessful), 0) as bigint) end as unsuccessful,
        case when c.is_read then cast(coalesce(sum(s.failed), 0) as bigint) end as failed,
        case when c.is_read then cast(coalesce(sum(s.emergency), 0) as bigint) end as emergency,
        case when c.is_read then cast(coalesce(sum(s.upcoming), 0) as bigint) end as upcoming
    from page as p
    cross join calendar as c
    left join change_days as s on s.id = p.id and s.day = c.day
    group by p.id, c.day, c.is_read
)
select
    p.*,
    (
        select list(
            {'day': b.day, 'planned': b.planned, 'implemented': b.implemented, 'unsuccessful': b.unsuccessful,
                'failed': b.failed, 'emergency': b.emergency, 'upcoming': b.upcoming}
            order by b.day
        )
        from by_day as b where b.id = p.id
    ) as days,
    n.report_total
from counted as n
left join page as p on true
order by p.id
"""

# The reports summed from a day table: incident rows with their heatmap, change rows with their calendar.
DAY_REPORTS = {
    "incidents": ("mv_incidents_app_day", INCIDENTS_TOTALS_SQL, INCIDENTS_DAYS_SQL),
    "changes": ("mv_changes_app_day", CHANGES_TOTALS_SQL, CHANGES_DAYS_SQL),
}
DAY_REPORT_LEVELS = ("app", *GROUP_LEVELS)


def day_report(
    con: duckdb.DuckDBPyConnection,
    report: str,
    *,
    group_by: str,
    period: Period,
    environment: str,
    limit: int,
    after: str | None,
    measured: list[str],
    under: Under = ESTATE,
    days_read: DaysRead = DaysRead(),
    slas_read: DaysRead = DaysRead(),
    backlog_at: datetime | None = None,
) -> ReportRows:
    """A day report's rows (see DAY_REPORTS) with their `id` and `days` over `period`, whole UTC days (see
    Period.whole_days), over the applications in `measured` (those whose events the build can find). A day not in
    `days_read` (the report's ServiceNow records not read on it) has unknown (null) counts, and one not in `slas_read`
    (task SLAs not read on it) unknown SLA breaches. The incidents' backlog at `backlog_at` (the period's end, or the
    as-of if sooner) is unknown unless `days_read` was current then (None: known)."""
    if group_by not in DAY_REPORT_LEVELS:
        raise KeyError(group_by)
    params = {
        "env": environment,
        "measured": measured,
        "level": group_by,
        "first_day": period.first_day,
        "last_day": period.last_day,
        "end": period.end,
        "limit": limit,
        "after": after,
    }
    params |= days_read.params() | slas_read.params("slas_")
    params |= under.params(group_by)
    if report == "incidents":
        params["backlog_read"] = backlog_at is None or days_read.current_at(backlog_at)
    day_table, totals, days = DAY_REPORTS[report]
    return report_rows(fetch(con, _scoped_day_rows(day_table) + totals + PAGE_AND_CALENDAR + days, params))


# A ranking's applications under the filter (Under), as its rows attribute them; ranks stay the estate's.
RANKED_UNDER = """($under_team is null or team = $under_team) and ($under_group is null or group_id = $under_group)
    and ($under_domain is null or domain = $under_domain) and ($under_app is null or app_id = $under_app)"""
# A risk row's figures of its period, as mv_monitoring_top_risks has them: the 7 days the score is judged on.
RISK_PERIOD_FIGURES = {"error_rate": "error_rate_7d", "incidents": "incidents_7d", "requests": "requests_7d"}
# What a risk row answers with (see mart_columns), the incident counts besides.
RISK_COLUMNS = mart_columns(
    "mv_monitoring_top_risks",
    [RISK_PERIOD_FIGURES.get(name, name) for name in RiskRow.model_fields],
    besides=("open_p1_p2", "incidents_7d"),
)
# Incidents are found by ServiceNow CI alone: an application tied to none ($measured lists those tied to one) has its
# incident counts unknown, not 0; and so are they while ServiceNow was not read (see _risk_params).
MEASURED_RISKS = f"""(
    select
        {RISK_COLUMNS},
        case when list_contains($measured, app_id) and $backlog_read then open_p1_p2 end as open_p1_p2,
        case when list_contains($measured, app_id) and $week_read then incidents_7d end as incidents_7d
    from mv_monitoring_top_risks
)"""  # noqa: S608 - constant names
# A ranking's page and its total, as REPORT_PAGE a report's: `ranking` (its rows, each with its `place` in the
# ranking's order, 1 first) counted, and the page after the place a cursor carries. A cursor is read in the copy that
# gave it (deps.build_cursor), where the order, ties broken by app_id, places each row where it was.
RANKING_PAGE = """
select r.*, n.report_total
from (select count(*) as report_total from ranking) as n
left join (select * from ranking where $after is null or place > $after order by place limit $limit) as r on true
order by r.place
"""


def _ranking_sql(rows: str, kept: str, order: str) -> str:
    """The page of `rows` kept by the condition `kept`, placed in `order` (RANKING_PAGE)."""
    placed = f"select *, row_number() over (order by {order}) as place from {rows} where {kept}"  # noqa: S608
    return f"with ranking as materialized ({placed})" + RANKING_PAGE


# Production's applications by risk rank (the estate's, whatever the filter) or by burn rate over the hour.
RISK_RANKINGS = {
    "risk": _ranking_sql(MEASURED_RISKS, RANKED_UNDER, "rank"),
    "burn_rate": _ranking_sql(MEASURED_RISKS, RANKED_UNDER, "burn_rate_1h desc nulls last, app_id"),
}
# For another metric or period than the 7-day risk score: ranked from the day table.
RANK_RANGE_SQL = f"""
with {PERIOD_APPS}
-- Every application of the environment, one without a day row in the period (before the day tables) with no figure.
select
    a.app_id,
    any_value(r.rank) as rank,
    any_value(r.app_name) as app_name,
    any_value(a.team) as team,
    any_value(a.group_id) as group_id,
    any_value(a.domain) as domain,
    any_value(r.risk_score) as risk_score,
    any_value(r.health) as health,
    sum(s.errors) / nullif(sum(s.requests), 0) as error_rate,
    -- Over the days read: a day wholly before the lake first read ServiceNow's incidents, or wholly after how far it
    -- read them, is unknown, not 0; null (ranked last, as an application tied to no CI) when none of the days was read.
    case when list_contains($measured, a.app_id) then
        sum(s.incidents_opened) filter (where {day_read("s.day", "incidents_")}) end as incidents,
    sum(s.requests) as requests
from period_apps as a
left join mv_monitoring_app_day_summary as s
    on s.app_id = a.app_id and s.environment = $env and s.day >= $first_day and s.day <= $last_day
-- Risk scores and health are production's: another environment's ranking has none. Asked in the right side (every
-- row is of $env): a condition on the left side alone in a left join's ON made DuckDB compare every pair (0.13 s).
left join (select * from mv_monitoring_top_risks where $env = $production) as r on r.app_id = a.app_id
group by a.app_id
"""  # noqa: S608 - constant text
# An error-rate ranking leaves out applications with fewer requests in the period than this, by default.
MIN_RANKED_REQUESTS = 100
RANK_ORDER = {
    "error_rate": "error_rate desc nulls last, app_id",
    "incidents": "incidents desc nulls last, app_id",
}
# What a ranking from day rows keeps: the applications with the least traffic asked for, under the filter. An
# application without requests in the period (no day rows, or days without traffic: null) has 0 of them, which a
# floor of 0 keeps.
DAY_RANKED = f"($min_requests is null or coalesce(requests, 0) >= $min_requests) and {RANKED_UNDER}"
DAY_RANKINGS = {metric: _ranking_sql(f"({RANK_RANGE_SQL})", DAY_RANKED, order) for metric, order in RANK_ORDER.items()}


def top_risks(
    con: duckdb.DuckDBPyConnection,
    *,
    limit: int,
    measured: list[str],
    as_of: datetime,
    incidents_read: DaysRead = DaysRead(),
    under: Under = ESTATE,
) -> list[dict[str, Any]]:
    """The `limit` riskiest applications: the first page of the risk ranking (see risk_ranking)."""
    found = risk_ranking(
        con,
        metric="risk",
        limit=limit,
        after=None,
        measured=measured,
        as_of=as_of,
        incidents_read=incidents_read,
        under=under,
    )
    return found.rows


def risk_ranking(
    con: duckdb.DuckDBPyConnection,
    *,
    metric: str,
    limit: int,
    after: int | None,
    measured: list[str],
    as_of: datetime,
    incidents_read: DaysRead = DaysRead(),
    under: Under = ESTATE,
) -> ReportRows:
    """A page of production's applications ranked by `metric` (RISK_RANKINGS), after the place `after`. `measured`:
    the applications whose incidents can be found (tied to a ServiceNow CI in production); `as_of`: the build's,
    which the rows are judged at; `incidents_read`: the days the lake read ServiceNow's incidents over."""
    params = {"limit": limit, "after": after} | _risk_params(measured, as_of, incidents_read) | under.params("app")
    found = report_rows(fetch(con, RISK_RANKINGS[metric], params), key="place")
    return ReportRows(_with_period_figures(found.rows), found.total)


def _risk_params(measured: list[str], as_of: datetime, incidents_read: DaysRead) -> dict[str, Any]:
    """What MEASURED_RISKS reads. The P1/P2 open at as_of are a backlog, known when the incidents were read to
    within an hour of as_of (as the reasons of the top risks say); the 7 days' incidents are those of the days read
    (the lake holds none opened on the others), null when none was."""
    return {
        "measured": measured,
        "backlog_read": incidents_read.current_at(as_of),
        "week_read": incidents_read.reads_any((as_of - timedelta(days=7)).astimezone(UTC).date(), last_day_of(as_of)),
    }


def _with_period_figures(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A risk row's error rate, incidents and requests as a ranking's row names them: those of the 7 days the score
    is judged on (the overview's top risks and risk/top alike)."""
    return [r | {name: r.get(column) for name, column in RISK_PERIOD_FIGURES.items()} for r in rows]


def ranked(
    con: duckdb.DuckDBPyConnection,
    *,
    metric: str,
    environment: str,
    production: str,
    first_day: date,
    last_day: date,
    limit: int,
    after: int | None,
    measured: list[str],
    min_requests: int | None = None,
    under: Under = ESTATE,
    incidents_read: DaysRead = DaysRead(),
) -> ReportRows:
    """A page of applications ranked by `metric` over the days, after the place `after`; with `min_requests`, only
    those with that much traffic. Those not in `measured` (tied to no ServiceNow CI in the environment) have no
    incident count, and the days not in `incidents_read` add none."""
    params = {
        "env": environment,
        "production": production,
        "first_day": first_day,
        "last_day": last_day,
        "limit": limit,
        "after": after,
        "min_requests": min_requests,
        "measured": measured,
    }
    params |= incidents_read.params("incidents_") | under.params("app")
    return report_rows(fetch(con, DAY_RANKINGS[metric], params), key="place")


# --- overview ---------------------------------------------------------------------------------------------------
HEALTH_SQL = """
select level, level_id, applications, red, orange, green, no_data, max_risk_score, health, reasons
from mv_health where level in ('domain', 'group', 'team') order by level, level_id
"""
# The estate's own row: its reasons cut to the ten riskiest applications (the red and orange counts hold them all).
ESTATE_HEALTH_SQL = """
select level, level_id, applications, red, orange, green, no_data, max_risk_score, health, reasons[1:10] as reasons
from mv_health where level = 'estate'
"""
HEALTH_COUNTS_SQL = """
select health, count(*) as applications from mv_health where level = 'application' group by health order by health
"""
# Every day from $first_day to $last_day: one the day table has no row for (before the data held, or in an
# environment without applications) had no traffic and counted no event.
TREND_SQL = f"""
with summed as (
    select day, sum(requests) as requests, sum(errors) as errors,
        sum(errors) / nullif(sum(requests), 0) as error_rate,
        cast(sum(incidents_opened) as bigint) as incidents_opened, cast(sum(deployments) as bigint) as deployments,
        cast(sum(deployment_change_failures) as bigint) as deployment_change_failures,
        cast(sum(changes_implemented) as bigint) as changes_implemented
    from mv_monitoring_domain_day_summary
    where environment = $env and day >= $first_day and day <= $last_day
    group by day
),
calendar as (
    select
        cast(d.day as date) as day,
        -- False for a day wholly before the lake first read the events, or wholly after how far it read them (the
        -- source down since): their counts are unknown, not 0.
        {day_read("cast(d.day as date)", "incidents_")} as incidents_read,
        {day_read("cast(d.day as date)", "deployments_")} as deployments_read,
        {day_read("cast(d.day as date)", "changes_")} as changes_read
    from unnest(generate_series(cast($first_day as date), cast($last_day as date), interval 1 day)) as d (day)
)
-- A day the summary lacks (before the mart's first day) was never counted: unknown, as the reports by day say.
select c.day, s.requests, s.errors, s.error_rate,
    case when c.incidents_read and s.day is not null then coalesce(s.incidents_opened, 0) end as incidents_opened,
    case when c.deployments_read and s.day is not null then coalesce(s.deployments, 0) end as deployments,
    case when c.deployments_read and s.day is not null then coalesce(s.deployment_change_failures, 0) end
        as deployment_change_failures,
    case when c.changes_read and s.day is not null then coalesce(s.changes_implemented, 0) end as changes_implemented
from calendar as c
left join summed as s on c.day = s.day
order by c.day
"""  # noqa: S608 - constant text


def health_levels(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    return fetch(con, HEALTH_SQL)


def estate_health(con: duckdb.DuckDBPyConnection) -> dict[str, Any] | None:
    found = fetch(con, ESTATE_HEALTH_SQL)
    return found[0] if found else None


def health_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    return {r["health"]: int(r["applications"]) for r in fetch(con, HEALTH_COUNTS_SQL)}


def daily_trend(
    con: duckdb.DuckDBPyConnection,
    *,
    environment: str,
    first_day: date,
    last_day: date,
    days_read: Mapping[str, DaysRead],
) -> list[dict[str, Any]]:
    """The estate's days; `days_read` gives, per dataset, the days the lake read it over (see Snapshot.days_read):
    the event counts of another day are null."""
    params: dict[str, Any] = {"env": environment, "first_day": first_day, "last_day": last_day}
    for prefix, dataset in TREND_EVENTS:
        params |= days_read.get(dataset, DaysRead()).params(prefix)
    return fetch(con, TREND_SQL, params)


# The trend's event counts, as day_read's prefix names them, and the dataset each is read from.
TREND_EVENTS = (
    ("incidents_", "servicenow/incidents"),
    ("deployments_", "deploys/deployment_events"),
    ("changes_", "servicenow/changes"),
)


# The mapping's coverage, as the last daily build counted it (mv_mapping_coverage, mv_unmapped_keys).
COVERAGE_SQL = """
select record_kind, records, attributed, unattributed, attributed_share, window_start, window_end
from mv_mapping_coverage
order by case record_kind when 'incident' then 1 when 'change' then 2 when 'deployment' then 3 else 4 end
"""

UNMAPPED_COLUMNS = mart_columns("mv_unmapped_keys", UnmappedKey.model_fields)
UNMAPPED_SQL = f"""
select {UNMAPPED_COLUMNS}, count(*) over () as unmapped_total
from mv_unmapped_keys
where $kind is null or record_kind = $kind
order by records desc, last_seen desc, record_kind, key_kind, key nulls first, environment nulls first
limit $limit
"""  # noqa: S608 - constant names


def mapping_coverage(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    return fetch(con, COVERAGE_SQL)


def unmapped_keys(con: duckdb.DuckDBPyConnection, *, kind: str | None, limit: int) -> list[dict[str, Any]]:
    return fetch(con, UNMAPPED_SQL, {"kind": kind, "limit": limit})
