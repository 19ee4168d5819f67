-- table: mv_monitoring_top_risks
-- grain: one row per application in production (the build's production_environment), ranked by risk score (1 = riskiest), with its health
-- reads: stg_app_signals_windows, stg_app_signals_daily, stored_app_traffic_days, stg_dynatrace_entity_map, mv_slo_burn_rates, mv_incidents, mv_deployments, mv_changes, stg_apps, build_params
-- refresh: hourly
--
-- Risk score (0-100, capped), from evidence of the last 7 days before as_of:
--   SLO breach        +30  availability over 7 days below the application's target, with traffic covering at least
--                          min_coverage of the 7 days (below it the SLO says 'insufficient data', and so does this)
--   latency breach    +30  the share of hours of the 7 days whose p95 (or p99) was within the application's threshold
--                          below its latency target, with that percentile reported in at least min_coverage of the
--                          7 days' hours: the latency SLO's rule (mv_slo_app_period) over the last 7 days; p95 is
--                          named when both are below
--   burn rate         +30  1h burn rate > 14.4, else +20 when the 6h and 1h burn rates both > 6 (mv_slo_burn_rates):
--                          the page alert's rules (pages_on_1h, pages_on_6h in macros.sql); a 6h burn the last
--                          hour no longer confirms has stopped
--                          (its reason rounds the rate to one decimal, never down to the threshold it passed)
--   open P1/P2        +20  per priority 1-2 incident open at as_of, at most +40
--   recurring         +15  3 or more incidents opened in 7 days
--   failed changes    +10  per change failure (deployment) or unsuccessful change covering no deployment, at
--                          most +20 (an unsuccessful change covering a deployment is that deployment's failure,
--                          counted with the change when the deployment finished before the 7 days, once however
--                          many unsuccessful changes cover it)
--   error-rate trend  +10  error rate of the last 7 days more than twice the 7 days before (and > 0.1 %); only
--                          with traffic the week before: without it there is nothing to compare with
--                          (its reason shows this week's rate rounded up, the week before's cut, at the third decimal)
--   traffic lost      +20  no traffic measured in the last 7 days after traffic in at least min_coverage of the hours
--                          of the 7 days before, or of the 7 days (UTC) before its last day with traffic, however long
--                          ago: a service gone dark (it or its monitoring down) scores nothing else and must not read
--                          green, nor 'no data' once dark for 14 days; sparse traffic that stopped is not one. Only
--                          when Dynatrace was read over at least min_coverage of the 7 days: hours not read are not
--                          hours without traffic (Dynatrace down a week would make every busy application orange).
--                          A service retired stays so until the mapping no longer maps it (the next build then
--                          attributes its past traffic to no application). The days before the ones this build
--                          rebuilds are those earlier builds stored (stored_app_traffic_days)
-- Health: red when the score reaches 50 or a P1 incident is open; orange from 20; green below;
-- 'no data' when the application had neither traffic nor events (incidents opened, deployments, changes ended)
-- in the 14 days and has no open P1/P2 incident, failed change nor traffic lost: evidence of trouble is never hidden behind
-- 'no data'. Its score and score_* are then null, not 0 (no evidence either way), and it ranks after every
-- application scored.
-- reasons lists the sentences that produced the score, in the order above. A green application whose traffic
-- covered less than min_coverage of the 7 days then says why its SLOs were not judged, with no score: 'SLOs not
-- judged: traffic measured in <n> of the 168 hours of the last 7 days, fewer than the <hours> they need', 'SLOs not
-- judged: no traffic measured in the last 7 days', or 'SLOs not judged: no Dynatrace service mapped to it in
-- production' (none watches it), so that green never passes for healthy SLOs no one measured. One whose traffic
-- covered them but whose latency (p95 or p99) was reported in fewer hours says 'latency SLO not judged: latency
-- reported in <n> of the 168 hours of the last 7 days, fewer than the <hours> it needs'. slos_judged_7d says whether
-- they were (traffic, and p95 or p99, in at least min_coverage of the 7 days), for any health.
-- Each rate comes with what it counts: the
-- requests and errors of the 7 days and of the 7 days before, and their hours with traffic (the coverage the SLO
-- breach and the traffic lost rules read).
-- ServiceNow down: when the incidents' watermark (incidents_read_until) lies more than an hour before as_of
-- (stale_since in macros.sql: ServiceNow is read every 15 minutes, and an hour behind is an ingestion's ordinary lag;
-- the day tables' rule, a day wholly after it, would hide up to a day of P1s), the open P1/P2 and the incidents of
-- 7 and 14 days count only the incidents the lake holds. The score and health are those of what is known, and
-- reasons ends with 'incidents unknown since <watermark> UTC: ServiceNow not read since (only incidents read before
-- count)', so that incidents not read never pass for none. A watermark unknown (null) is no outage.
-- Change requests likewise (changes_read_until; ServiceNow may refuse one table and not the other): the failed
-- changes count only the changes read, and reasons ends with 'changes unknown since <watermark> UTC: ServiceNow not
-- read since (only changes read before count)', so that a failed change not read never passes for none.
-- A lake younger than the 7 days: when the lake first read ServiceNow's incidents within them (incidents_read_from,
-- the build's first read; the as-of hour when it never has), the incidents it holds count, and those opened or
-- updated before may be missing: reasons ends with 'incidents read only since <first read> UTC: ServiceNow first read
-- then (earlier ones may be missing)', or 'incidents unknown: ServiceNow not read yet'. Deployments likewise
-- (deployments_read_from, for the change failures): 'deployments read only since <first read> UTC: first read then
-- (earlier ones may be missing)', or 'deployments unknown: not read yet'. Change requests likewise (changes_read_from,
-- for the unsuccessful changes): 'changes read only since <first read> UTC: ServiceNow first read then (earlier ones
-- may be missing)', or 'changes unknown: ServiceNow not read yet'. A first read unknown (null: a lake an older
-- release wrote) says nothing. Not read yet, the counts are unknown, never 0: open_p1_p2 and incidents_7d are null
-- when the incidents were not, failed_changes_7d when neither the deployments nor the change requests were
-- (changes_read_from); the score and health count what the lake holds, as has_data does.
-- Dynatrace down (signals_read_until, as mv_slo_burn_rates has it: read up to more than an hour before as_of): the
-- SLO, latency, burn, trend and traffic rules read the hours read, and reasons ends with 'golden signals unknown
-- since <watermark> UTC: Dynatrace not read since (only hours read before count)' for an application it watches (a
-- Dynatrace service mapped to it in production, stg_dynatrace_entity_map) or measured in the 14 days, so that a burn
-- not read never passes for none. Not from its traffic alone: an outage longer than the 14 days leaves none in them.
with params as (
    -- A parameter left None has no type of its own (see inputs.register_inputs).
    select
        * replace (
            cast(incidents_read_until as timestamptz) as incidents_read_until,
            cast(changes_read_until as timestamptz) as changes_read_until,
            cast(incidents_read_from as timestamptz) as incidents_read_from,
            cast(deployments_read_from as timestamptz) as deployments_read_from,
            cast(changes_read_from as timestamptz) as changes_read_from
        ),
        -- The hours of the last 7 days Dynatrace was read over: all of them unless it is down (see macros.sql).
        -- (greatest() skips a null: the watermark's absence is coalesced first.)
        greatest(
            coalesce(
                epoch(signals_unread_since(as_of, cast(signals_read_until as timestamptz)) - (as_of - interval 7 day))
                / 3600,
                7 * 24
            ),
            0
        ) as signal_hours_read_7d
    from build_params
),

apps as (
    select a.* from stg_apps as a cross join params as bp where a.environment = bp.production_environment
),

traffic as (
    select
        app_id,
        sum(requests) filter (where window_name = 'last_7d') as requests_7d,
        sum(errors) filter (where window_name = 'last_7d') as errors_7d,
        sum(measured_hours) filter (where window_name = 'last_7d') as measured_hours_7d,
        sum(requests) filter (where window_name = 'previous_7d') as requests_prev_7d,
        sum(measured_hours) filter (where window_name = 'previous_7d') as measured_hours_prev_7d,
        sum(errors) filter (where window_name = 'previous_7d') as errors_prev_7d,
        sum(latency_measured_hours) filter (where window_name = 'last_7d') as latency_measured_hours_7d,
        sum(latency_p95_good_hours) filter (where window_name = 'last_7d') as latency_p95_good_hours_7d,
        sum(latency_p99_measured_hours) filter (where window_name = 'last_7d') as latency_p99_measured_hours_7d,
        sum(latency_p99_good_hours) filter (where window_name = 'last_7d') as latency_p99_good_hours_7d
    from stg_app_signals_windows as w
    cross join params as bp
    -- last_14d holds the others: an application has a row when it had traffic in the 14 days.
    where w.environment = bp.production_environment and w.window_name in ('last_14d', 'last_7d', 'previous_7d')
    group by app_id
),

-- Each application's last day with traffic before as_of, and its hours with traffic in the 7 days before that day:
-- the days earlier builds stored, then this build's (from day_from on).
traffic_days as (
    select d.app_id, d.day, d.measured_hours
    from stored_app_traffic_days as d
    cross join params as bp
    where d.environment = bp.production_environment
    union all
    select s.app_id, s.day, s.measured_hours
    from stg_app_signals_daily as s
    cross join params as bp
    where s.environment = bp.production_environment and s.day >= bp.day_from and s.measured_hours > 0
),

last_traffic as (
    select
        l.app_id,
        l.last_traffic_day,
        cast(coalesce(sum(d.measured_hours), 0) as bigint) as measured_hours_before_last_day
    from (select app_id, max(day) as last_traffic_day from traffic_days group by app_id) as l
    left join traffic_days as d
        on d.app_id = l.app_id and d.day >= l.last_traffic_day - 7 and d.day < l.last_traffic_day
    group by l.app_id, l.last_traffic_day
),

-- Open means open at as_of, as the backlog of mv_incidents_app_day: opened before it and not restored before it (an
-- incident opened after as_of, ingested ahead of the build, has not happened yet; one restored after it still ran).
incidents as (
    select
        i.app_id,
        count(*) filter (where i.open_at_as_of and i.priority <= 2) as open_p1_p2,
        count(*) filter (where i.open_at_as_of and i.priority = 1) as open_p1,
        count(*) filter (where i.opened_at >= bp.as_of - interval 7 day and i.opened_at < bp.as_of) as opened_7d,
        count(*) filter (where i.opened_at >= bp.as_of - interval 14 day and i.opened_at < bp.as_of) as opened_14d
    from (
        select
            i.*,
            i.opened_at < bp.as_of and (i.restored_at is null or i.restored_at >= bp.as_of) as open_at_as_of
        from mv_incidents as i
        cross join params as bp
    ) as i
    cross join params as bp
    where i.environment = bp.production_environment and not i.is_canceled
    group by i.app_id
),

failures as (
    select
        d.app_id,
        count(*) filter (where d.is_change_failure_full and d.finished_at >= bp.as_of - interval 7 day)
            as change_failures_7d,
        count(*) as deployments_14d
    from mv_deployments as d
    cross join params as bp
    where
        d.environment = bp.production_environment
        and d.finished_at >= bp.as_of - interval 14 day
        and d.finished_at < bp.as_of
    group by d.app_id
),

-- An unsuccessful change counts here unless the deployment it covers is counted above: one that finished in
-- the 7 days. A change ending in them over a deployment that finished just before still counts, once: two such
-- changes over one deployment are one failure, that deployment's. A change not canceled that ended in the 14 days
-- is an event of them (one under way, with no end yet, has not ended).
-- The applications Dynatrace watches in production: a service of theirs is mapped, whether or not it was read.
watched as (
    select distinct m.app_id
    from stg_dynatrace_entity_map as m
    cross join params as bp
    where m.environment = bp.production_environment
),

changes as (
    select
        c.app_id,
        count(distinct coalesce(c.deployment_key, c.sys_id)) filter (
            where c.is_failed and c.change_end >= bp.as_of - interval 7 day and (
                not c.covers_deployment or d.finished_at < bp.as_of - interval 7 day
            )
        ) as unsuccessful_changes_7d,
        count(*) filter (where not c.is_canceled) as changes_14d
    from mv_changes as c
    cross join params as bp
    left join mv_deployments as d on c.deployment_key = d.deployment_key
    where
        c.environment = bp.production_environment
        and c.change_end >= bp.as_of - interval 14 day
        and c.change_end < bp.as_of
    group by c.app_id
),

evidence as (
    select
        a.app_id,
        a.app_name,
        a.team,
        a.group_id,
        a.domain,
        a.availability_target,
        a.latency_target,
        a.latency_p95_threshold_ms,
        a.latency_p99_threshold_ms,
        t.requests_7d,
        t.errors_7d,
        case when t.requests_7d > 0 then (t.requests_7d - t.errors_7d) / t.requests_7d end as availability_7d,
        coalesce(t.measured_hours_7d, 0) / (7 * 24) >= bp.min_coverage as slo_covered_7d,
        -- The fewest hours with traffic that cover min_coverage of the 7 days (the 1e-9 only absorbs binary error).
        cast(ceil(7 * 24 * bp.min_coverage - 1e-9) as bigint) as slo_hours_needed_7d,
        w.app_id is not null as watched,
        case when t.latency_measured_hours_7d > 0 then t.latency_p95_good_hours_7d / t.latency_measured_hours_7d end
            as latency_p95_sli_7d,
        case
            when t.latency_p99_measured_hours_7d > 0 then t.latency_p99_good_hours_7d / t.latency_p99_measured_hours_7d
        end as latency_p99_sli_7d,
        coalesce(t.latency_measured_hours_7d, 0) / (7 * 24) >= bp.min_coverage as latency_p95_covered_7d,
        coalesce(t.latency_p99_measured_hours_7d, 0) / (7 * 24) >= bp.min_coverage as latency_p99_covered_7d,
        -- The hours of the percentile reported the more: the latency SLO is judged on either.
        cast(greatest(coalesce(t.latency_measured_hours_7d, 0), coalesce(t.latency_p99_measured_hours_7d, 0)) as bigint)
            as latency_hours_7d,
        case when t.requests_7d > 0 then t.errors_7d / t.requests_7d end as error_rate_7d,
        case when t.requests_prev_7d > 0 then t.errors_prev_7d / t.requests_prev_7d end as error_rate_prev_7d,
        t.requests_prev_7d,
        t.errors_prev_7d,
        -- Counts: BIGINT, not sum()'s HUGEINT.
        cast(coalesce(t.measured_hours_7d, 0) as bigint) as measured_hours_7d,
        cast(coalesce(t.measured_hours_prev_7d, 0) as bigint) as measured_hours_prev_7d,
        -- The week before the last 7 first (its sentence gives the requests), else the week before the last day
        -- with traffic, for a service dark longer than the 7 days before the last 7 can show.
        case
            when coalesce(t.measured_hours_7d, 0) > 0 or bp.signal_hours_read_7d / (7 * 24) < bp.min_coverage then null
            when coalesce(t.measured_hours_prev_7d, 0) / (7 * 24) >= bp.min_coverage then 'the week before'
            when coalesce(l.measured_hours_before_last_day, 0) / (7 * 24) >= bp.min_coverage then 'before its last day'
        end as traffic_lost_after,
        traffic_lost_after is not null as traffic_lost,
        l.last_traffic_day,
        l.measured_hours_before_last_day,
        b.burn_rate_1h,
        b.burn_rate_6h,
        -- Only for an application Dynatrace watches, or measured in the 14 days: one it does not watch has no
        -- signals to miss. Traffic alone would not do: a long outage leaves none in the 14 days.
        case when w.app_id is not null or t.app_id is not null then b.signals_read_until end as signals_unknown_since,
        coalesce(i.open_p1_p2, 0) as open_p1_p2,
        coalesce(i.open_p1, 0) as open_p1,
        coalesce(i.opened_7d, 0) as incidents_7d,
        coalesce(f.change_failures_7d, 0) + coalesce(c.unsuccessful_changes_7d, 0) as failed_changes_7d,
        t.app_id is not null or traffic_lost or coalesce(i.opened_14d, 0) > 0 or coalesce(f.deployments_14d, 0) > 0
        or coalesce(c.changes_14d, 0) > 0 or coalesce(i.open_p1_p2, 0) > 0 or coalesce(f.change_failures_7d, 0) + coalesce(c.unsuccessful_changes_7d, 0) > 0
            as has_data,
        case when bp.incidents_read_from > bp.as_of - interval 7 day then bp.incidents_read_from end
            as incidents_read_since,
        case when bp.deployments_read_from > bp.as_of - interval 7 day then bp.deployments_read_from end
            as deployments_read_since,
        case when bp.changes_read_from > bp.as_of - interval 7 day then bp.changes_read_from end
            as changes_read_since,
        -- Hours, not days: ServiceNow is read every 15 minutes, and a day read in part can hide a P1 opened since.
        stale_since(bp.as_of, bp.incidents_read_until) as incidents_unknown_since,
        stale_since(bp.as_of, bp.changes_read_until) as changes_unknown_since,
        -- Not read yet: first read at or after as_of (a first read unknown, null, says nothing). The failed changes
        -- are found in deployments and in change requests alike: unknown only when neither was read.
        coalesce(bp.incidents_read_from >= bp.as_of, false) as incidents_not_read,
        coalesce(bp.deployments_read_from >= bp.as_of and bp.changes_read_from >= bp.as_of, false)
            as failed_changes_not_read
    from apps as a
    cross join params as bp
    left join traffic as t on a.app_id = t.app_id
    left join last_traffic as l on a.app_id = l.app_id
    left join watched as w on a.app_id = w.app_id
    left join mv_slo_burn_rates as b on a.app_id = b.app_id and b.environment = bp.production_environment
    left join incidents as i on a.app_id = i.app_id
    left join failures as f on a.app_id = f.app_id
    left join changes as c on a.app_id = c.app_id
),

scored as (
    select
        *,
        case when slo_covered_7d and availability_7d < availability_target then 30 else 0 end as score_slo,
        case
            when latency_p95_covered_7d and latency_p95_sli_7d < latency_target then 'p95'
            when latency_p99_covered_7d and latency_p99_sli_7d < latency_target then 'p99'
        end as latency_breached,
        case when latency_breached is not null then 30 else 0 end as score_latency_slo,
        case when latency_breached = 'p95' then latency_p95_threshold_ms else latency_p99_threshold_ms end
            as latency_breached_threshold_ms,
        case when latency_breached = 'p95' then latency_p95_sli_7d else latency_p99_sli_7d end as latency_breached_sli,
        case
            when pages_on_1h(burn_rate_1h) then 30 when pages_on_6h(burn_rate_6h, burn_rate_1h) then 20 else 0
        end as score_burn,
        least(open_p1_p2 * 20, 40) as score_open_incidents,
        case when incidents_7d >= 3 then 15 else 0 end as score_recurring,
        least(failed_changes_7d * 10, 20) as score_failed_changes,
        case
            when error_rate_7d > 0.001 and error_rate_7d > 2 * error_rate_prev_7d then 10 else 0
        end as score_trend,
        case when traffic_lost then 20 else 0 end as score_traffic_lost
    from evidence
),

totals as (
    select
        *,
        least(
            score_slo + score_latency_slo + score_burn + score_open_incidents + score_recurring + score_failed_changes
            + score_trend + score_traffic_lost,
            100
        ) as risk_score,
        case
            when not has_data then 'no data'
            when risk_score >= 50 or open_p1 > 0 then 'red'
            when risk_score >= 20 then 'orange'
            else 'green'
        end as health,
        list_filter(
            [
                -- The availability cut, not rounded, at the third decimal: one just under the target never reads as
                -- the target (the 1e-6 only absorbs binary error, 0.99 being a hair under 99000 / 100000).
                case when score_slo > 0 then format('availability {:.3f}% over 7 days is below the {}% target',
                    floor(100000 * availability_7d + 1e-6) / 1000, target_percent(availability_target)) end,
                -- The share of good hours cut at the third decimal too, so that it never reads as its target.
                -- A threshold in whole milliseconds reads without decimals (500 ms), any other as it is (99.5 ms).
                case when score_latency_slo > 0 then format(
                    '{} latency within {} ms in {:.3f}% of the hours over 7 days is below the {}% target',
                    latency_breached,
                    case
                        when latency_breached_threshold_ms = floor(latency_breached_threshold_ms)
                            then format('{:,.0f}', latency_breached_threshold_ms)
                        else cast(latency_breached_threshold_ms as varchar)
                    end,
                    floor(100000 * latency_breached_sli + 1e-6) / 1000,
                    target_percent(latency_target)) end,
                -- Rounded, but never down to the threshold it passed (14.42x is over 14.4x: it reads 14.5x).
                case when score_burn = 30 then format('error budget burning {:.1f}x over the last hour',
                    greatest(round(burn_rate_1h, 1), 14.5))
                    when score_burn = 20 then format('error budget burning {:.1f}x over 6 hours',
                    greatest(round(burn_rate_6h, 1), 6.1)) end,
                case when score_open_incidents > 0 then format('{} open P1/P2 incident(s)', open_p1_p2) end,
                case when score_recurring > 0 then format('{} incidents in 7 days', incidents_7d) end,
                case when score_failed_changes > 0 then format('{} failed change(s) in 7 days', failed_changes_7d) end,
                -- This week's rate rounded up, the week before's cut, at the third decimal: the sentence holds as
                -- the figures read (0.20042 % over 0.1 % would round to 0.20 % over 0.10 %, not more than twice).
                case when score_trend > 0 then format(
                    'error rate {:.3f}% is more than twice the previous week''s {:.3f}%',
                    ceil(100000 * error_rate_7d - 1e-6) / 1000, floor(100000 * error_rate_prev_7d + 1e-6) / 1000) end,
                case when traffic_lost_after = 'the week before' then format(
                    'no traffic measured in the last 7 days ({:,.0f} requests the 7 days before)', requests_prev_7d)
                    when traffic_lost_after = 'before its last day' then format(
                    'no traffic measured after {}, its last day with traffic (traffic in {} of the 168 hours of the 7 '
                    'days before it)', strftime(last_traffic_day, '%Y-%m-%d'), measured_hours_before_last_day)
                end,
                -- No score: a green that says nothing of the SLOs, too few hours measured to judge them, says so
                -- (red and orange have their reasons already; traffic lost has its own). With the traffic to judge
                -- availability, the latency SLO still needs its percentile reported in as many hours.
                case when health = 'green' and not slo_covered_7d then
                    case
                        when measured_hours_7d = 0 and not watched
                            then 'SLOs not judged: no Dynatrace service mapped to it in production'
                        when measured_hours_7d = 0 then 'SLOs not judged: no traffic measured in the last 7 days'
                        else format('SLOs not judged: traffic measured in {} of the 168 hours of the last 7 days, '
                            'fewer than the {} they need', measured_hours_7d, slo_hours_needed_7d)
                    end
                    when health = 'green' and not latency_p95_covered_7d and not latency_p99_covered_7d then format(
                        'latency SLO not judged: latency reported in {} of the 168 hours of the last 7 days, fewer '
                        'than the {} it needs', latency_hours_7d, slo_hours_needed_7d)
                end,
                first_read_reason(incidents_read_since, (select as_of from build_params),
                    'incidents unknown: ServiceNow not read yet',
                    'incidents read only since {} UTC: ServiceNow first read then (earlier ones may be missing)'),
                first_read_reason(deployments_read_since, (select as_of from build_params),
                    'deployments unknown: not read yet',
                    'deployments read only since {} UTC: first read then (earlier ones may be missing)'),
                first_read_reason(changes_read_since, (select as_of from build_params),
                    'changes unknown: ServiceNow not read yet',
                    'changes read only since {} UTC: ServiceNow first read then (earlier ones may be missing)'),
                case when incidents_unknown_since is not null then format(
                    'incidents unknown since {} UTC: ServiceNow not read since (only incidents read before count)',
                    utc_minute(incidents_unknown_since)) end,
                case when changes_unknown_since is not null then format(
                    'changes unknown since {} UTC: ServiceNow not read since (only changes read before count)',
                    utc_minute(changes_unknown_since)) end,
                case when signals_unknown_since is not null then format(
                    'golden signals unknown since {} UTC: Dynatrace not read since (only hours read before count)',
                    utc_minute(signals_unknown_since)) end
            ],
            lambda x: x is not null
        ) as reasons
    from scored
)

select
    -- An application with no data ranks after every one scored, 0 included (its score is null, not 0).
    row_number() over (
        order by has_data desc, risk_score desc, open_p1_p2 desc, error_rate_7d desc nulls last, app_id
    ) as rank,
    app_id,
    app_name,
    team,
    group_id,
    domain,
    -- No data is no score: every rule scored 0 for want of evidence, not for evidence of health.
    case when has_data then risk_score end as risk_score,
    health,
    reasons,
    case when has_data then score_slo end as score_slo,
    case when has_data then score_latency_slo end as score_latency_slo,
    case when has_data then score_burn end as score_burn,
    case when has_data then score_open_incidents end as score_open_incidents,
    case when has_data then score_recurring end as score_recurring,
    case when has_data then score_failed_changes end as score_failed_changes,
    case when has_data then score_trend end as score_trend,
    case when has_data then score_traffic_lost end as score_traffic_lost,
    availability_7d,
    availability_target,
    latency_p95_sli_7d,
    latency_p99_sli_7d,
    latency_target,
    error_rate_7d,
    error_rate_prev_7d,
    burn_rate_1h,
    burn_rate_6h,
    -- A count of a source not read yet is unknown, never 0 (the score above counted what the lake holds).
    case when not incidents_not_read then open_p1_p2 end as open_p1_p2,
    case when not incidents_not_read then incidents_7d end as incidents_7d,
    case when not failed_changes_not_read then failed_changes_7d end as failed_changes_7d,
    requests_7d,
    errors_7d,
    measured_hours_7d,
    -- Whether the SLOs could be judged (mv_health names the green applications whose were not).
    slo_covered_7d and (latency_p95_covered_7d or latency_p99_covered_7d) as slos_judged_7d,
    requests_prev_7d,
    errors_prev_7d,
    measured_hours_prev_7d
from totals
