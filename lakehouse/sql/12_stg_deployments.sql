-- table: stg_deployments
-- grain: one row per deployment attempt of a mapped component (ArgoCD or GitLab), in any environment
-- reads: raw_deploys_deployment_events, ref_pivots, ref_entities
-- refresh: hourly
--
-- Deployments come from the unified deployment events only (ArgoCD history and failed sync operations,
-- GitLab deployments), never from pipelines: a green pipeline is not a deployment.
-- An ArgoCD application name identifies one environment; a GitLab project serves several, so its events
-- are matched on the environment name too.
-- A rollback redeploys the revision that ran before the one it replaces (flagged at ingestion, or seen
-- here as revision = the revision two successful deployments back).
with attributed as (
    select d.*, p.entity_id, p.environment as mapped_environment
    from raw_deploys_deployment_events as d
    inner join ref_pivots as p
        on
            (d.origin = 'argocd' and p.pivot_kind = 'argocd_app' and p.value = d.source_ref)
            or (
                d.origin = 'gitlab' and p.pivot_kind = 'gitlab_project' and p.value = d.source_ref
                and p.environment = d.environment
            )
),

successes as (
    -- A successful attempt's revision in a struct: null for the other attempts, which the window skips, while
    -- a success without a revision still counts.
    select *, case when status = 'succeeded' then {'revision': revision} end as success
    from attributed
),

with_previous as (
    -- For a successful deployment, the revisions of the component's two successful deployments before it:
    -- one window over every attempt instead of a window over the successes joined back.
    select
        *,
        case when success is not null then (lag(success ignore nulls) over w).revision end as previous_revision,
        case when success is not null then (lag(success, 2 ignore nulls) over w).revision end
            as revision_before_previous
    from successes
    window w as (partition by entity_id, mapped_environment order by finished_at, deployment_key)
)

select
    a.deployment_key,
    a.origin,
    a.source_ref,
    e.app_id,
    e.component_id,
    a.mapped_environment as environment,
    a.revision,
    a.previous_revision,
    a.started_at,
    a.finished_at,
    a.status,
    coalesce(a.is_rollback, false)
    or coalesce(a.revision = a.revision_before_previous and a.revision <> a.previous_revision, false) as is_rollback,
    a.initiated_by
from with_previous as a
inner join ref_entities as e on a.entity_id = e.entity_id and a.mapped_environment = e.environment
