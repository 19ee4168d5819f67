-- table: stg_app_signals_daily
-- grain: one row per application, environment and day rebuilt
-- reads: stg_app_signals_hourly, stg_app_thresholds, build_params
-- refresh: hourly
--
-- An application's day of golden signals, summed while its month of hours is computed (the hours are never
-- kept whole). requests, errors and measured_hours count hours with traffic only; latency and saturation are
-- the day's worst hour; latency_p95_good_hours = hours with traffic whose p95 met the threshold, out of
-- latency_measured_hours = hours with traffic and a p95 (a daily latency figure is never an average of hourly
-- percentiles, and an hour whose latency was not reported is neither good nor bad); the same for the p99. The
-- thresholds are the application's (stg_app_thresholds).
-- Only the hours before as_of count, as in the SLO periods (stg_periods, stg_app_signals_windows): the hour
-- starting at as_of is still under way, and the hours after it are to come, though Dynatrace may have been read
-- for them already. The as_of day's row is then that day up to as_of; a later build rebuilds it whole.
with params as (
    select day_from, day_to, as_of from build_params
),

hours as (
    select
        *,
        utc_day(hour) as day
    from stg_app_signals_hourly
)

select
    -- Text again (grouped on the hourly rows' ENUM keys): the tables joined to this one key on text.
    cast(s.app_id as varchar) as app_id,
    cast(s.environment as varchar) as environment,
    s.day,
    sum(s.requests) filter (where s.requests > 0) as requests,
    sum(s.errors) filter (where s.requests > 0) as errors,
    count(*) filter (where s.requests > 0) as measured_hours,
    max(s.latency_p95_ms) as latency_p95_worst_hour_ms,
    max(s.latency_p99_ms) as latency_p99_worst_hour_ms,
    count(s.latency_p95_ms) filter (where s.requests > 0) as latency_measured_hours,
    count(*) filter (where s.requests > 0 and s.latency_p95_ms <= t.latency_p95_threshold_ms) as latency_p95_good_hours,
    count(s.latency_p99_ms) filter (where s.requests > 0) as latency_p99_measured_hours,
    count(*) filter (where s.requests > 0 and s.latency_p99_ms <= t.latency_p99_threshold_ms) as latency_p99_good_hours,
    max(s.cpu_usage_pct) as cpu_usage_max_pct,
    max(s.memory_usage_pct) as memory_usage_max_pct,
    -- Counts stay BIGINT: sum() widens to HUGEINT, which Parquet writers store as a double or a decimal.
    cast(sum(s.log_errors) as bigint) as log_errors,
    cast(sum(s.log_exceptions) as bigint) as log_exceptions
from hours as s
cross join params as p
inner join stg_app_thresholds as t on s.app_id = t.app_id and s.environment = t.environment
where s.day between p.day_from and p.day_to and s.hour < p.as_of
group by s.app_id, s.environment, s.day
