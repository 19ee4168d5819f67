"""Admin routes (admin role): the run log, the mapping table, batch triggers and the state of each connector."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from itertools import islice
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.routing import APIRoute

from functions.api import queries
from functions.api.auth import authenticate, require_admin_role
from functions.api.deps import (
    Context,
    ContextDep,
    CursorParam,
    Digits,
    Limit,
    MartDep,
    PrincipalDep,
    context_of,
    decode_cursor,
    encode_cursor,
    envelope,
    no_misnamed_parameters,
    one_value_each,
    require_admin,
)
from functions.api.gateway import ADMIN_PATH
from functions.api.ids import Directory
from functions.api.json_body import JsonBodyRequest
from functions.api.mart import Snapshot
from functions.api.models import (
    CoverageOut,
    CoverageRow,
    MappingChange,
    MappingChanged,
    MappingOut,
    Page,
    RecordKind,
    RunList,
    RunOut,
    SourcesOut,
    SourceState,
    TriggerOut,
    TriggerRequest,
    UnmappedKey,
    problem_responses,
)
from functions.api.problems import MOST_LISTED_ERRORS, Problem, invalid
from functions.api.settings import ApiSettings
from lakehouse.deadline import carrying_deadline
from lakehouse.errors import ConcurrentWriteError, MappingValidationError
from lakehouse.mappings import MappingChangedSince, MappingStore
from lakehouse.runlog import READ_AT_ONCE, FirstReads, RunLog, RunRecord, RunStatus, Watermarks, run_of
from lakehouse.schemas import REGISTRY
from lakehouse.settings import without_credentials
from lakehouse.storage import Lake


class AdminRoute(APIRoute):
    """Checks the caller before FastAPI reads the body, which it does before any dependency: a malformed body from a
    caller without the admin role gets that caller's 401 or 403, not a 422 about the body."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def checked(request: Request) -> Response:
            require_admin_role(authenticate(request, context_of(request).api))
            request = JsonBodyRequest(request.scope, request.receive)
            if request.method == "POST":
                _require_json(request.headers.get("content-type"))
                _require_identity(request.headers.get("content-encoding"))
                # Read once: Starlette keeps the bytes for FastAPI's own read.
                _require_utf8(await request.body())
            return await handle(request)

        return checked


def _require_json(content_type: str | None) -> None:
    """A 415 for a body not sent as JSON, which FastAPI would read as bytes and refuse as "not a valid dictionary":
    `curl -d` sends application/x-www-form-urlencoded unless told otherwise."""
    media = (content_type or "").partition(";")[0].strip().lower()
    if media == "application/json" or (media.startswith("application/") and media.endswith("+json")):
        return
    given = f"this one was {media[:100]!r}" if media else "this one had none"
    raise Problem(415, f"send the body as JSON with Content-Type: application/json ({given})")


def _require_identity(content_encoding: str | None) -> None:
    """A 415 for a body sent compressed (Content-Encoding: gzip), as RFC 9110 15.5.16 answers a content coding the
    server does not take: read as it came, the compressed bytes were a 422 saying they were no UTF-8 text."""
    codings = [c.strip().lower() for c in (content_encoding or "").split(",") if c.strip()]
    refused = [c for c in codings if c != "identity"]
    if refused:
        raise Problem(
            415,
            f"the body is sent with Content-Encoding {', '.join(refused)[:100]!r}: the API takes the body as it is "
            "sent (identity), uncompressed",
            headers={"Accept-Encoding": "identity"},
        )


