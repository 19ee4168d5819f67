-- table: mv_slo_group_burn_rates
-- grain: one row per rollup level (team, group, domain), its id and environment: its error budget's burn rates at as_of
-- reads: mv_slo_burn_rates, stg_apps, build_params
-- refresh: hourly
--
-- The applications' burn rates at as_of (mv_slo_burn_rates) rolled up by events, refreshed by every build as they
-- are. Per window (1h, 2h, 6h, 24h, 3d): the sums of the applications' requests and errors, and
-- burn_rate_<w> = sum(errors) / sum(B_i x requests_i), B_i = 1 - application i's availability target: the errors
-- against the budget the applications' own targets allow over the window (the group's error ratio over its
-- requests-weighted budget ratio; never an average of the applications' rates). No rate without traffic. Alerts,
-- the applications' rules in their order (over the applications' windows, which end at windows_end): page when
-- 1h > 14.4, page when 6h > 6 and 1h > 6, ticket when 24h > 3
-- and 2h > 3, ticket when 3d > 1 and 6h > 1, 'no data' when no window has a rate or Dynatrace is down (its watermark
-- more than an hour before as_of: signals_read_until, as mv_slo_burn_rates), else none. The budget, the rate and the
-- alert are the applications' macros (error_budget, burn_rate, burn_rate_alert in macros.sql).
with apps as (
    -- The budgets are fractions of requests: summed as exact decimals (as mv_slo_group_period's), a group's rates do
    -- not move in their last digits with the order the build's threads add them in; B_i is the decimal the target was
    -- written as (1 - 0.9995 in binary floating point is a hair under 0.0005).
    select
        b.*,
        a.team,
        a.group_id,
        a.domain,
        cast(error_budget(b.availability_target, b.requests_1h) as decimal(38, 12)) as budget_1h_exact,
        cast(error_budget(b.availability_target, b.requests_2h) as decimal(38, 12)) as budget_2h_exact,
        cast(error_budget(b.availability_target, b.requests_6h) as decimal(38, 12)) as budget_6h_exact,
        cast(error_budget(b.availability_target, b.requests_24h) as decimal(38, 12)) as budget_24h_exact,
        cast(error_budget(b.availability_target, b.requests_3d) as decimal(38, 12)) as budget_3d_exact
    from mv_slo_burn_rates as b
    inner join stg_apps as a on b.app_id = a.app_id and b.environment = a.environment
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
        any_value(as_of) as as_of,
        any_value(windows_end) as windows_end,
        count(*) as applications,
        sum(requests_1h) as requests_1h,
        sum(errors_1h) as errors_1h,
        sum(requests_2h) as requests_2h,
        sum(errors_2h) as errors_2h,
        sum(requests_6h) as requests_6h,
        sum(errors_6h) as errors_6h,
        sum(requests_24h) as requests_24h,
        sum(errors_24h) as errors_24h,
        sum(requests_3d) as requests_3d,
        sum(errors_3d) as errors_3d,
        burn_rate(sum(errors_1h), sum(budget_1h_exact)) as burn_rate_1h,
        burn_rate(sum(errors_2h), sum(budget_2h_exact)) as burn_rate_2h,
        burn_rate(sum(errors_6h), sum(budget_6h_exact)) as burn_rate_6h,
        burn_rate(sum(errors_24h), sum(budget_24h_exact)) as burn_rate_24h,
        burn_rate(sum(errors_3d), sum(budget_3d_exact)) as burn_rate_3d
    from levels
    group by level, level_id, environment
),

-- Dynatrace's watermark named apart from build_params' own: in one select list the table's column would be read.
read as (
    select r.*, signals_unread_since(bp.as_of, cast(bp.signals_read_until as timestamptz)) as signals_read_until
    from rolled as r
    cross join build_params as bp
)

select
    *,
    burn_rate_alert(
        burn_rate_1h, burn_rate_2h, burn_rate_6h, burn_rate_24h, burn_rate_3d, signals_read_until is not null
    ) as burn_rate_alert
from read
