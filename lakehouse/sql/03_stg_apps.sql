-- table: stg_apps
-- grain: one row per application and environment known to the mapping, with its team, group, domain and SLO targets
-- reads: ref_entities, build_params
-- refresh: hourly
--
-- An application exists in an environment if it, or one of its components, is mapped there. Its team, group
-- and domain are the application's own there, else the first component's by id: the same in every build.
-- SLO targets are per application: its mapping entry's (slo_availability_target, slo_latency_p95_ms,
-- slo_latency_p99_ms, slo_latency_target; an environment's entry without them, or an environment where only its
-- components are mapped, takes production's), else the build's defaults (availability_target,
-- latency_p95_threshold_ms, latency_p99_threshold_ms, latency_target).
with apps as (
    select
        app_id,
        environment,
        any_value(team order by kind, entity_id) as team,
        any_value(group_id order by kind, entity_id) as group_id,
        any_value(domain order by kind, entity_id) as domain,
        any_value(name order by kind, entity_id) filter (where kind = 'application') as app_name,
        count(*) filter (where kind = 'component') as components,
        any_value(availability_target order by kind, entity_id) as own_availability_target,
        any_value(latency_p95_threshold_ms order by kind, entity_id) as own_latency_p95_threshold_ms,
        any_value(latency_p99_threshold_ms order by kind, entity_id) as own_latency_p99_threshold_ms,
        any_value(latency_target order by kind, entity_id) as own_latency_target
    from ref_entities
    group by app_id, environment
)

select
    a.app_id,
    a.environment,
    a.team,
    a.group_id,
    a.domain,
    a.app_name,
    a.components,
    coalesce(a.own_availability_target, bp.availability_target) as availability_target,
    coalesce(a.own_latency_p95_threshold_ms, bp.latency_p95_threshold_ms) as latency_p95_threshold_ms,
    coalesce(a.own_latency_p99_threshold_ms, bp.latency_p99_threshold_ms) as latency_p99_threshold_ms,
    coalesce(a.own_latency_target, bp.latency_target) as latency_target
from apps as a
cross join build_params as bp
