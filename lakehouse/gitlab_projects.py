"""GitLab projects the mapping names by their path (`gitlab_project_slug`, Backstage's `gitlab.com/project-slug`).

GitLab's rows (deployments, pipelines, merge requests) carry the project's numeric id, and the build joins the
mapping's `gitlab_project` pivots on it. A path is turned into that id once per ingestion run: the connector asks
GitLab (GET /projects/<URL-encoded path>) and records the answer in raw `gitlab/project_paths`. Ingestion and the
build then read the mapping with each path's recorded id filled in (`with_recorded_ids`), so raw data stays keyed by
the id and the SQL is the same for an entity mapped by id or by path. An entry giving both keeps its id (see
`MappingEntry`); a path never answered (GitLab said 404, or no run has asked yet) gives its entity no project.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor

from lakehouse.mappings import MappingEntry
from lakehouse.schemas import get_dataset
from lakehouse.storage import Lake

PROJECT_PATHS = "gitlab/project_paths"
READERS = 8


def mapped_paths(entries: Iterable[MappingEntry]) -> list[str]:
    """The paths to ask GitLab: those of entries without an id, once each whatever their case (GitLab finds a path
    without regard to case)."""
    found: dict[str, str] = {}
    for e in entries:
        if e.gitlab_project_slug and not e.gitlab_project_id:
            found.setdefault(e.gitlab_project_slug.lower(), e.gitlab_project_slug)
    return sorted(found.values())


def recorded_ids(lake: Lake) -> dict[str, int]:
    """Each path GitLab answered (lower-cased) and its project's id, the latest answer of each."""
    dataset = get_dataset(PROJECT_PATHS)
    latest: dict[str, tuple[object, int]] = {}
    # An object per creation day of the projects, hundreds for a large estate: read side by side (on S3 a GET each,
    # which one after the other would cost every build and every run seconds).
    with ThreadPoolExecutor(max_workers=READERS) as pool:
        tables = list(pool.map(lambda day: lake.read_partition(dataset, day), lake.list_partitions(dataset)))
    for table in tables:
        for row in table.to_pylist() if table is not None else []:
            path = row["project_path"].lower()
            if path not in latest or row["observed_at"] > latest[path][0]:
                latest[path] = (row["observed_at"], row["project_id"])
    return {path: project for path, (_, project) in latest.items()}


def with_ids(
    entries: Iterable[MappingEntry], ids: Mapping[str, int]
) -> tuple[tuple[MappingEntry, ...], list[tuple[MappingEntry, int, str]]]:
    """The entries with each path's id filled in, and the clashes: (entry, project id, the entity that holds it)
    where another entity of that environment already has the project (by its id, or by another path naming it),
    which keeps it, as two entities given one project id are refused; the clashing entry gets no project."""
    entries = list(entries)
    held = {(e.environment, e.gitlab_project_id): e.entity_id for e in entries if e.gitlab_project_id}
    out: list[MappingEntry] = []
    clashes: list[tuple[MappingEntry, int, str]] = []
    for e in entries:
        project = ids.get(e.gitlab_project_slug.lower()) if e.gitlab_project_slug and not e.gitlab_project_id else None
        if project is None:
            out.append(e)
            continue
        holder = held.setdefault((e.environment, project), e.entity_id)
        if holder != e.entity_id:
            clashes.append((e, project, holder))
            out.append(e)
            continue
        out.append(e.model_copy(update={"gitlab_project_id": project}))
    return tuple(out), clashes


def with_recorded_ids(lake: Lake, entries: Iterable[MappingEntry]) -> tuple[MappingEntry, ...]:
    """The mapping as ingestion and the build read it: each path's recorded project id filled in."""
    entries = list(entries)
    if not mapped_paths(entries):
        return tuple(entries)
    return with_ids(entries, recorded_ids(lake))[0]
