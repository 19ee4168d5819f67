-- table: stg_attribution
-- grain: one row per incident, change request and deployment attempt of the 30 days before as_of, attributed or not, and per raw log count of error or warning lines of those days
-- reads: stg_incidents, stg_changes, raw_deploys_deployment_events, raw_gitlab_deployments, stg_log_counts, ref_pivots, build_params
-- refresh: daily
--
-- What the mapping leaves out. ServiceNow's incident and change tables are read whole, so a record on a CI that no
-- entry claims is read, then counted in no KPI. GitLab's deployments are read for every environment of a mapped
-- project, and only those to an environment the project is mapped in (its name compared without case, or, for one
-- in a GitLab folder, production/eu, its folder's: the part before the first /) become deployment events: one to
-- another environment ("prod" where the mapping says production, review/x where it has no review) is counted
-- nowhere. A deployment event whose ArgoCD application or GitLab project and environment the mapping no longer names
-- (a pivot corrected since it was read) is left out too. Elasticsearch's log counts are read whole for each mapped
-- index pattern, every service.name and environment field in it: lines of a service.name no entity is, or in an
-- environment the mapping does not use ("prod" where it says production), are read and counted in no KPI. ArgoCD's
-- history, Dynatrace's signals and GitLab's merge requests are read only for what the mapping names: attributed by
-- construction.
-- record_kind: incident, change, deployment or log_line; record: its number (INC…, CHG…) or deployment key, null
-- for log lines (a line has no number). records: how many records the row stands for, 1, or a log count's lines
-- (error and warning lines: the exception lines are among them, counted once). key_kind and key: what an entry would
-- need to claim it: the record's configuration item (servicenow_ci, its sys_id; without one, its business service's,
-- which claims it too; null when the record names neither),
-- the ArgoCD application (argocd_app), the GitLab project (gitlab_project) or the index pattern and service.name
-- (elisa_service, index_pattern|service_name, as the entry's index and id would give them) in the environment
-- (environment: GitLab's deployed to, as GitLab names it, or the lines' environment field, as logged; an ArgoCD
-- application serves one). label: the CI's (or business service's) name on the record. In the window: an incident by when it opened
-- (canceled ones left out, as they are of every KPI), a change by its creation, a deployment by when it finished
-- (GitLab's successful and failed ones; one held on two days, a move an ingest run left halfway, once, by its later
-- finish, as stg_deployments keeps it), log lines by their hour (its start); read ahead of as_of, not yet.
-- attributed: the build found its entity, with the pivots stg_incidents, stg_changes, stg_deployments and
-- stg_log_counts use (a GitLab hand-off to ArgoCD is attributed; log lines as the golden signals count them, a line
-- read again under a wider index pattern once: see claimed_within).
with params as (
    select as_of, as_of - interval 30 day as window_start from build_params
),

mapped_deploy_refs as (
    select distinct 'argocd' as origin, value as source_ref, cast(null as varchar) as environment
    from ref_pivots
    where pivot_kind = 'argocd_app'
    union
    select distinct 'gitlab', value, environment
    from ref_pivots
    where pivot_kind = 'gitlab_project'
),

log_lines as (
    select l.index_pattern, l.service_name, l.environment, l.level, l.hour, l.entity_id, l.count
    from stg_log_counts as l
    cross join params as p
    where l.level in ('ERROR', 'WARN') and l.hour >= p.window_start and l.hour < p.as_of
),

-- Lines read under two index patterns, one within the other: Elasticsearch answers a pattern with every index it
-- matches, so an application's logs-shop-* reads its component's logs-shop-api-* lines again, and production's
-- logs-shop-* staging's logs-shop-stg-*. An unclaimed row of the wider pattern holds the lines an entity's narrower
-- one claims (the same service.name, environment, level and hour): those are attributed there, and only the lines
-- beyond them are left out. A pattern is within another when, its wildcards taken away, it matches it
-- (logs-shop-api- matches logs-shop-*).
claimed_within as (
    select w.index_pattern, w.service_name, w.environment, w.level, w.hour, sum(n.count) as lines
    from log_lines as w
    inner join log_lines as n
        on
            n.service_name = w.service_name and n.environment = w.environment and n.level = w.level
            and n.hour = w.hour and n.index_pattern <> w.index_pattern
            and replace(n.index_pattern, '*', '') glob w.index_pattern
    where w.entity_id is null and n.entity_id is not null
    group by w.index_pattern, w.service_name, w.environment, w.level, w.hour
)

