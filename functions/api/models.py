"""Response and request models: every answer has a schema, so the OpenAPI document is complete."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from functions.api.ids import MAX_REF

# Where the burn windows end: the build's as-of, or the hour Dynatrace was read up to when an ingestion lags.
BURN_WINDOWS_END = (
    "Where the burn-rate windows end (excluded): the last build's as-of, or, when Dynatrace was read only up to an "
    "hour before it (an ingestion's ordinary lag), that hour: the windows are then the last hours read, not an hour "
    "not read yet. Null without a burn-rate row."
)
# The burn-rate alert values (burn_rate_alert in lakehouse/sql/macros.sql), as an SLO row carries them.
BURN_RATE_ALERT = (
    "page (1 h > 14.4, or 6 h and 1 h > 6), ticket (24 h and 2 h > 3, or 3 d and 6 h > 1), none (no rule holds on the "
    "rates there are), or no data (no traffic in any window: no rate says the budget is safe; or no rule holds and "
    "Dynatrace was not read for more than an hour before the as-of hour, whose burn is then unknown)."
)
# A latency SLO's error budget, in hours (time slices of one hour), as an SLO row carries it for the p95 and the p99.
LATENCY_BUDGET_ALLOWED = (
    "Bad hours the latency budget allows: (1 - target) x the hours with that percentile measured; for a rollup, the "
    "sum of its applications' (each at its own target). Null without an hour measured."
)
LATENCY_BUDGET_CONSUMED = (
    "Bad hours (that percentile over its threshold) / the bad hours allowed (1 = all of it; for a rollup, the sums'); "
    "null without an hour measured or under a 100 % target, which allows none. Given whatever the coverage, as the "
    "availability's budget is: the status says 'insufficient data' beside it."
)
LATENCY_BUDGET_REMAINING = "1 - the latency budget consumed (negative when overspent); null as it is."
# The counts behind the SLIs (for a rollup, its applications' sums): a ratio is read with its sample.
AVAILABILITY_DENOMINATOR = "Valid requests of the period: the availability's denominator; null without data."
AVAILABILITY_NUMERATOR = "Good requests (requests - errors): the availability's numerator; null without data."
BAD_REQUESTS = "Failed requests of the period, what the error budget is spent by; null without data."
MEASURED_HOURS = "Hours with traffic: the hours the availability was measured over."
EXPECTED_HOURS = "Hours in the period (for a rollup, summed over its applications that had traffic)."
LATENCY_MEASURED_HOURS = "Hours with traffic and a {p} reported: the {p} latency SLI's denominator."
LATENCY_GOOD_HOURS = "Of those hours, the ones whose {p} met the threshold: the {p} latency SLI's numerator."


def _web_address_only(url: str | None) -> str | None:
    # A source's link reaches a browser: anything but http(s) (javascript:, data:) is dropped, not served.
    parts = urlsplit(url.strip()) if url is not None else None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url


WebAddress = Annotated[str | None, AfterValidator(_web_address_only)]


class ApiModel(BaseModel):
    """camelCase on the wire, snake_case in Python; rows from the mart validate by their column names."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


class ProblemError(BaseModel):
    """One reason a 422 gives: the parameter refused, where it was given, why, and the values it takes if few."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    parameter: str = Field(
        description="The parameter's name as given (a body field's path, dotted); a mapping change's reasons are "
        "under entries or remove."
    )
    in_: Literal["query", "path", "header", "cookie", "body"] = Field(alias="in")
    detail: str
    allowed: list[str] | None = None


class ProblemDetail(BaseModel):
    """RFC 9457 problem details, as every error is sent (media type application/problem+json)."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[ProblemError] | None = Field(default=None, description="A 422's reasons, one per parameter refused.")


