-- table: mv_lead_times
-- grain: one row per merged merge request and environment, with the deployment that shipped it
-- reads: stg_merge_requests, stg_deployments, stg_deploy_branches, stg_components_deployed_whole, settled_lead_times, raw_deploys_deployment_events, ref_entities, ref_pivots, raw_gitlab_deployment_merge_requests, build_params
-- partitioned by: month of merged_at
-- refresh: hourly
--
-- Change lead time = shipping deployment finished_at - merged_at. The shipping deployment is a successful,
-- non-rollback deployment of what the request's project is mapped on in that environment, started at or after the
-- merge (and so finished after it): one started before runs a revision chosen then (an ArgoCD sync resolves its
-- revision when it starts, a GitLab job deploys its pipeline's commit), which cannot hold the request. Where the
-- start is unknown (an ArgoCD history entry too old to give it) or after the finish, the finish stands for it. The
-- deployments are a component's own, and its application's own where the component is deployed with it (an
-- umbrella ArgoCD application mapped on the application, the component's project handing its releases to it: see
-- stg_components_deployed_whole); an application's, and its components' (a monorepo: one project mapped
-- on the application, each component deployed by its own ArgoCD app, say). A project is mapped
-- on one entity per environment, so a request has one row per environment, and a team, group or domain counts it
-- once. The shipping deployment is found by the first rule that applies (match_rule):
--   'deployment link': the earliest one GitLab lists the request among the merge requests it shipped;
--   'gitops hand-off': else, where GitLab lists the request in a deployment of its project that handed the release
--   to ArgoCD (made once ArgoCD deploys the entity there, one of its components for a project mapped on an
--   application, or its application for a project mapped on a component; no deployment itself: see
--   stg_deployments), the first one
--   at or after the earliest such hand-off whose merge requests are unknown (the sync that followed). Until one
--   follows, the request is not deployed, even if a sync came between its merge and its hand-off. A hand-off held
--   on two days (an ingest run stopped while it moved it) counts at its later finish, as stg_deployments keeps it;
--   'first deployment after merge': else the first one after the merge whose merge requests are unknown (an
--   ArgoCD sync, a GitLab deployment with no list). A GitLab deployment that lists other requests did not
--   ship this one, nor did a redeploy of a revision that had already run (see stg_deployments: a resync of the
--   revision running, or a roll forward, after a rollback, to one first deployed before the merge, which cannot
--   hold it).
-- Only requests merged into a branch the project deploys from count: one into a feature branch, or a release
-- branch never deployed, ships nothing itself (the request merging that branch on does). A project's branches in
-- an environment are the refs of its successful GitLab deployments there (hand-offs included) that some of its
-- requests target, else (a project deployed by ArgoCD alone, or from tags) its default branch (stg_deploy_branches).
-- Where neither is known (requests read before default branches were), or a request's target branch is not, it
-- counts.
-- Of deployments finished at the same instant, the one first in the deployment sequence (the smallest
-- deployment_key, as stg_deployments orders ties) ships the request, so that every build picks the same one.
-- Requests not deployed yet have no row, nor have those shipped by a deployment finished after as_of (ingested
-- ahead of the build): DORA counts them once they are deployed.
-- An hourly build finds again only the lead times a later deployment can still change: not those of
-- settled_lead_times, over the deployments finished from lead_times_recent_from on (see
-- lakehouse/aggregates/settled_lead_times.py). Where it carried the older requests, stg_merge_requests holds only
-- the requests whose lead time is not settled, and settled_lead_times is empty. A daily or full build finds every
-- one: the table is empty and the bound null.
-- mr_iid, title and mr_url (the request's page as GitLab gives it, null where unknown) say which request it is: the
-- API lists the requests behind a lead time with them.
with shipping as (
    select
        deployment_key,
        entity_id,
        app_id,
        environment,
        least(started_at, finished_at) as started_at,
        finished_at,
        is_redeploy
    from stg_deployments
    where
        status = 'succeeded' and not is_rollback and finished_at < (select as_of from build_params)
        and finished_at
        >= coalesce((select cast(lead_times_recent_from as timestamptz) from build_params), '-infinity'::timestamptz)
),

-- What a request ships on (ships_on): its component's deployments (and its application's own, for a component
-- deployed with it), or its application's and every one of its components'. A deployment is found under its entity,
-- under its application ('app:<id>') where some request ships on the application (a project mapped on it), and an
-- application's own under each of its components deployed with it that some request ships on: elsewhere those rows
-- would double what is joined and sorted.
deployments as (
    select deployment_key, entity_id as ships_on, environment, started_at, finished_at, is_redeploy from shipping
    union all
    select deployment_key, 'app:' || app_id, environment, started_at, finished_at, is_redeploy from shipping
    where app_id in (select m.app_id from stg_merge_requests as m where m.component_id is null)
    union all
    select s.deployment_key, w.entity_id, s.environment, s.started_at, s.finished_at, s.is_redeploy
    from shipping as s
    inner join stg_components_deployed_whole as w on s.entity_id = w.app_id and s.environment = w.environment
    where w.entity_id in (select m.entity_id from stg_merge_requests as m)
),

requests as (
    select
        m.mr_id,
        m.project_id,
        m.app_id,
        m.component_id,
        m.entity_id,
        m.environment,
        m.merged_at,
        m.mr_iid,
        m.title,
        m.web_url as mr_url,
        case when m.component_id is null then 'app:' || m.app_id else m.entity_id end as ships_on
    from stg_merge_requests as m
    anti join settled_lead_times as s on m.mr_id = s.mr_id and m.environment = s.environment
    left join stg_deploy_branches as b on cast(m.project_id as varchar) = b.project_id and m.environment = b.environment
    where counts_for_lead_time(m.target_branch, b.branches, b.default_branch)
),

-- GitLab deployments are keyed 'gitlab:<deployment id>' by the deployment events' ingest.
links as (
    select distinct mr_id, 'gitlab:' || deployment_id as deployment_key
    from raw_gitlab_deployment_merge_requests
),

linked as (
    select
        m.*,
        d.deployment_key,
        d.finished_at as deployed_at,
        'deployment link' as match_rule
    from requests as m
    inner join links as l on m.mr_id = l.mr_id
    inner join deployments as d
        on
            l.deployment_key = d.deployment_key
            and m.ships_on = d.ships_on
            and m.environment = d.environment
            and m.merged_at <= d.started_at
    qualify row_number() over (
        partition by m.mr_id, m.entity_id, m.environment order by d.finished_at, d.deployment_key
    ) = 1
),

unlisted as (
    select d.ships_on, d.environment, d.deployment_key, d.started_at, d.finished_at
    from deployments as d
    anti join links as l on d.deployment_key = l.deployment_key
    where not d.is_redeploy
),

-- For each instant one started at, the first (by finish, then key) of those started then or later: an ASOF join on
-- the start finds, for an instant, the first started after it, and with it the first of all those that did. One
-- row per instant, as an ASOF join would take any of its rows.
first_started_from as (
    select
        ships_on,
        environment,
        started_at,
        min(earliest) over (
            partition by ships_on, environment order by started_at desc rows unbounded preceding
        ) as earliest
    from (
        select
            ships_on,
            environment,
            started_at,
            min({'finished_at': finished_at, 'deployment_key': deployment_key}) as earliest
        from unlisted
        group by ships_on, environment, started_at
    )
),

-- One row per instant one finished at, with those finished then in the sequence's order (an ASOF join would take
-- any of them).
finished_at_instant as (
    select
        ships_on,
        environment,
        finished_at,
        list({'deployment_key': deployment_key, 'started_at': started_at} order by deployment_key) as tied
    from unlisted
    group by ships_on, environment, finished_at
),

