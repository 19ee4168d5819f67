"""The records of the synthetic estate: organisation, applications, components and their events."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

PRODUCTION = "production"
STAGING = "staging"


def at(epoch_seconds: int) -> datetime:
    """A UTC-aware datetime from epoch seconds."""
    return datetime.fromtimestamp(epoch_seconds, tz=UTC)


def maybe_at(epoch_seconds: int | None) -> datetime | None:
    return None if epoch_seconds is None else at(epoch_seconds)


@dataclass(slots=True, frozen=True)
class Domain:
    name: str
    title: str
    owner_group: str


@dataclass(slots=True)
class Group:
    """A Backstage Group: kind 'group' (organisational unit) or 'team' (owns applications)."""

    name: str
    title: str
    kind: str
    parent: str | None
    sys_id: str
    children: list[str] = field(default_factory=list)
    members: list[str] = field(default_factory=list)


@dataclass(slots=True, frozen=True)
class User:
    index: int
    username: str
    name: str
    email: str
    sys_id: str
    gitlab_id: int
    team: str


@dataclass(slots=True)
class TrafficProfile:
    """Per-service constants of the hourly metric model (the hourly values themselves are computed lazily)."""

    requests_per_minute: float
    p50_ms: float
    p95_ratio: float
    p99_ratio: float
    error_rate: float
    cpu_percent: float
    memory_percent: float
    night_idle: bool


@dataclass(slots=True)
class Component:
    """A microservice of an application, with its identities in every source."""

    index: int
    name: str
    suffix: str
    app: str
    ci_sys_id: str
    service_id: str
    staging_service_id: str | None
    container_id: str
    staging_container_id: str | None
    deploy_tool: str
    has_staging: bool
    gitlab_project_id: int
    gitlab_path: str
    production_env_id: int
    staging_env_id: int | None
    deploys_per_day: float
    traffic: TrafficProfile
    # Deployed by ArgoCD, and its GitLab pipeline records a deployment to production when it hands a release to
    # GitOps (the commit ArgoCD syncs): a GitLab deployment that is no rollout, listing the merge requests it carries.
    hands_off: bool = False

    @property
    def ci_name(self) -> str:
        return self.name

    @property
    def argo_app(self) -> str:
        return f"{self.name}-prod"

    @property
    def fast_forward(self) -> bool:
        """Its GitLab project merges by fast-forward: no merge commit, a request's head commit lands on main."""
        return self.index % 3 == 2

    @property
    def argo_staging_app(self) -> str | None:
        return f"{self.name}-staging" if self.has_staging else None

    def service_id_for(self, environment: str) -> str | None:
        return self.service_id if environment == PRODUCTION else self.staging_service_id

    def environments(self) -> list[str]:
        return [PRODUCTION, STAGING] if self.has_staging else [PRODUCTION]


@dataclass(slots=True)
class Application:
    index: int
    id: str
    title: str
    domain: str
    team: str
    group: str
    ci_sys_id: str
    cadence: str
    incident_probability: float
    components: list[Component] = field(default_factory=list)

    @property
    def ci_name(self) -> str:
        return self.title


@dataclass(slots=True)
class Deployment:
    """One deployment attempt to an environment (production ones are the truth of DORA counts)."""

    id: int
    app: str
    component: str
    environment: str
    origin: str
    started_s: int
    finished_s: int
    revision: str
    previous_revision: str
    failed: bool
    rollback: bool
    caused_incident: str | None = None
    merge_request_ids: tuple[int, ...] = ()
    pipeline_id: int | None = None
    job_id: int | None = None
    gitlab_iid: int | None = None
    history_id: int | None = None
    change_number: str | None = None
    user_index: int = 0
    # GitLab: no deploying job (`deployable: null`): recorded through the API, or its pipeline deleted since.
    jobless: bool = False
    # ArgoCD: started by the application's automated sync policy, not by a user.
    automated: bool = False
    # GitLab: when the deployment was created, if long before it ran (a manual job played months later); else with
    # its pipeline, just before it started.
    created_s: int | None = None

    @property
    def time(self) -> datetime:
        return at(self.finished_s)

    @property
    def started_at(self) -> datetime:
        return at(self.started_s)


@dataclass(slots=True)
class MergeRequest:
    id: int
    iid: int
    project_id: int
    component: str
    created_s: int
    merged_s: int
    head_sha: str
    merge_sha: str
    author_index: int
    merger_index: int
    mr_pipeline_id: int
    main_pipeline_id: int
    deployment_id: int | None = None

    @property
    def merged_at(self) -> datetime:
        return at(self.merged_s)

    @property
    def title(self) -> str:
        return f"{self.component}: change {self.iid}"

    @property
    def source_branch(self) -> str:
        return f"feature/change-{self.iid}"


