-- table: mv_dora_group_period
-- grain: one row per rollup level (team, group, domain), its id, environment, period, mode and band set
-- reads: mv_deployments, mv_lead_times, mv_incidents, stg_apps, stg_periods, stg_dora_bands
-- refresh: daily
--
-- Recomputed from the events of the group's applications, so every figure is weighted by events:
-- frequency = the group's successful deployments / days; lead time = median over all the group's merge
-- requests; change failure rate = sum(failures) / sum(attempts); recovery and MTTR = medians over all
-- the group's events. Same definitions, states and bands as mv_dora_app_period.
with modes as (
    select * from (values ('full'), ('light')) as m (correlation_mode)
),

apps as (
    select 'team' as level, team as level_id, app_id, environment from stg_apps where team is not null
    union all
    select 'group', group_id, app_id, environment from stg_apps where group_id is not null
    union all
    select 'domain', domain, app_id, environment from stg_apps where domain is not null
),

groups as (
    select level, level_id, environment, count(distinct app_id) as applications
    from apps
    group by level, level_id, environment
),

deploys as (
    select
        g.level,
        g.level_id,
        g.environment,
        p.period,
        m.correlation_mode,
        count(d.deployment_key) filter (where d.status = 'succeeded') as deployments,
        count(d.deployment_key) as attempts,
        count(d.deployment_key) filter (
            where case when m.correlation_mode = 'full' then d.is_change_failure_full else d.is_change_failure_light end
        ) as change_failures,
        median(
            (
                epoch(case when m.correlation_mode = 'full' then d.recovered_at_full else d.recovered_at_light end)
                - epoch(d.finished_at)
            ) / 3600.0
        ) filter (
            where case when m.correlation_mode = 'full' then d.is_change_failure_full else d.is_change_failure_light end
        ) as recovery_median_hours
    from groups as g
    cross join stg_periods as p
    cross join modes as m
    left join apps as a on g.level = a.level and g.level_id = a.level_id and g.environment = a.environment
    left join mv_deployments as d
        on
            a.app_id = d.app_id
            and a.environment = d.environment
            and d.finished_at >= p.period_start
            and d.finished_at < p.period_end
    group by g.level, g.level_id, g.environment, p.period, m.correlation_mode
),

lead_times as (
    select
        a.level,
        a.level_id,
        a.environment,
        p.period,
        count(l.mr_id) as changes,
        median(l.lead_time_hours) as lead_time_median_hours
    from apps as a
    cross join stg_periods as p
    left join mv_lead_times as l
        on
            a.app_id = l.app_id
            and a.environment = l.environment
            and l.deployed_at >= p.period_start
            and l.deployed_at < p.period_end
    group by a.level, a.level_id, a.environment, p.period
),

restores as (
    select
        a.level,
        a.level_id,
        a.environment,
        p.period,
        count(i.sys_id) as incidents_restored,
        median(i.duration_hours) as mttr_median_hours
    from apps as a
    cross join stg_periods as p
    left join mv_incidents as i
        on
            a.app_id = i.app_id
            and a.environment = i.environment
            and not i.is_canceled
            and i.restored_at >= p.period_start
            and i.restored_at < p.period_end
    group by a.level, a.level_id, a.environment, p.period
),

facts as (
    select
        d.*,
        g.applications,
        p.period_start,
        p.period_end,
        p.period_days,
        d.deployments / p.period_days as deployment_frequency_per_day,
        case when d.attempts > 0 then d.change_failures / d.attempts end as change_failure_rate,
        l.changes,
        l.lead_time_median_hours,
        r.incidents_restored,
        r.mttr_median_hours,
        s.band_set
    from deploys as d
    inner join groups as g on d.level = g.level and d.level_id = g.level_id and d.environment = g.environment
    inner join stg_periods as p on d.period = p.period
    inner join lead_times as l
        on d.level = l.level and d.level_id = l.level_id and d.environment = l.environment and d.period = l.period
    inner join restores as r
        on d.level = r.level and d.level_id = r.level_id and d.environment = r.environment and d.period = r.period
    cross join (select distinct band_set from stg_dora_bands) as s
)

select
    f.level,
    f.level_id,
    f.environment,
    f.period,
    f.period_start,
    f.period_end,
    f.correlation_mode,
    f.band_set,
    f.applications,
    f.deployments as deployment_frequency_numerator,
    f.period_days as deployment_frequency_denominator_days,
    f.deployment_frequency_per_day,
    case when f.deployments > 0 then 'ok' else 'no deployments' end as deployment_frequency_state,
    (
        select b.level from stg_dora_bands as b
        where
            b.band_set = f.band_set and b.metric = 'deployment_frequency' and f.deployments > 0
            and f.deployment_frequency_per_day >= b.bound
        order by b.level_rank limit 1
    ) as deployment_frequency_level,
    f.changes as lead_time_sample,
    f.lead_time_median_hours,
    case when f.changes > 0 then 'ok' else 'insufficient data' end as lead_time_state,
    (
        select b.level from stg_dora_bands as b
        where b.band_set = f.band_set and b.metric = 'lead_time' and f.lead_time_median_hours < b.bound
        order by b.level_rank limit 1
    ) as lead_time_level,
    f.change_failures as change_failure_numerator,
    f.attempts as change_failure_denominator,
    f.change_failure_rate,
    case when f.attempts > 0 then 'ok' else 'insufficient data' end as change_failure_state,
    (
        select b.level from stg_dora_bands as b
        where b.band_set = f.band_set and b.metric = 'change_failure_rate' and f.change_failure_rate <= b.bound
        order by b.level_rank limit 1
    ) as change_failure_level,
    f.recovery_median_hours,
    (
        select b.level from stg_dora_bands as b
        where b.band_set = f.band_set and b.metric = 'recovery_time' and f.recovery_median_hours < b.bound
        order by b.level_rank limit 1
    ) as recovery_level,
    f.incidents_restored as mttr_sample,
    f.mttr_median_hours
from facts as f
