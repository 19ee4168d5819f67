-- table: mv_golden_signals_hourly
-- grain: one row per level (component or application), entity, environment and hour, for the days rebuilt
-- reads: stg_signals_hourly, stg_app_signals_hourly, build_params
-- partitioned by: day
-- refresh: hourly
-- materialize: view
-- derived on read: error_rate = case when requests > 0 then errors / requests end
--
-- The timeseries behind the golden signals: traffic (requests/hour), errors and error rate
-- (errors / requests, hours without traffic have no rate), latency p50/p95/p99 in ms, CPU and memory
-- saturation in percent, error and exception log lines. The error rate is not stored: readers (the API, the
-- analysts' views) derive it from the two counts, which keeps every month object a fifth smaller and its
-- write a sixth faster (tens of millions of rows a year). At application level counts add up and latency
-- and saturation are the worst component's. The days rebuilt are those from signals_from: days an ingest
-- of the hourly signals (or of the entities they are attributed by) wrote, not days only events reached.
-- Only the hours before as_of, as in the day rows (stg_app_signals_daily): the hour starting at as_of is under
-- way and later ones, which Dynatrace may have been read for already, are to come; the next build adds them.
with params as (
    select signals_from, day_to, as_of from build_params
),

components as (
    select
        -- An ENUM, as are the keys from stg_signals_hourly: Parquet stores it as text, and writes it faster.
        cast('component' as enum ('component', 'application')) as level,
        s.app_id,
        s.component_id,
        s.environment,
        s.hour,
        s.requests,
        s.errors,
        s.latency_p50_ms,
        s.latency_p95_ms,
        s.latency_p99_ms,
        s.cpu_usage_pct,
        s.memory_usage_pct,
        s.log_errors,
        s.log_exceptions
    from stg_signals_hourly as s
    where s.component_id is not null
),

applications as (
    select
        cast('application' as enum ('component', 'application')) as level,
        a.app_id,
        null as component_id,
        a.environment,
        a.hour,
        a.requests,
        a.errors,
        a.latency_p50_ms,
        a.latency_p95_ms,
        a.latency_p99_ms,
        a.cpu_usage_pct,
        a.memory_usage_pct,
        a.log_errors,
        a.log_exceptions
    from stg_app_signals_hourly as a
),

both_levels as (
    select
        *,
        utc_day(hour) as day
    from (
        select * from components
        union all
        select * from applications
    )
)

select b.*
from both_levels as b
cross join params as p
where b.day between p.signals_from and p.day_to and b.hour < p.as_of
