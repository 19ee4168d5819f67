-- table: mv_slo_app_period
-- grain: one row per application, environment and reporting period (see stg_periods)
-- reads: stg_app_signals_windows, stg_apps, stg_periods, build_params
-- refresh: daily
--
-- Availability SLO (occurrences): SLI = good / valid requests = (requests - errors) / requests, summed
-- over the period's hours; hours without traffic count on neither side.
--   target T (the application's, see stg_apps: its mapping's, else the build's default), budget ratio B = 1 - T;
--   allowed_bad = B * requests; consumed = errors / allowed_bad; remaining = 1 - consumed (negative when
--   overspent), computed as (allowed_bad - errors) / allowed_bad: one rounding, not two; burn_rate = (errors / requests) / B (1 = spending exactly the budget over the period). B and
--   allowed_bad are exact decimals: 1 - 0.9995 in binary floating point is a hair under 0.0005, and a budget spent
--   to the last request would read as overspent while the SLO is met.
-- Latency SLOs (time slices of one hour, the finest the hourly data allows): an hour is good when the
-- application's p95 (p99) is at or under its threshold; SLI = good hours / hours with traffic and that
-- percentile reported, target latency_target (thresholds and target are the application's, see stg_apps). A 30-day latency figure is never an average of hourly p95s.
--   Each has its error budget of hours (Google SRE workbook, time slices): bad hours = measured - good hours;
--   allowed = (1 - latency_target) x measured hours; consumed = bad hours / allowed; remaining = (allowed - bad
--   hours) / allowed (negative when overspent). Null without an hour measured, as the availability budget is without
--   traffic, and consumed and remaining under a 100 % target (no bad hour allowed). Like the availability budget it is
--   given whatever the coverage: the status says 'insufficient data' beside it.
-- coverage = measured hours / hours in the period. status: 'no data' without traffic, 'insufficient data'
-- under min_coverage, else 'met' or 'breached' (availability). The latency SLIs have their own coverage
-- (latency_coverage, latency_p99_coverage: hours with traffic and that percentile reported / hours in the
-- period): an hour of latency in a month of traffic is not enough to call the month's latency met. The status
-- rule and the budgets are written once, as macros (slo_status, error_budget, budget_consumed, budget_remaining in
-- macros.sql): the API runs this file again over from/to ranges, and mv_slo_group_period follows the same rules.
-- The multi-window burn rates at as_of are mv_slo_burn_rates', refreshed by every build (this table is daily).
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
        a.availability_target,
        a.latency_p95_threshold_ms,
        a.latency_p99_threshold_ms,
        a.latency_target,
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

measured as (
    select
        pp.*,
        -- Exact: the target as the decimal it was written as (0.9995, not the nearest binary fraction).
        cast(error_budget(pp.availability_target, pp.requests) as double) as budget_allowed,
        -- The latency budgets in hours, likewise exact (0.05 x 720 is 36, not 36.000000000000004); null without an
        -- hour measured, as the availability's is without traffic.
        nullif(pp.latency_measured_hours, 0) - pp.latency_p95_good_hours as latency_p95_bad_hours,
        cast(error_budget(pp.latency_target, nullif(pp.latency_measured_hours, 0)) as double)
            as latency_p95_budget_allowed,
        nullif(pp.latency_p99_measured_hours, 0) - pp.latency_p99_good_hours as latency_p99_bad_hours,
        cast(error_budget(pp.latency_target, nullif(pp.latency_p99_measured_hours, 0)) as double)
            as latency_p99_budget_allowed,
        bp.min_coverage,
        pp.measured_hours / pp.period_hours as coverage,
        pp.latency_measured_hours / pp.period_hours as latency_coverage,
        pp.latency_p99_measured_hours / pp.period_hours as latency_p99_coverage,
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
    m.budget_allowed as error_budget_allowed,
    budget_consumed(m.errors, m.budget_allowed) as error_budget_consumed,
    budget_remaining(m.errors, m.budget_allowed) as error_budget_remaining,
    -- (errors / requests) / B, the same as the budget consumed.
    case when m.requests > 0 then m.errors / m.budget_allowed end as burn_rate_period,
    m.measured_hours,
    m.period_hours as expected_hours,
    m.coverage,
    slo_status(m.requests, m.coverage, m.min_coverage, m.availability, m.availability_target) as availability_status,
    m.latency_p95_threshold_ms,
    m.latency_p99_threshold_ms,
    m.latency_target,
    m.min_coverage,
    m.latency_p95_good_hours,
    m.latency_p99_good_hours,
    m.latency_measured_hours,
    m.latency_coverage,
    m.latency_p95_sli,
    m.latency_p99_sli,
    slo_status(m.latency_measured_hours, m.latency_coverage, m.min_coverage, m.latency_p95_sli, m.latency_target)
        as latency_p95_status,
    m.latency_p95_bad_hours,
    m.latency_p95_budget_allowed,
    budget_consumed(m.latency_p95_bad_hours, m.latency_p95_budget_allowed) as latency_p95_budget_consumed,
    budget_remaining(m.latency_p95_bad_hours, m.latency_p95_budget_allowed) as latency_p95_budget_remaining,
    m.latency_p99_measured_hours,
    m.latency_p99_coverage,
    slo_status(
        m.latency_p99_measured_hours, m.latency_p99_coverage, m.min_coverage, m.latency_p99_sli, m.latency_target
    ) as latency_p99_status,
    m.latency_p99_bad_hours,
    m.latency_p99_budget_allowed,
    budget_consumed(m.latency_p99_bad_hours, m.latency_p99_budget_allowed) as latency_p99_budget_consumed,
    budget_remaining(m.latency_p99_bad_hours, m.latency_p99_budget_allowed) as latency_p99_budget_remaining
from measured as m