def problem_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the errors a route may answer, so callers and fuzzers know their shape."""
    ref = {"schema": {"$ref": "#/components/schemas/ProblemDetail"}}
    return {
        code: {"model": ProblemDetail, "description": "Problem details", "content": {"application/problem+json": ref}}
        for code in codes
    }


class SourceRead(ApiModel):
    dataset: str = Field(
        description="dynatrace/service_metrics_hourly (golden signals, SLOs), servicenow/incidents, "
        "servicenow/changes, servicenow/task_slas (SLA breaches), deploys/deployment_events (deployments: the earliest "
        "of the events' and of the sources the last deploy run read, ArgoCD's history and GitLab's deployments) or "
        "elasticsearch/log_counts_hourly (log error counts)."
    )
    read_until: datetime = Field(description="Its watermark when the build ran: what came after it was not read.")
    behind_seconds: float = Field(
        description="Seconds from readUntil to the figures' asOf (0 when read up to it): how much of the latest "
        "figures this source is missing."
    )


class Freshness(ApiModel):
    as_of: datetime | None = Field(description="The instant the mart's figures run to (UTC).")
    built_at: datetime | None = Field(description="When the build that produced them started.")
    build_run_id: str | None = None
    mapping_version: int = Field(description="Mapping version the API resolved the answer's ids and pivots with.")
    build_mapping_version: int | None = Field(
        default=None,
        description="Mapping version the build attributed the figures with (null before any build). Older than "
        "mappingVersion after a mapping change, until the next build re-attributes them: an entity or pivot added "
        "since is resolved, its records not yet counted.",
    )
    lag_seconds: float | None = Field(description="Seconds between as_of and generatedAt.")
    sources: list[SourceRead] = Field(
        default_factory=list,
        description="How far the build had read each source the figures rest on (those whose watermark the lake "
        "keeps): a source down shows as one whose readUntil falls behind asOf while the others keep up.",
    )


class Envelope(ApiModel):
    generated_at: datetime
    freshness: Freshness


class Page(ApiModel):
    limit: int
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


class ReportPage(Page):
    total: int = Field(description="Rows the report has with these parameters, on every page (limit and cursor aside).")


class PeriodOut(ApiModel):
    name: str | None = Field(description="The named period, or null for an explicit from/to.")
    start: datetime = Field(description="Its first instant, included (UTC).")
    end: datetime = Field(description="Its end, excluded (UTC): a month's is the next month's first midnight.")


class Health(ApiModel):
    """Liveness only: it touches neither the lake nor the sources."""

    status: Literal["ok"]
    version: str


# --- entities ---------------------------------------------------------------------------------------------------
class EntityInfo(ApiModel):
    id: str
    kind: Literal["application", "component"]
    name: str | None
    application_id: str
    team: str | None
    group: str | None
    domain: str | None
    environment: str
    components: list[str] = Field(default_factory=list)


class GoldenSignals(ApiModel):
    window_start: datetime
    window_end: datetime
    requests: float | None = None
    errors: float | None = None
    error_rate: float | None = None
    latency_p50_max_ms: float | None = None
    latency_p95_max_ms: float | None = None
    latency_p99_max_ms: float | None = None
    cpu_max_pct: float | None = None
    memory_max_pct: float | None = None
    log_errors: float | None = Field(default=None, description="ERROR log lines counted by Elasticsearch.")
    log_exceptions: float | None = Field(
        default=None, description="Log lines with an exception counted by Elasticsearch (level EXCEPTION)."
    )
    measured_hours: int = 0
    last_hour: datetime | None = None


SOURCE_ENVIRONMENT = (
    "A GitLab deployment's environment as GitLab names it: production/eu or production/us for the regions of GitLab's "
    "production folder, both counted in production (environment). Null for ArgoCD, whose application deploys one "
    "environment, for a deployment ingested before it was kept, and over a mart an earlier release built."
)
# Whether anything could be found: the build attributes incidents and change requests by ServiceNow CI alone.
NOT_READ = (
    " not read: the lake has never read these records (the source not configured, or its ingest not run yet): an "
    "empty list or a 0 would claim what nobody looked at."
)
SERVICENOW_STATE = (
    "not mapped: neither the entity nor, for an application, any of its components is mapped in this environment to a "
    "ServiceNow CI (servicenow.ciId or cmdb.ciName) of its own (a CI mapped in several environments is the entry's the "
    "build gives its records to: production's, else the first environment's by name), so nothing can be attributed "
    "to it: an empty list then says nothing is known, not that nothing happened." + NOT_READ
)
RecordsState = Literal["ok", "not mapped", "not read"]
# How far ServiceNow was read, when that leaves part of an answer unread.
READ_UNTIL = (
    "How far the lake had read ServiceNow's records of this kind when the build ran (their watermark: ServiceNow "
    "down since), given when it lies more than an hour before the end of what the answer covers (the build's as-of "
    "for what is open: ServiceNow is read every 15 minutes, so an hour behind is an ingestion's ordinary lag, and a "
    "day read in part can hide hours of incidents): what happened after it is unknown, not none. Null when read to "
    "within that hour."
)


class OpenIncidents(ApiModel):
    state: RecordsState = Field(description=SERVICENOW_STATE + " The counts are then null.")
    open: int | None = Field(description="Incidents open at the build's as-of.")
    open_p1_p2: int | None = Field(description="Of those, priority 1 or 2.")
    sla_breached: int | None = Field(
        description="Of those, with a breached task SLA; null when unknown: one of them opened before the lake first "
        "read task SLAs (or that instant is unknown) and no breached task SLA of it was read, or the lake had read "
        "task SLAs only up to more than an hour before the as-of (ServiceNow's task_sla not read since)."
    )
    read_until: datetime | None = Field(
        default=None,
        description=READ_UNTIL + " The counts are then null: the backlog at the build's as-of is unknown.",
    )


class SloStatus(ApiModel):
    period: str
    period_start: datetime | None = Field(
        default=None,
        description="The period the figures cover: the last daily build's (hourly builds leave it as it was).",
    )
    period_end: datetime | None = None
    availability: float | None = None
    availability_target: float | None = None
    availability_status: str | None = None
    error_budget_remaining: float | None = None
    error_budget_consumed: float | None = None
    burn_rate_period: float | None = None
    burn_rate_1h: float | None = None
    burn_rate_alert: str | None = Field(default=None, description=BURN_RATE_ALERT)
    burn_windows_end: datetime | None = Field(default=None, description=BURN_WINDOWS_END)
    latency_p95_sli: float | None = None
    latency_p95_status: str | None = None
    coverage: float | None = None
    # The latency SLOs as the application's SLO row has them, so that a card needs no second request.
    latency_p95_threshold_ms: float | None = Field(
        default=None, description="An hour is good when its p95 is at or under this."
    )
    latency_p99_threshold_ms: float | None = Field(
        default=None, description="An hour is good when its p99 is at or under this."
    )
    latency_target: float | None = Field(default=None, description="Target of the p95 SLI: the application's.")
    latency_p99_target: float | None = Field(
        default=None, description="Target of the p99 SLI: the application's (the same as latency_target)."
    )
    latency_coverage: float | None = Field(
        default=None, description="Hours with traffic and a p95 reported / hours in the period."
    )
    latency_p99_sli: float | None = None
    latency_p99_status: str | None = None
    latency_p99_coverage: float | None = Field(
        default=None, description="Hours with traffic and a p99 reported / hours in the period."
    )
    latency_p95_budget_consumed: float | None = Field(default=None, description=LATENCY_BUDGET_CONSUMED)
    latency_p95_budget_remaining: float | None = Field(default=None, description=LATENCY_BUDGET_REMAINING)
    latency_p99_budget_consumed: float | None = Field(default=None, description=LATENCY_BUDGET_CONSUMED)
    latency_p99_budget_remaining: float | None = Field(default=None, description=LATENCY_BUDGET_REMAINING)
    # What each figure counts, as the SLO report's rows give it.
    availability_denominator: float | None = Field(default=None, description=AVAILABILITY_DENOMINATOR)
    availability_numerator: float | None = Field(default=None, description=AVAILABILITY_NUMERATOR)
    bad_requests: float | None = Field(default=None, description=BAD_REQUESTS)
    measured_hours: float | None = Field(default=None, description=MEASURED_HOURS)
    expected_hours: float | None = Field(default=None, description=EXPECTED_HOURS)
    latency_measured_hours: float | None = Field(default=None, description=LATENCY_MEASURED_HOURS.format(p="p95"))
    latency_p95_good_hours: float | None = Field(default=None, description=LATENCY_GOOD_HOURS.format(p="p95"))
    latency_p99_measured_hours: float | None = Field(default=None, description=LATENCY_MEASURED_HOURS.format(p="p99"))
    latency_p99_good_hours: float | None = Field(default=None, description=LATENCY_GOOD_HOURS.format(p="p99"))


class LastDeployment(ApiModel):
    """A component's latest deployment attempt; one per region for a GitLab project deploying to an environment folder's
    regions (production/eu, production/us), each told by its sourceEnvironment."""

    component_id: str | None
    deployment_key: str
    finished_at: datetime | None
    status: str | None
    revision: str | None
    origin: str | None
    source_environment: str | None = Field(default=None, description=SOURCE_ENVIRONMENT)


class RiskInfo(ApiModel):
    rank: int | None = None
    risk_score: int | None = None
    health: str | None = None
    reasons: list[str] = Field(default_factory=list)


class Summary(Envelope):
    entity: EntityInfo
    golden_signals: GoldenSignals
    incidents: OpenIncidents
    slo: SloStatus | None = Field(description="Application level only; null for a component or without data.")
    last_deployments: list[LastDeployment]
    risk: RiskInfo | None


class Point(ApiModel):
    t: datetime
    v: float | None


class Timeseries(Envelope):
    entity_id: str
    level: Literal["application", "component"]
    metric: str
    unit: str
    period: PeriodOut
    points: list[Point] = Field(
        description="One point an hour, at the hour's start, for the hours starting in the period: an hour the lake "
        "holds no data for has no point (a gap, never a zero); one whose value is missing, such as the error rate "
        "of an hour without requests, has v null."
    )


class Incident(ApiModel):
    sys_id: str
    number: str | None
    app_id: str
    component_id: str | None
    environment: str
    state: int | None
    state_label: str | None
    priority: int | None
    impact: int | None
    urgency: int | None
    short_description: str | None
    opened_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    restored_at: datetime | None
    is_open: bool | None
    is_canceled: bool | None = Field(
        description="Canceled in ServiceNow: listed among the closed incidents, with its restoredAt and duration, but "
        "counted in no KPI (not restored, nor in MTTR or its sample)."
    )
    cmdb_ci_name: str | None
    assignment_group_name: str | None
    duration_hours: float | None
    open_age_hours: float | None
    sla_breached: bool | None = Field(
        description="Whether a task SLA of the incident breached before as_of; null when it has no task SLA if "
        "slaRead, unknown otherwise (without slaRead, only true is known: another SLA may have breached unread)."
    )
    sla_read: bool = Field(
        description="Whether the incident's task SLAs were read: it was opened after ServiceNow's task SLAs were "
        "first read, and resolved before they were last read when they were read only up to more than an hour "
        "before as-of; "
        'when false, a null slaBreached is unknown, not "no task SLA". True whenever slaBreached is: a breached task '
        "SLA read is known."
    )
    linked_deployment_full: str | None
    link_rule_full: str | None
    link_confidence_full: float | None
    link_counts_as_change_failure_full: bool | None = Field(
        description="The full-mode link is confident enough to make its deployment a change failure; false for a "
        "link kept as evidence only, null without a link."
    )
    linked_deployment_light: str | None
    url: WebAddress = Field(
        description="The incident's form in ServiceNow, in the instance's navigation frame "
        "(<instance>/nav_to.do?uri=incident.do%3Fsys_id%3D<sysId>); null when the API has no instance URL "
        "(ROSETTA_API_SERVICENOW_URL, else ROSETTA_SERVICENOW_URL)."
    )


class IncidentList(Envelope):
    entity_id: str
    status: str
    period: PeriodOut
    state: RecordsState = Field(description=SERVICENOW_STATE)
    read_until: datetime | None = Field(
        default=None, description=READ_UNTIL + " An incident opened or changed after it is not listed."
    )
    items: list[Incident]
    page: Page


class Change(ApiModel):
    sys_id: str
    number: str | None
    app_id: str
    component_id: str | None
    environment: str
    type: str | None
    state: int | None
    state_label: str | None
    risk: str | None
    short_description: str | None
    planned_start: datetime | None
    planned_end: datetime | None
    work_start: datetime | None
    work_end: datetime | None
    change_start: datetime | None
    change_end: datetime | None
    close_code: str | None
    is_failed: bool | None
    is_closed: bool | None
    cmdb_ci_name: str | None
    assignment_group_name: str | None
    deployment_key: str | None
    covers_deployment: bool | None
    url: WebAddress = Field(
        description="The change request's form in ServiceNow, in the instance's navigation frame "
        "(<instance>/nav_to.do?uri=change_request.do%3Fsys_id%3D<sysId>); null when the API has no instance URL "
        "(ROSETTA_API_SERVICENOW_URL, else ROSETTA_SERVICENOW_URL)."
    )


class ChangeList(Envelope):
    entity_id: str
    status: str
    period: PeriodOut = Field(
        description="The whole UTC days the period touches, up to the build's as-of hour, as kpis/changes counts them: "
        "the recent changes are those whose time overlaps it."
    )
    state: RecordsState = Field(description=SERVICENOW_STATE)
    read_until: datetime | None = Field(
        default=None, description=READ_UNTIL + " A change created or changed after it is not listed."
    )
    items: list[Change]
    page: Page


class Deployment(ApiModel):
    deployment_key: str
    origin: str | None
    source_ref: str | None
    app_id: str
    component_id: str | None
    environment: str
    revision: str | None
    previous_revision: str | None
    started_at: datetime | None
    finished_at: datetime | None
    status: str | None
    is_rollback: bool | None
    initiated_by: str | None
    rolled_back: bool | None
    change_numbers: list[str] | None
    change_unsuccessful: bool | None = Field(
        description="A change covering the attempt failed, its work ended: closed unsuccessful, or with another close "
        "code ROSETTA_FAILED_CLOSE_CODES lists (rolled_back, say). A change failure of its own."
    )
    is_change_failure_full: bool | None
    is_change_failure_light: bool | None
    incident_numbers_full: list[str] | None
    incident_numbers_light: list[str] | None
    recovered_at_full: datetime | None
    recovered_at_light: datetime | None
    is_rework: bool | None = Field(
        description="Rework (DORA): a rollback, a deployment covered by an emergency change, or a fix forward (the "
        "next success after a change failure whose incident was open when it finished)."
    )
    url: WebAddress = Field(
        description="An ArgoCD deployment's application in ArgoCD's UI: <argocd>/applications/<namespace>/<name> "
        "when the mapping names the application's namespace, else <argocd>/applications/<name>; null when the API "
        "has no ArgoCD URL (ROSETTA_API_ARGOCD_URL, else ROSETTA_ARGOCD_URL). A GitLab deployment's pipeline page, "
        "as GitLab gives it with the deployment (deployable.pipeline.web_url); null without a deploying job, for a "
        "deployment ingested before it was kept, or when it is no http(s) address."
    )
    source_environment: str | None = Field(description=SOURCE_ENVIRONMENT)


class LeadTime(ApiModel):
    """A merged request and the deployment that shipped it: one of the lead times a DORA report's median and p90 are
    taken over."""

    merge_request_iid: int | None = Field(description="The request's iid within its project (!iid in GitLab).")
    title: str | None
    project_id: int = Field(description="Its GitLab project.")
    component_id: str | None = Field(
        description="The component it shipped on; null for a project mapped on the application itself."
    )
    merged_at: datetime
    deployed_at: datetime = Field(description="When the deployment that shipped it finished.")
    lead_time_hours: float = Field(description="deployedAt - mergedAt, in hours.")
    deployment_key: str = Field(description="The deployment that shipped it, as the deployment list keys it.")
    match_rule: str = Field(
        description="How that deployment was found: 'deployment link' (GitLab lists the request among those it "
        "shipped), 'gitops hand-off' (GitLab lists it in a deployment handing the release to ArgoCD: the sync that "
        "followed shipped it) or 'first deployment after merge' (the first one after the merge whose merge requests "
        "are unknown)."
    )
    url: WebAddress = Field(
        description="The request's page in GitLab, as GitLab gives it (web_url); null for a request read before the "
        "address was kept, or when it is no http(s) address.",
    )


class LeadTimeList(Envelope):
    entity_id: str
    period: PeriodOut
    counted_from: datetime = Field(
        description="The instant the list counts from: the period's start, or the first instant the lake read "
        "deployments from when that is later, as the DORA report's deploymentsFrom."
    )
    state: RecordsState = Field(
        default="ok",
        description="not mapped: neither the entity nor, for an application, any of its components is mapped in this "
        "environment to a GitLab project, so no merge request can be attributed to it: an empty list then says "
        "nothing is known, not that nothing was merged." + NOT_READ,
    )
    read_until: datetime | None = Field(
        default=None,
        description="How far the lake had read deployments when the build ran, given when a day of the period lies "
        "wholly after it: a request shipped after it by the source not read is not listed. Null when every such day "
        "was read.",
    )
    items: list[LeadTime] = Field(
        description="The requests shipped in the period (by their shipping deployment's finish, from countedFrom), "
        "newest merge first: the DORA report's leadTimeSample for the entity and period, its median and p90 taken "
        "over their leadTimeHours."
    )
    page: Page


class LiveSourceState(ApiModel):
    """How a live component's figures of one source were had."""

    state: Literal["live", "fallback", "not configured", "not mapped"] = Field(
        description="live: read from the source now (or from the live cache); fallback: the source failed, its "
        "figures are the last historized ones; not configured: the API has no URL or credential for the source, its "
        "figures are the last historized ones; not mapped: the mapping names nothing of the component in the source, "
        "which has no figures for it."
    )
    fetched_at: datetime | None = Field(
        default=None, description="live: when the source's answer was fetched (it may come from the cache); else null."
    )
    reason: str | None = Field(
        default=None, description="fallback and not configured: why the figures are not live; else null."
    )


