-- table: mv_lead_times
-- grain: one row per merged merge request and environment, with the deployment that shipped it
-- reads: stg_merge_requests, stg_deployments
-- partitioned by: month of merged_at
-- refresh: hourly
--
-- Change lead time = shipping deployment finished_at - merged_at, where the shipping deployment is the
-- first successful, non-rollback deployment of the request's entity (its component, or its application when
-- mapped directly) in that environment that finished at or after the merge. Requests not deployed yet have no row.
with deployments as (
    select * from stg_deployments where status = 'succeeded' and not is_rollback
)

select
    m.mr_id,
    m.project_id,
    m.app_id,
    m.component_id,
    m.environment,
    m.merged_at,
    d.deployment_key,
    d.finished_at as deployed_at,
    (epoch(d.finished_at) - epoch(m.merged_at)) / 3600.0 as lead_time_hours
from stg_merge_requests as m
asof inner join deployments as d
    on
        m.entity_id = d.entity_id
        and m.environment = d.environment
        and m.merged_at <= d.finished_at
