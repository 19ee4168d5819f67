-- table: mv_dora_app_period
-- grain: one row per application, environment, period, correlation mode and band set
-- reads: stg_dora_levels
-- refresh: daily
--
-- DORA per application; definitions, states and bands in 43_stg_dora_facts.sql and 44_stg_dora_levels.sql.
-- Computed for every environment; production is the tier DORA defines and the API's default.
select level_id as app_id, * exclude (level, level_id, applications)
from stg_dora_levels
where level = 'application'
