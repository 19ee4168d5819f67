"""RFC 9457 problem details: one exception type for our errors, and handlers that turn every error into one."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Iterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from functions.api.json_body import KeyWrittenTwice
from lakehouse.errors import LakeAccessError
from lakehouse.text import valid_text

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("rosetta.api")

TITLES = {
    400: "Bad request",
    401: "Authentication required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Invalid parameter",
    429: "Too many requests",
    500: "Internal error",
    502: "Bad gateway",
    503: "Service unavailable",
}
# What a 503 for a store that failed after its client's retries tells a caller to wait (Retry-After).
STORE_RETRY_AFTER_S = 30


class Problem(Exception):
    """An error with a status, a short title and a detail a caller can act on."""

    def __init__(
        self, status: int, detail: str, *, title: str | None = None, headers: dict[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title or TITLES.get(status, "Error")
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra


def not_found(what: str, ident: str) -> Problem:
    return Problem(404, f"no {what} {ident!r} in the mapping", title=f"Unknown {what}")


def invalid(name: str, detail: str, allowed: list[str] | None = None, *, location: str = "query") -> Problem:
    """A 422 for one parameter, its reason shaped as the request validation's: where it was given (query, path or
    body) too."""
    error = {"parameter": name, "in": location, "detail": detail, **({"allowed": allowed} if allowed else {})}
    return Problem(422, detail, title=f"Invalid {name}", errors=[error])


def too_long(name: str, most: int) -> str:
    return f"{name} is too long: at most {most} characters"


# A body of thousands of rows can hold as many errors: a 422 lists the first ones (as a mapping's own check does),
# since listing each of 20,000 made a 1.5 MB answer, and Lambda answers at most 6 MB.
MOST_LISTED_ERRORS = 200


def problem_response(
    request: Request, status: int, title: str, detail: str, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    instance = request_path(request)
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, "instance": instance}
    body.update(extra)
    # A reason may quote what the client sent, half a character (a lone surrogate) included: UTF-8 cannot hold it.
    return JSONResponse(valid_text(body), status_code=status, media_type=PROBLEM_JSON, headers=headers)


def request_path(request: Request) -> str:
    """The request's path, as request.url.path gives it (?, # and \\ escaped), read from the scope alone: request.url
    decodes the query string as UTF-8 too, and a raw byte that is none (?period=\\xff) failed the answer itself."""
    return request.scope["path"].replace("?", "%3F").replace("#", "%23").replace("\\", "%5C")


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        where = loc[0] if loc else "request"
        name = ".".join(loc[1:]) or where
        item: dict[str, Any] = {"parameter": name, "in": where, "detail": str(err.get("msg", "invalid value"))}
        ctx = err.get("ctx") or {}
        if err.get("type") == "json_invalid":
            # Its location is the body and the character where parsing stopped, which is no parameter's name.
            item |= {"parameter": "body", "detail": f"not JSON at position {loc[-1]}: {ctx.get('error', 'invalid')}"}
        if err.get("type") == "string_too_long":
            # Worded as the API's own checks word an id too long (ids.parse_ref): one reason, whatever the route.
            item["detail"] = too_long(name, int(ctx.get("max_length", 0)))
        expected = ctx.get("expected")
        if isinstance(expected, str):
            # pydantic writes literals as "'a', 'b' or 'c'": give them back as a list.
            item["allowed"] = [p.strip().strip("'") for p in expected.replace(" or ", ", ").split(",") if p.strip()]
        out.append(item)
    return out


def answer(request: Request, exc: Problem) -> JSONResponse:
    """The answer to a Problem: a 401 says which scheme to authenticate with."""
    headers = ({"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}) | exc.headers
    return problem_response(request, exc.status, exc.title, exc.detail, headers or None, **exc.extra)


def install(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return answer(request, exc)

    @app.exception_handler(LakeAccessError)
    async def _store_failed(request: Request, exc: LakeAccessError) -> JSONResponse:
        # The store refused or did not answer (throttled, down, a grant missing): the caller may retry, and the
        # operator reads the object and operation in the log. The message names no credential.
        log.error("the lake store failed: %s", exc)
        detail = "the lake store could not be read or written; retry shortly"
        headers = {"Retry-After": str(STORE_RETRY_AFTER_S)}
        return problem_response(request, 503, "Data unavailable", detail, headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _validation_errors(exc)
        listed = errors[:MOST_LISTED_ERRORS]
        parts = [] if len(listed) == len(errors) else [f"{len(errors)} problems, the first {len(listed)} listed"]
        for e in listed:
            allowed = f" (allowed: {', '.join(e['allowed'])})" if e.get("allowed") else ""
            named = e["detail"] if e["detail"].startswith(f"{e['parameter']} ") else f"{e['parameter']}: {e['detail']}"
            parts.append(f"{named}{allowed}")
        # One parameter refused is titled by its name, as the API's own checks title theirs (`invalid`).
        names = {e["parameter"] for e in errors}
        title = f"Invalid {names.pop()}" if len(names) == 1 else "Invalid request"
        return problem_response(request, 422, title, "; ".join(parts)[:2000], errors=listed)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and (why := unreadable_json(exc.__cause__)):
            # FastAPI's 400 "There was an error parsing the body" for JSON that is valid but that Python's reader
            # refuses: the same 422 as a body that is not JSON, saying why.
            error = {"parameter": "body", "in": "body", "detail": why}
            return problem_response(request, 422, "Invalid body", f"body: {why}", errors=[error])
        detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, "Error")
        headers = dict(exc.headers or {})
        if exc.status_code == 405 and (allowed := _allowed_methods(request)):
            headers["Allow"] = ", ".join(allowed)
        return problem_response(request, exc.status_code, TITLES.get(exc.status_code, "Error"), detail, headers)

    # Not an exception handler for Exception: Starlette runs that one outside every middleware, so its 500 would
    # lack the CORS headers, and a browser would show a CORS error instead of the problem.
    app.add_middleware(UnexpectedAsProblem)


def unreadable_json(cause: BaseException | None) -> str | None:
    """Why JSON that parses by its grammar could not be read, or None for another error."""
    if isinstance(cause, RecursionError):
        return "JSON nested too deeply to read"
    if isinstance(cause, KeyWrittenTwice):
        return f"{cause}: which value is meant cannot be told"
    if isinstance(cause, ValueError) and "integer string conversion" in str(cause):
        return f"a number in the JSON has more than {sys.get_int_max_str_digits()} digits"
    return None


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route answers at the request's path: a path may have a route per method (the mappings'
    GET and POST), and Starlette's 405 names only the first route's. HEAD is answered wherever GET is."""
    methods: set[str] = set()
    for route in every_route(request.app.router.routes):
        if isinstance(route, Route) and route.methods and route.matches(request.scope)[0] != Match.NONE:
            methods |= route.methods
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


def every_route(routes: Iterable[BaseRoute]) -> Iterator[BaseRoute]:
    """The routes, those of the included routers among them (FastAPI keeps an included router whole, its routes'
    paths already prefixed)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from every_route(included.routes)
        else:
            yield route


class UnexpectedAsProblem:
    """An error no handler turned into an answer becomes a problem+json 500; the cause goes to the log, never to the
    caller. Installed before the CORS middleware, so inside it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception:
            if started:
                raise  # part of an answer is sent: nothing else can be
            request = Request(scope)
            log.exception("unhandled error", extra={"path": request_path(request)})
            response = problem_response(request, 500, "Internal error", "the server could not answer; see its log")
            await response(scope, receive, send)
