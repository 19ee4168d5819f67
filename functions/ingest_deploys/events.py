"""Unified deployment events from what the lake holds: ArgoCD history and failed operations, GitLab deployments.

Only deployments to the environment the mapping names for each ArgoCD app or GitLab project are kept (for GitLab,
one in a folder, production/eu, counts in the environment named like its folder: see `mapped_environment`). A
deployment is a rollback when it replaces the running revision with an older one: one first deployed before the
running one (putting back the revision a rollback replaced is a roll forward), or, for GitLab, a commit never
deployed, made before the running one's (the deploying job's commit `created_at`), that ships no merge request.
Each GitLab environment's deployments are a sequence of their own (its name kept as written in `source_environment`),
production/eu's apart from production/us's: a region catching up with a release the other moved past is no rollback.
A GitLab deployment ships changes when its commit is the merge (or squash, or for a fast-forward merge the head)
commit of a request merged after the previous successful deployment to that GitLab environment, read from the project's
merged list (one request per page), or when GitLab's per-deployment list links it (one request per deployment,
fetched only when that dataset is asked for). Going back to an older commit ships nothing, even when that commit's
first deployment is older than our history; a newer commit shipping no known request (a direct push, a release
commit made by CI, a tag) is no rollback, nor is one whose date is unknown (no job, or stored before it was read).
A failed GitLab deployment whose job GitLab dropped before it started (an outdated deployment job, an approval
rejected) deployed nothing and is no event.

An ArgoCD deployment's key is its application and history id. An application deleted and created again (by its
ApplicationSet, say) numbers its history from 0 again, so the ids of its new life name deployments of its old one:
the lake remembers each application's creation time when it first lists it, and the history of any later life is
keyed with its creation time too (argocd:<app>:<id>@<created>). The keys of the first life the lake met, and of
every history entry stored before creation times were read, stay as they were.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pyarrow as pa

from functions.ingest_deploys.parse import RECORD_ERRORS, deployment_row
from lakehouse.ingest.records import parse_instant
from lakehouse.mappings import MappingEntry
from lakehouse.schemas import get_dataset
from lakehouse.storage import Lake

EVENTS = "deploys/deployment_events"
# What the events are computed from.
HISTORY, OPERATIONS = "argocd/deployment_history", "argocd/sync_operations"
DEPLOYMENTS, LINKS, MERGE_REQUESTS = "gitlab/deployments", "gitlab/deployment_merge_requests", "gitlab/merge_requests"
INPUTS = (HISTORY, OPERATIONS, DEPLOYMENTS, LINKS, MERGE_REQUESTS)
# History older than this is not read; events are rewritten whole from the day `REWRITE` before the window on.
LOOKBACK = timedelta(days=120)
REWRITE = timedelta(days=30)
FAILED_PHASES = {"Failed", "Error"}
# state/argocd/application_lives.json: application name -> its creation time when the lake first listed it.
LIVES = ("argocd", "application_lives")
# A GitLab deployment is kept in the day it was created, read from LOOKBACK before the window on; one that ran more
# than LOOKBACK - REWRITE after it was created (a manual deploy job played months later) would fall out of the days
# read while its finish day is still rewritten. Those that finished more than LATE after their creation (a wide
# margin) are remembered in state/gitlab/late_deployments.json: creation day -> the latest such finish.
LATE = timedelta(days=30)
LATE_DEPLOYMENTS = ("gitlab", "late_deployments")


def build_events(lake: Lake, since: datetime, entries: Iterable[MappingEntry]) -> pa.Table:
    entries = list(entries)
    argo_env = {e.argocd_app_name: e.environment for e in entries if e.argocd_app_name}
    gitlab_env: dict[int, set[str]] = {}
    for e in entries:
        if e.gitlab_project_id:
            gitlab_env.setdefault(e.gitlab_project_id, set()).add(e.environment)
    first_day = (since - LOOKBACK).date()
    first_lives = first_created(lake)
    events: list[dict[str, Any]] = []
    for row in _rows(lake, HISTORY, first_day):
        if row["app_name"] in argo_env:
            events.append(
                _event(
                    history_key(row, first_lives.get(row["app_name"])),
                    "argocd",
                    row["app_name"],
                    argo_env[row["app_name"]],
                    row["revision"],
                    row["deploy_started_at"],
                    row["deployed_at"],
                    "succeeded",
                    "automated" if row["automated"] else row["initiated_by"],
                )
            )
    for row in _rows(lake, OPERATIONS, first_day):
        if row["app_name"] in argo_env and row["phase"] in FAILED_PHASES and row["finished_at"] is not None:
            events.append(
                _event(
                    f"argocd:{row['app_name']}:op:{row['started_at'].isoformat()}",
                    "argocd",
                    row["app_name"],
                    argo_env[row["app_name"]],
                    row["revision"],
                    row["started_at"],
                    row["finished_at"],
                    "failed",
                    "automated" if row["automated"] else row["initiated_by"],
                )
            )
    linked = {row["deployment_id"] for row in _rows(lake, LINKS, first_day)}
    merged = _merge_commits(_rows(lake, MERGE_REQUESTS, first_day))
    for row in _deployment_rows(lake, first_day):
        # GitLab keeps an environment's name as written ("Production/us"); the mapping's are lower-case.
        environment = mapped_environment(row["environment"], gitlab_env.get(row["project_id"], set()))
        status = {"success": "succeeded", "failed": "failed"}.get(row["status"])
        if environment and status and row["finished_at"] is not None and not _never_ran(row):
            events.append(
                _event(
                    f"gitlab:{row['deployment_id']}",
                    "gitlab",
                    str(row["project_id"]),
                    environment,
                    row["sha"],
                    # GitLab creates a deployment with its pipeline: its job's start is the rollout's.
                    row["started_at"] or row["created_at"],
                    row["finished_at"],
                    status,
                    row["user_username"],
                    linked=row["deployment_id"] in linked,
                    merged_at=merged.get((row["project_id"], row["sha"])),
                    committed_at=row["commit_created_at"],
                    web_url=row["pipeline_web_url"],
                    source_environment=row["environment"],
                )
            )
    _flag_rollbacks(events)
    cutoff = datetime.combine(whole_from(since), time(), UTC)
    kept = [{k: v for k, v in e.items() if not k.startswith("_")} for e in events if e["finished_at"] >= cutoff]
    return pa.Table.from_pylist(kept, schema=get_dataset(EVENTS).schema)


def history_key(row: dict[str, Any], first_created: datetime | None) -> str:
    """argocd:<app>:<id> for the first life of the application the lake met, @<created> added for a later one."""
    key = f"argocd:{row['app_name']}:{row['history_id']}"
    created = row["app_created_at"]
    if created is None or first_created is None or created <= first_created:
        return key
    return f"{key}@{created.isoformat()}"


def first_created(lake: Lake) -> dict[str, datetime]:
    """Each application's creation time when the lake first listed it."""
    found = lake.get_json(lake.state_key(*LIVES))
    return {name: datetime.fromisoformat(when) for name, when in (found[0] if found else {}).items()}


