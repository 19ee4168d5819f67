"""ArgoCD applications and GitLab deployments, pipelines and merge requests to rows. Pure functions."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from lakehouse.ingest.records import (
    Fields,
    ParseResult,
    Reject,
    checked_row,
    fields_read,
    optional_int,
    optional_str,
    parse_instant,
    require_int,
    require_str,
    rows_table,
)
from lakehouse.web_address import web_address

APP_STATUS = "argocd/app_status"
SYNC_OPERATIONS = "argocd/sync_operations"
HISTORY = "argocd/deployment_history"
DEPLOYMENTS = "gitlab/deployments"
PIPELINES = "gitlab/pipelines"
DEPLOYMENT_MRS = "gitlab/deployment_merge_requests"
MERGE_REQUESTS = "gitlab/merge_requests"
PROJECT_PATHS = "gitlab/project_paths"
ARGOCD_DATASETS = (APP_STATUS, SYNC_OPERATIONS, HISTORY)

# GitLab deployment statuses that end a deployment.
FINISHED_STATUSES = ("success", "failed", "canceled")

# What a GitLab record's reject keeps: the fields its parser reads. GitLab sends its people whole (name, e-mail address,
# avatar, profile; a commit's author and committer; a merge request's author, assignees, reviewers), which no dataset
# keeps: of a deployment, only the deploying user's username is kept, as in gitlab/deployments.
_USERNAME: Fields = {"username": None}
DEPLOYMENT_FIELDS: Fields = {
    **dict.fromkeys(("id", "iid", "status", "ref", "sha", "created_at", "updated_at")),
    "environment": {"name": None},
    "user": _USERNAME,
    "deployable": {
        **dict.fromkeys(("id", "finished_at", "started_at", "failure_reason")),
        "user": _USERNAME,
        "pipeline": {"id": None},
        "commit": {"created_at": None},
    },
}
PIPELINE_FIELDS: Fields = dict.fromkeys(
    [
        "id",
        "project_id",
        "ref",
        "sha",
        "status",
        "source",
        "created_at",
        "updated_at",
        "started_at",
        "finished_at",
        "duration",
        "web_url",
    ]
)
MERGE_REQUEST_FIELDS: Fields = dict.fromkeys(
    [
        "id",
        "iid",
        "project_id",
        "title",
        "state",
        "target_branch",
        "created_at",
        "merged_at",
        "updated_at",
        "merge_commit_sha",
        "squash_commit_sha",
        "sha",
        "web_url",
    ]
)
PROJECT_FIELDS: Fields = dict.fromkeys(("id", "path_with_namespace", "created_at"))

# What reading a malformed record raises: the record is rejected, the page goes on.
RECORD_ERRORS = (KeyError, TypeError, ValueError, AttributeError, OverflowError)


def record_id(record: Any) -> int | None:
    """A listed record's id, its key (a deployment's, a pipeline's, a merge request's), read from the record or from
    what a reject keeps of it; None for an entry without an integer id, which nothing tells from another alike."""
    key = record.get("id") if isinstance(record, Mapping) else None
    return None if isinstance(key, bool) or not isinstance(key, int) else key


def record_reason(exc: BaseException) -> str:
    """Why a record was rejected, from the error reading it raised."""
    return f"missing field {exc}" if isinstance(exc, KeyError) else f"{type(exc).__name__}: {exc}"


# --- ArgoCD -----------------------------------------------------------------------------------------------------
def parse_applications_page(page: Mapping[str, Any], context: Mapping[str, Any] | None = None) -> ParseResult:
    """GET /api/v1/applications (or one Application) to status snapshots, the last operation and the history.

    Context: `observed_at` (datetime, when the listing was taken) and optionally `apps` (the mapped names to
    keep, each with the namespace the mapping gives or None).

    A field that cannot be read sets aside its own record: the status row, the last operation or one history entry.
    The whole application is set aside only when its name or its status object cannot be read, or its creation
    time (Kubernetes writes it), without which its history cannot be told from an earlier life's.
    """
    ctx = context or {}
    observed_at: datetime = ctx["observed_at"]
    wanted: Mapping[str, str | None] | None = ctx.get("apps")
    items = (page.get("items") if "items" in page else [page]) or []
    chosen, unclear = _mapped_applications(items, wanted) if wanted is not None else ({}, {})
    statuses, operations, history = [], [], []
    rejects: list[Reject] = []
    for index, app in enumerate(items):
        try:
            name = require_str(app["metadata"], "name")
            if index in unclear:
                rejects.append(Reject(APP_STATUS, unclear[index], app, index))
                continue
            if wanted is not None and chosen.get(name) != index:
                continue
            status = app.get("status") or {}
            entries, operation = status.get("history"), status.get("operationState")
            created_at = parse_instant(app["metadata"].get("creationTimestamp"))
        except RECORD_ERRORS as exc:
            rejects.append(Reject(APP_STATUS, record_reason(exc), app, index))
            continue
        try:
            statuses.append(_status_row(app, name, observed_at))
        except RECORD_ERRORS as exc:
            reason = f"ArgoCD application {name!r}: its status could not be kept: {record_reason(exc)}"
            rejects.append(Reject(APP_STATUS, reason, app, index))
        kept, set_aside = _history_rows(entries, name, created_at, index)
        history.extend(kept)
        rejects.extend(set_aside)
        if not operation:
            continue  # never synced: no operation to keep
        try:
            operations.append(_operation_row(operation, name))
        except RECORD_ERRORS as exc:
            # The status row keeps the phase; the operation itself is set aside, or a failed sync would go unseen.
            reason = f"ArgoCD application {name!r}: its last operation could not be kept: {record_reason(exc)}"
            rejects.append(Reject(SYNC_OPERATIONS, reason, operation, index))
    rejects += _not_listed(wanted, chosen, items, unclear) if wanted is not None else []
    tables = {
        APP_STATUS: rows_table(APP_STATUS, statuses),
        SYNC_OPERATIONS: rows_table(SYNC_OPERATIONS, operations),
        HISTORY: rows_table(HISTORY, history),
    }
    return ParseResult(tables, rejects)


def _not_listed(
    wanted: Mapping[str, str | None], chosen: Mapping[str, int], items: list[Any], unclear: Mapping[int, str]
) -> list[Reject]:
    """A reject for each mapped application the listing lacks: ArgoCD leaves out the applications a token may not
    see rather than refuse, so a typo, a deleted or renamed application and a missing permission all look alike."""
    named = {items[i]["metadata"]["name"] for i in unclear}
    rejects = []
    for name, namespace in sorted(wanted.items()):
        if name in chosen or name in named:
            continue
        where = f" in namespace {namespace}" if namespace else ""
        reason = (
            f"ArgoCD application {name!r} is not in ArgoCD's listing{where}: deleted, renamed or hidden from the "
            "token; check the mapping's argocd_app_name and the token's projects"
        )
        raw = {"argocd_app_name": name} | ({"argocd_app_namespace": namespace} if namespace else {})
        rejects.append(Reject(APP_STATUS, reason, raw))
    return rejects


def _mapped_applications(items: list[Any], wanted: Mapping[str, str | None]) -> tuple[dict[str, int], dict[int, str]]:
    """Which listed application each mapped name means (name -> index), and the listed ones left unclear (index ->
    why). With ArgoCD's applications in any namespace, two applications may share a name: the mapping's namespace
    picks one; without it, the one in ArgoCD's own namespace, as ArgoCD's API reads a name alone, else the only
    one of that name. Rows are keyed on the name, so only one application per name may be read as it."""
    found: dict[str, list[tuple[int, str | None, bool]]] = {}
    for index, app in enumerate(items):
        metadata = app.get("metadata") if isinstance(app, Mapping) else None
        name = metadata.get("name") if isinstance(metadata, Mapping) else None
        if not isinstance(name, str) or name not in wanted:
            continue  # a malformed application is rejected by the parser, as one mapped or not
        namespace = metadata.get("namespace") if isinstance(metadata, Mapping) else None
        status = app.get("status")
        controller = status.get("controllerNamespace") if isinstance(status, Mapping) else None
        # An ArgoCD older than applications in any namespace says nothing: all its applications are its own.
        own = namespace is None or controller is None or namespace == controller
        found.setdefault(name, []).append((index, namespace, own))
    chosen: dict[str, int] = {}
    unclear: dict[int, str] = {}
    for name, candidates in found.items():
        namespace = wanted[name]
        if namespace is not None:
            picked = [index for index, ns, _ in candidates if ns == namespace]
        else:
            picked = [index for index, _, own in candidates if own] or [index for index, _, _ in candidates]
        if len(picked) == 1:
            chosen[name] = picked[0]
        elif len(picked) > 1:
            namespaces = ", ".join(sorted(str(ns) for _, ns, _ in candidates))
            for index in picked:
                unclear[index] = (
                    f"ArgoCD application {name!r} is in namespaces {namespaces} and the mapping names none: give the "
                    "mapping's argocd_app_namespace (Backstage annotation argocd/app-namespace) to say which one"
                )
    return chosen, unclear


def _status_row(app: Mapping[str, Any], name: str, observed_at: datetime) -> dict[str, Any]:
    spec = app.get("spec") or {}
    status = app.get("status") or {}
    source = spec.get("source") or (spec.get("sources") or [{}])[0]
    destination = spec.get("destination") or {}
    return checked_row(
        APP_STATUS,
        {
            "app_name": name,
            "project": spec.get("project"),
            "dest_server": destination.get("server") or destination.get("name"),
            "dest_namespace": destination.get("namespace"),
            "repo_url": source.get("repoURL"),
            "target_revision": source.get("targetRevision"),
            "sync_status": (status.get("sync") or {}).get("status"),
            "sync_revision": revision_of(status.get("sync") or {}),
            "health_status": (status.get("health") or {}).get("status"),
            **_operation_in_status(status.get("operationState")),
            "reconciled_at": parse_instant(status.get("reconciledAt")),
            "observed_at": observed_at,
        },
    )


def _operation_in_status(operation: Any) -> dict[str, Any]:
    """The last operation as the status row repeats it. The operation's own row reads the same fields, so one that
    cannot be read is that row's reject (argocd/sync_operations): here it is left null, not the status set aside."""
    readable = operation if isinstance(operation, Mapping) else {}
    return {
        "operation_phase": _text(readable.get("phase")),
        "operation_started_at": _instant(readable.get("startedAt")),
        "operation_finished_at": _instant(readable.get("finishedAt")),
        "operation_message": _text(readable.get("message")),
    }


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _instant(value: Any) -> datetime | None:
    try:
        return parse_instant(value)
    except RECORD_ERRORS:
        return None


