-- table: mv_dora_group_period
-- grain: one row per rollup level (team, group, domain), its id, environment, period, mode and band set
-- reads: stg_dora_levels
-- refresh: daily
--
-- DORA per team, group and domain, recomputed from the events of their applications (weighted by
-- events, never an average of the applications' rates); same definitions, states and bands as per application.
select *
from stg_dora_levels
where level <> 'application'
