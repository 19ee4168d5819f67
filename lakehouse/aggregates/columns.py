"""What each column of the mart tables (mv_*) means, with its unit: table -> column -> description.

The words are the SQL files' own (their headers define the KPIs; see lakehouse/sql/). Every stored column of every
mart table, and every column derived on read, has one, and none names a column its table no longer has: a test
reads the tables the build writes and checks both. The data dictionary (docs/data-dictionary.md) and the Glue
tables' column comments (infra/glue_tables.py) print them; a Glue comment keeps its first 255 characters, so the
first sentence says what the column is.
"""

from __future__ import annotations

# Columns several tables share.
APP_ID = "Application (the mapping's entity_id of kind application)"
COMPONENT_ID = "Component (the mapping's entity_id of kind component); null for an application mapped directly"
ENVIRONMENT = "Environment, as the mapping names it"
TEAM = "The application's team in the mapping; null when it has none"
GROUP_ID = "The application's group in the mapping; null when it has none"
DOMAIN = "The application's domain in the mapping; null when it has none"
DAY = "UTC day"
AS_OF = (
    "The build's as_of instant (UTC): the start of the current hour, excluded; what happened after it does not count"
)
ROLLUP_LEVEL = "Rollup level: team, group or domain"
ROLLUP_LEVEL_ID = "The team, group or domain, as the mapping names it"
ROLLUP_APPLICATIONS = "Applications of the team, group or domain in that environment"
PERIOD = (
    "Reporting period (see stg_periods): last_7d, last_30d, last_90d (rolling, ending at as_of), month, quarter "
    "(calendar, from their start to as_of), previous_month, previous_quarter (the last complete ones)"
)
PERIOD_START = "Start of the period (UTC, included)"
PERIOD_END = "End of the period (UTC, excluded): as_of, or the start of the current month or quarter"
INCIDENT_SYS_ID = "ServiceNow incident sys_id"
KEY_FORMAT = (
    "argocd:<app>:<history id> (argocd:<app>:<history id>@<creation time> in a recreated application), "
    "argocd:<app>:op:<operation start> or gitlab:<deployment id>"
)
DEPLOYMENT_KEY = f"Deployment attempt: {KEY_FORMAT}"
CORRELATION_MODE = (
    "full (the most confident link of the rules, counted from full_min_confidence up) or light "
    "('DORA light': the application window alone)"
)
DEPLOYS_NOT_MAPPED = "'not mapped' when none of the scope's applications has an ArgoCD application or GitLab project"
# The change failures, recoveries and rework are found through ServiceNow's incidents and change requests alike.
SERVICENOW_UNREAD = (
    "when the period ended before the lake read any incident or any change request and a ServiceNow CI ties the "
    "scope to them (see stg_dora_levels)"
)
LATENCY_TARGET = "The application's latency target: the share of good hours asked for, ratio 0-1"
BAND_SET = "The DORA band set the levels are graded with (2023 or 2024, see mv_dora_bands)"
REQUESTS = "Requests (Dynatrace service request count)"
ERRORS = "Failed requests (Dynatrace server-side errors); 0 in an hour with traffic where Dynatrace reported none"
LOG_ERRORS = "ERROR log lines counted by Elasticsearch"
LOG_EXCEPTIONS = "Log lines with an exception counted by Elasticsearch"
# What a null means in the signal and SLO figures: no data, never 0.
NO_LOG_COUNT = (
    "; 0 when its logs were read that {span} without such a line, null when they were not (before the logs were first"
    " read, after the last hour read, or without a log index)"
)
NO_DYNATRACE_VALUE_DAY = "; null when Dynatrace gave none that day"
NO_VALUE_HOUR = "; null when Dynatrace gave none for the hour"
# Latency describes requests served: a percentile reported for an hour without any is left out.
NO_LATENCY_HOUR = "; null when Dynatrace gave none for the hour, or in an hour without requests"
NO_DATA_IN_PERIOD = "; null without data in the period"
NONE_WITH_DATA_IN_PERIOD = "; null when none has data in the period"
# A top risk's rule scores nothing to judge an application with no data on: null, not 0.
NO_DATA_SCORE = "; null when health is 'no data'"
AVAILABILITY_TARGET = (
    "The application's availability target T, ratio 0-1 (its mapping's slo_availability_target, else the build's "
    "default)"
)
APPLICATION_AVAILABILITY_STATUS = (
    "Availability SLO status: 'no data' without traffic, 'insufficient data' when coverage is under min_coverage, "
    "else 'met' (availability reaches the target) or 'breached'"
)
BURN_WINDOWS = {
    "1h": "last hour",
    "2h": "last 2 hours",
    "6h": "last 6 hours",
    "24h": "last 24 hours",
    "3d": "last 3 days",
}


def _burn_windows(requests: str, errors: str, burn_rate: str) -> dict[str, str]:
    """The requests, errors and burn rate of every burn window, each description a template naming its {span}."""
    described = {}
    for window, span in BURN_WINDOWS.items():
        described[f"requests_{window}"] = requests.format(span=span)
        described[f"errors_{window}"] = errors.format(span=span)
        described[f"burn_rate_{window}"] = burn_rate.format(span=span)
    return described


APP_BURN_WINDOWS = _burn_windows(
    "Requests over the {span} before windows_end; null without data",
    "Failed requests over the {span} before windows_end; null without data",
    "Burn rate over the {span}: (errors / requests) / B, B = 1 - availability_target (1 = spending exactly the "
    "budget); null without traffic",
)
GROUP_BURN_WINDOWS = _burn_windows(
    "Sum of the applications' requests over the {span} before windows_end; null when none has data in it",
    "Sum of the applications' failed requests over the {span} before windows_end; null when none has data in it",
    "Burn rate over the {span}: sum(errors) / sum(B_i x requests_i), B_i = 1 - application i's availability target "
    "(never an average of the applications' rates); null without traffic",
)


BURN_RATE_ALERT = (
    "page when 1h > 14.4, or 6h > 6 and 1h > 6; ticket when 24h > 3 and 2h > 3, or 3d > 1 and 6h > 1; 'no data' "
    "when no window has a rate, or when none of those holds and Dynatrace was not read for more than an hour "
    "before as_of (signals_read_until); "
    "else none (burn_rate_alert in macros.sql)"
)
BURN_WINDOWS_END = (
    "Where the burn windows end (excluded): as_of, or Dynatrace's watermark when it lies within the hour before "
    "as_of (an ingestion's ordinary lag): the windows are then the last hours read, not an hour not read yet"
)
SIGNALS_READ_UNTIL = (
    "How far the lake had read Dynatrace's service metrics (their watermark) when more than an hour before as_of "
    "(Dynatrace down since; an hour behind is an ingestion's ordinary lag): the rates are those of the hours read; "
    "null otherwise"
)


