-- table: stg_incidents
-- grain: one row per ServiceNow incident (its version at as_of), attributed to a mapped entity when its CI is mapped
-- reads: raw_servicenow_incidents, ref_pivots, ref_entities, build_params
-- refresh: hourly
--
-- Attribution: the incident's configuration item, by id or by name, else its business service by id, in the
-- order the macro servicenow_owner (macros.sql) states, as a change's is.
-- restored_at = resolved_at, else closed_at, else (Resolved or Closed without either) its last update, so
-- that it leaves the backlog; none while the incident is active (1 New, 2 In Progress, 3 On Hold), so that one
-- reopened after a resolution is open again, whatever resolution time it still carries. Open = not restored
-- and not in a final state (6 Resolved, 7 Closed, 8 Canceled).
-- Canceled incidents are kept but flagged and left out of KPIs. is_canceled: canceled before as_of (when it closed,
-- else its last update): one first read after as_of, canceled at or after it, was not canceled yet (mv_incidents
-- counts it as it was then), as a resolution after as_of has not happened yet.
-- An incident is its latest version updated at or before as_of: one reopened, canceled or restored after as_of
-- (read ahead of the build) is counted as it was at as_of. One first seen after as_of keeps its latest version.
-- That version is found on its id and update time alone, then read whole: (sys_id, sys_updated_on) is the
-- dataset's key, so one row comes back, and ranking the versions with every column costs several times more.
with latest as (
    select i.*
    from raw_servicenow_incidents as i
    semi join (
        select
            sys_id,
            coalesce(max(sys_updated_on) filter (where sys_updated_on <= p.as_of), max(sys_updated_on))
                as sys_updated_on
        from raw_servicenow_incidents
        cross join build_params as p
        group by sys_id
    ) as v using (sys_id, sys_updated_on)
)

select
    i.sys_id,
    i.number,
    a.entity_id,
    e.app_id,
    e.component_id,
    a.environment,
    i.state,
    i.state_label,
    i.priority,
    i.impact,
    i.urgency,
    i.short_description,
    i.opened_at,
    i.resolved_at,
    i.closed_at,
    case
        when i.state not in (1, 2, 3) or i.state is null
            then coalesce(i.resolved_at, i.closed_at, case when i.state in (6, 7) then i.sys_updated_on end)
    end as restored_at,
    -- restored_at is the column just above (DuckDB reads a select list's aliases in order).
    restored_at is null and coalesce(i.state, 1) not in (6, 7, 8) as is_open,
    coalesce(
        i.state = 8 and coalesce(i.closed_at, i.sys_updated_on) < (select as_of from build_params), false
    ) as is_canceled,
    i.cmdb_ci_sys_id,
    i.cmdb_ci_name,
    -- What the unmapped keys (52) name for an incident without a CI: its business service claims it too (above).
    i.business_service_sys_id,
    i.business_service_name,
    i.assignment_group_name,
    i.reassignment_count,
    i.problem_sys_id,
    i.caused_by_change_sys_id,
    i.sys_updated_on
from latest as i
left join servicenow_owner(latest) as a on i.sys_id = a.sys_id
left join ref_entities as e on a.entity_id = e.entity_id and a.environment = e.environment
