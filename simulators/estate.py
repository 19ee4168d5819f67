"""One seed, one world: the synthetic estate behind every simulator, with the truth it knows about itself."""

from __future__ import annotations

import bisect
import json
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import yaml

from simulators import hashing
from simulators.history import history_refused
from simulators.model import (
    PRODUCTION,
    STAGING,
    Application,
    Change,
    Component,
    Degradation,
    Deployment,
    Domain,
    DynatraceProblem,
    Group,
    Incident,
    MergeRequest,
    Pipeline,
    Problem,
    SlaDefinition,
    TaskSla,
    TrafficProfile,
    User,
    at,
)

HOUR = 3600
DAY = 86400
# Shares of deployments whose answers lack what most carry: a GitLab deployment without a job, an ArgoCD sync its
# automated sync policy started.
JOBLESS_SHARE = 0.1
AUTOMATED_SHARE = 0.4

_APP_WORDS = [
    "payments",
    "checkout",
    "catalog",
    "inventory",
    "shipping",
    "billing",
    "ledger",
    "identity",
    "search",
    "recommendations",
    "notifications",
    "pricing",
    "loyalty",
    "orders",
    "returns",
    "invoicing",
    "onboarding",
    "kyc",
    "fraud",
    "reporting",
    "analytics",
    "messaging",
    "scheduling",
    "booking",
    "reviews",
    "cart",
    "wallet",
    "profiles",
    "documents",
    "claims",
    "quotes",
    "contracts",
    "subscriptions",
    "refunds",
    "warehouse",
    "tracking",
    "partners",
    "media",
    "consent",
    "audit",
]
_DOMAIN_WORDS = [
    "commerce",
    "finance",
    "customer",
    "logistics",
    "platform",
    "data",
    "risk",
    "marketing",
    "operations",
    "insurance",
    "partner",
    "compliance",
]
_GROUP_WORDS = [
    "digital-factory",
    "core-banking-it",
    "customer-it",
    "data-office",
    "ops-engineering",
    "finance-it",
    "platform-engineering",
    "risk-it",
]
_TEAM_WORDS = [
    "falcon",
    "orca",
    "lynx",
    "otter",
    "heron",
    "bison",
    "panda",
    "koala",
    "gecko",
    "raven",
    "puma",
    "ibis",
    "manta",
    "marten",
    "quokka",
    "walrus",
    "yak",
    "zebra",
    "badger",
    "cobra",
    "dingo",
    "egret",
    "ferret",
    "gazelle",
]
_SUFFIXES = ["api", "web", "worker", "gateway", "scheduler", "consumer", "sync", "admin"]
_FIRST_NAMES = [
    "alice",
    "bruno",
    "chloe",
    "david",
    "emma",
    "farid",
    "gina",
    "hugo",
    "ines",
    "jonas",
    "karim",
    "lea",
    "marc",
    "nora",
    "omar",
    "paula",
    "quentin",
    "rosa",
    "sami",
    "tara",
]
_LAST_NAMES = [
    "martin",
    "bernard",
    "dubois",
    "thomas",
    "robert",
    "richard",
    "petit",
    "durand",
    "leroy",
    "moreau",
    "simon",
    "laurent",
    "lefebvre",
    "michel",
    "garcia",
    "david",
    "bertrand",
    "roux",
    "vincent",
    "fournier",
]
_CADENCES = [("elite", 1.1, 0.2), ("high", 0.4, 0.35), ("medium", 0.14, 0.3), ("low", 0.05, 0.15)]
_SLA_TARGETS = {
    "response": {1: 15 * 60, 2: 30 * 60, 3: 4 * HOUR, 4: 8 * HOUR, 5: 24 * HOUR},
    "resolution": {1: 4 * HOUR, 2: 8 * HOUR, 3: 24 * HOUR, 4: 72 * HOUR, 5: 120 * HOUR},
}
_PRIORITY_MATRIX = {(1, 1): 1, (1, 2): 2, (2, 1): 2, (1, 3): 3, (2, 2): 3, (3, 1): 3, (2, 3): 4, (3, 2): 4, (3, 3): 5}
SERVICE_DESK = "Service Desk"


def _word(words: list[str], index: int) -> str:
    base = words[index % len(words)]
    return base if index < len(words) else f"{base}-{index // len(words) + 1}"


def priority_of(impact: int, urgency: int) -> int:
    """ServiceNow's default priority lookup from impact and urgency."""
    return _PRIORITY_MATRIX[(impact, urgency)]


