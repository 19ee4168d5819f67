-- table: stg_changes
-- grain: one row per ServiceNow change request (its version at as_of), attributed through its CI (id or name,
-- production first, then id before name), else its business service (id), as an incident is (servicenow_owner)
-- reads: raw_servicenow_changes, settled_change_versions, ref_pivots, ref_entities, build_params
-- refresh: hourly
--
-- Closed (state 3) and Canceled (4) are its final states: a canceled change was never implemented, so it is
-- not closed and covers no deployment. A change failed when it closed (state 3) with a close code that means a
-- failed change (build_params.failed_close_codes, ROSETTA_FAILED_CLOSE_CODES: 'unsuccessful' unless the instance
-- lists its own too, such as 'rolled_back'), compared trimmed and in any case, whatever code a change not closed
-- carries; another code an instance added (neither 'successful', 'successful_issues' nor 'unsuccessful') is kept as
-- read and fails nothing: mv_changes_app_day counts it apart. Its time is the actual
-- work window when known, else the planned one: change_start is the work start, else the planned start, or the work
-- end when that came earlier, else (neither a start nor a work end recorded) the planned end: such a change is an
-- instant at its planned end, else it would be on no day and cover no deployment.
-- change_end is the work end; a change whose work has not started ends as planned, at its planned start when the
-- plan gives no end (else it would cover every later deployment and, closed, never count as implemented); one under
-- way (work started, no work end, not closed or canceled) has not ended: its end is open (null), never its planned
-- end, which may lie before the work even started. A closed or canceled change without a work end ended at its
-- planned end, or at its work start when that came later: its window is never inverted.
-- A change is its latest version updated at or before as_of, as an incident is: one closed, canceled or given
-- another close code or work window after as_of (read ahead of the build) is counted as it was at as_of. One created
-- by as_of whose first version read is after it (edited again before an ingest read it) is that first version, the
-- nearest to as_of there is; one created after as_of does not exist yet: it has no row.
-- That version is found on its id and update time alone, then read whole: (sys_id, sys_updated_on) is the
-- dataset's key, so one row comes back, and ranking the versions with every column is twice as slow.
-- An hourly build reads only the changes a later version or deployment can still alter
-- (lakehouse/aggregates/settled_changes.py): those created from changes_created_from on, and those before it the last
-- daily or full build carried (settled_change_versions); stg_change_deployments and mv_changes then add the settled
-- ones. A daily or full build reads every change: the carried versions are none and the bound null.
with versions as (
    select *
    from raw_servicenow_changes
    where sys_created_on >= coalesce((select cast(changes_created_from as timestamptz) from build_params), '-infinity'::timestamptz)
    union all by name
    select * from settled_change_versions
),

at_as_of as (
    select c.*
    from versions as c
    semi join (
        select
            sys_id,
            coalesce(max(sys_updated_on) filter (where sys_updated_on <= p.as_of), min(sys_updated_on))
                as sys_updated_on
        from versions
        cross join build_params as p
        group by sys_id
    ) as v using (sys_id, sys_updated_on)
    where coalesce(c.sys_created_on, c.sys_updated_on) <= (select as_of from build_params)
)

select
    c.sys_id,
    c.number,
    a.entity_id,
    e.app_id,
    e.component_id,
    a.environment,
    c.type,
    c.state,
    c.state_label,
    c.risk,
    c.short_description,
    c.planned_start,
    c.planned_end,
    c.work_start,
    c.work_end,
    -- A work end before the planned start, without a work start: the work was done by then, whatever was planned.
    coalesce(c.work_start, least(c.planned_start, c.work_end), c.planned_end) as change_start,
    case
        when c.work_end is not null then c.work_end
        when c.work_start is null then coalesce(c.planned_end, c.planned_start)
        when c.state in (3, 4) then greatest(c.planned_end, c.work_start)
    end as change_end,
    nullif(c.close_code, '') as close_code,
    -- A change closed without a close code has not failed: false, not unknown (null).
    coalesce(
        c.state = 3 and list_contains((select failed_close_codes from build_params), lower(trim(c.close_code))), false
    ) as is_failed,
    coalesce(c.state = 3, false) as is_closed,
    coalesce(c.state = 4, false) as is_canceled,
    c.cmdb_ci_sys_id,
    c.cmdb_ci_name,
    -- What the unmapped keys (52) name for a change without a CI: its business service claims it too (above).
    c.business_service_sys_id,
    c.business_service_name,
    c.assignment_group_name,
    c.sys_created_on,
    -- The version's: after as_of only for a change first read after it (see mv_changes).
    c.sys_updated_on
from at_as_of as c
left join servicenow_owner(at_as_of) as a on c.sys_id = a.sys_id
left join ref_entities as e on a.entity_id = e.entity_id and a.environment = e.environment
