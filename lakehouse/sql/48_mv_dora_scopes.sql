-- table: mv_dora_scopes
-- grain: one row per DORA scope (an application, or a team, group or domain) and application in it
-- reads: stg_dora_scopes
-- refresh: daily
--
-- Which applications each team, group and domain counts, under the mapping of the build (see
-- 42_stg_dora_scopes.sql); the API computes DORA for an explicit from/to range over these scopes.
select * from stg_dora_scopes
