"""GitLab REST API v4 simulator: deployments, pipelines and merge requests with offset pagination."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, TypeVar
from urllib.parse import unquote, urlencode

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from simulators import hashing
from simulators.estate import Estate
from simulators.model import PRODUCTION, Component, Deployment, MergeRequest, Pipeline, User
from simulators.web import iso_millis, json_response, parse_iso_ms, scheme_token

MAX_COUNTED = 10_000
T = TypeVar("T")
# The values each listing's parameters accept (their Grape `values:` lists); any other is a 400 before filtering.
SORTS = ("asc", "desc")
DEPLOYMENT_STATUSES = ("created", "running", "success", "failed", "canceled", "skipped", "blocked")
PIPELINE_SCOPES = ("running", "pending", "finished", "branches", "tags")
PIPELINE_STATUSES = (
    "created",
    "waiting_for_resource",
    "preparing",
    "waiting_for_callback",
    "pending",
    "running",
    "success",
    "failed",
    "canceling",
    "canceled",
    "skipped",
    "manual",
    "scheduled",
)
MERGE_REQUEST_STATES = ("opened", "closed", "locked", "merged", "all")


def shape_error(status: int, message: str) -> tuple[bytes, dict[str, str]]:
    if status == 429:
        body: dict[str, Any] = {
            "message": {"error": "This endpoint has been requested too many times. Try again later."}
        }
    else:
        body = {"message": f"{status} {message}"}
    return json.dumps(body).encode(), {}


def _not_found(what: str) -> Response:
    return json_response({"message": f"404 {what} Not Found"}, status=404)


def _bad_request(message: str) -> Response:
    return json_response({"error": message}, status=400)


def _invalid_values(params: Any, accepted: dict[str, tuple[str, ...]]) -> Response | None:
    """Grape's answer to values outside a parameter's list: `sort=ASC` is refused, not read as another order."""
    invalid = [name for name, values in accepted.items() if name in params and params[name] not in values]
    if invalid:
        return _bad_request(", ".join(f"{name} does not have a valid value" for name in invalid))
    return None


def _inefficient(message: str) -> Response:
    """A query GitLab refuses after its parameters were read (bad_request!), not a parameter it cannot read."""
    return json_response({"message": f"400 Bad request - {message}"}, status=400)


def _within(moment: int, bound: int, after: bool, inclusive: bool) -> bool:
    """Whether a time passes an `*_after` (after=True) or `*_before` filter's bound."""
    if moment == bound:
        return inclusive
    return moment > bound if after else moment < bound


class EncodedProjectPath:
    """GitLab takes a project by its URL-encoded path as well as its id (/projects/group%2Fproject). The server
    decodes %2F into the path the routes see, which splits the id over several segments: the id is given back as it
    was sent, and `GitLabSimulator.project` decodes it."""

    PREFIX = b"/api/v4/projects/"

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        raw = (scope.get("raw_path") or b"") if scope["type"] == "http" else b""
        if raw.startswith(self.PREFIX):
            project, slash, rest = raw[len(self.PREFIX) :].partition(b"?")[0].partition(b"/")
            if b"%2f" in project.lower():
                after = unquote((slash + rest).decode("latin-1"))
                scope = {**scope, "path": (self.PREFIX + project).decode("latin-1") + after}
        await self.app(scope, receive, send)


