-- table: stg_change_deployments
-- grain: one row per change request that covers a deployment attempt of its entity
-- reads: stg_changes, stg_deployments, build_params
-- refresh: hourly
--
-- A change covers the attempt of the same entity (its component, or its application when mapped directly)
-- and environment that finished closest to the change's end, within its work window widened by one hour on
-- each side. One attempt per change, so a retry shortly after a failed attempt is not covered by the failed
-- attempt's change. A canceled change covers nothing. A change under way has no end yet (see stg_changes): its
-- window runs to as_of, without the hour of slack (a later attempt has not finished yet), and it covers the
-- attempt finished closest to as_of, the last so far.
select
    c.sys_id as change_sys_id,
    c.number as change_number,
    c.cmdb_ci_sys_id,
    c.change_end,
    c.is_failed as change_unsuccessful,
    c.type = 'emergency' as emergency_change,
    d.deployment_key,
    d.status as deployment_status,
    d.finished_at as deployed_at
from stg_changes as c
cross join build_params as bp
inner join stg_deployments as d
    on
        c.entity_id = d.entity_id
        and c.environment = d.environment
        and d.finished_at >= c.change_start - interval 1 hour
        and d.finished_at <= coalesce(c.change_end + interval 1 hour, bp.as_of)
where not c.is_canceled
qualify row_number() over (
    partition by c.sys_id
    order by abs(epoch(d.finished_at) - epoch(coalesce(c.change_end, bp.as_of))), d.deployment_key
) = 1
