"""ServiceNow Table API simulator (plus the Change Management API's single-change read)."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import quote_plus

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from simulators.encoded_query import EncodedQuery, matcher, parse_encoded_query
from simulators.estate import Estate
from simulators.faults import request_faults
from simulators.model import at
from simulators.servicenow_tables import INTEGERS, REFERENCES, Table, build_tables, sn_datetime
from simulators.web import basic_credentials, json_response

DEFAULT_LIMIT = 10_000


def error_body(message: str, detail: str | None) -> dict[str, Any]:
    return {"error": {"message": message, "detail": detail}, "status": "failure"}


def shape_error(status: int, message: str) -> tuple[bytes, dict[str, str]]:
    if status == 429:
        body = error_body("Rate limit exceeded", "Rate limit of 10 requests per hour for Table API exceeded")
    else:
        body = error_body(message, None)
    return json.dumps(body).encode(), {}


class ServiceNowSimulator:
    def __init__(self, estate: Estate, user: str, password: str) -> None:
        self.estate = estate
        self.user = user
        self.password = password
        self.now = estate.end
        self.tables = build_tables(estate)
        self.index: dict[str, tuple[Table, Any]] = {}
        for name in (
            "incident",
            "change_request",
            "problem",
            "task_sla",
            "cmdb_ci",
            "sys_user_group",
            "sys_user",
            "sys_user_role",
            "cmn_department",
            "contract_sla",
        ):
            table = self.tables[name]
            for record in table.rows:
                self.index[table.sys_id(record)] = (table, record)
        self._orderings: OrderedDict[tuple[str, int, str], list[Any]] = OrderedDict()
        self._lock = threading.Lock()
        self._clock = estate.end_s
        self.app = self._build_app()

    def _build_app(self) -> FastAPI:
        app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

        @app.middleware("http")
        async def authenticate(request: Request, call_next: Any) -> Response:
            if basic_credentials(request) != (self.user, self.password):
                return json_response(
                    error_body("User Not Authenticated", "Required to provide Auth information"),
                    status=401,
                    headers={"WWW-Authenticate": 'Basic realm="Service-now"'},
                )
            response: Response = await call_next(request)
            return response

        for prefix, version in (("/api/now/table", "v2"), ("/api/now/v2/table", "v2"), ("/api/now/v1/table", "v1")):
            app.add_api_route(f"{prefix}/{{table}}", self._list_route(version), methods=["GET"])
            app.add_api_route(f"{prefix}/{{table}}/{{sys_id}}", self.get_record, methods=["GET"])
        app.add_api_route("/api/sn_chg_rest/change/{sys_id}", self.change_api, methods=["GET"])
        app.add_api_route("/api/sn_chg_rest/v1/change/{sys_id}", self.change_api, methods=["GET"])
        return app

    # --- field access ---------------------------------------------------------------------------------------
    def target_table(self, reference_field: str) -> Table | None:
        target = REFERENCES.get(reference_field)
        return self.tables.get("incident" if target == "task" else target or "")

    def knows(self, table: Table, name: str) -> bool:
        head, _, rest = name.partition(".")
        if not rest:
            return table.knows(head)
        target = self.target_table(head)
        return head in REFERENCES and target is not None and self.knows(target, rest)

    def resolve(self, table: Table, record: Any, name: str) -> tuple[Table, Any, str] | None:
        """Follow a dot-walked name (`assignment_group.name`) to the table, record and field it reads."""
        head, _, rest = name.partition(".")
        if not rest:
            return table, record, head
        found = self.index.get(table.value(record, head))
        if found is None:
            return None
        return self.resolve(found[0], found[1], rest)

    def value(self, table: Table, record: Any, name: str) -> str:
        resolved = self.resolve(table, record, name)
        return "" if resolved is None else resolved[0].value(resolved[1], resolved[2])

    def display_of(self, sys_id: str) -> str:
        found = self.index.get(sys_id)
        return found[0].display(found[1]) if found else sys_id

    def render_field(self, table: Table, record: Any, name: str, mode: str, exclude_link: bool, base: str) -> Any:
        resolved = self.resolve(table, record, name)
        if resolved is None:
            return "" if mode != "all" else {"display_value": "", "value": ""}
        owner, owner_record, field = resolved
        raw = owner.value(owner_record, field)
        if owner.kind(field) == "reference":
            if raw == "":
                return "" if mode != "all" else {"display_value": "", "value": ""}
            link = f"{base}/api/now/table/{REFERENCES[field]}/{raw}"
            display = self.display_of(raw)
            if mode == "false":
                return raw if exclude_link else {"link": link, "value": raw}
            if mode == "true":
                return display if exclude_link else {"display_value": display, "link": link}
            return (
                {"display_value": display, "value": raw}
                if exclude_link
                else {"display_value": display, "link": link, "value": raw}
            )
        choices = owner.choices(field)
        display = choices.get(raw, raw) if choices else raw
        if mode == "false":
            return raw
        if mode == "true":
            return display
        return {"display_value": display, "value": raw}

    def render(
        self, table: Table, record: Any, fields: list[str], mode: str, exclude_link: bool, base: str
    ) -> dict[str, Any]:
        return {name: self.render_field(table, record, name, mode, exclude_link, base) for name in fields}

    # --- listing --------------------------------------------------------------------------------------------
    def ordered(self, table: Table, query_text: str) -> list[Any]:
        """Matching records in query order; cached per query because pages re-run the same query."""
        key = (table.name, table.version, query_text)
        with self._lock:
            cached = self._orderings.get(key)
            if cached is not None:
                self._orderings.move_to_end(key)
                return cached
        query = parse_encoded_query(query_text, now=self.now)
        accept = matcher(query, lambda name: self.knows(table, name))

        def reader(record: Any) -> Callable[[str], str]:
            return lambda name: self.value(table, record, name)

        rows = [r for r in table.rows if accept(reader(r))]
        for field, descending in reversed(self._known_order(table, query)):
            numeric = field.rpartition(".")[2] in INTEGERS

            def sort_key(r: Any, field: str = field, numeric: bool = numeric) -> Any:
                text = self.value(table, r, field)
                if numeric:
                    try:
                        return (0, float(text))
                    except ValueError:
                        return (1, 0.0)
                return text

            rows.sort(key=sort_key, reverse=descending)
        with self._lock:
            self._orderings[key] = rows
            while len(self._orderings) > 16:
                self._orderings.popitem(last=False)
        return rows

    def _known_order(self, table: Table, query: EncodedQuery) -> list[tuple[str, bool]]:
        return [(f, d) for f, d in query.order if self.knows(table, f)]

    def drift(self, table: Table, query_text: str, offset: int, request_number: int) -> None:
        """A record already served moves forward in time: offset paging ordered by update time skips one."""
        rows = self.ordered(table, query_text)
        if not rows or offset <= 0:
            return
        victim = rows[request_number % min(offset, len(rows))]
        with self._lock:
            self._clock += 1
            moved = table.drift.get(table.sys_id(victim), ("", 0))
            table.drift[table.sys_id(victim)] = (sn_datetime(self._clock), moved[1] + 1)
            table.version += 1

    def _list_route(self, version: str) -> Any:
        async def list_records(table: str, request: Request) -> Response:
            return self.list_records(table, request, version)

        return list_records

    def list_records(self, table_name: str, request: Request, version: str) -> Response:
        table = self.tables.get(table_name)
        if table is None:
            return json_response(error_body(f"Invalid table {table_name}", None), status=400)
        params = request.query_params
        try:
            limit = int(params.get("sysparm_limit") or DEFAULT_LIMIT)
            offset = int(params.get("sysparm_offset") or 0)
        except ValueError:
            return json_response(error_body("Invalid sysparm_limit or sysparm_offset", None), status=400)
        query_text = params.get("sysparm_query", "")
        if "drift" in request_faults(request.state):
            self.drift(table, query_text, offset, int(getattr(request.state, "request_number", 0)))
        rows = self.ordered(table, query_text)
        page = rows[offset : offset + max(0, limit)]
        mode = (params.get("sysparm_display_value") or "false").lower()
        mode = mode if mode in ("true", "false", "all") else "false"
        exclude_link = (params.get("sysparm_exclude_reference_link") or "false").lower() == "true"
        fields = self._fields(table, params.get("sysparm_fields"))
        base = str(request.base_url).rstrip("/")
        if version == "v1" and not page:
            return json_response(
                error_body(
                    "No Record found", "Records matching query not found. Check query parameter or offset parameter"
                ),
                status=404,
            )
        body = {"result": [self.render(table, r, fields, mode, exclude_link, base) for r in page]}
        headers: dict[str, str] = {}
        if (params.get("sysparm_no_count") or "false").lower() != "true":
            headers["X-Total-Count"] = str(len(rows))
        if (params.get("sysparm_suppress_pagination_header") or "false").lower() != "true":
            headers["Link"] = self._links(base + request.url.path, dict(params), offset, limit, len(rows))
        return json_response(body, headers=headers)

    def _fields(self, table: Table, requested: str | None) -> list[str]:
        if not requested:
            return list(table.fields)
        # Unknown names are left out of the answer, as the real API does.
        return [f.strip() for f in requested.split(",") if f.strip() and self.knows(table, f.strip())]

    @staticmethod
    def _links(url: str, params: dict[str, str], offset: int, limit: int, total: int) -> str:
        def link(at_offset: int, rel: str) -> str:
            query = {**params, "sysparm_offset": str(at_offset), "sysparm_limit": str(limit)}
            # A real instance writes the fields list with bare commas, the query's own commas encoded.
            text = "&".join(
                f"{quote_plus(k)}={quote_plus(v, safe=',' if k == 'sysparm_fields' else '')}" for k, v in query.items()
            )
            return f'<{url}?{text}>;rel="{rel}"'

        last = max(0, ((total - 1) // limit) * limit) if limit > 0 and total else 0
        links = [link(0, "first")]
        if offset > 0:
            links.append(link(max(0, offset - limit), "prev"))
        if offset + limit < total:
            links.append(link(offset + limit, "next"))
        links.append(link(last, "last"))
        return ",".join(links)

    # --- single records -------------------------------------------------------------------------------------
    def get_record(self, table: str, sys_id: str, request: Request) -> Response:
        found = self.index.get(sys_id)
        served = self.tables.get(table)
        if table != "task" and served is None:
            return json_response(error_body(f"Invalid table {table}", None), status=400)
        if found is None or (table not in ("task", found[0].name) and not table.startswith("cmdb_ci")):
            return json_response(
                error_body("No Record found", "Record doesn't exist or ACL restricts the record retrieval"), status=404
            )
        owner, record = found
        params = request.query_params
        mode = (params.get("sysparm_display_value") or "false").lower()
        exclude_link = (params.get("sysparm_exclude_reference_link") or "false").lower() == "true"
        fields = self._fields(owner, params.get("sysparm_fields"))
        base = str(request.base_url).rstrip("/")
        return json_response({"result": self.render(owner, record, fields, mode, exclude_link, base)})

    def change_api(self, sys_id: str) -> Response:
        """The Change Management API answers value/display pairs, with numbers and booleans typed."""
        found = self.index.get(sys_id)
        if found is None or found[0].name != "change_request":
            return json_response(error_body("No Record found", "Record doesn't exist"), status=404)
        table, record = found
        result: dict[str, Any] = {}
        for name in table.fields:
            raw = table.value(record, name)
            kind = table.kind(name)
            choices = table.choices(name)
            display = choices.get(raw, raw) if choices else raw
            value: Any = raw
            if kind == "integer" and raw != "":
                value = float(raw)
            elif kind == "boolean":
                value = raw == "true"
            elif kind == "reference" and raw:
                display = self.display_of(raw)
            entry: dict[str, Any] = {"display_value": display, "value": value}
            if kind == "datetime":
                entry["display_value_internal"] = raw
            result[name] = entry
        return json_response({"result": result})


def parse_sn_datetime(text: str) -> datetime | None:
    """The inverse of sn_datetime, for tests and clients."""
    if not text:
        return None
    return at(int(datetime.fromisoformat(text.replace(" ", "T") + "+00:00").timestamp()))