def remember_first_lives(lake: Lake, listing: Any) -> None:
    """Keep the creation time of each listed application the lake has not listed before; never change one kept."""
    listed = {}
    for app in (listing.get("items") if isinstance(listing, dict) else None) or []:
        metadata = app.get("metadata") if isinstance(app, dict) else None
        if not isinstance(metadata, dict) or not isinstance(metadata.get("name"), str):
            continue  # a malformed application is the parser's reject
        try:
            created = parse_instant(metadata.get("creationTimestamp"))
        except ValueError:
            continue
        if created is not None:
            listed[metadata["name"]] = created.isoformat()

    def added(known: dict[str, str] | None) -> dict[str, str] | None:
        new = {name: when for name, when in listed.items() if name not in (known or {})}
        return {**(known or {}), **new} if new else None

    lake.update_json(lake.state_key(*LIVES), added)


def remember_late_deployments(lake: Lake, page: Any, project_id: int) -> None:
    """Remember the creation day of each deployment of a page that finished more than LATE after it was created,
    with its latest such finish, before the page is stored: the events read that day as long as it matters."""
    late: dict[date, datetime] = {}
    for d in page if isinstance(page, list) else []:
        try:
            row = deployment_row(d, project_id)
        except RECORD_ERRORS:
            continue  # the parser's reject
        finished, created = row["finished_at"], row["created_at"]
        if finished is not None and finished - created > LATE:
            late[created.date()] = max(finished, late.get(created.date(), finished))
    if not late:
        return

    def added(known: dict[str, str] | None) -> dict[str, str] | None:
        merged = _late_days(known)
        for day, finished in late.items():
            merged[day] = max(finished, merged.get(day, finished))
        record = {day.isoformat(): finished.isoformat() for day, finished in sorted(merged.items())}
        return None if record == known else record

    lake.update_json(lake.state_key(*LATE_DEPLOYMENTS), added)


def _late_days(record: dict[str, str] | None) -> dict[date, datetime]:
    return {date.fromisoformat(day): datetime.fromisoformat(when) for day, when in (record or {}).items()}


def _deployment_rows(lake: Lake, first_day: date) -> Iterable[dict[str, Any]]:
    """GitLab's deployments created from `first_day` on, and of the remembered earlier days those finished since."""
    yield from _rows(lake, DEPLOYMENTS, first_day)
    found = lake.get_json(lake.state_key(*LATE_DEPLOYMENTS))
    start = datetime.combine(first_day, time(), UTC)
    dataset = get_dataset(DEPLOYMENTS)
    for day, finished in _late_days(found[0] if found else None).items():
        table = lake.read_partition(dataset, day) if day < first_day and finished >= start else None
        if table is not None:
            yield from (r for r in table.to_pylist() if r["finished_at"] is not None and r["finished_at"] >= start)


