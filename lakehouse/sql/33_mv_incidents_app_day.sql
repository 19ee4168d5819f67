-- table: mv_incidents_app_day
-- grain: one row per application, environment and day rebuilt (every day, zero-filled): the incident heatmap
-- reads: mv_incidents, stg_app_days, build_params
-- partitioned by: day
-- refresh: hourly
--
-- opened: incidents opened that day; restored: restored that day; open_end_of_day: the backlog at
-- midnight ending the day (opened before it, not restored before it); mttr_*_hours: over the incidents
-- restored that day (restored - opened), those with a duration (see mv_incidents), mttr_sample of them: an incident
-- recorded restored before it opened is restored, and no MTTR sample. Cancelled incidents are left out.
-- Only what happened before as_of counts, as in the periods: an opening or a restoration after as_of, ingested
-- ahead of the build, has not happened yet. The as_of day counts up to as_of (its backlog is the one at as_of).
-- sla_breaches: incidents opened that day with a breached task SLA (see mv_incidents); null (unknown, not none) on a
-- day wholly before the lake first read task SLAs (task_slas_read_from; every day when that is unknown).
with params as (
    select as_of, day_from, day_to, utc_day(cast(task_slas_read_from as timestamptz)) as first_sla_day
    from build_params
),

-- The UTC midnights around the days being rebuilt (the session's zone is UTC, so a day cast to an instant is its UTC
-- midnight, and an instant's utc_day falls between them when it is a rebuilt day):
-- openings and restorations are grouped for those days only, not for the whole history every hour.
days as (
    select cast(day_from as timestamptz) as first_instant, cast(day_to + 1 as timestamptz) as after_instant
    from params
),

happened as (
    select i.* replace (case when i.restored_at < p.as_of then i.restored_at end as restored_at)
    from mv_incidents as i
    cross join params as p
    where not i.is_canceled and i.opened_at < p.as_of
),

incidents as (
    select *, utc_day(greatest(restored_at, opened_at)) as backlog_exit_day
    from happened
),

opened as (
    select
        app_id,
        environment,
        utc_day(opened_at) as day,
        count(*) as opened,
        count(*) filter (where priority <= 2) as opened_p1_p2,
        count(*) filter (where sla_breached) as sla_breaches
    from incidents
    where opened_at >= (select first_instant from days) and opened_at < (select after_instant from days)
    group by app_id, environment, utc_day(opened_at)
),

restored as (
    select
        app_id,
        environment,
        utc_day(restored_at) as day,
        count(*) as restored,
        count(*) filter (where duration_hours is not null) as mttr_sample,
        -- From whole milliseconds, summed exactly: the mean does not move with the order rows are added in.
        avg(epoch_ms(restored_at) - epoch_ms(opened_at)) filter (where duration_hours is not null) / 3600000.0
            as mttr_mean_hours,
        median(duration_hours) as mttr_median_hours
    from incidents
    where restored_at >= (select first_instant from days) and restored_at < (select after_instant from days)
    group by app_id, environment, utc_day(restored_at)
),

-- The backlog at the end of a day = incidents opened on or before it - incidents restored on or before
-- it: what was open before the first day rebuilt, plus running sums of the daily changes since, read as of each day.
changes as (
    select app_id, environment, utc_day(opened_at) as day, 1 as open_delta, (priority <= 2)::int as p1_p2_delta
    from incidents
    union all
    select app_id, environment, backlog_exit_day, -1, -((priority <= 2)::int)
    from incidents
    where restored_at is not null
),

before_days as (
    select app_id, environment, sum(open_delta) as open_before, sum(p1_p2_delta) as open_p1_p2_before
    from changes
    where day < (select day_from from params)
    group by app_id, environment
),

backlog as (
    select
        app_id,
        environment,
        day,
        sum(sum(open_delta)) over w as open_since,
        sum(sum(p1_p2_delta)) over w as open_p1_p2_since
    from changes
    where day >= (select day_from from params)
    group by app_id, environment, day
    window w as (partition by app_id, environment order by day)
)

select
    s.app_id,
    s.environment,
    s.day,
    coalesce(o.opened, 0) as opened,
    coalesce(o.opened_p1_p2, 0) as opened_p1_p2,
    coalesce(r.restored, 0) as restored,
    (coalesce(f.open_before, 0) + coalesce(b.open_since, 0))::bigint as open_end_of_day,
    (coalesce(f.open_p1_p2_before, 0) + coalesce(b.open_p1_p2_since, 0))::bigint as open_p1_p2_end_of_day,
    r.mttr_mean_hours,
    r.mttr_median_hours,
    coalesce(r.mttr_sample, 0) as mttr_sample,
    -- An unknown first read (a lake an older release wrote) leaves every day unknown: the comparison is null.
    case when s.day >= (select first_sla_day from params) then coalesce(o.sla_breaches, 0) end as sla_breaches
from stg_app_days as s
left join opened as o on s.app_id = o.app_id and s.environment = o.environment and s.day = o.day
left join restored as r on s.app_id = r.app_id and s.environment = r.environment and s.day = r.day
left join before_days as f on s.app_id = f.app_id and s.environment = f.environment
asof left join backlog as b on s.app_id = b.app_id and s.environment = b.environment and s.day >= b.day
