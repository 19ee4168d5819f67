"""The API application: `create_app(...)` for uvicorn and tests, and `handler` for Lambda (Mangum, built lazily)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from aws_lambda_powertools import Logger
from fastapi import FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from functions.api import mart, problems
from functions.api.batch import Trigger
from functions.api.deps import Context, caller_refused
from functions.api.gateway import request_event
from functions.api.live import LiveSources
from functions.api.mart import ServingMart
from functions.api.models import Health
from functions.api.routers import admin, sre, user
from functions.api.settings import ApiSettings
from functions.json_logs import in_lambda, plain_loggers_as_json
from lakehouse.deadline import answering_by
from lakehouse.errors import RosettaError
from lakehouse.ingest.config import IngestSettings
from lakehouse.settings import Settings
from lakehouse.storage import Lake

log = logging.getLogger("rosetta.api")

VERSION = "1.0.0"
DESCRIPTION = """Observability and delivery KPIs per application, component, team, group and domain, served from the
Rosetta Monitoring lakehouse. Every route but `/monitoring/health` needs an API key (`{key_header}`) or a bearer
JWT; `/monitoring/admin/*` needs the admin role. Errors are `application/problem+json` (RFC 9457).
Ids accept plain entity ids or Backstage refs (`component:default/payments-api`, `system:default/payments`).
Answers read from the mart carry `Cache-Control: private, max-age=60` and a weak ETag of the serving copy and the API's
code: asked again with `If-None-Match`, they are a 304 until a new build, mapping change or release is served. Admin
answers, live deployments, logs links and errors are `no-store`."""

# CORS, beside the API key's header: a page's script revalidates a historized answer by the ETag it read
# (deps.historized), and reads when to ask again after a 503 (Retry-After). On AWS the gateway answers CORS in the
# app's stead: its cors_configuration (infra/terraform/modules/api) allows and exposes these too (infra/check.py).
CORS_ALLOW_HEADERS = ("Authorization", "Content-Type", "If-Match", "If-None-Match")
CORS_EXPOSE_HEADERS = ("ETag", "Retry-After")
MIB = 1024 * 1024


def create_app(
    api: ApiSettings | None = None,
    settings: Settings | None = None,
    sources: IngestSettings | None = None,
    *,
    trigger: Trigger | None = None,
) -> FastAPI:
    """Everything is built here, from the environment unless given: nothing happens at import."""
    api = api or ApiSettings()
    settings = settings or Settings()
    sources = sources or _live_sources()
    # The API makes no lake: `serve` refuses a missing folder, and the contract is printed without one.
    lake = Lake.from_settings(settings, create=False, missing_is_empty=True)
    live = LiveSources(api, sources)
    context = Context(
        api=api,
        settings=settings,
        sources=sources,
        lake=lake,
        mart=ServingMart(lake, settings, api),
        live=live,
        trigger=trigger or Trigger(api, settings, lake),
    )

    # /docs and /openapi.json answer without a credential: the contract is public (committed as docs/openapi.json)
    # and built from the code, never from the settings but the API key's header, which is no secret; on AWS, API
    # Gateway routes only /monitoring/*.
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        live.open()
        yield
        live.close()

    app = FastAPI(
        lifespan=lifespan,
        title="Rosetta Monitoring API",
        version=VERSION,
        description=DESCRIPTION.format(key_header=api.api_key_header),
        docs_url="/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.context = context
    _document_key_header(app, api.api_key_header)
    problems.install(app)
    # Inside the CORS middleware, so that a browser reads the 413 rather than a CORS error.
    app.add_middleware(BodyWithinLimit, max_bytes=api.max_body_mb * MIB)
    if api.cors_origins:
        app.add_middleware(
            RefusedPreflightAsProblem,
            allow_origins=api.cors_origins,
            # HEAD too: every GET route answers it, and a page sending the API key asks for it by a preflight.
            allow_methods=["GET", "HEAD", "POST"],
            allow_headers=[*CORS_ALLOW_HEADERS, api.api_key_header],
            expose_headers=list(CORS_EXPOSE_HEADERS),
            max_age=600,
        )
    app.add_middleware(HeadAsGet)
    app.add_middleware(NoStoreByDefault)
    app.add_middleware(StoreCallsEndInTime)

    @app.get("/monitoring/health", response_model=Health, tags=["health"], summary="Liveness (no credential)")
    def health() -> Health:
        # Unauthenticated on purpose: load balancers and uptime checks call it, and it reveals nothing.
        return Health(status="ok", version=VERSION)

    app.include_router(user.router)
    app.include_router(sre.router)
    app.include_router(admin.router)
    return app


def _document_key_header(app: FastAPI, header: str) -> None:
    """The document names the header auth.py reads the API key from: the security scheme is declared once, at import
    (deps.API_KEY_SCHEME), with the default header."""
    build_document = app.openapi

    def openapi() -> dict[str, Any]:
        first = app.openapi_schema is None
        document = build_document()  # built once, then kept by FastAPI
        if first:
            for scheme in document.get("components", {}).get("securitySchemes", {}).values():
                if scheme.get("type") == "apiKey":
                    scheme["name"] = header
        return document

    app.openapi = openapi  # type: ignore[method-assign]


class RefusedPreflightAsProblem(CORSMiddleware):
    """CORS as Starlette's, but a refused preflight is a problem+json 400 naming what was refused, as every other error
    of the API: Starlette answers it as text/plain ("Disallowed CORS origin")."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope) if scope["type"] == "http" else None
        if (
            headers is None
            or scope["method"] != "OPTIONS"
            or "origin" not in headers
            or "access-control-request-method" not in headers
        ):
            await super().__call__(scope, receive, send)
            return
        response = self.preflight_response(request_headers=headers)
        if response.status_code == 400:
            response = self._refused(Request(scope), response)
        await response(scope, receive, send)

    def _refused(self, request: Request, refused: Response) -> Response:
        what = bytes(refused.body).decode().removeprefix("Disallowed CORS ").split(", ")
        allowed = {
            "origin": "set by ROSETTA_API_CORS_ORIGINS",
            "method": f"methods: {', '.join(self.allow_methods)}",
            "headers": f"headers: {', '.join(sorted(self.allow_headers))}",
            "private-network": "no private network access",
        }
        detail = (
            f"this cross-origin request is not allowed: its {', '.join(what)} {'is' if len(what) == 1 else 'are'} not "
            f"among those the API answers ({'; '.join(allowed.get(w, w) for w in what)})"
        )
        # The CORS headers Starlette set stay (Vary, and the origin when only the method or a header was refused).
        kept = {k: v for k, v in refused.headers.items() if k.startswith("access-control-") or k == "vary"}
        return problems.problem_response(request, 400, "CORS preflight refused", detail, kept)


