-- table: mv_deployments_latest
-- grain: one row per application, component and environment: its latest deployment attempt
-- reads: mv_deployments
-- refresh: hourly
--
-- What runs where, as the last attempt left it (a failed attempt included: it is what the team looks at
-- next). Kept apart from mv_deployments so the summary of an application reads a few rows, not its history.
select
    app_id,
    component_id,
    environment,
    arg_max(deployment_key, finished_at) as deployment_key,
    max(finished_at) as finished_at,
    arg_max(status, finished_at) as status,
    arg_max(revision, finished_at) as revision,
    arg_max(origin, finished_at) as origin
from mv_deployments
group by app_id, component_id, environment
