-- Rules that several aggregate files apply, each written once. They are macros because the same SQL runs in more
-- than one place: the build (lakehouse/aggregates/build.py) and the API, which runs 40 and 41 again over from/to
-- ranges (functions/api/queries.py). Both define these macros on their connection before running any file. This
-- file counts in the SQL version a build records: changing a rule here makes the next build a full rebuild.

-- The error budget of `measured` under a target T: B x measured, B = 1 - T as the decimal the target was written as,
-- exact (1 - 0.9995 in binary floating point is a hair under 0.0005: a burn rate exactly at a threshold would pass
-- it, and a budget spent to the last request would read as overspent). Requests under an availability target, or
-- hours with a latency percentile measured under a latency target (the bad hours it allows).
create or replace macro error_budget(target, measured) as
    (1 - cast(target as decimal(18, 12))) * cast(measured as decimal(38, 6));

-- An error budget's share consumed (bad / allowed: 1 = all of it) and left ((allowed - bad) / allowed, one rounding,
-- not two; negative when overspent), of requests (availability) or of hours (latency). Null without a budget: without
-- traffic (for latency, without an hour of that percentile measured), or under a 100 % latency target, which allows
-- no bad hour (availability targets are under 1). Given whatever the coverage, as the status says 'insufficient data'
-- beside it. The SLO periods (40) and their rollups (41) give every budget by this rule.
create or replace macro budget_consumed(bad, allowed) as
    case when allowed > 0 then bad / cast(allowed as double) end;
create or replace macro budget_remaining(bad, allowed) as
    case when allowed > 0 then cast(allowed - bad as double) / cast(allowed as double) end;

-- A rollup's target: its applications' targets weighted by their requests (or hours), from the exact decimal sum of
-- target x weight (`weighted`) over the weights' sum (`total`). That sum made a double is rounded at its own size, and
-- divided it read 0.9949999999999999 for applications all at 99.5 %: one minus the share left to the budget, a small
-- number, keeps the target's digits. A whole sum is divided as it is: exact, as the availability it is held against.
create or replace macro weighted_target(weighted, total) as
    case
        when total > 0 and weighted = floor(weighted) then cast(weighted as double) / total
        when total > 0 then 1 - cast(cast(total as decimal(38, 12)) - weighted as double) / total
    end;

-- A rollup's mean of a ratio (a coverage) weighted by a count (its requests, or hours), an aggregate: each product
-- made an exact decimal before the sum, as the budgets are, so that the sum does not move in its last digit with the
-- order the build's threads add in (an hourly build's against a full rebuild's). Null when the weights sum to 0.
create or replace macro exact_weighted_mean(ratio, weight) as
    cast(sum(cast(ratio * weight as decimal(38, 12))) as double) / nullif(sum(weight), 0);

-- A burn rate: errors / the error budget of the same requests (1 = spending exactly the budget). No rate without
-- a budget, that is without traffic.
create or replace macro burn_rate(errors, budget) as
    case when budget > 0 then errors / cast(budget as double) end;

-- The page alert's two rules (Google SRE workbook, 30-day budget): 2 % of the budget in an hour (the workbook's
-- 5-minute confirmation window is below the hourly resolution, so the 1h window confirms itself), and 5 % in six
-- hours that the last hour still confirms. mv_monitoring_top_risks scores them apart.
create or replace macro pages_on_1h(burn_rate_1h) as burn_rate_1h > 14.4;
create or replace macro pages_on_6h(burn_rate_6h, burn_rate_1h) as burn_rate_6h > 6 and burn_rate_1h > 6;

