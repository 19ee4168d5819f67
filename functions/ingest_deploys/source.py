"""What ingest_deploys fetches: ArgoCD status, operations and history; GitLab deployments, pipelines and merged
requests; then the unified deployment events.

GitLab's per-deployment merge request list costs one request per deployment, so it is fetched only when its
dataset is named (a backfill that wants GitLab's exact links); lead time and rollbacks read the merged list,
whose requests grow with pages, not with deployments. A project the mapping names by its path is asked of GitLab
first, once a run, and read by the id GitLab gives; the answer is recorded in gitlab/project_paths, which the
deployment events and the build read (lakehouse/gitlab_projects.py)."""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa

from functions.ingest_deploys import parse
from functions.ingest_deploys.client import ArgoCDClient, GitLabClient
from functions.ingest_deploys.events import (
    EVENTS,
    INPUTS,
    build_events,
    mapped_environment,
    remember_first_lives,
    remember_late_deployments,
    whole_from,
)
from lakehouse.gitlab_projects import mapped_paths, with_ids, with_recorded_ids
from lakehouse.ingest.client import SetAside
from lakehouse.ingest.config import IngestSettings
from lakehouse.ingest.errors import SourceRefused
from lakehouse.ingest.mapping_pivots import argocd_apps, current_entries, gitlab_projects
from lakehouse.ingest.records import fields_read
from lakehouse.ingest.run import Derived, Page, SourcePlan, Stream, by_fields
from lakehouse.ingest.window import Window
from lakehouse.mappings import MappingEntry
from lakehouse.storage import Lake

SOURCE = "deploys"
FUNCTION = "ingest_deploys"
GITLAB_DATASETS = (
    parse.DEPLOYMENTS,
    parse.PIPELINES,
    parse.DEPLOYMENT_MRS,
    parse.MERGE_REQUESTS,
    parse.PROJECT_PATHS,
)
DATASETS = (*parse.ARGOCD_DATASETS, *GITLAB_DATASETS, EVENTS)
ALIGN: timedelta | None = None
# GitLab's answers for a project that is gone or hidden from the token (it answers 404 to hide a private project).
PROJECT_GONE = (403, 404)
# GitLab's answer to the listing of a feature a project turned off (merge requests, CI/CD, environments).
FEATURE_CLOSED = 403


def overlap(settings: IngestSettings) -> timedelta:
    return timedelta(hours=settings.overlap_hours)


def default_datasets(settings: IngestSettings) -> tuple[str, ...]:
    """Every dataset of the tools configured: a platform may deploy with GitLab alone, or ArgoCD alone. A tool
    given half its settings, or neither tool, is asked for all the same, so that the run fails naming the
    settings to give."""
    argocd = bool(settings.argocd_url or settings.argocd_token)
    gitlab = bool(settings.gitlab_url or settings.gitlab_token)
    tools = (*(parse.ARGOCD_DATASETS if argocd else ()), *(GITLAB_DATASETS if gitlab else ()))
    if not tools:
        tools = (*parse.ARGOCD_DATASETS, *GITLAB_DATASETS)
    # The project paths are read whenever GitLab is, when the mapping names a project by its path (see build_plan).
    return tuple(d for d in (*tools, EVENTS) if d not in (parse.DEPLOYMENT_MRS, parse.PROJECT_PATHS))


