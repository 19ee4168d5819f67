-- table: stg_log_services
-- grain: one row per index pattern and service.name an entity's log lines are read under, in an environment
-- reads: ref_pivots, ref_entities
-- refresh: hourly
--
-- value: the index pattern and service.name (index_pattern|service_name) whose lines are the entity's (entity_id)
-- in the mapping's environment. An entity's lines are those of its index whose service.name is its id; a component
-- without an index of its own logs into its application's (that environment's entry), as its logs link reads them.
-- The one rule the log counts are attributed by: stg_log_counts gives each raw row its entity by it, and
-- stg_signals_hourly says from it whose logs are read. index_pattern: the index the entity's lines are read from,
-- whose hours read (ref_log_hours_read) are the entity's.
select p.value, e.elisa_index as index_pattern, p.entity_id, p.environment
from ref_pivots as p
inner join ref_entities as e on p.entity_id = e.entity_id and p.environment = e.environment
where p.pivot_kind = 'elisa_service'
union all
select a.elisa_index || '|' || c.entity_id, a.elisa_index, c.entity_id, c.environment
from ref_entities as c
inner join ref_entities as a on c.app_id = a.entity_id and c.environment = a.environment
where c.kind = 'component' and c.elisa_index is null and a.kind = 'application' and a.elisa_index is not null
