-- table: mv_incident_links
-- grain: one row per incident and correlation mode, for incidents linked to a deployment
-- reads: stg_incidents, stg_deployments, stg_change_deployments, stg_problems, settled_links, stg_components_deployed_whole, build_params
-- partitioned by: month of opened_at
-- refresh: hourly
--
-- An incident is linked to a deployment only by these rules, each with a stated confidence:
--   change_caused_by       0.95  the incident's caused_by change covers a deployment attempt of the change's
--                                entity (see stg_change_deployments) finished by the time the incident opened,
--                                else the last attempt of that entity finished in the change's window by then;
--                                it may be another application's, and may have failed: the incident names the
--                                change that caused it, whatever the attempt did. An incident no mapping claims
--                                (no application) is linked by this rule alone: the attempt is a change failure
--                                of the change's application, recovered when the incident was restored, while the
--                                incident stays in no application's incidents (its app_id, component_id and
--                                environment here are null)
--   dynatrace_root_cause   0.80  a Dynatrace problem whose root cause is the incident's entity, or the
--                                application of the incident's component, started within full_window_hours after
--                                a deployment of that root (of the application's own or of whichever of its
--                                components deployed, when the root is an application), and the incident opened
--                                while the problem was open (or up to 1 hour after it closed); a problem rooted
--                                in the incident's entity before one rooted in its application
--   change_ci_window       0.70  a change on the incident's CI, covering a deployment, ended within
--                                full_window_hours before the incident opened
--   same_component_window  0.50  the incident opened within full_window_hours after a deployment of its entity
--   same_app_window        0.50  (light mode only) within light_window_hours after a deployment of its application
-- The incident's entity is its component, or its application when the application is mapped directly (its
-- own CI and deployments, no components). An incident on the CI of an application that has components names no
-- component: the component rule finds no deployment of it; the root cause rule does, through a problem rooted in
-- the application, as the change rules do (a change on the application's CI covers its components' attempts, see
-- stg_change_deployments), and light mode's window does. A problem rooted in the application links the incidents on
-- its components too: it is the same outage, whichever of the application's CIs the incident was raised on. A
-- problem rooted in a component follows that component's deployments only, and links its incidents only. A
-- component with no deployment source of its own in the environment (no ArgoCD application nor GitLab project
-- mapped on it there, or only a GitLab project handing its releases to an umbrella ArgoCD application mapped on its
-- application: see stg_components_deployed_whole) is deployed with its application, as a whole: its incidents, the
-- problems rooted in it and the changes on its CI follow the application's own attempts.
-- Every rule takes a deployment finished at or before the incident opened: a later one did not cause it.
-- The root cause, change window and window rules take no rollback (stg_deployments.is_rollback): it ends the outage
-- of the deployment it rolls back, and an incident opened after it about that outage (a second ticket, a problem
-- Dynatrace raised late) is that deployment's. They take the last other successful deployment finished by then (the one
-- rolled back, where the rollback came last), if in their window. The change rules take the attempt the change
-- names, a rollback too.
-- Full mode keeps the most confident link; it counts as a change failure from full_min_confidence up.
-- Light mode ("DORA light") uses the application window alone and counts it. The window is always
-- bounded: an incident long after the last deployment is not a change failure. Incidents with no link
-- stay out of the change failure rate.
-- An hourly build finds again only the links of the incidents opened from the variable links_recent_from on, over
-- the deployments finished from links_deployments_from on; the others' links (settled_links) are those the last
-- build found, which nothing since can have changed (see lakehouse/aggregates/settled_links.py). A daily or full
-- build finds every link: the table is empty and the variables null.
with params as (
    select * from build_params
),

-- The inputs below are read by several rules (the change window rule takes successful attempts only, the
-- change named by an incident any): not materialized, each rule filters the staged table
-- itself (half a million deployments copied once per build cost more than filtering them again).
-- An incident no mapping claims is read when it names its change: that rule alone can link it.
incidents as not materialized (
    select * from stg_incidents where (app_id is not null or caused_by_change_sys_id is not null) and not is_canceled
),

-- The bounds are variables, not build_params columns: a constant lets the scans skip rows, where a subquery made
-- the joins below ten times slower. deployed_entity_id: the entity whose attempts the incident's follow.
recent_incidents as not materialized (
    select i.*, coalesce(w.app_id, i.entity_id) as deployed_entity_id
    from incidents as i
    left join stg_components_deployed_whole as w on i.entity_id = w.entity_id and i.environment = w.environment
    where i.opened_at >= coalesce(getvariable('links_recent_from'), '-infinity'::timestamptz)
),

