-- table: stg_dora_scopes
-- grain: one row per DORA scope (an application, or a team, group or domain) and application in it
-- reads: stg_apps, ref_entities, ref_pivots, build_params
-- refresh: daily
--
-- DORA is computed once per scope from the events of its applications, so a team's figures are weighted
-- by events (its deployments, merge requests and incidents), never averages of its applications' rates.
-- deploys_mapped, merge_requests_mapped, incidents_mapped: whether the mapping ties the application (its own entry
-- or a component's, in that environment) to a source of deployments (an ArgoCD application or a GitLab project), of
-- merge requests (a GitLab project), of incidents (a ServiceNow CI, by id or name). Events are found through those
-- alone: a metric whose source ties none of a scope's applications is 'not mapped' (see stg_dora_levels), which is
-- not the absence of events its other states say. A CI mapped in several environments ties only the entry the build
-- gives its incidents to (stg_incidents: production's first, then the first entity, then the first environment by
-- name): the others' incidents are not theirs to count.
with ci_owners as (
    select p.pivot_kind, p.value, p.entity_id, p.environment
    from ref_pivots as p
    where p.pivot_kind in ('servicenow_ci', 'servicenow_ci_name')
    qualify row_number() over (
        partition by p.pivot_kind, p.value
        order by (p.environment = (select production_environment from build_params)) desc, p.entity_id, p.environment
    ) = 1
),

sources as (
    select
        e.app_id,
        e.environment,
        bool_or(p.pivot_kind in ('argocd_app', 'gitlab_project')) as deploys_mapped,
        bool_or(p.pivot_kind = 'gitlab_project') as merge_requests_mapped,
        coalesce(bool_or(c.entity_id = p.entity_id and c.environment = p.environment), false) as incidents_mapped
    from ref_entities as e
    inner join ref_pivots as p on e.entity_id = p.entity_id and e.environment = p.environment
    left join ci_owners as c on p.pivot_kind = c.pivot_kind and p.value = c.value
    group by e.app_id, e.environment
),

apps as (
    select
        a.app_id,
        a.environment,
        a.team,
        a.group_id,
        a.domain,
        coalesce(s.deploys_mapped, false) as deploys_mapped,
        coalesce(s.merge_requests_mapped, false) as merge_requests_mapped,
        coalesce(s.incidents_mapped, false) as incidents_mapped
    from stg_apps as a
    left join sources as s on a.app_id = s.app_id and a.environment = s.environment
)

select
    'application' as level,
    app_id as level_id,
    app_id,
    environment,
    deploys_mapped,
    merge_requests_mapped,
    incidents_mapped
from apps
union all
select 'team', team, app_id, environment, deploys_mapped, merge_requests_mapped, incidents_mapped
from apps where team is not null
union all
select 'group', group_id, app_id, environment, deploys_mapped, merge_requests_mapped, incidents_mapped
from apps where group_id is not null
union all
select 'domain', domain, app_id, environment, deploys_mapped, merge_requests_mapped, incidents_mapped
from apps where domain is not null
