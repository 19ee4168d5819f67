-- table: stg_periods
-- grain: one row per reporting period ending at the build's as_of instant
-- reads: build_params
-- refresh: hourly
--
-- Rolling periods end at as_of (the start of the current hour, excluded); calendar periods run from the
-- start of the month or quarter to as_of; previous_* periods are the last complete month or quarter.
with params as (
    select as_of from build_params
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
    nullif(epoch(period_end) - epoch(period_start), 0) / 3600.0 as period_hours
from periods