def _history_rows(
    entries: Any, name: str, created_at: datetime | None, index: int
) -> tuple[list[dict[str, Any]], list[Reject]]:
    """The application's history entries as rows, and a reject for each entry that cannot be read: ArgoCD keeps
    the last 10, so one bad entry would otherwise hide its application's deployments for as long as it is listed.
    `created_at` tells which life of the application the history is from (a recreated one numbers it from 0)."""
    if not entries:
        return [], []  # never synced, or no history kept
    if not isinstance(entries, list):
        reason = f"ArgoCD application {name!r}: history should be a list of entries, got {type(entries).__name__}"
        return [], [Reject(HISTORY, reason, entries, index)]
    rows, rejects = [], []
    for entry in entries:
        try:
            rows.append(_history_row(entry, name, created_at))
        except RECORD_ERRORS as exc:
            entry_id = entry.get("id") if isinstance(entry, Mapping) else None
            reason = f"ArgoCD application {name!r}: history entry {entry_id!r} could not be kept: {record_reason(exc)}"
            rejects.append(Reject(HISTORY, reason, entry, index))
    return rows, rejects


def _history_row(entry: Mapping[str, Any], name: str, created_at: datetime | None) -> dict[str, Any]:
    initiated_by, automated = _initiator(entry)
    entry_source = entry.get("source") or (entry.get("sources") or [{}])[0]
    return checked_row(
        HISTORY,
        {
            "app_name": name,
            "history_id": require_int(entry, "id"),
            "revision": revision_of(entry),
            "deploy_started_at": parse_instant(entry.get("deployStartedAt")),
            "deployed_at": parse_instant(require_str(entry, "deployedAt")),
            "initiated_by": initiated_by,
            "automated": automated,
            "repo_url": entry_source.get("repoURL"),
            "app_created_at": created_at,
        },
    )


