-- table: stg_dynatrace_entity_map
-- grain: one row per Dynatrace entity id, with the mapped entity and environment it belongs to
-- reads: ref_pivots, raw_dynatrace_entities, ref_entities
-- refresh: hourly
--
-- A Dynatrace service belongs to the mapped entity whose entitySelector names it (entityId(...)); failing
-- that, to the entity whose tag it carries, as listed by the Entities API. An entity mapped in several
-- environments under the same tag takes the service in production first, then by environment name: the same
-- one in every build. services_of_entity says how
-- many services stand for the same entity (usually one: then its rows need no adding up). The entity's
-- application and component come with it here, on a few thousand rows, so that the hourly signals (tens of
-- millions of rows a year) need no join of their own to find them.
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
    qualify row_number() over (
        partition by dynatrace_entity_id order by priority, entity_id, (environment = 'production') desc, environment
    ) = 1
)

select
    c.*,
    e.app_id,
    e.component_id,
    count(*) over (partition by c.entity_id, c.environment) as services_of_entity
from chosen as c
inner join ref_entities as e on c.entity_id = e.entity_id and c.environment = e.environment
