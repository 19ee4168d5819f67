-- table: stg_dora_scopes
-- grain: one row per DORA scope (an application, or a team, group or domain) and application in it
-- reads: stg_apps
-- refresh: daily
--
-- DORA is computed once per scope from the events of its applications, so a team's figures are weighted
-- by events (its deployments, merge requests and incidents), never averages of its applications' rates.
select 'application' as level, app_id as level_id, app_id, environment from stg_apps
union all
select 'team', team, app_id, environment from stg_apps where team is not null
union all
select 'group', group_id, app_id, environment from stg_apps where group_id is not null
union all
select 'domain', domain, app_id, environment from stg_apps where domain is not null