def _operation_row(operation: Mapping[str, Any], name: str) -> dict[str, Any]:
    """The application's last operation, keyed by its start: one without a start cannot be keyed."""
    started_at = parse_instant(operation.get("startedAt"))
    if started_at is None:
        raise ValueError("startedAt is missing, and an operation is kept under its start")
    initiated_by, automated = _initiator(operation.get("operation") or {})
    sync = (operation.get("operation") or {}).get("sync") or {}
    result = operation.get("syncResult") or {}
    return checked_row(
        SYNC_OPERATIONS,
        {
            "app_name": name,
            "started_at": started_at,
            "finished_at": parse_instant(operation.get("finishedAt")),
            "phase": operation.get("phase"),
            "revision": revision_of(result) or revision_of(sync),
            "message": operation.get("message"),
            "initiated_by": initiated_by,
            "automated": automated,
        },
    )


def _initiator(node: Mapping[str, Any]) -> tuple[str | None, bool | None]:
    """Who started a sync ("" when automated) and whether it was automated, from the node's `initiatedBy`. Both
    unknown (None) when ArgoCD does not say: older versions write no initiatedBy in history entries."""
    initiated = node.get("initiatedBy")
    if not initiated:
        return None, None
    automated = bool(initiated.get("automated", False))
    return initiated.get("username") or ("" if automated else None), automated


