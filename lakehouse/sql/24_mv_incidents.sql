-- table: mv_incidents
-- grain: one row per attributed ServiceNow incident (its version at as_of), with its duration and deployment link
-- reads: stg_incidents, mv_incident_links, raw_servicenow_task_slas, build_params
-- refresh: hourly
-- counted on days of: opened_at
-- counted with: app_id, environment, is_canceled, priority, sla_breached, restored_at, duration_hours
--
-- duration_hours = restored_at - opened_at (resolved, else closed); an open incident's age runs to as_of.
-- sla_breached: any non-cancelled task SLA of the incident has breached.
with params as (
    select as_of from build_params
),

slas as (
    select
        task_sys_id,
        bool_or(has_breached) as sla_breached,
        count(*) as slas
    from (
        select *
        from raw_servicenow_task_slas
        qualify row_number() over (partition by sys_id order by sys_updated_on desc) = 1
    )
    where coalesce(stage, '') <> 'cancelled'
    group by task_sys_id
)

select
    i.* exclude (entity_id),
    (epoch(i.restored_at) - epoch(i.opened_at)) / 3600.0 as duration_hours,
    case when i.is_open then (epoch(p.as_of) - epoch(i.opened_at)) / 3600.0 end as open_age_hours,
    coalesce(s.sla_breached, false) as sla_breached,
    lf.deployment_key as linked_deployment_full,
    lf.rule as link_rule_full,
    lf.confidence as link_confidence_full,
    ll.deployment_key as linked_deployment_light
from stg_incidents as i
cross join params as p
left join slas as s on i.sys_id = s.task_sys_id
left join mv_incident_links as lf on i.sys_id = lf.incident_sys_id and lf.correlation_mode = 'full'
left join mv_incident_links as ll on i.sys_id = ll.incident_sys_id and ll.correlation_mode = 'light'
where i.app_id is not null
