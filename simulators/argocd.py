"""Argo CD REST API simulator: applications with sync, health, bounded history and the last operation."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from simulators import hashing
from simulators.estate import Estate
from simulators.model import PRODUCTION, Application, Component, Deployment
from simulators.web import iso_seconds, json_response, scheme_token

REVISION_HISTORY_LIMIT = 10
NAMESPACE = "argocd"
# What an application's Helm values hold in the simulator: a credential, which must never reach the lake.
SIMULATED_SECRET = "sim-db-password"


def error_body(message: str, code: int) -> dict[str, Any]:
    """grpc-gateway's runtime error shape; `code` is the gRPC status code (16 unauthenticated, 5 not found)."""
    return {"error": message, "code": code, "message": message, "details": []}


def shape_error(status: int, message: str) -> tuple[bytes, dict[str, str]]:
    code = {429: 8, 503: 14, 500: 13, 502: 14, 504: 4}.get(status, 2)
    return json.dumps(error_body(message, code)).encode(), {}


_REQUIREMENT_RE = re.compile(r"^\s*(!?)([\w./-]+)\s*(?:(==|=|!=)\s*([\w./-]*)|\s+(in|notin)\s*\(([^)]*)\))?\s*$")


def label_selector(selector: str) -> Any:
    """Kubernetes label selector: k=v, k==v, k!=v, k in (a,b), k notin (a,b), k, !k."""
    checks: list[Callable[[dict[str, str]], bool]] = []
    for part in re.split(r",(?![^(]*\))", selector):
        if not part.strip():
            continue
        match = _REQUIREMENT_RE.match(part)
        if not match:
            raise ValueError(f"unable to parse requirement: {part}")
        negate, key, op, value, set_op, values = match.groups()
        checks.append(_requirement(negate == "!", key, op, value, set_op, values))
    return lambda labels: all(check(labels) for check in checks)


def _requirement(
    negate: bool, key: str, op: str | None, value: str | None, set_op: str | None, values: str | None
) -> Callable[[dict[str, str]], bool]:
    if op in ("=", "=="):
        return lambda labels: labels.get(key) == value
    if op == "!=":
        return lambda labels: labels.get(key) != value
    if set_op:
        wanted = {v.strip() for v in (values or "").split(",")}
        if set_op == "in":
            return lambda labels: labels.get(key) in wanted
        return lambda labels: labels.get(key) not in wanted
    if negate:
        return lambda labels: key not in labels
    return lambda labels: key in labels


