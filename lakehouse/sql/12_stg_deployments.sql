-- table: stg_deployments
-- grain: one row per deployment attempt of a mapped entity (ArgoCD or GitLab), in any environment
-- reads: raw_deploys_deployment_events, ref_pivots, ref_entities
-- refresh: hourly
--
-- Deployments come from the unified deployment events only (ArgoCD history and failed sync operations,
-- GitLab deployments), never from pipelines: a green pipeline is not a deployment.
-- An ArgoCD application name identifies one environment; a GitLab project serves several, so its events
-- are matched on the environment name too.
-- entity_id is the mapped entity deployed: a component, or an application mapped directly (no component).
-- Its deployment sequence, per environment, is ordered by finished_at, then deployment_key.
-- A rollback redeploys the revision that ran before the one it replaces (flagged at ingestion, or seen
-- here as revision = the revision that ran before the previous successful deployment's, a redeploy of the
-- same revision changing nothing that ran).
-- A successful deployment that is not a rollback was rolled back when the next successful deployment in
-- the sequence is a rollback. next_success_at: when the next successful deployment in the sequence finished.
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
    -- A successful attempt in a struct: null for the other attempts, which the windows skip, while a success
    -- without a revision still counts.
    select
        *,
        case
            when status = 'succeeded'
                then {'revision': revision, 'finished_at': finished_at}
        end as success
    from attributed
),

sequence as (
    -- One window over every attempt: the entity's successful deployment before each attempt, and the next one
    -- after it.
    select
        *,
        case when success is not null then (lag(success ignore nulls) over w).revision end as previous_revision,
        lead(success ignore nulls) over w as next_success
    from successes
    window w as (partition by entity_id, mapped_environment order by finished_at, deployment_key)
),

revisions as (
    -- The successful deployments that changed the revision running (a redeploy of the same one did not): the
    -- second last of them before an attempt put in the revision that ran before the previous one.
    select
        *,
        case
            when success is not null
                then (lag(revision_change, 2 ignore nulls) over w).revision
        end as revision_before_previous
    from (
        select
            *,
            case when success is not null and revision is distinct from previous_revision then success end
                as revision_change
        from sequence
    )
    window w as (partition by entity_id, mapped_environment order by finished_at, deployment_key)
),

placed as (
    select
        *,
        coalesce(is_rollback, false)
        or coalesce(revision = revision_before_previous and revision <> previous_revision, false) as seen_as_rollback
    from revisions
),

followed as (
    -- Whether the next successful deployment in the sequence is a rollback.
    select
        *,
        lead(case when success is not null then seen_as_rollback end ignore nulls) over (
            partition by entity_id, mapped_environment order by finished_at, deployment_key
        ) as next_success_is_rollback
    from placed
)

select
    a.deployment_key,
    a.origin,
    a.source_ref,
    a.entity_id,
    e.app_id,
    e.component_id,
    a.mapped_environment as environment,
    a.revision,
    a.previous_revision,
    a.started_at,
    a.finished_at,
    a.status,
    a.seen_as_rollback as is_rollback,
    a.status = 'succeeded' and not a.seen_as_rollback and coalesce(a.next_success_is_rollback, false) as rolled_back,
    a.next_success.finished_at as next_success_at,
    a.initiated_by
from followed as a
inner join ref_entities as e on a.entity_id = e.entity_id and a.mapped_environment = e.environment
