-- table: stg_change_deployments
-- grain: one row per change request that covers a deployment attempt of its component or application
-- reads: stg_changes, stg_deployments, stg_components_deployed_whole, build_params
-- refresh: hourly
--
-- A change covers one attempt of its entity, in its environment, finished within its work window widened by one hour
-- on each side, and before as_of (an attempt finished then or later, ingested ahead of the build, has not finished
-- yet, as a period ends before as_of): of those, one within the change's work before one in the hour either side, then
-- one that is no rollback before a rollback (stg_deployments flags it), then the one finished closest to the change's
-- end. A release rolled back within its change's work, the change then closed unsuccessful, is what failed, and the
-- rollback, though nearer the change's end, is its fix; a change whose work is the rollback alone (an emergency change
-- rolling back a release made before it) covers the rollback. A change on a component's CI covers that component's
-- attempts, one on the application's own CI the application's, whichever of its components deployed (or its own when
-- the application is mapped directly). A component with no deployment source of its own in the environment (no ArgoCD
-- application nor GitLab project mapped on it there, or only a GitLab project handing its releases to an umbrella
-- ArgoCD application mapped on its application: see stg_components_deployed_whole) is deployed with its application,
-- as a whole: a change on its CI covers the application's own attempts. One attempt per change, so a failed change
-- (stg_changes.is_failed) fails that attempt alone. A canceled change covers nothing. A change under way has no end
-- yet (see stg_changes): its window runs to as_of, without the hour of slack, and it covers the attempt finished
-- closest to as_of, the last so far. The row also gives the window (covers_from, covers_to), its environment and the
-- entity whose attempts it covers (covered_entity_id; null for a change on the application's own CI, which covers any
-- of app_id's): an incident naming the change that opened before the attempt covered finished is linked to the last
-- attempt in that window before it (see mv_incident_links).
with changes as (
    -- The window a covered attempt finished in, the instant it is closest to, and whose attempts a change on a
    -- component covers.
    select
        c.*,
        bp.as_of as attempts_before,
        c.change_start - interval 1 hour as covers_from,
        coalesce(c.change_end + interval 1 hour, bp.as_of) as covers_to,
        coalesce(c.change_end, bp.as_of) as closest_to,
        case when c.component_id is not null then coalesce(w.app_id, c.entity_id) end as covered_entity_id
    from stg_changes as c
    cross join build_params as bp
    left join stg_components_deployed_whole as w on c.entity_id = w.entity_id and c.environment = w.environment
    where not c.is_canceled
),

-- One equality join per kind of change, as an `or` in the join condition would be a nested loop; the window is in
-- the join condition, so that only the attempts in it are joined.
candidates as (
    select c.*, d.deployment_key, d.status, d.finished_at, d.is_rollback
    from changes as c
    inner join stg_deployments as d
        on
            c.covered_entity_id = d.entity_id
            and c.environment = d.environment
            and d.finished_at between c.covers_from and c.covers_to
    where c.covered_entity_id is not null and d.finished_at < c.attempts_before
    union all
    select c.*, d.deployment_key, d.status, d.finished_at, d.is_rollback
    from changes as c
    inner join stg_deployments as d
        on
            c.app_id = d.app_id
            and c.environment = d.environment
            and d.finished_at between c.covers_from and c.covers_to
    where c.covered_entity_id is null and d.finished_at < c.attempts_before
)

select
    c.sys_id as change_sys_id,
    c.number as change_number,
    c.cmdb_ci_sys_id,
    c.change_end,
    c.is_failed as change_unsuccessful,
    c.type = 'emergency' as emergency_change,
    c.deployment_key,
    c.status as deployment_status,
    c.finished_at as deployed_at,
    c.app_id,
    c.environment,
    c.covered_entity_id,
    c.covers_from,
    c.covers_to
from candidates as c
qualify row_number() over (
    partition by c.sys_id
    order by
        c.finished_at between c.change_start and c.closest_to desc,
        c.is_rollback,
        abs(epoch(c.finished_at) - epoch(c.closest_to)),
        c.deployment_key
) = 1
