-- table: stg_signals_hourly
-- grain: one row per mapped entity (component, or application mapped directly), environment and hour
-- reads: raw_dynatrace_service_metrics_hourly, stg_log_counts, stg_log_services, stg_dynatrace_entity_map, ref_entities, ref_log_hours_read
-- refresh: hourly
-- materialize: view
--
-- A view: it is read a month at a time (the raw hourly files are bounded to the month being computed), by
-- stg_app_signals_hourly and by the hourly golden signals; computing it twice costs less than storing it.
-- hour is the start of the hour (Dynatrace slot ends were shifted at ingestion; Elasticsearch keys buckets
-- by their start). Several Dynatrace services mapped to one entity add their counts; for latency and
-- saturation the worst service stands for the entity, since percentiles cannot be added. An entity with a
-- single service takes its rows as they are (the same result without a GROUP BY over every hour).
-- A null means no data for that hour, never zero, but for the errors of an hour with traffic: Dynatrace leaves
-- an error count's slot empty when no error occurred, so there they are 0.
-- A service's errors in an hour with traffic count between 0 and its requests: errors and requests are two series,
-- and a tenant's may disagree (1,200 errors in an hour of 1,000 requests), which would read as a negative
-- availability and an SLI below 0 %; every figure built on these rows (error rate, availability, error budget,
-- burn rate) stays between 0 and 100 %. Done per service row, before services and components add up.
-- Latency is a service's only in an hour it served requests (request count above 0): a percentile reported for an
-- hour without any (synthetic or background calls, a stale point) describes no request, and would otherwise stand
-- for its entity's, then its application's, worst hour. An empty request count (Dynatrace leaves the slot empty
-- when nothing was served) is no requests. CPU and memory are kept whatever the traffic: a process uses them idle.
-- Log lines count in the mapping's environment whatever the case their environment field is written in
-- ("Production"): the mapping's ids are lower-case. An entity's lines are those of its index whose service.name is
-- its id; a component without an index of its own logs into its application's (that environment's entry), as its
-- logs link reads them (stg_log_services, by which stg_log_counts gives each row its entity). Elasticsearch leaves
-- empty buckets out of its answer, so a level an entity logged no line of
-- in an hour has no row: it is 0 where the hour was read, that is where the entity logged a line of any level counted
-- that hour, or where its logs are read (it, or its application there, has an index) and the hour lies in the hours
-- the logs ingestion read that index (ref_log_hours_read, set by the build: the windows of the runs Elasticsearch
-- answered the pattern in whole, and on a lake an older release wrote, before those, every hour from the first read).
-- Else null: an hour before the index was first read (mapped since) or after the last hour read, an hour it was
-- refused (index_not_found), or an entity without an index, has no log count. An hour with neither a Dynatrace
-- figure nor a line has no row here; the day summary counts such days (mv_monitoring_app_day_summary).
-- Application, component and environment are ENUM types over the mapping's values (created by the build):
-- the month's rows are grouped and sorted on them, and DuckDB handles an ENUM as a small integer.
with
-- Joined once per entity, not per hour: the index the entity's logs are read from, null without one.
entity_map as (
    select
        m.dynatrace_entity_id,
        m.entity_id,
        cast(m.app_id as mapped_app_id) as app_id,
        cast(m.component_id as mapped_component_id) as component_id,
        cast(m.environment as mapped_environment) as environment,
        m.services_of_entity,
        (
            select min(s.index_pattern) from stg_log_services as s
            where s.entity_id = m.entity_id and s.environment = m.environment
        ) as log_index
    from stg_dynatrace_entity_map as m
),

single_service as (
    select
        map.app_id,
        map.component_id,
        map.entity_id,
        map.environment,
        m.hour,
        m.request_count as requests,
        case
            when m.request_count > 0 then least(greatest(coalesce(m.error_count, 0), 0), m.request_count)
            else m.error_count
        end as errors,
        case when m.request_count > 0 then m.latency_p50_ms end as latency_p50_ms,
        case when m.request_count > 0 then m.latency_p95_ms end as latency_p95_ms,
        case when m.request_count > 0 then m.latency_p99_ms end as latency_p99_ms,
        m.cpu_usage_pct,
        m.memory_usage_pct,
        map.log_index
    from raw_dynatrace_service_metrics_hourly as m
    inner join entity_map as map on m.entity_id = map.dynatrace_entity_id
    where map.services_of_entity = 1
),