-- The root cause and window rules' candidates: a rollback is the fix of the outage before it, not a cause (see the
-- header).
candidate_deployments as not materialized (
    select * from stg_deployments where status = 'succeeded' and not is_rollback
),

-- The window rules': none finished before the earliest window of a recent incident. (A problem may have started
-- long before the incident it is the root cause of: that rule reads every one.)
deployments as not materialized (
    select * from candidate_deployments
    where finished_at >= coalesce(getvariable('links_deployments_from'), '-infinity'::timestamptz)
),

-- A change covering a rollback is the fix's, as the rollback is.
change_deployments as not materialized (
    select * from stg_change_deployments
    where
        deployment_status = 'succeeded'
        and deployment_key not in (select deployment_key from stg_deployments where is_rollback)
),

-- The attempt the change covers may have finished after the incident opened (the closest to the change's end, or,
-- while the change is under way, the last so far): then the last in the change's window before the incident
-- stands for it, so that a link found stays found as later attempts come. Every attempt, a failed one too: the
-- evidence is the incident's own record. One equality join per kind of change, as in stg_change_deployments.
by_change as (
    select incident_sys_id, deployment_key, change_sys_id, 'change_caused_by' as rule, 0.95::double as confidence
    from (
        select
            i.sys_id as incident_sys_id,
            d.deployment_key,
            cd.change_sys_id,
            d.finished_at,
            cd.deployment_key as covered_key
        from recent_incidents as i
        inner join stg_change_deployments as cd on i.caused_by_change_sys_id = cd.change_sys_id
        inner join stg_deployments as d
            on
                cd.covered_entity_id = d.entity_id
                and cd.environment = d.environment
                and d.finished_at between cd.covers_from and least(cd.covers_to, i.opened_at)
        union all
        select
            i.sys_id as incident_sys_id,
            d.deployment_key,
            cd.change_sys_id,
            d.finished_at,
            cd.deployment_key as covered_key
        from recent_incidents as i
        inner join stg_change_deployments as cd
            on i.caused_by_change_sys_id = cd.change_sys_id and cd.covered_entity_id is null
        inner join stg_deployments as d
            on
                cd.app_id = d.app_id
                and cd.environment = d.environment
                and d.finished_at between cd.covers_from and least(cd.covers_to, i.opened_at)
    )
    qualify row_number() over (
        partition by incident_sys_id order by deployment_key = covered_key desc, finished_at desc, deployment_key
    ) = 1
),

-- The problems rooted in an incident's entity, or in its application when it is on a component, and open when it
-- opened, with the window a deployment before them finished in. One equality join per root, as below.
rooted as (
    select
        i.sys_id,
        i.deployed_entity_id,
        i.app_id,
        true as in_its_entity,
        pr.component_id is null as rooted_in_application,
        i.environment,
        pr.start_time,
        pr.start_time - to_hours(bp.full_window_hours) as deployed_from
    from recent_incidents as i
    cross join params as bp
    inner join stg_problems as pr
        on
            pr.is_root_cause
            and i.entity_id = pr.entity_id
            and i.environment = pr.environment
            and i.opened_at >= pr.start_time
            and i.opened_at <= coalesce(pr.end_time, i.opened_at) + interval 1 hour
    union all
    select
        i.sys_id,
        i.deployed_entity_id,
        i.app_id,
        false as in_its_entity,
        true as rooted_in_application,
        i.environment,
        pr.start_time,
        pr.start_time - to_hours(bp.full_window_hours) as deployed_from
    from recent_incidents as i
    cross join params as bp
    inner join stg_problems as pr
        on
            pr.is_root_cause
            and pr.component_id is null
            and i.app_id = pr.app_id
            and i.environment = pr.environment
            and i.opened_at >= pr.start_time
            and i.opened_at <= coalesce(pr.end_time, i.opened_at) + interval 1 hour
    where i.component_id is not null
),

