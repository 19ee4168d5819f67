"""Typed dependencies: the app's context, the caller, role checks, a mart cursor, pagination and envelopes."""

from __future__ import annotations

import base64
import binascii
import difflib
import hashlib
import json
import re
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

import duckdb
from fastapi import Depends, Query, Request, Response, Security
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError
from starlette.concurrency import run_in_threadpool
from starlette.routing import Match

import lakehouse
from functions.api.auth import Principal, authenticate, require_admin_role, require_reader
from functions.api.batch import Trigger
from functions.api.ids import Directory
from functions.api.live import LiveSources
from functions.api.mart import EARLIER_RELEASE, ServingMart, Snapshot, unavailable
from functions.api.models import Freshness, SourceRead
from functions.api.problems import Problem, every_route, invalid
from functions.api.settings import ApiSettings
from lakehouse.ingest.config import IngestSettings
from lakehouse.settings import Settings
from lakehouse.storage import Lake

MAX_LIMIT = 500


@dataclass
class Context:
    """Everything a request may need, built once when the app is created."""

    api: ApiSettings
    settings: Settings
    sources: IngestSettings
    lake: Lake
    mart: ServingMart
    live: LiveSources
    trigger: Trigger


# The dependencies are async: FastAPI runs an async dependency in the event loop and a plain one in a worker thread,
# whose hop costs more than their work does (a summary took eleven hops a request). What may wait (the first copy's
# load, the rest of a copy still loading) waits in a worker thread; the routes, which query DuckDB, stay plain.


def context_of(request: Request) -> Context:
    ctx: Context = request.app.state.context
    return ctx


async def get_context(request: Request) -> Context:
    return context_of(request)


ContextDep = Annotated[Context, Depends(get_context)]


# Declared for the OpenAPI document (security schemes); the checks themselves are in auth.py.
API_KEY_SCHEME = APIKeyHeader(name="X-API-Key", auto_error=False, description="API key")
BEARER_SCHEME = HTTPBearer(auto_error=False, description="JWT bearer token")


async def get_principal(
    request: Request,
    ctx: ContextDep,
    _key: Annotated[str | None, Security(API_KEY_SCHEME)] = None,
    _bearer: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER_SCHEME)] = None,
) -> Principal:
    return authenticate(request, ctx.api)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


async def reader(principal: PrincipalDep) -> Principal:
    require_reader(principal)
    return principal


async def require_admin(principal: PrincipalDep) -> Principal:
    require_admin_role(principal)
    return principal


# Each role dependency, and the check it makes.
ROLE_CHECKS: dict[object, Callable[[Principal], None]] = {require_admin: require_admin_role, reader: require_reader}


def caller_refused(request: Request) -> Problem | None:
    """The 401 or 403 the route of `request` gives its caller before it reads a body, judged from the headers alone
    by the route's own checks; None for a caller it lets through, and for a route needing no credential (health, the
    docs) or a request no route answers."""
    checks = _route_dependencies(request)
    if get_principal not in checks:
        return None
    try:
        principal = authenticate(request, context_of(request).api)
        for dependency, role_check in ROLE_CHECKS.items():
            if dependency in checks:
                role_check(principal)
    except Problem as refused:
        return refused
    return None


def _route_dependencies(request: Request) -> set[object]:
    """The dependencies (their callables) of the route answering `request`, its router's among them; none when no
    route answers its path and method."""
    for route in every_route(request.app.router.routes):
        if isinstance(route, APIRoute) and route.matches(request.scope)[0] == Match.FULL:
            calls: set[object] = set()
            pending: list[Dependant] = [route.dependant]
            while pending:
                dependant = pending.pop()
                pending.extend(dependant.dependencies)
                calls.add(dependant.call)
            return calls
    return set()