class LiveComponentSources(ApiModel):
    """Each source of a live component: its ArgoCD status and sync, its GitLab last pipeline."""

    argocd: LiveSourceState = Field(
        description="Sync, health, operation phase and their observed time; the revision when live."
    )
    gitlab: LiveSourceState = Field(description="The last pipeline's status, ref, time and link.")


class LiveComponent(ApiModel):
    """Live status of one component from ArgoCD and GitLab, or the last historized value when they fail."""

    component_id: str
    stale: bool = Field(
        description="Derived from sources: true when a source's state is fallback or not configured (its figures "
        "come from history)."
    )
    stale_reason: str | None = Field(
        default=None,
        description="Derived from sources: each source whose figures come from history and its reason, "
        '"<source>: <reason>" joined by "; ".',
    )
    sources: LiveComponentSources = Field(description="Per source, whether its figures are live, and why not.")
    argocd_app: str | None = None
    argocd_app_namespace: str | None = Field(
        default=None,
        description="The namespace of argocd_app when the mapping names one (ArgoCD's applications in any "
        "namespace); ArgoCD's UI shows such an application at /applications/<namespace>/<name>.",
    )
    sync_status: str | None = None
    health_status: str | None = None
    status_observed_at: datetime | None = Field(
        default=None,
        description="When the sync and health status were read: live, when fetched; stale, when last ingested.",
    )
    revision: str | None = None
    last_deployed_at: datetime | None = None
    operation_phase: str | None = None
    gitlab_project_id: int | None = None
    last_pipeline_status: str | None = None
    last_pipeline_ref: str | None = None
    last_pipeline_at: datetime | None = None
    last_pipeline_url: WebAddress = Field(
        default=None,
        description="The pipeline's page as GitLab gave it, when it is an http(s) address; null otherwise.",
    )
    fetched_at: datetime | None = Field(default=None, description="When the live figures were fetched (cached).")


