-- table: stg_dora_facts
-- grain: one row per application, environment, period and correlation mode, with DORA's raw counts
-- reads: mv_deployments, mv_lead_times, mv_incidents, stg_apps, stg_periods
-- refresh: daily
--
-- deployment frequency = successful deployments / days in the period (deploy_days = days with one).
-- change lead time = median and p90 of mv_lead_times.lead_time_hours for requests deployed in the period.
-- change failure rate = change failures / deployment attempts (successful + failed) in the period.
-- failed deployment recovery time = median hours from a change failure's deployment to its recovery,
-- over the change failures of the period that recovered. MTTR = median hours from opened to restored
-- over the incidents restored in the period (every incident of the application, not only change failures).
-- rework rate = rework deployments (rollbacks, emergency changes) / successful deployments.
with modes as (
    select * from (values ('full'), ('light')) as m (correlation_mode)
),

deploys as (
    select
        a.app_id,
        a.environment,
        p.period,
        m.correlation_mode,
        count(d.deployment_key) filter (where d.status = 'succeeded') as deployments,
        count(distinct d.day) filter (where d.status = 'succeeded') as deploy_days,
        count(d.deployment_key) as attempts,
        count(d.deployment_key) filter (
            where case when m.correlation_mode = 'full' then d.is_change_failure_full else d.is_change_failure_light end
        ) as change_failures,
        count(d.deployment_key) filter (where d.status = 'succeeded' and d.is_rework) as rework_deployments,
        median(
            (
                epoch(case when m.correlation_mode = 'full' then d.recovered_at_full else d.recovered_at_light end)
                - epoch(d.finished_at)
            ) / 3600.0
        ) filter (
            where case when m.correlation_mode = 'full' then d.is_change_failure_full else d.is_change_failure_light end
        ) as recovery_median_hours,
        count(d.deployment_key) filter (
            where
                case when m.correlation_mode = 'full' then d.is_change_failure_full else d.is_change_failure_light end
                and case when m.correlation_mode = 'full' then d.recovered_at_full else d.recovered_at_light end
                is not null
        ) as recoveries
    from stg_apps as a
    cross join stg_periods as p
    cross join modes as m
    left join mv_deployments as d
        on
            a.app_id = d.app_id
            and a.environment = d.environment
            and d.finished_at >= p.period_start
            and d.finished_at < p.period_end
    group by a.app_id, a.environment, p.period, m.correlation_mode
),

lead_times as (
    select
        a.app_id,
        a.environment,
        p.period,
        count(l.mr_id) as changes,
        median(l.lead_time_hours) as lead_time_median_hours,
        quantile_cont(l.lead_time_hours, 0.9) as lead_time_p90_hours
    from stg_apps as a
    cross join stg_periods as p
    left join mv_lead_times as l
        on
            a.app_id = l.app_id
            and a.environment = l.environment
            and l.deployed_at >= p.period_start
            and l.deployed_at < p.period_end
    group by a.app_id, a.environment, p.period
),

restores as (
    select
        a.app_id,
        a.environment,
        p.period,
        count(i.sys_id) as incidents_restored,
        median(i.duration_hours) as mttr_median_hours
    from stg_apps as a
    cross join stg_periods as p
    left join mv_incidents as i
        on
            a.app_id = i.app_id
            and a.environment = i.environment
            and not i.is_canceled
            and i.restored_at >= p.period_start
            and i.restored_at < p.period_end
    group by a.app_id, a.environment, p.period
)

select
    d.*,
    p.period_start,
    p.period_end,
    p.period_days,
    l.changes,
    l.lead_time_median_hours,
    l.lead_time_p90_hours,
    r.incidents_restored,
    r.mttr_median_hours
from deploys as d
inner join stg_periods as p on d.period = p.period
inner join lead_times as l on d.app_id = l.app_id and d.environment = l.environment and d.period = l.period
inner join restores as r on d.app_id = r.app_id and d.environment = r.environment and d.period = r.period
