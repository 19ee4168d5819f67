-- table: stg_log_counts
-- grain: one row per raw log count (index pattern, service.name, environment as logged, level and hour)
-- reads: raw_elasticsearch_log_counts_hourly, stg_log_services
-- refresh: hourly
-- materialize: view
--
-- A view over the raw hourly rows, read where they are (a month at a time by stg_signals_hourly, the 30 days before
-- as_of by stg_attribution): each row as logged, with the entity whose lines they are (entity_id) and the mapping's
-- environment they count in (entity_environment), both null when no entity claims them. A row is an entity's when
-- its index pattern and service.name are one of stg_log_services' in the environment its environment field names,
-- whatever the case it is written in ("Production"): the mapping's ids are lower-case. The golden signals count the
-- rows an entity claims; stg_attribution counts the others as what the mapping leaves out.
select
    l.*,
    s.entity_id,
    s.environment as entity_environment
from raw_elasticsearch_log_counts_hourly as l
left join stg_log_services as s
    on s.value = l.index_pattern || '|' || l.service_name and s.environment = lower(l.environment)
