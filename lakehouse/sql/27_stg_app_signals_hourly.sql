-- table: stg_app_signals_hourly
-- grain: one row per application, environment and hour
-- reads: stg_signals_hourly
-- refresh: hourly
-- materialize: month
--
-- Computed a month at a time and never kept whole: what later steps need from it is summed per day
-- (stg_app_signals_daily) and per window (stg_app_signals_windows) while the month is here.
--
-- Requests, errors and log counts add up over the application's components (errors over those with traffic
-- that hour, as the requests are; in an hour without requests, only those its own mapped services reported, when it
-- is mapped directly: a component's stay on its row). Latency and saturation are the worst component's: an
-- application is as slow as its slowest part, and percentiles do not add.
-- The rows read already hold a component's errors at most up to its requests, and its latency only in an hour it
-- served requests (above 0; an empty request count is none): stg_signals_hourly. So the application's errors never
-- exceed its requests, and a component idle that hour, reporting a p95 of 2 s from a synthetic call, is not the
-- application's p95: its worst component with traffic is, and with none the hour has no latency.
select
    app_id,
    environment,
    hour,
    sum(requests) as requests,
    -- The errors of the components that had requests: a component's errors without traffic that hour would
    -- count on the error side of the application's ratio and not on its requests side. In an hour without any
    -- requests they stay on the component's own row and count nowhere else; the application's row keeps only the
    -- errors of its own services (component_id null: an application mapped directly), which have no other row.
    case
        when sum(requests) > 0 then coalesce(sum(errors) filter (where requests > 0), 0)
        else sum(errors) filter (where component_id is null)
    end as errors,
    max(latency_p50_ms) as latency_p50_ms,
    max(latency_p95_ms) as latency_p95_ms,
    max(latency_p99_ms) as latency_p99_ms,
    max(cpu_usage_pct) as cpu_usage_pct,
    max(memory_usage_pct) as memory_usage_pct,
    -- Null where the build read no log counts and the logs ingestion read none of its hours (`log_counts_read`, set by
    -- the build): DuckDB then drops the two sums, which over columns null in every row are an eighth of this rollup's
    -- time.
    case when getvariable('log_counts_read') then cast(sum(log_errors) as bigint) end as log_errors,
    case when getvariable('log_counts_read') then cast(sum(log_exceptions) as bigint) end as log_exceptions
from stg_signals_hourly
group by app_id, environment, hour
