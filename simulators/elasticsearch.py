"""Elasticsearch simulator: _search, _count and _msearch over log streams counted lazily per hour."""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from simulators import hashing
from simulators.estate import Estate
from simulators.model import Component
from simulators.timeseries import ERROR_TYPES, LOG_LEVELS, Telemetry, doc_offset_ms
from simulators.web import basic_credentials, iso_millis, json_response, parse_instant_ms, scheme_token

FAR_PAST = -(2**62)
FAR_FUTURE = 2**62
MAX_BUCKETS = 65_536
Intervals = list[tuple[int, int]]
# Where a log line says its environment: OpenTelemetry's resource attribute, Elastic Common Schema's field. An
# estate's loggers write one or the other (or both, as the default estate does).
ENVIRONMENT_FIELDS = ("deployment.environment", "service.environment")
# Where a log line says its level: Elastic Common Schema loggers write log.level (and an exception's type in
# error.type); an OpenTelemetry exporter in its own mapping writes severity_text and severity_number (and
# exception.type), and no log.level.
LEVEL_FIELDS = ("log.level", "severity_text")
SEVERITY_NUMBERS = {"ERROR": 17, "WARN": 13, "INFO": 9}


class SearchError(Exception):
    def __init__(self, status: int, error_type: str, reason: str, caused_by: dict[str, Any] | None = None):
        super().__init__(reason)
        self.status = status
        self.error_type = error_type
        self.reason = reason
        self.caused_by = caused_by

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {
            "root_cause": [{"type": self.error_type, "reason": self.reason}],
            "type": self.error_type,
            "reason": self.reason,
        }
        if self.caused_by:
            error["caused_by"] = self.caused_by
        return {"error": error, "status": self.status}


def shape_error(status: int, message: str) -> tuple[bytes, dict[str, str]]:
    kind = "es_rejected_execution_exception" if status == 429 else "cluster_block_exception"
    return json.dumps(SearchError(status, kind, message).body()).encode(), {}


@dataclass(slots=True, frozen=True)
class Stream:
    """All log documents sharing the same keyword values: one service, environment, level and exception type."""

    component: Component
    app: str
    environment: str
    level: str
    error_type: str | None
    environment_fields: tuple[str, ...] = ENVIRONMENT_FIELDS
    level_field: str = "log.level"

    @property
    def otel(self) -> bool:
        return self.level_field == "severity_text"

    @property
    def index(self) -> str:
        return f"logs-{self.app}-{self.environment}"

    def field(self, name: str) -> Any:
        if name in ENVIRONMENT_FIELDS:
            return self.environment if name in self.environment_fields else None
        status = {"ERROR": 500, "WARN": 429, "INFO": 200}[self.level]
        return {
            "service.name": self.component.name,
            "log.level": None if self.otel else self.level,
            "severity_text": self.level if self.otel else None,
            "severity_number": SEVERITY_NUMBERS[self.level] if self.otel else None,
            "error.type": None if self.otel else self.error_type,
            "exception.type": self.error_type if self.otel else None,
            "event.dataset": f"{self.app}.log",
            "labels.app": self.app,
            "user.id": f"svc-{self.component.name}",
            "http.request.method": "GET",
            "http.response.status_code": status,
            "http.version": "1.1",
            "_index": self.index,
        }.get(name)


# --- interval sets ----------------------------------------------------------------------------------------------
def _intersect(a: Intervals, b: Intervals) -> Intervals:
    out = []
    for lo1, hi1 in a:
        for lo2, hi2 in b:
            lo, hi = max(lo1, lo2), min(hi1, hi2)
            if lo < hi:
                out.append((lo, hi))
    return _normalise(out)


def _union(a: Intervals, b: Intervals) -> Intervals:
    return _normalise(a + b)


def _subtract(a: Intervals, b: Intervals) -> Intervals:
    result = a
    for lo2, hi2 in b:
        nxt = []
        for lo1, hi1 in result:
            if hi2 <= lo1 or lo2 >= hi1:
                nxt.append((lo1, hi1))
                continue
            if lo1 < lo2:
                nxt.append((lo1, lo2))
            if hi2 < hi1:
                nxt.append((hi2, hi1))
        result = nxt
    return result


def _normalise(intervals: Intervals) -> Intervals:
    merged: Intervals = []
    for lo, hi in sorted(intervals):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


ALWAYS: Intervals = [(FAR_PAST, FAR_FUTURE)]
QueryFn = Callable[[Stream], Intervals]


def _nulls_first(value: Any) -> tuple[int, Any]:
    """A composite key value made comparable, the null key before every other."""
    return (0, 0) if value is None else (1, value)


