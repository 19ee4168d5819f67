-- table: mv_dora_bands
-- grain: one row per band set, DORA metric and performance level
-- reads: stg_dora_bands
-- refresh: daily
--
-- The performance bands the DORA tables were graded with (definitions in 02_stg_dora_bands.sql), published
-- so analysts see the bounds and the API grades an explicit from/to range with the same ones.
select * from stg_dora_bands
