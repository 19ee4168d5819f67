-- table: mv_slo_app_period
-- grain: one row per application, environment and reporting period (see stg_periods)
-- reads: stg_app_signals_windows, stg_apps, stg_periods, build_params
-- refresh: daily
--
-- Availability SLO (occurrences): SLI = good / valid requests = (requests - errors) / requests, summed
-- over the period's hours; hours without traffic count on neither side.
--   target T (default build_params.availability_target), budget ratio B = 1 - T
--   allowed_bad = B * requests; consumed = errors / allowed_bad; remaining = 1 - consumed (negative when
--   overspent); burn_rate = (errors / requests) / B (1 = spending exactly the budget over the period).
-- Latency SLOs (time slices of one hour, the finest the hourly data allows): an hour is good when the
-- application's p95 (p99) is at or under the threshold; SLI = good hours / hours with traffic and that
-- percentile reported, target latency_target. A 30-day latency figure is never an average of hourly p95s.
-- coverage = measured hours / hours in the period. status: 'no data' without traffic, 'insufficient data'
-- under min_coverage, else 'met' or 'breached' (availability).
-- Multi-window burn rates at as_of (Google SRE workbook, 30-day budget): 1h, 6h, 24h and 3d error ratio
-- over B. Alerts: page when 1h > 14.4 (2 % of budget in an hour; the workbook's 5-minute confirmation
-- window is below the hourly resolution, so the 1h window confirms itself), page when 6h > 6 and 1h > 6,
-- ticket when 3d > 1 and 6h > 1.
with params as (
    select * from build_params
),

-- The month parts of each period's sums, added up (counts kept BIGINT: sum() would widen them to HUGEINT).
period_sums as (
    select
        app_id,
        environment,
        window_name as period,
        sum(requests) as requests,
        sum(errors) as errors,
        cast(sum(measured_hours) as bigint) as measured_hours,
        cast(sum(latency_measured_hours) as bigint) as latency_measured_hours,
        cast(sum(latency_p95_good_hours) as bigint) as latency_p95_good_hours,
        cast(sum(latency_p99_good_hours) as bigint) as latency_p99_good_hours,
        cast(sum(latency_p99_measured_hours) as bigint) as latency_p99_measured_hours
    from stg_app_signals_windows
    group by app_id, environment, window_name
),

per_period as (
    select
        a.app_id,
        a.environment,
        p.period,
        p.period_start,
        p.period_end,
        p.period_hours,
        s.requests,
        s.errors,
        coalesce(s.measured_hours, 0) as measured_hours,
        coalesce(s.latency_measured_hours, 0) as latency_measured_hours,
        coalesce(s.latency_p95_good_hours, 0) as latency_p95_good_hours,
        coalesce(s.latency_p99_good_hours, 0) as latency_p99_good_hours,
        coalesce(s.latency_p99_measured_hours, 0) as latency_p99_measured_hours
    from stg_apps as a
    cross join stg_periods as p
    left join period_sums as s on a.app_id = s.app_id and a.environment = s.environment and p.period = s.period
),

burn as (
    select
        app_id,
        environment,
        sum(errors) filter (where window_name = 'last_1h') as errors_1h,
        sum(requests) filter (where window_name = 'last_1h') as requests_1h,
        sum(errors) filter (where window_name = 'last_6h') as errors_6h,
        sum(requests) filter (where window_name = 'last_6h') as requests_6h,
        sum(errors) filter (where window_name = 'last_24h') as errors_24h,
        sum(requests) filter (where window_name = 'last_24h') as requests_24h,
        sum(errors) filter (where window_name = 'last_3d') as errors_3d,
        sum(requests) filter (where window_name = 'last_3d') as requests_3d
    from stg_app_signals_windows
    where window_name in ('last_1h', 'last_6h', 'last_24h', 'last_3d')
    group by app_id, environment
),

measured as (
    select
        pp.*,
        bp.availability_target,
        1 - bp.availability_target as budget_ratio,
        bp.latency_p95_threshold_ms,
        bp.latency_p99_threshold_ms,
        bp.latency_target,
        bp.min_coverage,
        pp.measured_hours / pp.period_hours as coverage,
        case when pp.requests > 0 then (pp.requests - pp.errors) / pp.requests end as availability,
        case when pp.latency_measured_hours > 0 then pp.latency_p95_good_hours / pp.latency_measured_hours end
            as latency_p95_sli,
        case when pp.latency_p99_measured_hours > 0 then pp.latency_p99_good_hours / pp.latency_p99_measured_hours end
            as latency_p99_sli
    from per_period as pp
    cross join params as bp
)

select
    m.app_id,
    m.environment,
    m.period,
    m.period_start,
    m.period_end,
    m.requests as availability_denominator,
    m.requests - m.errors as availability_numerator,
    m.errors as bad_requests,
    m.availability,
    m.availability_target,
    m.budget_ratio * m.requests as error_budget_allowed,
    case when m.requests > 0 then m.errors / (m.budget_ratio * m.requests) end as error_budget_consumed,
    case when m.requests > 0 then 1 - m.errors / (m.budget_ratio * m.requests) end as error_budget_remaining,
    case when m.requests > 0 then (m.errors / m.requests) / m.budget_ratio end as burn_rate_period,
    m.measured_hours,
    m.period_hours as expected_hours,
    m.coverage,
    case
        when coalesce(m.requests, 0) = 0 then 'no data'
        when m.coverage < m.min_coverage then 'insufficient data'
        when m.availability >= m.availability_target then 'met'
        else 'breached'
    end as availability_status,
    m.latency_p95_threshold_ms,
    m.latency_p99_threshold_ms,
    m.latency_target,
    m.min_coverage,
    m.latency_p95_good_hours,
    m.latency_p99_good_hours,
    m.latency_measured_hours,
    m.latency_p95_sli,
    m.latency_p99_sli,
    case
        when m.latency_measured_hours = 0 then 'no data'
        when m.coverage < m.min_coverage then 'insufficient data'
        when m.latency_p95_sli >= m.latency_target then 'met'
        else 'breached'
    end as latency_p95_status,
    m.latency_p99_measured_hours,
    case
        when m.latency_p99_measured_hours = 0 then 'no data'
        when m.coverage < m.min_coverage then 'insufficient data'
        when m.latency_p99_sli >= m.latency_target then 'met'
        else 'breached'
    end as latency_p99_status,
    case when b.requests_1h > 0 then (b.errors_1h / b.requests_1h) / m.budget_ratio end as burn_rate_1h,
    case when b.requests_6h > 0 then (b.errors_6h / b.requests_6h) / m.budget_ratio end as burn_rate_6h,
    case when b.requests_24h > 0 then (b.errors_24h / b.requests_24h) / m.budget_ratio end as burn_rate_24h,
    case when b.requests_3d > 0 then (b.errors_3d / b.requests_3d) / m.budget_ratio end as burn_rate_3d,
    case
        when (b.errors_1h / nullif(b.requests_1h, 0)) / m.budget_ratio > 14.4 then 'page'
        when
            (b.errors_6h / nullif(b.requests_6h, 0)) / m.budget_ratio > 6
            and (b.errors_1h / nullif(b.requests_1h, 0)) / m.budget_ratio > 6
            then 'page'
        when
            (b.errors_3d / nullif(b.requests_3d, 0)) / m.budget_ratio > 1
            and (b.errors_6h / nullif(b.requests_6h, 0)) / m.budget_ratio > 1
            then 'ticket'
        else 'none'
    end as burn_rate_alert
from measured as m
left join burn as b on m.app_id = b.app_id and m.environment = b.environment