several_services as (
    select
        map.app_id,
        map.component_id,
        map.entity_id,
        map.environment,
        m.hour,
        sum(m.request_count) as requests,
        -- Errors of a service without requests that hour stay out of an entity's hour that had traffic: they
        -- would count on the error side of a ratio whose requests side they are not on. Each service's count at
        -- most its requests, as in single_service, and latency from the services that had requests only.
        case
            when sum(m.request_count) > 0 then
                sum(least(greatest(coalesce(m.error_count, 0), 0), m.request_count)) filter (where m.request_count > 0)
            else sum(m.error_count)
        end as errors,
        max(m.latency_p50_ms) filter (where m.request_count > 0) as latency_p50_ms,
        max(m.latency_p95_ms) filter (where m.request_count > 0) as latency_p95_ms,
        max(m.latency_p99_ms) filter (where m.request_count > 0) as latency_p99_ms,
        max(m.cpu_usage_pct) as cpu_usage_pct,
        max(m.memory_usage_pct) as memory_usage_pct,
        map.log_index
    from raw_dynatrace_service_metrics_hourly as m
    inner join entity_map as map on m.entity_id = map.dynatrace_entity_id
    where map.services_of_entity > 1
    group by map.app_id, map.component_id, map.entity_id, map.environment, m.hour, map.log_index
),

metrics as (
    select
        u.* exclude (log_index),
        -- An hour of an entity whose logs are read, within the hours its index was read: a level without a line
        -- there is 0. A pattern's spans are merged, so an hour lies in one at most.
        h.index_pattern is not null as log_hour_read
    from (
        select * from single_service
        union all
        select * from several_services
    ) as u
    left join ref_log_hours_read as h
        on
            u.log_index = h.index_pattern
            and u.hour < h.read_until
            and (h.read_from is null or u.hour >= h.read_from)
),

logs as (
    select
        cast(e.app_id as mapped_app_id) as app_id,
        cast(e.component_id as mapped_component_id) as component_id,
        l.entity_id,
        cast(l.entity_environment as mapped_environment) as environment,
        l.hour,
        -- Line counts of an hour fit a BIGINT; sum() would widen them to HUGEINT, slow to write and read.
        coalesce(cast(sum(l.count) filter (where l.level = 'ERROR') as bigint), 0) as log_errors,
        coalesce(cast(sum(l.count) filter (where l.level = 'EXCEPTION') as bigint), 0) as log_exceptions,
        coalesce(cast(sum(l.count) filter (where l.level = 'WARN') as bigint), 0) as log_warnings
    from stg_log_counts as l
    inner join ref_entities as e on l.entity_id = e.entity_id and l.entity_environment = e.environment
    group by e.app_id, e.component_id, l.entity_id, l.entity_environment, l.hour
),

joined as (
    select
        coalesce(m.app_id, l.app_id) as app_id,
        coalesce(m.component_id, l.component_id) as component_id,
        coalesce(m.entity_id, l.entity_id) as entity_id,
        coalesce(m.environment, l.environment) as environment,
        coalesce(m.hour, l.hour) as hour,
        m.requests,
        m.errors,
        m.latency_p50_ms,
        m.latency_p95_ms,
        m.latency_p99_ms,
        m.cpu_usage_pct,
        m.memory_usage_pct,
        coalesce(l.log_errors, case when m.log_hour_read then 0 end) as log_errors,
        coalesce(l.log_exceptions, case when m.log_hour_read then 0 end) as log_exceptions,
        coalesce(l.log_warnings, case when m.log_hour_read then 0 end) as log_warnings
    from metrics as m
    full outer join logs as l on m.entity_id = l.entity_id and m.environment = l.environment and m.hour = l.hour
)

select * from joined