class BodyWithinLimit:
    """A request body over the limit is a 413 before it is read whole: Starlette gathers a body in memory before any
    check can look at it. Refused by its Content-Length when it gives one, else once the bytes received pass the
    limit (a chunked upload; Mangum hands a Lambda event's body over in one piece). A caller the route refuses gets
    the route's 401 or 403 instead, judged from the headers: the limit is told only to those it would read a body for
    (the routes check the caller before they read one, see admin.AdminRoute)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isascii() and declared.isdecimal() and int(declared) > self.max_bytes:
            request = Request(scope)
            response = problems.answer(request, caller_refused(request) or self._too_large())
            await response(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # Raised where the route reads the body: the app's Problem handler answers it.
                    raise self._too_large()
            return message

        await self.app(scope, counted, send)

    def _too_large(self) -> problems.Problem:
        limit = f"{self.max_bytes / MIB:g} MiB"
        detail = f"the request body is over {limit}, the most the API reads (ROSETTA_API_MAX_BODY_MB)"
        return problems.Problem(413, f"{detail}: send a mapping change in several parts")


class NoStoreByDefault:
    """Cache-Control: no-store on every answer that sets none: admin answers, live ones, logs links and errors are
    never kept by a cache (the historized routes set their own, deps.historized)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_policy(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, with_policy)