def build_plan(settings: IngestSettings, lake: Lake, window: Window, datasets: tuple[str, ...]) -> SourcePlan:
    entries = current_entries(lake)
    plan = SourcePlan(SOURCE, FUNCTION, [])
    # One run's request budget, shared by both tools' clients.
    options = settings.client_options()
    argo = [d for d in parse.ARGOCD_DATASETS if d in datasets]
    if argo:
        settings.require("argocd_url", "argocd_token")
        assert settings.argocd_url and settings.argocd_token
        argocd = ArgoCDClient(settings.argocd_url, settings.argocd_token, **options)
        plan.clients.append(argocd)
        apps = argocd_apps(entries)

        def application_pages() -> Iterator[Page]:
            observed = datetime.now(UTC)
            # Redacted by the client: the tools' values (Helm, plugins) may hold credentials (see redact).
            listing = argocd.applications().body
            # Before any row of it is stored: a history row of a later life is never keyed as the first's.
            remember_first_lives(lake, listing)
            yield Page(parse.APP_STATUS, listing, {"observed_at": observed, "apps": apps})

        # The listing is a snapshot: every dataset it feeds is written from it, whichever was asked for.
        plan.streams.append(
            Stream(
                "applications",
                parse.ARGOCD_DATASETS,
                application_pages,
                {parse.APP_STATUS: parse.parse_applications_page},
                argocd,
                snapshot=True,
            )
        )
    wanted_gitlab = [d for d in GITLAB_DATASETS if d in datasets]
    if wanted_gitlab:
        settings.require("gitlab_url", "gitlab_token")
        assert settings.gitlab_url and settings.gitlab_token
        gitlab = GitLabClient(settings.gitlab_url, settings.gitlab_token, **options)
        plan.clients.append(gitlab)
        environments: dict[int, set[str]] = {}
        # Projects the mapping names by path: asked of GitLab once per run, their answers recorded (see
        # lakehouse/gitlab_projects.py); the project read for each, and the answer itself, by id.
        paths = mapped_paths(entries)
        answers: dict[int, Any] = {}
        found: dict[str, int] = {}
        per_page = settings.gitlab_per_page

        def deployment_pages(project_id: int, context: dict[str, Any]) -> Iterator[Page]:
            """The deployments, and the merge requests of each when asked: those need the deployments read even when
            the deployments themselves are not asked for."""

            # The deployments set aside, by id (by their fields when they have none): each once, however often met.
            unread_ids: set[Hashable] = set()

            def unread(index: int, deployment: Any, why: str) -> None:
                # A deployment the parser rejects is one of the deployments' rejects when they are asked for; when
                # only their merge requests are, it is theirs, or it would vanish unsaid.
                deployment_id = parse.record_id(deployment)
                named = deployment_id if deployment_id is not None else by_fields(deployment)
                if parse.DEPLOYMENTS not in datasets and named not in unread_ids:
                    if named is not None:
                        unread_ids.add(named)
                    gitlab.counters.set_aside.append(
                        SetAside(
                            f"GitLab project {project_id} deployments, record {index}",
                            f"{why}; its merge requests were not read",
                            json.dumps(fields_read(deployment, parse.DEPLOYMENT_FIELDS), default=str),
                            parse.DEPLOYMENT_MRS,
                        )
                    )

            for response in gitlab.deployments(project_id, window.since, window.until, per_page):
                if parse.DEPLOYMENTS in datasets:
                    # Before its rows are stored: a deployment run long after its creation day is never left unread.
                    remember_late_deployments(lake, response.body, project_id)
                    yield Page(parse.DEPLOYMENTS, response.body, context)
                if parse.DEPLOYMENT_MRS not in datasets:
                    continue
                for deployment_id in _shipping(response.body, project_id, environments[project_id], unread):
                    try:
                        for mrs in gitlab.deployment_merge_requests(project_id, deployment_id, per_page):
                            yield Page(parse.DEPLOYMENT_MRS, mrs.body, {**context, "deployment_id": deployment_id})
                    except SourceRefused as refused:
                        if refused.status != 404:
                            raise
                        # A deployment deleted since it was listed: its links are a reject, the project goes on.
                        gitlab.counters.set_aside.append(
                            SetAside(
                                f"GitLab project {project_id} deployment {deployment_id}",
                                f"{refused}; its merge requests were not read",
                                "",
                                parse.DEPLOYMENT_MRS,
                            )
                        )

        def pipeline_pages(project_id: int, context: dict[str, Any]) -> Iterator[Page]:
            for response in gitlab.pipelines(project_id, window.since, window.until, per_page):
                yield Page(parse.PIPELINES, response.body, context)

        def merged_pages(project_id: int, context: dict[str, Any]) -> Iterator[Page]:
            # A request counts for lead time when merged into a branch the project deploys from; for a project
            # GitLab does not deploy (ArgoCD), that is its default branch.
            project = answers[project_id] if project_id in answers else gitlab.project(project_id).body
            branch = project.get("default_branch") if isinstance(project, dict) else None
            requests_context = {**context, "default_branch": branch if isinstance(branch, str) else None}
            for response in gitlab.merged_requests(project_id, window.since, window.until, per_page):
                yield Page(parse.MERGE_REQUESTS, response.body, requests_context)

        def project_pages(project_id: int) -> Iterator[Page]:
            """Each listing asked of the project. Only what was asked is fetched: a dataset declared by the stream is
            recorded, its watermark moved. GitLab answers 403 for the listing of a feature the project turned off
            (merge requests, CI/CD, environments): that listing is set aside and the others are read; a project
            refusing every listing asked is refused as a whole."""
            context = {"project_id": project_id}
            listings: list[tuple[str, Callable[[int, dict[str, Any]], Iterator[Page]]]] = []
            if parse.DEPLOYMENTS in datasets or parse.DEPLOYMENT_MRS in datasets:
                first = parse.DEPLOYMENTS if parse.DEPLOYMENTS in datasets else parse.DEPLOYMENT_MRS
                listings.append((first, deployment_pages))
            if parse.PIPELINES in datasets:
                listings.append((parse.PIPELINES, pipeline_pages))
            if parse.MERGE_REQUESTS in datasets:
                listings.append((parse.MERGE_REQUESTS, merged_pages))
            closed: list[tuple[str, SourceRefused]] = []
            for dataset, pages in listings:
                try:
                    yield from pages(project_id, context)
                except SourceRefused as listing_refused:
                    if listing_refused.status != FEATURE_CLOSED:
                        raise
                    closed.append((dataset, listing_refused))
            if closed and len(closed) == len(listings):
                raise closed[0][1]
            for dataset, why in closed:
                gitlab.counters.set_aside.append(
                    SetAside(
                        f"GitLab project {project_id}",
                        f"{why}; the project's other listings were read: the feature may be disabled in the "
                        "project, or the token may not read it",
                        "",
                        dataset,
                    )
                )

        def set_aside_or_raise(
            refused: SourceRefused,
            refusals: list[SourceRefused],
            asked: int,
            what: str,
            check: str,
            dataset: str | None = None,
        ) -> None:
            """One project deleted, moved or closed to the token must not stop every other project's deployments: the
            run goes on, the refusal kept as a reject of the run (status partial). Every project refused is no project
            gone but GitLab refusing the token (a missing scope, a revoked access): the run fails and its window is
            read again, as for any other refusal."""
            refusals.append(refused)
            if refused.status not in PROJECT_GONE or len(refusals) == asked:
                raise refused
            reason = f"{refused}; the other projects were read: check the mapping's {check}"
            gitlab.counters.set_aside.append(SetAside(what, reason, "", dataset))

        def path_pages(refusals: list[SourceRefused], asked: int) -> Iterator[Page]:
            """Each mapped path's project (GET /projects/<encoded path>), its answer recorded. A path GitLab does not
            know (404, or 403 for a project hidden from the token) is set aside, counted by this run, and its entity
            gets no project; the other paths and projects are read."""
            observed = datetime.now(UTC)
            for path in paths:
                try:
                    response = gitlab.project(path)
                except SourceRefused as refused:
                    set_aside_or_raise(
                        refused,
                        refusals,
                        asked,
                        f"GitLab project {path}",
                        "gitlab_project_slug (the project's path with its namespace, as GitLab shows it) and the "
                        "token's access to it",
                        parse.PROJECT_PATHS,
                    )
                    continue
                yield Page(parse.PROJECT_PATHS, response.body, {"project_path": path, "observed_at": observed})
                project_id = response.body.get("id") if isinstance(response.body, dict) else None
                if isinstance(project_id, int) and not isinstance(project_id, bool):
                    answers[project_id] = response.body
                    found[path.lower()] = project_id

        def resolved_entries() -> tuple[MappingEntry, ...]:
            """The mapping with the ids GitLab gave this run; a path naming a project another entity of its
            environment holds is set aside (that entity keeps it)."""
            resolved, clashes = with_ids(entries, found)
            for entry, project_id, holder in clashes:
                gitlab.counters.set_aside.append(
                    SetAside(
                        f"GitLab project {entry.gitlab_project_slug}",
                        f"is project {project_id}, which the mapping gives to {holder} in {entry.environment}; "
                        f"{entry.entity_id} gets none of its records there: map the project on one entity",
                        "",
                        parse.PROJECT_PATHS,
                    )
                )
            return resolved

        def gitlab_pages() -> Iterator[Page]:
            refusals: list[SourceRefused] = []
            asked = len(gitlab_projects(entries)) + len(paths)
            yield from path_pages(refusals, asked)
            resolved = resolved_entries()
            for e in resolved:
                if e.gitlab_project_id:
                    environments.setdefault(e.gitlab_project_id, set()).add(e.environment)
            projects = gitlab_projects(resolved)
            for project_id in projects:
                try:
                    yield from project_pages(project_id)
                except SourceRefused as refused:
                    set_aside_or_raise(
                        refused,
                        refusals,
                        asked,
                        f"GitLab project {project_id}",
                        "gitlab_project_id and the token's access to the project",
                    )

        # The paths' answers are recorded whatever GitLab dataset is asked: they make its rows an entity's.
        recorded = (parse.PROJECT_PATHS,) if paths and parse.PROJECT_PATHS not in wanted_gitlab else ()
        plan.streams.append(
            Stream(
                "gitlab",
                (*wanted_gitlab, *recorded),
                gitlab_pages,
                {
                    parse.DEPLOYMENTS: parse.parse_deployments_page,
                    parse.PIPELINES: parse.parse_pipelines_page,
                    parse.DEPLOYMENT_MRS: parse.parse_deployment_merge_requests_page,
                    parse.MERGE_REQUESTS: parse.parse_merge_requests_page,
                    parse.PROJECT_PATHS: parse.parse_project_paths_page,
                },
                gitlab,
                record_of=parse.record_id,
            )
        )
    if EVENTS in datasets:

        def events(lake: Lake, run_window: Window) -> pa.Table:
            # Read when the events are built: this run's GitLab stream has recorded the paths' answers by then.
            return build_events(lake, run_window.since, with_recorded_ids(lake, entries))

        plan.derived.append(Derived(EVENTS, events, lambda run_window: whole_from(run_window.since), INPUTS))
    return plan


def _shipping(
    page: Any, project_id: int, environments: set[str], unread: Callable[[int, Any, str], None]
) -> Iterator[int]:
    """Ids of a page's successful deployments to a mapped environment: the ones whose merge requests are wanted.
    A deployment the parser rejects is skipped here, and told to `unread` (its index, itself, why)."""
    for index, d in enumerate(page if isinstance(page, list) else []):
        try:
            row = parse.deployment_row(d, project_id)
        except parse.RECORD_ERRORS as error:
            unread(index, d, parse.record_reason(error))
            continue
        if row["status"] == "success" and mapped_environment(row["environment"], environments):
            yield row["deployment_id"]
