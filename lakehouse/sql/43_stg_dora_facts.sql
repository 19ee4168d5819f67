-- table: stg_dora_facts
-- grain: one row per DORA scope, environment, period and correlation mode, with DORA's raw counts
-- reads: stg_dora_scopes, mv_deployments, mv_lead_times, mv_incidents, stg_periods
-- refresh: daily
--
-- deployment frequency = successful deployments / days in the period (deploy_days = UTC calendar days with one).
-- Every deployment metric counts the deployments of the part of the period the lake has read them over
-- (deployments_from to the period's end, deployment_days long: see stg_periods), the whole period once it has.
-- Its level (see stg_dora_levels) counts periods, not deployments: the period is cut back from its end into days
-- (24 h), weeks (7 days) and months (31-day blocks, the longest calendar month), each holding its first instant and not its last as the period
-- does, the part at its start too short for a whole one being a block of its own; days_with_deployments,
-- weeks_with_deployments and months_with_deployments are the blocks holding at least one successful deployment.
-- Days are counted a second way too, as UTC days, the part days at the period's two ends together one (they make up
-- a day), and days_with_deployments is the more of the two: where the as-of hour falls must not cost a team its
-- daily deployments (a Monday's noon and the next Tuesday's 01:30 share the 24 h before a 02:40 as-of). Weeks
-- likewise, as calendar weeks from Monday (UTC), the part weeks at the two ends together one, and
-- weeks_with_deployments is the more of the two: where the as-of's weekday falls must not cost a team that deploys
-- in every calendar week its weekly deployments (a Friday's noon and the next Monday's share one 7 days counted
-- back from a Friday at 10:00). The part weeks together hold up to 13 days; never more than one week of the count.
-- A scope's blocks are those any of its applications deployed in.
-- change lead time = median and p90 of mv_lead_times.lead_time_hours for requests deployed in the period (from
-- deployments_from, as every deployment metric).
-- change failure rate = change failures / deployment attempts (successful + failed) in the period.
-- failed deployment recovery time = median hours from a change failure's deployment to its recovery,
-- over the change failures of the period that recovered (recoveries; recovered counts too those recovered by an
-- incident restored before it opened, which have no time). not_recovered counts the others, still not recovered at
-- as_of: the median has no time for them, so they are counted beside it (change_failures = recovered +
-- not_recovered). MTTR = median hours from opened to restored over the incidents restored in the period (every
-- incident, not only change failures) that have a duration (incidents_timed; incidents_restored counts every one).
-- rework rate = rework deployments (rollbacks, emergency changes, fixes forward: see mv_deployments) / successful
-- deployments.
-- Medians and p90s interpolate between the two nearest values (DuckDB's median and quantile_cont): the median of
-- 2 h and 4 h is 3 h; the p90 of 1, 2, ..., 10 h is 9.1 h (position 0.9 × 9 = 8.1 from the first).
with modes as (
    select * from (values ('full'), ('light')) as m (correlation_mode)
),

scopes as (
    select level, level_id, environment, count(distinct app_id) as applications
    from stg_dora_scopes
    group by level, level_id, environment
),

deployment_periods as (
    -- Seconds from the deployment to the period's end: its day, week and month, counted back from the end.
    -- A block holds its first instant and not its last, as the period does (a deployment at its start is in
    -- it, one at its end is not): a deployment exactly at the period's start is in the block that starts
    -- there, not in one of its own.
    select
        d.deployment_key,
        d.app_id,
        d.environment,
        d.status,
        d.day,
        d.finished_at,
        d.is_rework,
        d.is_change_failure_full,
        d.is_change_failure_light,
        d.recovered_at_full,
        d.recovered_at_light,
        p.period,
        epoch(p.period_end) - epoch(d.finished_at) as before_end,
        -- The UTC day, the end's part day counted with the start's when both are part days (a period ending at
        -- midnight has none at its end, one starting at midnight, a month's, none at its start: its first day is
        -- whole, a day of its own).
        case
            when
                epoch(p.period_end) % 86400 <> 0
                and epoch(p.deployments_from) % 86400 <> 0
                and d.day = utc_day(p.period_end - interval 1 microsecond)
                and d.day > utc_day(p.deployments_from)
                then utc_day(p.deployments_from)
            else d.day
        end as day_slot,
        -- The calendar week, the end's part week counted with the start's when both are part weeks (a period ending
        -- on a Monday at midnight has none at its end, one starting then none at its start).
        case
            when
                (epoch(p.period_end) % 86400 <> 0 or isodow(utc_day(p.period_end)) <> 1)
                and (epoch(p.deployments_from) % 86400 <> 0 or isodow(utc_day(p.deployments_from)) <> 1)
                and iso_week(d.day) = iso_week(utc_day(p.period_end - interval 1 microsecond))
                and iso_week(d.day) > iso_week(utc_day(p.deployments_from))
                then iso_week(utc_day(p.deployments_from))
            else iso_week(d.day)
        end as week_slot
    from mv_deployments as d
    inner join stg_periods as p on d.finished_at >= p.deployments_from and d.finished_at < p.period_end
),

success_blocks as (
    -- Each application's calendar days and blocks with a successful deployment, once: a scope counts the distinct
    -- ones of its applications. Deduplicated per application first, so that far fewer rows meet the scopes.
    select distinct
        app_id,
        environment,
        period,
        day,
        ceil(before_end / 86400) as day_block,
        day_slot,
        ceil(before_end / (7 * 86400)) as week_block,
        week_slot,
        -- 31 days: a team deploying on the same date each month has one in each block, whatever the months' lengths.
        ceil(before_end / (31 * 86400)) as month_block
    from deployment_periods
    where status = 'succeeded'
),

blocks as (
    select
        s.level,
        s.level_id,
        s.environment,
        b.period,
        count(distinct b.day) as deploy_days,
        greatest(count(distinct b.day_block), count(distinct b.day_slot)) as days_with_deployments,
        greatest(count(distinct b.week_block), count(distinct b.week_slot)) as weeks_with_deployments,
        count(distinct b.month_block) as months_with_deployments
    from success_blocks as b
    inner join stg_dora_scopes as s on s.app_id = b.app_id and s.environment = b.environment
    group by s.level, s.level_id, s.environment, b.period
),

counts as (
    -- One pass for both correlation modes: only the change failures and their recovery differ between them.
    select
        s.level,
        s.level_id,
        s.environment,
        d.period,
        count(d.deployment_key) filter (where d.status = 'succeeded') as deployments,
        count(d.deployment_key) as attempts,
        count(d.deployment_key) filter (where d.status = 'succeeded' and d.is_rework) as rework_deployments,
        count(d.deployment_key) filter (where d.is_change_failure_full) as change_failures_full,
        count(d.deployment_key) filter (where d.is_change_failure_light) as change_failures_light,
        -- A recovery before the attempt finished is an incident restored before it opened (see mv_incidents): no time.
        median((epoch(d.recovered_at_full) - epoch(d.finished_at)) / 3600.0)
            filter (where d.is_change_failure_full and d.recovered_at_full >= d.finished_at) as recovery_median_hours_full,
        median((epoch(d.recovered_at_light) - epoch(d.finished_at)) / 3600.0)
            filter (where d.is_change_failure_light and d.recovered_at_light >= d.finished_at)
            as recovery_median_hours_light,
        -- The median's sample: the recoveries with a time. Those before the attempt have none, yet they recovered.
        count(d.deployment_key) filter (where d.is_change_failure_full and d.recovered_at_full >= d.finished_at)
            as recoveries_full,
        count(d.deployment_key) filter (where d.is_change_failure_light and d.recovered_at_light >= d.finished_at)
            as recoveries_light,
        count(d.deployment_key) filter (where d.is_change_failure_full and d.recovered_at_full is not null)
            as recovered_full,
        count(d.deployment_key) filter (where d.is_change_failure_light and d.recovered_at_light is not null)
            as recovered_light,
        count(d.deployment_key) filter (where d.is_change_failure_full and d.recovered_at_full is null)
            as not_recovered_full,
        count(d.deployment_key) filter (where d.is_change_failure_light and d.recovered_at_light is null)
            as not_recovered_light
    from deployment_periods as d
    inner join stg_dora_scopes as s on s.app_id = d.app_id and s.environment = d.environment
    group by s.level, s.level_id, s.environment, d.period
),

deploys as (
    -- The blocks are found only where a deployment succeeded: elsewhere their counts are 0 (see below).
    select c.*, b.* exclude (level, level_id, environment, period)
    from counts as c
    left join blocks as b
        on c.level = b.level and c.level_id = b.level_id and c.environment = b.environment and c.period = b.period
),

lead_times as (
    select
        s.level,
        s.level_id,
        s.environment,
        l.period,
        count(l.mr_id) as changes,
        median(l.lead_time_hours) as lead_time_median_hours,
        quantile_cont(l.lead_time_hours, 0.9) as lead_time_p90_hours
    from (
        select l.*, p.period
        from mv_lead_times as l
        inner join stg_periods as p on l.deployed_at >= p.deployments_from and l.deployed_at < p.period_end
    ) as l
    inner join stg_dora_scopes as s on s.app_id = l.app_id and s.environment = l.environment
    group by s.level, s.level_id, s.environment, l.period
),

restores as (
    select
        s.level,
        s.level_id,
        s.environment,
        i.period,
        count(i.sys_id) as incidents_restored,
        -- The median's sample: an incident restored before it opened has no duration (see mv_incidents).
        count(i.duration_hours) as incidents_timed,
        median(i.duration_hours) as mttr_median_hours
    from (
        select i.*, p.period
        from mv_incidents as i
        -- Not in a period that ended before the lake read any incident: those it holds of it are the ones edited
        -- again since, no sample of its restores (stg_dora_levels then says 'insufficient data').
        inner join stg_periods as p
            on i.restored_at >= p.period_start and i.restored_at < p.period_end and p.incidents_read
        where not i.is_canceled
    ) as i
    inner join stg_dora_scopes as s on s.app_id = i.app_id and s.environment = i.environment
    group by s.level, s.level_id, s.environment, i.period
)

select
    s.level,
    s.level_id,
    s.environment,
    s.applications,
    p.period,
    p.period_start,
    p.period_end,
    p.period_days,
    p.deployments_from,
    p.deployment_days,
    p.deployments_read,
    p.incidents_read,
    p.changes_read,
    p.incidents_read_from,
    p.changes_read_from,
    p.incidents_read_until,
    p.changes_read_until,
    p.deployments_read_until,
    m.correlation_mode,
    coalesce(d.deployments, 0) as deployments,
    coalesce(d.deploy_days, 0) as deploy_days,
    coalesce(d.days_with_deployments, 0) as days_with_deployments,
    coalesce(d.weeks_with_deployments, 0) as weeks_with_deployments,
    coalesce(d.months_with_deployments, 0) as months_with_deployments,
    coalesce(d.attempts, 0) as attempts,
    coalesce(
        case when m.correlation_mode = 'full' then d.change_failures_full else d.change_failures_light end, 0
    ) as change_failures,
    coalesce(d.rework_deployments, 0) as rework_deployments,
    case
        when m.correlation_mode = 'full' then d.recovery_median_hours_full else d.recovery_median_hours_light
    end as recovery_median_hours,
    coalesce(case when m.correlation_mode = 'full' then d.recoveries_full else d.recoveries_light end, 0)
        as recoveries,
    coalesce(case when m.correlation_mode = 'full' then d.recovered_full else d.recovered_light end, 0)
        as recovered,
    coalesce(case when m.correlation_mode = 'full' then d.not_recovered_full else d.not_recovered_light end, 0)
        as not_recovered,
    coalesce(l.changes, 0) as changes,
    l.lead_time_median_hours,
    l.lead_time_p90_hours,
    coalesce(r.incidents_restored, 0) as incidents_restored,
    coalesce(r.incidents_timed, 0) as incidents_timed,
    r.mttr_median_hours
from scopes as s
cross join stg_periods as p
cross join modes as m
left join deploys as d
    on
        s.level = d.level and s.level_id = d.level_id and s.environment = d.environment and p.period = d.period
left join lead_times as l
    on s.level = l.level and s.level_id = l.level_id and s.environment = l.environment and p.period = l.period
left join restores as r
    on s.level = r.level and s.level_id = r.level_id and s.environment = r.environment and p.period = r.period