-- The multi-window burn-rate alert, the first rule that holds: page (the two rules above), ticket when 24h > 3 and
-- 2h > 3 (10 % of the budget in a day), ticket when 3d > 1 and 6h > 1; 'no data' when no window has a rate (no
-- traffic in any), or when Dynatrace is down (`signals_unread`, see signals_unread_since: the short windows' rates
-- are then those of the hours read, and an idle hour cannot be told from one not read): none would say the budget
-- is safe, which nothing measured says; else none.
create or replace macro burn_rate_alert(
    burn_rate_1h, burn_rate_2h, burn_rate_6h, burn_rate_24h, burn_rate_3d, signals_unread
) as
    case
        when pages_on_1h(burn_rate_1h) then 'page'
        when pages_on_6h(burn_rate_6h, burn_rate_1h) then 'page'
        when burn_rate_24h > 3 and burn_rate_2h > 3 then 'ticket'
        when burn_rate_3d > 1 and burn_rate_6h > 1 then 'ticket'
        when signals_unread then 'no data'
        when coalesce(burn_rate_1h, burn_rate_2h, burn_rate_6h, burn_rate_24h, burn_rate_3d) is null then 'no data'
        else 'none'
    end;

-- A source's watermark (how far the lake read it) when it lies more than an hour before `as_of`: the source down
-- since, what happened after it unknown, not none. An hour behind is an ingestion's ordinary lag (a build started
-- before the hour's run ended, a scheduler tick across the hour), not an outage. Null otherwise, or when the
-- watermark is unknown (no outage). For a state at as_of (the top risks); a day's figures follow unread_since.
create or replace macro stale_since(as_of, watermark) as
    case when watermark < as_of - interval 1 hour then watermark end;

-- Where the burn rates' windows end (excluded): Dynatrace's watermark when it lies within the hour before `as_of`
-- (an ingestion's ordinary lag: the hour not read yet is not an hour without traffic, and a 1h window ending at
-- as_of would hold nothing, so that no page rule could hold), else as_of (read up to it, or down: see stale_since).
create or replace macro burn_windows_end(as_of, watermark) as
    case
        when watermark >= as_of - interval 1 hour and watermark < as_of then date_trunc('hour', watermark)
        else as_of
    end;

-- Dynatrace's (the hourly service metrics') watermark when stale at `as_of`: the hours after it unknown, not quiet.
create or replace macro signals_unread_since(as_of, watermark) as stale_since(as_of, watermark);

-- An SLO's status over a period: 'no data' without a measurement (`measured`: its requests, or its hours with that
-- latency percentile reported), 'insufficient data' when its coverage is under min_coverage, else 'met' when the
-- SLI reaches the target, else 'breached'.
create or replace macro slo_status(measured, coverage, min_coverage, sli, target) as
    case
        when coalesce(measured, 0) = 0 then 'no data'
        when coverage < min_coverage then 'insufficient data'
        when sli >= target then 'met'
        else 'breached'
    end;

