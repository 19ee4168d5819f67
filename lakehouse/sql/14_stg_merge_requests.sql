-- table: stg_merge_requests
-- grain: one row per merged GitLab merge request of a mapped project
-- reads: raw_gitlab_merge_requests, raw_gitlab_deployment_merge_requests, settled_merge_requests, ref_pivots, ref_entities
-- refresh: hourly
--
-- Merge requests come from the project's merged list and from the deployments that shipped them; the
-- same request seen twice counts once. A project maps to its entity (a component, or an application: mapped
-- directly, or a monorepo whose components deploy) in each environment it is mapped in. target_branch: the branch
-- it was merged into (null where unknown). mr_iid, title and web_url (its page) say which request it is, for the
-- lead-time list: from the project's list, else from a deployment listing it (null in rows read before web_url was).
-- An hourly build that carries the requests merged before the variable requests_merged_from reads only those merged
-- since, and adds the carried ones whose lead time a later deployment can still find (settled_merge_requests, see
-- lakehouse/aggregates/settled_lead_times.py): the others' lead times are settled, or they never count. A daily or
-- full build reads every request: the carried ones are none and the variable null. A variable, not build_params: a
-- constant bound lets the scan skip the row groups of older days.
with listed as (
    -- The project's merged list gives each request once: its day is its merge's, and a day keeps one row per request.
    select mr_id, project_id, merged_at, merge_commit_sha, target_branch, mr_iid, title, web_url
    from raw_gitlab_merge_requests
    where coalesce(merged_at >= cast(getvariable('requests_merged_from') as timestamptz), true)
),

distinct_requests as (
    select * from listed
    union all
    -- A request known only from a deployment that shipped it, once however many deployments list it. Against the
    -- raw list, not `listed`: a CTE read twice is copied whole, seven hundred thousand requests a year.
    select l.mr_id, l.project_id, l.merged_at, l.merge_commit_sha, l.target_branch, l.mr_iid, l.title, l.web_url
    from raw_gitlab_deployment_merge_requests as l
    anti join raw_gitlab_merge_requests as m on l.mr_id = m.mr_id
    where coalesce(l.merged_at >= cast(getvariable('requests_merged_from') as timestamptz), true)
    qualify row_number() over (partition by l.mr_id order by l.deployment_id) = 1
)

select
    m.mr_id,
    m.project_id,
    m.merged_at,
    m.merge_commit_sha,
    m.target_branch,
    m.mr_iid,
    m.title,
    m.web_url,
    p.entity_id,
    e.app_id,
    e.component_id,
    e.environment
from distinct_requests as m
inner join ref_pivots as p on p.pivot_kind = 'gitlab_project' and p.value = cast(m.project_id as varchar)
inner join ref_entities as e on p.entity_id = e.entity_id and p.environment = e.environment
union all by name
select * from settled_merge_requests
