-- table: stg_dora_levels
-- grain: one row per DORA scope, environment, period, correlation mode and band set
-- reads: stg_dora_facts, stg_dora_scopes, stg_dora_bands
-- refresh: daily
--
-- Each metric carries its numerator, denominator and sample size, a state, and its performance level in
-- the band set (see stg_dora_bands). Too little data is a state, never a zero:
--   deployment frequency: 'no deployments' when none succeeded (the value is then 0 and no level is given);
--   'insufficient data' for a period that ended before the lake read any deployment (see stg_periods), whose value
--   is null. Over a period the lake read part of, the value and the cadence are those of that part.
--   Its level is a cadence (daily, weekly, monthly), met by periods with a deployment, not by deployments:
--   the period is cut back from its end into days, weeks and months of 31 days, the longest calendar month
--   (stg_dora_facts), and a cadence is met when at least as many of its blocks hold a successful deployment as whole
--   ones fit in the period (floor(deployment_days / 7 or 31); the part block at the start may stand in for a whole one), and for daily on 5
--   of every 7 days: on as many days as the period holds working days at the fewest, 5 in each whole week and all
--   but 2 of the days left over, which may be a weekend: a team deploying every working day is daily, its weekends
--   quiet, whatever day the period starts on. Its days are the 24 h blocks or the UTC days, whichever hold more
--   (stg_dora_facts): a team deploying on every working day, on some before the as-of hour, is daily; its weeks the
--   7-day blocks or the calendar weeks, whichever hold more: a team deploying in every calendar week is weekly. In
--   the last 30 days: daily needs a deployment on 20 of the 30 days
--   (4 whole weeks and 2 days, a weekend when the period starts on a Saturday), weekly in 4 of the weeks, monthly
--   with any deployment (no whole month fits); in a 31-day month daily needs 21 days, in 90 days 64. A deployment
--   on the 1st of each month is monthly over any 90 days (2 whole months), where 30-day months asked for 3 that
--   some 90 days, holding only 2 of its deployments, could not fill.
--   Deployments on a Friday of each of 4 weeks are weekly, though 4 / 30 a day is under 1/7; 1 in a 31-day month
--   and one a month in a 92-day quarter are monthly; 30 on one day, or 4 in the first week of the 30 days, are
--   neither daily nor weekly. A team's (group's, domain's) days, weeks and months are those any of its
--   applications deployed in. With no whole block in the period, one deployment meets the cadence.
--   lead time: 'insufficient data' without a deployed merge request
--   change failure rate: 'insufficient data' without a deployment attempt
--   recovery time: 'insufficient data' without a deployment attempt, 'no change failures' / 'not recovered';
--   'insufficient data' too when the only recoveries have no time (an incident restored before it opened)
--   MTTR: 'no incidents restored'; 'insufficient data' when none of those restored has a duration, or when none
--   was restored in a period that ended before the lake read any incident (stg_periods.incidents_read; stg_dora_facts
--   counts no restore of such a period, as those the lake holds of it are only the incidents edited again since)
--   rework rate: 'no deployments' when none succeeded (no rate, never 0 %); 'insufficient data' as for frequency
--   change failure rate, recovery time and rework rate: 'insufficient data' too, with no rate, median nor level, when
--   the period ended before the lake read any incident or any change request (stg_periods.incidents_read,
--   changes_read) and a ServiceNow CI ties the scope to them: each is found through both (a change failure through an
--   incident, linked through its change or not, or a failed change; its recovery when that incident is
--   restored; rework under an emergency change or as a fix forward of an incident), so with either unread the rate
--   could miss failures and the median the recoveries: the numerator is then null, the recovery sample 0. A scope
--   with no CI finds nothing through ServiceNow whether read or not, and keeps its figures.
-- A sample (recovery_sample, mttr_sample) is the values its median is taken over: a recovery or an incident without
-- a time is left out of it, so that a sample is never counted over a median that has no value.
-- change_failures_not_recovered: the change failures still not recovered at as_of, which the recovery time's median
-- leaves out (it is over those recovered, as DORA defines it); 'ok' says that at least one recovered, not that all
-- did, so the row counts the others beside the median. A rollup sums its applications' (it counts their events).
-- Null when the change failures are unknown (ServiceNow not read over the period: see above).
-- incidents_read_until: how far the lake had read incidents when the period's last day lies wholly after it (see
-- stg_periods): the change failure rate, recovery time, rework rate and MTTR then count only the incidents read before
-- it, and the row says so rather than a state, as their values are what is known. changes_read_until likewise for
-- change requests: the change failure rate, recovery time and rework rate count only the changes read before it.
-- deployments_read_until likewise for deployments: every metric but MTTR misses those after it of the source not read.
-- incidents_read_from, changes_read_from: when the lake first read them, if after the period's start (see stg_periods):
-- over a period read in part, the figures found through them count only what was read from there on, and the row
-- says so rather than a state, as for the watermarks.
-- Before those, 'not mapped' when the mapping ties none of the scope's applications to the metric's source (see
-- stg_dora_scopes): deployment frequency, change failure rate, recovery time and rework rate without an ArgoCD
-- application or GitLab project, lead time without a GitLab project, MTTR without a ServiceNow CI. Nothing can be
-- found for it, so neither a zero nor 'no deployments' would be true; the value and the level are then null.
with sources as (
    select
        level,
        level_id,
        environment,
        bool_or(deploys_mapped) as deploys_mapped,
        bool_or(merge_requests_mapped) as merge_requests_mapped,
        bool_or(incidents_mapped) as incidents_mapped
    from stg_dora_scopes
    group by level, level_id, environment
),

