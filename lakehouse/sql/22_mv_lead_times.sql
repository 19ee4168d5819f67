-- table: mv_lead_times
-- grain: one row per merged merge request and environment, with the deployment that shipped it
-- reads: stg_merge_requests, stg_deployments, raw_gitlab_deployment_merge_requests
-- partitioned by: month of merged_at
-- refresh: hourly
--
-- Change lead time = shipping deployment finished_at - merged_at. The shipping deployment is a successful,
-- non-rollback deployment of the request's entity (its component, or its application when mapped directly) in
-- that environment, finished at or after the merge, found by the first rule that applies (match_rule):
--   'deployment link': the earliest one GitLab lists the request among the merge requests it shipped;
--   'first deployment after merge': else the first one after the merge whose merge requests are unknown (an
--   ArgoCD sync, a GitLab deployment with no list). A GitLab deployment that lists other requests did not
--   ship this one. Requests not deployed yet have no row.
with deployments as (
    select * from stg_deployments where status = 'succeeded' and not is_rollback
),

-- GitLab deployments are keyed 'gitlab:<deployment id>' by the deployment events' ingest.
links as (
    select distinct mr_id, 'gitlab:' || deployment_id as deployment_key
    from raw_gitlab_deployment_merge_requests
),

linked as (
    select
        m.mr_id,
        m.entity_id,
        m.environment,
        arg_min(d.deployment_key, (d.finished_at, d.deployment_key)) as deployment_key,
        min(d.finished_at) as deployed_at
    from stg_merge_requests as m
    inner join links as l on m.mr_id = l.mr_id
    inner join deployments as d
        on
            l.deployment_key = d.deployment_key
            and m.entity_id = d.entity_id
            and m.environment = d.environment
            and m.merged_at <= d.finished_at
    group by m.mr_id, m.entity_id, m.environment
),

unlisted as (
    select * from deployments
    where deployment_key not in (select deployment_key from links)
),

after_merge as (
    select
        m.mr_id,
        m.entity_id,
        m.environment,
        d.deployment_key,
        d.finished_at as deployed_at
    from stg_merge_requests as m
    asof inner join unlisted as d
        on
            m.entity_id = d.entity_id
            and m.environment = d.environment
            and m.merged_at <= d.finished_at
),

shipped as (
    select
        m.*,
        coalesce(l.deployment_key, a.deployment_key) as deployment_key,
        coalesce(l.deployed_at, a.deployed_at) as deployed_at,
        case when l.mr_id is not null then 'deployment link' else 'first deployment after merge' end as match_rule
    from stg_merge_requests as m
    left join linked as l on m.mr_id = l.mr_id and m.entity_id = l.entity_id and m.environment = l.environment
    left join after_merge as a on m.mr_id = a.mr_id and m.entity_id = a.entity_id and m.environment = a.environment
)

select
    mr_id,
    project_id,
    app_id,
    component_id,
    environment,
    merged_at,
    deployment_key,
    deployed_at,
    (epoch(deployed_at) - epoch(merged_at)) / 3600.0 as lead_time_hours,
    match_rule
from shipped
where deployment_key is not null