def _check_after(after: Any, sources: list[tuple[str, str, dict[str, Any]]]) -> None:
    """Elasticsearch refuses an `after` that is not a key of these sources (CompositeAggregationFactory): one value
    per source, each named, null only where missing_bucket allows a null key. Read leniently, a stale or mangled
    after_key would page on from somewhere else."""
    if not isinstance(after, dict) or len(after) != len(sources):
        count = len(after) if isinstance(after, dict) else 0
        raise SearchError(
            400, "illegal_argument_exception", f"[after] has {count} value(s) but [sources] has {len(sources)}"
        )
    for name, _, body in sources:
        if name not in after:
            raise SearchError(400, "illegal_argument_exception", f"Missing value for [after.{name}]")
        if after[name] is None and not body.get("missing_bucket", False):
            raise SearchError(
                400,
                "illegal_argument_exception",
                f"Invalid value for [after.{name}], missing_bucket is set to false but the value is null",
            )


# --- intervals and time zones -------------------------------------------------------------------------------------
_FIXED_RE = re.compile(r"^(\d+)(ms|s|m|h|d)$")
_FIXED_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
_CALENDAR = {
    "1m": "minute",
    "minute": "minute",
    "1h": "hour",
    "hour": "hour",
    "1d": "day",
    "day": "day",
    "1w": "week",
    "week": "week",
    "1M": "month",
    "month": "month",
    "1q": "quarter",
    "quarter": "quarter",
    "1y": "year",
    "year": "year",
}


def _zone(name: str | None) -> tzinfo:
    if not name or name in ("UTC", "Z", "GMT"):
        return UTC
    match = re.match(r"^([+-])(\d{2}):?(\d{2})$", name)
    if match:
        sign = 1 if match.group(1) == "+" else -1
        return timezone(sign * timedelta(hours=int(match.group(2)), minutes=int(match.group(3))))
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise SearchError(400, "illegal_argument_exception", f"Unknown time-zone ID: {name}") from exc