async def one_value_each(request: Request) -> None:
    """A 422 for a one-valued query parameter given more than once (`period=last_7d&period=last_30d`), which
    would otherwise be read as its last value. Lists, and parameters the route does not read, may repeat."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    query = request.query_params
    errors = [
        {"parameter": name, "in": "query", "detail": f"given {count} times; give it once"}
        for name in sorted(_one_valued(route))
        if (count := len(query.getlist(name))) > 1
    ]
    if errors:
        detail = "; ".join(f"{e['parameter']}: {e['detail']}" for e in errors)
        raise Problem(422, detail, title="Repeated parameter", errors=errors)


# Offset paging's parameters, and the names other APIs give a cursor (folded), which a route paged by cursor would
# ignore: every "next" page asked for so would be the first one again.
PAGING_ELSEWHERE = ("offset", "page", "after", "startingafter", "pagetoken", "nexttoken", "nextcursor")
# Names a route's parameter goes by elsewhere (folded): a period's two names, the logs link's timeRange (Kibana's) and
# the other routes' period, each the other's slip; ServiceNow's `state` for status (of incidents, changes, runs).
OTHER_NAMES = {"period": "timeRange", "timerange": "period", "state": "status"}


async def no_misnamed_parameters(request: Request) -> None:
    """A 422 for a query parameter the route reads written another way (`group_by` or `groupby` for groupBy, `start`
    for from, `period` for the logs link's timeRange, `state` for status) or misspelt (`enviroment`, `metrics`), or for
    an offset or another API's cursor (`after`, `pageToken`) on a route paged by cursor, which would be ignored: the
    answer would be the default's, looking like the one asked for. Other names the route does not read are left alone
    (a cache buster's `_`, another route's `groupBy`)."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    params = _query_parameters(route)
    read = {alias for _, alias, _ in params}
    meant = {_folded(spelling): alias for name, alias, _ in params for spelling in (name, alias)}
    meant |= {given: other for given, other in OTHER_NAMES.items() if other in read and given not in meant}
    errors = [
        {"parameter": name, "in": "query", "detail": f"{name} is not a parameter of this route: {alias} is"}
        for name in dict.fromkeys(request.query_params.keys())
        if name not in read and (alias := meant.get(_folded(name)) or _misspelt(name, meant))
    ]
    errors += [
        {
            "parameter": name,
            "in": "query",
            "detail": f"{name} is not a parameter of this route, which pages by cursor: give the previous page's "
            "page.nextCursor as cursor",
        }
        for name in dict.fromkeys(request.query_params.keys())
        if "cursor" in read and _folded(name) in PAGING_ELSEWHERE
    ]
    if errors:
        detail = "; ".join(e["detail"] for e in errors)
        raise Problem(422, detail, title="Unknown parameter", errors=errors)


def _misspelt(name: str, meant: dict[str, str]) -> str | None:
    """The parameter a name is a slip of the keyboard for: one letter left out, added, replaced or doubled, or two
    swapped (`enviroment` for environment, `metrics` for metric, `metirc`), else None. Two slips are another word
    (`groupBy`, a parameter of other routes, is not `group`; ServiceNow's `state` is not `start`), and a short name
    (a cache buster's `t`) is close to anything, so it must be as close by difflib's ratio too (0.8 or more)."""
    given = _folded(name)
    close = difflib.get_close_matches(given, list(meant), n=3, cutoff=0.8)
    return next((meant[word] for word in close if _one_slip_apart(given, word)), None)


def _one_slip_apart(given: str, word: str) -> bool:
    """Whether `given` is `word` with one letter left out, added or replaced, or two letters side by side swapped."""
    longer, shorter = (given, word) if len(given) >= len(word) else (word, given)
    if len(longer) - len(shorter) == 1:
        return any(longer[:i] + longer[i + 1 :] == shorter for i in range(len(longer)))
    if len(longer) != len(shorter):
        return False
    differ = [i for i, (a, b) in enumerate(zip(given, word, strict=True)) if a != b]
    swapped = len(differ) == 2 and differ[1] == differ[0] + 1 and given[differ[0]] == word[differ[1]]
    return len(differ) == 1 or (swapped and given[differ[1]] == word[differ[0]])


def _folded(name: str) -> str:
    return name.lower().replace("_", "").replace("-", "")


def _query_parameters(route: APIRoute) -> list[tuple[str, str, object]]:
    """The query parameters the route and its dependencies read: (name in Python, name in the query, annotation)."""
    params: list[tuple[str, str, object]] = []
    pending: list[Dependant] = [route.dependant]
    while pending:
        dependant = pending.pop()
        pending.extend(dependant.dependencies)
        params.extend((f.name, f.alias, f.field_info.annotation) for f in dependant.query_params)
    return params


def _one_valued(route: APIRoute) -> set[str]:
    """The query parameters the route and its dependencies read as one value, as FastAPI tells them from lists."""
    return {alias for _, alias, annotation in _query_parameters(route) if not _is_list(annotation)}


def _is_list(annotation: object) -> bool:
    """A parameter FastAPI reads as several values: a list, tuple or set, possibly optional."""
    origin = get_origin(annotation)
    if origin in (Union, UnionType):
        return any(_is_list(arg) for arg in get_args(annotation))
    return (origin or annotation) in (list, tuple, set, frozenset)


@dataclass
class Mart:
    snap: Snapshot
    con: duckdb.DuckDBPyConnection
    # The mapping the request took with its copy: read it here, never again from the copy (see get_directory).
    directory: Directory


async def get_snapshot(ctx: ContextDep) -> Snapshot:
    """The copy a request answers from, taken once: its ETag, its freshness and its figures are then of one build
    even when the next build is swapped in while it runs (FastAPI gives every dependency of the request this one).
    The first copy's load may keep a request waiting: that wait is a worker thread's, not the event loop's."""
    in_service = ctx.mart.in_service()
    return in_service if in_service is not None else await run_in_threadpool(ctx.mart.snapshot)


SnapshotDep = Annotated[Snapshot, Depends(get_snapshot)]


async def get_directory(snap: SnapshotDep) -> Directory:
    """The mapping a request resolves ids and reads pivots with, taken once beside its copy: a mapping change swaps
    the copy's mapping in place, and a request reading it twice would resolve its entity under one version and answer
    its components, Kibana index, ArgoCD applications, ETag and mappingVersion under the next."""
    return snap.directory


DirectoryDep = Annotated[Directory, Depends(get_directory)]


@asynccontextmanager
async def _mart(ctx: Context, taken: Snapshot, directory: Directory, *, complete: bool) -> AsyncIterator[Mart]:
    if complete and not taken.complete.is_set():
        # The rest of a copy still loading is waited for in a worker thread; the cursor is then taken at once.
        await run_in_threadpool(ctx.mart.await_complete, taken)
    with ctx.mart.cursor(taken, complete=complete, waited=True) as (snap, con):
        try:
            yield Mart(snap, con, directory)
        except duckdb.CatalogException:
            if snap.load_failed:
                # It is loaded again at the next check for a new build.
                raise unavailable(
                    "the mart copy could not be loaded whole; retrying shortly", ctx.mart.api.mart_check_interval_s
                ) from None
            if snap.built_by_other_sql:
                # A table this release adds: the next build writes it.
                raise unavailable(EARLIER_RELEASE, ctx.mart.api.mart_check_interval_s) from None
            raise Problem(503, "a mart table this answer needs has not been built yet", title="No data yet") from None
        except duckdb.BinderException:
            if not snap.built_by_other_sql:
                raise  # this release's own mart lacks the column: a defect, answered 500 and logged
            # An earlier release's SQL wrote the mart: the next build writes the column.
            raise unavailable(EARLIER_RELEASE, ctx.mart.api.mart_check_interval_s) from None


async def get_mart(ctx: ContextDep, snap: SnapshotDep, directory: DirectoryDep) -> AsyncIterator[Mart]:
    async with _mart(ctx, snap, directory, complete=True) as mart:
        yield mart


async def get_summary_mart(ctx: ContextDep, snap: SnapshotDep, directory: DirectoryDep) -> AsyncIterator[Mart]:
    """For the summary routes: they read only mart.SUMMARY_TABLES, so they answer before the rest is loaded."""
    async with _mart(ctx, snap, directory, complete=False) as mart:
        yield mart


MartDep = Annotated[Mart, Depends(get_mart)]
SummaryMartDep = Annotated[Mart, Depends(get_summary_mart)]


# --- caching -----------------------------------------------------------------------------------------------------
# A historized answer changes only with the serving copy (a build, hourly at most, or a mapping change). The caller's
# own cache may keep it a minute, then ask again with its ETag (a 304 until the copy changes): a minute bounds how long
# a new build may go unseen, while a page's cards asking for the same answer make one request. Private: the answer
# needs a credential (an X-API-Key is no Authorization header, which alone keeps a shared cache from storing it).
# Everything else (admin, live, logs links, errors) is no-store (main.NoStoreByDefault).
HISTORIZED_CACHE = "private, max-age=60"


def code_version(*folders: Path) -> str:
    """A digest of the code under `folders` (its .py and .sql files): a release that changes an answer of the same
    build changes it."""
    digest = hashlib.sha256()
    for folder in folders:
        for path in sorted(p for p in folder.rglob("*") if p.suffix in (".py", ".sql")):
            digest.update(path.relative_to(folder).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


# The API's source, and the lakehouse's: a report over from/to runs the build's own SQL at request time, and ids and
# logs queries go through the mapping's code.
CODE_VERSION = code_version(Path(__file__).parent, Path(lakehouse.__file__).parent)


def copy_etag(snap: Snapshot, directory: Directory | None = None, links: tuple[str | None, ...] = (None, None)) -> str:
    """A weak ETag of the serving copy, which every historized answer is read from (an answer's body differs by its
    generatedAt, never by its figures): its build and the objects it listed; of the code that answers, of the
    production environment a request naming none reads (ROSETTA_PRODUCTION_ENVIRONMENT, which an operator may change
    before the next build), and of the base URLs the listed records' links are made from (`links`, see
    record_links). `directory`: the mapping the request took (by default the copy's now)."""
    directory = snap.directory if directory is None else directory
    copy = f"{snap.marker}|{snap.objects}|{directory.version}|{directory.production}|{CODE_VERSION}|{links}"
    return f'W/"{hashlib.sha256(copy.encode()).hexdigest()[:24]}"'


def _held(if_none_match: str | None, etag: str) -> bool:
    """Whether If-None-Match names the ETag, compared weakly, or is `*`, which any current answer matches (RFC 9110
    13.1.2): only a route that answered 200 is asked, so a refused request still gets its problem."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    return etag.removeprefix("W/") in {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}


def record_links(ctx: Context) -> tuple[str | None, ...]:
    """The base URLs the listed records' `url` are made from: an operator changing one changes answers before the
    next build, so the ETag names them."""
    return (ctx.api.servicenow_url, ctx.api.argocd_url)


async def historized(ctx: ContextDep, response: Response, snap: SnapshotDep, directory: DirectoryDep) -> None:
    """For a route answered from the mart alone: the caching headers of the copy and mapping the request took. Its
    route class (RevalidatedRoute) answers 304 when the caller holds that ETag; an error raised later gets no-store
    instead."""
    _historize(ctx, response, snap, directory)


def _historize(ctx: Context, response: Response, snap: Snapshot, directory: Directory) -> None:
    if not snap.build:
        return  # nothing built: the route answers 503
    etag = copy_etag(snap, directory, record_links(ctx))
    response.headers.update({"Cache-Control": HISTORIZED_CACHE, "ETag": etag})


async def historized_unless_live(
    ctx: ContextDep, request: Request, response: Response, snap: SnapshotDep, directory: DirectoryDep
) -> None:
    """`historized` for the deployments, whose live mode reads the sources now (no-store)."""
    if request.query_params.get("mode") != "live":
        _historize(ctx, response, snap, directory)


class RevalidatedRoute(APIRoute):
    """A route whose 200 the caller's cache revalidates: a 304 without the body when If-None-Match names the ETag the
    answer carries (deps.historized). Decided once the route has answered 200: the ETag names the serving copy, the
    same for every URL, so a request the route refuses (a parameter, an unknown entity, a cursor) gets its problem
    whatever ETag it sends."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def revalidated(request: Request) -> Response:
            response = await handle(request)
            etag = response.headers.get("etag")
            if response.status_code != 200 or not etag or not _held(request.headers.get("if-none-match"), etag):
                return response
            return Response(status_code=304, headers={"ETag": etag, "Cache-Control": response.headers["cache-control"]})

        return revalidated


# The OpenAPI entry of a historized route's 304 (RevalidatedRoute).
NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified: If-None-Match names this answer's ETag, or is * (no body)"}
}


def anchor(mart: Mart) -> datetime:
    """'Now' for historized figures: the build's as_of, so answers agree with the data they come from."""
    return mart.snap.as_of or datetime.now(UTC)


def envelope(snap: Snapshot, directory: Directory) -> dict[str, Any]:
    """The answer's generatedAt and freshness: the build it was read from, and the mapping version it resolved ids
    with (`directory`, the one the request took) beside the one the build attributed the figures with."""
    now = datetime.now(UTC)
    build = snap.build
    as_of = snap.as_of
    started = build.get("started_at")
    return {
        "generated_at": now,
        "freshness": Freshness(
            as_of=as_of,
            built_at=datetime.fromisoformat(started) if started else None,
            build_run_id=build.get("run_id"),
            mapping_version=directory.version,
            build_mapping_version=build.get("mapping_version"),
            lag_seconds=round((now - as_of).total_seconds(), 3) if as_of else None,
            sources=[
                SourceRead(
                    dataset=dataset,
                    read_until=mark,
                    behind_seconds=max((as_of - mark).total_seconds(), 0.0) if as_of else 0.0,
                )
                for dataset, mark in snap.sources_read
            ],
        ),
    }


# --- ranges ---------------------------------------------------------------------------------------------------
# A range is half-open, [from, to), in UTC.
FromParam = Annotated[
    str | None,
    Query(
        alias="from",
        max_length=40,
        description="Start of the range, included: an ISO 8601 date (its 00:00 UTC) or date-time (UTC unless it "
        "carries an offset, e.g. 2026-11-01T00:00:00+01:00).",
    ),
]
ToParam = Annotated[
    str | None,
    Query(
        alias="to",
        max_length=40,
        description="End of the range, excluded (from=2026-11-01&to=2026-12-01 is November): a date or date-time "
        "as from takes. Without it the range ends at the build's as-of (a logs link's, now).",
    ),
]


# --- numbers in the query ------------------------------------------------------------------------------------
DIGITS = re.compile(r"-?[0-9]{1,18}")


def _written_in_digits(value: Any) -> Any:
    """A number in the query is ASCII digits: read as Python reads a number, `5_0`, `+5` and ` 5 ` were 50 and 5. A
    minus sign is kept, so that a negative number is refused by the parameter's bound, which says what it takes."""
    if isinstance(value, str) and not DIGITS.fullmatch(value):
        raise PydanticCustomError(
            "int_parsing", "Input should be a valid integer, unable to parse string as an integer"
        )
    return value


# After the Query of every whole number a route takes in its query (before it, the document loses the bounds).
Digits = BeforeValidator(_written_in_digits)

# --- pagination -----------------------------------------------------------------------------------------------
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page."), Digits]
CursorParam = Annotated[str | None, Query(max_length=512, description="`nextCursor` of the previous page.")]


# --- environment ----------------------------------------------------------------------------------------------
def _without_surrounding_spaces(value: Any) -> Any:
    """An environment pasted with a space around it (` production`, from a dashboard variable or a link) names the
    environment; one of spaces alone is as empty as `environment=`, a 422."""
    return value.strip() if isinstance(value, str) else value


# No pattern: a name the mapping cannot hold (PRODUCTION, review/feature-x) gets the 404 naming the mapping's
# environments, which says more than a pattern would; the directory compares it without case.
Environment = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=63,
        description="Mapping environment, compared without case (PRODUCTION is production); a 404 naming the "
        "mapping's environments for one no entry is mapped in. Without it, the estate's production environment "
        "(ROSETTA_PRODUCTION_ENVIRONMENT, production unless set).",
    ),
    BeforeValidator(_without_surrounding_spaces),
]