def revision_of(node: Mapping[str, Any]) -> str | None:
    """One SHA, or the SHAs of a multi-source app joined with ','."""
    if node.get("revision"):
        return str(node["revision"])
    revisions = node.get("revisions")
    return ",".join(str(r) for r in revisions) if revisions else None


# --- GitLab -----------------------------------------------------------------------------------------------------
def parse_deployments_page(page: Any, context: Mapping[str, Any] | None = None) -> ParseResult:
    """GET /projects/:id/deployments. There is no top-level finished_at: the deploying job's finished_at is used,
    else updated_at of a finished deployment (deployments created through the API have no job)."""
    project_id = int((context or {})["project_id"])
    rows, rejects = [], []
    for index, d in enumerate(page if isinstance(page, list) else []):
        try:
            rows.append(deployment_row(d, project_id))
        except RECORD_ERRORS as exc:
            rejects.append(Reject(DEPLOYMENTS, record_reason(exc), fields_read(d, DEPLOYMENT_FIELDS), index))
    return ParseResult({DEPLOYMENTS: rows_table(DEPLOYMENTS, rows)}, rejects)


def deployment_row(d: Mapping[str, Any], project_id: int) -> dict[str, Any]:
    status = require_str(d, "status")
    updated_at = parse_instant(require_str(d, "updated_at"))
    job = d.get("deployable") or None
    finished = parse_instant(job.get("finished_at")) if job else None
    if finished is None and status in FINISHED_STATUSES:
        # The status was last changed when the deployment finished: a failure reported through the API counts too.
        finished = updated_at
    pipeline = (job or {}).get("pipeline") or {}
    commit = (job or {}).get("commit") or {}
    row = {
        "deployment_id": require_int(d, "id"),
        "project_id": project_id,
        "iid": optional_int(d, "iid"),
        "environment": (d.get("environment") or {}).get("name"),
        "status": status,
        "ref": optional_str(d, "ref"),
        "sha": optional_str(d, "sha"),
        "created_at": parse_instant(require_str(d, "created_at")),
        "updated_at": updated_at,
        "finished_at": finished,
        # Playing a manual job changes the job's user, not the deployment's (the pipeline's): GitLab's own "deployed
        # by" reads the job's first.
        "user_username": ((job or {}).get("user") or d.get("user") or {}).get("username"),
        "job_id": optional_int(job, "id") if job else None,
        "pipeline_id": optional_int(pipeline, "id") if pipeline else None,
        "commit_created_at": parse_instant(optional_str(commit, "created_at")) if commit else None,
        "started_at": parse_instant(job.get("started_at")) if job else None,
        "failure_reason": optional_str(job, "failure_reason") if job else None,
        # The deployment's link, as GitLab gives it; one that is no text is left out, not the deployment with it.
        "pipeline_web_url": _text(pipeline.get("web_url")) or None,
    }
    return checked_row(DEPLOYMENTS, row)