def _dora_metrics(scope: str) -> dict[str, str]:
    """The DORA columns per application or rollup (definitions in 43_stg_dora_facts.sql, 44_stg_dora_levels.sql)."""
    events = "of the application" if scope == "application" else "of its applications, counted as events"
    level = "performance level (elite, high, medium or low, in the band set)"
    return {
        "correlation_mode": (
            "full or light: which incident links make a deployment a change failure (see mv_incident_links)"
        ),
        "band_set": BAND_SET,
        "deployments_from": (
            "Start of the part of the period whose deployments are counted: the period's start, or the first instant "
            "the lake read deployments from when that is later (a lake younger than the period)"
        ),
        "incidents_read_from": (
            "When the lake first read ServiceNow's incidents, when that is after the period's start (see stg_periods): "
            "the change failures found through an incident, the recovery time, the rework done as a fix forward and "
            "MTTR count only the incidents the lake read (of those before it, the ones edited again since); null when "
            "the period was read from its start"
        ),
        "changes_read_from": (
            "When the lake first read ServiceNow's change requests, when that is after the period's start: the change "
            "failures found through a change, their recovery and the rework done under an emergency change count only "
            "the changes the lake read (of those before it, the ones edited again since); null when the period was "
            "read from its start"
        ),
        "incidents_read_until": (
            "How far the lake had read ServiceNow's incidents (their watermark) when the period's last day lies wholly "
            "after it (ServiceNow down since): the change failures found through an incident, the recovery time, the "
            "rework done as a fix forward and MTTR count only the incidents read before it; null when every day of the "
            "period was read"
        ),
        "changes_read_until": (
            "How far the lake had read ServiceNow's change requests (their watermark) when the period's last day lies "
            "wholly after it (ServiceNow down since): the change failures found through an unsuccessful change, their "
            "recovery and the rework done under an emergency change count only the changes read before it; null when "
            "every day of the period was read"
        ),
        "deployments_read_until": (
            "How far the lake had read deployments (the earliest watermark of the deployment events and of the sources "
            "the last deploy run read) when the period's "
            "last day lies wholly after it (a deployment source down since): every metric but MTTR misses the "
            "deployments after it of the source not read (a source still read counts); null when every day of the "
            "period was read"
        ),
        "deployment_frequency_numerator": f"Successful deployments {events} finished in the period",
        "deployment_frequency_denominator_days": (
            "Days from deployments_from to the period's end; null with 'insufficient data'"
        ),
        "deploy_days": "UTC calendar days of the period with a successful deployment",
        "days_with_deployments": (
            "Days holding a successful deployment, the daily cadence's basis: 24 h counted back from the period's "
            "end (a part day at its start is one) or UTC days (the part days at its two ends together one), "
            "whichever hold more"
        ),
        "weeks_with_deployments": (
            "Weeks holding a successful deployment, the weekly cadence's basis: 7 days counted back from the period's "
            "end (a part week at its start is one) or calendar weeks from Monday, UTC (the part weeks at its two ends "
            "together one), whichever hold more"
        ),
        "months_with_deployments": (
            "Months (31 days, the longest calendar month, counted back from the period's end) holding a successful "
            "deployment"
        ),
        "deployment_frequency_per_day": (
            "Deployment frequency: successful deployments / days in the period, per day; 0 with 'no deployments', "
            "null with 'insufficient data' or 'not mapped'"
        ),
        "deployment_frequency_state": (
            "ok, 'no deployments' when none succeeded, 'insufficient data' when the period ended before the lake read "
            "any deployment (see stg_periods), or " + DEPLOYS_NOT_MAPPED
        ),
        "deployment_frequency_level": (
            f"The deployment frequency's {level}: a cadence met by periods with a deployment, not by deployments: "
            "daily on 5 of every 7 days (as many days as the period holds working days at the fewest: 5 in each whole "
            "week, all but 2 of the days left over), weekly in as many weeks and monthly in as many months as whole "
            "ones fit in the period; null unless ok"
        ),
        "lead_time_sample": (
            "Merge requests deployed in the period from deployments_from on (mv_lead_times): the lead times' sample"
        ),
        "lead_time_median_hours": (
            "Change lead time: median hours from merge to the shipping deployment, interpolated (DuckDB median); "
            "null unless lead_time_state is ok"
        ),
        "lead_time_p90_hours": (
            "90th percentile of the change lead time, in hours, interpolated (quantile_cont); null unless "
            "lead_time_state is ok"
        ),
        "lead_time_state": (
            "ok, 'insufficient data' without a deployed merge request, or 'not mapped' when none of the scope's "
            "applications has a GitLab project"
        ),
        "lead_time_level": f"The median lead time's {level}; null with 'insufficient data'",
        "change_failure_numerator": (
            "Change failures (mv_deployments, in this correlation mode) among the attempts; null when ServiceNow was "
            "not read over the period (see change_failure_state)"
        ),
        "change_failure_denominator": "Deployment attempts (successful + failed) in the period",
        "change_failure_rate": (
            "Change failure rate: change failures / deployment attempts, ratio 0-1; null with 'insufficient data'"
        ),
        "change_failure_state": (
            f"ok, 'insufficient data' without a deployment attempt or {SERVICENOW_UNREAD}, or {DEPLOYS_NOT_MAPPED}"
        ),
        "change_failure_level": f"The change failure rate's {level}; null with 'insufficient data'",
        "recovery_sample": (
            "Change failures of the period that recovered (before as_of) at a known time: the median's sample (one "
            "recovered by an incident restored before it opened has none); 0 when ServiceNow was not read over the "
            "period (see recovery_state)"
        ),
        "recovery_median_hours": (
            "Failed deployment recovery time: median hours from a change failure's deployment to its recovery "
            "(recovered_at), over those recovered; null unless recovery_state is ok"
        ),
        "change_failures_not_recovered": (
            "Change failures of the period still not recovered at as_of, which recovery_median_hours leaves out "
            "(change_failure_numerator less those recovered, with a time or not); null when ServiceNow was not read "
            "over the period (see recovery_state)"
        ),
        "recovery_state": (
            "ok; 'insufficient data' without a deployment attempt, " + SERVICENOW_UNREAD + ", or when the only "
            "recoveries have no time, 'no change failures', 'not recovered' when none of them recovered, or 'not "
            "mapped' (as deployment_frequency_state)"
        ),
        "recovery_level": f"The median recovery time's {level}; null unless ok",
        "mttr_sample": (
            "Incidents restored in the period with a duration (every incident, not only change failures): the "
            "median's sample (one restored before it opened has none)"
        ),
        "mttr_median_hours": (
            "MTTR: median hours from opened to restored over the incidents restored in the period; null unless "
            "mttr_state is ok"
        ),
        "mttr_state": (
            "ok, 'no incidents restored', 'insufficient data' when none of those restored has a duration or the "
            "period ended before the lake read any incident, or 'not mapped' when none of the scope's applications "
            "has a ServiceNow CI"
        ),
        "mttr_level": f"The MTTR's {level}, on the recovery time's bands; null unless ok",
        "rework_numerator": (
            "Rework deployments: successful rollbacks, deployments covered by an emergency change, and fixes forward "
            "(see mv_deployments.is_rework); null when ServiceNow was not read over the period (see rework_state)"
        ),
        "rework_denominator": "Successful deployments in the period",
        "rework_rate": (
            "Rework rate: rework deployments / successful deployments, ratio 0-1; null with 'no deployments', "
            "'insufficient data' or 'not mapped'"
        ),
        "rework_state": (
            "ok, 'no deployments' when none succeeded (no rate, never 0 %), 'insufficient data' (as "
            "deployment_frequency_state, or " + SERVICENOW_UNREAD + "), or 'not mapped' (as deployment_frequency_state)"
        ),
    }