class DeploymentList(Envelope):
    entity_id: str
    mode: Literal["live", "history"]
    period: PeriodOut | None
    state: RecordsState = Field(
        default="ok",
        description="not mapped: neither the entity nor, for an application, any of its components is mapped in this "
        "environment to an ArgoCD application or a GitLab project, so no deployment can be attributed to it: an empty "
        "list then says nothing is known, not that nothing was deployed." + NOT_READ,
    )
    read_until: datetime | None = Field(
        default=None,
        description="History mode: how far the lake had read deployments when the build ran (the earliest watermark "
        "of the deployment events and of the sources the last deploy run read: a deployment source down since), "
        "given when it lies more than an hour before the period's end, or the build's as-of if sooner (deployments "
        "are read every 15 minutes): a deployment after it from the source not read is not listed (one from a source "
        "still read is), and what happened then is unknown, not none. Null when read to within that hour.",
    )
    items: list[Deployment] = Field(default_factory=list, description="History mode.")
    live: list[LiveComponent] = Field(
        default_factory=list,
        description="Live mode, one entry per component (an application without components is its own entry).",
    )
    page: Page | None = None


class LogsLink(Envelope):
    entity_id: str
    url: str
    data_view_id: str
    data_view_from: Literal["configured", "kibana", "index pattern"] = Field(
        description="How data_view_id was had: configured, from ROSETTA_API_KIBANA_DATA_VIEWS; kibana, from the data "
        "views Kibana lists in the link's space; index pattern, the index pattern itself, as the lookup failed or "
        "found none (the link opens only if Kibana has a data view of that id)."
    )
    data_view_reason: str | None = Field(
        default=None, description="index pattern: why the lookup gave no data view; else null."
    )
    index_pattern: str
    query: str
    time_from: str
    time_to: str


# --- overview, KPIs, risk -----------------------------------------------------------------------------------
class RiskRow(ApiModel):
    rank: int | None = Field(
        default=None,
        description="The application's risk rank in the estate (1 = riskiest, production only), whatever the metric.",
    )
    app_id: str
    app_name: str | None = None
    team: str | None = None
    group_id: str | None = None
    domain: str | None = None
    risk_score: int | None = None
    health: str | None = None
    reasons: list[str] | None = None
    availability_7d: float | None = None
    error_rate: float | None = Field(default=None, description="Over the requested period (7 days for metric=risk).")
    burn_rate_1h: float | None = None
    burn_rate_6h: float | None = None
    open_p1_p2: int | None = Field(
        default=None,
        description="P1/P2 incidents open at the build's as-of (metric=risk and burn_rate); null for an application "
        "tied to no ServiceNow CI, whose incidents cannot be found, and when the lake had read ServiceNow's "
        "incidents only up to more than an hour before the as-of (ServiceNow down since, or never read): unknown.",
    )
    incidents: int | None = Field(
        default=None,
        description="Incidents opened in the period, counted over the days read (a day wholly before the lake first "
        "read ServiceNow's incidents, or wholly after how far it had read them when the build ran, is unknown and adds "
        "nothing); null when none was read (ranked last), and for an application tied to no ServiceNow CI in the "
        "environment, whose incidents cannot be found.",
    )
    failed_changes_7d: int | None = Field(
        default=None,
        description="Failed changes in the 7 days before the build's as-of (metric=risk and burn_rate): change "
        "failures of deployments plus unsuccessful changes covering none; null when the lake had read neither "
        "deployments nor change requests yet: unknown.",
    )
    requests: float | None = None