def parse_pipelines_page(page: Any, context: Mapping[str, Any] | None = None) -> ParseResult:
    """GET /projects/:id/pipelines (list items lack started_at, finished_at, duration) or one pipeline."""
    project_id = int((context or {})["project_id"])
    items = page if isinstance(page, list) else [page]
    rows, rejects = [], []
    for index, p in enumerate(items):
        try:
            duration = _seconds(p.get("duration"))
            rows.append(
                checked_row(
                    PIPELINES,
                    {
                        "pipeline_id": require_int(p, "id"),
                        "project_id": optional_int(p, "project_id") or project_id,
                        "ref": optional_str(p, "ref"),
                        "sha": optional_str(p, "sha"),
                        "status": optional_str(p, "status"),
                        "source": optional_str(p, "source"),
                        "created_at": parse_instant(require_str(p, "created_at")),
                        "updated_at": parse_instant(require_str(p, "updated_at")),
                        "started_at": parse_instant(p.get("started_at")),
                        "finished_at": parse_instant(p.get("finished_at")),
                        "duration_s": duration,
                        "web_url": optional_str(p, "web_url"),
                    },
                )
            )
        except RECORD_ERRORS as exc:
            rejects.append(Reject(PIPELINES, record_reason(exc), fields_read(p, PIPELINE_FIELDS), index))
    return ParseResult({PIPELINES: rows_table(PIPELINES, rows)}, rejects)


def _seconds(duration: Any) -> float | None:
    """A pipeline's duration: a finite number of seconds, or None."""
    if duration is None:
        return None
    if isinstance(duration, bool) or not isinstance(duration, int | float):
        raise ValueError(f"duration should be a number, got {duration!r:.40}")
    seconds = float(duration) if abs(duration) < 2**1023 else math.inf
    if not math.isfinite(seconds):
        raise ValueError(f"duration should be a finite number of seconds, got {str(duration)[:40]}")
    return seconds


def _merged_at(mr: Mapping[str, Any]) -> datetime | None:
    """When the request was merged; None when it is not merged (nothing shipped). GitLab reads merged_at from the
    request's merge metrics, which requests merged before GitLab kept them (or imported without them) lack: such a
    request says "merged" with merged_at null, and is rejected saying so rather than dropped unseen."""
    merged_at = parse_instant(mr.get("merged_at"))
    if merged_at is None and mr.get("state") == "merged":
        raise ValueError(
            "merged without merged_at: GitLab kept no merge time for this request (merged before it recorded "
            "merge metrics, or imported without one), so its lead time cannot be measured"
        )
    return merged_at


def _fast_forwarded(mr: Mapping[str, Any]) -> str | None:
    """A merged request with neither a merge nor a squash commit was fast-forwarded: its head `sha` is the commit
    it put on the target branch."""
    if optional_str(mr, "merge_commit_sha") or optional_str(mr, "squash_commit_sha"):
        return None
    return optional_str(mr, "sha")


