-- table: mv_live_status_latest
-- grain: one row per application, component and environment deployed with ArgoCD or GitLab: the last ArgoCD status and GitLab pipeline read
-- reads: raw_argocd_app_status, raw_gitlab_pipelines, ref_pivots, ref_entities, build_params
-- refresh: hourly
--
-- What live mode shows when ArgoCD or GitLab cannot be reached: the last status of the entity's ArgoCD
-- application and the last pipeline of its GitLab project, each with when it was read, so the user sees how old
-- it is. Only what was read before as_of: a row read after it was ingested ahead of the build.
-- The ArgoCD status is the last snapshot of the last 7 days: the application is polled every ingestion run, so an
-- older snapshot means ArgoCD has been out of reach for a week, and reading every snapshot ever taken would make
-- every build scan the dataset's whole history. The pipeline is the one with the highest id (GitLab's latest, as
-- live mode asks for it) of those created in the last 90 days, in its state as last read before as_of: a pipeline
-- whose last update was read after as_of is left for the one before it.
-- An ArgoCD application serves one environment; a GitLab project's pipelines are not per environment, so each
-- environment the project is mapped in shows its last pipeline.
with status as (
    select
        app_name,
        arg_max(
            {
                'sync_status': sync_status,
                'health_status': health_status,
                'operation_phase': operation_phase,
                'observed_at': observed_at
            },
            observed_at
        ) as status
    from raw_argocd_app_status
    where
        observed_at < (select as_of from build_params)
        and observed_at >= (select as_of - interval 7 days from build_params)
    group by app_name
),

pipeline as (
    select
        cast(project_id as varchar) as project_id,
        arg_max(
            {'status': status, 'ref': ref, 'updated_at': updated_at, 'web_url': web_url},
            pipeline_id
        ) as pipeline
    from raw_gitlab_pipelines
    where
        updated_at < (select as_of from build_params)
        and created_at >= (select as_of - interval 90 days from build_params)
    group by project_id
),

pivots as (
    select
        entity_id,
        environment,
        any_value(value) filter (where pivot_kind = 'argocd_app') as argocd_app,
        any_value(value) filter (where pivot_kind = 'gitlab_project') as gitlab_project
    from ref_pivots
    where pivot_kind in ('argocd_app', 'gitlab_project')
    group by entity_id, environment
)

select
    e.app_id,
    e.component_id,
    p.environment,
    s.status.sync_status,
    s.status.health_status,
    s.status.operation_phase,
    s.status.observed_at as status_observed_at,
    g.pipeline.status as last_pipeline_status,
    g.pipeline.ref as last_pipeline_ref,
    g.pipeline.updated_at as last_pipeline_at,
    g.pipeline.web_url as last_pipeline_url
from pivots as p
inner join ref_entities as e on p.entity_id = e.entity_id and p.environment = e.environment
left join status as s on p.argocd_app = s.app_name
left join pipeline as g on p.gitlab_project = g.project_id
-- An entity with neither read before as_of has no row.
where s.app_name is not null or g.project_id is not null