-- A problem rooted in a component follows its deployments (its application's, deployed whole), one rooted in an
-- application those of whichever of its components deployed, or its own: one equality join per kind, as an `or` in
-- the join condition would be a nested loop; the window is in the join condition, so that only the deployments in it
-- are joined. A problem rooted in the incident's own component names its cause more closely than one rooted in the
-- application: its deployment is taken first.
by_root_cause as (
    select sys_id as incident_sys_id, deployment_key, null as change_sys_id, 'dynatrace_root_cause' as rule, 0.80::double as confidence
    from (
        select r.sys_id, r.in_its_entity, d.deployment_key, d.finished_at
        from rooted as r
        inner join candidate_deployments as d
            on
                r.deployed_entity_id = d.entity_id
                and r.environment = d.environment
                and d.finished_at between r.deployed_from and r.start_time
        where not r.rooted_in_application
        union all
        select r.sys_id, r.in_its_entity, d.deployment_key, d.finished_at
        from rooted as r
        inner join candidate_deployments as d
            on
                r.app_id = d.app_id
                and r.environment = d.environment
                and d.finished_at between r.deployed_from and r.start_time
        where r.rooted_in_application
    )
    qualify row_number() over (partition by sys_id order by in_its_entity desc, finished_at desc, deployment_key) = 1
),

-- Mapped incidents only: one no mapping claims is linked by the change it names alone, even on the CI of a change
-- attributed by its business service.
by_change_ci as (
    select i.sys_id as incident_sys_id, cd.deployment_key, cd.change_sys_id, 'change_ci_window' as rule, 0.70::double as confidence
    from recent_incidents as i
    cross join params as bp
    inner join change_deployments as cd
        on
            i.cmdb_ci_sys_id = cd.cmdb_ci_sys_id
            and cd.change_end <= i.opened_at
            and cd.deployed_at <= i.opened_at
            and cd.change_end >= i.opened_at - to_hours(bp.full_window_hours)
    where i.app_id is not null
    qualify row_number() over (partition by i.sys_id order by cd.change_end desc, cd.deployment_key) = 1
),

-- The window rules take the last deployment finished at or before the incident opened (an ASOF join, one
-- lookup per incident rather than every deployment of the component or application), then check the
-- window. Of deployments finished at the same instant, the smallest key stands for them: the ASOF join would
-- take any of them, so the match is joined back to its instant's deployments.
by_component_window as (
    select i.sys_id as incident_sys_id, min(tied.deployment_key) as deployment_key, null as change_sys_id, 'same_component_window' as rule, 0.50::double as confidence
    from recent_incidents as i
    cross join params as bp
    asof inner join deployments as d
        on
            i.deployed_entity_id = d.entity_id
            and i.environment = d.environment
            and i.opened_at >= d.finished_at
    inner join deployments as tied
        on tied.entity_id = d.entity_id and tied.environment = d.environment and tied.finished_at = d.finished_at
    where i.opened_at <= d.finished_at + to_hours(bp.full_window_hours)
    group by i.sys_id
),

by_app_window as (
    select i.sys_id as incident_sys_id, min(tied.deployment_key) as deployment_key, null as change_sys_id, 'same_app_window' as rule, 0.50::double as confidence
    from recent_incidents as i
    cross join params as bp
    asof inner join deployments as d
        on
            i.app_id = d.app_id
            and i.environment = d.environment
            and i.opened_at >= d.finished_at
    inner join deployments as tied
        on tied.app_id = d.app_id and tied.environment = d.environment and tied.finished_at = d.finished_at
    where i.opened_at <= d.finished_at + to_hours(bp.light_window_hours)
    group by i.sys_id
),

full_links as (
    select 'full' as correlation_mode, *
    from (
        select * from by_change
        union all
        select * from by_root_cause
        union all
        select * from by_change_ci
        union all
        select * from by_component_window
    )
    qualify row_number() over (partition by incident_sys_id order by confidence desc, rule) = 1
),

links as (
    select * from full_links
    union all
    select 'light' as correlation_mode, * from by_app_window
    union all
    -- The carried links: those of the incidents read (not canceled; mapped, or naming their change) opened before
    -- links_recent_from, so never of an incident found again above.
    select * from settled_links
)

select
    l.correlation_mode,
    l.incident_sys_id,
    i.number as incident_number,
    i.priority,
    l.deployment_key,
    l.change_sys_id,
    l.rule,
    l.confidence,
    l.correlation_mode = 'light' or l.confidence >= bp.full_min_confidence as counts_as_change_failure,
    i.app_id,
    i.component_id,
    i.environment,
    i.opened_at,
    i.restored_at,
    d.finished_at as deployed_at,
    (epoch(i.opened_at) - epoch(d.finished_at)) / 3600.0 as hours_after_deployment
from links as l
cross join params as bp
inner join incidents as i on l.incident_sys_id = i.sys_id
-- Every attempt: a change named by the incident may cover a failed one.
inner join stg_deployments as d on l.deployment_key = d.deployment_key