def _period_rollup() -> dict[str, str]:
    return {"period": PERIOD, "period_start": PERIOD_START, "period_end": PERIOD_END}


def _latency_budgets(*, allowed: str, bad: str, none: str) -> dict[str, str]:
    """The p95 and p99 latency SLOs' error budgets in hours (time slices): `allowed`, `bad` say how a table counts
    them, `none` when it has none."""
    columns: dict[str, str] = {}
    for percentile in ("p95", "p99"):
        columns |= {
            f"latency_{percentile}_bad_hours": f"{bad} ({percentile})" + none,
            f"latency_{percentile}_budget_allowed": (
                f"Bad hours the {percentile} latency budget allows: {allowed}" + none
            ),
            f"latency_{percentile}_budget_consumed": (
                f"{percentile} latency budget consumed: latency_{percentile}_bad_hours / "
                f"latency_{percentile}_budget_allowed, ratio (1 = all of it); null without an hour measured or under "
                "a 100 % target (no bad hour allowed); given whatever the coverage (the status says when it is "
                "insufficient)"
            ),
            f"latency_{percentile}_budget_remaining": (
                f"1 - latency_{percentile}_budget_consumed, ratio (negative when overspent); null as it is"
            ),
        }
    return columns


DESCRIPTIONS: dict[str, dict[str, str]] = {
    "mv_incident_links": {
        "correlation_mode": CORRELATION_MODE,
        "incident_sys_id": INCIDENT_SYS_ID,
        "incident_number": "Incident number (INC...)",
        "priority": "Incident priority 1 (critical) to 5 (planning)",
        "deployment_key": f"The deployment attempt linked: {KEY_FORMAT}",
        "change_sys_id": (
            "The change covering the deployment, for the change rules (change_caused_by, change_ci_window)"
        ),
        "rule": (
            "The rule that linked them: change_caused_by, dynatrace_root_cause, change_ci_window, "
            "same_component_window, or same_app_window (light mode only)"
        ),
        "confidence": "The rule's stated confidence, ratio 0-1 (0.95, 0.80, 0.70 or 0.50)",
        "counts_as_change_failure": (
            "The link makes the deployment a change failure: in light mode always, in full mode from "
            "full_min_confidence up"
        ),
        "app_id": (
            "The incident's application; null for an incident no mapping claims, linked by the change it names "
            "(the deployment's application is in mv_deployments)"
        ),
        "component_id": "The incident's component; null when its application is mapped directly, or it has none",
        "environment": "The incident's environment, as the mapping names it; null when it has no application",
        "opened_at": "When the incident opened (UTC)",
        "restored_at": "When the incident was restored (UTC): resolved, else closed; null while it is active",
        "deployed_at": "When the linked deployment attempt finished (UTC), at or before the incident opened",
        "hours_after_deployment": "Hours from the deployment's finish to the incident's opening",
    },
    "mv_deployments": {
        "deployment_key": DEPLOYMENT_KEY,
        "origin": "argocd or gitlab",
        "source_ref": "The pivot the mapping uses: ArgoCD app name or GitLab project id",
        "app_id": APP_ID,
        "component_id": COMPONENT_ID,
        "environment": ENVIRONMENT,
        "revision": "Deployed revision (SHA)",
        "previous_revision": "The revision of the previous successful deployment in the entity's sequence",
        "started_at": "When the attempt started (UTC)",
        "finished_at": "When the attempt finished (UTC): the deployment time DORA uses",
        "day": "UTC day of finished_at",
        "status": "succeeded or failed",
        "is_rollback": "Puts back a revision older than the one it replaces (see stg_deployments)",
        "initiated_by": (
            "User who started it, or 'automated'; null when the source does not say (an ArgoCD entry without "
            "initiatedBy)"
        ),
        "web_url": (
            "A GitLab deployment's page: its pipeline's in GitLab, as GitLab gives it; null for ArgoCD, and for a "
            "deployment ingested before it was kept"
        ),
        "source_environment": (
            "A GitLab deployment's environment as GitLab names it (production/eu in production's folder): which "
            "region it went to; null for ArgoCD, and for a deployment ingested before it was kept"
        ),
        "rolled_back": (
            "Rolled back: the next successful deployment in the sequence is a rollback, finished before as_of"
        ),
        "change_unsuccessful": (
            "A change covering it failed, its work ended before as_of: closed 'unsuccessful', or with another close "
            "code ROSETTA_FAILED_CLOSE_CODES lists"
        ),
        "change_numbers": "The change requests (CHG...) covering it; null when none",
        "caused_incident_full": "Linked to an incident opened before as_of that counts as a change failure, full mode",
        "caused_incident_light": "Linked to an incident opened before as_of, light mode (application window)",
        "incident_numbers_full": "The incidents (INC...) that make it a change failure, full mode; null when none",
        "incident_numbers_light": "The incidents (INC...) that make it a change failure, light mode; null when none",
        "failed_without_incident": (
            "Failed, rolled back, or its change closed 'unsuccessful': a change failure in both modes"
        ),
        "is_change_failure_full": "Change failure, full mode: failed_without_incident or caused_incident_full",
        "is_change_failure_light": "Change failure, light mode: failed_without_incident or caused_incident_light",
        "recovered_at_full": (
            "When the change failure recovered, full mode (UTC): the next successful deployment (failed, rolled "
            "back, change unsuccessful), the linked incidents' restoration, the later when both apply; null while "
            "not recovered at as_of"
        ),
        "recovered_at_light": "When the change failure recovered, light mode (UTC), as recovered_at_full",
        "is_rework": (
            "Rework (DORA's fifth metric): a rollback, a deployment covered by an emergency change, or a fix forward: "
            "the next successful deployment after a change failure one of whose incidents (full correlation) was open "
            "when it finished"
        ),
    },
    "mv_lead_times": {
        "mr_id": "GitLab merge request id",
        "project_id": "GitLab project id",
        "app_id": APP_ID,
        "component_id": COMPONENT_ID,
        "environment": ENVIRONMENT,
        "merged_at": "When the merge request was merged (UTC)",
        "deployment_key": f"The shipping deployment: {KEY_FORMAT}",
        "deployed_at": "When the shipping deployment finished (UTC), at or after the merge and before as_of",
        "lead_time_hours": "Change lead time in hours: deployed_at - merged_at",
        "match_rule": (
            "How the shipping deployment was found: 'deployment link' (GitLab lists the request among those it "
            "shipped), 'gitops hand-off' (GitLab lists it in a deployment handing the release to ArgoCD: the first "
            "sync at or after the earliest such hand-off) or 'first deployment after merge' (the first one after the "
            "merge whose requests are unknown)"
        ),
        "mr_iid": "The merge request's iid within its project (!<iid> in GitLab); null where unknown",
        "title": "The merge request's title; null where unknown",
        "mr_url": (
            "The merge request's page in GitLab, as GitLab gives it (web_url); null where unknown: no http(s) address, "
            "or the request read before the address was kept"
        ),
    },
    "mv_deployments_latest": {
        "app_id": APP_ID,
        "component_id": COMPONENT_ID,
        "environment": ENVIRONMENT,
        "deployment_key": f"The latest attempt finished before as_of, failed ones included: {KEY_FORMAT}",
        "finished_at": "When it finished (UTC)",
        "status": "succeeded or failed",
        "revision": "Its revision (SHA)",
        "origin": "argocd or gitlab",
        "source_environment": (
            "The GitLab environment of the attempt, as the latest wrote it (production/eu): each region of a folder "
            "has its own latest attempt; null for ArgoCD, one row per entity and environment"
        ),
    },
    "mv_live_status_latest": {
        "app_id": APP_ID,
        "component_id": COMPONENT_ID,
        "environment": ENVIRONMENT,
        "sync_status": "ArgoCD sync status last read before as_of (Synced, OutOfSync, Unknown); null if none was",
        "health_status": "ArgoCD health status last read before as_of (Healthy, Progressing, Degraded, ...)",
        "operation_phase": "Phase of the application's last sync operation, as last read (Succeeded, Failed, ...)",
        "status_observed_at": "When that ArgoCD status was read (UTC), in the 7 days before as_of",
        "last_pipeline_status": (
            "Status of the GitLab project's latest pipeline (highest id, created in the 90 days before as_of) as "
            "last read before as_of; null when none was read"
        ),
        "last_pipeline_ref": "That pipeline's Git ref",
        "last_pipeline_at": "When that pipeline was last updated, as read (UTC)",
        "last_pipeline_url": "Link to that pipeline",
    },
    "mv_incidents": {
        "sys_id": INCIDENT_SYS_ID,
        "number": "Incident number (INC...)",
        "app_id": APP_ID,
        "component_id": COMPONENT_ID,
        "environment": ENVIRONMENT,
        "state": (
            "State code at as_of (1 New, 2 In Progress, 3 On Hold, 6 Resolved, 7 Closed, 8 Canceled); null for an "
            "incident open at as_of whose only version read is a later resolution or cancellation (its state "
            "then was not read)"
        ),
        "state_label": "Decoded state; null when state is",
        "priority": "Priority 1 (critical) to 5 (planning)",
        "impact": "Impact 1-3",
        "urgency": "Urgency 1-3",
        "short_description": "Short description",
        "opened_at": "When the incident was opened (UTC)",
        "resolved_at": "When it was resolved (UTC); null if not yet",
        "closed_at": "When it was closed (UTC); null if not yet",
        "restored_at": (
            "When service was restored (UTC): resolved_at, else closed_at, else (Resolved or Closed without either) "
            "its last update; null while the incident is active"
        ),
        "is_open": "Open at as_of: opened before it, not canceled and not restored before it",
        "is_canceled": "Canceled: kept but left out of KPIs",
        "cmdb_ci_sys_id": "Configuration item sys_id",
        "cmdb_ci_name": "Configuration item display value",
        "assignment_group_name": "Assignment group display value",
        "reassignment_count": "Times the incident changed assignment group",
        "problem_sys_id": "Related problem sys_id",
        "caused_by_change_sys_id": "Change that caused the incident, when recorded (sys_id)",
        "sys_updated_on": "Version time of the row used: the latest updated at or before as_of (UTC)",
        "duration_hours": (
            "Hours from opened_at to restored_at; null without restored_at, or with one before opened_at (a record "
            "restored before it opened has no duration, and stays out of every time to restore)"
        ),
        "open_age_hours": "Hours from opened_at to as_of for an incident open at as_of; null otherwise",
        "sla_breached": (
            "A non-cancelled task SLA of the incident breached before as_of (a breached SLA without a breach time "
            "counts as breached); null when the incident has no task SLA (none read, or every one cancelled)"
        ),
        "linked_deployment_full": "The deployment attempt the incident is linked to in full mode (mv_incident_links)",
        "link_rule_full": "The rule of that link (see mv_incident_links.rule)",
        "link_confidence_full": "The confidence of that link, ratio 0-1",
        "link_counts_as_change_failure_full": (
            "That link reaches full_min_confidence, so the deployment counts as a change failure; false for a link "
            "kept as evidence below it, null without a link"
        ),
        "linked_deployment_light": "The deployment attempt the incident is linked to in light mode",
    },
    "mv_changes": {
        "sys_id": "ServiceNow change request sys_id",
        "number": "Change number (CHG...)",
        "app_id": APP_ID,
        "component_id": COMPONENT_ID,
        "environment": ENVIRONMENT,
        "type": "standard, normal or emergency",
        "state": (
            "State code at as_of (-5 New ... 0 Review, 3 Closed, 4 Canceled); null for a change first read after "
            "as_of, closed, whose work ends after as_of (its state then was not read)"
        ),
        "state_label": "Decoded state; null when state is",
        "risk": "Risk label",
        "short_description": "Short description",
        "planned_start": "Planned start (UTC)",
        "planned_end": "Planned end (UTC)",
        "work_start": "Actual start (UTC)",
        "work_end": "Actual end (UTC)",
        "change_start": (
            "The change's start (UTC): work_start when known, else planned_start, or work_end when earlier; "
            "planned_end when neither a start nor a work end is known"
        ),
        "change_end": (
            "The change's end (UTC): work_end when known; planned_end before its work started (planned_start when "
            "the plan gives no end); null while under way "
            "(work started, not closed or canceled); for one closed or canceled without a work end, the later of "
            "planned_end and work_start"
        ),
        "close_code": (
            "successful, successful_issues or unsuccessful (ServiceNow's), else a code the instance added, kept as "
            "read; empty while open, and null while the work of a change "
            "first read after as_of, closed, has not ended at as_of"
        ),
        "is_failed": (
            "Failed at as_of: closed (work ended before as_of) with a close code the build's failed_close_codes lists "
            "(ROSETTA_FAILED_CLOSE_CODES: 'unsuccessful' unless set), compared trimmed and in any case"
        ),
        "is_closed": (
            "Closed (state 3) with its work ended before as_of (a closed change with neither window stays closed)"
        ),
        "is_canceled": "Canceled (state 4): never implemented, covers no deployment",
        "cmdb_ci_sys_id": "Configuration item sys_id",
        "cmdb_ci_name": "Configuration item display value",
        "assignment_group_name": "Assignment group display value",
        "sys_created_on": "When the change was created (UTC)",
        "deployment_key": "A deployment attempt the change covers (see stg_change_deployments); null when none",
        "covers_deployment": "The change covers a deployment (not all changes deploy software)",
    },
    "mv_golden_signals_hourly": {
        "level": "component or application",
        "app_id": APP_ID,
        "component_id": COMPONENT_ID.replace("an application mapped directly", "a row of level application"),
        "environment": ENVIRONMENT,
        "hour": "Start of the hour (UTC), before as_of",
        "requests": REQUESTS + " in the hour; null without data",
        "errors": ERRORS
        + "; at application level, those of its parts with requests; null in an hour without any, unless the "
        "application is mapped directly (its own)",
        "latency_p50_ms": "Median response time in ms; at application level, the worst component's" + NO_LATENCY_HOUR,
        "latency_p95_ms": "95th percentile response time in ms; at application level, the worst component's"
        + NO_LATENCY_HOUR,
        "latency_p99_ms": "99th percentile response time in ms; at application level, the worst component's"
        + NO_LATENCY_HOUR,
        "cpu_usage_pct": "CPU usage in percent (0-100); at application level, the worst component's" + NO_VALUE_HOUR,
        "memory_usage_pct": "Memory usage in percent (0-100); at application level, the worst component's"
        + NO_VALUE_HOUR,
        "log_errors": LOG_ERRORS + " in the hour" + NO_LOG_COUNT.format(span="hour"),
        "log_exceptions": LOG_EXCEPTIONS + " in the hour" + NO_LOG_COUNT.format(span="hour"),
        "day": "UTC day of hour",
        "error_rate": "Error rate: errors / requests, ratio 0-1; null in an hour without traffic",
    },
    "mv_incidents_app_day": {
        "app_id": APP_ID,
        "environment": ENVIRONMENT,
        "day": DAY,
        "opened": "Incidents opened that day (before as_of), cancelled ones left out",
        "opened_p1_p2": "Of those, priority 1 or 2",
        "restored": "Incidents restored that day (before as_of)",
        "open_end_of_day": (
            "Backlog at midnight ending the day (at as_of on the as_of day): opened before it, not restored"
        ),
        "open_p1_p2_end_of_day": "Of that backlog, priority 1 or 2",
        "mttr_mean_hours": (
            "Mean hours from opened to restored over the incidents restored that day with a duration; null without any"
        ),
        "mttr_median_hours": (
            "Median hours from opened to restored over the incidents restored that day with a duration; null "
            "without any"
        ),
        "mttr_sample": (
            "Incidents restored that day with a duration: the MTTR's sample (one recorded restored before it opened "
            "is restored, and no sample)"
        ),
        "sla_breaches": (
            "Incidents opened that day whose task SLA breached before as_of; null on a day before the lake first read "
            "task SLAs, and on every day when that instant is unknown (a lake an older release wrote)"
        ),
    },
    "mv_changes_app_day": {
        "app_id": APP_ID,
        "environment": ENVIRONMENT,
        "day": DAY,
        "planned": "Changes whose planned start falls on the day, canceled ones left out",
        "canceled": "Canceled changes whose planned start falls on the day",
        "implemented": "Closed changes whose work ended that day (before as_of)",
        "successful": "Of those, close code successful",
        "successful_with_issues": "Of those, close code successful_issues",
        "unsuccessful": "Of those, close code unsuccessful",
        "failed": (
            "Of those, failed: with a close code ROSETTA_FAILED_CLOSE_CODES lists ('unsuccessful' unless set; "
            "rolled_back, say, when the instance lists it)"
        ),
        "closed_with_code": (
            "Of those, with one of ServiceNow's close codes (successful, successful_issues, unsuccessful) or one "
            "ROSETTA_FAILED_CLOSE_CODES lists"
        ),
        "other_close_code": (
            "Of those, with another close code the instance added (rolled back, say, when not listed as failed): "
            "neither a success nor a failure, left out of change_failure_rate"
        ),
        "emergency": "Emergency changes, not canceled, that started that day (planned start, else work start)",
        "change_failure_rate": (
            "failed / closed_with_code, ratio 0-1; null without a change closed with one of those codes"
        ),
    },
    "mv_monitoring_app_day_summary": {
        "app_id": APP_ID,
        "environment": ENVIRONMENT,
        "day": DAY,
        "team": TEAM,
        "group_id": GROUP_ID,
        "domain": DOMAIN,
        "requests": "Requests summed over the day's hours (before as_of); null without data",
        "errors": "Failed requests summed over the day's hours; null without data",
        "error_rate": "errors / requests, ratio 0-1; null without traffic",
        "availability": "1 - error_rate, ratio 0-1 (occurrences); null without traffic",
        "measured_hours": "Hours with traffic",
        "latency_p95_worst_hour_ms": "The worst hourly p95 response time of the day, in ms" + NO_DYNATRACE_VALUE_DAY,
        "latency_p99_worst_hour_ms": "The worst hourly p99 response time of the day, in ms" + NO_DYNATRACE_VALUE_DAY,
        "latency_measured_hours": "Hours with traffic and a p95 reported",
        "latency_p95_good_hours": "Of latency_measured_hours, those whose p95 met the application's threshold",
        "latency_p99_measured_hours": "Hours with traffic and a p99 reported",
        "latency_p99_good_hours": "Of latency_p99_measured_hours, those whose p99 met the application's threshold",
        "cpu_usage_max_pct": "Highest hourly CPU usage of the day, in percent (0-100)" + NO_DYNATRACE_VALUE_DAY,
        "memory_usage_max_pct": "Highest hourly memory usage of the day, in percent (0-100)" + NO_DYNATRACE_VALUE_DAY,
        "log_errors": LOG_ERRORS + " that day" + NO_LOG_COUNT.format(span="day"),
        "log_exceptions": LOG_EXCEPTIONS + " that day" + NO_LOG_COUNT.format(span="day"),
        "incidents_opened": "Incidents opened that day (mv_incidents_app_day.opened)",
        "incidents_opened_p1_p2": "Of those, priority 1 or 2",
        "incidents_open_end_of_day": "Incident backlog at the end of the day (mv_incidents_app_day.open_end_of_day)",
        "incidents_open_p1_p2_end_of_day": "Of that backlog, priority 1 or 2",
        "sla_breaches": (
            "Incidents opened that day whose task SLA breached; null before task SLAs were first read, or every day "
            "when that instant is unknown"
        ),
        "changes_planned": "Changes planned to start that day, canceled ones left out (mv_changes_app_day.planned)",
        "changes_implemented": "Closed changes whose work ended that day",
        "changes_unsuccessful": "Of those, closed unsuccessful",
        "changes_failed": (
            "Of those, failed: closed with a close code ROSETTA_FAILED_CLOSE_CODES lists (unsuccessful unless set; "
            "mv_changes_app_day.failed)"
        ),
        "deployments": (
            "Successful deployments finished that day (before as_of, from the lake's first read of deployments on, "
            "as DORA counts them; 0 before it)"
        ),
        "deployment_attempts": (
            "Deployment attempts finished that day (before as_of, from the lake's first read of deployments on), "
            "successful and failed: the denominator of deployment_change_failures, as "
            "mv_dora_app_period.change_failure_denominator"
        ),
        "deployment_change_failures": "Deployment attempts finished that day that are change failures (full mode)",
        "problems_opened": "Dynatrace problems on the application started that day (before as_of)",
    },
    "mv_monitoring_domain_day_summary": {
        "domain": "Domain, as the mapping names it; '(none)' for applications without one",
        "environment": ENVIRONMENT,
        "day": DAY,
        "applications": "Applications of the domain with a row that day",
        "requests": "Sum of the applications' requests; null when none has data that day",
        "errors": "Sum of the applications' failed requests; null when none has data that day",
        "error_rate": "sum(errors) / sum(requests), ratio 0-1 (never an average of percentages); null without traffic",
        "availability": "1 - error_rate, ratio 0-1; null without traffic",
        "measured_hours": "Sum of the applications' hours with traffic: the sample behind the rates",
        "log_errors": "Sum of the applications' ERROR log lines; null when none has a log count that day",
        "incidents_opened": "Sum of the applications' incidents opened that day",
        "incidents_opened_p1_p2": "Of those, priority 1 or 2",
        "incidents_open_end_of_day": "Sum of the applications' incident backlogs at the end of the day",
        "sla_breaches": (
            "Sum of the applications' incidents opened that day whose task SLA breached; null before task SLAs were "
            "first read, or every day when that instant is unknown"
        ),
        "changes_implemented": "Sum of the applications' closed changes whose work ended that day",
        "changes_unsuccessful": "Of those, closed unsuccessful",
        "changes_failed": "Of those, failed: closed with a close code ROSETTA_FAILED_CLOSE_CODES lists",
        "deployments": "Sum of the applications' successful deployments that day",
        "deployment_attempts": (
            "Sum of the applications' deployment attempts that day, successful and failed: the denominator of "
            "deployment_change_failures"
        ),
        "deployment_change_failures": "Sum of the applications' deployment change failures that day (full mode)",
    },
    "mv_slo_burn_rates": {
        "app_id": APP_ID,
        "environment": ENVIRONMENT,
        "as_of": AS_OF,
        "windows_end": BURN_WINDOWS_END,
        "availability_target": AVAILABILITY_TARGET,
        **APP_BURN_WINDOWS,
        "signals_read_until": SIGNALS_READ_UNTIL,
        "burn_rate_alert": "Alert at as_of: " + BURN_RATE_ALERT,
    },
    "mv_slo_group_burn_rates": {
        "level": ROLLUP_LEVEL,
        "level_id": ROLLUP_LEVEL_ID,
        "environment": ENVIRONMENT,
        "as_of": AS_OF,
        "windows_end": BURN_WINDOWS_END,
        "applications": ROLLUP_APPLICATIONS,
        **GROUP_BURN_WINDOWS,
        "signals_read_until": SIGNALS_READ_UNTIL,
        "burn_rate_alert": "Alert at as_of, the applications' rules: " + BURN_RATE_ALERT,
    },
    "mv_slo_app_period": {
        "app_id": APP_ID,
        "environment": ENVIRONMENT,
        **_period_rollup(),
        "availability_denominator": (
            "Valid requests over the period's hours (hours without traffic count on neither side)" + NO_DATA_IN_PERIOD
        ),
        "availability_numerator": "Good requests: requests - errors" + NO_DATA_IN_PERIOD,
        "bad_requests": "Failed requests" + NO_DATA_IN_PERIOD,
        "availability": "Availability SLI: good / valid requests, ratio 0-1; null without traffic",
        "availability_target": AVAILABILITY_TARGET,
        "error_budget_allowed": (
            "Failed requests the budget allows: B x requests, B = 1 - availability_target" + NO_DATA_IN_PERIOD
        ),
        "error_budget_consumed": (
            "Budget consumed: errors / error_budget_allowed, ratio (1 = all of it); null without traffic"
        ),
        "error_budget_remaining": "1 - error_budget_consumed, ratio (negative when overspent); null without traffic",
        "burn_rate_period": (
            "Burn rate over the period: (errors / requests) / B (1 = spending exactly the budget over the period); "
            "null without traffic"
        ),
        "measured_hours": "Hours with traffic in the period",
        "expected_hours": "Hours in the period",
        "coverage": "measured_hours / expected_hours, ratio 0-1",
        "availability_status": APPLICATION_AVAILABILITY_STATUS,
        "latency_p95_threshold_ms": "The application's p95 latency threshold in ms: an hour is good at or under it",
        "latency_p99_threshold_ms": "The application's p99 latency threshold in ms",
        "latency_target": LATENCY_TARGET,
        "min_coverage": "The build's min_coverage, ratio 0-1: under it a status is 'insufficient data'",
        "latency_p95_good_hours": "Hours whose p95 was at or under its threshold",
        "latency_p99_good_hours": "Hours whose p99 was at or under its threshold",
        "latency_measured_hours": "Hours with traffic and a p95 reported",
        "latency_coverage": "latency_measured_hours / hours in the period, ratio 0-1",
        "latency_p95_sli": "p95 latency SLI: good hours / latency_measured_hours, ratio 0-1; null without such hours",
        "latency_p99_sli": (
            "p99 latency SLI: good hours / latency_p99_measured_hours, ratio 0-1; null without such hours"
        ),
        "latency_p95_status": (
            "p95 latency SLO status: 'no data' without a p95 measured, 'insufficient data' when latency_coverage is "
            "under min_coverage, else 'met' (the SLI reaches latency_target) or 'breached'"
        ),
        "latency_p99_measured_hours": "Hours with traffic and a p99 reported",
        "latency_p99_coverage": "latency_p99_measured_hours / hours in the period, ratio 0-1",
        "latency_p99_status": (
            "p99 latency SLO status, as latency_p95_status on latency_p99_coverage and latency_p99_sli"
        ),
        **_latency_budgets(
            allowed="(1 - latency_target) x the hours with that percentile measured",
            bad="Hours with that percentile over its threshold: measured - good hours",
            none="; null without an hour measured",
        ),
    },
    "mv_slo_group_period": {
        "level": ROLLUP_LEVEL,
        "level_id": ROLLUP_LEVEL_ID,
        "environment": ENVIRONMENT,
        **_period_rollup(),
        "applications": ROLLUP_APPLICATIONS,
        "applications_breached": "Applications whose availability_status is 'breached'",
        "availability_denominator": "Sum of the applications' valid requests" + NONE_WITH_DATA_IN_PERIOD,
        "availability_numerator": "Sum of the applications' good requests" + NONE_WITH_DATA_IN_PERIOD,
        "bad_requests": "Sum of the applications' failed requests" + NONE_WITH_DATA_IN_PERIOD,
        "availability": "sum(good) / sum(requests), ratio 0-1 (never an average of percentages); null without traffic",
        "availability_target": (
            "The requests-weighted mean of the applications' availability targets, ratio 0-1; null without traffic"
        ),
        "error_budget_allowed": "Sum of the applications' budgets: B_i x requests_i" + NONE_WITH_DATA_IN_PERIOD,
        "error_budget_consumed": "sum(bad) / error_budget_allowed, ratio (1 = all of it); null without traffic",
        "error_budget_remaining": "1 - error_budget_consumed, ratio (negative when overspent); null without traffic",
        "burn_rate_period": (
            "sum(bad) / sum(budget allowed): the same figure as error_budget_consumed; null without traffic"
        ),
        "measured_hours": "Hours with traffic, summed over the applications",
        "expected_hours": (
            "Hours in the period, summed over the applications that had traffic in it; null when none had"
        ),
        "coverage": (
            "The applications' coverages weighted by their requests, as the SLI weighs them, ratio 0-1 (an idle "
            "application weighs nothing, one with a request in the period as one request); null when none had traffic"
        ),
        "latency_measured_hours": "Hours with traffic and a p95 reported, summed over the applications",
        "latency_p95_good_hours": (
            "Of latency_measured_hours, those whose p95 met their application's threshold, summed over the applications"
        ),
        "latency_coverage": (
            "The applications' p95 coverages weighted by their hours with a p95, as latency_p95_sli weighs them, "
            "ratio 0-1; null when none reported a p95"
        ),
        "latency_p95_sli": "sum(p95 good hours) / sum(latency_measured_hours), ratio 0-1; null without such hours",
        "latency_target": (
            "p95 latency target: the applications' latency targets weighted by their hours with a p95, ratio 0-1; "
            "null without such hours"
        ),
        "latency_p99_measured_hours": "Hours with traffic and a p99 reported, summed over the applications",
        "latency_p99_good_hours": (
            "Of latency_p99_measured_hours, those whose p99 met their application's threshold, summed over the "
            "applications"
        ),
        "latency_p99_coverage": (
            "The applications' p99 coverages weighted by their hours with a p99, as latency_p99_sli weighs them, "
            "ratio 0-1; null when none reported a p99"
        ),
        "latency_p99_sli": "sum(p99 good hours) / sum(latency_p99_measured_hours), ratio 0-1; null without such hours",
        "latency_p99_target": (
            "p99 latency target: the applications' latency targets weighted by their hours with a p99, ratio 0-1; "
            "null without such hours"
        ),
        "availability_status": APPLICATION_AVAILABILITY_STATUS.replace("Availability", "The group's availability"),
        "latency_p95_status": (
            "p95 latency SLO status: 'no data' without a latency measured, 'insufficient data' when latency_coverage "
            "is under min_coverage, else 'met' or 'breached'"
        ),
        "latency_p99_status": "p99 latency SLO status, as latency_p95_status on the p99 figures",
        **_latency_budgets(
            allowed="Sum of the applications' allowed bad hours: (1 - latency_target_i) x measured hours_i",
            bad="Sum of the applications' hours with that percentile over its threshold",
            none="; null when none measured it in the period",
        ),
    },
    "mv_dora_app_period": {
        "app_id": APP_ID,
        "environment": ENVIRONMENT + " (production is the tier DORA defines)",
        **_period_rollup(),
        **_dora_metrics("application"),
    },
    "mv_dora_group_period": {
        "level": ROLLUP_LEVEL,
        "level_id": ROLLUP_LEVEL_ID,
        "environment": ENVIRONMENT + " (production is the tier DORA defines)",
        "applications": ROLLUP_APPLICATIONS,
        **_period_rollup(),
        **_dora_metrics("rollup"),
    },
    "mv_dora_bands": {
        "band_set": "Band set: 2023 or 2024",
        "metric": "deployment_frequency, lead_time, change_failure_rate or recovery_time (MTTR uses recovery_time's)",
        "level": "Performance level: elite, high, medium or low",
        "level_rank": (
            "1 (elite) to 4 (low): a value gets the best level whose bound it meets (deployment frequency: the best "
            "cadence met, see bound)"
        ),
        "op": "How a value meets the bound: ge (>=), lt (<) or le (<=); deployment frequency, see bound",
        "bound": (
            "Hours (lead_time, recovery_time), ratio 0-1 (change_failure_rate), or for deployment_frequency a "
            "cadence as a rate (1, 1/7, 1/30 a day) met by days, weeks or months holding a deployment, not by "
            "deployment_frequency_per_day (see deployment_frequency_level)"
        ),
    },
    "mv_dora_scopes": {
        "level": "The scope's level: application, team, group or domain",
        "level_id": "The application, team, group or domain, as the mapping names it",
        "app_id": "An application the scope counts",
        "environment": ENVIRONMENT,
        "deploys_mapped": (
            "The mapping ties the application (its entry or a component's) to an ArgoCD application or GitLab project"
        ),
        "merge_requests_mapped": "The mapping ties the application (its entry or a component's) to a GitLab project",
        "incidents_mapped": (
            "The mapping ties the application (its entry or a component's) to a ServiceNow CI, by id or name"
        ),
    },
    "mv_monitoring_top_risks": {
        "rank": (
            "1 = riskiest: by risk_score, then open P1/P2 incidents, then error_rate_7d, then app_id; the "
            "applications with no data last"
        ),
        "app_id": APP_ID,
        "app_name": "The application's name in the mapping",
        "team": TEAM,
        "group_id": GROUP_ID,
        "domain": DOMAIN,
        "risk_score": (
            "Risk score 0-100 (capped): the sum of the score_* columns, from the last 7 days before as_of; null (as "
            "are the score_* columns) when health is 'no data'"
        ),
        "health": (
            "red (risk_score >= 50 or a P1 incident open), orange (from 20), green, or 'no data' (neither traffic nor "
            "events in 14 days, and no open P1/P2 incident, failed change nor traffic lost)"
        ),
        "reasons": (
            "The sentences that produced the score, in the order of the score_* columns; a green application with "
            "traffic in less than min_coverage of the 7 days then says why its SLOs were not judged ('SLOs not "
            "judged: ...'), with no score"
        ),
        "score_slo": (
            "+30 when availability_7d is under the target, with traffic covering at least min_coverage of 7 days"
            + NO_DATA_SCORE
        ),
        "score_latency_slo": (
            "+30 when latency_p95_sli_7d (else latency_p99_sli_7d) is under latency_target, with that percentile "
            "reported in at least min_coverage of the 7 days' hours" + NO_DATA_SCORE
        ),
        "score_burn": "+30 when the 1h burn rate > 14.4, else +20 when the 6h and 1h burn rates are both > 6"
        + NO_DATA_SCORE,
        "score_open_incidents": "+20 per P1/P2 incident open at as_of, at most +40" + NO_DATA_SCORE,
        "score_recurring": "+15 when 3 or more incidents opened in 7 days" + NO_DATA_SCORE,
        "score_failed_changes": "+10 per failed change in 7 days, at most +20" + NO_DATA_SCORE,
        "score_trend": (
            "+10 when error_rate_7d is more than twice error_rate_prev_7d and > 0.1 %; only with traffic the week "
            "before" + NO_DATA_SCORE
        ),
        "score_traffic_lost": (
            "+20 when no traffic was measured in the last 7 days after traffic in at least min_coverage of the hours "
            "of the 7 days before, or of the 7 days before its last day with traffic however long ago (a service "
            "gone dark), Dynatrace read over at least min_coverage of the 7 days" + NO_DATA_SCORE
        ),
        "availability_7d": "Availability over the last 7 days: 1 - errors / requests, ratio 0-1; null without traffic",
        "availability_target": AVAILABILITY_TARGET,
        "latency_p95_sli_7d": (
            "Share of the last 7 days' hours with traffic whose p95 was at or under the application's threshold, "
            "ratio 0-1; null without such hours"
        ),
        "latency_p99_sli_7d": "The same for p99 against its threshold, ratio 0-1; null without such hours",
        "latency_target": LATENCY_TARGET,
        "error_rate_7d": "Error rate over the last 7 days: errors / requests, ratio 0-1; null without traffic",
        "error_rate_prev_7d": "Error rate over the 7 days before those, ratio 0-1; null without traffic",
        "burn_rate_1h": "Burn rate over the last hour (mv_slo_burn_rates); null without traffic",
        "burn_rate_6h": "Burn rate over the last 6 hours (mv_slo_burn_rates); null without traffic",
        "open_p1_p2": (
            "Priority 1-2 incidents open at as_of; null when ServiceNow's incidents were not read yet (first read at "
            "or after as_of)"
        ),
        "incidents_7d": "Incidents opened in the last 7 days; null when ServiceNow's incidents were not read yet",
        "failed_changes_7d": (
            "Change failures (deployments, full mode) plus unsuccessful changes covering no deployment, in the last 7 "
            "days; null when neither deployments nor change requests were read yet"
        ),
        "requests_7d": "Requests over the last 7 days; null without data in them",
        "errors_7d": "Failed requests over the last 7 days, in its hours with traffic; null without data in them",
        "measured_hours_7d": "Hours with traffic in the last 7 days (of 168): the coverage score_slo asks for",
        "slos_judged_7d": (
            "Whether the SLOs could be judged: traffic, and a p95 or p99 latency, in at least min_coverage of the 7 "
            "days' hours (false: one of them reads 'insufficient data', and its score could not fire)"
        ),
        "requests_prev_7d": "Requests over the 7 days before those; null without data in them",
        "errors_prev_7d": (
            "Failed requests over the 7 days before those, in their hours with traffic; null without data in them"
        ),
        "measured_hours_prev_7d": (
            "Hours with traffic in the 7 days before those (of 168): what score_traffic_lost reads first"
        ),
    },
    "mv_health": {
        "level": "application, team, group, domain, or estate (every production application)",
        "level_id": "The application, team, group or domain; 'estate' for the estate",
        "applications": "Applications counted (1 for an application)",
        "red": "Of those, red",
        "orange": "Of those, orange",
        "green": "Of those, green",
        "no_data": "Of those, 'no data'",
        "max_risk_score": "Highest risk score of those applications (0-100); null when none has data",
        "health": (
            "An application's is mv_monitoring_top_risks'; a team, group, domain or the estate is red when a third or "
            "more of its applications with data are red, orange when any is red or orange, green otherwise, 'no data' "
            "when none has data"
        ),
        "reasons": (
            "An application's: its risk reasons; a team's, group's, domain's or the estate's: its red and orange "
            "applications, riskiest first, and when green, its applications whose SLOs were not judged ('SLOs not "
            "judged for <n> of its <green> applications with data: <the first five by rank>')"
        ),
    },
    "mv_mapping_coverage": {
        "record_kind": "incident, change, deployment or log_line",
        "records": (
            "Records of that kind in the window: incidents by when they opened (canceled ones left out), changes by "
            "their creation, deployment attempts by when they finished, Elasticsearch's error and warning lines by "
            "their hour (counted in lines, the exception lines among them once)"
        ),
        "attributed": "Of those, the ones the build found an entity for (counted in the KPIs)",
        "unattributed": "Of those, the ones it found none for: counted in no KPI until the mapping claims them",
        "attributed_share": "attributed / records, ratio 0-1; null without records (nothing to attribute is not 100 %)",
        "window_start": "Start of the window (UTC, included): as_of less 30 days",
        "window_end": "End of the window (UTC, excluded): as_of",
    },
    "mv_unmapped_keys": {
        "record_kind": "incident, change, deployment or log_line",
        "key_kind": (
            "What a mapping entry would need to claim these records: servicenow_ci (a CI's sys_id), argocd_app (an "
            "ArgoCD application), gitlab_project (a GitLab project in an environment) or elisa_service (an index "
            "pattern and service.name in an environment)"
        ),
        "key": (
            "The CI's sys_id (a record without a CI: its business service's, which claims it too), the ArgoCD "
            "application's name, the GitLab project's id, or the index pattern and service.name the lines were logged "
            "under (index_pattern|service_name); null for records that name neither a CI nor a business service, "
            "which no entry can claim"
        ),
        "environment": (
            "The environment GitLab deployed to, as GitLab names it (gitlab_project only): the project is not "
            "mapped in it; or the lines' environment field, as logged (elisa_service only)"
        ),
        "label": "The CI's (or business service's) name on the latest record that has one",
        "records": "Records of the window no entity was found for, with this key (log_line: error and warning lines)",
        "first_seen": "When the first of them opened, was created or finished, or the hour of the first lines (UTC)",
        "last_seen": "When the last of them opened, was created or finished, or the hour of the last lines (UTC)",
        "latest_record": "The last of them: an incident or change number, or a deployment key; null for log lines",
        "window_start": "Start of the window (UTC, included): as_of less 30 days",
        "window_end": "End of the window (UTC, excluded): as_of",
    },
}