def parse_deployment_merge_requests_page(page: Any, context: Mapping[str, Any] | None = None) -> ParseResult:
    """GET /projects/:id/deployments/:deployment_id/merge_requests; only merged ones count for lead time."""
    ctx = context or {}
    rows, rejects = [], []
    for index, mr in enumerate(page if isinstance(page, list) else []):
        try:
            merged_at = _merged_at(mr)
            if merged_at is None:
                continue  # not merged (yet): nothing was shipped
            rows.append(
                checked_row(
                    DEPLOYMENT_MRS,
                    {
                        "deployment_id": int(ctx["deployment_id"]),
                        "project_id": int(ctx["project_id"]),
                        "mr_id": require_int(mr, "id"),
                        "mr_iid": optional_int(mr, "iid"),
                        "title": optional_str(mr, "title"),
                        "target_branch": optional_str(mr, "target_branch"),
                        "created_at": parse_instant(mr.get("created_at")),
                        "merged_at": merged_at,
                        "merge_commit_sha": optional_str(mr, "merge_commit_sha")
                        or optional_str(mr, "squash_commit_sha")
                        or _fast_forwarded(mr),
                        "web_url": web_address(mr.get("web_url")),
                    },
                )
            )
        except RECORD_ERRORS as exc:
            rejects.append(Reject(DEPLOYMENT_MRS, record_reason(exc), fields_read(mr, MERGE_REQUEST_FIELDS), index))
    return ParseResult({DEPLOYMENT_MRS: rows_table(DEPLOYMENT_MRS, rows)}, rejects)


def parse_merge_requests_page(page: Any, context: Mapping[str, Any] | None = None) -> ParseResult:
    """GET /projects/:id/merge_requests?state=merged: the project's merged requests, latest state."""
    ctx = context or {}
    rows, rejects = [], []
    for index, mr in enumerate(page if isinstance(page, list) else []):
        try:
            merged_at = _merged_at(mr)
            if merged_at is None:
                continue  # not merged: the list was asked for merged requests only
            rows.append(
                checked_row(
                    MERGE_REQUESTS,
                    {
                        "mr_id": require_int(mr, "id"),
                        "project_id": optional_int(mr, "project_id") or int(ctx["project_id"]),
                        "mr_iid": optional_int(mr, "iid"),
                        "title": optional_str(mr, "title"),
                        "state": optional_str(mr, "state"),
                        "target_branch": optional_str(mr, "target_branch"),
                        "created_at": parse_instant(mr.get("created_at")),
                        "merged_at": merged_at,
                        "merge_commit_sha": optional_str(mr, "merge_commit_sha") or _fast_forwarded(mr),
                        "squash_commit_sha": optional_str(mr, "squash_commit_sha"),
                        "updated_at": parse_instant(mr.get("updated_at")) or merged_at,
                        "default_branch": ctx.get("default_branch"),
                        "web_url": web_address(mr.get("web_url")),
                    },
                )
            )
        except RECORD_ERRORS as exc:
            rejects.append(Reject(MERGE_REQUESTS, record_reason(exc), fields_read(mr, MERGE_REQUEST_FIELDS), index))
    return ParseResult({MERGE_REQUESTS: rows_table(MERGE_REQUESTS, rows)}, rejects)


def parse_project_paths_page(page: Any, context: Mapping[str, Any] | None = None) -> ParseResult:
    """GET /projects/<encoded path>: the project a path the mapping names is, under the path as asked."""
    ctx = context or {}
    try:
        row = checked_row(
            PROJECT_PATHS,
            {
                "project_path": ctx["project_path"],
                "project_id": require_int(page, "id"),
                "path_with_namespace": optional_str(page, "path_with_namespace"),
                "created_at": parse_instant(require_str(page, "created_at")),
                "observed_at": ctx["observed_at"],
            },
        )
    except RECORD_ERRORS as exc:
        return ParseResult(
            {PROJECT_PATHS: rows_table(PROJECT_PATHS, [])},
            [Reject(PROJECT_PATHS, record_reason(exc), fields_read(page, PROJECT_FIELDS), 0)],
        )
    return ParseResult({PROJECT_PATHS: rows_table(PROJECT_PATHS, [row])}, [])
