-- table: stg_periods
-- grain: one row per reporting period ending at the build's as_of instant
-- reads: build_params
-- refresh: hourly
--
-- Rolling periods end at as_of (the start of the current hour, excluded); calendar periods run from the
-- start of the month or quarter to as_of; previous_* periods are the last complete month or quarter.
-- Deployments are counted over the part of a period since the lake has read them (deployments_read_from: the
-- start of the first window the deploy ingest completed, a run's or a backfill's): a lake a week old knows nothing
-- of the three weeks before, so its last 30 days hold 7 days of deployments, and a quarter that ended before it
-- holds none to count (deployments_read is false). Unknown when no ingest recorded it: the whole period.
-- Incidents likewise (incidents_read_from): a period that ended before the lake read any has no MTTR to tell,
-- rather than no incident restored (incidents_read is false), nor the change failures, recoveries and rework found
-- through an incident. Change requests likewise (changes_read_from, changes_read): the change failures, recoveries and
-- rework found through a change. Each first read, when it falls after the period's start, is on the row
-- (incidents_read_from, changes_read_from; null when read from the start on): what was found through it over a period
-- read in part counts only from there.
-- incidents_read_until: how far the lake read incidents (their watermark), when the period's last day lies wholly
-- after it (ServiceNow down since, the API's rule in functions/api/queries.DaysRead): the period's MTTR, and its
-- change failures and recoveries found through incidents, count only those read before it. Null otherwise.
-- changes_read_until: the same for ServiceNow's change requests: the change failures and recoveries found through an
-- unsuccessful change, and the rework done under an emergency change, count only the changes read before it.
-- deployments_read_until: the same for deployments (the build's _deployments_read_until): every DORA
-- metric but MTTR misses the deployments after it of the source not read (a source still read counts).
with params as (
    select
        as_of,
        cast(deployments_read_from as timestamptz) as deployments_read_from,
        cast(incidents_read_from as timestamptz) as incidents_read_from,
        cast(changes_read_from as timestamptz) as changes_read_from,
        cast(incidents_read_until as timestamptz) as incidents_read_until,
        cast(changes_read_until as timestamptz) as changes_read_until,
        cast(deployments_read_until as timestamptz) as deployments_read_until
    from build_params
),

periods as (
    select 'last_7d' as period, as_of - interval 7 day as period_start, as_of as period_end from params
    union all
    select 'last_30d', as_of - interval 30 day, as_of from params
    union all
    select 'last_90d', as_of - interval 90 day, as_of from params
    union all
    select 'month', date_trunc('month', as_of), as_of from params
    union all
    select 'quarter', date_trunc('quarter', as_of), as_of from params
    union all
    select 'previous_month', date_trunc('month', as_of) - interval 1 month, date_trunc('month', as_of) from params
    union all
    select 'previous_quarter', date_trunc('quarter', as_of) - interval 3 month, date_trunc('quarter', as_of)
    from params
)

select
    period,
    period_start,
    period_end,
    -- Null for a period that has not begun (the month at its first hour): nothing is divided by zero.
    nullif(epoch(period_end) - epoch(period_start), 0) / 86400.0 as period_days,
    nullif(epoch(period_end) - epoch(period_start), 0) / 3600.0 as period_hours,
    deployments_from,
    nullif(greatest(epoch(period_end) - epoch(deployments_from), 0), 0) / 86400.0 as deployment_days,
    -- A period not begun (the month at its first hour) has none of it read either: 'insufficient data', not 0.
    period_end > period_start and coalesce(deployments_read_from < period_end, true) as deployments_read,
    period_end > period_start and coalesce(incidents_read_from < period_end, true) as incidents_read,
    period_end > period_start and coalesce(changes_read_from < period_end, true) as changes_read,
    case when incidents_read_from > period_start then incidents_read_from end as incidents_read_from,
    case when changes_read_from > period_start then changes_read_from end as changes_read_from,
    unread_since(period_end, incidents_read_until) as incidents_read_until,
    unread_since(period_end, changes_read_until) as changes_read_until,
    unread_since(period_end, deployments_read_until) as deployments_read_until
from (
    select
        p.*,
        r.deployments_read_from,
        r.incidents_read_from,
        r.changes_read_from,
        r.incidents_read_until,
        r.changes_read_until,
        r.deployments_read_until,
        -- At the period's end when the lake read none of it: no part of it to count.
        least(p.period_end, greatest(p.period_start, r.deployments_read_from)) as deployments_from
    from periods as p
    cross join params as r
)
