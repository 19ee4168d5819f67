"""Dynatrace Environment API v2 simulator: metrics query, problems, entities, SLOs, metric descriptors."""

from __future__ import annotations

import base64
import json
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from simulators import hashing
from simulators.dynatrace_metrics import (
    METRICS,
    Entity,
    Evaluator,
    Frame,
    MetricNode,
    SelectorError,
    build_entities,
    entity_filter,
    parse_metric_selector,
    process_group_id,
    process_instance_id,
    resolve_resolution,
    split_top_level,
    unquote,
)
from simulators.estate import Estate
from simulators.faults import request_faults
from simulators.model import PRODUCTION, DynatraceProblem
from simulators.timeseries import Telemetry
from simulators.web import json_response, parse_instant_ms, scheme_token

_QUERY_PARAMS = ("metricSelector", "resolution", "from", "to", "entitySelector", "mzSelector")
# The longest entitySelector the real API takes (Environment API v2, Entity selector, Limitations).
MAX_SELECTOR_CHARS = 2000


def error_body(status: int, message: str, violations: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": status, "message": message}
    if violations is not None:
        error["constraintViolations"] = violations
    return {"error": error}


def shape_error(status: int, message: str) -> tuple[bytes, dict[str, str]]:
    return json.dumps(error_body(status, message)).encode(), {}


def _error(status: int, message: str, violations: list[dict[str, Any]] | None = None) -> Response:
    return json_response(error_body(status, message, violations), status=status)


def _violation(path: str, message: str) -> dict[str, Any]:
    return {"path": path, "message": message, "parameterLocation": "QUERY", "location": None}


def _encode_key(payload: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode_key(key: str) -> dict[str, Any] | None:
    try:
        decoded = json.loads(base64.urlsafe_b64decode(key + "=" * (-len(key) % 4)))
    except (ValueError, UnicodeDecodeError):
        return None
    return decoded if isinstance(decoded, dict) else None


class DynatraceSimulator:
    """Holds the estate's Dynatrace view; `app` is the ASGI application."""

    def __init__(self, estate: Estate, telemetry: Telemetry, token: str, *, metrics_page_size: int = 100) -> None:
        self.estate = estate
        self.telemetry = telemetry
        self.token = token
        self.metrics_page_size = metrics_page_size
        self.now_ms = estate.end_s * 1000
        teams = {a.id: (a.team, a.domain) for a in estate.applications}
        self.entities = build_entities(
            ((c, teams[c.app][0], teams[c.app][1], c.app) for c in estate.components),
            estate.start_s * 1000 - 30 * 86_400_000,
        )
        self.entity_by_id = {e.entity_id: e for e in self.entities}
        # Every entity is still monitored: last seen a minute before the estate's end.
        self.last_seen_ms = self.now_ms - 60_000
        self.evaluator = Evaluator(telemetry, self.entities, lambda e: e.display_name)
        self.zone_ids = {
            d.name: str(hashing.int_hash(estate.seed, i, 77) % (1 << 62)) for i, d in enumerate(estate.domains)
        }
        self.app = self._build_app()

    # --- plumbing -------------------------------------------------------------------------------------------
    def _authorised(self, request: Request) -> Response | None:
        if "authorization" not in request.headers:
            return _error(401, "Missing authorization parameter.")
        if scheme_token(request, "Api-Token") != self.token:
            return _error(401, "Token Authentication failed")
        return None

    def _build_app(self) -> FastAPI:
        app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

        @app.middleware("http")
        async def authenticate(request: Request, call_next: Any) -> Response:
            denied = self._authorised(request)
            if denied is not None:
                return denied
            response: Response = await call_next(request)
            return response

        app.add_api_route("/api/v2/metrics/query", self.metrics_query, methods=["GET"])
        app.add_api_route("/api/v2/metrics", self.metrics_list, methods=["GET"])
        app.add_api_route("/api/v2/metrics/{selector:path}", self.metric_descriptor, methods=["GET"])
        app.add_api_route("/api/v2/problems", self.problems, methods=["GET"])
        app.add_api_route("/api/v2/problems/{problem_id}", self.problem, methods=["GET"])
        app.add_api_route("/api/v2/entities", self.entities_list, methods=["GET"])
        app.add_api_route("/api/v2/entities/{entity_id}", self.entity, methods=["GET"])
        app.add_api_route("/api/v2/slo", self.slo_list, methods=["GET"])
        app.add_api_route("/api/v2/slo/{slo_id}", self.slo, methods=["GET"])
        return app

    def _frame_bounds(self, params: dict[str, str], default_from: str = "now-2h") -> tuple[int, int] | Response:
        start = parse_instant_ms(params.get("from") or default_from, self.now_ms)
        end = parse_instant_ms(params.get("to") or "now", self.now_ms)
        if start is None or end is None:
            bad = "from" if start is None else "to"
            return _error(400, "Constraints violated.", [_violation(bad, "invalid timestamp")])
        if end <= start:
            return _error(400, "Constraints violated.", [_violation("to", "must be after from")])
        return start, end

    def _paging_rule(self, params: dict[str, str], allowed: tuple[str, ...] = ()) -> Response | None:
        """With nextPageKey, every other parameter must be left out (the real API answers 400)."""
        extra = [p for p in params if p not in ("nextPageKey", *allowed)]
        if extra:
            return _error(
                400,
                "Constraints violated.",
                [_violation(p, "must not be specified together with nextPageKey") for p in extra],
            )
        return None

    @staticmethod
    def _selector_too_long(params: dict[str, str]) -> Response | None:
        """The real API refuses an entitySelector longer than MAX_SELECTOR_CHARS (Entity selector, Limitations)."""
        if len(params.get("entitySelector") or "") > MAX_SELECTOR_CHARS:
            message = f"size must be between 0 and {MAX_SELECTOR_CHARS}"
            return _error(400, "Constraints violated.", [_violation("entitySelector", message)])
        return None

    def _expired(self, request: Request) -> Response:
        return _error(
            400, "Constraints violated.", [_violation("nextPageKey", "The nextPageKey is invalid or expired.")]
        )

    # --- metrics --------------------------------------------------------------------------------------------
    async def metrics_query(self, request: Request) -> Response:
        params = dict(request.query_params)
        offset = 0
        if "nextPageKey" in params:
            refused = self._paging_rule(params)
            if refused is not None:
                return refused
            if "expired_page_key" in request_faults(request.state):
                return self._expired(request)
            decoded = _decode_key(params["nextPageKey"])
            if decoded is None or decoded.get("kind") != "metrics":
                return self._expired(request)
            params, offset = decoded["params"], int(decoded["offset"])
        if not params.get("metricSelector"):
            return _error(
                400,
                "Constraints violated.",
                [_violation("nextPageKey", "expected one of nextPageKey or metricSelector to be specified")],
            )
        refused = self._selector_too_long(params)
        if refused is not None:
            return refused
        bounds = self._frame_bounds(params)
        if isinstance(bounds, Response):
            return bounds
        from_ms, to_ms = bounds
        try:
            label, step = resolve_resolution(params.get("resolution"), from_ms, to_ms, self.now_ms)
            selectors = parse_metric_selector(params["metricSelector"])
            predicate = entity_filter(params["entitySelector"]) if params.get("entitySelector") else None
            if params.get("mzSelector"):
                zones = {unquote(z.partition("(")[2].rstrip(")")) for z in split_top_level(params["mzSelector"])}
                base = predicate

                def predicate(e: Entity, base: Any = base, zones: set[str] = zones) -> bool:
                    return e.domain in zones and (base is None or base(e))

            frame = Frame(from_ms, to_ms, step)
            results = [self.evaluator.evaluate(text, node, frame, predicate) for text, node in selectors]
        except SelectorError as exc:
            return _error(400, str(exc))
        total = sum(len(r) for r in results)
        size = self.metrics_page_size
        timestamps = frame.timestamps() if step is not None else [to_ms]
        body_results = []
        warnings: list[str] = []
        # Pages run over the concatenated series of all selectors, in order.
        cursor = 0
        for result in results:
            start = max(0, offset - cursor)
            stop = max(0, min(len(result), offset + size - cursor))
            page = result.page(start, stop - start) if stop > start else []
            cursor += len(result)
            data = []
            for series in page:
                if result.names:
                    dimensions, dimension_map = self.evaluator.add_names(series)
                else:
                    dimensions, dimension_map = list(series.dims.values()), dict(series.dims)
                stamps = timestamps if len(series.values) == len(timestamps) else [to_ms]
                data.append(
                    {
                        "dimensions": dimensions,
                        "dimensionMap": dimension_map,
                        "timestamps": stamps,
                        "values": [_number(v) for v in series.values],
                    }
                )
            entry: dict[str, Any] = {
                "metricId": result.metric_id,
                "dataPointCountRatio": round(len(result) * len(timestamps) / 20_000_000, 7),
                "dimensionCountRatio": round(len(result) / 100_000, 5),
                "data": data,
            }
            if result.warnings:
                entry["warnings"] = result.warnings
                warnings.extend(result.warnings)
            body_results.append(entry)
        next_key = None
        if offset + size < total:
            next_key = _encode_key({"kind": "metrics", "params": params, "offset": offset + size})
        body: dict[str, Any] = {"totalCount": total, "nextPageKey": next_key, "resolution": label}
        if warnings:
            body["warnings"] = warnings
        body["result"] = body_results
        return json_response(body)

    async def metrics_list(self, request: Request) -> Response:
        metrics = [
            {"metricId": m.key, "displayName": m.display_name, "description": "", "unit": m.unit}
            for m in METRICS.values()
        ]
        return json_response({"totalCount": len(metrics), "nextPageKey": None, "metrics": metrics})

    async def metric_descriptor(self, selector: str) -> Response:
        try:
            parsed = parse_metric_selector(selector)
        except SelectorError as exc:
            return _error(400, str(exc))
        text, node = parsed[0]
        if not isinstance(node, MetricNode) or node.key not in METRICS:
            return _error(404, f"Metric {selector} not found")
        definition = METRICS[node.key]
        transformed = bool(node.transforms)
        merged = any(t.name in ("merge", "splitBy") for t in node.transforms)
        body: dict[str, Any] = {
            "metricId": text,
            "displayName": definition.display_name,
            "description": "",
            "unit": definition.unit,
            "dduBillable": False,
            "created": 0,
            "lastWritten": self.now_ms - 60_000,
            "entityType": [definition.entity_type],
            "aggregationTypes": ["auto", "value"] if transformed else list(definition.aggregations),
            "transformations": [
                "filter",
                "fold",
                "limit",
                "merge",
                "names",
                "parents",
                "timeshift",
                "sort",
                "last",
                "splitBy",
                "lastReal",
                "setUnit",
                "rate",
                "default",
                "delta",
            ],
            "defaultAggregation": {"type": "value" if transformed else definition.default_aggregation},
            "dimensionDefinitions": []
            if merged
            else [
                {
                    "key": definition.dimension,
                    "name": definition.entity_type.title(),
                    "displayName": definition.entity_type.replace("_", " ").title(),
                    "index": 0,
                    "type": "ENTITY",
                }
            ],
            "tags": [],
            "metricValueType": {"type": "unknown"},
            "scalar": False,
            "resolutionInfSupported": True,
        }
        if transformed:
            body["minimumValue"] = 0.0
            body["warnings"] = [
                "The field dimensionCardinalities is only supported for untransformed single "
                "metric keys and was ignored."
            ]
        return json_response(body)

    # --- problems -------------------------------------------------------------------------------------------
    def _problem_json(self, problem: DynatraceProblem, fields: set[str]) -> dict[str, Any]:
        comp = self.estate.components[problem.component_index]
        entity = self.entity_by_id[problem.service_id]
        ref = {"entityId": {"id": entity.entity_id, "type": "SERVICE"}, "name": entity.display_name}
        tags = _tags_json(entity)
        zones = [{"id": self.zone_ids[entity.domain], "name": entity.domain}]
        body: dict[str, Any] = {
            "problemId": problem.problem_id,
            "displayId": problem.display_id,
            "title": problem.title,
            "impactLevel": problem.impact,
            "severityLevel": problem.severity,
            "status": problem.status,
            "affectedEntities": [ref],
            "impactedEntities": [ref],
            "rootCauseEntity": ref if problem.degradation_cause == "deployment" else None,
            "managementZones": zones,
            "entityTags": tags,
            "problemFilters": [{"id": hashing.stable_uuid("filter", entity.team), "name": entity.team}],
            "startTime": problem.start_ms,
            "endTime": problem.end_ms,
        }
        if "evidenceDetails" in fields:
            event_type = {
                "ERROR": "SERVICE_ERROR_RATE_INCREASED",
                "PERFORMANCE": "SERVICE_SLOWDOWN",
                "RESOURCE_CONTENTION": "CPU_SATURATED",
            }[problem.severity]
            event_id = f"{hashing.int_hash(self.estate.seed, problem.start_ms) - (1 << 63)}_{problem.start_ms}"
            body["evidenceDetails"] = {
                "totalCount": 1,
                "details": [
                    {
                        "evidenceType": "EVENT",
                        "displayName": problem.title,
                        "entity": ref,
                        "groupingEntity": None,
                        "rootCauseRelevant": problem.degradation_cause == "deployment",
                        "eventId": event_id,
                        "eventType": event_type,
                        "data": {
                            "eventId": event_id,
                            "startTime": problem.start_ms,
                            "endTime": problem.end_ms,
                            "eventType": event_type,
                            "title": problem.title,
                            "entityId": {"entityId": ref["entityId"], "name": ref["name"]},
                            "properties": [
                                {"key": "dt.event.group_label", "value": problem.title},
                                {"key": "dt.event.is_rootcause_relevant", "value": "true"},
                                {"key": "dt.event.deployment.component", "value": comp.name},
                            ],
                            "status": problem.status,
                            "correlationId": hashing.hex_id(16, problem.problem_id).upper(),
                            "entityTags": tags,
                            "managementZones": zones,
                            "underMaintenance": False,
                            "suppressAlert": False,
                            "suppressProblem": False,
                            "frequentEvent": False,
                        },
                        "startTime": problem.start_ms,
                        "endTime": problem.end_ms,
                    }
                ],
            }
        if "impactAnalysis" in fields:
            body["impactAnalysis"] = {
                "impacts": [
                    {
                        "impactType": "SERVICE",
                        "impactedEntity": ref,
                        "estimatedAffectedUsers": hashing.int_hash(problem.start_ms, 1) % 500,
                        "numberOfPotentiallyAffectedServiceCalls": hashing.int_hash(problem.start_ms, 2) % 20_000,
                    }
                ]
            }
        if "recentComments" in fields:
            body["recentComments"] = {"totalCount": 0, "comments": []}
        return body

    def _problem_filter(self, selector: str) -> Any:
        checks = []
        for part in split_top_level(selector):
            name, _, raw = part.partition("(")
            values = {unquote(v).lower() for v in split_top_level(raw.rstrip(")"))}
            if name == "status":
                checks.append(lambda p, v=values: p.status.lower() in v)
            elif name == "severityLevel":
                checks.append(lambda p, v=values: p.severity.lower() in v)
            elif name == "impactLevel":
                checks.append(lambda p, v=values: p.impact.lower() in v)
            elif name == "displayId":
                checks.append(lambda p, v=values: p.display_id.lower() in v)
            elif name in ("managementZones", "managementZone"):
                checks.append(lambda p, v=values: self.entity_by_id[p.service_id].domain.lower() in v)
            else:
                raise SelectorError(f"Unsupported problem selector: {name}")
        return lambda p: all(check(p) for check in checks)

    async def problems(self, request: Request) -> Response:
        params = dict(request.query_params)
        offset = 0
        if "nextPageKey" in params:
            # `fields` is valid for the current page only, so it is the one parameter sent again.
            refused = self._paging_rule(params, allowed=("fields",))
            if refused is not None:
                return refused
            decoded = _decode_key(params["nextPageKey"])
            if decoded is None or decoded.get("kind") != "problems":
                return self._expired(request)
            fields_param = params.get("fields", "")
            params, offset = {**decoded["params"], "fields": fields_param}, int(decoded["offset"])
        refused = self._selector_too_long(params)
        if refused is not None:
            return refused
        bounds = self._frame_bounds(params)
        if isinstance(bounds, Response):
            return bounds
        from_ms, to_ms = bounds
        try:
            page_size = int(params.get("pageSize", 50))
            selector = self._problem_filter(params.get("problemSelector", ""))
            entities = entity_filter(params["entitySelector"]) if params.get("entitySelector") else None
        except (SelectorError, ValueError) as exc:
            return _error(400, str(exc))
        if not 1 <= page_size <= 500:
            return _error(400, "Constraints violated.", [_violation("pageSize", "must be between 1 and 500")])
        fields = {f.strip().lstrip("+") for f in params.get("fields", "").split(",") if f.strip()}
        matching = []
        for problem in self.estate.dynatrace_problems:
            end = self.now_ms if problem.end_ms == -1 else problem.end_ms
            # A problem is in the frame when it starts or ends inside it.
            if not (from_ms <= problem.start_ms <= to_ms or from_ms <= end <= to_ms):
                continue
            if not selector(problem):
                continue
            if entities is not None and not entities(self.entity_by_id[problem.service_id]):
                continue
            matching.append(problem)
        sort = params.get("sort", "-startTime")
        reverse = sort.startswith("-")
        if sort.lstrip("+-") == "status":
            matching.sort(key=lambda p: (p.status != "OPEN", -p.start_ms), reverse=reverse)
        else:
            matching.sort(key=lambda p: p.start_ms, reverse=reverse)
        page = matching[offset : offset + page_size]
        body: dict[str, Any] = {"totalCount": len(matching), "pageSize": page_size}
        if offset + page_size < len(matching):
            stored = {k: v for k, v in params.items() if k != "fields"}
            body["nextPageKey"] = _encode_key({"kind": "problems", "params": stored, "offset": offset + page_size})
        body["problems"] = [self._problem_json(p, fields) for p in page]
        body["warnings"] = []
        return json_response(body)

    async def problem(self, problem_id: str) -> Response:
        for problem in self.estate.dynatrace_problems:
            if problem.problem_id == problem_id:
                return json_response(
                    self._problem_json(problem, {"evidenceDetails", "impactAnalysis", "recentComments"})
                )
        return _error(404, f"The problem {problem_id} does not exist")

    # --- entities -------------------------------------------------------------------------------------------
    def _entity_json(self, entity: Entity, fields: set[str]) -> dict[str, Any]:
        body: dict[str, Any] = {"entityId": entity.entity_id, "type": entity.type, "displayName": entity.display_name}
        if "firstSeenTms" in fields:
            body["firstSeenTms"] = entity.first_seen_ms
        if "lastSeenTms" in fields:
            body["lastSeenTms"] = self.last_seen_ms
        if "tags" in fields:
            body["tags"] = _tags_json(entity)
        if "managementZones" in fields:
            body["managementZones"] = [{"id": self.zone_ids[entity.domain], "name": entity.domain}]
        if "properties" in fields:
            body["properties"] = {"serviceType": "WEB_REQUEST", "environment": entity.environment}
        # Dynatrace's topology: SERVICE runsOnProcessGroupInstance PROCESS_GROUP_INSTANCE isPgiOfCgi
        # CONTAINER_GROUP_INSTANCE; a service runsOn its PROCESS_GROUP, never a container.
        service = entity.component.service_id_for(entity.environment)
        container = (
            entity.component.container_id if entity.environment == PRODUCTION else entity.component.staging_container_id
        )
        assert service is not None and container is not None
        process = {"id": process_instance_id(container), "type": "PROCESS_GROUP_INSTANCE"}
        group = {"id": process_group_id(service), "type": "PROCESS_GROUP"}
        relationships: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
            "SERVICE": ({"runsOn": [group], "runsOnProcessGroupInstance": [process]}, {}),
            "PROCESS_GROUP_INSTANCE": (
                {"isInstanceOf": [group], "isPgiOfCgi": [{"id": container, "type": "CONTAINER_GROUP_INSTANCE"}]},
                {"runsOnProcessGroupInstance": [{"id": service, "type": "SERVICE"}]},
            ),
            "CONTAINER_GROUP_INSTANCE": ({}, {"isPgiOfCgi": [process]}),
        }
        outgoing, incoming = relationships[entity.type]
        if "fromRelationships" in fields:
            body["fromRelationships"] = outgoing
        if "toRelationships" in fields:
            body["toRelationships"] = incoming
        return body

    async def entities_list(self, request: Request) -> Response:
        params = dict(request.query_params)
        offset = 0
        if "nextPageKey" in params:
            refused = self._paging_rule(params)
            if refused is not None:
                return refused
            decoded = _decode_key(params["nextPageKey"])
            if decoded is None or decoded.get("kind") != "entities":
                return self._expired(request)
            params, offset = decoded["params"], int(decoded["offset"])
        if not params.get("entitySelector"):
            return _error(400, "Constraints violated.", [_violation("entitySelector", "must not be null")])
        refused = self._selector_too_long(params)
        if refused is not None:
            return refused
        try:
            predicate = entity_filter(params["entitySelector"])
            page_size = int(params.get("pageSize", 50))
        except (SelectorError, ValueError) as exc:
            return _error(400, str(exc))
        # Only the entities observed within the timeframe are listed (from defaults to now-3d).
        bounds = self._frame_bounds(params, default_from="now-3d")
        if isinstance(bounds, Response):
            return bounds
        from_ms, to_ms = bounds
        fields = {f.strip().lstrip("+") for f in params.get("fields", "").split(",") if f.strip()}
        matching = [
            e for e in self.entities if predicate(e) and e.first_seen_ms <= to_ms and self.last_seen_ms >= from_ms
        ]
        page = matching[offset : offset + page_size]
        body: dict[str, Any] = {"totalCount": len(matching), "pageSize": page_size}
        if offset + page_size < len(matching):
            body["nextPageKey"] = _encode_key({"kind": "entities", "params": params, "offset": offset + page_size})
        body["entities"] = [self._entity_json(e, fields) for e in page]
        return json_response(body)

    async def entity(self, entity_id: str) -> Response:
        entity = self.entity_by_id.get(entity_id)
        if entity is None:
            return _error(404, f"Entity {entity_id} not found")
        return json_response(
            self._entity_json(
                entity,
                {
                    "tags",
                    "managementZones",
                    "properties",
                    "firstSeenTms",
                    "lastSeenTms",
                    "fromRelationships",
                    "toRelationships",
                },
            )
        )

    # --- SLOs -----------------------------------------------------------------------------------------------
    def _slo_definitions(self) -> list[dict[str, Any]]:
        slos = []
        for app in self.estate.applications:
            slug = f"availability_{app.id.replace('-', '_')}"
            slos.append(
                {
                    "id": hashing.stable_uuid("slo", self.estate.seed, app.id),
                    "app": app.id,
                    "slug": slug,
                    "name": f"{app.title} availability",
                    "target": 99.5,
                    "warning": 99.8,
                    "metricExpression": "(100)*(builtin:service.errors.server.successCount:splitBy())"
                    "/(builtin:service.requestCount.total:splitBy())",
                    "filter": f'type("SERVICE"),tag("app:{app.id}"),tag("environment:production")',
                }
            )
        return slos

    def _slo_json(self, slo: dict[str, Any], from_ms: int, to_ms: int, timeframe: str) -> dict[str, Any]:
        ((text, node),) = parse_metric_selector(slo["metricExpression"])
        frame = Frame(from_ms, to_ms, None)
        result = self.evaluator.evaluate(text, node, frame, entity_filter(slo["filter"]))
        series = result.page(0, 1)
        value = series[0].values[0] if series and series[0].values else None
        evaluated = round(value, 6) if value is not None else -1.0
        budget = round(evaluated - slo["target"], 6) if value is not None else -1.0
        status = "SUCCESS" if evaluated >= slo["warning"] else "WARNING" if evaluated >= slo["target"] else "FAILURE"
        open_problems = sum(1 for p in self.estate.dynatrace_problems if p.app == slo["app"] and p.end_ms == -1)
        total_problems = sum(
            1 for p in self.estate.dynatrace_problems if p.app == slo["app"] and from_ms <= p.start_ms <= to_ms
        )
        return {
            "id": slo["id"],
            "enabled": True,
            "name": slo["name"],
            "description": "",
            "evaluatedPercentage": evaluated,
            "errorBudget": budget,
            "status": status,
            "error": "NONE",
            "errorBudgetBurnRate": {"burnRateVisualizationEnabled": False},
            "metricKey": f"func:slo.{slo['slug']}",
            "burnRateMetricKey": f"func:slo.errorBudgetBurnRate.{slo['slug']}",
            "errorBudgetMetricKey": f"func:slo.errorBudget.{slo['slug']}",
            "normalizedErrorBudgetMetricKey": f"func:slo.normalizedErrorBudget.{slo['slug']}",
            "metricExpression": slo["metricExpression"],
            "target": slo["target"],
            "warning": slo["warning"],
            "evaluationType": "AGGREGATE",
            "timeframe": timeframe,
            "filter": slo["filter"],
            "relatedOpenProblems": open_problems,
            "relatedTotalProblems": total_problems,
            "metricRate": "",
            "metricNumerator": "",
            "metricDenominator": "",
            "numeratorValue": 0.0,
            "denominatorValue": 0.0,
            "useRateMetric": True,
        }

    def _slo_frame(self, params: dict[str, str]) -> tuple[int, int, str] | Response:
        if params.get("timeFrame", "CURRENT").upper() == "GTF":
            bounds = self._frame_bounds(params, default_from="now-1w")
            if isinstance(bounds, Response):
                return bounds
            return bounds[0], bounds[1], f"{bounds[0]} to {bounds[1]}"
        return self.now_ms - 7 * 86_400_000, self.now_ms, "-1w"

    async def slo_list(self, request: Request) -> Response:
        params = dict(request.query_params)
        offset = 0
        if "nextPageKey" in params:
            refused = self._paging_rule(params)
            if refused is not None:
                return refused
            decoded = _decode_key(params["nextPageKey"])
            if decoded is None or decoded.get("kind") != "slo":
                return self._expired(request)
            params, offset = decoded["params"], int(decoded["offset"])
        frame = self._slo_frame(params)
        if isinstance(frame, Response):
            return frame
        page_size = int(params.get("pageSize", 10))
        definitions = self._slo_definitions()
        selector = params.get("sloSelector", "")
        if selector.startswith("name(") or selector.startswith("text("):
            wanted = unquote(selector.partition("(")[2].rstrip(")")).lower()
            definitions = [d for d in definitions if wanted in d["name"].lower()]
        page = definitions[offset : offset + page_size]
        body: dict[str, Any] = {
            "slo": [self._slo_json(d, *frame) for d in page],
            "pageSize": page_size,
            "totalCount": len(definitions),
            "nextPageKey": (
                _encode_key({"kind": "slo", "params": params, "offset": offset + page_size})
                if offset + page_size < len(definitions)
                else None
            ),
        }
        return json_response(body)

    async def slo(self, slo_id: str, request: Request) -> Response:
        frame = self._slo_frame(dict(request.query_params))
        if isinstance(frame, Response):
            return frame
        for definition in self._slo_definitions():
            if definition["id"] == slo_id:
                return json_response(self._slo_json(definition, *frame))
        return _error(404, f"SLO {slo_id} not found")


def _tags_json(entity: Entity) -> list[dict[str, Any]]:
    tags = []
    for context, key, value in entity.tags:
        tag: dict[str, Any] = {"context": context, "key": key}
        if value is not None:
            tag["value"] = value
        tag["stringRepresentation"] = f"{key}:{value}" if value is not None else key
        tags.append(tag)
    return tags


def _number(value: float | None) -> float | int | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value