select
    'incident' as record_kind,
    i.number as record,
    'servicenow_ci' as key_kind,
    -- A record without a CI is claimed by its business service's (stg_incidents): that is the key to map.
    coalesce(i.cmdb_ci_sys_id, i.business_service_sys_id) as key,
    cast(null as varchar) as environment,
    case when i.cmdb_ci_sys_id is null then i.business_service_name else i.cmdb_ci_name end as label,
    i.opened_at as seen_at,
    i.entity_id is not null as attributed,
    1 as records
from stg_incidents as i
cross join params as p
where not i.is_canceled and i.opened_at >= p.window_start and i.opened_at < p.as_of

union all

select
    'change',
    c.number,
    'servicenow_ci',
    coalesce(c.cmdb_ci_sys_id, c.business_service_sys_id),
    null,
    case when c.cmdb_ci_sys_id is null then c.business_service_name else c.cmdb_ci_name end,
    c.sys_created_on,
    c.entity_id is not null,
    1
from stg_changes as c
cross join params as p
where c.sys_created_on >= p.window_start and c.sys_created_on < p.as_of

union all

select
    'deployment',
    d.deployment_key,
    case d.origin when 'argocd' then 'argocd_app' else 'gitlab_project' end,
    d.source_ref,
    -- GitLab's name for it, as the deployments GitLab made that became no event have it (production/eu).
    case when d.origin = 'gitlab' then coalesce(d.source_environment, d.environment) end,
    null,
    d.finished_at,
    m.origin is not null,
    1
from (
    -- One row per deployment, as stg_deployments keeps it: an ingest run stopped while it moved one to another day
    -- leaves it in both until the next run, and the later finish counts. A row before the window is never the later
    -- finish of one in it.
    select *
    from raw_deploys_deployment_events
    where finished_at >= (select window_start from params)
    qualify row_number() over (partition by deployment_key order by finished_at desc) = 1
) as d
cross join params as p
left join mapped_deploy_refs as m
    on
        d.origin = m.origin
        and d.source_ref = m.source_ref
        and m.environment is not distinct from (case when d.origin = 'gitlab' then d.environment end)
where d.finished_at < p.as_of

union all

-- GitLab's deployments that never became deployment events: to an environment their project is not mapped in, by
-- its name or its folder's (as ingestion's mapped_environment compares them).
select
    'deployment',
    'gitlab:' || g.deployment_id,
    'gitlab_project',
    cast(g.project_id as varchar),
    g.environment,
    null,
    g.finished_at,
    false,
    1
from raw_gitlab_deployments as g
cross join params as p
anti join raw_deploys_deployment_events as e on 'gitlab:' || g.deployment_id = e.deployment_key
anti join ref_pivots as r
    on
        r.pivot_kind = 'gitlab_project' and cast(g.project_id as varchar) = r.value
        and r.environment in (lower(g.environment), split_part(lower(g.environment), '/', 1))
where g.status in ('success', 'failed') and g.finished_at >= p.window_start and g.finished_at < p.as_of

union all

-- Elasticsearch's error and warning lines, by the index pattern, service.name and environment logged.
select
    'log_line',
    null,
    'elisa_service',
    l.index_pattern || '|' || l.service_name,
    l.environment,
    null,
    l.hour,
    l.entity_id is not null,
    l.count - coalesce(c.lines, 0)
from log_lines as l
left join claimed_within as c
    on
        l.index_pattern = c.index_pattern and l.service_name = c.service_name and l.environment = c.environment
        and l.level = c.level and l.hour = c.hour
-- A row whose every line an entity's narrower pattern claims is no line left out.
where l.count > coalesce(c.lines, 0)
