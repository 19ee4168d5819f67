-- table: mv_monitoring_domain_day_summary
-- grain: one row per domain, environment and day rebuilt
-- reads: mv_monitoring_app_day_summary
-- partitioned by: day
-- refresh: hourly
--
-- Rolled up by events, never by averaging percentages: error_rate = sum(errors) / sum(requests) over the
-- domain's applications; incidents, changes and deployments are sums. Applications without a domain are
-- grouped under '(none)'.
select
    coalesce(domain, '(none)') as domain,
    environment,
    day,
    count(*) as applications,
    sum(requests) as requests,
    sum(errors) as errors,
    case when sum(requests) > 0 then sum(errors) / sum(requests) end as error_rate,
    case when sum(requests) > 0 then 1 - sum(errors) / sum(requests) end as availability,
    sum(log_errors) as log_errors,
    sum(incidents_opened) as incidents_opened,
    sum(incidents_opened_p1_p2) as incidents_opened_p1_p2,
    sum(incidents_open_end_of_day) as incidents_open_end_of_day,
    sum(sla_breaches) as sla_breaches,
    sum(changes_implemented) as changes_implemented,
    sum(changes_unsuccessful) as changes_unsuccessful,
    sum(deployments) as deployments,
    sum(deployment_change_failures) as deployment_change_failures
from mv_monitoring_app_day_summary
group by coalesce(domain, '(none)'), environment, day
