-- table: mv_incidents_app_day
-- grain: one row per application, environment and day rebuilt (every day, zero-filled): the incident heatmap
-- reads: mv_incidents, stg_app_days
-- partitioned by: day
-- refresh: hourly
--
-- opened: incidents opened that day; restored: restored that day; open_end_of_day: the backlog at
-- midnight ending the day (opened before it, not restored before it); mttr_*_hours: over the incidents
-- restored that day (restored - opened). Cancelled incidents are left out.
with incidents as (
    select * from mv_incidents where not is_canceled
),

spine as (
    select app_id, environment, day from stg_app_days
)

select
    s.app_id,
    s.environment,
    s.day,
    count(i.sys_id) filter (where cast(i.opened_at as date) = s.day) as opened,
    count(i.sys_id) filter (where cast(i.opened_at as date) = s.day and i.priority <= 2) as opened_p1_p2,
    count(i.sys_id) filter (where cast(i.restored_at as date) = s.day) as restored,
    count(i.sys_id) filter (
        where i.opened_at < s.day + interval 1 day and (i.restored_at is null or i.restored_at >= s.day + interval 1 day)
    ) as open_end_of_day,
    count(i.sys_id) filter (
        where
            i.priority <= 2
            and i.opened_at < s.day + interval 1 day
            and (i.restored_at is null or i.restored_at >= s.day + interval 1 day)
    ) as open_p1_p2_end_of_day,
    avg(i.duration_hours) filter (where cast(i.restored_at as date) = s.day) as mttr_mean_hours,
    median(i.duration_hours) filter (where cast(i.restored_at as date) = s.day) as mttr_median_hours,
    count(i.sys_id) filter (where cast(i.opened_at as date) = s.day and i.sla_breached) as sla_breaches
from spine as s
left join incidents as i
    on
        s.app_id = i.app_id
        and s.environment = i.environment
        and i.opened_at < s.day + interval 1 day
        and (i.restored_at is null or i.restored_at >= s.day)
group by s.app_id, s.environment, s.day
