"""Kibana simulator: just enough for Discover links (the /app/discover base) and a status answer, in the default
space and in any other (/s/{space}/...)."""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from simulators import hashing
from simulators.estate import Estate
from simulators.web import basic_credentials, json_response, scheme_token

VERSION = "8.15.0"
# A space's routes: Kibana serves every app and API of a space under /s/{space id}.
SPACE_PREFIX = re.compile(r"^/s/[a-z0-9_-]+(?=/)")


class KibanaSimulator:
    def __init__(self, estate: Estate, user: str, password: str, api_key: str) -> None:
        self.estate = estate
        self.user = user
        self.password = password
        self.api_key = api_key
        self.app = self._build_app()

    def data_view_id(self, app_id: str) -> str:
        return hashing.stable_uuid("data-view", self.estate.seed, app_id)

    def _build_app(self) -> FastAPI:
        app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

        @app.middleware("http")
        async def authenticate(request: Request, call_next: Any) -> Response:
            # The Discover page is a browser route: unauthenticated users get the app shell (then a login).
            allowed = (
                SPACE_PREFIX.sub("", request.url.path).startswith("/app/")
                or basic_credentials(request) == (self.user, self.password)
                or scheme_token(request, "ApiKey") == self.api_key
            )
            if not allowed:
                return json_response(
                    {
                        "statusCode": 401,
                        "error": "Unauthorized",
                        "message": "[security_exception]: missing authentication credentials",
                    },
                    status=401,
                )
            response: Response = await call_next(request)
            return response

        for prefix in ("", "/s/{space}"):
            app.add_api_route(f"{prefix}/api/status", self.status, methods=["GET"])
            app.add_api_route(f"{prefix}/api/data_views", self.data_views, methods=["GET"])
            app.add_api_route(f"{prefix}/app/discover", self.discover, methods=["GET"])
        return app

    async def status(self) -> Response:
        return json_response(
            {
                "name": "kibana-sim",
                "uuid": hashing.stable_uuid("kibana", self.estate.seed),
                "version": {
                    "number": VERSION,
                    "build_hash": hashing.hex_id(40, "kibana-build"),
                    "build_number": 76000,
                    "build_snapshot": False,
                },
                "status": {
                    "overall": {"level": "available", "summary": "All services and plugins are available"},
                    "core": {
                        "elasticsearch": {"level": "available", "summary": "Elasticsearch is available"},
                        "savedObjects": {
                            "level": "available",
                            "summary": "SavedObjects service has completed migrations and is available",
                        },
                    },
                    "plugins": {},
                },
            }
        )

    async def data_views(self) -> Response:
        views = [
            {
                "id": self.data_view_id(a.id),
                # Shared to every space, as Kibana writes it: each space lists them.
                "namespaces": ["*"],
                "title": f"logs-{a.id}-*",
                "name": f"{a.title} logs",
            }
            for a in self.estate.applications
        ]
        return json_response({"data_view": views})

    async def discover(self) -> Response:
        # The real page is a single-page app reading its state (_g, _a) from the URL fragment.
        return HTMLResponse(
            "<!DOCTYPE html><html><head><title>Discover - Elastic</title></head>"
            '<body><div id="kibana-body">Discover</div></body></html>'
        )