mapped_facts as (
    select
        f.*,
        coalesce(m.deploys_mapped, false) as deploys_mapped,
        coalesce(m.merge_requests_mapped, false) as merge_requests_mapped,
        coalesce(m.incidents_mapped, false) as incidents_mapped,
        -- The change failures, their recoveries and the rework are found through incidents and change requests alike:
        -- a period that ended before the lake read either has them unknown, where a ServiceNow CI ties the scope.
        coalesce(m.incidents_mapped, false) and not (f.incidents_read and f.changes_read) as servicenow_unread
    from stg_dora_facts as f
    left join sources as m on f.level = m.level and f.level_id = m.level_id and f.environment = m.environment
),

facts as (
    select
        f.* replace (
            case when not f.servicenow_unread then f.change_failures end as change_failures,
            case when not f.servicenow_unread then f.rework_deployments end as rework_deployments,
            case when not f.servicenow_unread then f.recovery_median_hours end as recovery_median_hours,
            case when not f.servicenow_unread then f.recoveries else 0 end as recoveries,
            case when not f.servicenow_unread then f.not_recovered end as not_recovered
        ),
        s.band_set,
        coalesce(f.deployments / f.deployment_days, 0) as deployment_frequency_per_day,
        case when f.attempts > 0 and not f.servicenow_unread then f.change_failures / f.attempts end
            as change_failure_rate,
        case when f.deployments > 0 and not f.servicenow_unread then f.rework_deployments / f.deployments end
            as rework_rate,
        -- The fewest working days the period's days hold, wherever they fall: 5 in each whole week, and all but 2
        -- of the days left over (a weekend may be among them). 5 / 7 of the days would ask 21 of 30 days, where
        -- 30 days starting on a Saturday hold 20 working days.
        5 * floor(f.deployment_days / 7 + 1e-9)
        + greatest(floor(f.deployment_days - 7 * floor(f.deployment_days / 7 + 1e-9) + 1e-9) - 2, 0) as working_days
    from mapped_facts as f
    cross join (select distinct band_set from stg_dora_bands) as s
),

