-- table: mv_slo_burn_rates
-- grain: one row per application and environment known to the mapping: its error budget's burn rates at as_of
-- reads: stg_app_signals_windows, stg_apps, build_params
-- refresh: hourly
--
-- Multi-window burn rates at as_of (Google SRE workbook, 30-day budget), refreshed by every build, hourly ones
-- included: an alert on the last hour is worth little a day late. burn_rate_<w> = (errors / requests over the
-- window) / B, B = 1 - the application's availability target (stg_apps); 1h, 2h, 6h, 24h and 3d windows, each
-- with its requests and errors (no rate without traffic), worked out as errors / (B x requests) with B an exact
-- decimal (1 - 0.9995 in binary floating point is a hair under 0.0005: a rate exactly at a threshold would pass
-- it). Alerts, in this order: page when 1h > 14.4 (2 % of a 30-day budget in an hour; the workbook's 5-minute
-- confirmation window is below the hourly resolution, so the 1h window confirms itself), page when 6h > 6 and
-- 1h > 6, ticket when 24h > 3 and 2h > 3 (10 % of the budget in a day), ticket when 3d > 1 and 6h > 1, 'no data'
-- when no window has a rate (no traffic in any: nothing says the budget is safe), else none.
-- The windows end at windows_end: as_of, or Dynatrace's watermark when it lies within the hour before as_of (an
-- ingestion's ordinary lag: the windows are then the last hours read, so that the page rules still see an hour;
-- burn_windows_end in macros.sql). Dynatrace down (signals_read_until: its watermark, when more than an hour before
-- as_of): the windows end at as_of, the rates are those of the hours read, a rule they pass still alerts, and an
-- alert that none passes is 'no data', not none: the hours not read may burn the budget as well as not.
-- The rate and the alert are written once, as macros (burn_rate, error_budget, burn_rate_alert in macros.sql),
-- which mv_slo_group_burn_rates and mv_monitoring_top_risks apply too. The SLO periods (mv_slo_app_period) are
-- computed daily.
with windows as (
    select
        app_id,
        environment,
        sum(errors) filter (where window_name = 'last_1h') as errors_1h,
        sum(requests) filter (where window_name = 'last_1h') as requests_1h,
        sum(errors) filter (where window_name = 'last_2h') as errors_2h,
        sum(requests) filter (where window_name = 'last_2h') as requests_2h,
        sum(errors) filter (where window_name = 'last_6h') as errors_6h,
        sum(requests) filter (where window_name = 'last_6h') as requests_6h,
        sum(errors) filter (where window_name = 'last_24h') as errors_24h,
        sum(requests) filter (where window_name = 'last_24h') as requests_24h,
        sum(errors) filter (where window_name = 'last_3d') as errors_3d,
        sum(requests) filter (where window_name = 'last_3d') as requests_3d
    from stg_app_signals_windows
    where window_name in ('last_1h', 'last_2h', 'last_6h', 'last_24h', 'last_3d')
    group by app_id, environment
),

rates as (
    select
        a.app_id,
        a.environment,
        bp.as_of,
        burn_windows_end(bp.as_of, cast(bp.signals_read_until as timestamptz)) as windows_end,
        a.availability_target,
        w.requests_1h,
        w.errors_1h,
        w.requests_2h,
        w.errors_2h,
        w.requests_6h,
        w.errors_6h,
        w.requests_24h,
        w.errors_24h,
        w.requests_3d,
        w.errors_3d,
        burn_rate(w.errors_1h, error_budget(a.availability_target, w.requests_1h)) as burn_rate_1h,
        burn_rate(w.errors_2h, error_budget(a.availability_target, w.requests_2h)) as burn_rate_2h,
        burn_rate(w.errors_6h, error_budget(a.availability_target, w.requests_6h)) as burn_rate_6h,
        burn_rate(w.errors_24h, error_budget(a.availability_target, w.requests_24h)) as burn_rate_24h,
        burn_rate(w.errors_3d, error_budget(a.availability_target, w.requests_3d)) as burn_rate_3d,
        signals_unread_since(bp.as_of, cast(bp.signals_read_until as timestamptz)) as signals_read_until
    from stg_apps as a
    cross join build_params as bp
    left join windows as w on a.app_id = w.app_id and a.environment = w.environment
)

select
    *,
    burn_rate_alert(
        burn_rate_1h, burn_rate_2h, burn_rate_6h, burn_rate_24h, burn_rate_3d, signals_read_until is not null
    ) as burn_rate_alert
from rates
