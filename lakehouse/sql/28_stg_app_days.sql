-- table: stg_app_days
-- grain: one row per application, environment and day being rebuilt (the spine of the zero-filled day tables)
-- reads: stg_apps, build_params
-- refresh: hourly
select a.app_id, a.environment, cast(d.day as date) as day
from stg_apps as a
cross join build_params as p
cross join unnest(generate_series(p.day_from, p.day_to, interval 1 day)) as d (day)
