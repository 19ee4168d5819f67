-- table: mv_incidents
-- grain: one row per attributed ServiceNow incident (its version at as_of), with its duration and deployment link
-- reads: stg_incidents, mv_incident_links, raw_servicenow_task_slas, build_params
-- refresh: hourly
-- counted on days of: opened_at
-- counted with: app_id, environment, is_canceled, priority, sla_breached, restored_at, duration_hours
--
-- duration_hours = restored_at - opened_at (resolved, else closed); an open incident's age runs to as_of. A record
-- restored before it opened (an imported or edited incident: ServiceNow lets both times be written) has no duration:
-- unknown, not negative, it stays out of every time to restore, while it still counts as restored.
-- resolved_at, closed_at and restored_at are those before as_of: an incident first read after as_of keeps that
-- version (see stg_incidents), whose resolution after as_of has not happened yet, so one open at as_of shows
-- neither a restoration nor a duration, nor that version's Resolved or Closed state (its state at as_of was not read).
-- So too a cancellation at or after as_of (see stg_incidents): that version is not canceled, nor in its Canceled state.
-- is_open: open at as_of, as the backlog of mv_incidents_app_day and the top risks count it: opened before it, not
-- canceled before it and not restored before it (an incident opened after as_of, ingested ahead of the build, has
-- not happened yet; one restored or canceled after it was still open then).
-- sla_breached: any non-cancelled task SLA of the incident has breached before as_of: its breach time
-- (planned_end_time) before as_of, as other events count (a breach after as_of, ingested ahead of the build, has not
-- happened yet); a breached SLA without a breach time counts as breached. Null when the incident has no task SLA
-- (none read, or every one cancelled): it has none to meet, which is not having met one.
-- A task SLA is its latest version updated at or before as_of, as an incident is (stg_incidents): one cancelled,
-- completed or paused after as_of (read ahead of the build) is counted as it was at as_of. One first seen after
-- as_of keeps its latest version, as an incident does: it may have run since before as_of, read late, and its
-- breach counts only from its breach time, as above.
with params as (
    select as_of from build_params
),

slas as (
    select
        task_sys_id,
        bool_or(has_breached and coalesce(planned_end_time < (select as_of from params), true)) as sla_breached,
        count(*) as slas
    from (
        select *
        from raw_servicenow_task_slas
        qualify row_number() over (
            partition by sys_id order by sys_updated_on <= (select as_of from params) desc, sys_updated_on desc
        ) = 1
    )
    where coalesce(stage, '') <> 'cancelled'
    group by task_sys_id
),

incidents as (
    select
        i.* exclude (entity_id, business_service_sys_id, business_service_name) replace (
            -- A Resolved or Closed state restored after as_of, or a Canceled one not canceled before it (see
            -- stg_incidents), was read ahead of the build (an incident first read after as_of keeps that version):
            -- its state at as_of was not read, and it was not that one.
            case
                when i.state in (6, 7) and i.restored_at >= p.as_of then null
                when i.state = 8 and not i.is_canceled then null
                else i.state
            end as state,
            case
                when i.state in (6, 7) and i.restored_at >= p.as_of then null
                when i.state = 8 and not i.is_canceled then null
                else i.state_label
            end as state_label,
            case when i.resolved_at < p.as_of then i.resolved_at end as resolved_at,
            case when i.closed_at < p.as_of then i.closed_at end as closed_at,
            case when i.restored_at < p.as_of then i.restored_at end as restored_at,
            i.opened_at < p.as_of and not i.is_canceled and (i.restored_at is null or i.restored_at >= p.as_of)
                as is_open
        )
    from stg_incidents as i
    cross join params as p
    where i.app_id is not null
)

select
    i.*,
    case when i.restored_at >= i.opened_at then (epoch(i.restored_at) - epoch(i.opened_at)) / 3600.0 end
        as duration_hours,
    case when i.is_open then (epoch(p.as_of) - epoch(i.opened_at)) / 3600.0 end as open_age_hours,
    s.sla_breached,
    lf.deployment_key as linked_deployment_full,
    lf.rule as link_rule_full,
    lf.confidence as link_confidence_full,
    lf.counts_as_change_failure as link_counts_as_change_failure_full,
    ll.deployment_key as linked_deployment_light
from incidents as i
cross join params as p
left join slas as s on i.sys_id = s.task_sys_id
left join mv_incident_links as lf on i.sys_id = lf.incident_sys_id and lf.correlation_mode = 'full'
left join mv_incident_links as ll on i.sys_id = ll.incident_sys_id and ll.correlation_mode = 'light'
