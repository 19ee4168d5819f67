-- table: stg_components_deployed_whole
-- grain: one row per component and environment it is deployed with its application in
-- reads: ref_entities, ref_pivots
-- refresh: hourly
--
-- A component with no ArgoCD application nor GitLab project of its own in an environment is deployed with its
-- application, as a whole: the changes on its CI cover its application's own attempts (stg_change_deployments), and
-- its incidents and the Dynatrace problems rooted in it follow them (mv_incident_links). So is a component with a
-- GitLab project but no ArgoCD application of its own there, when an ArgoCD application is mapped on its application
-- there (an umbrella): its project's deployments are hand-offs to the umbrella's syncs, which roll it out (see
-- stg_deployments).
with own as (
    select
        entity_id,
        environment,
        bool_or(pivot_kind = 'argocd_app') as by_argocd,
        bool_or(pivot_kind = 'gitlab_project') as by_gitlab
    from ref_pivots
    where pivot_kind in ('argocd_app', 'gitlab_project')
    group by entity_id, environment
),

umbrellas as (
    select distinct e.app_id, e.environment
    from ref_entities as e
    semi join ref_pivots as p
        on e.entity_id = p.entity_id and e.environment = p.environment and p.pivot_kind = 'argocd_app'
    where e.component_id is null
)

select e.entity_id, e.environment, e.app_id
from ref_entities as e
left join own as o on e.entity_id = o.entity_id and e.environment = o.environment
left join umbrellas as u on e.app_id = u.app_id and e.environment = u.environment
where
    e.component_id is not null
    and not coalesce(o.by_argocd, false)
    and (not coalesce(o.by_gitlab, false) or u.app_id is not null)
