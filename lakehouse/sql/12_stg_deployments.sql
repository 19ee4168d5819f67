-- table: stg_deployments
-- grain: one row per deployment attempt of a mapped entity (ArgoCD or GitLab), in any environment
-- reads: raw_deploys_deployment_events, settled_deployment_events, settled_successes, ref_pivots, ref_entities, build_params
-- refresh: hourly
--
-- Deployments come from the unified deployment events only (ArgoCD history and failed sync operations,
-- GitLab deployments), never from pipelines: a green pipeline is not a deployment.
-- An ArgoCD application name identifies one environment; a GitLab project serves several, so its events
-- are matched on the environment name too.
-- Where ArgoCD deploys an entity (its ArgoCD application mapped on it in that environment), its deployments there
-- are ArgoCD's alone from a day before ArgoCD's first deployment of it on: a GitLab deployment of its project to
-- that environment is then the pipeline's hand-off to GitOps (a commit to the repository ArgoCD syncs from), not a
-- rollout, and counting both would count each release twice (macro gitlab_hand_off). An application whose
-- components ArgoCD deploys there is deployed by ArgoCD from the first of their first deployments: a GitLab project
-- mapped on the application (a monorepo) hands its releases to their syncs. Components of an application ArgoCD
-- deploys itself there (an umbrella ArgoCD application mapped on the application) are deployed by ArgoCD from its
-- first deployment: a GitLab project mapped on a component hands its releases to the umbrella's syncs, which roll
-- the component out with its application (see stg_components_deployed_whole). Every GitLab deployment in the day
-- before that first deployment is left out, a failed one or one of another revision too (see the macro for why).
-- The hand-off still tells lead time which requests the next sync ships (see mv_lead_times). GitLab's deployments
-- before that day (before a move to GitOps, or before the oldest sync ArgoCD's history still held when first
-- read), and all of them where the application named has never deployed, are the deployments known.
-- entity_id is the mapped entity deployed: a component, or an application mapped directly (no component).
-- Its deployment sequence, per environment, is ordered by finished_at, then deployment_key. A GitLab environment
-- in a folder is a sequence of its own (sequence_environment: GitLab's name lower-cased, production/eu apart from
-- production/us, regions that deploy each in its own time); ArgoCD's events, and GitLab's to an environment named
-- like the mapping's, follow the environment's sequence (sequence_environment is the mapping's environment).
-- A rollback puts back a revision older than the one it replaces (flagged at ingestion, for GitLab also a commit
-- made before the running one's that ships no merge request; or seen here: a
-- successful deployment of another revision than the previous successful one's, whose first successful
-- deployment in the sequence came before that revision's: a region catching up with a release the other moved past
-- puts back nothing it ran). Putting back the revision a rollback left is a
-- roll forward, not a rollback; a redeploy of the same revision changes nothing that ran.
-- A successful deployment that is not a rollback was rolled back when the next successful deployment in
-- the sequence is a rollback. next_success_at, next_success_key: when the next successful deployment in the
-- sequence finished, and which it is. is_redeploy: a successful deployment of a revision whose first successful
-- deployment came earlier in the environment, in any of its sequences (a resync, a rollback, a roll forward to a
-- revision that already ran, a region catching up with the other): what it runs had run before.
-- An hourly build attributes only the attempts from each sequence's first one a later attempt can still change
-- (lakehouse/aggregates/settled_deployments.py): those finished from deployments_recent_from on, those before it the last daily
-- or full build carried (settled_deployment_events, with the success before them), and it takes from that build
-- when each revision first ran from its successes (settled_successes). A daily or full build attributes every
-- attempt: the two are empty and the bound null.
with events as (
    select *
    from (
        select *
        from raw_deploys_deployment_events
        where finished_at >= coalesce(
            (select cast(deployments_recent_from as timestamptz) from build_params), '-infinity'::timestamptz
        )
        union all by name
        select * from settled_deployment_events
    )
    -- One row per deployment: an ingest run stopped while it moved a deployment to another day (its finish given
    -- again) leaves it in both days until the next run. Either row counts it once; the later finish is kept.
    qualify row_number() over (partition by deployment_key order by finished_at desc) = 1
),

argocd_first as (
    -- When ArgoCD first deployed each entity it deploys, in that environment.
    select p.entity_id, p.environment, min(d.finished_at) as since
    from events as d
    inner join ref_pivots as p on p.pivot_kind = 'argocd_app' and p.value = d.source_ref
    where d.origin = 'argocd'
    group by p.entity_id, p.environment
),

argocd_since as (
    -- The same for an application whose components ArgoCD deploys there: the first of their first deployments, since
    -- a project mapped on the application (a monorepo) hands its releases to their syncs. And for the components of
    -- an application ArgoCD deploys itself there: a project mapped on a component hands its releases to the
    -- application's syncs.
    select entity_id, environment, min(since) as since
    from (
        select entity_id, environment, since from argocd_first
        union all
        select e.app_id, f.environment, f.since
        from argocd_first as f
        inner join ref_entities as e on f.entity_id = e.entity_id and f.environment = e.environment
        where e.component_id is not null
        union all
        select c.entity_id, f.environment, f.since
        from argocd_first as f
        inner join ref_entities as c on f.entity_id = c.app_id and f.environment = c.environment
        where c.component_id is not null
    )
    group by entity_id, environment
),

attributed as (
    select
        d.*,
        p.entity_id,
        p.environment as mapped_environment,
        coalesce(lower(d.source_environment), p.environment) as sequence_environment
    from events as d
    inner join ref_pivots as p
        on
            (d.origin = 'argocd' and p.pivot_kind = 'argocd_app' and p.value = d.source_ref)
            or (
                d.origin = 'gitlab' and p.pivot_kind = 'gitlab_project' and p.value = d.source_ref
                and p.environment = d.environment
            )
    left join argocd_since as a on p.entity_id = a.entity_id and p.environment = a.environment
    -- GitLab's hand-offs to ArgoCD left out.
    where d.origin = 'argocd' or not gitlab_hand_off(d.finished_at, a.since)
),

sequence_firsts as materialized (
    -- When each revision first ran in the sequence: its first successful deployment there (first_in_sequence, which
    -- rollbacks compare), ordered as the sequence is (finished_at, then deployment_key), so that of two revisions
    -- first deployed at the same instant the one the sequence runs first came before the other.
    select entity_id, mapped_environment, sequence_environment, revision, min(first_run) as first_in_sequence
    from (
        select
            entity_id,
            mapped_environment,
            sequence_environment,
            revision,
            {'finished_at': finished_at, 'deployment_key': deployment_key} as first_run
        from attributed
        where status = 'succeeded' and revision is not null
        union all
        -- Those of the revisions attributed again only.
        select
            f.entity_id,
            f.environment,
            f.sequence_environment,
            f.revision,
            {'finished_at': f.finished_at, 'deployment_key': f.deployment_key}
        from settled_successes as f
        semi join attributed as a
            on f.entity_id = a.entity_id and f.environment = a.mapped_environment and f.revision = a.revision
    )
    group by entity_id, mapped_environment, sequence_environment, revision
),

first_deployed as (
    -- And when it first ran in the environment, in any of its sequences (first_run, which tells a redeploy). Grouped
    -- and joined back rather than a window: a window over one partition per revision took several times as long.
    select s.*, r.first_run
    from sequence_firsts as s
    inner join (
        select entity_id, mapped_environment, revision, min(first_in_sequence) as first_run
        from sequence_firsts
        group by entity_id, mapped_environment, revision
    ) as r
        on s.entity_id = r.entity_id and s.mapped_environment = r.mapped_environment and s.revision = r.revision
),

successes as (
    -- A successful attempt in a struct, with when its revision first ran in the sequence and whether ingestion
    -- flagged it a rollback: null for the other attempts, which the window skips, while a success without a
    -- revision still counts. The environment's first run stays out of the struct the windows carry (it only
    -- tells this attempt a redeploy).
    select
        a.*,
        case
            when a.status = 'succeeded'
                then {
                    'deployment_key': a.deployment_key,
                    'revision': a.revision,
                    'finished_at': a.finished_at,
                    'first_in_sequence': f.first_in_sequence,
                    'is_rollback': coalesce(a.is_rollback, false)
                }
        end as success,
        case when a.status = 'succeeded' then f.first_run.deployment_key end as first_run_key
    from attributed as a
    left join first_deployed as f
        on
            a.entity_id = f.entity_id
            and a.mapped_environment = f.mapped_environment
            and a.sequence_environment = f.sequence_environment
            and a.revision = f.revision
),

