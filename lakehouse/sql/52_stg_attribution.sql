-- table: stg_attribution
-- grain: one row per incident, change request and deployment attempt of the 30 days before as_of, attributed or not
-- reads: stg_incidents, stg_changes, raw_deploys_deployment_events, raw_gitlab_deployments, ref_pivots, build_params
-- refresh: daily
--
-- What the mapping leaves out. ServiceNow's incident and change tables are read whole, so a record on a CI that no
-- entry claims is read, then counted in no KPI. GitLab's deployments are read for every environment of a mapped
-- project, and only those to an environment the project is mapped in (its name compared without case) become
-- deployment events: one to another environment ("prod" where the mapping says production, a region's) is counted
-- nowhere. A deployment event whose ArgoCD application or GitLab project and environment the mapping no longer names
-- (a pivot corrected since it was read) is left out too. ArgoCD's history, Dynatrace's signals and GitLab's merge
-- requests are read only for what the mapping names: attributed by construction.
-- record_kind: incident, change or deployment; record: its number (INC…, CHG…) or deployment key. key_kind and key:
-- what an entry would need to claim it: the record's configuration item (servicenow_ci, its sys_id; null when the
-- record names none), the ArgoCD application (argocd_app) or the GitLab project (gitlab_project) in the environment
-- deployed to (environment, GitLab's only, as GitLab names it: an ArgoCD application serves one). label: the CI's
-- name on the record. In the window: an incident by when it opened (canceled ones left out, as they are of every
-- KPI), a change by its creation, a deployment by when it finished (GitLab's successful and failed ones); read ahead
-- of as_of, not yet. attributed: the build found its entity, with the pivots stg_incidents, stg_changes and
-- stg_deployments use (a GitLab hand-off to ArgoCD is attributed).
with params as (
    select as_of, as_of - interval 30 day as window_start from build_params
),

mapped_deploy_refs as (
    select distinct 'argocd' as origin, value as source_ref, cast(null as varchar) as environment
    from ref_pivots
    where pivot_kind = 'argocd_app'
    union
    select distinct 'gitlab', value, environment
    from ref_pivots
    where pivot_kind = 'gitlab_project'
)

select
    'incident' as record_kind,
    i.number as record,
    'servicenow_ci' as key_kind,
    i.cmdb_ci_sys_id as key,
    cast(null as varchar) as environment,
    i.cmdb_ci_name as label,
    i.opened_at as seen_at,
    i.entity_id is not null as attributed
from stg_incidents as i
cross join params as p
where not i.is_canceled and i.opened_at >= p.window_start and i.opened_at < p.as_of

union all

select
    'change',
    c.number,
    'servicenow_ci',
    c.cmdb_ci_sys_id,
    null,
    c.cmdb_ci_name,
    c.sys_created_on,
    c.entity_id is not null
from stg_changes as c
cross join params as p
where c.sys_created_on >= p.window_start and c.sys_created_on < p.as_of

union all

select
    'deployment',
    d.deployment_key,
    case d.origin when 'argocd' then 'argocd_app' else 'gitlab_project' end,
    d.source_ref,
    case when d.origin = 'gitlab' then d.environment end,
    null,
    d.finished_at,
    m.origin is not null
from raw_deploys_deployment_events as d
cross join params as p
left join mapped_deploy_refs as m
    on
        d.origin = m.origin
        and d.source_ref = m.source_ref
        and m.environment is not distinct from (case when d.origin = 'gitlab' then d.environment end)
where d.finished_at >= p.window_start and d.finished_at < p.as_of

union all

-- GitLab's deployments that never became deployment events: to an environment their project is not mapped in.
select
    'deployment',
    'gitlab:' || g.deployment_id,
    'gitlab_project',
    cast(g.project_id as varchar),
    g.environment,
    null,
    g.finished_at,
    false
from raw_gitlab_deployments as g
cross join params as p
anti join raw_deploys_deployment_events as e on 'gitlab:' || g.deployment_id = e.deployment_key
anti join ref_pivots as r
    on r.pivot_kind = 'gitlab_project' and cast(g.project_id as varchar) = r.value and lower(g.environment) = r.environment
where g.status in ('success', 'failed') and g.finished_at >= p.window_start and g.finished_at < p.as_of
