-- table: stg_dynatrace_entity_map
-- grain: one row per Dynatrace entity id, with the mapped entity and environment it belongs to
-- reads: ref_pivots, raw_dynatrace_entities
-- refresh: hourly
--
-- A Dynatrace service belongs to the mapped entity whose entitySelector names it (entityId(...)); failing
-- that, to the entity whose tag it carries, as listed by the Entities API. services_of_entity says how
-- many services stand for the same entity (usually one: then its rows need no adding up).
with direct as (
    select value as dynatrace_entity_id, entity_id, environment, 1 as priority
    from ref_pivots
    where pivot_kind = 'dynatrace_entity'
),

tagged as (
    select distinct e.entity_id as dynatrace_entity_id, p.entity_id, p.environment, 2 as priority
    from raw_dynatrace_entities as e
    inner join ref_pivots as p on p.pivot_kind = 'dynatrace_tag' and list_contains(e.tags, p.value)
),

candidates as (
    select * from direct
    union all
    select * from tagged
),

chosen as (
    select dynatrace_entity_id, entity_id, environment
    from candidates
    qualify row_number() over (partition by dynatrace_entity_id order by priority, entity_id) = 1
)

select
    *,
    count(*) over (partition by entity_id, environment) as services_of_entity
from chosen
