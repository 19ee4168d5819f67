"""Backstage catalog simulator: the estate's catalog-info.yaml and a minimal catalog entities API."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from simulators.estate import Estate
from simulators.web import json_response


class CatalogSimulator:
    def __init__(self, estate: Estate) -> None:
        self.estate = estate
        self.entities = estate.catalog_entities()
        self.yaml = estate.catalog_yaml()
        self.app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
        self.app.add_api_route("/catalog-info.yaml", self.catalog_file, methods=["GET"])
        self.app.add_api_route("/api/catalog/entities", self.list_entities, methods=["GET"])

    async def catalog_file(self) -> Response:
        return Response(self.yaml, media_type="application/yaml")

    async def list_entities(self, request: Request) -> Response:
        """Backstage's `filter=kind=component,spec.type=service` form (conditions within one filter are ANDed)."""
        filters = request.query_params.getlist("filter")
        if not filters:
            return json_response(self.entities)

        def value(entity: dict[str, object], path: str) -> str:
            node: object = entity
            for part in path.split("."):
                node = node.get(part) if isinstance(node, dict) else None
            return str(node).lower() if node is not None else ""

        def accept(entity: dict[str, object]) -> bool:
            for expression in filters:
                conditions = [c.split("=", 1) for c in expression.split(",") if "=" in c]
                if all(value(entity, k.strip()) == v.strip().lower() for k, v in conditions):
                    return True
            return False

        return json_response([e for e in self.entities if accept(e)])