-- The deployments listing the requests, each once, as stg_deployments keeps it: an ingest run stopped while it moved
-- one to another day leaves it in both until the next run, and the later finish counts.
listing as (
    select deployment_key, origin, source_ref, environment, status, finished_at
    from raw_deploys_deployment_events
    where deployment_key in (select l.deployment_key from links as l semi join requests as m on l.mr_id = m.mr_id)
    qualify row_number() over (partition by deployment_key order by finished_at desc) = 1
),

-- The hand-offs (macro gitlab_hand_off) and the requests each lists that were merged before it finished: each
-- request with its earliest.
argocd_first as (
    select entity_id, app_id, component_id, environment, min(finished_at) as since
    from stg_deployments
    where origin = 'argocd'
    group by all
),

argocd_since as (
    -- An application's from its components' syncs too, and a component's from its application's own, as
    -- stg_deployments takes them.
    select entity_id, environment, min(since) as since
    from (
        select entity_id, environment, since from argocd_first
        union all
        select app_id, environment, since from argocd_first where component_id is not null
        union all
        select c.entity_id, f.environment, f.since
        from argocd_first as f
        inner join ref_entities as c on f.entity_id = c.app_id and f.environment = c.environment
        where f.component_id is null and c.component_id is not null
    )
    group by entity_id, environment
),