def truncate_to_hour(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("end must be timezone-aware (UTC)")
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


@dataclass(slots=True)
class AppTruth:
    production_deployments: int = 0
    failed_deployments: int = 0
    rollbacks: int = 0
    incidents: int = 0
    incidents_caused_by_deployments: int = 0


@dataclass
class Truth:
    """What really happened in the estate, for tests that check KPIs computed from the APIs."""

    deployments: list[Deployment]
    incidents: list[Incident]
    changes: list[Change]
    per_app: dict[str, AppTruth]

    def deployments_of(self, app: str) -> list[Deployment]:
        return [d for d in self.deployments if d.app == app]

    def incidents_of(self, app: str) -> list[Incident]:
        return [i for i in self.incidents if i.app == app]

    def as_dict(self) -> dict[str, Any]:
        def iso(moment: datetime | None) -> str | None:
            return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")

        return {
            "deployments": [
                {
                    "id": d.id,
                    "app": d.app,
                    "component": d.component,
                    "time": iso(d.time),
                    "origin": d.origin,
                    "failed": d.failed,
                    "rollback": d.rollback,
                    "caused_incident": d.caused_incident,
                    "revision": d.revision,
                    "merge_request_ids": list(d.merge_request_ids),
                }
                for d in self.deployments
            ],
            "incidents": [
                {
                    "number": i.number,
                    "sys_id": i.sys_id,
                    "app": i.app,
                    "ci_sys_id": i.ci_sys_id,
                    "priority": i.priority,
                    "opened_at": iso(i.opened_at),
                    "resolved_at": iso(i.resolved_at),
                    "closed_at": iso(i.closed_at),
                    "canceled": i.canceled,
                    "caused_by": i.caused_by_deployment,
                }
                for i in self.incidents
            ],
            "changes": [
                {
                    "number": c.number,
                    "app": c.app,
                    "planned_start": iso(c.planned_start),
                    "planned_end": iso(c.planned_end),
                    "close_code": c.close_code,
                    "state": c.state,
                    "deployment_id": c.deployment_id,
                }
                for c in self.changes
            ],
            "per_app": {
                app: {
                    "production_deployments": t.production_deployments,
                    "failed_deployments": t.failed_deployments,
                    "rollbacks": t.rollbacks,
                    "incidents": t.incidents,
                    "incidents_caused_by_deployments": t.incidents_caused_by_deployments,
                }
                for app, t in self.per_app.items()
            },
        }

    def to_json(self, *, indent: int | None = None) -> str:
        return json.dumps(self.as_dict(), indent=indent)


@dataclass
class Estate:
    """The whole synthetic world. Hourly metrics are not stored: see simulators.timeseries."""

    seed: int
    start: datetime
    end: datetime
    domains: list[Domain]
    groups: list[Group]
    users: list[User]
    applications: list[Application]
    deployments: list[Deployment]
    merge_requests: list[MergeRequest]
    pipelines: list[Pipeline]
    degradations: list[Degradation]
    incidents: list[Incident]
    changes: list[Change]
    problems: list[Problem]
    sla_definitions: list[SlaDefinition]
    task_slas: list[TaskSla]
    dynatrace_problems: list[DynatraceProblem]
    truth: Truth
    # GitLab's deployments that hand a release to ArgoCD (see Component.hands_off): served by GitLab, never truth.
    handoffs: list[Deployment] = field(default_factory=list)
    # When ArgoCD (upgraded then) began writing who started a sync into its history: older entries have no
    # initiatedBy.
    argocd_initiators_from_s: int = 0
    components: list[Component] = field(default_factory=list)
    _app_by_id: dict[str, Application] = field(default_factory=dict, repr=False)
    _component_by_name: dict[str, Component] = field(default_factory=dict, repr=False)
    _group_by_name: dict[str, Group] = field(default_factory=dict, repr=False)
    _degradation_index: dict[tuple[int, str], tuple[list[int], list[Degradation]]] = field(
        default_factory=dict, repr=False
    )

    def __post_init__(self) -> None:
        self.components = [c for app in self.applications for c in app.components]
        self._app_by_id = {a.id: a for a in self.applications}
        self._component_by_name = {c.name: c for c in self.components}
        self._group_by_name = {g.name: g for g in self.groups}
        grouped: dict[tuple[int, str], list[Degradation]] = {}
        for deg in sorted(self.degradations, key=lambda d: d.start_s):
            grouped.setdefault((deg.component_index, deg.environment), []).append(deg)
        self._degradation_index = {key: ([d.start_s for d in degs], degs) for key, degs in grouped.items()}

    @property
    def start_s(self) -> int:
        return int(self.start.timestamp())

    @property
    def end_s(self) -> int:
        return int(self.end.timestamp())

    def application(self, app_id: str) -> Application:
        return self._app_by_id[app_id]

    def component(self, name: str) -> Component:
        return self._component_by_name[name]

    def group(self, name: str) -> Group:
        return self._group_by_name[name]

    def initiated_by(self, dep: Deployment) -> str | None:
        """Who started a deployment, as its source tells: the GitLab user's username; for ArgoCD 'automated', the
        user's e-mail, or None for a sync whose history entry predates ArgoCD recording it (a failed sync is read
        from the operation, which always says)."""
        user = self.users[dep.user_index]
        if dep.origin == "gitlab":
            return user.username
        if not dep.failed and dep.finished_s < self.argocd_initiators_from_s:
            return None
        return "automated" if dep.automated else user.email

    def teams(self) -> list[Group]:
        return [g for g in self.groups if g.kind == "team"]

    def degradations_overlapping(
        self, component_index: int, environment: str, start_s: int, end_s: int
    ) -> Iterator[Degradation]:
        """Degradations of one service that overlap [start_s, end_s); they last at most a few days."""
        entry = self._degradation_index.get((component_index, environment))
        if entry is None:
            return
        starts, degs = entry
        first = bisect.bisect_left(starts, start_s - 7 * DAY)
        last = bisect.bisect_left(starts, end_s)
        for deg in degs[first:last]:
            if deg.end_s > start_s:
                yield deg

    def catalog_entities(self) -> list[dict[str, Any]]:
        """The Backstage entities (Group, Domain, System, Component) describing the estate."""
        return catalog_entities(self)

    def catalog_yaml(self) -> str:
        """A multi-document Backstage catalog-info.yaml."""
        return yaml.safe_dump_all(self.catalog_entities(), sort_keys=False, allow_unicode=True)


KIBANA_QUERY_TEMPLATE = 'service.name:"{component}" and deployment.environment:"{environment}"'


def catalog_entities(estate: Estate) -> list[dict[str, Any]]:
    entities: list[dict[str, Any]] = []
    for group in estate.groups:
        spec: dict[str, Any] = {"type": group.kind, "children": list(group.children)}
        if group.parent:
            spec["parent"] = group.parent
        if group.members:
            spec["members"] = list(group.members)
        entities.append(
            {
                "apiVersion": "backstage.io/v1alpha1",
                "kind": "Group",
                "metadata": {
                    "name": group.name,
                    "title": group.title,
                    "annotations": {"rosetta.io/servicenow-group-id": group.sys_id},
                },
                "spec": spec,
            }
        )
    for domain in estate.domains:
        entities.append(
            {
                "apiVersion": "backstage.io/v1alpha1",
                "kind": "Domain",
                "metadata": {"name": domain.name, "title": domain.title},
                "spec": {"owner": f"group:default/{domain.owner_group}"},
            }
        )
    for app in estate.applications:
        entities.append(
            {
                "apiVersion": "backstage.io/v1alpha1",
                "kind": "System",
                "metadata": {
                    "name": app.id,
                    "title": app.title,
                    "annotations": {
                        "rosetta.io/servicenow-ci-id": app.ci_sys_id,
                        "rosetta.io/cmdb-ci-name": app.ci_name,
                    },
                },
                "spec": {"owner": f"group:default/{app.team}", "domain": app.domain},
            }
        )
        for comp in app.components:
            entities.append(
                {
                    "apiVersion": "backstage.io/v1alpha1",
                    "kind": "Component",
                    "metadata": {
                        "name": comp.name,
                        "annotations": {
                            "dynatrace.com/dynatrace-entity-id": comp.service_id,
                            "rosetta.io/dynatrace-tag": f"app:{app.id}",
                            "rosetta.io/servicenow-ci-id": comp.ci_sys_id,
                            "rosetta.io/cmdb-ci-name": comp.ci_name,
                            # Only components that ArgoCD deploys have an ArgoCD application.
                            **({"argocd/app-name": comp.argo_app} if comp.deploy_tool == "argocd" else {}),
                            "gitlab.com/project-id": str(comp.gitlab_project_id),
                            "rosetta.io/elisa-index": f"logs-{app.id}-*",
                            "rosetta.io/kibana-query-template": KIBANA_QUERY_TEMPLATE,
                            "rosetta.io/environment": PRODUCTION,
                        },
                        "tags": [comp.deploy_tool],
                    },
                    "spec": {
                        "type": "service",
                        "lifecycle": "production",
                        "owner": f"group:default/{app.team}",
                        "system": app.id,
                    },
                }
            )
    return entities


class _Builder:
    """Generates the estate in a single pass, application by application, events in time order."""

    def __init__(self, seed: int, apps: int, start_s: int, end_s: int) -> None:
        self.seed = seed
        self.apps = apps
        self.start_s = start_s
        self.end_s = end_s
        self.days = (end_s - start_s) // DAY
        self.domains: list[Domain] = []
        self.groups: list[Group] = []
        self.teams: list[Group] = []
        self.users: list[User] = []
        self.applications: list[Application] = []
        self.deployments: list[Deployment] = []
        self.handoffs: list[Deployment] = []
        self.merge_requests: list[MergeRequest] = []
        self.pipelines: list[Pipeline] = []
        self.degradations: list[Degradation] = []
        self.incidents: list[Incident] = []
        self.changes: list[Change] = []
        self.problems: list[Problem] = []
        self.task_slas: list[TaskSla] = []
        self.dt_problems: list[DynatraceProblem] = []
        self.service_desk = hashing.sys_id(seed, "group", SERVICE_DESK)
        self.sla_definitions = [
            SlaDefinition(
                hashing.sys_id(seed, "contract_sla", kind, p), f"P{p} {kind} ({_duration_label(t)})", kind, p, t
            )
            for kind, targets in _SLA_TARGETS.items()
            for p, t in targets.items()
        ]
        self._sla_by_key = {(d.kind, d.priority): d for d in self.sla_definitions}
        self._next = {
            "deployment": 5001,
            "pipeline": 100001,
            "mr": 20001,
            "incident": 10001,
            "change": 30001,
            "problem": 40001,
            "job": 700001,
            # Hand-offs to GitOps count apart, so that adding them moved no other id.
            "handoff": 900_000_001,
            "handoff_job": 800_000_001,
            "component": 0,
            "env": 1,
            "dtproblem": 1,
        }
        self._project_iids: dict[int, dict[str, int]] = {}
        self._team_users: dict[str, list[int]] = {}

    def take(self, counter: str) -> int:
        value = self._next[counter]
        self._next[counter] = value + 1
        return value

    def project_iid(self, project_id: int, kind: str) -> int:
        iids = self._project_iids.setdefault(project_id, {})
        iids[kind] = iids.get(kind, 0) + 1
        return iids[kind]

    # --- organisation -------------------------------------------------------------------------------------
    def build_organisation(self) -> None:
        rng = random.Random(hashing.seed_of(self.seed, "organisation"))
        n_domains = max(2, min(60, round(math.sqrt(self.apps) * 0.8)))
        n_groups = max(2, n_domains // 2)
        n_teams = max(2, math.ceil(self.apps / 3))
        domain_words = list(_DOMAIN_WORDS)
        rng.shuffle(domain_words)
        group_words = list(_GROUP_WORDS)
        rng.shuffle(group_words)
        team_words = list(_TEAM_WORDS)
        rng.shuffle(team_words)
        for i in range(n_groups):
            name = _word(group_words, i)
            self.groups.append(
                Group(name, name.replace("-", " ").title(), "group", None, hashing.sys_id(self.seed, "group", name))
            )
        for i in range(n_domains):
            name = _word(domain_words, i)
            self.domains.append(Domain(name, name.replace("-", " ").title(), self.groups[i % n_groups].name))
        for i in range(n_teams):
            name = f"team-{_word(team_words, i)}"
            parent = self.groups[i % n_groups]
            team = Group(
                name, name.replace("-", " ").title(), "team", parent.name, hashing.sys_id(self.seed, "group", name)
            )
            parent.children.append(name)
            for k in range(3):
                index = len(self.users)
                first = _FIRST_NAMES[(i * 3 + k) % len(_FIRST_NAMES)]
                last = _LAST_NAMES[(i * 7 + k * 3) % len(_LAST_NAMES)]
                username = f"{first}.{last}{index}"
                self.users.append(
                    User(
                        index,
                        username,
                        f"{first.title()} {last.title()}",
                        f"{username}@example.org",
                        hashing.sys_id(self.seed, "user", username),
                        100 + index,
                        name,
                    )
                )
                team.members.append(username)
                self._team_users.setdefault(name, []).append(index)
            self.teams.append(team)

    def team_users(self, team: str) -> list[int]:
        return self._team_users[team]

    # --- applications -------------------------------------------------------------------------------------
    def build_application(self, index: int, app_words: list[str]) -> Application:
        rng = random.Random(hashing.seed_of(self.seed, "application", index))
        app_id = _word(app_words, index)
        team = self.teams[index % len(self.teams)]
        domain = self.domains[(index % len(self.teams)) % len(self.domains)]
        cadence, rate, _ = rng.choices(_CADENCES, weights=[c[2] for c in _CADENCES])[0]
        app = Application(
            index,
            app_id,
            app_id.replace("-", " ").title(),
            domain.name,
            team.name,
            team.parent or "",
            hashing.sys_id(self.seed, "ci", app_id),
            cadence,
            incident_probability=rng.uniform(0.04, 0.18),
        )
        n_components = 2 + (rng.random() < 0.5) + (rng.random() < 0.25)
        suffixes = ["api", *rng.sample(_SUFFIXES[1:], n_components - 1)]
        app_tool = "argocd" if rng.random() < 0.6 else "gitlab"
        for suffix in suffixes:
            name = f"{app_id}-{suffix}"
            comp_index = self.take("component")
            has_staging = rng.random() < 0.5
            tool = app_tool if rng.random() < 0.85 else ("gitlab" if app_tool == "argocd" else "argocd")
            night_idle = suffix in ("scheduler", "admin") or rng.random() < 0.1
            traffic = TrafficProfile(
                requests_per_minute=math.exp(rng.uniform(math.log(20), math.log(3000))) * (0.2 if night_idle else 1),
                p50_ms=math.exp(rng.uniform(math.log(15), math.log(250))),
                p95_ratio=rng.uniform(2.0, 4.0),
                p99_ratio=rng.uniform(1.4, 2.5),
                error_rate=math.exp(rng.uniform(math.log(0.0003), math.log(0.006))),
                cpu_percent=rng.uniform(12, 45),
                memory_percent=rng.uniform(30, 62),
                night_idle=night_idle,
            )
            comp = Component(
                index=comp_index,
                name=name,
                suffix=suffix,
                app=app_id,
                ci_sys_id=hashing.sys_id(self.seed, "ci", name),
                service_id=hashing.dynatrace_entity_id("SERVICE", self.seed, name, PRODUCTION),
                staging_service_id=(
                    hashing.dynatrace_entity_id("SERVICE", self.seed, name, STAGING) if has_staging else None
                ),
                container_id=hashing.dynatrace_entity_id("CONTAINER_GROUP_INSTANCE", self.seed, name, PRODUCTION),
                staging_container_id=(
                    hashing.dynatrace_entity_id("CONTAINER_GROUP_INSTANCE", self.seed, name, STAGING)
                    if has_staging
                    else None
                ),
                deploy_tool=tool,
                has_staging=has_staging,
                gitlab_project_id=1000 + comp_index,
                gitlab_path=f"{domain.name}/{app_id}/{name}",
                production_env_id=self.take("env"),
                staging_env_id=self.take("env") if has_staging else None,
                deploys_per_day=rate * rng.uniform(0.6, 1.4),
                traffic=traffic,
                # From a generator of its own: the draws above, and the estate they make, stay as they were.
                hands_off=tool == "argocd"
                and random.Random(hashing.seed_of(self.seed, "hand-off", comp_index)).random() < 0.5,
            )
            app.components.append(comp)
        return app

    # --- events -------------------------------------------------------------------------------------------
    def mark_answer_shapes(self) -> None:
        """What some deployments lack in their source's answer, as in the real APIs: a GitLab deployment without a
        job (created through the API, or its pipeline deleted since), an ArgoCD sync its automated sync policy
        started. Drawn apart from the events, so that every other record stays as it was."""
        for dep in self.deployments:
            draw = random.Random(hashing.seed_of(self.seed, "answer-shape", dep.id)).random()
            if dep.origin == "argocd":
                dep.automated = draw < AUTOMATED_SHARE
            # A rollback re-runs the deploy job of the last good pipeline; a release that caused an incident, which a
            # rollback may replace, keeps its job too: a rollback to a commit never deployed is told by the commit
            # dates of both deployments' jobs (functions/ingest_deploys/events.py).
            elif not dep.rollback and dep.caused_incident is None:
                dep.jobless = draw < JOBLESS_SHARE

    def argocd_initiators_from(self) -> int:
        """An hour 15 to 35% into the history: ArgoCD's upgrade to a version writing initiatedBy into its history."""
        rng = random.Random(hashing.seed_of(self.seed, "argocd-upgrade"))
        moment = self.start_s + int((self.end_s - self.start_s) * rng.uniform(0.15, 0.35))
        return moment - moment % HOUR

    def build_events(self, app: Application) -> None:
        rng = random.Random(hashing.seed_of(self.seed, "events", app.index))
        team_users = self.team_users(app.team)
        for comp in app.components:
            self.component_deployments(rng, app, comp, team_users)
            self.spontaneous_degradations(rng, app, comp, team_users)
            self.scheduled_pipelines(rng, comp, team_users)
        self.noise_incidents(rng, app, team_users)
        self.future_changes(rng, app, team_users)

    def component_deployments(
        self, rng: random.Random, app: Application, comp: Component, team_users: list[int]
    ) -> None:
        revision = hashing.git_sha(self.seed, comp.name, "initial")
        last_deploy_s = self.start_s - rng.randint(DAY, 5 * DAY)
        history = {PRODUCTION: rng.randint(3, 400), STAGING: rng.randint(3, 400)}
        for day in range(self.days):
            day_s = self.start_s + day * DAY
            weekday = at(day_s).weekday()
            rate = comp.deploys_per_day * (0.12 if weekday >= 5 else 1.0)
            times = sorted(day_s + rng.randint(7 * HOUR, 18 * HOUR) for _ in range(_poisson(rng, rate)))
            for t in times:
                # An hour between releases keeps every merge between the previous deployment and its own.
                if t >= self.end_s or t < last_deploy_s + HOUR:
                    continue
                revision, last_deploy_s = self.release(rng, app, comp, team_users, t, last_deploy_s, revision, history)

    def release(
        self,
        rng: random.Random,
        app: Application,
        comp: Component,
        team_users: list[int],
        t: int,
        last_deploy_s: int,
        current_revision: str,
        history: dict[str, int],
    ) -> tuple[str, int]:
        """Merge requests, pipelines, a staging and a production deployment; maybe a failure or an incident.

        Returns the revision running in production afterwards and the time of the last deployment.
        """
        n_mrs = 1 + (rng.random() < 0.4) + (rng.random() < 0.12)
        lo = max(last_deploy_s + 300, t - 3 * DAY)
        hi = t - 1800
        merged_times = sorted(rng.randint(lo, hi) for _ in range(n_mrs))
        mrs: list[MergeRequest] = []
        main_pipeline: Pipeline | None = None
        for merged_s in merged_times:
            mr, main_pipeline = self.merge_request(rng, comp, team_users, merged_s)
            mrs.append(mr)
        assert main_pipeline is not None
        revision = mrs[-1].merge_sha
        deployer = rng.choice(team_users)
        if comp.has_staging:
            staging_s = main_pipeline.finished_s + rng.randint(120, max(180, (t - main_pipeline.finished_s) // 2))
            self.deployment(
                comp,
                app,
                STAGING,
                staging_s,
                revision,
                current_revision,
                False,
                False,
                mrs,
                main_pipeline,
                history,
                deployer,
            )
        if comp.hands_off:
            self.hand_off(comp, app, main_pipeline, t, revision, current_revision, mrs, deployer)
        failed = rng.random() < 0.06
        production = self.deployment(
            comp, app, PRODUCTION, t, revision, current_revision, failed, False, mrs, main_pipeline, history, deployer
        )
        if comp.deploy_tool == "gitlab":
            main_pipeline.deploys = True
            main_pipeline.finished_s = t
            main_pipeline.status = "failed" if failed else "success"
        change = self.change_for(rng, app, comp, production, "normal" if rng.random() < 0.3 else "standard")
        for mr in mrs:
            mr.deployment_id = None if failed else production.id
        if failed:
            retry_s = t + rng.randint(20 * 60, 90 * 60)
            if retry_s < self.end_s:
                retry = self.deployment(
                    comp,
                    app,
                    PRODUCTION,
                    retry_s,
                    revision,
                    current_revision,
                    False,
                    False,
                    mrs,
                    main_pipeline,
                    history,
                    deployer,
                )
                self.change_for(rng, app, comp, retry, "normal")
                for mr in mrs:
                    mr.deployment_id = retry.id
                if comp.deploy_tool == "gitlab":
                    main_pipeline.finished_s = retry_s
                    main_pipeline.status = "success"
                return revision, retry_s
            return current_revision, t
        if rng.random() < app.incident_probability:
            rolled_back_at = self.deployment_incident(
                rng, app, comp, production, change, current_revision, history, team_users
            )
            if rolled_back_at is not None:
                return current_revision, rolled_back_at
        return revision, t

    def merge_request(
        self, rng: random.Random, comp: Component, team_users: list[int], merged_s: int
    ) -> tuple[MergeRequest, Pipeline]:
        project = comp.gitlab_project_id
        created_s = merged_s - rng.randint(2 * HOUR, 4 * DAY)
        iid = self.project_iid(project, "mr")
        branch = f"feature/change-{iid}"
        head = hashing.git_sha(self.seed, comp.name, "head", iid)
        merge_sha = head if comp.fast_forward else hashing.git_sha(self.seed, comp.name, "merge", iid)
        author = rng.choice(team_users)
        mr_pipe_s = created_s + int((merged_s - created_s) * rng.uniform(0.5, 0.95))
        mr_pipeline = self.pipeline(rng, comp, branch, head, "merge_request_event", mr_pipe_s, author)
        main_pipeline = self.pipeline(rng, comp, "main", merge_sha, "push", merged_s + 20, author)
        mr = MergeRequest(
            self.take("mr"),
            iid,
            project,
            comp.name,
            created_s,
            merged_s,
            head,
            merge_sha,
            author,
            rng.choice(team_users),
            mr_pipeline.id,
            main_pipeline.id,
        )
        self.merge_requests.append(mr)
        return mr, main_pipeline

    def pipeline(
        self,
        rng: random.Random,
        comp: Component,
        ref: str,
        sha: str,
        source: str,
        created_s: int,
        user: int,
        status: str = "success",
    ) -> Pipeline:
        started = created_s + rng.randint(5, 90)
        pipe = Pipeline(
            self.take("pipeline"),
            self.project_iid(comp.gitlab_project_id, "pipeline"),
            comp.gitlab_project_id,
            ref,
            sha,
            source,
            status,
            created_s,
            started,
            started + rng.randint(240, 900),
            user,
        )
        self.pipelines.append(pipe)
        return pipe

    def scheduled_pipelines(self, rng: random.Random, comp: Component, team_users: list[int]) -> None:
        """Weekly green pipelines on main that deploy nothing: counting green pipelines is a trap."""
        first = self.start_s + rng.randint(0, 6) * DAY + 2 * HOUR
        for week, created_s in enumerate(range(first, self.end_s - HOUR, 7 * DAY)):
            status = "failed" if rng.random() < 0.1 else "success"
            self.pipeline(
                rng,
                comp,
                "main",
                hashing.git_sha(self.seed, comp.name, "nightly", week),
                "schedule",
                created_s,
                team_users[0],
                status,
            )

    def deployment(
        self,
        comp: Component,
        app: Application,
        environment: str,
        t: int,
        revision: str,
        previous: str,
        failed: bool,
        rollback: bool,
        mrs: list[MergeRequest],
        pipeline: Pipeline | None,
        history: dict[str, int],
        user: int,
    ) -> Deployment:
        started = t - (97 + (t % 180))
        dep = Deployment(
            id=self.take("deployment"),
            app=app.id,
            component=comp.name,
            environment=environment,
            origin=comp.deploy_tool,
            started_s=started,
            finished_s=t,
            revision=revision,
            previous_revision=previous,
            failed=failed,
            rollback=rollback,
            merge_request_ids=tuple(m.id for m in mrs),
            user_index=user,
        )
        if comp.deploy_tool == "gitlab":
            dep.pipeline_id = pipeline.id if pipeline else None
            dep.job_id = self.take("job")
            dep.gitlab_iid = self.project_iid(comp.gitlab_project_id, "deployment")
        elif not failed:
            # Argo CD only records successful syncs in its history; the id is monotonic per application.
            history[environment] += 1
            dep.history_id = history[environment]
        self.deployments.append(dep)
        return dep

    def hand_off(
        self,
        comp: Component,
        app: Application,
        pipeline: Pipeline,
        sync_s: int,
        revision: str,
        previous: str,
        mrs: list[MergeRequest],
        user: int,
    ) -> None:
        """The GitLab deployment to production a GitOps pipeline records when its manual deploy job, run at release
        time, commits the release for ArgoCD: two to five minutes before the sync that picks it up. Not a deployment
        of the truth: nothing ran."""
        finished = max(pipeline.finished_s + 30, sync_s - 120 - sync_s % 180)
        self.handoffs.append(
            Deployment(
                id=self.take("handoff"),
                app=app.id,
                component=comp.name,
                environment=PRODUCTION,
                origin="gitlab",
                started_s=finished - 25,
                finished_s=finished,
                revision=revision,
                previous_revision=previous,
                failed=False,
                rollback=False,
                merge_request_ids=tuple(m.id for m in mrs),
                pipeline_id=pipeline.id,
                job_id=self.take("handoff_job"),
                gitlab_iid=self.project_iid(comp.gitlab_project_id, "deployment"),
                user_index=user,
            )
        )

    def change_for(
        self, rng: random.Random, app: Application, comp: Component, dep: Deployment, change_type: str
    ) -> Change:
        number = f"CHG{self.take('change'):07d}"
        planned_start = (dep.started_s // 1800) * 1800 - rng.choice((0, 1800, 3600))
        planned_end = planned_start + rng.choice((2, 3, 4)) * HOUR
        created = planned_start - (
            rng.randint(HOUR, 6 * HOUR) if change_type == "emergency" else rng.randint(6 * HOUR, 4 * DAY)
        )
        close_code = "unsuccessful" if dep.failed else "successful"
        closed = dep.finished_s + rng.randint(10 * 60, 6 * HOUR)
        state = 3
        if closed > self.end_s:
            closed_value: int | None = None
            close_code = ""
            state = 0 if dep.finished_s <= self.end_s else -1
        else:
            closed_value = closed
        change = Change(
            number=number,
            sys_id=hashing.sys_id(self.seed, "change", number),
            app=app.id,
            component=comp.name,
            ci_sys_id=comp.ci_sys_id,
            type=change_type,
            risk=rng.choice((2, 3, 3, 4)),
            impact=rng.choice((2, 3, 3)),
            created_s=created,
            planned_start_s=planned_start,
            planned_end_s=planned_end,
            work_start_s=dep.started_s,
            work_end_s=dep.finished_s,
            closed_s=closed_value,
            close_code=close_code,
            state=state,
            assignment_group_sys_id=self.group_sys_id(app.team),
            short_description=f"Deploy {comp.name} {dep.revision[:8]} to production",
            requested_by_index=dep.user_index,
            deployment_id=dep.id,
        )
        dep.change_number = number
        self.changes.append(change)
        return change

    def group_sys_id(self, name: str) -> str:
        return hashing.sys_id(self.seed, "group", name)

    def deployment_incident(
        self,
        rng: random.Random,
        app: Application,
        comp: Component,
        dep: Deployment,
        change: Change,
        good_revision: str,
        history: dict[str, int],
        team_users: list[int],
    ) -> int | None:
        """A bad release: the service degrades, an incident opens, then a rollback or a fix restores it."""
        deg_start = dep.finished_s + rng.randint(60, 1200)
        opened = deg_start + rng.randint(300, 1800)
        rollback_s: int | None = None
        if rng.random() < 0.5:
            rollback_s = opened + rng.randint(900, 5400)
            deg_end = rollback_s + 120
        else:
            deg_end = opened + int(min(2 * DAY, max(1800, rng.lognormvariate(math.log(3 * HOUR), 0.8))))
        degradation = Degradation(
            comp.index, PRODUCTION, deg_start, deg_end, rng.uniform(0.6, 1.0), "deployment", dep.id
        )
        self.degradations.append(degradation)
        self.dynatrace_problem(rng, app, comp, degradation)
        if opened >= self.end_s:
            return None
        if change.closed_s is not None:
            change.close_code = "successful_issues"
        impact, urgency = rng.choice(((1, 1), (1, 2), (2, 1), (2, 2)))
        incident = self.incident(
            rng,
            app,
            comp,
            impact,
            urgency,
            opened,
            deg_end + rng.randint(300, 3600),
            team_users,
            f"{comp.name}: errors after release {dep.revision[:8]}",
            deployment=dep,
            change=change,
        )
        degradation.incident_number = incident.number
        dep.caused_incident = incident.number
        if rollback_s is not None and rollback_s < self.end_s:
            rollback = self.deployment(
                comp,
                app,
                PRODUCTION,
                rollback_s,
                good_revision,
                dep.revision,
                False,
                True,
                [],
                None,
                history,
                dep.user_index,
            )
            if comp.deploy_tool == "gitlab":
                # Rolling back in GitLab re-runs the deploy job of the last good pipeline.
                good = next(
                    (
                        d
                        for d in reversed(self.deployments[:-1])
                        if d.component == comp.name
                        and d.environment == PRODUCTION
                        and d.revision == good_revision
                        and not d.failed
                    ),
                    None,
                )
                rollback.pipeline_id = good.pipeline_id if good else None
            self.change_for(rng, app, comp, rollback, "emergency")
            return rollback_s
        return None

    def spontaneous_degradations(
        self, rng: random.Random, app: Application, comp: Component, team_users: list[int]
    ) -> None:
        for _ in range(_poisson(rng, self.days / 12)):
            start = self.start_s + rng.randint(0, self.days * DAY - 1)
            duration = int(min(8 * HOUR, max(600, rng.lognormvariate(math.log(45 * 60), 0.9))))
            deg = Degradation(comp.index, PRODUCTION, start, start + duration, rng.uniform(0.3, 0.9), "spontaneous")
            self.degradations.append(deg)
            self.dynatrace_problem(rng, app, comp, deg)
            opened = start + rng.randint(300, 1800)
            if rng.random() < 0.5 and opened < self.end_s:
                impact, urgency = rng.choice(((1, 2), (2, 2), (2, 3), (2, 1)))
                incident = self.incident(
                    rng,
                    app,
                    comp,
                    impact,
                    urgency,
                    opened,
                    # Opened up to 30 min into a degradation that may last 10: never resolved before it opened.
                    max(opened + 300, deg.end_s + rng.randint(300, 5400)),
                    team_users,
                    f"{comp.name}: service degraded",
                )
                deg.incident_number = incident.number

    def noise_incidents(self, rng: random.Random, app: Application, team_users: list[int]) -> None:
        """User-reported tickets that no metric explains (most of a real incident queue)."""
        for _ in range(_poisson(rng, self.days * 0.06 * len(app.components))):
            opened = self.start_s + rng.randint(0, self.days * DAY - 1)
            comp = rng.choice(app.components) if rng.random() < 0.8 else None
            impact, urgency = rng.choice(((2, 3), (3, 2), (3, 3), (3, 3)))
            resolve_after = int(rng.lognormvariate(math.log(20 * HOUR), 1.0))
            self.incident(
                rng,
                app,
                comp,
                impact,
                urgency,
                opened,
                opened + resolve_after,
                team_users,
                f"{(comp.name if comp else app.title)}: user reported issue",
                may_cancel=True,
            )

    def incident(
        self,
        rng: random.Random,
        app: Application,
        comp: Component | None,
        impact: int,
        urgency: int,
        opened: int,
        resolved: int,
        team_users: list[int],
        description: str,
        *,
        deployment: Deployment | None = None,
        change: Change | None = None,
        may_cancel: bool = False,
    ) -> Incident:
        number = f"INC{self.take('incident'):07d}"
        canceled = may_cancel and rng.random() < 0.05
        reassignments = rng.choices((0, 1, 2, 3), weights=(0.45, 0.35, 0.15, 0.05))[0]
        updates = [opened]
        horizon = resolved if not canceled else opened + rng.randint(600, 2 * DAY)
        updates.extend(
            sorted(opened + int((horizon - opened) * rng.uniform(0.02, 0.6)) for _ in range(1 + reassignments))
        )
        resolved_s: int | None = None
        closed_s: int | None = None
        if canceled:
            closed_s = horizon
            updates.append(horizon)
        else:
            resolved_s = resolved
            updates.append(resolved)
            closed_s = resolved + rng.randint(3 * DAY, 7 * DAY)
            updates.append(closed_s)
        # The table answers as of the estate's end: later versions of the record do not exist yet.
        updates = [u for u in updates if u <= self.end_s]
        if resolved_s is not None and resolved_s > self.end_s:
            resolved_s = None
        if closed_s is not None and closed_s > self.end_s:
            closed_s = None
            # Canceled after the end: as of the end it is open, as the versions of it until then say.
            canceled = False
        assigned = len(updates) > 1 or resolved_s is not None
        incident = Incident(
            number=number,
            sys_id=hashing.sys_id(self.seed, "incident", number),
            app=app.id,
            component=comp.name if comp else None,
            ci_sys_id=comp.ci_sys_id if comp else app.ci_sys_id,
            business_service_sys_id=app.ci_sys_id,
            impact=impact,
            urgency=urgency,
            priority=priority_of(impact, urgency),
            opened_s=opened,
            resolved_s=resolved_s,
            closed_s=closed_s,
            canceled=canceled,
            caused_by_deployment=deployment.id if deployment else None,
            caused_by_change_sys_id=change.sys_id if change else None,
            assignment_group_sys_id=(self.group_sys_id(app.team) if reassignments or deployment else self.service_desk),
            reassignment_count=reassignments,
            update_times=updates,
            category="software",
            short_description=description,
            caller_index=rng.choice(team_users),
            assignee_index=rng.choice(team_users) if assigned else None,
        )
        self.incidents.append(incident)
        self.slas_for(rng, incident)
        if incident.priority <= 2 and rng.random() < 0.4:
            self.attach_problem(rng, app, incident)
        return incident

    def slas_for(self, rng: random.Random, incident: Incident) -> None:
        for kind in ("response", "resolution"):
            definition = self._sla_by_key[(kind, incident.priority)]
            start = incident.opened_s
            planned_end = start + definition.target_s
            if kind == "response":
                end: int | None = start + int(definition.target_s * rng.uniform(0.2, 1.3))
            else:
                end = incident.resolved_s
            if incident.canceled:
                stage = "cancelled"
                end = incident.closed_s
            elif end is not None and end <= self.end_s:
                stage = "completed"
            else:
                stage, end = "in_progress", None
            stop = end if end is not None else self.end_s
            elapsed = max(0, stop - start)
            breached = stop > planned_end and stage != "cancelled"
            sla = TaskSla(
                hashing.sys_id(self.seed, "task_sla", incident.number, kind),
                incident.sys_id,
                incident.number,
                incident.app,
                definition,
                stage,
                breached,
                start,
                end,
                planned_end,
                elapsed,
                min(self.end_s, max(stop, start)),
            )
            self.task_slas.append(sla)

    def attach_problem(self, rng: random.Random, app: Application, incident: Incident) -> None:
        recent = next(
            (
                p
                for p in reversed(self.problems)
                if p.app == app.id and p.closed_s is None and incident.opened_s - p.opened_s < 20 * DAY
            ),
            None,
        )
        if recent is None:
            number = f"PRB{self.take('problem'):07d}"
            opened = incident.opened_s + rng.randint(HOUR, 2 * DAY)
            if opened > self.end_s:
                return
            closed: int | None = opened + rng.randint(5 * DAY, 30 * DAY)
            if closed is not None and closed > self.end_s:
                closed = None
            recent = Problem(
                number,
                hashing.sys_id(self.seed, "problem", number),
                app.id,
                incident.ci_sys_id,
                incident.priority,
                opened,
                closed,
                rng.random() < 0.5,
                self.group_sys_id(app.team),
                f"Recurring failures on {app.title}",
            )
            self.problems.append(recent)
        recent.incident_numbers.append(incident.number)
        incident.problem_sys_id = recent.sys_id

    def dynatrace_problem(self, rng: random.Random, app: Application, comp: Component, deg: Degradation) -> None:
        start = deg.start_s + rng.randint(120, 300)
        if start >= self.end_s or deg.end_s - deg.start_s < 600:
            return
        end_s = deg.end_s + rng.randint(60, 600)
        severity = (
            rng.choice(("ERROR", "PERFORMANCE"))
            if deg.cause == "deployment"
            else rng.choice(("ERROR", "PERFORMANCE", "RESOURCE_CONTENTION"))
        )
        title = {
            "ERROR": "Failure rate increase",
            "PERFORMANCE": "Response time degradation",
            "RESOURCE_CONTENTION": "CPU saturation",
        }[severity]
        seq = self.take("dtproblem")
        signed = hashing.int_hash(self.seed, seq) - (1 << 63)
        self.dt_problems.append(
            DynatraceProblem(
                problem_id=f"{signed}_{start * 1000}V2",
                display_id=f"P-{at(start).strftime('%y%m')}{seq:04d}",
                title=title,
                severity=severity,
                impact="SERVICES",
                app=app.id,
                component_index=comp.index,
                service_id=comp.service_id,
                start_ms=start * 1000,
                end_ms=end_s * 1000 if end_s <= self.end_s else -1,
                degradation_cause=deg.cause,
            )
        )

    def future_changes(self, rng: random.Random, app: Application, team_users: list[int]) -> None:
        """Changes scheduled after the estate's end: the 'upcoming changes' of a dashboard."""
        for _ in range(_poisson(rng, 1.2)):
            comp = rng.choice(app.components)
            planned_start = self.end_s + rng.randint(1, 7 * 24) * HOUR
            number = f"CHG{self.take('change'):07d}"
            self.changes.append(
                Change(
                    number=number,
                    sys_id=hashing.sys_id(self.seed, "change", number),
                    app=app.id,
                    component=comp.name,
                    ci_sys_id=comp.ci_sys_id,
                    type="normal",
                    risk=3,
                    impact=2,
                    created_s=self.end_s - rng.randint(HOUR, 3 * DAY),
                    planned_start_s=planned_start,
                    planned_end_s=planned_start + 2 * HOUR,
                    work_start_s=None,
                    work_end_s=None,
                    closed_s=None,
                    close_code="",
                    state=-2,
                    assignment_group_sys_id=self.group_sys_id(app.team),
                    short_description=f"Planned upgrade of {comp.name}",
                    requested_by_index=rng.choice(team_users),
                )
            )


def _duration_label(seconds: int) -> str:
    return f"{seconds // 60} min" if seconds < HOUR else f"{seconds // HOUR} h"


def _poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit = math.exp(-mean)
    count, product = 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def _truth(
    deployments: list[Deployment], incidents: list[Incident], changes: list[Change], applications: list[Application]
) -> Truth:
    production = [d for d in deployments if d.environment == PRODUCTION]
    per_app = {a.id: AppTruth() for a in applications}
    for dep in production:
        stats = per_app[dep.app]
        stats.production_deployments += 1
        stats.failed_deployments += dep.failed
        stats.rollbacks += dep.rollback
    for inc in incidents:
        per_app[inc.app].incidents += 1
        per_app[inc.app].incidents_caused_by_deployments += inc.caused_by_deployment is not None
    return Truth(production, incidents, changes, per_app)


def generate_estate(*, seed: int = 42, apps: int = 10, days: int = 30, end: datetime | None = None) -> Estate:
    """Build the world for a seed: same arguments, identical world. History covers [end - days, end)."""
    if apps < 1:
        raise ValueError("apps must be positive")
    refused = history_refused(days, end)
    if refused:
        raise ValueError(refused)
    end_dt = truncate_to_hour(end if end is not None else datetime.now(UTC))
    start_dt = end_dt - timedelta(days=days)
    builder = _Builder(seed, apps, int(start_dt.timestamp()), int(end_dt.timestamp()))
    builder.build_organisation()
    app_words = list(_APP_WORDS)
    random.Random(hashing.seed_of(seed, "app-words")).shuffle(app_words)
    for index in range(apps):
        app = builder.build_application(index, app_words)
        builder.applications.append(app)
    for app in builder.applications:
        builder.build_events(app)
    builder.mark_answer_shapes()
    builder.deployments.sort(key=lambda d: (d.finished_s, d.id))
    builder.handoffs.sort(key=lambda d: (d.finished_s, d.id))
    builder.incidents.sort(key=lambda i: (i.opened_s, i.number))
    builder.changes.sort(key=lambda c: c.number)
    builder.dt_problems.sort(key=lambda p: p.start_ms)
    return Estate(
        seed=seed,
        start=start_dt,
        end=end_dt,
        domains=builder.domains,
        groups=builder.groups + builder.teams,
        users=builder.users,
        applications=builder.applications,
        deployments=builder.deployments,
        merge_requests=builder.merge_requests,
        pipelines=builder.pipelines,
        degradations=builder.degradations,
        incidents=builder.incidents,
        changes=builder.changes,
        problems=builder.problems,
        sla_definitions=builder.sla_definitions,
        task_slas=builder.task_slas,
        dynatrace_problems=builder.dt_problems,
        truth=_truth(builder.deployments, builder.incidents, builder.changes, builder.applications),
        handoffs=builder.handoffs,
        argocd_initiators_from_s=builder.argocd_initiators_from(),
    )