class HealthLevel(ApiModel):
    level: str
    level_id: str
    applications: int
    red: int
    orange: int
    green: int
    no_data: int
    max_risk_score: int | None
    health: str
    reasons: list[str] | None


class TrendDay(ApiModel):
    day: date
    requests: float | None
    errors: float | None
    error_rate: float | None
    incidents_opened: int | None
    deployments: int | None
    deployment_change_failures: int | None
    changes_implemented: int | None


class Overview(Envelope):
    period: PeriodOut = Field(description="The period asked for: the trend has the days it touches.")
    environment: str = Field(
        description="The environment of the trend: the one asked for, else the estate's production environment."
    )
    environments: list[str] = Field(
        description="The environments the mapping's entries are in, sorted: those every read route's `environment` "
        "takes, whichever environment was asked for."
    )
    production_environment: str = Field(
        description="The estate's production environment (ROSETTA_PRODUCTION_ENVIRONMENT): the one a request naming "
        "none reads, and the only one health and risk are judged in."
    )
    applications_by_health: dict[str, int] = Field(
        description="Production's applications by health colour as of the last build, whatever period and "
        "environment are asked for (health is judged on production)."
    )
    estate_health: HealthLevel | None = Field(
        default=None,
        description="The whole estate's health: production, as of the last build, judged as a team's is (red when a "
        "third or more of the applications with data are red, orange when any is red or orange, green otherwise, "
        "'no data' when none has data). Its reasons name the ten riskiest red or orange applications; red and orange "
        "count them all. A green estate's name the applications whose SLOs were not judged (too little traffic "
        "measured in the 7 days), as a green team's do. Null before a build has judged it.",
    )
    health: list[HealthLevel] = Field(
        description="Health per team, group and domain: production, as of the last build. Reasons name the red and "
        "orange applications, riskiest first; a green level's, the first five whose SLOs were not judged ('SLOs not "
        "judged for 2 of its 3 applications with data: a, b')."
    )
    top_risks: list[RiskRow] = Field(description="The ten riskiest production applications as of the last build.")
    trend: list[TrendDay] = Field(
        description="One row per day of the period up to the build's as-of day (later days have not come yet), in "
        "the environment asked for; a day without traffic has no requests, and counts 0 of each event read. An "
        "event's count is null on a day wholly before the lake first read its source, or wholly after how far it "
        "had read it when the build ran (the source down since): unknown, not 0."
    )


class SloRow(ApiModel):
    id: str = Field(description="Application, team, group or domain id.")
    applications: int | None = None
    availability_denominator: float | None = Field(default=None, description=AVAILABILITY_DENOMINATOR)
    availability_numerator: float | None = Field(default=None, description=AVAILABILITY_NUMERATOR)
    bad_requests: float | None = Field(default=None, description=BAD_REQUESTS)
    availability: float | None = None
    availability_target: float | None = None
    availability_status: str | None = None
    error_budget_allowed: float | None = None
    error_budget_consumed: float | None = None
    error_budget_remaining: float | None = None
    burn_rate_period: float | None = Field(
        default=None,
        description="Bad requests / error budget allowed over the period (1 = spending exactly the budget): for a "
        "rollup, its applications' bad requests over the sum of the budgets their own targets allow, which is its "
        "error ratio over its requests-weighted budget ratio (1 - target).",
    )
    measured_hours: float | None = Field(default=None, description=MEASURED_HOURS)
    expected_hours: float | None = Field(default=None, description=EXPECTED_HOURS)
    coverage: float | None = Field(
        default=None,
        description="Measured hours / hours in the period; for a rollup, its applications' coverages weighted by "
        "their requests, as its availability weighs them (an application with one request weighs as one request).",
    )
    latency_measured_hours: float | None = Field(default=None, description=LATENCY_MEASURED_HOURS.format(p="p95"))
    latency_p95_good_hours: float | None = Field(default=None, description=LATENCY_GOOD_HOURS.format(p="p95"))
    latency_p99_measured_hours: float | None = Field(default=None, description=LATENCY_MEASURED_HOURS.format(p="p99"))
    latency_p99_good_hours: float | None = Field(default=None, description=LATENCY_GOOD_HOURS.format(p="p99"))
    latency_p95_sli: float | None = None
    latency_p99_sli: float | None = None
    latency_coverage: float | None = Field(
        default=None,
        description="Hours with traffic and a p95 reported / hours in the period; for a rollup, its applications' "
        "weighted by their hours with a p95, as its p95 SLI weighs them.",
    )
    latency_p99_coverage: float | None = Field(
        default=None,
        description="Hours with traffic and a p99 reported / hours in the period; for a rollup, its applications' "
        "weighted by their hours with a p99, as its p99 SLI weighs them.",
    )
    latency_p95_status: str | None = None
    latency_p99_status: str | None = None
    latency_p95_threshold_ms: float | None = Field(
        default=None, description="An hour is good when its p95 is at or under this (application rows)."
    )
    latency_p99_threshold_ms: float | None = Field(
        default=None, description="An hour is good when its p99 is at or under this (application rows)."
    )
    latency_target: float | None = Field(
        default=None,
        description="Target of the p95 SLI: the application's; for a rollup, its applications' targets weighted by "
        "their hours with a p95 measured.",
    )
    latency_p99_target: float | None = Field(
        default=None,
        description="Target of the p99 SLI: the application's (the same as latency_target); for a rollup, weighted "
        "by their hours with a p99 measured.",
    )
    latency_p95_bad_hours: float | None = Field(
        default=None, description="Hours whose p95 was over the threshold; null without a p95 measured."
    )
    latency_p95_budget_allowed: float | None = Field(default=None, description=LATENCY_BUDGET_ALLOWED)
    latency_p95_budget_consumed: float | None = Field(default=None, description=LATENCY_BUDGET_CONSUMED)
    latency_p95_budget_remaining: float | None = Field(default=None, description=LATENCY_BUDGET_REMAINING)
    latency_p99_bad_hours: float | None = Field(
        default=None, description="Hours whose p99 was over the threshold; null without a p99 measured."
    )
    latency_p99_budget_allowed: float | None = Field(default=None, description=LATENCY_BUDGET_ALLOWED)
    latency_p99_budget_consumed: float | None = Field(default=None, description=LATENCY_BUDGET_CONSUMED)
    latency_p99_budget_remaining: float | None = Field(default=None, description=LATENCY_BUDGET_REMAINING)
    burn_rate_1h: float | None = Field(
        default=None,
        description="Burn rates of the last build over 1 h, 2 h, 6 h, 24 h and 3 d ending at burn_windows_end: "
        "errors / the error budget allowed over the window; for a rollup, its applications' errors over the budgets "
        "their own targets allow.",
    )
    burn_rate_2h: float | None = None
    burn_rate_6h: float | None = None
    burn_rate_24h: float | None = None
    burn_rate_3d: float | None = None
    burn_rate_alert: str | None = Field(default=None, description=BURN_RATE_ALERT)
    burn_windows_end: datetime | None = Field(default=None, description=BURN_WINDOWS_END)
    applications_breached: int | None = None


