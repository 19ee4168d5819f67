"""Kibana Discover links: `_g` (time) and `_a` (data view, query) as rison, percent-encoded, in the 7.10+/8.x form."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from urllib.parse import quote

import rison

from lakehouse.settings import without_credentials

# Every character outside letters, digits and `_.-~` is percent-encoded, rison punctuation included, as
# elastalert2 does; Kibana decodes either form, and the link stays intact in HTML, Markdown or chat.
SAFE = ""
LINE_BREAK = re.compile(r"\r\n|\r|\n")


def discover_url(
    kibana_url: str,
    *,
    data_view_id: str,
    query: str,
    time_from: str,
    time_to: str,
    space: str | None = None,
    language: str = "kuery",
) -> str:
    """`{kibana}[/s/{space}]/app/discover#/?_g=(...)&_a=(...)` with the data view id, a KQL query and a time range."""
    # Every reader gets the link: a user and password written into the configured URL stay out of it.
    base = str(without_credentials(kibana_url)).rstrip("/")
    if space and space != "default":
        base += f"/s/{quote(space, safe='')}"
    global_state = {
        "filters": [],
        "refreshInterval": {"pause": True, "value": 0},
        "time": {"from": time_from, "to": time_to},
    }
    app_state = {
        "columns": [],
        "filters": [],
        "index": data_view_id,
        "interval": "auto",
        # A template written on several lines: its line breaks are whitespace to KQL, and rison (2.0.1) writes a
        # string whose first line is a bare word unquoted, which no rison reader reads back. Spaces they are.
        "query": {"language": language, "query": LINE_BREAK.sub(" ", query)},
        "sort": [["@timestamp", "desc"]],
    }
    g = quote(rison.dumps(global_state), safe=SAFE)
    a = quote(rison.dumps(app_state), safe=SAFE)
    return f"{base}/app/discover#/?_g={g}&_a={a}"


def last_included(time_to: str) -> str:
    """Discover's `to` for a period whose end is excluded: Kibana searches up to and including the instant `to`
    names (lte), so a line stamped at the end, the first of the next hour, would show beside the period's own; the
    millisecond before it is the last one in. A relative `to` (now) is Kibana's own and kept."""
    if time_to.startswith("now"):
        return time_to
    last = datetime.fromisoformat(time_to) - timedelta(milliseconds=1)
    return last.strftime("%Y-%m-%dT%H:%M:%S.") + f"{last.microsecond // 1000:03d}Z"
