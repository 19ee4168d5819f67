-- table: stg_components_deployed_whole
-- grain: one row per component and environment it is deployed with its application in
-- reads: ref_entities, ref_pivots
-- refresh: hourly
--
-- A component with no ArgoCD application nor GitLab project of its own in an environment is deployed with its
-- application, as a whole: the changes on its CI cover its application's own attempts (stg_change_deployments), and
-- its incidents and the Dynatrace problems rooted in it follow them (mv_incident_links).
select e.entity_id, e.environment, e.app_id
from ref_entities as e
anti join ref_pivots as p
    on
        e.entity_id = p.entity_id
        and e.environment = p.environment
        and p.pivot_kind in ('argocd_app', 'gitlab_project')
where e.component_id is not null
