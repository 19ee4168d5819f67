-- table: stg_problems
-- grain: one row per Dynatrace problem and mapped entity it concerns (root cause first, else affected)
-- reads: raw_dynatrace_problems, stg_dynatrace_entity_map
-- refresh: hourly
--
-- An open problem has no end_time (Dynatrace sends -1; ingestion stores null).
with concerned as (
    select p.problem_id, p.root_cause_entity_id as dynatrace_entity_id, true as is_root_cause
    from raw_dynatrace_problems as p
    where p.root_cause_entity_id is not null
    union all
    select p.problem_id, unnest(p.affected_entity_ids) as dynatrace_entity_id, false as is_root_cause
    from raw_dynatrace_problems as p
),

mapped as (
    select c.problem_id, m.entity_id, m.app_id, m.component_id, m.environment, bool_or(c.is_root_cause) as is_root_cause
    from concerned as c
    inner join stg_dynatrace_entity_map as m on c.dynatrace_entity_id = m.dynatrace_entity_id
    group by c.problem_id, m.entity_id, m.app_id, m.component_id, m.environment
)

select
    p.problem_id,
    p.display_id,
    p.title,
    p.status,
    p.severity_level,
    p.impact_level,
    p.start_time,
    p.end_time,
    m.is_root_cause,
    m.entity_id,
    m.app_id,
    m.component_id,
    m.environment
from raw_dynatrace_problems as p
inner join mapped as m on p.problem_id = m.problem_id