class StoreCallsEndInTime:
    """The lake's store calls a request makes end in the time a route waits (mart.LOAD_WAIT_S, under API Gateway's
    29 s): a store that takes the connection and never answers, or throttles every try, fails the request with a 503
    in time, rather than the gateway's bare 504."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with answering_by(datetime.now(UTC) + timedelta(seconds=mart.LOAD_WAIT_S)):
            await self.app(scope, receive, send)


class HeadAsGet:
    """HEAD answered as GET without the body: a server answers HEAD wherever it answers GET (RFC 9110), and uptime
    checks and `curl -I` ask with it, which FastAPI's routes would answer with a 405."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            # The headers stay as GET's, Content-Length included, as HEAD's must.
            await send({**message, "body": b""} if message["type"] == "http.response.body" else message)

        await self.app({**scope, "method": "GET"}, receive, without_body)


def _live_sources() -> IngestSettings:
    """Source settings for live mode, with the secrets given by reference (`*_SECRET_ARN`, `*_PARAMETER`) fetched
    once, as the ingestion functions fetch them. A secret that cannot be read leaves live mode unconfigured (the
    reason is logged, never the value) rather than keeping the API from serving the lake."""
    sources = IngestSettings()
    try:
        return sources.resolved()
    except RosettaError as exc:
        log.warning("live mode runs without the source secrets: %s", exc)
        return sources


_handler: Any = None
# In Lambda the app's lines are JSON, each with the API Gateway request id the gateway's access log line carries.
# Built there only: a Powertools logger drops the records of loggers named like its service ("rosetta.api") from the
# root logger's handlers of the moment, which elsewhere are the process's own (uvicorn's, a test's).
lambda_logger = Logger(service="api") if in_lambda() else None
if lambda_logger is not None:
    plain_loggers_as_json(lambda_logger)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry (API Gateway HTTP API v2 and REST API v1). The app and its mart copy live while warm."""
    global _handler
    # Refused before the app is built: the function invoked by hand with something else has no request to answer.
    event = request_event(event)
    _log_keys(event, context)
    if _handler is None:
        from mangum import Mangum
        from mangum.adapter import DEFAULT_TEXT_MIME_TYPES

        # Errors are problem+json, which Mangum would send base64-encoded (a REST API passes that on as it is).
        text_types = [*DEFAULT_TEXT_MIME_TYPES, problems.PROBLEM_JSON]
        _handler = Mangum(create_app(), lifespan="off", api_gateway_base_path="/", text_mime_types=text_types)
    result: dict[str, Any] = _handler(event, context)
    return _not_modified_without_content(result)


def _log_keys(event: dict[str, Any], context: Any) -> None:
    """The ids this request's log lines are found by: the gateway's request id, which its access log line carries,
    and Lambda's. Set on each request, so that a warm function never logs under the previous request's ids."""
    if lambda_logger is None:
        return
    request = event.get("requestContext")
    lambda_logger.set_correlation_id(request.get("requestId") if isinstance(request, dict) else None)
    lambda_logger.append_keys(function_request_id=getattr(context, "aws_request_id", None))


# What would describe a body (RFC 9110 15.4.5): a 304 has none, and Mangum gives an HTTP API answer a content-type
# by default. A cache that took it would replace the stored answer's content-type with it.
CONTENT_HEADERS = frozenset({"content-type", "content-length", "content-encoding", "content-language"})


def _not_modified_without_content(result: dict[str, Any]) -> dict[str, Any]:
    """A 304 as RFC 9110 allows it: its ETag, Cache-Control and Vary, no body and no header describing one."""
    if result.get("statusCode") != 304:
        return result
    kept = {}
    for name in ("headers", "multiValueHeaders"):
        if isinstance(result.get(name), dict):
            kept[name] = {k: v for k, v in result[name].items() if k.lower() not in CONTENT_HEADERS}
    return {**result, **kept, "body": "", "isBase64Encoded": False}