@dataclass(slots=True)
class Pipeline:
    id: int
    iid: int
    project_id: int
    ref: str
    sha: str
    source: str
    status: str
    created_s: int
    started_s: int
    finished_s: int
    user_index: int
    deploys: bool = False


@dataclass(slots=True)
class Degradation:
    """A window where a service misbehaves: errors and latency rise, logs fill with errors."""

    component_index: int
    environment: str
    start_s: int
    end_s: int
    severity: float
    cause: str
    deployment_id: int | None = None
    incident_number: str | None = None


@dataclass(slots=True)
class Incident:
    number: str
    sys_id: str
    app: str
    component: str | None
    ci_sys_id: str
    business_service_sys_id: str
    impact: int
    urgency: int
    priority: int
    opened_s: int
    resolved_s: int | None
    closed_s: int | None
    canceled: bool
    caused_by_deployment: int | None
    caused_by_change_sys_id: str | None
    assignment_group_sys_id: str
    reassignment_count: int
    update_times: list[int]
    category: str
    short_description: str
    caller_index: int
    assignee_index: int | None
    problem_sys_id: str | None = None

    @property
    def opened_at(self) -> datetime:
        return at(self.opened_s)

    @property
    def resolved_at(self) -> datetime | None:
        return maybe_at(self.resolved_s)

    @property
    def closed_at(self) -> datetime | None:
        return maybe_at(self.closed_s)

    @property
    def caused_by(self) -> int | None:
        return self.caused_by_deployment

    @property
    def ci(self) -> str:
        return self.ci_sys_id

    @property
    def state(self) -> int:
        if self.canceled:
            return 8
        if self.closed_s is not None:
            return 7
        if self.resolved_s is not None:
            return 6
        return 2 if self.assignee_index is not None else 1

    @property
    def updated_s(self) -> int:
        return self.update_times[-1]


@dataclass(slots=True)
class Change:
    number: str
    sys_id: str
    app: str
    component: str | None
    ci_sys_id: str
    type: str
    risk: int
    impact: int
    created_s: int
    planned_start_s: int
    planned_end_s: int
    work_start_s: int | None
    work_end_s: int | None
    closed_s: int | None
    close_code: str
    state: int
    assignment_group_sys_id: str
    short_description: str
    requested_by_index: int
    deployment_id: int | None = None

    @property
    def planned_start(self) -> datetime:
        return at(self.planned_start_s)

    @property
    def planned_end(self) -> datetime:
        return at(self.planned_end_s)

    @property
    def updated_s(self) -> int:
        return max(t for t in (self.created_s, self.work_start_s, self.work_end_s, self.closed_s) if t is not None)


@dataclass(slots=True)
class Problem:
    number: str
    sys_id: str
    app: str
    ci_sys_id: str
    priority: int
    opened_s: int
    closed_s: int | None
    known_error: bool
    assignment_group_sys_id: str
    short_description: str
    incident_numbers: list[str] = field(default_factory=list)

    @property
    def state(self) -> int:
        # The classic problem state model (1 Open, 2 Known Error, 3 Pending Change, 4 Closed/Resolved).
        if self.closed_s is not None:
            return 4
        return 2 if self.known_error else 1

    @property
    def updated_s(self) -> int:
        return self.closed_s if self.closed_s is not None else self.opened_s


@dataclass(slots=True, frozen=True)
class SlaDefinition:
    sys_id: str
    name: str
    kind: str
    priority: int
    target_s: int


@dataclass(slots=True)
class TaskSla:
    sys_id: str
    incident_sys_id: str
    incident_number: str
    app: str
    definition: SlaDefinition
    stage: str
    has_breached: bool
    start_s: int
    end_s: int | None
    planned_end_s: int
    elapsed_s: int
    updated_s: int

    @property
    def percentage(self) -> float:
        return 100.0 * self.elapsed_s / self.definition.target_s


@dataclass(slots=True)
class DynatraceProblem:
    problem_id: str
    display_id: str
    title: str
    severity: str
    impact: str
    app: str
    component_index: int
    service_id: str
    start_ms: int
    end_ms: int
    degradation_cause: str

    @property
    def status(self) -> str:
        return "OPEN" if self.end_ms == -1 else "CLOSED"