class GitLabSimulator:
    def __init__(self, estate: Estate, token: str) -> None:
        self.estate = estate
        self.token = token
        self.web = "https://gitlab.example.org"
        self.projects: dict[int, Component] = {c.gitlab_project_id: c for c in estate.components}
        # GitLab finds a project's path without regard to case.
        self.by_path = {c.gitlab_path.lower(): c for c in estate.components}
        self.deployments: dict[int, list[Deployment]] = {}
        for dep in [*estate.deployments, *estate.handoffs]:
            if dep.origin == "gitlab":
                project = estate.component(dep.component).gitlab_project_id
                self.deployments.setdefault(project, []).append(dep)
        self.pipelines: dict[int, list[Pipeline]] = {}
        self.pipeline_by_id: dict[int, Pipeline] = {}
        self.committed_s: dict[str, int] = {}
        for pipe in estate.pipelines:
            self.pipelines.setdefault(pipe.project_id, []).append(pipe)
            self.pipeline_by_id[pipe.id] = pipe
            # A commit is made once: its date is the same in every deployment of it (a rollback's included).
            self.committed_s[pipe.sha] = min(pipe.created_s - 600, self.committed_s.get(pipe.sha, pipe.created_s))
        self.merge_requests: dict[int, list[MergeRequest]] = {}
        self.mr_by_id: dict[int, MergeRequest] = {}
        for mr in estate.merge_requests:
            self.merge_requests.setdefault(mr.project_id, []).append(mr)
            self.mr_by_id[mr.id] = mr
        self.app = self._build_app()

    def _build_app(self) -> FastAPI:
        app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
        app.add_middleware(EncodedProjectPath)

        @app.middleware("http")
        async def authenticate(request: Request, call_next: Any) -> Response:
            token = (
                request.headers.get("private-token")
                or scheme_token(request, "Bearer")
                or request.query_params.get("private_token")
            )
            if token != self.token:
                return json_response({"message": "401 Unauthorized"}, status=401)
            response: Response = await call_next(request)
            return response

        # The list of projects the token may see: what a client asks to check a token, as the API's probe does.
        app.add_api_route("/api/v4/projects", self.list_projects, methods=["GET"])
        base = "/api/v4/projects/{project_id}"
        app.add_api_route(base, self.get_project, methods=["GET"])
        app.add_api_route(f"{base}/deployments", self.list_deployments, methods=["GET"])
        app.add_api_route(f"{base}/deployments/{{deployment_id}}", self.get_deployment, methods=["GET"])
        app.add_api_route(
            f"{base}/deployments/{{deployment_id}}/merge_requests", self.deployment_merge_requests, methods=["GET"]
        )
        app.add_api_route(f"{base}/pipelines", self.list_pipelines, methods=["GET"])
        app.add_api_route(f"{base}/pipelines/{{pipeline_id}}", self.get_pipeline, methods=["GET"])
        app.add_api_route(f"{base}/merge_requests", self.list_merge_requests, methods=["GET"])
        return app

    # --- helpers --------------------------------------------------------------------------------------------
    def project(self, project_id: str) -> Component | None:
        if project_id.isdigit():
            return self.projects.get(int(project_id))
        return self.by_path.get(unquote(project_id).lower())

    def now_ms(self) -> int:
        return self.estate.end_s * 1000

    def millis(self, epoch_s: int, salt: int) -> int:
        """Real GitLab times carry milliseconds; these are derived so they stay deterministic."""
        return epoch_s * 1000 + hashing.int_hash(epoch_s, salt) % 1000

    def user(self, index: int, detailed: bool = False) -> dict[str, Any]:
        person: User = self.estate.users[index]
        body: dict[str, Any] = {
            "id": person.gitlab_id,
            "username": person.username,
            "name": person.name,
            "state": "active",
            "avatar_url": f"{self.web}/uploads/-/system/user/avatar/{person.gitlab_id}/avatar.png",
            "web_url": f"{self.web}/{person.username}",
        }
        if detailed:
            body.update(
                {
                    "created_at": iso_millis(self.millis(self.estate.start_s - 400 * 86400, index)),
                    "bio": None,
                    "location": None,
                    "public_email": "",
                    "skype": "",
                    "linkedin": "",
                    "twitter": "",
                    "website_url": "",
                    "organization": "",
                }
            )
        return body

    def paginate(self, request: Request, items: Sequence[T], render: Callable[[T], dict[str, Any]]) -> Response:
        params = request.query_params
        try:
            page = max(1, int(params.get("page") or 1))
            per_page = min(100, max(1, int(params.get("per_page") or 20)))
        except ValueError:
            return _bad_request("page and per_page must be integers")
        total = len(items)
        pages = max(1, -(-total // per_page))
        chunk = items[(page - 1) * per_page : page * per_page]
        url = str(request.base_url).rstrip("/") + request.url.path
        query = {k: v for k, v in params.items() if k not in ("page", "per_page")}

        def link(number: int, rel: str) -> str:
            return f'<{url}?{urlencode({**query, "page": number, "per_page": per_page})}>; rel="{rel}"'

        has_next = page * per_page < total
        links = []
        if page > 1:
            links.append(link(page - 1, "prev"))
        if has_next:
            links.append(link(page + 1, "next"))
        links.append(link(1, "first"))
        headers = {
            "x-page": str(page),
            "x-per-page": str(per_page),
            "x-prev-page": str(page - 1) if page > 1 else "",
            "x-next-page": str(page + 1) if has_next else "",
        }
        # Past 10,000 records GitLab stops counting: no x-total, x-total-pages or rel="last".
        if total <= MAX_COUNTED:
            headers["x-total"] = str(total)
            headers["x-total-pages"] = str(pages)
            links.append(link(pages, "last"))
        headers["link"] = ", ".join(links)
        return json_response([render(item) for item in chunk], headers=headers)

    @staticmethod
    def _time_filter(params: Any, name: str) -> int | Response | None:
        value = params.get(name)
        if not value:
            return None
        parsed = parse_iso_ms(value)
        if parsed is None:
            return _bad_request(f"{name} is invalid")
        return parsed

    # --- projects -------------------------------------------------------------------------------------------
    def project_created_ms(self, comp: Component) -> int:
        return self.millis(self.estate.start_s - 500 * 86400, comp.index)

    def render_project(self, comp: Component) -> dict[str, Any]:
        namespace, _, path = comp.gitlab_path.rpartition("/")
        return {
            "id": comp.gitlab_project_id,
            "name": comp.name,
            "path": path,
            "path_with_namespace": comp.gitlab_path,
            "name_with_namespace": comp.gitlab_path.replace("/", " / "),
            "default_branch": "main",
            "web_url": f"{self.web}/{comp.gitlab_path}",
            "namespace": {"full_path": namespace},
            "created_at": iso_millis(self.project_created_ms(comp)),
        }

    async def get_project(self, project_id: str) -> Response:
        comp = self.project(project_id)
        if comp is None:
            return _not_found("Project")
        return json_response(self.render_project(comp))

    async def list_projects(self, request: Request) -> Response:
        """GitLab's default order: created_at, newest first."""
        params = request.query_params
        refused = _invalid_values(params, {"sort": SORTS})
        if refused is not None:
            return refused
        keys: dict[str, Callable[[Component], Any]] = {
            "id": lambda c: c.gitlab_project_id,
            "name": lambda c: (c.name, c.gitlab_project_id),
            "path": lambda c: (c.gitlab_path.rpartition("/")[2], c.gitlab_project_id),
            "created_at": lambda c: (self.project_created_ms(c), c.gitlab_project_id),
        }
        order_by = params.get("order_by", "created_at")
        if order_by not in keys:
            return _bad_request("order_by does not have a valid value")
        projects = sorted(self.projects.values(), key=keys[order_by], reverse=params.get("sort", "desc") == "desc")
        return self.paginate(request, projects, self.render_project)

    # --- deployments ----------------------------------------------------------------------------------------
    def deployment_updated_s(self, dep: Deployment) -> int:
        # Without a job nothing touches a deployment after the status it was given when it finished.
        if dep.jobless:
            return dep.finished_s
        return dep.finished_s + 1 + hashing.int_hash(dep.id) % 60

    def deployment_created_s(self, dep: Deployment) -> int:
        return dep.created_s if dep.created_s is not None else dep.started_s - 20

    def render_deployment(self, dep: Deployment) -> dict[str, Any]:
        comp = self.estate.component(dep.component)
        pipe = self.pipeline_by_id.get(dep.pipeline_id) if dep.pipeline_id else None
        status = "failed" if dep.failed else "success"
        env_id = comp.production_env_id if dep.environment == PRODUCTION else comp.staging_env_id
        # A revision no pipeline built (the one running before the estate's history) was committed before it began.
        author_time = datetime.fromtimestamp(self.committed_s.get(dep.revision, self.estate.start_s - 86400), tz=UTC)
        author_local = author_time.astimezone(timezone(timedelta(hours=2)))
        title = "Merge branch 'feature/change' into 'main'"
        deployable: dict[str, Any] | None = {
            "id": dep.job_id,
            "status": status,
            "stage": "deploy",
            "name": f"deploy-{dep.environment}",
            "ref": "main",
            "tag": False,
            "coverage": None,
            "created_at": iso_millis(self.millis(dep.started_s - 30, 1)),
            "started_at": iso_millis(self.millis(dep.started_s, 2)),
            "finished_at": iso_millis(self.millis(dep.finished_s, 3)),
            "project": {"ci_job_token_scope_enabled": False},
            "user": self.user(dep.user_index, detailed=True),
            "commit": {
                "id": dep.revision,
                "short_id": dep.revision[:8],
                "title": title + "\r",
                "author_name": self.estate.users[dep.user_index].name,
                "author_email": self.estate.users[dep.user_index].email,
                "created_at": author_local.isoformat(timespec="milliseconds"),
                "message": f"{title}\r\n\r\nSee merge request !{dep.id % 1000}",
            },
            "pipeline": None
            if pipe is None
            else {
                "created_at": iso_millis(self.millis(pipe.created_s, 4)),
                "id": pipe.id,
                "ref": pipe.ref,
                "sha": pipe.sha,
                "status": pipe.status,
                "updated_at": iso_millis(self.millis(pipe.finished_s, 5)),
                "web_url": f"{self.web}/{comp.gitlab_path}/-/pipelines/{pipe.id}",
            },
            "runner": None,
        }
        if dep.jobless:
            deployable = None
        return {
            "id": dep.id,
            "iid": dep.gitlab_iid,
            "ref": "main",
            "sha": dep.revision,
            "created_at": iso_millis(self.millis(self.deployment_created_s(dep), 6)),
            "updated_at": iso_millis(self.millis(self.deployment_updated_s(dep), 7)),
            "status": status,
            "user": self.user(dep.user_index),
            "environment": {
                "id": env_id,
                "name": dep.environment,
                "external_url": f"https://{comp.name}.{dep.environment}.example.org",
            },
            "deployable": deployable,
        }

    async def list_deployments(self, project_id: str, request: Request) -> Response:
        comp = self.project(project_id)
        if comp is None:
            return _not_found("Project")
        params = request.query_params
        deployments = list(self.deployments.get(comp.gitlab_project_id, []))
        order_by = params.get("order_by", "id")
        sort = params.get("sort", "asc")
        if order_by not in ("id", "iid", "created_at", "updated_at", "finished_at", "ref"):
            return _bad_request("order_by does not have a valid value")
        refused = _invalid_values(params, {"sort": SORTS, "status": DEPLOYMENT_STATUSES})
        if refused is not None:
            return refused
        # GitLab's DeploymentsFinder refuses the queries it cannot serve efficiently, with bad_request!'s body.
        by_updated = bool(params.get("updated_after") or params.get("updated_before"))
        by_finished = bool(params.get("finished_after") or params.get("finished_before"))
        if by_updated and by_finished:
            return _inefficient("Both `updated_at` filter and `finished_at` filter can not be specified")
        if by_finished != (order_by == "finished_at"):
            return _inefficient("`finished_at` filter and `finished_at` sorting must be paired")
        if by_finished and params.get("status") != "success":
            return _inefficient("`finished_at` filter must be combined with `success` status filter.")
        bounds = {}
        for name in ("updated_after", "updated_before", "finished_after", "finished_before"):
            parsed = self._time_filter(params, name)
            if isinstance(parsed, Response):
                return parsed
            bounds[name] = parsed
        if params.get("environment"):
            deployments = [d for d in deployments if d.environment == params["environment"]]
        if params.get("status"):
            wanted = params["status"]
            deployments = [d for d in deployments if ("failed" if d.failed else "success") == wanted]

        def updated_ms(d: Deployment) -> int:
            return self.millis(self.deployment_updated_s(d), 7)

        def finished_ms(d: Deployment) -> int:
            return self.millis(d.finished_s, 3)

        # GitLab's updated_at filters include their bounds (UpdatedAtFilterable: >= and <=); finished_after includes
        # its own and finished_before does not (Deployment's scopes: >= and <).
        for name, getter, after, inclusive in (
            ("updated_after", updated_ms, True, True),
            ("updated_before", updated_ms, False, True),
            ("finished_after", finished_ms, True, True),
            ("finished_before", finished_ms, False, False),
        ):
            bound = bounds[name]
            if bound is not None:
                deployments = [d for d in deployments if _within(getter(d), bound, after, inclusive)]
        # A listing filtered on updated_at is sorted on it whatever order_by says; created_at and iid sort as id
        # does; updated_at ties go by id.
        keys: dict[str, Callable[[Deployment], Any]] = {
            "id": lambda d: d.id,
            "iid": lambda d: d.id,
            "created_at": lambda d: d.id,
            "updated_at": lambda d: (updated_ms(d), d.id),
            "finished_at": finished_ms,
            "ref": lambda d: ("main", d.id),
        }
        deployments.sort(key=keys["updated_at" if by_updated else order_by], reverse=sort == "desc")
        return self.paginate(request, deployments, self.render_deployment)

    def find_deployment(self, comp: Component, deployment_id: str) -> Deployment | None:
        for dep in self.deployments.get(comp.gitlab_project_id, []):
            if str(dep.id) == deployment_id:
                return dep
        return None

    async def get_deployment(self, project_id: str, deployment_id: str) -> Response:
        comp = self.project(project_id)
        if comp is None:
            return _not_found("Project")
        dep = self.find_deployment(comp, deployment_id)
        return _not_found("Deployment") if dep is None else json_response(self.render_deployment(dep))

    async def deployment_merge_requests(self, project_id: str, deployment_id: str, request: Request) -> Response:
        comp = self.project(project_id)
        if comp is None:
            return _not_found("Project")
        dep = self.find_deployment(comp, deployment_id)
        if dep is None:
            return _not_found("Deployment")
        # Only successful deployments are linked to the merge requests they shipped.
        mrs = [] if dep.failed else [self.mr_by_id[i] for i in dep.merge_request_ids]
        return self.paginate(request, mrs, self.render_merge_request)

    # --- pipelines ------------------------------------------------------------------------------------------
    def render_pipeline(self, pipe: Pipeline, detailed: bool = False) -> dict[str, Any]:
        comp = self.projects[pipe.project_id]
        web_url = f"{self.web}/{comp.gitlab_path}/-/pipelines/{pipe.id}"
        name = "Deploy pipeline" if pipe.deploys else ("Nightly" if pipe.source == "schedule" else "Build pipeline")
        body: dict[str, Any] = {
            "id": pipe.id,
            "iid": pipe.iid,
            "project_id": pipe.project_id,
            "status": pipe.status,
            "source": pipe.source,
            "ref": pipe.ref,
            "sha": pipe.sha,
            "name": name,
            "web_url": web_url,
            "created_at": iso_millis(self.millis(pipe.created_s, 4)),
            "updated_at": iso_millis(self.millis(pipe.finished_s, 5)),
        }
        if detailed:
            label = "passed" if pipe.status == "success" else pipe.status
            body.update(
                {
                    "before_sha": hashing.git_sha(self.estate.seed, pipe.sha, "parent"),
                    "tag": False,
                    "yaml_errors": None,
                    "user": self.user(pipe.user_index),
                    "started_at": iso_millis(self.millis(pipe.started_s, 8)),
                    "finished_at": iso_millis(self.millis(pipe.finished_s, 5)),
                    "committed_at": None,
                    "duration": pipe.finished_s - pipe.started_s,
                    "queued_duration": pipe.started_s - pipe.created_s,
                    "coverage": None,
                    "detailed_status": {
                        "icon": f"status_{pipe.status}",
                        "text": label,
                        "label": label,
                        "group": pipe.status,
                        "tooltip": label,
                        "has_details": False,
                        "details_path": web_url.removeprefix(self.web),
                        "illustration": None,
                        "favicon": f"/assets/ci_favicons/favicon_status_{pipe.status}.png",
                    },
                }
            )
        return body

    async def list_pipelines(self, project_id: str, request: Request) -> Response:
        comp = self.project(project_id)
        if comp is None:
            return _not_found("Project")
        params = request.query_params
        refused = _invalid_values(params, {"scope": PIPELINE_SCOPES, "status": PIPELINE_STATUSES, "sort": SORTS})
        if refused is not None:
            return refused
        pipes = list(self.pipelines.get(comp.gitlab_project_id, []))
        for name in ("ref", "sha", "status", "source"):
            if params.get(name):
                pipes = [p for p in pipes if getattr(p, name) == params[name]]
        # On the times the pipelines show (render_pipeline), milliseconds included.
        shown: dict[str, Callable[[Pipeline], int]] = {
            "updated": lambda p: self.millis(p.finished_s, 5),
            "created": lambda p: self.millis(p.created_s, 4),
        }
        # updated_at bounds are included (UpdatedAtFilterable: >= and <=), created_at ones are not.
        for name, time_of, after, inclusive in (
            ("updated_after", shown["updated"], True, True),
            ("updated_before", shown["updated"], False, True),
            ("created_after", shown["created"], True, False),
            ("created_before", shown["created"], False, False),
        ):
            bound = self._time_filter(params, name)
            if isinstance(bound, Response):
                return bound
            if bound is not None:
                pipes = [p for p in pipes if _within(time_of(p), bound, after, inclusive)]
        order_by = params.get("order_by", "id")
        keys: dict[str, Callable[[Pipeline], Any]] = {
            "id": lambda p: p.id,
            "status": lambda p: (p.status, p.id),
            "ref": lambda p: (p.ref, p.id),
            "updated_at": lambda p: (p.finished_s, p.id),
            "user_id": lambda p: (p.user_index, p.id),
        }
        if order_by not in keys:
            return _bad_request("order_by does not have a valid value")
        pipes.sort(key=keys[order_by], reverse=params.get("sort", "desc") == "desc")
        return self.paginate(request, pipes, self.render_pipeline)

    async def get_pipeline(self, project_id: str, pipeline_id: str) -> Response:
        comp = self.project(project_id)
        pipe = self.pipeline_by_id.get(int(pipeline_id)) if pipeline_id.isdigit() else None
        if comp is None:
            return _not_found("Project")
        if pipe is None or pipe.project_id != comp.gitlab_project_id:
            return _not_found("")
        return json_response(self.render_pipeline(pipe, detailed=True))

    # --- merge requests -------------------------------------------------------------------------------------
    def render_merge_request(self, mr: MergeRequest) -> dict[str, Any]:
        comp = self.projects[mr.project_id]
        app = self.estate.application(comp.app)
        updated_s = mr.merged_s + 1 + hashing.int_hash(mr.id) % 30
        milestone_start = datetime.fromtimestamp(mr.merged_s - mr.merged_s % (14 * 86400), tz=UTC)
        return {
            "id": mr.id,
            "iid": mr.iid,
            "project_id": mr.project_id,
            "title": mr.title,
            "description": f"Change {mr.iid} of {comp.name}",
            "state": "merged",
            "created_at": iso_millis(self.millis(mr.created_s, 9)),
            "updated_at": iso_millis(self.millis(updated_s, 10)),
            "merged_by": self.user(mr.merger_index),
            "merged_at": iso_millis(self.millis(mr.merged_s, 11)),
            "closed_by": None,
            "closed_at": None,
            "target_branch": "main",
            "source_branch": mr.source_branch,
            "user_notes_count": hashing.int_hash(mr.id, 1) % 6,
            "upvotes": 0,
            "downvotes": 0,
            "author": self.user(mr.author_index),
            "assignee": self.user(mr.author_index),
            "assignees": [self.user(mr.author_index)],
            "reviewers": [self.user(mr.merger_index)],
            "source_project_id": mr.project_id,
            "target_project_id": mr.project_id,
            "labels": [app.id, comp.suffix],
            "work_in_progress": False,
            "draft": False,
            "milestone": {
                "id": 9000 + mr.merged_s // (14 * 86400) % 1000,
                "iid": mr.merged_s // (14 * 86400) % 100,
                "project_id": mr.project_id,
                "group_id": 10 + app.index,
                "title": f"Sprint {milestone_start:%Y-%m-%d}",
                "description": "",
                "state": "closed",
                "created_at": iso_millis(int(milestone_start.timestamp()) * 1000),
                "updated_at": iso_millis(int(milestone_start.timestamp()) * 1000 + 86_400_000),
                "due_date": (milestone_start + timedelta(days=13)).strftime("%Y-%m-%d"),
                "start_date": milestone_start.strftime("%Y-%m-%d"),
                "web_url": f"{self.web}/{comp.gitlab_path}/-/milestones/{mr.merged_s // (14 * 86400) % 100}",
            },
            "merge_when_pipeline_succeeds": False,
            "merge_status": "can_be_merged",
            "detailed_merge_status": "not_open",
            "sha": mr.head_sha,
            # A fast-forward merge makes no merge commit (GitLab's own merged-list example has none).
            "merge_commit_sha": None if comp.fast_forward else mr.merge_sha,
            "squash_commit_sha": None,
            "discussion_locked": None,
            "should_remove_source_branch": True,
            "force_remove_source_branch": True,
            "allow_collaboration": False,
            "allow_maintainer_to_push": False,
            "reference": f"!{mr.iid}",
            "references": {"short": f"!{mr.iid}", "relative": f"!{mr.iid}", "full": f"{comp.gitlab_path}!{mr.iid}"},
            "web_url": f"{self.web}/{comp.gitlab_path}/-/merge_requests/{mr.iid}",
            "time_stats": {
                "time_estimate": 0,
                "total_time_spent": 0,
                "human_time_estimate": None,
                "human_total_time_spent": None,
            },
            "squash": False,
            "task_completion_status": {"count": 0, "completed_count": 0},
            "has_conflicts": False,
            "blocking_discussions_resolved": True,
            "approvals_before_merge": 1,
        }

    async def list_merge_requests(self, project_id: str, request: Request) -> Response:
        comp = self.project(project_id)
        if comp is None:
            return _not_found("Project")
        params = request.query_params
        refused = _invalid_values(params, {"state": MERGE_REQUEST_STATES, "sort": SORTS})
        if refused is not None:
            return refused
        state = params.get("state", "all")
        mrs = list(self.merge_requests.get(comp.gitlab_project_id, [])) if state in ("merged", "all") else []
        if params.get("target_branch") and params["target_branch"] != "main":
            mrs = []

        def updated_ms(mr: MergeRequest) -> int:
            return self.millis(mr.merged_s + 1 + hashing.int_hash(mr.id) % 30, 10)

        def created_ms(mr: MergeRequest) -> int:
            return self.millis(mr.created_s, 9)

        for name, getter, after in (
            ("updated_after", updated_ms, True),
            ("updated_before", updated_ms, False),
            ("created_after", created_ms, True),
            ("created_before", created_ms, False),
        ):
            bound = self._time_filter(params, name)
            if isinstance(bound, Response):
                return bound
            if bound is not None:
                mrs = [m for m in mrs if (getter(m) >= bound if after else getter(m) <= bound)]
        keys: dict[str, Callable[[MergeRequest], Any]] = {
            "created_at": created_ms,
            "updated_at": updated_ms,
            "merged_at": lambda m: m.merged_s,
            "title": lambda m: m.title,
        }
        order_by = params.get("order_by", "created_at")
        if order_by not in keys:
            return _bad_request("order_by does not have a valid value")
        mrs.sort(key=keys[order_by], reverse=params.get("sort", "desc") == "desc")
        return self.paginate(request, mrs, self.render_merge_request)
