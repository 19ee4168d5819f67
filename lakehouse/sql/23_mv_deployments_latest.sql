-- table: mv_deployments_latest
-- grain: one row per application, component and environment: its latest deployment attempt
-- reads: mv_deployments
-- refresh: hourly
--
-- What runs where, as the last attempt left it (a failed attempt included: it is what the team looks at
-- next). Kept apart from mv_deployments so the summary of an application reads a few rows, not its history.
-- The last attempt in the sequence order (finished_at, then deployment_key), every field from that one row.
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
                'origin': origin
            },
            {'finished_at': finished_at, 'deployment_key': deployment_key}
        ) filter (where finished_at is not null) as attempt
    from mv_deployments
    group by app_id, component_id, environment
)

select app_id, component_id, environment, unnest(attempt)
from latest
