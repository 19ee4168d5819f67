-- table: mv_monitoring_app_day_summary
-- grain: one row per application, environment and day rebuilt (zero-filled for events, null where no data)
-- reads: stg_app_signals_daily, mv_incidents_app_day, mv_changes_app_day, mv_deployments, stg_problems, stg_apps, ref_entities, stg_log_services, ref_log_hours_read, build_params
-- partitioned by: day
-- refresh: hourly
--
-- requests, errors: sums over the day's hours (on the as_of day, those before as_of: the hour starting at as_of
-- is under way, see stg_app_signals_daily); error_rate = errors / requests; availability = 1 - error_rate, computed
-- as (requests - errors) / requests (one rounding; occurrences, hours without traffic count on neither side); measured_hours = hours with traffic;
-- latency: the worst hourly p95/p99 of the day, and latency_p95_good_hours = hours whose p95 met the
-- threshold, out of latency_measured_hours = hours with traffic and a p95 (a daily latency figure is never an
-- average of hourly percentiles; an hour with traffic but no latency reported counts on neither side); the
-- same for the p99 (latency_p99_good_hours of latency_p99_measured_hours).
-- deployments and problems_opened count those finished (started) before as_of, as incidents and changes do (see
-- mv_incidents_app_day, mv_changes_app_day). deployments are the successful attempts; deployment_attempts, successful
-- and failed, are the change failure rate's denominator: summed over a calendar month's days,
-- deployment_change_failures and deployment_attempts are mv_dora_app_period's full-mode numerator and denominator of
-- that month, and deployments its frequency's numerator. So deployments count, as DORA's do, from the lake's first
-- read of them on (deployments_read_from, see stg_periods): the older syncs ArgoCD's history still lists at that read
-- are an incomplete record of the days before (its last 10 syncs), left out; those days are 0, and the API's daily
-- trend says them not read.
-- log_errors, log_exceptions: the day's lines of the application and its components (stg_signals_hourly); 0 on a
-- day the logs ingestion read hours of the index of the application or of one of its components there
-- (ref_log_hours_read, see stg_signals_hourly), also when no hour of it has a row; null on a day no hour of any of
-- its indices was read, or for an application without an index.
with params as (
    select day_from, day_to, as_of
    from build_params
),

-- The days of the hours read of an index an application's lines, or its components', are read from.
logged_apps as (
    select distinct
        e.app_id,
        e.environment,
        utc_day(h.read_from) as first_log_day,
        utc_day(h.read_until - interval 1 hour) as last_log_day
    from stg_log_services as s
    inner join ref_entities as e on s.entity_id = e.entity_id and s.environment = e.environment
    inner join ref_log_hours_read as h on s.index_pattern = h.index_pattern
),

-- Each application's days with hours read: one row per day, however many indices and spans cover it.
logged_days as (
    select distinct i.app_id, i.environment, i.day
    from mv_incidents_app_day as i
    inner join logged_apps as g
        on
            i.app_id = g.app_id
            and i.environment = g.environment
            and i.day between coalesce(g.first_log_day, i.day) and g.last_log_day
),

signals as (
    select s.*
    from stg_app_signals_daily as s
    cross join params as p
    where s.day between p.day_from and p.day_to
),

deployments as (
    select
        app_id,
        environment,
        day,
        count(*) filter (where status = 'succeeded') as deployments,
        count(*) as attempts,
        count(*) filter (where is_change_failure_full) as change_failures
    from mv_deployments
    where
        finished_at < (select as_of from params)
        and finished_at >= coalesce((select cast(deployments_read_from as timestamptz) from build_params), '-infinity')
    group by app_id, environment, day
),

problems as (
    select app_id, environment, utc_day(start_time) as day, count(distinct problem_id) as problems_opened
    from stg_problems
    where start_time < (select as_of from params)
    group by app_id, environment, utc_day(start_time)
)

select
    a.app_id,
    a.environment,
    i.day,
    a.team,
    a.group_id,
    a.domain,
    s.requests,
    s.errors,
    case when s.requests > 0 then s.errors / s.requests end as error_rate,
    case when s.requests > 0 then (s.requests - s.errors) / s.requests end as availability,
    coalesce(s.measured_hours, 0) as measured_hours,
    s.latency_p95_worst_hour_ms,
    s.latency_p99_worst_hour_ms,
    coalesce(s.latency_measured_hours, 0) as latency_measured_hours,
    coalesce(s.latency_p95_good_hours, 0) as latency_p95_good_hours,
    coalesce(s.latency_p99_measured_hours, 0) as latency_p99_measured_hours,
    coalesce(s.latency_p99_good_hours, 0) as latency_p99_good_hours,
    s.cpu_usage_max_pct,
    s.memory_usage_max_pct,
    coalesce(s.log_errors, case when g.app_id is not null then 0 end) as log_errors,
    coalesce(s.log_exceptions, case when g.app_id is not null then 0 end) as log_exceptions,
    i.opened as incidents_opened,
    i.opened_p1_p2 as incidents_opened_p1_p2,
    i.open_end_of_day as incidents_open_end_of_day,
    i.open_p1_p2_end_of_day as incidents_open_p1_p2_end_of_day,
    i.sla_breaches,
    c.planned as changes_planned,
    c.implemented as changes_implemented,
    c.unsuccessful as changes_unsuccessful,
    c.failed as changes_failed,
    coalesce(d.deployments, 0) as deployments,
    coalesce(d.attempts, 0) as deployment_attempts,
    coalesce(d.change_failures, 0) as deployment_change_failures,
    coalesce(pr.problems_opened, 0) as problems_opened
from stg_apps as a
inner join mv_incidents_app_day as i on a.app_id = i.app_id and a.environment = i.environment
inner join mv_changes_app_day as c on i.app_id = c.app_id and i.environment = c.environment and i.day = c.day
left join signals as s on i.app_id = s.app_id and i.environment = s.environment and i.day = s.day
left join deployments as d on i.app_id = d.app_id and i.environment = d.environment and i.day = d.day
left join problems as pr on i.app_id = pr.app_id and i.environment = pr.environment and i.day = pr.day
left join logged_days as g on i.app_id = g.app_id and i.environment = g.environment and i.day = g.day
