-- table: mv_monitoring_domain_day_summary
-- grain: one row per domain, environment and day rebuilt
-- reads: mv_monitoring_app_day_summary
-- partitioned by: day
-- refresh: hourly
--
-- Rolled up by events, never by averaging percentages: error_rate = sum(errors) / sum(requests) over the
-- domain's applications, over measured_hours (their hours with traffic, the sample behind it); incidents,
-- changes and deployments are sums. Applications without a domain are
-- grouped under '(none)'.
select
    coalesce(domain, '(none)') as domain,
    environment,
    day,
    count(*) as applications,
    sum(requests) as requests,
    sum(errors) as errors,
    case when sum(requests) > 0 then sum(errors) / sum(requests) end as error_rate,
    case when sum(requests) > 0 then (sum(requests) - sum(errors)) / sum(requests) end as availability,
    cast(sum(measured_hours) as bigint) as measured_hours,
    -- Counts stay BIGINT (sum() would widen them to HUGEINT).
    cast(sum(log_errors) as bigint) as log_errors,
    cast(sum(incidents_opened) as bigint) as incidents_opened,
    cast(sum(incidents_opened_p1_p2) as bigint) as incidents_opened_p1_p2,
    cast(sum(incidents_open_end_of_day) as bigint) as incidents_open_end_of_day,
    -- Null on a day before task SLAs were first read, as every application's is that day (mv_incidents_app_day).
    cast(sum(sla_breaches) as bigint) as sla_breaches,
    cast(sum(changes_implemented) as bigint) as changes_implemented,
    cast(sum(changes_unsuccessful) as bigint) as changes_unsuccessful,
    cast(sum(changes_failed) as bigint) as changes_failed,
    cast(sum(deployments) as bigint) as deployments,
    cast(sum(deployment_attempts) as bigint) as deployment_attempts,
    cast(sum(deployment_change_failures) as bigint) as deployment_change_failures
from mv_monitoring_app_day_summary
group by coalesce(domain, '(none)'), environment, day