@dataclass(slots=True)
class Bucketing:
    """How @timestamp values fall into date_histogram buckets (key = bucket START, in UTC ms)."""

    fixed_ms: int | None
    calendar: str | None
    zone: tzinfo
    fmt: str | None

    def floor(self, t_ms: int) -> int:
        if self.fixed_ms is not None:
            utc_offset = datetime.fromtimestamp(t_ms / 1000, tz=self.zone).utcoffset()
            offset = int(utc_offset.total_seconds() * 1000) if utc_offset else 0
            shifted = t_ms + offset
            return shifted - shifted % self.fixed_ms - offset
        local = datetime.fromtimestamp(t_ms / 1000, tz=self.zone)
        unit = self.calendar
        if unit == "minute":
            start = local.replace(second=0, microsecond=0)
        elif unit == "hour":
            start = local.replace(minute=0, second=0, microsecond=0)
        elif unit == "day":
            start = local.replace(hour=0, minute=0, second=0, microsecond=0)
        elif unit == "week":
            start = (local - timedelta(days=local.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
        elif unit == "month":
            start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        elif unit == "quarter":
            start = local.replace(
                month=(local.month - 1) // 3 * 3 + 1, day=1, hour=0, minute=0, second=0, microsecond=0
            )
        else:
            start = local.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
        if isinstance(self.zone, ZoneInfo):
            start = start.replace(tzinfo=self.zone)
        return int(start.timestamp() * 1000)

    def next(self, start_ms: int) -> int:
        if self.fixed_ms is not None:
            return start_ms + self.fixed_ms
        probe = {
            "minute": 60_000,
            "hour": 3_600_000,
            "day": 90_000_000,
            "week": 7 * 86_400_000 + 3_600_000,
            "month": 32 * 86_400_000,
            "quarter": 93 * 86_400_000,
            "year": 367 * 86_400_000,
        }[self.calendar or "day"]
        return self.floor(start_ms + probe)

    def key_as_string(self, key: int) -> str:
        if self.fmt == "epoch_millis":
            return str(key)
        moment = datetime.fromtimestamp(key / 1000, tz=self.zone)
        text = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{key % 1000:03d}"
        offset = moment.utcoffset()
        if not offset:
            return text + "Z"
        return text + moment.strftime("%z")[:3] + ":" + moment.strftime("%z")[3:]


def bucketing(spec: dict[str, Any], agg_name: str) -> Bucketing:
    if "interval" in spec:
        raise SearchError(400, "x_content_parse_exception", "[1:1] [date_histogram] unknown field [interval]")
    zone = _zone(spec.get("time_zone"))
    fmt = spec.get("format")
    if "fixed_interval" in spec:
        text = str(spec["fixed_interval"])
        match = _FIXED_RE.match(text)
        if not match:
            reason = (
                f"failed to parse setting [date_histogram.fixedInterval] with value [{text}] as a time value: "
                "unit is missing or unrecognized"
            )
            raise SearchError(
                400,
                "x_content_parse_exception",
                "[1:1] [date_histogram] failed to parse field [fixed_interval]",
                {"type": "illegal_argument_exception", "reason": reason},
            )
        return Bucketing(int(match.group(1)) * _FIXED_MS[match.group(2)], None, zone, fmt)
    if "calendar_interval" in spec:
        text = str(spec["calendar_interval"])
        if text not in _CALENDAR:
            raise SearchError(
                400,
                "x_content_parse_exception",
                "[1:1] [date_histogram] failed to parse field [calendar_interval]",
                {
                    "type": "illegal_argument_exception",
                    "reason": f"The supplied interval [{text}] could not be parsed as a calendar interval.",
                },
            )
        return Bucketing(None, _CALENDAR[text], zone, fmt)
    raise SearchError(
        400,
        "illegal_argument_exception",
        f"Invalid interval specified, must be non-null and non-empty for aggregation [{agg_name}]",
    )


# --- the simulator ------------------------------------------------------------------------------------------------
class ElasticsearchSimulator:
    def __init__(
        self,
        estate: Estate,
        telemetry: Telemetry,
        user: str,
        password: str,
        api_key: str,
        environment_fields: tuple[str, ...] = ENVIRONMENT_FIELDS,
        level_field: str = "log.level",
    ) -> None:
        unknown = set(environment_fields) - set(ENVIRONMENT_FIELDS)
        if not environment_fields or unknown:
            raise ValueError(f"environment fields are among {ENVIRONMENT_FIELDS}, got {environment_fields}")
        if level_field not in LEVEL_FIELDS:
            raise ValueError(f"the level field is one of {LEVEL_FIELDS}, got {level_field}")
        self.estate = estate
        self.telemetry = telemetry
        self.user = user
        self.password = password
        self.api_key = api_key
        self.streams: list[Stream] = []
        for comp in estate.components:
            for env in comp.environments():
                for level in LOG_LEVELS:
                    for error_type in ERROR_TYPES if level == "ERROR" else (None,):
                        self.streams.append(
                            Stream(comp, comp.app, env, level, error_type, environment_fields, level_field)
                        )
        self.indices = sorted({s.index for s in self.streams})
        self.app = self._build_app()

    def _build_app(self) -> FastAPI:
        app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

        @app.middleware("http")
        async def authenticate(request: Request, call_next: Any) -> Response:
            api_key = scheme_token(request, "ApiKey")
            credentials = basic_credentials(request)
            if api_key == self.api_key or credentials == (self.user, self.password):
                response: Response = await call_next(request)
                return response
            path = request.url.path
            if api_key is None and credentials is None:
                reason = f"missing authentication credentials for REST request [{path}]"
            elif credentials is not None:
                reason = f"unable to authenticate user [{credentials[0]}] for REST request [{path}]"
            else:
                reason = (
                    "unable to authenticate with provided credentials and anonymous access is not allowed for "
                    "this request"
                )
            header = {"WWW-Authenticate": ['Basic realm="security" charset="UTF-8"', "ApiKey"]}
            body = {
                "error": {
                    "root_cause": [{"type": "security_exception", "reason": reason, "header": header}],
                    "type": "security_exception",
                    "reason": reason,
                    "header": header,
                },
                "status": 401,
            }
            return json_response(
                body, status=401, headers={"WWW-Authenticate": 'Basic realm="security" charset="UTF-8"'}
            )

        app.add_api_route("/", self.root, methods=["GET"])
        app.add_api_route("/_security/_authenticate", self.authenticate, methods=["GET"])
        for path in ("/_search", "/{index}/_search"):
            app.add_api_route(path, self.search, methods=["GET", "POST"])
        for path in ("/_count", "/{index}/_count"):
            app.add_api_route(path, self.count, methods=["GET", "POST"])
        for path in ("/_msearch", "/{index}/_msearch"):
            app.add_api_route(path, self.msearch, methods=["GET", "POST"])
        return app

    async def root(self) -> Response:
        return json_response(
            {
                "name": "es-sim-0",
                "cluster_name": "rosetta-logs",
                "cluster_uuid": hashing.stable_uuid("cluster"),
                "version": {
                    "number": "8.15.0",
                    "build_flavor": "default",
                    "build_type": "docker",
                    "lucene_version": "9.11.1",
                    "minimum_wire_compatibility_version": "7.17.0",
                    "minimum_index_compatibility_version": "7.0.0",
                },
                "tagline": "You Know, for Search",
            }
        )

    async def authenticate(self, request: Request) -> Response:
        """Who the credentials are, which any credential may ask (the middleware refused the others)."""
        by_key = scheme_token(request, "ApiKey") is not None
        return json_response(
            {
                "username": "rosetta-api-key" if by_key else self.user,
                "roles": ["logs-reader"],
                "enabled": True,
                "authentication_realm": {"name": "_es_api_key" if by_key else "default_native", "type": "native"},
                "authentication_type": "api_key" if by_key else "realm",
            }
        )

    # --- request plumbing -----------------------------------------------------------------------------------
    async def _body(self, request: Request) -> dict[str, Any]:
        raw = await request.body()
        if not raw.strip():
            return {}
        try:
            body = json.loads(raw)
        except ValueError as exc:
            raise SearchError(400, "parse_exception", f"request body is not valid JSON: {exc}") from exc
        if not isinstance(body, dict):
            raise SearchError(400, "parse_exception", "request body must be an object")
        return body

    def resolve_streams(self, expression: str | None) -> list[Stream]:
        """Index expressions: comma lists, wildcards, exclusions (-pattern); a missing concrete index is a 404."""
        if not expression or expression in ("_all", "*"):
            return list(self.streams)
        selected: set[str] = set()
        for part in expression.split(","):
            part = part.strip()
            if part.startswith("-"):
                selected -= {i for i in self.indices if fnmatch.fnmatchcase(i, part[1:])}
                continue
            matched = {i for i in self.indices if fnmatch.fnmatchcase(i, part)}
            if not matched and "*" not in part:
                raise SearchError(404, "index_not_found_exception", f"no such index [{part}]")
            selected |= matched
        return [s for s in self.streams if s.index in selected]

    async def search(self, request: Request, index: str | None = None) -> Response:
        try:
            body = await self._body(request)
            size_param = request.query_params.get("size")
            if size_param is not None:
                body.setdefault("size", int(size_param))
            result = self.run_search(index, body)
        except SearchError as exc:
            return json_response(exc.body(), status=exc.status)
        return json_response(result)

    async def count(self, request: Request, index: str | None = None) -> Response:
        try:
            body = await self._body(request)
            streams = self.resolve_streams(index)
            query = self.compile(body.get("query", {"match_all": {}}))
            total = sum(self.count_docs(s, query(s)) for s in streams)
        except SearchError as exc:
            return json_response(exc.body(), status=exc.status)
        return json_response({"count": total, "_shards": self._shards(streams)})

    async def msearch(self, request: Request, index: str | None = None) -> Response:
        lines = [line for line in (await request.body()).decode().splitlines() if line.strip()]
        responses = []
        for header_line, body_line in zip(lines[0::2], lines[1::2], strict=False):
            try:
                header = json.loads(header_line)
                body = json.loads(body_line)
                target = header.get("index", index)
                if isinstance(target, list):
                    target = ",".join(target)
                responses.append({**self.run_search(target, body), "status": 200})
            except SearchError as exc:
                responses.append(exc.body())
            except ValueError as exc:
                responses.append(SearchError(400, "parse_exception", str(exc)).body())
        return json_response({"took": 1, "responses": responses})

    @staticmethod
    def _shards(streams: list[Stream]) -> dict[str, int]:
        total = len({s.index for s in streams})
        return {"total": total, "successful": total, "skipped": 0, "failed": 0}

    # --- queries --------------------------------------------------------------------------------------------
    def now_ms(self) -> int:
        return self.estate.end_s * 1000

    def compile(self, query: dict[str, Any]) -> QueryFn:
        if not isinstance(query, dict) or len(query) != 1:
            raise SearchError(400, "parsing_exception", "query malformed, must start with start_object")
        ((kind, spec),) = query.items()
        if kind == "match_all":
            return lambda s: ALWAYS
        if kind == "match_none":
            return lambda s: []
        if kind == "bool":
            return self._bool(spec)
        if kind == "range":
            return self._range(spec)
        if kind in ("term", "match", "match_phrase"):
            ((field, value),) = spec.items()
            if isinstance(value, dict):
                value = value.get("value", value.get("query"))
            return self._keyword(field, {value})
        if kind == "terms":
            field, values = next((k, v) for k, v in spec.items() if k != "boost")
            return self._keyword(field, set(values))
        if kind == "exists":
            field = spec["field"]
            return lambda s: ALWAYS if s.field(field) is not None or field in ("@timestamp", "message") else []
        if kind in ("query_string", "simple_query_string"):
            return self._query_string(spec.get("query", "*"))
        raise SearchError(400, "parsing_exception", f"unknown query [{kind}]")

    def _keyword(self, field: str, values: set[Any]) -> QueryFn:
        if field == "@timestamp":
            raise SearchError(400, "query_shard_exception", "use a range query on [@timestamp]")
        wanted = {str(v) for v in values}
        return lambda s: ALWAYS if s.field(field) is not None and str(s.field(field)) in wanted else []

    def _range(self, spec: dict[str, Any]) -> QueryFn:
        ((field, bounds),) = spec.items()
        if field != "@timestamp":

            def numeric(s: Stream) -> Intervals:
                value = s.field(field)
                if value is None:
                    return []
                ok = all(self._compare(value, op, bounds[op]) for op in ("gt", "gte", "lt", "lte") if op in bounds)
                return ALWAYS if ok else []

            return numeric
        fmt = bounds.get("format")
        lo, hi = FAR_PAST, FAR_FUTURE
        for op in ("gt", "gte", "lt", "lte", "from", "to"):
            if op not in bounds or bounds[op] is None:
                continue
            moment = self._instant(bounds[op], fmt)
            if op in ("gte", "from"):
                lo = max(lo, moment)
            elif op == "gt":
                lo = max(lo, moment + 1)
            elif op in ("lte", "to"):
                hi = min(hi, moment + 1)
            else:
                hi = min(hi, moment)
        interval: Intervals = [(lo, hi)] if lo < hi else []
        return lambda s: interval

    @staticmethod
    def _compare(value: Any, op: str, bound: Any) -> bool:
        return {"gt": value > bound, "gte": value >= bound, "lt": value < bound, "lte": value <= bound}[op]

    def _instant(self, value: Any, fmt: str | None) -> int:
        if isinstance(value, int | float):
            return int(value)
        parsed = parse_instant_ms(str(value).replace("||", ""), self.now_ms())
        if parsed is None:
            raise SearchError(
                400,
                "parse_exception",
                f"failed to parse date field [{value}] with format "
                f"[{fmt or 'strict_date_optional_time||epoch_millis'}]",
            )
        return parsed

    def _bool(self, spec: dict[str, Any]) -> QueryFn:
        def clauses(name: str) -> list[QueryFn]:
            value = spec.get(name, [])
            items = value if isinstance(value, list) else [value]
            return [self.compile(item) for item in items]

        required = clauses("filter") + clauses("must")
        should = clauses("should")
        excluded = clauses("must_not")
        minimum = int(spec.get("minimum_should_match", 0 if required else 1)) if should else 0

        def evaluate(s: Stream) -> Intervals:
            result = ALWAYS
            for clause in required:
                result = _intersect(result, clause(s))
                if not result:
                    return []
            if should and minimum > 0:
                union: Intervals = []
                for clause in should:
                    union = _union(union, clause(s))
                result = _intersect(result, union)
            for clause in excluded:
                result = _subtract(result, clause(s))
            return result

        return evaluate

    _QS_TERM = re.compile(r'^(NOT\s+|not\s+)?([\w.@]+):(?:"([^"]*)"|(\S+))$')

    def _query_string(self, text: str) -> QueryFn:
        """The subset of Lucene/KQL used by links and connectors: field:"value" terms joined by AND/OR."""
        text = text.strip()
        if text in ("", "*"):
            return lambda s: ALWAYS
        alternatives = re.split(r"\s+(?:OR|or)\s+", text)
        branches: list[list[tuple[bool, str, str]]] = []
        for alternative in alternatives:
            terms = []
            for raw in re.split(r"\s+(?:AND|and)\s+", alternative.strip().strip("()")):
                match = self._QS_TERM.match(raw.strip())
                if not match:
                    raise SearchError(400, "query_shard_exception", f"Failed to parse query [{text}]")
                negate, field, quoted, bare = match.groups()
                terms.append((bool(negate), field, quoted if quoted is not None else bare))
            branches.append(terms)

        def evaluate(s: Stream) -> Intervals:
            for terms in branches:
                ok = True
                for negate, field, value in terms:
                    actual = s.field(field)
                    hit = actual is not None and fnmatch.fnmatchcase(str(actual), value)
                    if hit == negate:
                        ok = False
                        break
                if ok:
                    return ALWAYS
            return []

        return evaluate

    # --- counting -------------------------------------------------------------------------------------------
    def _clip(self, intervals: Intervals) -> Intervals:
        return _intersect(intervals, [(self.estate.start_s * 1000, self.estate.end_s * 1000)])

    def count_docs(self, stream: Stream, intervals: Intervals) -> int:
        return sum(
            self.telemetry.log_count_between(
                stream.component, stream.environment, stream.level, stream.error_type, lo, hi
            )
            for lo, hi in self._clip(intervals)
        )

    def run_search(self, index: str | None, body: dict[str, Any]) -> dict[str, Any]:
        streams = self.resolve_streams(index)
        query = self.compile(body.get("query", {"match_all": {}}))
        docset = [(s, self._clip(query(s))) for s in streams]
        docset = [(s, iv) for s, iv in docset if iv]
        total = sum(self.count_docs(s, iv) for s, iv in docset)
        size = int(body.get("size", 10))
        offset = int(body.get("from", 0))
        if offset + size > 10_000:
            raise SearchError(
                400,
                "illegal_argument_exception",
                f"Result window is too large, from + size must be less than or equal to: [10000] but "
                f"was [{offset + size}].",
            )
        track = body.get("track_total_hits", 10_000)
        hits_total: dict[str, Any] | None
        if track is True:
            hits_total = {"value": total, "relation": "eq"}
        elif track is False:
            hits_total = None
        else:
            cap = int(track)
            hits_total = {"value": min(total, cap), "relation": "gte" if total > cap else "eq"}
        sorted_by_time = body.get("sort") is not None
        descending = self._descending(body.get("sort"))
        hits = list(self._hits(docset, offset, size, descending, scored=not sorted_by_time)) if size > 0 else []
        hits_body: dict[str, Any] = {}
        if hits_total is not None:
            hits_body["total"] = hits_total
        hits_body["max_score"] = None if sorted_by_time or not hits else 0.0
        hits_body["hits"] = hits
        result: dict[str, Any] = {
            "took": 1 + len(docset) // 50,
            "timed_out": False,
            "_shards": self._shards(streams),
            "hits": hits_body,
        }
        aggs = body.get("aggs", body.get("aggregations"))
        # A search of no shard (a wildcard matching no index) is answered without aggregations, as Elasticsearch does.
        if aggs and streams:
            result["aggregations"] = self.aggregate(aggs, docset)
        return result

    @staticmethod
    def _descending(sort: Any) -> bool:
        if sort is None:
            return False
        items = sort if isinstance(sort, list) else [sort]
        for item in items:
            if isinstance(item, dict) and "@timestamp" in item:
                spec = item["@timestamp"]
                order = spec if isinstance(spec, str) else spec.get("order", "asc")
                return order == "desc"
            if item == "@timestamp":
                return False
        return False

    def _hits(
        self, docset: list[tuple[Stream, Intervals]], offset: int, size: int, descending: bool, scored: bool
    ) -> Iterator[dict[str, Any]]:
        """Materialise only the documents of the requested window, hour by hour."""
        if not docset:
            return
        lo = min(iv[0][0] for _, iv in docset)
        hi = max(iv[-1][1] for _, iv in docset)
        hours = range(lo - lo % 3_600_000, hi, 3_600_000)
        skipped, emitted = 0, 0
        for hour_ms in reversed(hours) if descending else hours:
            docs: list[tuple[int, Stream, int]] = []
            for stream, intervals in docset:
                count = self.telemetry.hour_log_count(
                    stream.component, stream.environment, stream.level, stream.error_type, hour_ms // 1000
                )
                for i in range(count):
                    t = hour_ms + doc_offset_ms(i, count)
                    if any(a <= t < b for a, b in intervals):
                        docs.append((t, stream, i))
            docs.sort(key=lambda d: (d[0], d[1].index, d[2]), reverse=descending)
            if skipped + len(docs) <= offset:
                skipped += len(docs)
                continue
            for t, stream, i in docs:
                if skipped < offset:
                    skipped += 1
                    continue
                yield self._document(t, stream, i, scored, descending)
                emitted += 1
                if emitted >= size:
                    return

    def _document(self, t_ms: int, stream: Stream, i: int, scored: bool, descending: bool) -> dict[str, Any]:
        comp = stream.component
        stats = self.telemetry.hour_stats(comp, stream.environment, (t_ms // 3_600_000) * 3600)
        duration_ns = int((stats.response_avg_us if stats else 1000.0) * 1000)
        status = stream.field("http.response.status_code")
        source: dict[str, Any] = {
            "@timestamp": iso_millis(t_ms),
            "message": (
                f"{stream.error_type}: request failed"
                if stream.level == "ERROR"
                else f"GET /api/{comp.suffix} {status}"
            ),
            "service": {"name": comp.name},
            "event": {"dataset": f"{stream.app}.log", "duration": duration_ns},
            "http": {
                "request": {"method": "GET"},
                "response": {"status_code": status, "bytes": 200 + hashing.int_hash(t_ms, i) % 5000},
                "version": "1.1",
            },
            "source": {"ip": f"10.{comp.index % 250}.{i % 250}.{(t_ms // 1000) % 250}"},
            "user": {"id": f"svc-{comp.name}"},
        }
        if stream.field("service.environment"):
            source["service"]["environment"] = stream.environment
        if stream.field("deployment.environment"):
            source["deployment"] = {"environment": stream.environment}
        if stream.otel:
            source["severity_text"] = stream.level
            source["severity_number"] = SEVERITY_NUMBERS[stream.level]
        else:
            source["log"] = {"level": stream.level}
        if stream.error_type and stream.otel:
            source["exception"] = {"type": stream.error_type, "message": "request failed"}
        elif stream.error_type:
            source["error"] = {"type": stream.error_type, "message": "request failed"}
        hit: dict[str, Any] = {
            "_index": stream.index,
            "_id": hashing.hex_id(20, stream.index, stream.level, stream.error_type, t_ms, i),
            "_score": 0.0 if scored else None,
            "_source": source,
        }
        if not scored:
            hit["sort"] = [t_ms]
        return hit

    # --- aggregations ---------------------------------------------------------------------------------------
    def aggregate(self, aggs: dict[str, Any], docset: list[tuple[Stream, Intervals]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, spec in aggs.items():
            sub = spec.get("aggs", spec.get("aggregations"))
            kinds = [k for k in spec if k not in ("aggs", "aggregations", "meta")]
            if len(kinds) != 1:
                raise SearchError(400, "parsing_exception", f"Expected one aggregation type for [{name}]")
            kind = kinds[0]
            body = spec[kind]
            if kind == "date_histogram":
                out[name] = self._date_histogram(name, body, docset, sub)
            elif kind == "terms":
                out[name] = self._terms(body, docset, sub)
            elif kind == "composite":
                out[name] = self._composite(name, body, docset, sub)
            elif kind == "filter":
                query = self.compile(body)
                narrowed = [(s, _intersect(iv, query(s))) for s, iv in docset]
                out[name] = self._bucket({}, narrowed, sub)
            elif kind == "filters":
                filters = body.get("filters", {})
                buckets = {
                    key: self._bucket({}, [(s, _intersect(iv, self.compile(q)(s))) for s, iv in docset], sub)
                    for key, q in filters.items()
                }
                out[name] = {"buckets": buckets}
            elif kind in ("value_count", "avg", "sum", "min", "max", "cardinality"):
                out[name] = {"value": self._metric(kind, body.get("field", ""), docset)}
            else:
                raise SearchError(
                    400,
                    "x_content_parse_exception",
                    f"[1:1] unknown field [{kind}]",
                    {"type": "named_object_not_found_exception", "reason": f"[1:1] unknown field [{kind}]"},
                )
        return out

    def _bucket(
        self,
        head: dict[str, Any],
        docset: list[tuple[Stream, Intervals]],
        sub: dict[str, Any] | None,
        doc_count: int | None = None,
    ) -> dict[str, Any]:
        bucket = dict(head)
        bucket["doc_count"] = doc_count if doc_count is not None else sum(self.count_docs(s, iv) for s, iv in docset)
        if sub:
            bucket.update(self.aggregate(sub, docset))
        return bucket

    def _time_extent(self, docset: list[tuple[Stream, Intervals]]) -> tuple[int, int] | None:
        if not docset:
            return None
        return min(iv[0][0] for _, iv in docset), max(iv[-1][1] for _, iv in docset)

    def _date_histogram(
        self, name: str, spec: dict[str, Any], docset: list[tuple[Stream, Intervals]], sub: dict[str, Any] | None
    ) -> dict[str, Any]:
        if spec.get("field") != "@timestamp":
            raise SearchError(
                400,
                "illegal_argument_exception",
                f"Field [{spec.get('field')}] of type [keyword] is not supported for aggregation [date_histogram]",
            )
        rule = bucketing(spec, name)
        min_doc_count = int(spec.get("min_doc_count", 0))
        extent = self._time_extent(docset)
        bounds = spec.get("extended_bounds")
        lo = hi = None
        if extent:
            lo, hi = extent[0], extent[1] - 1
        if bounds:
            bmin = self._instant(bounds["min"], rule.fmt)
            bmax = self._instant(bounds["max"], rule.fmt)
            lo = bmin if lo is None else min(lo, bmin)
            hi = bmax if hi is None else max(hi, bmax)
        if lo is None or hi is None:
            return {"buckets": []}
        buckets: list[tuple[int, list[tuple[Stream, Intervals]], int]] = []
        start = rule.floor(lo)
        while start <= hi:
            if len(buckets) >= MAX_BUCKETS:
                raise SearchError(
                    400,
                    "too_many_buckets_exception",
                    f"Trying to create too many buckets. Must be less than or equal to: [{MAX_BUCKETS}].",
                )
            end = rule.next(start)
            narrowed = [(s, _intersect(iv, [(start, end)])) for s, iv in docset]
            narrowed = [(s, iv) for s, iv in narrowed if iv]
            count = sum(self.count_docs(s, iv) for s, iv in narrowed)
            buckets.append((start, narrowed, count))
            start = end
        if not bounds and min_doc_count == 0:
            # Without extended_bounds the histogram spans first to last non-empty bucket only.
            non_empty = [i for i, b in enumerate(buckets) if b[2] > 0]
            buckets = buckets[non_empty[0] : non_empty[-1] + 1] if non_empty else []
        return {
            "buckets": [
                self._bucket({"key_as_string": rule.key_as_string(key), "key": key}, narrowed, sub, count)
                for key, narrowed, count in buckets
                if count >= min_doc_count
            ]
        }

    def _terms(
        self, spec: dict[str, Any], docset: list[tuple[Stream, Intervals]], sub: dict[str, Any] | None
    ) -> dict[str, Any]:
        field = spec.get("field", "")
        size = int(spec.get("size", 10))
        min_doc_count = int(spec.get("min_doc_count", 1))
        groups: dict[Any, list[tuple[Stream, Intervals]]] = {}
        for stream, intervals in docset:
            value = stream.field(field)
            if value is not None:
                groups.setdefault(value, []).append((stream, intervals))
        counted = [
            (value, members, sum(self.count_docs(s, iv) for s, iv in members)) for value, members in groups.items()
        ]
        counted = [c for c in counted if c[2] >= min_doc_count]
        order = spec.get("order", {"_count": "desc"})
        if isinstance(order, list):
            order = order[0]
        ((order_key, direction),) = order.items()
        if order_key == "_key":
            counted.sort(key=lambda c: c[0], reverse=direction == "desc")
        else:
            counted.sort(key=lambda c: (-c[2] if direction == "desc" else c[2], str(c[0])))
        kept = counted[:size]
        return {
            "doc_count_error_upper_bound": 0,
            "sum_other_doc_count": sum(c[2] for c in counted[size:]),
            "buckets": [self._bucket({"key": value}, members, sub, count) for value, members, count in kept],
        }

    def _composite(
        self, name: str, spec: dict[str, Any], docset: list[tuple[Stream, Intervals]], sub: dict[str, Any] | None
    ) -> dict[str, Any]:
        size = int(spec.get("size", 10))
        after = spec.get("after")
        sources = []
        for source in spec.get("sources", []):
            ((source_name, definition),) = source.items()
            ((kind, body),) = definition.items()
            sources.append((source_name, kind, body))
        if not sources:
            raise SearchError(400, "illegal_argument_exception", "Composite [sources] cannot be null or empty")
        if after is not None:
            _check_after(after, sources)
        buckets: list[dict[str, Any]] = []

        def walk(level: int, key: dict[str, Any], subset: list[tuple[Stream, Intervals]]) -> bool:
            """Depth-first over source values in key order; returns False once `size` buckets are collected."""
            if level == len(sources):
                if after is not None and tuple(_nulls_first(key[n]) for n, _, _ in sources) <= tuple(
                    _nulls_first(after.get(n)) for n, _, _ in sources
                ):
                    return True
                count = sum(self.count_docs(s, iv) for s, iv in subset)
                if count > 0:
                    buckets.append(self._bucket({"key": dict(key)}, subset, sub, count))
                return len(buckets) < size
            source_name, kind, body = sources[level]
            if kind == "terms":
                # Documents without the field make no bucket, unless missing_bucket asks for one keyed null.
                missing = bool(body.get("missing_bucket", False))
                groups: dict[Any, list[tuple[Stream, Intervals]]] = {}
                for stream, intervals in subset:
                    value = stream.field(body.get("field", ""))
                    if value is not None or missing:
                        groups.setdefault(value, []).append((stream, intervals))
                # Keys come in ascending order, the null key first (the defaults "order": "asc" and
                # "missing_order": "default"; others are not simulated).
                for value in sorted(groups, key=_nulls_first):
                    if after is not None and level == 0 and _nulls_first(value) < _nulls_first(after.get(source_name)):
                        continue
                    if not walk(level + 1, {**key, source_name: value}, groups[value]):
                        return False
                return True
            if kind == "date_histogram":
                rule = bucketing(body, name)
                extent = self._time_extent(subset)
                if extent is None:
                    return True
                start = rule.floor(extent[0])
                while start < extent[1]:
                    end = rule.next(start)
                    narrowed = [(s, _intersect(iv, [(start, end)])) for s, iv in subset]
                    narrowed = [(s, iv) for s, iv in narrowed if iv]
                    bucket_key: Any = rule.key_as_string(start) if body.get("format") else start
                    if narrowed and not walk(level + 1, {**key, source_name: bucket_key}, narrowed):
                        return False
                    start = end
                return True
            raise SearchError(400, "illegal_argument_exception", f"Unsupported composite source [{kind}]")

        walk(0, {}, docset)
        result: dict[str, Any] = {}
        if buckets:
            result["after_key"] = dict(buckets[-1]["key"])
        result["buckets"] = buckets
        return result

    def _metric(self, kind: str, field: str, docset: list[tuple[Stream, Intervals]]) -> float | int | None:
        if kind == "cardinality":
            return len(
                {s.field(field) for s, iv in docset if s.field(field) is not None and self.count_docs(s, iv) > 0}
            )
        pairs: list[tuple[int, float]] = []
        for stream, intervals in docset:
            if field == "event.duration":
                for lo, hi in self._clip(intervals):
                    for hour_ms in range(lo - lo % 3_600_000, hi, 3_600_000):
                        count = self.telemetry.log_count_between(
                            stream.component,
                            stream.environment,
                            stream.level,
                            stream.error_type,
                            max(lo, hour_ms),
                            min(hi, hour_ms + 3_600_000),
                        )
                        if count:
                            stats = self.telemetry.hour_stats(stream.component, stream.environment, hour_ms // 1000)
                            pairs.append((count, (stats.response_avg_us if stats else 1000.0) * 1000))
            else:
                value = stream.field(field)
                if isinstance(value, int | float) and not isinstance(value, bool):
                    count = self.count_docs(stream, intervals)
                    if count:
                        pairs.append((count, float(value)))
                elif value is not None and kind == "value_count":
                    pairs.append((self.count_docs(stream, intervals), 0.0))
        n = sum(c for c, _ in pairs)
        if kind == "value_count":
            return n
        if n == 0:
            return None if kind != "sum" else 0.0
        if kind == "avg":
            return sum(c * v for c, v in pairs) / n
        if kind == "sum":
            return sum(c * v for c, v in pairs)
        if kind == "max":
            return max(v for c, v in pairs if c)
        return min(v for c, v in pairs if c)
