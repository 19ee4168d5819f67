-- table: stg_dora_bands
-- grain: one row per band set, DORA metric and performance level
-- reads: none
-- refresh: hourly
--
-- Performance levels as named, versioned band sets. A value gets the best level whose bound it meets:
--   deployment frequency (a cadence: one successful production deployment per day, week or month):
--     elite daily (on demand), high weekly, medium monthly, low below. The bound is the cadence as a rate
--     (1, 1/7, 1/30 a day), but it is met by periods, not deployments: by a deployment in as many of the
--     period's weeks or 31-day months as whole ones fit in it, and on 5 of every 7 of its days for daily (as many
--     days as it holds working days at the fewest), so a burst of deployments on one day counts once (see
--     stg_dora_levels).
--   change lead time (hours from merge to production, median, lower is better):
--     elite < 24 h, high < 1 week, medium < 1 month (720 h), low above.
--   change failure rate (ratio, lower is better):
--     2023: elite <= 5 %, high <= 10 %, medium <= 15 %, low above.
--     2024: the report's cluster values are elite 5 %, high 20 %, medium 10 %, low 40 %, which is not
--     monotone; this set sorts them so a better level never allows more failures:
--     elite <= 5 %, high <= 10 %, medium <= 20 %, low above.
--   failed deployment recovery time and MTTR (hours, median, lower is better):
--     elite < 1 h, high < 1 day, medium < 1 week, low above. (2024 reports high and medium both as < 1 day, and
--     low as 1 week to 1 month: taken as they are, medium would hold nothing and a recovery of a day to a week
--     no level. This set gives medium that gap, < 1 week, which is the 2023 bands.)
select *
from (
    values
    ('2023', 'deployment_frequency', 'elite', 1, 'ge', 1.0),
    ('2023', 'deployment_frequency', 'high', 2, 'ge', 1.0 / 7),
    ('2023', 'deployment_frequency', 'medium', 3, 'ge', 1.0 / 30),
    ('2023', 'deployment_frequency', 'low', 4, 'ge', 0.0),
    ('2023', 'lead_time', 'elite', 1, 'lt', 24.0),
    ('2023', 'lead_time', 'high', 2, 'lt', 168.0),
    ('2023', 'lead_time', 'medium', 3, 'lt', 720.0),
    ('2023', 'lead_time', 'low', 4, 'lt', 'infinity'::double),
    ('2023', 'change_failure_rate', 'elite', 1, 'le', 0.05),
    ('2023', 'change_failure_rate', 'high', 2, 'le', 0.10),
    ('2023', 'change_failure_rate', 'medium', 3, 'le', 0.15),
    ('2023', 'change_failure_rate', 'low', 4, 'le', 1.0),
    ('2023', 'recovery_time', 'elite', 1, 'lt', 1.0),
    ('2023', 'recovery_time', 'high', 2, 'lt', 24.0),
    ('2023', 'recovery_time', 'medium', 3, 'lt', 168.0),
    ('2023', 'recovery_time', 'low', 4, 'lt', 'infinity'::double),
    ('2024', 'deployment_frequency', 'elite', 1, 'ge', 1.0),
    ('2024', 'deployment_frequency', 'high', 2, 'ge', 1.0 / 7),
    ('2024', 'deployment_frequency', 'medium', 3, 'ge', 1.0 / 30),
    ('2024', 'deployment_frequency', 'low', 4, 'ge', 0.0),
    ('2024', 'lead_time', 'elite', 1, 'lt', 24.0),
    ('2024', 'lead_time', 'high', 2, 'lt', 168.0),
    ('2024', 'lead_time', 'medium', 3, 'lt', 720.0),
    ('2024', 'lead_time', 'low', 4, 'lt', 'infinity'::double),
    ('2024', 'change_failure_rate', 'elite', 1, 'le', 0.05),
    ('2024', 'change_failure_rate', 'high', 2, 'le', 0.10),
    ('2024', 'change_failure_rate', 'medium', 3, 'le', 0.20),
    ('2024', 'change_failure_rate', 'low', 4, 'le', 1.0),
    ('2024', 'recovery_time', 'elite', 1, 'lt', 1.0),
    ('2024', 'recovery_time', 'high', 2, 'lt', 24.0),
    ('2024', 'recovery_time', 'medium', 3, 'lt', 168.0),
    ('2024', 'recovery_time', 'low', 4, 'lt', 'infinity'::double)
) as bands (band_set, metric, level, level_rank, op, bound)