-- the best level whose bound each value meets (bands are ordered elite = 1 ... low = 4)
levels as (
    select
        f.level,
        f.level_id,
        f.environment,
        f.period,
        f.correlation_mode,
        f.band_set,
        -- A cadence (the band's bound is one deployment per 1, 7 or 30 days) is met when as many of the period's
        -- days, weeks or months (31 days: see stg_dora_facts) hold a deployment as whole ones fit in it; counting blocks, not deployments, keeps
        -- a burst from standing for a cadence (the small epsilon keeps 28 * (1/7) from flooring to 3).
        arg_min(b.level, b.level_rank) filter (
            where
                b.metric = 'deployment_frequency' and f.deployments > 0
                and (
                    b.bound = 0
                    or case round(1 / b.bound)
                        -- Daily asks for 5 of every 7 days: weekends are not held against a team.
                        when 1 then f.days_with_deployments >= f.working_days
                        when 7 then f.weeks_with_deployments >= floor(f.deployment_days * b.bound + 1e-9)
                        when 30 then f.months_with_deployments >= floor(f.deployment_days / 31 + 1e-9)
                    end
                )
        ) as deployment_frequency_level,
        arg_min(b.level, b.level_rank) filter (
            where b.metric = 'lead_time' and f.lead_time_median_hours < b.bound
        ) as lead_time_level,
        arg_min(b.level, b.level_rank) filter (
            where b.metric = 'change_failure_rate' and f.change_failure_rate <= b.bound
        ) as change_failure_level,
        arg_min(b.level, b.level_rank) filter (
            where b.metric = 'recovery_time' and f.recovery_median_hours < b.bound
        ) as recovery_level,
        -- MTTR on the same bands as the failed deployment recovery time (see stg_dora_bands).
        arg_min(b.level, b.level_rank) filter (
            where b.metric = 'recovery_time' and f.mttr_median_hours < b.bound
        ) as mttr_level
    from facts as f
    inner join stg_dora_bands as b on f.band_set = b.band_set
    group by f.level, f.level_id, f.environment, f.period, f.correlation_mode, f.band_set
)

select
    f.level,
    f.level_id,
    f.environment,
    f.applications,
    f.period,
    f.period_start,
    f.period_end,
    f.correlation_mode,
    f.band_set,
    f.deployments_from,
    f.incidents_read_from,
    f.changes_read_from,
    f.incidents_read_until,
    f.changes_read_until,
    f.deployments_read_until,
    f.deployments as deployment_frequency_numerator,
    f.deployment_days as deployment_frequency_denominator_days,
    f.deploy_days,
    f.days_with_deployments,
    f.weeks_with_deployments,
    f.months_with_deployments,
    case when f.deploys_mapped and f.deployments_read then f.deployment_frequency_per_day end
        as deployment_frequency_per_day,
    case
        when not f.deploys_mapped then 'not mapped'
        when not f.deployments_read then 'insufficient data'
        when f.deployments > 0 then 'ok'
        else 'no deployments'
    end as deployment_frequency_state,
    l.deployment_frequency_level,
    f.changes as lead_time_sample,
    f.lead_time_median_hours,
    f.lead_time_p90_hours,
    case
        when not f.merge_requests_mapped then 'not mapped' when f.changes > 0 then 'ok' else 'insufficient data'
    end as lead_time_state,
    l.lead_time_level,
    f.change_failures as change_failure_numerator,
    f.attempts as change_failure_denominator,
    f.change_failure_rate,
    case
        when not f.deploys_mapped then 'not mapped'
        when f.attempts > 0 and not f.servicenow_unread then 'ok'
        else 'insufficient data'
    end as change_failure_state,
    l.change_failure_level,
    f.recoveries as recovery_sample,
    f.recovery_median_hours,
    f.not_recovered as change_failures_not_recovered,
    case
        when not f.deploys_mapped then 'not mapped'
        when f.attempts = 0 or f.servicenow_unread then 'insufficient data'
        when f.change_failures = 0 then 'no change failures'
        when f.recovered = 0 then 'not recovered'
        when f.recoveries = 0 then 'insufficient data'
        else 'ok'
    end as recovery_state,
    l.recovery_level,
    f.incidents_timed as mttr_sample,
    f.mttr_median_hours,
    case
        when not f.incidents_mapped then 'not mapped'
        when f.incidents_timed > 0 then 'ok'
        when f.incidents_restored > 0 or not f.incidents_read then 'insufficient data'
        else 'no incidents restored'
    end as mttr_state,
    l.mttr_level,
    f.rework_deployments as rework_numerator,
    f.deployments as rework_denominator,
    f.rework_rate,
    case
        when not f.deploys_mapped then 'not mapped'
        when not f.deployments_read then 'insufficient data'
        when f.deployments = 0 then 'no deployments'
        when f.servicenow_unread then 'insufficient data'
        else 'ok'
    end as rework_state
from facts as f
inner join levels as l
    on
        f.level = l.level and f.level_id = l.level_id and f.environment = l.environment and f.period = l.period
        and f.correlation_mode = l.correlation_mode and f.band_set = l.band_set