class SloReport(Envelope):
    group_by: str
    environment: str
    period: PeriodOut
    items: list[SloRow]
    page: ReportPage


class DoraRow(ApiModel):
    id: str
    applications: int | None = None
    deployments_from: datetime | None = Field(
        default=None,
        description="Start of the part of the period whose deployments are counted: the period's start, or the "
        "first instant the lake read deployments from when that is later (a lake younger than the period). Before "
        "it the lake knows of no deployment, so the frequency is over deployment_frequency_denominator_days.",
    )
    incidents_read_from: datetime | None = Field(
        default=None,
        description="When the lake first read ServiceNow's incidents, given when that is after the period's start: "
        "the change failures found through an incident, the recovery time, the rework (fixes forward) and the MTTR "
        "count only the incidents the lake read (of those before it, the ones edited again since): what came before "
        "is unknown, not none. A period that ended before it has those 'insufficient data' (for a scope a ServiceNow "
        "CI is mapped on). Null when the period was read from its start.",
    )
    changes_read_from: datetime | None = Field(
        default=None,
        description="When the lake first read ServiceNow's change requests, given when that is after the period's "
        "start: the change failures found through a change (closed unsuccessful, or an incident's cause), their "
        "recovery time and the rework done under an emergency change count only the changes the lake read (of those "
        "before it, the ones edited again since). A period that ended before it has the change failure rate, "
        "recovery time and rework 'insufficient data' (for a scope a ServiceNow CI is mapped on). Null when the "
        "period was read from its start.",
    )
    incidents_read_until: datetime | None = Field(
        default=None,
        description="How far the lake had read ServiceNow's incidents (their watermark: ServiceNow down since), given "
        "when the period's last day lies wholly after it: the change failures found through an incident, the "
        "recovery time, the rework (deployments that fixed an incident forward) and the MTTR count only the incidents "
        "read before it, and what came after is unknown, not none. Null when every day of the period was read. A "
        "named period's is the daily build's.",
    )
    changes_read_until: datetime | None = Field(
        default=None,
        description="How far the lake had read ServiceNow's change requests (their watermark: ServiceNow down since), "
        "given when the period's last day lies wholly after it: the change failures found through an unsuccessful "
        "change, their recovery time and the rework done under an emergency change count only the changes read "
        "before it, and what came after is unknown, not none. Null when every day of the period was read. A named "
        "period's is the daily build's.",
    )
    deployments_read_until: datetime | None = Field(
        default=None,
        description="How far the lake had read deployments (the earliest watermark of the deployment events and of "
        "the sources the last deploy run read: a deployment source down since), given when the period's last day "
        "lies wholly after it: the deployment "
        "frequency, lead time, change failure rate, recovery time and rework rate miss the deployments after it of "
        "the source not read (those of a source still read, ArgoCD while GitLab is down, count), and what came after "
        "is unknown, not none. Null when every day of the period was read. A named period's is the daily build's.",
    )
    deployment_frequency_numerator: int | None = None
    deployment_frequency_denominator_days: float | None = Field(
        default=None, description="Days from deploymentsFrom to the period's end."
    )
    deploy_days: int | None = Field(default=None, description="UTC calendar days with a successful deployment.")
    days_with_deployments: int | None = Field(
        default=None,
        description="Days holding a successful deployment: 24 h counted back from the period's end (a part day at "
        "its start is one), or UTC days (the part days at its two ends together one), whichever hold more, so that "
        "the as-of hour does not move a team's deployments between days. With weeks_with_deployments and "
        "months_with_deployments, the basis of the level: daily is met by a deployment on 5 of every 7 days, as many "
        "days as the period holds working days at the fewest (5 in each whole week of "
        "deployment_frequency_denominator_days, and all but 2 of the days left over: 20 of 30 days), weekly and "
        "monthly when at least as many weeks or months hold one as whole ones fit in the period "
        "(deployment_frequency_denominator_days / 7 or 31, rounded down).",
    )
    weeks_with_deployments: int | None = Field(
        default=None,
        description="Weeks holding a successful deployment: 7 days counted back from the period's end (a part week at "
        "its start is one), or calendar weeks from Monday, UTC (the part weeks at its two ends together one), "
        "whichever hold more, so that the as-of's weekday does not move a team's deployments between weeks.",
    )
    months_with_deployments: int | None = Field(
        default=None,
        description="Months (31 days, the longest calendar month, counted back from the period's end) holding a "
        "successful deployment.",
    )
    deployment_frequency_per_day: float | None = None
    deployment_frequency_state: str | None = None
    deployment_frequency_level: str | None = None
    lead_time_sample: int | None = None
    lead_time_median_hours: float | None = None
    lead_time_p90_hours: float | None = None
    lead_time_state: str | None = None
    lead_time_level: str | None = None
    change_failure_numerator: int | None = None
    change_failure_denominator: int | None = None
    change_failure_rate: float | None = None
    change_failure_state: str | None = None
    change_failure_level: str | None = None
    recovery_sample: int | None = None
    recovery_median_hours: float | None = None
    change_failures_not_recovered: int | None = Field(
        default=None,
        description="Change failures of the period still not recovered at the build's as-of: the recovery time's "
        "median is over those recovered alone, so an 'ok' with a median says that at least one recovered, not that "
        "every one did. Null when the change failures are unknown (ServiceNow not read over the period).",
    )
    recovery_state: str | None = None
    recovery_level: str | None = None
    mttr_sample: int | None = Field(
        default=None,
        description="Incidents restored in the period with a duration, canceled ones left out: the MTTR median's "
        "sample (one restored before it opened has no duration).",
    )
    mttr_median_hours: float | None = None
    mttr_state: str | None = None
    mttr_level: str | None = None
    rework_numerator: int | None = None
    rework_denominator: int | None = None
    rework_rate: float | None = None
    rework_state: str | None = None


