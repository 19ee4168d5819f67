-- table: mv_changes
-- grain: one row per attributed ServiceNow change request (latest version): the change calendar
-- reads: stg_changes, stg_change_deployments
-- refresh: hourly
-- counted on days of: planned_start, change_start, change_end
-- counted with: app_id, environment, type, is_closed, is_canceled, close_code
--
-- Upcoming changes have a planned window after as_of; a change covering no deployment is kept (not all
-- changes deploy software) and flagged.
select
    c.* exclude (entity_id),
    cd.deployment_key,
    cd.deployment_key is not null as covers_deployment
from stg_changes as c
left join stg_change_deployments as cd on c.sys_id = cd.change_sys_id
where c.app_id is not null