class ArgoCDSimulator:
    def __init__(
        self,
        estate: Estate,
        token: str,
        username: str,
        password: str,
        revision_history_limit: int = REVISION_HISTORY_LIMIT,
    ) -> None:
        self.estate = estate
        self.token = token
        self.username = username
        self.password = password
        self.limit = revision_history_limit
        # ArgoCD only shows its present: history and the last operation as of this instant. It starts at the
        # estate's end; tests move it back and forth to play the polls a scheduled collector would make.
        self.now_s = estate.end_s
        self.apps: dict[str, tuple[Application, Component, str]] = {}
        for app in estate.applications:
            for comp in app.components:
                if comp.deploy_tool != "argocd":
                    continue
                self.apps[comp.argo_app] = (app, comp, PRODUCTION)
                if comp.argo_staging_app:
                    self.apps[comp.argo_staging_app] = (app, comp, "staging")
        self.syncs: dict[tuple[str, str], list[Deployment]] = {}
        for dep in estate.deployments:
            if dep.origin == "argocd":
                self.syncs.setdefault((dep.component, dep.environment), []).append(dep)
        self.app = self._build_app()

    def _build_app(self) -> FastAPI:
        app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

        @app.middleware("http")
        async def authenticate(request: Request, call_next: Any) -> Response:
            if request.url.path == "/api/v1/session":
                response: Response = await call_next(request)
                return response
            token = scheme_token(request, "Bearer") or request.cookies.get("argocd.token")
            if token is None:
                return json_response(error_body("no session information", 16), status=401)
            if token != self.token:
                return json_response(error_body("invalid session: token signature is invalid", 16), status=401)
            response = await call_next(request)
            return response

        app.add_api_route("/api/v1/session", self.session, methods=["POST"])
        app.add_api_route("/api/v1/applications", self.list_applications, methods=["GET"])
        app.add_api_route("/api/v1/applications/{name}", self.get_application, methods=["GET"])
        return app

    async def session(self, request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            body = {}
        if body.get("username") != self.username or body.get("password") != self.password:
            return json_response(error_body("Invalid username or password", 16), status=401)
        return json_response({"token": self.token})

    # --- applications ---------------------------------------------------------------------------------------
    def labels(self, app: Application, comp: Component, environment: str) -> dict[str, str]:
        return {
            "rosetta.io/app": app.id,
            "rosetta.io/component": comp.name,
            "rosetta.io/team": app.team,
            "environment": environment,
        }

    def source(self, app: Application, comp: Component, environment: str) -> dict[str, Any]:
        return {
            "path": f"deploy/{environment}",
            "plugin": {
                "env": [
                    {"name": "RELEASE_NAME", "value": comp.name},
                    {"name": "CHART_NAME", "value": "service"},
                    {"name": "ENVIRONMENT", "value": environment},
                    # Helm values handed to the chart, as teams write them: credentials included.
                    {"name": "HELM_VALUES", "value": f"db:\n  password: {SIMULATED_SECRET}-{comp.name}\n"},
                ],
                "name": "cmp-helm-v2",
            },
            "repoURL": f"https://gitlab.example.org/{comp.gitlab_path}.git",
            "targetRevision": "main",
        }

    def initiator(self, sync: Deployment) -> dict[str, Any]:
        """OperationInitiator: the automated sync policy, or the user who asked for the sync."""
        if sync.automated:
            return {"automated": True}
        return {"username": self.estate.users[sync.user_index].email}

    def application(self, name: str) -> dict[str, Any]:
        app, comp, environment = self.apps[name]
        end_s = self.now_s
        every = self.syncs.get((comp.name, environment), [])
        syncs = [d for d in every if d.finished_s <= end_s]
        # A sync started and not yet finished is the application's operation: Running, without finishedAt.
        running = next((d for d in every if d.started_s <= end_s < d.finished_s), None)
        succeeded = [d for d in syncs if not d.failed]
        source = self.source(app, comp, environment)
        destination = {"name": f"{environment}-eu-west-1", "namespace": app.id}
        retry = {"backoff": {"duration": "5s", "factor": 2, "maxDuration": "3m"}, "limit": 3}
        history = [
            {
                "deployStartedAt": iso_seconds(d.started_s),
                "deployedAt": iso_seconds(d.finished_s),
                "id": d.history_id,
                # An entry written before ArgoCD recorded who started a sync has no initiatedBy at all.
                **({"initiatedBy": self.initiator(d)} if d.finished_s >= self.estate.argocd_initiators_from_s else {}),
                "revision": d.revision,
                "source": source,
            }
            for d in succeeded[-self.limit :]
        ]
        last = running or (syncs[-1] if syncs else None)
        current = succeeded[-1].revision if succeeded else hashing.git_sha(self.estate.seed, comp.name, "initial")
        resources = [
            {"group": "", "kind": "Service", "name": comp.name, "namespace": app.id, "version": "v1"},
            {"group": "apps", "kind": "Deployment", "name": comp.name, "namespace": app.id, "version": "v1"},
        ]
        degraded = any(True for _ in self.estate.degradations_overlapping(comp.index, environment, end_s - 1, end_s))
        settling = running is not None or (last is not None and end_s - last.finished_s < 300)
        health = "Degraded" if degraded else ("Progressing" if settling else "Healthy")
        status: dict[str, Any] = {
            "controllerNamespace": NAMESPACE,
            "health": {"status": health},
            "history": history,
            "reconciledAt": iso_seconds(end_s - hashing.int_hash(comp.index, end_s) % 180),
            "resources": [
                {**{k: v for k, v in r.items() if v}, "health": {"status": health}, "status": "Synced"}
                for r in resources
            ],
            "sourceType": "Plugin",
            "summary": {"images": [f"registry.example.org/{app.id}/{comp.name}:{current[:8]}"]},
            # While a sync runs, the live state is compared with the revision it applies, not reached yet.
            "sync": {
                "comparedTo": {"destination": destination, "source": source},
                "revision": running.revision if running else current,
                "status": "OutOfSync" if last is not None and (last is running or last.failed) else "Synced",
            },
        }
        if last is not None:
            # Only the latest operation is kept: a failed sync disappears once the next one runs.
            failed = last.failed and last is not running
            status["operationState"] = {
                "finishedAt": iso_seconds(last.finished_s),
                "message": (
                    'one or more objects failed to apply, reason: Deployment.apps "'
                    + comp.name
                    + '" is invalid: spec.template.spec.containers[0].image: Required value'
                )
                if failed
                else "successfully synced (all tasks run)",
                "operation": {
                    "initiatedBy": self.initiator(last),
                    "retry": retry,
                    "sync": {
                        "revision": last.revision,
                        "syncOptions": ["ServerSideApply=true"],
                        "syncStrategy": {"hook": {}},
                    },
                },
                "phase": "Running" if last is running else "Failed" if failed else "Succeeded",
                "retryCount": 3 if failed else 0,
                "startedAt": iso_seconds(last.started_s),
                "syncResult": {
                    "resources": [
                        {
                            **r,
                            "hookPhase": "Failed" if failed else "Running",
                            "message": f"{r['kind'].lower()}/{comp.name} "
                            + ("failed to apply" if failed else "serverside-applied"),
                            "status": "SyncFailed" if failed else "Synced",
                            "syncPhase": "Sync",
                        }
                        for r in resources
                    ],
                    "revision": last.revision,
                    "source": source,
                },
            }
            if last is running:
                operation = status["operationState"]
                del operation["finishedAt"], operation["syncResult"]["resources"]
                operation["message"] = "one or more tasks are running"
        created = self.estate.start_s - 200 * 86400 - hashing.int_hash(comp.index) % (100 * 86400)
        return {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Application",
            "metadata": {
                "annotations": {"rosetta.io/component": comp.name, "argocd.argoproj.io/manifest-generate-paths": "."},
                "creationTimestamp": iso_seconds(created),
                "finalizers": ["resources-finalizer.argocd.argoproj.io"],
                "generation": 2 * len(syncs) + 5,
                "labels": self.labels(app, comp, environment),
                "name": name,
                "namespace": NAMESPACE,
                "ownerReferences": [
                    {
                        "apiVersion": "argoproj.io/v1alpha1",
                        "blockOwnerDeletion": True,
                        "controller": True,
                        "kind": "ApplicationSet",
                        "name": app.id,
                        "uid": hashing.stable_uuid("appset", self.estate.seed, app.id),
                    }
                ],
                "resourceVersion": str(100_000 + hashing.int_hash(comp.index, len(syncs)) % 900_000_000),
                "uid": hashing.stable_uuid("argo-app", self.estate.seed, name),
            },
            "spec": {
                "destination": destination,
                "project": app.team,
                "revisionHistoryLimit": self.limit,
                "source": source,
                "syncPolicy": {
                    "automated": {"prune": True, "selfHeal": True},
                    "retry": retry,
                    "syncOptions": ["CreateNamespace=true", "ServerSideApply=true"],
                },
            },
            "status": status,
        }

    async def list_applications(self, request: Request) -> Response:
        params = request.query_params
        projects = set(params.getlist("projects")) | set(params.getlist("project"))
        name = params.get("name")
        # Every application lives in ArgoCD's own namespace: asked for another, the listing has none.
        elsewhere = params.get("appNamespace") not in (None, "", NAMESPACE)
        try:
            selector = label_selector(params.get("selector", ""))
        except ValueError as exc:
            return json_response(error_body(str(exc), 3), status=400)
        items = []
        for app_name, (app, comp, environment) in self.apps.items():
            if elsewhere or (name and app_name != name):
                continue
            if projects and app.team not in projects:
                continue
            if not selector(self.labels(app, comp, environment)):
                continue
            items.append(self.application(app_name))
        version = str(100_000 + len(self.estate.deployments))
        # As ArgoCD's API does, an empty list is written as null.
        return json_response({"metadata": {"resourceVersion": version}, "items": items or None})

    async def get_application(self, name: str, request: Request) -> Response:
        # Without appNamespace ArgoCD reads the name in its own namespace, where every simulated application is.
        params = request.query_params
        found = name in self.apps and params.get("appNamespace") in (None, "", NAMESPACE)
        project = params.get("project")
        # Since 2.6.7 ArgoCD does not tell an application that does not exist from one the caller may not read: both
        # are 403. Asked with its project, a missing one is 404, and one of another project 403.
        if not project and not found:
            return json_response(error_body("permission denied", 7), status=403)
        if not found:
            message = f'applications.argoproj.io "{name}" not found'
            return json_response(error_body(message, 5), status=404)
        if project and self.apps[name][0].team != project:
            return json_response(error_body("permission denied", 7), status=403)
        return json_response(self.application(name))