# The range of a BIGINT, the type of every number a cursor carries (a merge request's id, a place in a ranking).
BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1
# Enough of the objects' digest to tell two copies of one build apart, and a cursor stays short.
COPY_DIGEST_CHARS = 12


def encode_cursor(*values: Any) -> str:
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(plain, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(text: str | None, kinds: tuple[type, ...]) -> tuple[Any, ...] | None:
    """The values a cursor carries, typed as `kinds` (datetime, int or str); a 422 for anything else."""
    if text is None:
        return None
    try:
        raw = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        if not isinstance(raw, list) or len(raw) != len(kinds):
            raise ValueError("shape")
        out: list[Any] = []
        for value, kind in zip(raw, kinds, strict=True):
            if isinstance(value, str):
                # JSON may hold a lone surrogate ("\ud800"), no character: no query could bind it (a 500).
                value.encode("utf-8")  # a UnicodeEncodeError, a ValueError, if so
            if kind is datetime:
                moment = datetime.fromisoformat(str(value))
                out.append(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
            elif isinstance(value, bool) or not isinstance(value, kind):  # a JSON true is no number
                raise ValueError("type")
            elif isinstance(value, int) and not BIGINT_MIN <= value <= BIGINT_MAX:
                # Every number a cursor carries is a BIGINT of the mart: a larger one was written by hand, and DuckDB
                # cannot bind one past 128 bits (a 500).
                raise ValueError("range")
            else:
                out.append(value)
        return tuple(out)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, json.JSONDecodeError):
        raise invalid("cursor", "cursor is not one this API gave out; start again without it") from None


def next_cursor(mart: Mart, listed: tuple[Any, ...], items: list[dict[str, Any]], limit: int, *keys: str) -> str | None:
    if len(items) <= limit:
        return None
    last = items[limit - 1]
    return build_cursor(mart, listed, *(last[k] for k in keys))


# A page of the mart is read after its cursor's row in the copy that gave the cursor: its build, the objects it listed
# (a copy loaded again under the same build, from what a stopped build left, holds other rows) and its mapping version
# (which says what a report measures and which applications a team has). Read in another copy, rows may have moved
# across that row (an incident closed since, a report's ranking): counted twice, or never. The cursor also names the
# list it pages (`listed`: the route's resolved scope, filters and period), so that it never starts the page of
# another list silently.
def build_cursor(mart: Mart, listed: tuple[Any, ...], *values: Any) -> str:
    """The cursor of the page after `values` of the list `listed`, naming the copy the page was read from."""
    return encode_cursor(*_copy_of(mart), _list_digest(listed), *values)


def decode_build_cursor(
    mart: Mart, listed: tuple[Any, ...], text: str | None, kinds: tuple[type, ...]
) -> tuple[Any, ...] | None:
    """The values of a cursor `build_cursor` gave for `listed` (a 422 for anything else, a cursor of another list
    too); a 409 when it is of another copy (build, objects or mapping version) than the one now served, whose pages
    would not follow on from the cursor's."""
    found = decode_cursor(text, (str, str, str, *kinds))
    if found is None:
        return None
    (given_copy, given_mapping), (served_copy, served_mapping) = found[:2], _copy_of(mart)
    given_build, served_build = given_copy.partition("@")[0], served_copy.partition("@")[0]
    if given_build != served_build:
        raise Problem(
            409,
            f"this cursor is of build {given_build}, and build {served_build} is served since: its rows may have "
            "moved between pages; start again without it",
            title="New build served",
        )
    if given_copy != served_copy:
        raise Problem(
            409,
            f"this cursor is of another copy of build {served_build}, loaded again since from other objects (which a "
            "build stopped before its state left): its rows may have moved between pages; start again without it",
            title="New copy served",
        )
    if given_mapping != served_mapping:
        raise Problem(
            409,
            f"this cursor is of mapping version {given_mapping}, and version {served_mapping} is served since: its "
            "rows may have moved between pages; start again without it",
            title="New mapping served",
        )
    # Checked after the copy: a period ending at the build's as-of is another one in the next build.
    if found[2] != _list_digest(listed):
        raise invalid(
            "cursor",
            "cursor is of another list (another route, filter, period or environment than this request's): start "
            "again without it, or give the parameters of the page it came from",
        )
    return found[3:]


def _copy_of(mart: Mart) -> tuple[str, str]:
    """The copy a page is read from, as `build@objects` (a short digest of the objects it listed, which its ETag
    has too), and the mapping version. One value for both keeps the cursor's shape of before the objects were in it:
    a cursor given out then is a 409 (start again), not a 422."""
    objects = (mart.snap.objects or "")[:COPY_DIGEST_CHARS]
    return f"{mart.snap.build.get('run_id')}@{objects}", str(mart.directory.version)


def _list_digest(listed: tuple[Any, ...]) -> str:
    """A short digest of what a list is: the cursor carries it, not the filters themselves (kept short and opaque)."""
    text = json.dumps([str(part) for part in listed], separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]
