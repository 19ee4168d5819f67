-- table: stg_app_signals_windows
-- grain: one row per application, environment, window and month of hours (the month's part of the sums)
-- reads: stg_app_signals_hourly, stg_periods, stg_app_thresholds, build_params
-- refresh: hourly
--
-- An application's hours with traffic summed over time windows, while each month of hours is computed (the
-- hours are never kept whole): the SLO periods of stg_periods, and the short windows of the burn rates and
-- of the risk trend (last_1h, last_2h, last_6h, last_24h, last_3d, last_14d, and previous_7d, the 7 days before the
-- last 7). The burn rates' windows (1h to 3d) end where Dynatrace was read up to when that lies within the hour before
-- as_of, an ingestion's ordinary lag (burn_windows_end in macros.sql), the others at as_of. Each month adds its part
-- and readers add the parts up: sums and counts add, and latency counts
-- good hours, so no percentile is ever averaged. A window that starts before the first hour this build reads
-- (hours_from) is left out rather than summed in part. The latency thresholds are the application's
-- (stg_app_thresholds).
with params as (
    select *, burn_windows_end(as_of, cast(signals_read_until as timestamptz)) as burn_ends_at from build_params
),

short_windows as (
    select w.*, case when w.burn_window then bp.burn_ends_at else bp.as_of end as ends_at
    from (
        values
            ('last_1h', interval 1 hour, interval 0 hour, true),
            ('last_2h', interval 2 hour, interval 0 hour, true),
            ('last_6h', interval 6 hour, interval 0 hour, true),
            ('last_24h', interval 24 hour, interval 0 hour, true),
            ('last_3d', interval 3 day, interval 0 hour, true),
            ('last_14d', interval 14 day, interval 0 hour, false),
            ('previous_7d', interval 14 day, interval 7 day, false)
    ) as w (window_name, starts_before, ends_before, burn_window)
    cross join params as bp
),

windows as (
    select period as window_name, period_start as window_start, period_end as window_end
    from stg_periods
    union all
    select window_name, ends_at - starts_before, ends_at - ends_before
    from short_windows
),

-- Each hour with traffic, with its good flags against its application's thresholds, before the windows join: the
-- thresholds are looked up once an hour, not once an hour and window.
hours as (
    select
        h.app_id,
        h.environment,
        h.hour,
        h.requests,
        h.errors,
        h.latency_p95_ms,
        h.latency_p99_ms,
        h.latency_p95_ms <= t.latency_p95_threshold_ms as p95_good,
        h.latency_p99_ms <= t.latency_p99_threshold_ms as p99_good
    from stg_app_signals_hourly as h
    inner join stg_app_thresholds as t on h.app_id = t.app_id and h.environment = t.environment
    where h.requests > 0
)

select
    -- Text again (grouped on the hourly rows' ENUM keys): the tables joined to this one key on text.
    cast(h.app_id as varchar) as app_id,
    cast(h.environment as varchar) as environment,
    w.window_name,
    sum(h.requests) as requests,
    sum(h.errors) as errors,
    count(*) as measured_hours,
    count(h.latency_p95_ms) as latency_measured_hours,
    count(h.latency_p99_ms) as latency_p99_measured_hours,
    count(*) filter (where h.p95_good) as latency_p95_good_hours,
    count(*) filter (where h.p99_good) as latency_p99_good_hours
from hours as h
cross join params as bp
inner join windows as w on h.hour >= w.window_start and h.hour < w.window_end
where w.window_start >= bp.hours_from
group by h.app_id, h.environment, w.window_name
