-- table: mv_slo_group_period
-- grain: one row per rollup level (team, group, domain), its id, environment and period
-- reads: mv_slo_app_period, stg_apps, build_params
-- refresh: daily
--
-- Rolled up by events: availability = sum(good) / sum(requests) over the applications, budgets likewise;
-- burn_rate_period = sum(bad) / sum(budget allowed), the applications' own budgets (B_i x requests_i): the
-- group's error ratio over its requests-weighted budget ratio (the same figure as error_budget_consumed);
-- latency SLIs = sum(good hours) / sum(measured hours); a latency budget = sum(bad hours) / sum(the hours each
-- application's budget allows, (1 - latency_target_i) x measured hours_i). Never an average of the applications'
-- percentages. The budgets consumed and remaining follow the applications' rule (budget_consumed, budget_remaining
-- in macros.sql), given whatever the coverage.
-- The target is the requests-weighted mean of the applications' targets; a latency SLI's, the mean of the
-- applications' latency targets weighted by their measured hours of that percentile (good hours are held
-- against the good hours each application's target asks for); both from exact sums (weighted_target in macros.sql),
-- so that applications all at 99.5 % make a target of 99.5 %. coverage = the applications' coverages (hours with
-- traffic / hours in the period) weighted by their requests, as the availability SLI weighs them: an application
-- with one request in the period weighs as one request, not as a period of hours missing, so that it cannot make a
-- fully measured breach of its team's busy application 'insufficient data'; an idle one weighs nothing. The latency
-- coverages likewise, each application's weighted by its hours with that percentile, as the latency SLIs weigh them.
-- measured_hours and expected_hours stay the sums over the applications with traffic. The statuses follow the applications' rule (slo_status in macros.sql): 'no data'
-- without traffic (without a latency measured), 'insufficient data' under min_coverage (the latency coverage for a
-- latency SLI), else 'met' or 'breached'.
with apps as (
    -- The budgets and target weights are fractions of requests: summed as exact decimals, a group's figures do
    -- not move in their last digits with the order the build's threads add them in. They are worked out as decimals,
    -- the target as the one it was written as times the count, never taken from a double: 73,878,750.0 made a
    -- decimal of 12 places goes through binary floating point and reads 73,878,750.000000008, a target a hair over
    -- 99.5 % that a budget spent to the last request would breach.
    select
        s.*,
        a.team,
        a.group_id,
        a.domain,
        cast(error_budget(s.availability_target, s.availability_denominator) as decimal(38, 12)) as budget_allowed_exact,
        cast(
            cast(s.availability_target as decimal(18, 12)) * cast(s.availability_denominator as decimal(38, 6))
            as decimal(38, 12)
        ) as target_weight_exact,
        cast(cast(s.latency_target as decimal(18, 12)) * s.latency_measured_hours as decimal(38, 12))
            as latency_target_weight_exact,
        cast(cast(s.latency_target as decimal(18, 12)) * s.latency_p99_measured_hours as decimal(38, 12))
            as latency_p99_target_weight_exact,
        -- Null without an hour measured, as the application's budget (an application without one adds nothing).
        cast(error_budget(s.latency_target, nullif(s.latency_measured_hours, 0)) as decimal(38, 12))
            as latency_p95_budget_exact,
        cast(error_budget(s.latency_target, nullif(s.latency_p99_measured_hours, 0)) as decimal(38, 12))
            as latency_p99_budget_exact
    from mv_slo_app_period as s
    inner join stg_apps as a on s.app_id = a.app_id and s.environment = a.environment
),

levels as (
    select 'team' as level, team as level_id, * from apps where team is not null
    union all
    select 'group' as level, group_id as level_id, * from apps where group_id is not null
    union all
    select 'domain' as level, domain as level_id, * from apps where domain is not null
),

rolled as (
    select
        level,
        level_id,
        environment,
        period,
        any_value(period_start) as period_start,
        any_value(period_end) as period_end,
        count(*) as applications,
        count(*) filter (where availability_status = 'breached') as applications_breached,
        sum(availability_denominator) as availability_denominator,
        sum(availability_numerator) as availability_numerator,
        sum(bad_requests) as bad_requests,
        case when sum(availability_denominator) > 0 then sum(availability_numerator) / sum(availability_denominator) end
            as availability,
        weighted_target(sum(target_weight_exact), sum(availability_denominator)) as availability_target,
        cast(sum(budget_allowed_exact) as double) as error_budget_allowed,
        budget_consumed(sum(bad_requests), sum(budget_allowed_exact)) as error_budget_consumed,
        budget_remaining(sum(bad_requests), sum(budget_allowed_exact)) as error_budget_remaining,
        case when sum(budget_allowed_exact) > 0 then sum(bad_requests) / cast(sum(budget_allowed_exact) as double) end
            as burn_rate_period,
        cast(sum(measured_hours) as bigint) as measured_hours,  -- a count: BIGINT, not sum()'s HUGEINT
        sum(expected_hours) filter (where measured_hours > 0) as expected_hours,
        exact_weighted_mean(coverage, availability_denominator) as coverage,
        cast(sum(latency_measured_hours) as bigint) as latency_measured_hours,
        cast(sum(latency_p95_good_hours) as bigint) as latency_p95_good_hours,
        exact_weighted_mean(latency_coverage, latency_measured_hours) as latency_coverage,
        case when sum(latency_measured_hours) > 0 then sum(latency_p95_good_hours) / sum(latency_measured_hours) end
            as latency_p95_sli,
        weighted_target(sum(latency_target_weight_exact), sum(latency_measured_hours)) as latency_target,
        cast(sum(latency_p95_bad_hours) as bigint) as latency_p95_bad_hours,
        cast(sum(latency_p95_budget_exact) as double) as latency_p95_budget_allowed,
        budget_consumed(sum(latency_p95_bad_hours), sum(latency_p95_budget_exact)) as latency_p95_budget_consumed,
        budget_remaining(sum(latency_p95_bad_hours), sum(latency_p95_budget_exact)) as latency_p95_budget_remaining,
        cast(sum(latency_p99_measured_hours) as bigint) as latency_p99_measured_hours,
        cast(sum(latency_p99_good_hours) as bigint) as latency_p99_good_hours,
        exact_weighted_mean(latency_p99_coverage, latency_p99_measured_hours) as latency_p99_coverage,
        case
            when sum(latency_p99_measured_hours) > 0 then sum(latency_p99_good_hours) / sum(latency_p99_measured_hours)
        end as latency_p99_sli,
        weighted_target(sum(latency_p99_target_weight_exact), sum(latency_p99_measured_hours)) as latency_p99_target,
        cast(sum(latency_p99_bad_hours) as bigint) as latency_p99_bad_hours,
        cast(sum(latency_p99_budget_exact) as double) as latency_p99_budget_allowed,
        budget_consumed(sum(latency_p99_bad_hours), sum(latency_p99_budget_exact)) as latency_p99_budget_consumed,
        budget_remaining(sum(latency_p99_bad_hours), sum(latency_p99_budget_exact)) as latency_p99_budget_remaining
    from levels
    group by level, level_id, environment, period
)

select
    r.*,
    slo_status(r.availability_denominator, r.coverage, bp.min_coverage, r.availability, r.availability_target)
        as availability_status,
    slo_status(r.latency_measured_hours, r.latency_coverage, bp.min_coverage, r.latency_p95_sli, r.latency_target)
        as latency_p95_status,
    slo_status(
        r.latency_p99_measured_hours, r.latency_p99_coverage, bp.min_coverage, r.latency_p99_sli, r.latency_p99_target
    ) as latency_p99_status
from rolled as r
cross join build_params as bp