def _require_utf8(body: bytes) -> None:
    """A 422 shaped as that of JSON that does not parse, for a body that is not UTF-8 text (JSON sent between systems
    is UTF-8, RFC 8259): FastAPI would answer a bare 400, "There was an error parsing the body"."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise invalid("body", f"not JSON: not UTF-8 text at byte {exc.start}", location="body") from None


def _body_problems() -> dict[int | str, dict[str, Any]]:
    """The problems of a route that reads a body: over the size the API reads (main.BodyWithinLimit, before the
    route runs) or not JSON (AdminRoute)."""
    responses = problem_responses(413, 415)
    limit = ApiSettings.model_fields["max_body_mb"].default
    too_large = f"The request body is over ROSETTA_API_MAX_BODY_MB ({limit} MiB by default): nothing is done"
    responses[413] = {**responses[413], "description": too_large}
    not_taken = (
        "The body is not sent as JSON (Content-Type: application/json), or is sent compressed (a Content-Encoding "
        "other than identity): nothing is done"
    )
    responses[415] = {**responses[415], "description": not_taken}
    return responses


BODY_PROBLEMS = _body_problems()
STALE_READ_PROBLEM: dict[int | str, dict[str, Any]] = {
    412: {
        **problem_responses(412)[412],
        "description": "If-Match names a version, and an entry the change writes has changed since (or there is no "
        "mapping yet): `currentVersion` and `changedEntries` (entityId, environment) say which; nothing is written",
    }
}

router = APIRouter(
    prefix=ADMIN_PATH,
    tags=["admin"],
    responses=problem_responses(401, 403, 404, 409, 422, 502, 503),
    # The dependency checks again (cheaply), declares the credentials in the OpenAPI document and gives the principal.
    dependencies=[Depends(require_admin), Depends(one_value_each), Depends(no_misnamed_parameters)],
    route_class=AdminRoute,
)

SOURCES = ("dynatrace", "servicenow", "argocd", "gitlab", "elasticsearch")
# Datasets a scheduled run reads only when asked: merge requests per deployment when named in the event, project
# paths while the mapping names a project by its path. Their watermarks stop when nobody asks, which says nothing of
# the source: they are listed, not counted in its freshness.
ON_REQUEST = frozenset({"gitlab/deployment_merge_requests", "gitlab/project_paths"})
# A function reading several sources records a run that cannot start (no mapping, a secret unreadable) under its own
# name: ingest_deploys reads ArgoCD and GitLab, and neither is read then.
FUNCTION_SOURCES = {"deploys": ("argocd", "gitlab")}
CURSOR_NUMBER = re.compile(r"[0-9]{1,9}")
# A batch-runs cursor: this mark, the status asked for, and the key of the last run record read (Lake.run_key's form).
RUNS_CURSOR = "runs"
RUN_KEY = re.compile(r"runs/day=[0-9]{4}-[0-9]{2}-[0-9]{2}/[^/]+\.json")
# Run records a page of batch-runs reads at most, some ten at once (on S3 a GET each, some tens of milliseconds): a
# status seldom met (a failed run among a year of records, tens of thousands of them) would otherwise read the whole
# log for one page, well past the 29 s API Gateway waits.
RUNS_READ_PER_PAGE = 1000
# The most a page of the mapping's entries takes in the Lambda's answer: Lambda answers at most 6 MB, and 5,000
# entries with long Dynatrace selectors (some 1,600 characters each) come to 8 MB. The envelope takes the rest.
MAPPING_PAGE_BYTES = 4 * 2**20
# The mapping's ETag is its version, quoted (strong: a version's entries never change). If-Match also takes the bare
# number, as a script would write the version it read.
MAPPING_ETAG = re.compile(r'"([0-9]{1,9})"|([0-9]{1,9})')
MAPPING_ETAG_HEADER = {
    "ETag": {
        "description": 'The mapping version of the answer, quoted ("12"): sent back in a change\'s If-Match',
        "schema": {"type": "string"},
    }
}
IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description='The ETag of the mapping read (GET /monitoring/admin/mappings), e.g. "12": the change is refused '
        "(412) if an entry it writes (every entry, with replace) has changed since that version. `*`: any version, "
        "as long as a mapping exists. Without it the change is made whatever changed since: send it to be safe.",
    ),
]


def _envelope(ctx: Context) -> dict[str, Any]:
    """An admin answer's envelope: the serving copy's freshness, none while no copy can be loaded. The admin routes
    read the run log, the mapping and the watermarks, not the mart: a copy that fails to load (a corrupt object)
    must not hide the runs that say why, nor keep the mapping from being corrected. Without a copy, the mapping
    version is the one the load read (not 0, which says there is no mapping)."""
    try:
        snap = ctx.mart.snapshot()
    except Problem:
        snap = Snapshot(None, Directory(version=ctx.mart.mapping_version_read))
    return envelope(snap, snap.directory)


@router.get("/batch-runs", response_model=RunList, summary="Batch runs, newest first")
def batch_runs(
    ctx: ContextDep,
    limit: Limit = 50,
    cursor: CursorParam = None,
    status: RunStatus | None = None,
) -> RunList:
    after = _run_cursor_key(cursor, status)
    items, next_key = _runs_page(ctx.lake, _run_keys(ctx.lake, after), limit, status)
    nxt = encode_cursor(RUNS_CURSOR, status or "", next_key) if next_key else None
    return RunList(**_envelope(ctx), items=items, page=Page(limit=limit, next_cursor=nxt))


def _run_cursor_key(cursor: str | None, status: RunStatus | None) -> str | None:
    """The run record key a page of runs starts after. The cursor names its list and the status it was given for: a
    key that is no run record's would start the log over or end it early, and another status's would mix two lists
    in one reading."""
    after = decode_cursor(cursor, (str, str, str))
    if after is None:
        return None
    kind, given_status, key = after
    if kind != RUNS_CURSOR or not RUN_KEY.fullmatch(key):
        raise invalid("cursor", "cursor is not one this API gave out; start again without it")
    if given_status != (status or ""):
        raise invalid(
            "cursor",
            "cursor is of another list (another status than this request's): start again without it, or give the "
            "status of the page it came from",
        )
    return key


def _run_keys(lake: Lake, after: str | None) -> Iterator[str]:
    """The run records' keys, newest first, after the cursor's. Keys sort by day then by run id (which starts with the
    start time): the day folders are walked from the newest (or the cursor's), each listed only when reached, so a
    page of the newest runs lists a day or two however long the run log has grown."""
    days = sorted((f for f in lake.list_folders("runs/") if f.startswith("runs/day=")), reverse=True)  # not runs/last/
    if after:
        days = [d for d in days if d < after]  # a folder sorts before its keys, and after an older day's
    return (
        key
        for day in days
        for key in sorted(lake.list_keys(day), reverse=True)
        if key.endswith(".json") and (not after or key < after)
    )


def _runs_page(
    lake: Lake, keys: Iterator[str], limit: int, status: RunStatus | None
) -> tuple[list[RunOut], str | None]:
    """A page of runs with the status asked for, and the key the next page starts after (None on the last page).
    Reading stops at a page and one run more (there is a next page), at the end of the log, or after
    RUNS_READ_PER_PAGE records: then the page holds what those records had, maybe fewer runs than `limit` or none,
    and the next one goes on after the last record read."""
    found: list[tuple[str, RunOut]] = []
    read = 0
    read_run = carrying_deadline(lake.get_json)
    with ThreadPoolExecutor(max_workers=READ_AT_ONCE) as pool:
        while read < RUNS_READ_PER_PAGE:
            # Without a filter every record is a run of the page: never more than it still needs (50 runs read 51).
            wanted = READ_AT_ONCE if status else min(READ_AT_ONCE, limit + 1 - len(found))
            batch = list(islice(keys, min(wanted, RUNS_READ_PER_PAGE - read)))
            if not batch:
                return [run for _, run in found], None
            read += len(batch)
            for key, record in zip(batch, pool.map(read_run, batch), strict=True):
                run = RunRecord.from_json(record[0]) if record else None
                if run is None or (status and run.status != status):
                    continue
                if len(found) == limit:
                    return [run for _, run in found], found[-1][0]
                found.append((key, RunOut.model_validate(run.__dict__)))
    more = next(keys, None) is not None
    return [run for _, run in found], batch[-1] if more else None


@router.get(
    "/mappings",
    response_model=MappingOut,
    summary="The mapping table (current or a given version)",
    responses={200: {"headers": MAPPING_ETAG_HEADER}},
)
def get_mappings(
    ctx: ContextDep,
    response: Response,
    version: Annotated[int | None, Query(ge=1, le=10**6), Digits] = None,
    limit: Annotated[
        int,
        Query(
            ge=1,
            le=5000,
            description=f"Entries per page, at most {MAPPING_PAGE_BYTES // 2**20} MB of them, so that a page stays "
            "within the 6 MB a Lambda answers: with long selectors a page holds fewer, page.limit says how many, and "
            "page.nextCursor reads on.",
        ),
        Digits,
    ] = 1000,
    cursor: CursorParam = None,
) -> MappingOut:
    store = MappingStore(ctx.lake)
    versions = store.versions()
    # A cursor holds the version its first page was read from: the next pages are of that version, not of one an
    # admin wrote in between (whose entries would shift under the offset).
    after = decode_cursor(cursor, (str, str))
    paged, offset = (_cursor_number(after[0]), _cursor_number(after[1])) if after else (None, None)
    # Versions count from 1: a cursor saying 0 was not given out (it read as no version, then as a 404 for 0).
    if after and (not paged or offset is None or (version is not None and version != paged)):
        raise invalid("cursor", "cursor is not one this API gave out for this version; start again without it")
    version = version or paged
    chosen = version or (versions[-1] if versions else None)
    if version is not None and version not in versions:
        raise Problem(404, f"no mapping version {version}; versions: {versions[-20:]}", title="Unknown mapping version")
    mapping = store.read(chosen) if chosen else None
    entries = [e.model_dump(exclude_none=True) for e in (mapping.entries if mapping else ())]
    start = offset or 0
    asked = entries[start : start + limit]
    page = _within_answer(asked)
    end = start + len(page)
    nxt = encode_cursor(str(chosen), str(end)) if end < len(entries) else None
    if mapping:
        response.headers["ETag"] = _mapping_etag(mapping.version)
    return MappingOut(
        **_envelope(ctx),
        version=mapping.version if mapping else 0,
        versions=versions,
        changed_by=mapping.changed_by if mapping else None,
        changed_at=mapping.changed_at if mapping else None,
        change_note=mapping.change_note if mapping else None,
        entries=page,
        page=Page(limit=limit if len(page) == len(asked) else len(page), next_cursor=nxt),
    )


def _within_answer(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The first entries that fit in MAPPING_PAGE_BYTES of the answer, and at least one (a page moves on)."""
    taken = 0
    for count, entry in enumerate(entries):
        taken += _answered_bytes(entry)
        if count and taken > MAPPING_PAGE_BYTES:
            return entries[:count]
    return entries


def _answered_bytes(entry: dict[str, Any]) -> int:
    """What an entry takes in the Lambda's answer: its JSON, escaped again as the text of the answer's body (each
    quote of a selector twice)."""
    return len(json.dumps(json.dumps(entry, ensure_ascii=False, separators=(",", ":"), default=str)))


@router.get(
    "/mappings/coverage",
    response_model=CoverageOut,
    summary="What the mapping attributes, and the CIs, ArgoCD applications, GitLab projects and logged services it "
    "leaves out",
)
def mapping_coverage(
    mart: MartDep,
    record_kind: Annotated[RecordKind | None, Query(alias="recordKind")] = None,
    limit: Annotated[int, Query(ge=1, le=5000), Digits] = 100,
) -> CoverageOut:
    """As the last daily or full build counted it, over the 30 days before its as-of: incidents and change requests
    on a CI no entry claims, deployments of a GitLab project to an environment it is not mapped in, and error and
    warning lines of a mapped index under a service.name no entity is or an environment the mapping does not use
    (counted in lines), are counted in no KPI. A corrected mapping re-attributes them at the next build."""
    kinds = queries.mapping_coverage(mart.con)
    unmapped = queries.unmapped_keys(mart.con, kind=record_kind, limit=limit)
    return CoverageOut(
        **envelope(mart.snap, mart.directory),
        window_start=kinds[0]["window_start"] if kinds else None,
        window_end=kinds[0]["window_end"] if kinds else None,
        kinds=[CoverageRow.model_validate(k) for k in kinds],
        unmapped=[UnmappedKey.model_validate(u) for u in unmapped],
        unmapped_total=unmapped[0]["unmapped_total"] if unmapped else 0,
    )


def _cursor_number(text: str) -> int | None:
    """A number a mapping cursor carries, written in ASCII digits (str.isdigit also takes '²', which int refuses)."""
    return int(text) if CURSOR_NUMBER.fullmatch(text) else None


@router.post(
    "/mappings",
    response_model=MappingChanged,
    status_code=201,
    summary="Change the mapping (a new version)",
    responses={
        **BODY_PROBLEMS,
        **STALE_READ_PROBLEM,
        200: {
            "model": MappingChanged,
            "description": "Nothing changed: the current version, no new one.",
            "headers": MAPPING_ETAG_HEADER,
        },
        201: {"headers": MAPPING_ETAG_HEADER},
    },
)
def post_mappings(
    ctx: ContextDep, principal: PrincipalDep, change: MappingChange, response: Response, if_match: IfMatch = None
) -> MappingChanged:
    """A change that leaves every entry as it is (a catalog sent again as it stands) writes no version: the answer
    is 200 with the current version, where a new version is 201. Made from a read (If-Match, the ETag of the GET),
    it is refused with a 412 when an entry it writes has changed since, which it would undo unseen; a change to
    other entries meanwhile is no conflict, and is kept."""
    made_from = _version_read(if_match)
    if not change.entries and not change.remove:
        detail = "give entries to upsert or keys to remove"
        errors = [
            {"parameter": name, "in": "body", "detail": f"{name} is empty: {detail}"} for name in ("entries", "remove")
        ]
        raise Problem(422, detail, title="Empty change", errors=errors)
    try:
        production = ctx.settings.production_environment
        result, written = MappingStore(ctx.lake, production, ctx.settings.environments).change(
            change.entries,
            actor=principal.subject,
            note=change.note,
            replace=change.replace,
            remove=[(k.entity_id, k.environment or production) for k in change.remove],
            made_from=made_from,
        )
    except MappingChangedSince as exc:
        raise _changed_since(exc) from None
    except MappingValidationError as exc:
        raise Problem(
            422,
            f"{len(exc.problems)} problem(s): nothing was written",
            title="Mapping rejected",
            errors=_mapping_errors(change, exc.problems[:MOST_LISTED_ERRORS], production),
        ) from None
    except ConcurrentWriteError as exc:
        # Other admins kept taking the next version first: nothing was written, and the same change may be sent again.
        raise Problem(409, str(exc), title="Mapping changed meanwhile") from None
    if written:
        ctx.mart.mapping_changed()
    else:
        response.status_code = 200
    response.headers["ETag"] = _mapping_etag(result.version)  # the next change may be made from this one
    return MappingChanged(
        version=result.version, changed_by=result.changed_by, changed_at=result.changed_at, entries=len(result.entries)
    )


def _mapping_etag(version: int) -> str:
    return f'"{version}"'


def _version_read(if_match: str | None) -> int | Literal["*"] | None:
    """The mapping version a change was made from, as If-Match gives it: a version, "*" (any), or None (not said)."""
    if if_match is None:
        return None
    given = if_match.strip()
    if given == "*":
        return "*"
    found = MAPPING_ETAG.fullmatch(given)
    if found is None:
        # A list of versions, a weak tag or another API's ETag: which version the change was made from is not told.
        raise invalid(
            "If-Match",
            f'If-Match is the ETag the mapping\'s GET gave (one version, e.g. "12") or *: {given[:60]!r} is neither',
            location="header",
        )
    return int(found.group(1) or found.group(2))


def _changed_since(exc: MappingChangedSince) -> Problem:
    """The 412 of a change made from a stale read: the current version (its ETag too) and the entries changed since."""
    changed = [{"entityId": k[0], "environment": k[1]} for k in exc.changed[:MOST_LISTED_ERRORS]]
    return Problem(
        412,
        str(exc),
        title="Mapping changed since it was read",
        headers={"ETag": _mapping_etag(exc.current)} if exc.current else None,
        currentVersion=exc.current,
        changedEntries=changed,
    )


def _mapping_errors(change: MappingChange, problems: list[str], production: str) -> list[dict[str, str]]:
    """The reasons a change was refused, shaped as every 422's: a reason about a key given to remove (it names the
    key as "id [environment]") is under `remove`, and so is one about a stored entry the change does not give that
    names an entity removed (a component left under an application retired without it); any other under `entries`
    (a stored component whose application an entry made a component)."""
    removed = tuple(f"{k.entity_id} [{k.environment or production}]: " for k in change.remove)
    removed_ids = tuple(repr(k.entity_id) for k in change.remove)
    given = ("entry ", *(_key_said(entry, production) for entry in change.entries))
    return [
        {
            "parameter": "remove" if _about_removal(p, removed, removed_ids, given) else "entries",
            "in": "body",
            "detail": p,
        }
        for p in problems
    ]


def _key_said(entry: dict[str, Any], production: str) -> str:
    """How a refusal names the key an entry gives: "id [environment]: "."""
    environment = str(entry.get("environment") or "").strip() or production
    return f"{str(entry.get('entity_id') or '').strip()} [{environment}]: "


def _about_removal(
    problem: str, removed: tuple[str, ...], removed_ids: tuple[str, ...], given: tuple[str, ...]
) -> bool:
    """Whether a refusal is put to the keys removed: about one of them, or about a stored entry the change did not
    give that names one of the entities removed (as `'id'`), which the removal left invalid (its application gone)."""
    if not removed or problem.startswith(given):
        return False
    return problem.startswith(removed) or any(said in problem for said in removed_ids)


@router.post(
    "/batch/trigger",
    response_model=TriggerOut,
    status_code=202,
    summary="Start an ingestion or a build",
    responses={**BODY_PROBLEMS, **problem_responses(409, 502, 503)},
)
def trigger(ctx: ContextDep, request: TriggerRequest) -> TriggerOut:
    """Run here (local mode): the answer waits briefly for the run's ids. A run that has already failed by then
    answers a problem naming the failure's kind (`errorKind`): 409 when the lake or the settings are not ready
    (no mapping yet, source not configured, forget holding the lake), 502 when a source failed some of the
    ingestion's datasets (the detail names each with its reason; the others were written), 503 when the lake is
    unreachable. On AWS the run is queued (accepted);
    when its Lambda cannot be invoked the answer is a 502 naming the function (503, with Retry-After when Lambda
    gives one, when Lambda throttles it). `mode` is a build's and `source` an ingestion's: given to the other kind,
    they are a 422.
    """
    # A field of the other kind would be ignored, and the run not be the one asked for.
    if request.kind == "ingest" and "mode" in request.model_fields_set:
        raise invalid(
            "mode",
            "mode is a build's (hourly, daily or full): an ingestion reads on from its watermarks",
            location="body",
        )
    if request.kind == "build" and request.source is not None:
        raise invalid("source", "source is an ingestion's: a build reads every source", location="body")
    started = ctx.trigger.start(request.kind, request.source, request.mode)
    return TriggerOut(
        trigger_id=started.trigger_id,
        kind=started.kind,
        target=started.target,
        status=started.status,  # type: ignore[arg-type]
        run_ids=started.run_ids,
    )


@router.get("/config/sources", response_model=SourcesOut, summary="Each connector: configured, reachable, fresh")
def config_sources(ctx: ContextDep) -> SourcesOut:
    now = datetime.now(UTC)
    marks = Watermarks(ctx.lake)
    first_reads = FirstReads(ctx.lake)
    log = RunLog(ctx.lake)
    # Each source's last run as noted at its start, a read and one per dataset it read: some two dozen reads,
    # however many runs of other sources came since (the 500 newest, some nine hours of them, left a daily one out).
    last_runs = {name: log.last_run(name) for name in (*SOURCES, *FUNCTION_SOURCES)}
    # Read only for a source whose last run was never noted, on a lake whose runs were recorded before they were.
    recent = functools.cache(lambda: log.list(limit=500))
    # A URL without credentials is configured for ingestion elsewhere; the API cannot tell if it answers. The others
    # are probed side by side: one after the other, five hanging sources would outlast the API gateway's 29 s.
    probed = [s for s in SOURCES if getattr(ctx.sources, f"{s}_url", None) and ctx.live.can_probe(s)]
    probes = dict(zip(probed, ctx.live.side_by_side([ctx.live.ask_probe(s) for s in probed]), strict=True))
    items = []
    for source in SOURCES:
        url = getattr(ctx.sources, f"{source}_url", None)
        probe = probes.get(source)
        found = {
            ds.name: marks.get(ds.source, ds.name)
            for ds in REGISTRY.values()
            if ds.source == source and ds.name not in ("rejects", "entities")
        }
        datasets = {name: m.value if m else None for name, m in found.items()}
        read_from = {name: first_reads.get(source, name) for name in found}
        known = [v for name, v in datasets.items() if v is not None and f"{source}/{name}" not in ON_REQUEST]
        oldest = min(known) if known else None
        # A tool of the estate (configured, or read before) was not read by a run of its function that could not
        # start; one the estate does not use was not meant to be.
        in_use = bool(url) or any(found.values())
        own = last_runs[source]
        if own is None and in_use:
            own = [r for r in recent() if r.source == source or _not_started_for(r, source)]
        could_not_start = [r for f in FUNCTION_SOURCES for r in last_runs[f] or () if _not_started_for(r, source)]
        runs = sorted([*(own or ()), *(could_not_start if in_use else ())], key=lambda r: r.started_at, reverse=True)
        # A partial run wrote its data too, its rejects set aside (a GitLab project gone, a malformed record).
        success = next((r.finished_at for r in runs if r.status in ("succeeded", "partial")), None)
        if success is None:
            # Before the last run: a run moves a watermark as it ends, once its data is written, so a source failing
            # since the night still says when it worked.
            success = max((m.updated_at for m in found.values() if m), default=None)
        items.append(
            SourceState(
                name=source,
                configured=bool(url),
                url=without_credentials(url),
                reachable=None if probe is None else probe.error is None,
                authenticated=None if probe is None or probe.error or not probe.value else probe.value["authenticated"],
                probe_error=probe.error if probe else ("no credentials to probe it with" if url else None),
                last_success=success,
                last_run_status=_last_run_status(runs),
                freshness=oldest,
                lag_seconds=round((now - oldest).total_seconds(), 3) if oldest else None,
                datasets=datasets,
                read_from=read_from,
            )
        )
    return SourcesOut(**_envelope(ctx), items=items)


def _not_started_for(run: RunRecord, source: str) -> bool:
    """Whether `run` is a run of a function reading `source` among others that could not start (no dataset)."""
    return run.dataset is None and source in FUNCTION_SOURCES.get(run.source, ())


def _last_run_status(runs: list[RunRecord]) -> RunStatus | None:
    """The status of the source's last run, `runs` newest first. A run writes a record per dataset, one after the
    other, all with its function, trigger and window: the newest record alone is the last dataset's, which said
    "succeeded" while the datasets before it failed. Failed when any of them failed, as the function's own answer
    says, else running while one still runs, else partial when one set records aside."""
    if not runs:
        return None
    newest: dict[str | None, RunStatus] = {}  # per dataset: a window run again (a backfill forced) counts once
    for r in runs:
        if run_of(r) == run_of(runs[0]):
            newest.setdefault(r.dataset, r.status)
    for status in ("failed", "running", "partial"):
        if status in newest.values():
            return status
    return "succeeded"