class DoraReport(Envelope):
    group_by: str
    environment: str
    mode: str
    band_set: str
    period: PeriodOut
    items: list[DoraRow]
    page: ReportPage


NOT_READ = (
    "; null for a day before the lake first read ServiceNow's records of its kind, or wholly after how far it had read "
    "them when the build ran (ServiceNow down since): unknown, not none"
)
# A report's totals are summed over the days read, as its days give them.
PERIOD_NOT_READ = (
    ", over the days read (a day before the lake first read ServiceNow's records of its kind, or wholly after how far "
    "it had read them, adds nothing: it is unknown); null when none of the period's days was read"
)


class IncidentDay(ApiModel):
    day: date
    opened: int | None = Field(description="Incidents opened that day (UTC)" + NOT_READ + ".")


class IncidentsRow(ApiModel):
    id: str = Field(description="Application, team, group or domain id.")
    name: str | None = Field(
        default=None,
        description="The application's name in the mapping, else its id (application rows only).",
    )
    team: str | None = Field(default=None, description="The application's team (application rows only).")
    applications: int = Field(
        description="Applications summed: 1 for an application row. Only those tied to a ServiceNow CI in the "
        "environment (on their own entry or a component's) have a row or count in one: incidents are found by CI alone."
    )
    opened: int | None = Field(
        description="Incidents opened in the period (cancelled ones left out)" + PERIOD_NOT_READ + "."
    )
    opened_p1_p2: int | None = Field(description="Of them, priority 1 or 2.")
    restored: int | None = Field(
        description="Incidents restored in the period, whenever they were opened, canceled ones left out (the closed "
        "incidents list shows them, flagged isCanceled)" + PERIOD_NOT_READ + "."
    )
    sla_breaches: int | None = Field(
        description="Incidents opened in the period with a breached task SLA, over the days read (a day before the "
        "lake first read ServiceNow's incidents, or their task SLAs, or wholly after how far it had read either, adds "
        "nothing: it is unknown); null when none of the period's days was read, or when the instant the lake first "
        "read task SLAs is unknown (a lake an older release wrote)."
    )
    open_end_of_period: int | None = Field(
        description="The backlog at the end of the period's last day (the build's as-of on its day): opened before "
        "its end and not restored; null when that day was not read (see days), or when the lake had read incidents "
        "only up to more than an hour before that end (ServiceNow is read every 15 minutes: a day read in part can "
        "hide hours of incidents), as a summary's open incidents are."
    )
    open_p1_p2_end_of_period: int | None = Field(description="Of that backlog, priority 1 or 2.")
    mttr_mean_hours: float | None = Field(
        description="Mean hours from opening to restore of the incidents restored in the period (on the days read), "
        "taken over the incidents themselves; one restored before it opened has no duration and is left out. Null "
        "without a restore that has one."
    )
    mttr_median_hours: float | None = Field(
        description="Median hours from opening to restore of the same incidents, taken over the incidents "
        "themselves (medians do not roll up from days or applications); null without a restore that has a duration."
    )
    days: list[IncidentDay] = Field(description="The heatmap: incidents opened on every day of the period.")


class IncidentsReport(Envelope):
    group_by: str
    environment: str
    period: PeriodOut = Field(description="The whole UTC days summed, up to the build's as-of hour.")
    items: list[IncidentsRow]
    page: ReportPage


class ChangeDay(ApiModel):
    day: date
    planned: int | None = Field(
        description="Changes planned to start that day (UTC), canceled ones left out, on the as-of day those planned "
        "after the as-of hour too (see upcoming)" + NOT_READ + "."
    )
    implemented: int | None = Field(description="Changes closed whose work ended that day" + NOT_READ + ".")
    unsuccessful: int | None = Field(description="Of them, closed with close code unsuccessful" + NOT_READ + ".")
    failed: int | None = Field(
        description="Of them, failed: closed with a close code ROSETTA_FAILED_CLOSE_CODES lists (unsuccessful unless "
        "set)" + NOT_READ + "."
    )
    emergency: int | None = Field(
        description="Emergency changes, not canceled, started that day, an upcoming one by its plan" + NOT_READ + "."
    )
    upcoming: int | None = Field(
        default=None,
        description="Of planned, those planned to start at or after the build's as-of hour (on the as-of day alone): "
        "still to come, so in none of the row's counts, which end at the as-of hour (an emergency one is left out "
        "of the row's emergency too)" + NOT_READ + ".",
    )


class ChangesRow(ApiModel):
    id: str = Field(description="Application, team, group or domain id.")
    name: str | None = Field(
        default=None,
        description="The application's name in the mapping, else its id (application rows only).",
    )
    team: str | None = Field(default=None, description="The application's team (application rows only).")
    applications: int = Field(
        description="Applications summed: 1 for an application row. Only those tied to a ServiceNow CI in the "
        "environment (on their own entry or a component's) have a row or count in one: changes are found by CI alone."
    )
    planned: int | None = Field(
        description="Changes planned to start in the period, canceled ones left out, and those upcoming (planned after "
        "the as-of hour, see the days' upcoming)" + PERIOD_NOT_READ + "."
    )
    canceled: int | None = Field(
        description="Canceled changes whose planned start fell in the period, before the as-of hour"
        + PERIOD_NOT_READ
        + "."
    )
    emergency: int | None = Field(
        description="Emergency changes, not canceled, started in the period, before the as-of hour"
        + PERIOD_NOT_READ
        + "."
    )
    implemented: int | None = Field(description="Changes closed whose work ended in the period" + PERIOD_NOT_READ + ".")
    successful: int | None = Field(description="Of them, closed with close code successful.")
    successful_with_issues: int | None = Field(description="Of them, closed with close code successful_issues.")
    unsuccessful: int | None = Field(description="Of them, closed with close code unsuccessful.")
    failed: int | None = Field(
        description="Of them, failed: closed with a close code ROSETTA_FAILED_CLOSE_CODES lists (unsuccessful unless "
        "set; rolled_back, say, when the instance lists it)."
    )
    closed_with_code: int | None = Field(
        description="Of them, closed with one of ServiceNow's close codes (successful, successful_issues, "
        "unsuccessful) or one ROSETTA_FAILED_CLOSE_CODES lists."
    )
    other_close_code: int | None = Field(
        description="Of them, closed with another close code the instance added (rolled back, say, when not listed as "
        "failed): neither a success nor a failure, left out of change_failure_rate."
    )
    change_failure_rate: float | None = Field(
        description="failed / closed_with_code over the period's days read (weighted by changes, not a mean of "
        "days or applications); null without a change closed with one of those codes."
    )
    days: list[ChangeDay] = Field(description="The change calendar: every day of the period.")