def _never_ran(deployment: dict[str, Any]) -> bool:
    """A deployment GitLab failed by dropping its job before the job started (an outdated deployment job once a newer
    pipeline deployed, an approval rejected) deployed nothing: it is no attempt. Known only for rows that read the
    job's failure reason; older ones stay failed attempts."""
    return (
        deployment["status"] == "failed"
        and deployment["failure_reason"] is not None
        and deployment["started_at"] is None
    )


def mapped_environment(gitlab_environment: str | None, mapped: set[str]) -> str | None:
    """The mapping's environment a GitLab environment counts in, compared without case (the mapping's are
    lower-case): the one named like it, else, for one in a folder (GitLab groups production/eu and production/us
    under production), the one named like its folder, the part before the first /."""
    name = (gitlab_environment or "").lower()
    folder = name.split("/", 1)[0]
    return next((found for found in (name, folder) if found in mapped), None)


def whole_from(since: datetime) -> date:
    """The first day whose events `build_events` gives whole: they replace what the lake held for it and after."""
    return (since - REWRITE).date()


def _event(
    key: str,
    origin: str,
    ref: str,
    environment: str,
    revision: str | None,
    started: datetime | None,
    finished: datetime,
    status: str,
    initiated_by: str | None,
    linked: bool | None = None,
    merged_at: datetime | None = None,
    committed_at: datetime | None = None,
    web_url: str | None = None,
    source_environment: str | None = None,
) -> dict[str, Any]:
    """`linked`/`merged_at`/`committed_at` are known for GitLab only (None for ArgoCD): see `_flag_rollbacks`;
    `web_url` too: its deploying pipeline's page, its link; and `source_environment`, GitLab's environment as
    written, whose deployments form its sequence."""
    return {
        "_linked": linked,
        "_merged_at": merged_at,
        "_committed_at": committed_at,
        "deployment_key": key,
        "origin": origin,
        "source_ref": ref,
        "environment": environment,
        "revision": revision,
        "started_at": started,
        "finished_at": finished,
        "status": status,
        "is_rollback": False,
        "initiated_by": initiated_by,
        "web_url": web_url,
        "source_environment": source_environment,
    }


def _sequence(event: dict[str, Any]) -> str:
    """The deployment sequence an event follows, as stg_deployments reads it: its GitLab environment lower-cased
    (production/eu's deployments follow one another, apart from production/us's), else its mapping environment."""
    return str(event["source_environment"] or event["environment"]).lower()


def _flag_rollbacks(events: list[dict[str, Any]]) -> None:
    """Per (origin, source, sequence), in time order over successful deployments."""
    series: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for e in events:
        if e["status"] == "succeeded":
            series.setdefault((e["origin"], e["source_ref"], _sequence(e)), []).append(e)
    for deployments in series.values():
        deployments.sort(key=lambda e: (e["finished_at"], e["deployment_key"]))
        # Each revision's place in the series when it first ran: putting back the revision a rollback replaced ran
        # before, yet after the one it replaces, so it is a roll forward, as the build reads it (stg_deployments).
        first_run: dict[str, int] = {}
        previous: dict[str, Any] | None = None
        for place, e in enumerate(deployments):
            revision = e["revision"]
            if revision in first_run:
                older = previous is not None and first_run[revision] < first_run[previous["revision"]]
            else:
                older = _ships_changes(e, previous) is False and _committed_before(e, previous)
            e["is_rollback"] = bool(revision and previous and revision != previous["revision"] and older)
            if revision:
                first_run.setdefault(revision, place)
                previous = e


def _ships_changes(event: dict[str, Any], previous: dict[str, Any] | None) -> bool | None:
    """None when the origin cannot tell (ArgoCD); for GitLab, whether a request merged since `previous` ships."""
    if event["_linked"] is None:
        return None
    if event["_linked"]:
        return True
    merged_at = event["_merged_at"]
    return merged_at is not None and (previous is None or merged_at > previous["finished_at"])


def _committed_before(event: dict[str, Any], previous: dict[str, Any] | None) -> bool:
    """Whether the deployed commit was made before the running one: a direct push, a release commit made by CI or a
    tag ships no merged request yet is newer. Unknown (no job, or stored before commit dates were read): not older."""
    if previous is None or event["_committed_at"] is None or previous["_committed_at"] is None:
        return False
    return bool(event["_committed_at"] < previous["_committed_at"])


def _merge_commits(requests: Iterable[dict[str, Any]]) -> dict[tuple[int, str], datetime]:
    """(project, merge or squash commit) -> when that request was merged."""
    commits: dict[tuple[int, str], datetime] = {}
    for r in requests:
        for sha in (r["merge_commit_sha"], r["squash_commit_sha"]):
            if sha:
                commits[(r["project_id"], sha)] = r["merged_at"]
    return commits


def _rows(lake: Lake, dataset_id: str, first_day: date) -> Iterable[dict[str, Any]]:
    dataset = get_dataset(dataset_id)
    for day in lake.list_partitions(dataset):
        if day >= first_day:
            table = lake.read_partition(dataset, day)
            if table is not None:
                yield from table.to_pylist()
