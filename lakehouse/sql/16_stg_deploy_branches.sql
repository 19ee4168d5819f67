-- table: stg_deploy_branches
-- grain: one row per GitLab project and environment a merged request of it is mapped in: the branches it deploys from
-- reads: stg_merge_requests, settled_request_targets, raw_deploys_deployment_events, ref_pivots, raw_gitlab_deployments, raw_gitlab_merge_requests
-- refresh: hourly
--
-- Lead time counts only the requests merged into a branch their project deploys from (see mv_lead_times).
-- branches: the refs of the project's successful GitLab deployments in the environment (hand-offs to ArgoCD
-- included: a pipeline hands off from the branches it deploys) that some of its requests target, in order; null
-- where none is known (a project deployed by ArgoCD alone, or from tags: a deployment's ref may be a tag, and is
-- one only where a request targets it). default_branch: the project's default branch, as last read (null where no
-- request read carried it).
with deployed_refs as (
    select distinct d.source_ref as project_id, d.environment, g.ref
    from raw_deploys_deployment_events as d
    semi join ref_pivots as p
        on p.pivot_kind = 'gitlab_project' and p.value = d.source_ref and p.environment = d.environment
    inner join raw_gitlab_deployments as g on d.deployment_key = 'gitlab:' || g.deployment_id
    where d.origin = 'gitlab' and d.status = 'succeeded'
),

-- With the branches of the requests an hourly build carries the lead times of (settled_request_targets, see
-- lakehouse/aggregates/settled_lead_times.py): its stg_merge_requests holds only the requests it finds them for.
targets as (
    select distinct cast(project_id as varchar) as project_id, environment, target_branch
    from (
        select project_id, environment, target_branch from stg_merge_requests
        union all
        select project_id, environment, target_branch from settled_request_targets
    )
),

deployed_branches as (
    select r.project_id, r.environment, list(r.ref order by r.ref) as branches
    from deployed_refs as r
    semi join targets as t on r.project_id = t.project_id and r.environment = t.environment and r.ref = t.target_branch
    group by r.project_id, r.environment
),

default_branches as (
    select cast(project_id as varchar) as project_id, arg_max(default_branch, updated_at) as default_branch
    from raw_gitlab_merge_requests
    where default_branch is not null
    group by project_id
)

select p.project_id, p.environment, b.branches, d.default_branch
from (select distinct project_id, environment from targets) as p
left join deployed_branches as b on p.project_id = b.project_id and p.environment = b.environment
left join default_branches as d on p.project_id = d.project_id