class ChangesReport(Envelope):
    group_by: str
    environment: str
    period: PeriodOut = Field(description="The whole UTC days summed, up to the build's as-of hour.")
    items: list[ChangesRow]
    page: ReportPage


class RiskReport(Envelope):
    metric: str
    period: PeriodOut
    min_requests: int | None = Field(
        default=None, description="metric=error_rate: the least traffic an application needed to be ranked."
    )
    items: list[RiskRow]
    page: ReportPage


# --- admin ------------------------------------------------------------------------------------------------------
class RunOut(ApiModel):
    run_id: str
    function: str
    source: str
    dataset: str | None
    window_start: datetime | None
    window_end: datetime | None
    started_at: datetime
    status: str
    finished_at: datetime | None
    duration_s: float | None
    rows_in: int
    rows_out: int
    rows_rejected: int
    requests: int
    retries: int
    days_written: list[str]
    error: str | None
    trigger: str


class RunList(Envelope):
    items: list[RunOut]
    page: Page


class MappingOut(Envelope):
    version: int
    versions: list[int]
    changed_by: str | None
    changed_at: datetime | None
    change_note: str | None
    entries: list[dict[str, Any]] = Field(description="Entries with snake_case pivot fields, as accepted by POST.")
    page: Page


class MappingKey(BaseModel):
    # A field it does not know (`env`) is refused: dropped, the key would fall back to production and remove that
    # entry instead. Spaces around an id are dropped, as they are from an entry's.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    entity_id: str = Field(max_length=MAX_REF)
    environment: str | None = Field(
        default=None, max_length=MAX_REF, description="Without it, the estate's production environment."
    )


class MappingChange(BaseModel):
    """Entries to upsert (or to replace the whole table with), keys to remove, and why."""

    model_config = ConfigDict(extra="forbid")

    entries: list[dict[str, Any]] = Field(default_factory=list, max_length=20_000)
    replace: bool = False
    remove: list[MappingKey] = Field(default_factory=list, max_length=20_000)
    note: str | None = Field(default=None, max_length=2000)


class MappingChanged(ApiModel):
    version: int
    changed_by: str
    changed_at: datetime
    entries: int


class TriggerRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["ingest", "build"]
    source: Literal["dynatrace", "servicenow", "deploys", "logs", "argocd", "gitlab", "elasticsearch"] | None = None
    mode: Literal["hourly", "daily", "full"] = "hourly"


class TriggerOut(ApiModel):
    trigger_id: str = Field(description="Carried by the runs as their trigger (api:<id>) where the runner allows.")
    kind: str
    target: str
    status: Literal["started", "accepted"]
    run_ids: list[str] = Field(description="Run ids in the run log, when known before answering.")


class SourceState(ApiModel):
    name: str
    configured: bool
    url: str | None = None
    reachable: bool | None = Field(
        description="null when not configured, or when the API is not given the source's credentials to probe it."
    )
    authenticated: bool | None = Field(
        default=None,
        description="Whether the probe's credentials were accepted: true on a success in JSON; false on 401 or 403, a "
        "redirect or a success that is not JSON (a single sign-on login page); null when not probed or when the "
        "answer says nothing of them (a 5xx, a 429).",
    )
    probe_error: str | None = None
    last_success: datetime | None = Field(
        default=None, description="When the last run that wrote the source's data ended (succeeded, or partial)."
    )
    last_run_status: str | None = Field(
        default=None,
        description="How the source's last run ended, over every dataset it read: failed when one failed (or the run "
        "could not start: ingest_deploys' counts for ArgoCD and GitLab), else running while one runs, else partial "
        "when one set records aside, else succeeded; null when no run of the source is in the run log (kept 400 days "
        "by default), however many runs of other sources came since.",
    )
    freshness: datetime | None = Field(
        description="Oldest watermark of the datasets every run of the source reads: GitLab's "
        "deployment_merge_requests and project_paths, read on request, are in `datasets` but not counted."
    )
    lag_seconds: float | None = None
    datasets: dict[str, datetime | None] = Field(default_factory=dict)
    read_from: dict[str, datetime | None] = Field(
        default_factory=dict,
        description="Per dataset, the first instant the lake has read it from (the start of the first window a run "
        "or a backfill completed); null when no run has recorded one. What happened before it is unknown to the "
        "lake: DORA counts deployments from there.",
    )


class SourcesOut(Envelope):
    items: list[SourceState]


# A log line is one of Elasticsearch's error and warning lines: the coverage counts those in lines.
RecordKind = Literal["incident", "change", "deployment", "log_line"]


class CoverageRow(ApiModel):
    record_kind: RecordKind
    records: int = Field(
        description="Records of this kind in the window (canceled incidents left out); for log_line, error and "
        "warning lines (those with an exception among them, counted once)."
    )
    attributed: int = Field(description="Those the build found an entity for, and so counted in the KPIs.")
    unattributed: int = Field(description="Those it found none for: counted in no KPI until the mapping claims them.")
    attributed_share: float | None = Field(description="attributed / records; null without records, never 100 %.")


class UnmappedKey(ApiModel):
    record_kind: RecordKind
    key_kind: Literal["servicenow_ci", "argocd_app", "gitlab_project", "elisa_service"] = Field(
        description="What a mapping entry would need to claim these records: the pivot of that kind."
    )
    key: str | None = Field(
        description="The CI's sys_id (a record without a CI: its business service's, which claims it too), the ArgoCD "
        "application, the GitLab project id, or the index pattern and service.name the lines were logged under "
        "(index_pattern|service_name: an entry of that id with that index, or a component of that id of an "
        "application with it); null for records that name neither a CI nor a business service, which no entry "
        "can claim."
    )
    environment: str | None = Field(
        description="The environment GitLab deployed to, as GitLab names it (GitLab projects only), or the lines' "
        "environment field as logged (log lines only)."
    )
    label: str | None = Field(description="The CI's (or business service's) name on the latest record.")
    records: int
    first_seen: datetime
    last_seen: datetime
    latest_record: str | None = Field(
        description="The latest record's number (INC…, CHG…) or deployment key; null for log lines, which have "
        "no number."
    )


class CoverageOut(Envelope):
    window_start: datetime | None = Field(description="The window counted: the 30 days before the build's as_of.")
    window_end: datetime | None
    kinds: list[CoverageRow]
    unmapped: list[UnmappedKey] = Field(description="What the mapping leaves out, the most records first.")
    unmapped_total: int = Field(description="How many unmapped keys there are, `limit` of them listed.")
