-- table: mv_dora_app_period
-- grain: one row per application, environment, period, correlation mode and band set
-- reads: stg_dora_facts, stg_dora_bands
-- refresh: daily
--
-- Each metric carries its numerator, denominator and sample size, a state, and its performance level in
-- the band set (see stg_dora_bands). Too little data is a state, never a zero:
--   deployment frequency: 'no deployments' when none succeeded (the value is then 0 and no level is given)
--   lead time: 'insufficient data' without a deployed merge request
--   change failure rate: 'insufficient data' without a deployment attempt
--   recovery time: 'no change failures' / 'not recovered' ; MTTR: 'no incidents restored'
-- DORA is computed for every environment; production is the tier DORA defines and the API's default.
with facts as (
    select
        f.*,
        f.deployments / f.period_days as deployment_frequency_per_day,
        case when f.attempts > 0 then f.change_failures / f.attempts end as change_failure_rate,
        case when f.deployments > 0 then f.rework_deployments / f.deployments end as rework_rate
    from stg_dora_facts as f
),

with_sets as (
    select f.*, s.band_set
    from facts as f
    cross join (select distinct band_set from stg_dora_bands) as s
)

select
    w.app_id,
    w.environment,
    w.period,
    w.period_start,
    w.period_end,
    w.correlation_mode,
    w.band_set,
    w.deployments as deployment_frequency_numerator,
    w.period_days as deployment_frequency_denominator_days,
    w.deploy_days,
    w.deployment_frequency_per_day,
    case when w.deployments > 0 then 'ok' else 'no deployments' end as deployment_frequency_state,
    (
        select b.level from stg_dora_bands as b
        where
            b.band_set = w.band_set and b.metric = 'deployment_frequency' and w.deployments > 0
            and w.deployment_frequency_per_day >= b.bound
        order by b.level_rank limit 1
    ) as deployment_frequency_level,
    w.changes as lead_time_sample,
    w.lead_time_median_hours,
    w.lead_time_p90_hours,
    case when w.changes > 0 then 'ok' else 'insufficient data' end as lead_time_state,
    (
        select b.level from stg_dora_bands as b
        where b.band_set = w.band_set and b.metric = 'lead_time' and w.lead_time_median_hours < b.bound
        order by b.level_rank limit 1
    ) as lead_time_level,
    w.change_failures as change_failure_numerator,
    w.attempts as change_failure_denominator,
    w.change_failure_rate,
    case when w.attempts > 0 then 'ok' else 'insufficient data' end as change_failure_state,
    (
        select b.level from stg_dora_bands as b
        where b.band_set = w.band_set and b.metric = 'change_failure_rate' and w.change_failure_rate <= b.bound
        order by b.level_rank limit 1
    ) as change_failure_level,
    w.recoveries as recovery_sample,
    w.recovery_median_hours,
    case
        when w.change_failures = 0 then 'no change failures'
        when w.recoveries = 0 then 'not recovered'
        else 'ok'
    end as recovery_state,
    (
        select b.level from stg_dora_bands as b
        where b.band_set = w.band_set and b.metric = 'recovery_time' and w.recovery_median_hours < b.bound
        order by b.level_rank limit 1
    ) as recovery_level,
    w.incidents_restored as mttr_sample,
    w.mttr_median_hours,
    case when w.incidents_restored > 0 then 'ok' else 'no incidents restored' end as mttr_state,
    w.rework_deployments as rework_numerator,
    w.deployments as rework_denominator,
    w.rework_rate
from with_sets as w