-- A GitLab deployment of an entity ArgoCD deploys (in that environment) is the pipeline's hand-off to GitOps, not a
-- rollout, from a day before ArgoCD's first deployment of it on (`argocd_since`, null where ArgoCD never deployed
-- it; an application's counts its components' deployments there too): the day takes in the hand-off of the first
-- release ArgoCD synced, which comes just before its sync. Every GitLab deployment in that day is left
-- out, a failed one or one of another revision too: ArgoCD's revision is what it syncs (a commit of a configuration
-- repository other than the project, a Helm chart's version, several for a multi-source application), which need
-- not be GitLab's commit, and matching the two would keep the first release's hand-off beside its sync there.
-- GitLab's deployments before that day are the entity's own (before a move to GitOps, or before the oldest sync
-- ArgoCD's history still held when first read). stg_deployments leaves the hand-offs out; mv_lead_times follows them
-- to the sync.
create or replace macro gitlab_hand_off(finished_at, argocd_since) as
    argocd_since is not null and finished_at >= argocd_since - interval 1 day;

-- Whether a merged request counts for lead time: merged into a branch its project deploys from in that environment
-- (`branches`, from stg_deploy_branches), else into its default branch where only that is known; where neither is,
-- or the request's target branch is not, it counts (see mv_lead_times).
create or replace macro counts_for_lead_time(target_branch, branches, default_branch) as
    target_branch is null
    or case
        when branches is not null then list_contains(branches, target_branch)
        when default_branch is not null then target_branch = default_branch
        else true
    end;

-- The UTC day of an instant, by arithmetic: the same as a cast to date in a UTC session, without the time-zone
-- lookup the cast makes per row (0.13 s of CPU per half a million deployments, against 0.01 s).
create or replace macro utc_day(moment) as date '1970-01-01' + cast(floor(epoch(moment) / 86400) as integer);

-- The Monday that starts a day's ISO week (weeks from Monday, as a calendar shows them).
create or replace macro iso_week(day) as day - cast(isodow(day) - 1 as integer);

-- A source's watermark (how far the lake read it) when the day that ends at `period_end` lies wholly after it: the
-- source was down since, and what happened after it is unknown, not none. Null when that day was read, or when the
-- watermark is unknown (no outage). The API's rule for the days it serves is the same (functions/api/queries.DaysRead).
create or replace macro unread_since(period_end, watermark) as
    case
        when utc_day(period_end - interval 1 microsecond) > utc_day(watermark - interval 1 microsecond) then watermark
    end;

-- The UTC month of an instant ('YYYY-MM'), as the whole-history tables' month objects are named: formatted from a
-- timestamp without a time zone, since formatting the instant itself looks its zone up per row (a tenth of a second
-- per half a million deployments, every hour).
create or replace macro utc_month(moment) as strftime(make_timestamp(epoch_us(moment)), '%Y-%m');

-- A target as a reason quotes it, in percent: to the third decimal (99.500), or as far as it goes when it goes further
-- (99.9999 for 0.999999, which the third decimal would round to 100.000, a target no availability under it reaches).
-- The 1e-6 only absorbs binary error, 0.9995 being a hair under 99950 / 100000.
create or replace macro target_percent(target) as
    case
        when abs(100000 * target - round(100000 * target)) < 1e-6 then format('{:.3f}', 100 * target)
        else rtrim(format('{:.9f}', 100 * target), '0')
    end;

-- An instant to the minute in UTC ('YYYY-MM-DD HH:MM'), as a reason quotes a watermark, whatever the session's zone.
create or replace macro utc_minute(moment) as strftime(make_timestamp(epoch_us(moment)), '%Y-%m-%d %H:%M');

-- What a reason says of a source first read within the days a score is judged on (`read_since`: its first read, null
-- when before them): `unread` when it was not read yet (its first read at or after as_of), else `since` with the
-- first read in it.
create or replace macro first_read_reason(read_since, as_of, unread, since) as
    case
        when read_since >= as_of then unread
        when read_since is not null then format(since, utc_minute(read_since))
    end;

-- The mapped entity and environment a ServiceNow record (an incident, a change) is attributed to, a row per record
-- some entry claims: its configuration item by id (the mapping's servicenow_ci pivot) or by name (servicenow_ci_name,
-- the CI's display value on the record), else its business service by id; production first when a CI is mapped in
-- several environments, by id in one and by name in another too (the API ties the entry so: functions/api/ids.py),
-- then by id before name, then the first entity and environment by name: one owner in every build. `records` names
-- a relation with sys_id, cmdb_ci_sys_id, cmdb_ci_name and business_service_sys_id. One equality join per field: an
-- `in (a, b)` join condition is evaluated as a nested loop over every pair.
create or replace macro servicenow_owner(records) as table
    with candidates as (
        select r.sys_id, p.entity_id, p.environment, 1 as match_rank
        from query_table(records) as r
        inner join ref_pivots as p on p.pivot_kind = 'servicenow_ci' and p.value = r.cmdb_ci_sys_id
        union all
        select r.sys_id, p.entity_id, p.environment, 2 as match_rank
        from query_table(records) as r
        inner join ref_pivots as p on p.pivot_kind = 'servicenow_ci_name' and p.value = r.cmdb_ci_name
        union all
        select r.sys_id, p.entity_id, p.environment, 3 as match_rank
        from query_table(records) as r
        inner join ref_pivots as p on p.pivot_kind = 'servicenow_ci' and p.value = r.business_service_sys_id
    )

    select sys_id, entity_id, environment
    from candidates
    qualify row_number() over (
        partition by sys_id
        order by
            match_rank = 3,
            (environment = (select production_environment from build_params)) desc,
            match_rank,
            entity_id,
            environment
    ) = 1;
