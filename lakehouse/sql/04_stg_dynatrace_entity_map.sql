-- table: stg_dynatrace_entity_map
-- grain: one row per Dynatrace entity id, with the mapped entity and environment it belongs to
-- reads: ref_pivots, raw_dynatrace_entities, ref_entities, build_params
-- refresh: hourly
--
-- A Dynatrace service belongs to the mapped entity whose entitySelector names it (entityId(...)); failing
-- that, to an entity whose selector's criteria it meets, as the Entities API listed it last. A selector's
-- criteria all apply, as in Dynatrace: every tag(...) it names, and every management zone (mzName(...)), must
-- be on the service. A service re-tagged moves with its history: the build then rebuilds every day, as for a
-- corrected mapping. Of several entities a service is named by, or meets in full, the one with the most criteria
-- takes it (the most specific: production selecting by component tag, staging by that tag and an environment tag,
-- a staging service is staging's); of those with as many, production's, as incidents and changes go to production;
-- then the entity id, then the environment's name: the same one in every build. services_of_entity says how
-- many services stand for the same entity (usually one: then its rows need no adding up). The entity's
-- application and component come with it here, on a few thousand rows, so that the hourly signals (tens of
-- millions of rows a year) need no join of their own to find them.
with direct as (
    select value as dynatrace_entity_id, entity_id, environment, 1 as priority
    from ref_pivots
    where pivot_kind = 'dynatrace_entity'
),

criteria as (
    select pivot_kind, value, entity_id, environment, count(*) over (partition by entity_id, environment) as needed
    from ref_pivots
    where pivot_kind in ('dynatrace_tag', 'dynatrace_zone')
),

-- Each service's latest listing, one row per label it carries.
listings as (
    select entity_id, tags, management_zones
    from raw_dynatrace_entities
    qualify row_number() over (partition by entity_id order by seen_on desc) = 1
),

labels as (
    select entity_id, 'dynatrace_tag' as pivot_kind, unnest(tags) as value from listings
    union all
    select entity_id, 'dynatrace_zone', unnest(management_zones) from listings
),

selected as (
    select l.entity_id as dynatrace_entity_id, c.entity_id, c.environment, 2 as priority, any_value(c.needed) as met
    from labels as l
    inner join criteria as c on l.pivot_kind = c.pivot_kind and l.value = c.value
    group by l.entity_id, c.entity_id, c.environment
    having count(distinct (l.pivot_kind, l.value)) = any_value(c.needed)
),

candidates as (
    select *, 0 as met from direct
    union all
    select * from selected
),

chosen as (
    select dynatrace_entity_id, entity_id, environment
    from candidates
    qualify row_number() over (
        partition by dynatrace_entity_id
        order by
            priority,
            met desc,
            (environment = (select production_environment from build_params)) desc,
            entity_id,
            environment
    ) = 1
)

select
    c.*,
    e.app_id,
    e.component_id,
    count(*) over (partition by c.entity_id, c.environment) as services_of_entity
from chosen as c
inner join ref_entities as e on c.entity_id = e.entity_id and c.environment = e.environment
