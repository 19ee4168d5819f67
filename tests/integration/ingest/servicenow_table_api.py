"""A ServiceNow Table API over HTTP for the tests: one table in memory, read with the encoded-query terms the
collector writes, paged by offset with X-Total-Count and Link rel="next", as seen by a user in a given time zone."""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

FORMAT = "%Y-%m-%d %H:%M:%S"
DATE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
DATE_GENERATE = re.compile(r"javascript:gs\.dateGenerate\('([\d-]+)','([\d:]+)'\)")
CONDITION = re.compile(r"([a-z_]+)(>=|>|<)(.+)")
# Stored values are text: ServiceNow compares dates ('yyyy-MM-dd HH:mm:ss') and sys_ids as text.
OPERATORS: dict[str, Callable[[str, str], bool]] = {">=": operator.ge, ">": operator.gt, "<": operator.lt}


def shifted(stamp: str, by: timedelta) -> str:
    return (datetime.strptime(stamp, FORMAT).replace(tzinfo=UTC) + by).strftime(FORMAT)


class FakeTableApi:
    """ServiceNow's Table API for one table, whose records are dicts of stored values (dates in UTC). As ServiceNow
    does for a user whose time zone is `zone` (its offset from UTC), a `gs.dateGenerate` bound is read in that zone
    and dates' display values are shown in it. `after_page` is called with the number of pages served once each is
    computed, before it is sent: what changes in ServiceNow while the collector reads. The unversioned path answers
    as `default_version` does: v1 answers a page with no record 404 "No Record found", v2 an empty list."""

    def __init__(
        self, table: str, records: list[dict[str, str]], zone: timedelta = timedelta(0), default_version: str = "v2"
    ) -> None:
        self.table = table
        self.records = records
        self.zone = zone
        self.default_version = default_version
        self.paths: list[str] = []
        self.queries: list[dict[str, str]] = []
        self.after_page: Callable[[int], None] = lambda served: None

    def listing(self, params: dict[str, str]) -> tuple[dict[str, Any], dict[str, str], str]:
        """The page asked for, its headers, and the query the Link header's next page carries."""
        rows, order = list(self.records), []
        for term in filter(None, params.get("sysparm_query", "").split("^")):
            if term.startswith("ORDERBYDESC"):
                order.append((term.removeprefix("ORDERBYDESC"), True))
            elif term.startswith("ORDERBY"):
                order.append((term.removeprefix("ORDERBY"), False))
            else:
                match = CONDITION.fullmatch(term)
                if match is None:
                    raise ValueError(f"a term this fake does not read: {term}")
                field, op, value = match.groups()
                bound = self.stored(value)
                rows = [r for r in rows if r.get(field, "") != "" and OPERATORS[op](r[field], bound)]
        for field, descending in reversed(order):
            rows.sort(key=operator.itemgetter(field), reverse=descending)
        offset, limit = int(params.get("sysparm_offset", 0)), int(params.get("sysparm_limit", 10_000))
        fields = [f for f in params.get("sysparm_fields", "").split(",") if f]
        shown = params.get("sysparm_display_value", "false") == "all"
        body = {"result": [{f: self.cell(r.get(f, ""), shown) for f in fields} for r in rows[offset : offset + limit]]}
        following = urlencode({**params, "sysparm_offset": offset + limit}) if offset + limit < len(rows) else ""
        return body, {"X-Total-Count": str(len(rows))}, following

    def stored(self, literal: str) -> str:
        """A query literal as the stored UTC text it is compared with: a dateGenerate is read in the user's zone."""
        match = DATE_GENERATE.fullmatch(literal)
        if match is None:
            return literal
        return shifted(f"{match.group(1)} {match.group(2)}", -self.zone)

    def cell(self, value: str, shown: bool) -> Any:
        if not shown:
            return value
        display = shifted(value, self.zone) if DATE.fullmatch(value) else value
        return {"display_value": display, "value": value}

    def handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class TableApi(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                params = {k: v[-1] for k, v in parse_qs(url.query).items()}
                versions = {
                    f"/api/now/table/{api.table}": api.default_version,
                    f"/api/now/v1/table/{api.table}": "v1",
                    f"/api/now/v2/table/{api.table}": "v2",
                }
                version = versions.get(url.path)
                if version is None:
                    return self.answer(404, {"error": {"message": "No Record found"}, "status": "failure"}, {})
                api.queries.append(params)
                api.paths.append(url.path)
                try:
                    body, headers, following = api.listing(params)
                except ValueError as error:
                    return self.answer(400, {"error": {"message": str(error)}, "status": "failure"}, {})
                if version == "v1" and not body["result"]:
                    return self.answer(404, {"error": {"message": "No Record found"}, "status": "failure"}, {})
                if following:
                    headers["Link"] = f'<http://{self.headers["Host"]}{url.path}?{following}>;rel="next"'
                api.after_page(len(api.queries))
                self.answer(200, body, headers)

            def answer(self, status: int, body: Any, headers: dict[str, str]) -> None:
                payload = json.dumps(body).encode()
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        return TableApi
