-- table: mv_changes_app_day
-- grain: one row per application, environment and day rebuilt (zero-filled): the change calendar by day
-- reads: mv_changes, stg_app_days, build_params
-- partitioned by: day
-- refresh: hourly
--
-- planned: changes whose planned start falls on the day, but those canceled (counted apart, as canceled:
-- they will not happen); implemented: closed changes whose work ended that day, split by close code (a close
-- code on a change not closed counts nowhere): successful, successful_with_issues and unsuccessful count ServiceNow's
-- three as read; failed counts the changes failed (stg_changes.is_failed: closed with a code the build's
-- failed_close_codes lists, ROSETTA_FAILED_CLOSE_CODES, 'unsuccessful' unless set); closed_with_code those closed
-- with a code that says how the change went, ServiceNow's three or a listed one (rolled back, when the instance
-- lists it), and other_close_code those with another code an instance added, which says neither success nor
-- failure, so it is counted apart and left out of the rate; change_failure_rate = failed / closed_with_code that
-- day (null without any); emergency: emergency changes, not
-- canceled, that started that day (planned start, else work start: an emergency change is often recorded
-- after the work, without a plan).
-- A change counts as implemented once its work has ended before as_of, as in the periods: an end after as_of,
-- ingested ahead of the build, has not happened yet. Planned changes are counted on their planned day, the as_of
-- day's later hours included: the plan is known. So is an emergency change's with a plan; one without a plan counts
-- once its work has started before as_of.
with params as (
    select as_of, day_from, day_to from build_params
),

-- Only the changes counted on a day being rebuilt: the bounds are the UTC midnights around those days (the session's
-- zone is UTC, so an instant's utc_day falls between them when it is a rebuilt day), and the rest of the history is
-- not grouped again every hour.
days as (
    select cast(day_from as timestamptz) as first_instant, cast(day_to + 1 as timestamptz) as after_instant
    from params
),

planned as (
    select
        app_id,
        environment,
        utc_day(planned_start) as day,
        count(*) filter (where not is_canceled) as planned,
        count(*) filter (where is_canceled) as canceled
    from mv_changes
    where
        planned_start >= (select first_instant from days)
        and planned_start < (select after_instant from days)
    group by app_id, environment, utc_day(planned_start)
),

emergencies as (
    select
        app_id,
        environment,
        utc_day(coalesce(planned_start, change_start)) as day,
        count(*) as emergency
    from mv_changes
    where
        type = 'emergency' and not is_canceled
        and (planned_start is not null or change_start < (select as_of from params))
        and coalesce(planned_start, change_start) >= (select first_instant from days)
        and coalesce(planned_start, change_start) < (select after_instant from days)
    group by app_id, environment, utc_day(coalesce(planned_start, change_start))
),

ended as (
    select
        app_id,
        environment,
        utc_day(change_end) as day,
        count(*) filter (where is_closed) as implemented,
        count(*) filter (where is_closed and close_code = 'successful') as successful,
        count(*) filter (where is_closed and close_code = 'successful_issues') as successful_with_issues,
        count(*) filter (where is_closed and close_code = 'unsuccessful') as unsuccessful,
        count(*) filter (where is_closed and is_failed) as failed,
        count(*) filter (
            where is_closed and (close_code in ('successful', 'successful_issues', 'unsuccessful') or is_failed)
        ) as closed_with_code,
        count(*) filter (
            where is_closed and close_code not in ('successful', 'successful_issues', 'unsuccessful') and not is_failed
        ) as other_close_code
    from mv_changes
    where
        change_end < (select as_of from params)
        and change_end >= (select first_instant from days)
        and change_end < (select after_instant from days)
    group by app_id, environment, utc_day(change_end)
),

-- equality joins on (application, environment, day): each change is counted on its planned day, on the day
-- its work ended (and an emergency on its start), without a join that could match every day
by_day as (
    select
        s.app_id,
        s.environment,
        s.day,
        coalesce(p.planned, 0) as planned,
        coalesce(p.canceled, 0) as canceled,
        coalesce(e.implemented, 0) as implemented,
        coalesce(e.successful, 0) as successful,
        coalesce(e.successful_with_issues, 0) as successful_with_issues,
        coalesce(e.unsuccessful, 0) as unsuccessful,
        coalesce(e.failed, 0) as failed,
        coalesce(e.closed_with_code, 0) as closed_with_code,
        coalesce(e.other_close_code, 0) as other_close_code,
        coalesce(em.emergency, 0) as emergency
    from stg_app_days as s
    left join planned as p on s.app_id = p.app_id and s.environment = p.environment and s.day = p.day
    left join ended as e on s.app_id = e.app_id and s.environment = e.environment and s.day = e.day
    left join emergencies as em on s.app_id = em.app_id and s.environment = em.environment and s.day = em.day
)

select
    *,
    case when closed_with_code > 0 then failed / closed_with_code end as change_failure_rate
from by_day
