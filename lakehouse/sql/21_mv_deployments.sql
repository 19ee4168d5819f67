-- table: mv_deployments
-- grain: one row per deployment attempt of a mapped entity, with its DORA flags in both correlation modes
-- reads: stg_deployments, mv_incident_links, stg_change_deployments, deployments_found_again, build_params
-- partitioned by: month of finished_at
-- refresh: hourly
-- counted on days of: finished_at
-- counted with: app_id, environment, day, status, is_change_failure_full
--
-- A deployment attempt is a change failure when it failed, when it was rolled back (see stg_deployments),
-- when it is linked to an incident that counts (see mv_incident_links), or when the change covering it
-- failed (stg_changes.is_failed: closed 'unsuccessful', or with a close code ROSETTA_FAILED_CLOSE_CODES lists).
-- Each only once it has happened, before as_of: a rollback finished, an incident opened or
-- a change's work ended after as_of, ingested ahead of the build, has not failed the attempt yet.
-- recovered_at: for a failed or rolled-back attempt, or one whose change failed, the next
-- successful deployment in the entity's sequence (see stg_deployments); for an incident link, when the
-- incident was restored (the later of the two when both apply: neither alone recovers it). Null while not
-- recovered at as_of: a success or a restoration after as_of, ingested ahead of the build, has not happened
-- yet (as MTTR counts only incidents restored before as_of).
-- Rework (DORA's fifth metric): an unplanned deployment made to fix production: a rollback, a deployment covered
-- by an emergency change, or a fix forward: the next successful deployment after a change failure one of whose
-- incidents (full correlation) had opened and was not yet restored when it finished, made because of that incident.
-- web_url: a GitLab deployment's link, its pipeline's page as GitLab gave it (null for ArgoCD: the API makes its link).
-- source_environment: a GitLab deployment's environment as GitLab names it (production/eu), which says which region of
-- a folder it went to (null for ArgoCD, whose application deploys one environment).
with params as (
    select as_of from build_params
),

deployments as (
    -- A failure is recovered only by a success before as_of (see incidents_restored below for restorations), and
    -- an attempt is rolled back by a rollback before as_of (the rollback is the next success).
    select
        d.* replace (
            case when d.next_success_at < p.as_of then d.next_success_at end as next_success_at,
            case when d.next_success_at < p.as_of then d.next_success_key end as next_success_key,
            d.rolled_back and d.next_success_at < p.as_of as rolled_back
        )
    from stg_deployments as d
    cross join params as p
    -- An hourly build may carry the stored rows of the settled attempts nothing since can have moved: it finds the
    -- rows of those finished from deployment_rows_from on and of those found again, and reads only their links,
    -- changes and fixes forward below (see lakehouse/aggregates/settled_deployment_rows.py). The variable is null
    -- otherwise: every row is found.
    where
        coalesce(d.finished_at >= getvariable('deployment_rows_from'), true)
        or d.deployment_key in (select deployment_key from deployments_found_again)
),

incident_links as (
    select
        l.deployment_key,
        l.correlation_mode,
        bool_or(l.counts_as_change_failure) as caused_incident,
        max(l.restored_at) filter (where l.counts_as_change_failure) as incident_restored_at,
        bool_and(coalesce(l.restored_at < p.as_of, false)) filter (where l.counts_as_change_failure)
            as incidents_restored,
        -- Sorted once made: an ordered aggregate sorts each group's rows, 7 % of the file's time on the bench lake.
        list_sort(list(l.incident_number) filter (where l.counts_as_change_failure)) as incident_numbers
    from mv_incident_links as l
    cross join params as p
    where
        l.opened_at < p.as_of
        and (
            coalesce(l.deployed_at >= getvariable('deployment_rows_from'), true)
            or l.deployment_key in (select deployment_key from deployments_found_again)
        )
    group by l.deployment_key, l.correlation_mode
),

fixes_forward as (
    -- The next success after a change failure one of whose incidents was open when it finished (opened before it,
    -- restored after it or not yet): a deployment made because of that incident. Each incident is checked on its own:
    -- one restored before the success and another opened after it leave none open then. From the staged table, not
    -- `deployments`: a CTE read twice is copied whole, half a million attempts.
    select distinct d.next_success_key as deployment_key
    from stg_deployments as d
    inner join mv_incident_links as l on d.deployment_key = l.deployment_key and l.correlation_mode = 'full'
    where
        l.counts_as_change_failure
        and d.next_success_at < (select as_of from params)
        and l.opened_at <= d.next_success_at
        and coalesce(l.restored_at > d.next_success_at, true)
        and (
            coalesce(d.next_success_at >= getvariable('deployment_rows_from'), true)
            or d.next_success_key in (select deployment_key from deployments_found_again)
        )
),

change_cover as (
    select
        deployment_key,
        -- Its close code is the change's outcome once its work has ended.
        coalesce(bool_or(change_unsuccessful) filter (where change_end < (select as_of from params)), false)
            as change_unsuccessful,
        bool_or(emergency_change) as emergency_change,
        list_sort(list(change_number)) as change_numbers
    from stg_change_deployments
    where
        coalesce(deployed_at >= getvariable('deployment_rows_from'), true)
        or deployment_key in (select deployment_key from deployments_found_again)
    group by deployment_key
)

select
    d.deployment_key,
    d.origin,
    d.source_ref,
    d.app_id,
    d.component_id,
    d.environment,
    d.revision,
    d.previous_revision,
    d.started_at,
    d.finished_at,
    utc_day(d.finished_at) as day,
    d.status,
    d.is_rollback,
    d.initiated_by,
    d.web_url,
    d.source_environment,
    coalesce(d.rolled_back, false) as rolled_back,
    coalesce(c.change_unsuccessful, false) as change_unsuccessful,
    c.change_numbers,
    coalesce(lf.caused_incident, false) as caused_incident_full,
    coalesce(ll.caused_incident, false) as caused_incident_light,
    lf.incident_numbers as incident_numbers_full,
    ll.incident_numbers as incident_numbers_light,
    d.status = 'failed' or coalesce(d.rolled_back, false) or coalesce(c.change_unsuccessful, false) as failed_without_incident,
    -- failed_without_incident is the column just above (DuckDB reads a select list's aliases in order).
    failed_without_incident or coalesce(lf.caused_incident, false) as is_change_failure_full,
    failed_without_incident or coalesce(ll.caused_incident, false) as is_change_failure_light,
    case
        when lf.caused_incident and not lf.incidents_restored then null
        when failed_without_incident and d.next_success_at is null then null
        else greatest(
            case when failed_without_incident then d.next_success_at end,
            case when lf.caused_incident then lf.incident_restored_at end
        )
    end as recovered_at_full,
    case
        when ll.caused_incident and not ll.incidents_restored then null
        when failed_without_incident and d.next_success_at is null then null
        else greatest(
            case when failed_without_incident then d.next_success_at end,
            case when ll.caused_incident then ll.incident_restored_at end
        )
    end as recovered_at_light,
    d.is_rollback or coalesce(c.emergency_change, false) or f.deployment_key is not null as is_rework
from deployments as d
left join change_cover as c on d.deployment_key = c.deployment_key
left join fixes_forward as f on d.deployment_key = f.deployment_key
left join incident_links as lf on d.deployment_key = lf.deployment_key and lf.correlation_mode = 'full'
left join incident_links as ll on d.deployment_key = ll.deployment_key and ll.correlation_mode = 'light'
