-- table: mv_changes
-- grain: one row per attributed ServiceNow change request (its version at as_of): the change calendar
-- reads: stg_changes, stg_change_deployments, build_params
-- partitioned by: month of sys_created_on
-- refresh: hourly
-- counted on days of: planned_start, change_start, change_end
-- counted with: app_id, environment, type, is_closed, is_canceled, is_failed, close_code
--
-- Upcoming changes have a planned window after as_of; a change covering no deployment is kept (not all
-- changes deploy software) and flagged.
-- is_closed and is_failed are the change's at as_of: closed once its work has ended before as_of, as
-- mv_changes_app_day counts it implemented (a change whose work ends after as_of, ingested closed ahead of the
-- build, is still under way). A closed change with neither window stays closed: nothing says when it ended.
-- Such a change read closed ahead of the build (its one version read after as_of) has no state nor close code at
-- as_of: the ones read came after it, and what it was then (implementing, in review) was not read. One whose version
-- at as_of is closed keeps its state and close code, though without a work end it is counted as ended at its
-- planned end only.
select
    c.* exclude (entity_id, sys_updated_on, business_service_sys_id, business_service_name) replace (
        c.is_closed and coalesce(c.change_end < p.as_of, true) as is_closed,
        c.is_failed and coalesce(c.change_end < p.as_of, true) as is_failed,
        case when c.is_closed and c.change_end >= p.as_of and c.sys_updated_on > p.as_of then null else c.state end
            as state,
        case
            when c.is_closed and c.change_end >= p.as_of and c.sys_updated_on > p.as_of then null else c.state_label
        end as state_label,
        case
            when c.is_closed and c.change_end >= p.as_of and c.sys_updated_on > p.as_of then null else c.close_code
        end as close_code
    ),
    cd.deployment_key,
    cd.deployment_key is not null as covers_deployment
from stg_changes as c
cross join build_params as p
left join stg_change_deployments as cd on c.sys_id = cd.change_sys_id
where c.app_id is not null