sequence as (
    -- One window over every attempt: the last successful deployment before it, and the next one after it.
    select
        *,
        lag(success ignore nulls) over w as success_before,
        lead(success ignore nulls) over w as next_success
    from successes
    window w as (partition by entity_id, mapped_environment, sequence_environment order by finished_at, deployment_key)
),

followed as (
    -- The next success's own previous success is the last success at or before this attempt (none lies
    -- between them), so whether it is a rollback is known here without a second window. A success is compared
    -- with the one before it (for any other attempt `success` is null, and so is the comparison).
    select
        *,
        case when success is not null then success_before.revision end as previous_revision,
        coalesce(is_rollback, false)
        or coalesce(
            revision <> success_before.revision
            and success.first_in_sequence < success_before.first_in_sequence,
            false
        ) as seen_as_rollback,
        next_success.is_rollback
        or coalesce(
            next_success.revision <> coalesce(success, success_before).revision
            and next_success.first_in_sequence < coalesce(success, success_before).first_in_sequence,
            false
        ) as next_success_is_rollback
    from sequence
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
    a.next_success.deployment_key as next_success_key,
    coalesce(a.first_run_key <> a.deployment_key, false) as is_redeploy,
    a.initiated_by,
    a.web_url,
    a.source_environment,
    a.sequence_environment
from followed as a
inner join ref_entities as e on a.entity_id = e.entity_id and a.mapped_environment = e.environment
