-- table: stg_app_thresholds
-- grain: one row per application and environment: its latency thresholds, keyed on the hourly signals' types
-- reads: stg_apps
-- refresh: hourly
--
-- What stg_app_signals_daily and stg_app_signals_windows hold each application hour against. Its keys are the
-- ENUM types the hourly signals are grouped on, so that their join compares small integers. Every application
-- with hours is here: both come from the mapping.
select
    cast(app_id as mapped_app_id) as app_id,
    cast(environment as mapped_environment) as environment,
    latency_p95_threshold_ms,
    latency_p99_threshold_ms
from stg_apps