handed_off as (
    select m.*, min(h.finished_at) as handed_off_at
    from requests as m
    inner join links as l on m.mr_id = l.mr_id
    inner join listing as h on l.deployment_key = h.deployment_key
    inner join ref_pivots as p
        on
            p.pivot_kind = 'gitlab_project' and p.value = h.source_ref and p.environment = h.environment
            and p.entity_id = m.entity_id and p.environment = m.environment
    inner join argocd_since as a on p.entity_id = a.entity_id and p.environment = a.environment
    where
        h.origin = 'gitlab' and h.status = 'succeeded' and m.merged_at <= h.finished_at
        and gitlab_hand_off(h.finished_at, a.since)
    group by all
),

-- The first finished at or after the hand-off, of those started at or after the merge: the first to finish then,
-- else the first of those started at or after the hand-off. (One started between the merge and the hand-off that
-- finished after the first to finish then, which started before the merge, is not seen: an ArgoCD application runs
-- one sync at a time.)
after_handoff as (
    select
        m.* exclude (handed_off_at, tied_at, tied_key, earliest, shipping),
        m.shipping.deployment_key,
        m.shipping.finished_at as deployed_at,
        'gitops hand-off' as match_rule
    from (
        select
            *,
            least(
                case when tied_key is not null then {'finished_at': tied_at, 'deployment_key': tied_key} end, earliest
            ) as shipping
        from (
            select
                m.*,
                f.finished_at as tied_at,
                list_filter(f.tied, lambda x: x.started_at >= m.merged_at)[1].deployment_key as tied_key,
                s.earliest
            from handed_off as m
            asof left join finished_at_instant as f
                on
                    m.ships_on = f.ships_on
                    and m.environment = f.environment
                    and m.handed_off_at <= f.finished_at
            asof left join first_started_from as s
                on
                    m.ships_on = s.ships_on
                    and m.environment = s.environment
                    and m.handed_off_at <= s.started_at
        )
    ) as m
    where m.shipping is not null
),

after_merge as (
    select
        m.*,
        d.earliest.deployment_key,
        d.earliest.finished_at as deployed_at,
        'first deployment after merge' as match_rule
    from (
        select r.* from requests as r
        anti join handed_off as h on r.mr_id = h.mr_id and r.entity_id = h.entity_id and r.environment = h.environment
    ) as m
    asof inner join first_started_from as d
        on
            m.ships_on = d.ships_on
            and m.environment = d.environment
            and m.merged_at <= d.started_at
),

-- The few requests a deployment lists are probed against every request shipped after its merge.
shipped as (
    select * from linked
    union all
    select * from after_handoff as a
    where not exists (
        select 1 from linked as l
        where l.mr_id = a.mr_id and l.entity_id = a.entity_id and l.environment = a.environment
    )
    union all
    select * from after_merge as a
    where not exists (
        select 1 from linked as l
        where l.mr_id = a.mr_id and l.entity_id = a.entity_id and l.environment = a.environment
    )
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
    match_rule,
    mr_iid,
    title,
    mr_url
from shipped
