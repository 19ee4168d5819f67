-- table: mv_changes_app_day
-- grain: one row per application, environment and day rebuilt (zero-filled): the change calendar by day
-- reads: mv_changes, stg_app_days
-- partitioned by: day
-- refresh: hourly
--
-- planned: changes whose planned start falls on the day; implemented: whose work ended that day, split by
-- close code; change_failure_rate = unsuccessful / closed with a close code that day (null without any).
with spine as (
    select app_id, environment, day from stg_app_days
),

by_day as (
    select
        s.app_id,
        s.environment,
        s.day,
        count(c.sys_id) filter (where cast(c.planned_start as date) = s.day) as planned,
        count(c.sys_id) filter (where cast(c.change_end as date) = s.day and c.is_closed) as implemented,
        count(c.sys_id) filter (where cast(c.change_end as date) = s.day and c.close_code = 'successful') as successful,
        count(c.sys_id) filter (
            where cast(c.change_end as date) = s.day and c.close_code = 'successful_issues'
        ) as successful_with_issues,
        count(c.sys_id) filter (where cast(c.change_end as date) = s.day and c.close_code = 'unsuccessful') as unsuccessful,
        count(c.sys_id) filter (where cast(c.change_end as date) = s.day and c.close_code is not null) as closed_with_code,
        count(c.sys_id) filter (where cast(c.planned_start as date) = s.day and c.type = 'emergency') as emergency
    from spine as s
    left join mv_changes as c
        on
            s.app_id = c.app_id
            and s.environment = c.environment
            and (cast(c.planned_start as date) = s.day or cast(c.change_end as date) = s.day)
    group by s.app_id, s.environment, s.day
)

select
    *,
    case when closed_with_code > 0 then unsuccessful / closed_with_code end as change_failure_rate
from by_day
