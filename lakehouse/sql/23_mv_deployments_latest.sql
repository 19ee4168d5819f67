-- table: mv_deployments_latest
-- grain: one row per application, component, environment and GitLab environment: its latest deployment attempt
-- reads: mv_deployments, build_params
-- refresh: hourly
--
-- What runs where, as the last attempt left it (a failed attempt included: it is what the team looks at
-- next). Kept apart from mv_deployments so the summary of an application reads a few rows, not its history.
-- The last attempt in the sequence order (finished_at, then deployment_key), every field from that one row, of
-- those finished before as_of: one finished after it, ingested ahead of the build, had not happened yet.
-- A GitLab project deploying to the regions of an environment folder (production/eu, production/us, both counted in
-- production) has the latest attempt of each region, told apart by source_environment (its case as the latest
-- attempt wrote it): what runs in one region says nothing of the other, and a failed attempt in eu stays in view
-- after a success in us. ArgoCD's attempts name none: one row, as its application deploys one environment, and a
-- GitLab environment named like the mapping's (production) is that row too, as it is one sequence with ArgoCD's
-- (stg_deployments' sequence_environment): a component GitLab deployed before ArgoCD did shows ArgoCD's last
-- attempt, not beside it GitLab's last, however old.
with latest as (
    select
        app_id,
        component_id,
        environment,
        arg_max(
            {
                'deployment_key': deployment_key,
                'finished_at': finished_at,
                'status': status,
                'revision': revision,
                'origin': origin,
                'source_environment': source_environment
            },
            {'finished_at': finished_at, 'deployment_key': deployment_key}
        ) filter (where finished_at < (select as_of from build_params)) as attempt
    from mv_deployments
    group by app_id, component_id, environment, coalesce(lower(source_environment), environment)
)

select app_id, component_id, environment, unnest(attempt)
from latest
-- An entity with no attempt finished before as_of has no row (unnest would give it one of nulls).
where attempt is not null
