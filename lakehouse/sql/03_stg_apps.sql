-- table: stg_apps
-- grain: one row per application and environment known to the mapping, with its team, group and domain
-- reads: ref_entities
-- refresh: hourly
--
-- An application exists in an environment if it, or one of its components, is mapped there. Its team, group
-- and domain are the application's own there, else the first component's by id: the same in every build.
select
    app_id,
    environment,
    any_value(team order by kind, entity_id) as team,
    any_value(group_id order by kind, entity_id) as group_id,
    any_value(domain order by kind, entity_id) as domain,
    any_value(name order by kind, entity_id) filter (where kind = 'application') as app_name,
    count(*) filter (where kind = 'component') as components
from ref_entities
group by app_id, environment
