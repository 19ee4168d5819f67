"""The ServiceNow Table API: basic auth, offset paging on Link rel="next", incremental on sys_updated_on; a whole
table paged by sys_id.

Offset paging over a table that changes while we read it skips and repeats rows. Repeats vanish when rows
are merged on (sys_id, sys_updated_on). Skips are caught by re-scanning: when a record comes back with a newer
version (it moved to the end, so everything after its old place slid back by one) the table is read again
from the old version's time; when the total count drops (a record left the window), or when the source counts
more records in the window than were read or hidden, it is read again whole, with large pages. A record the parser
sets aside (no object, no sys_id, no readable sys_updated_on) was read all the same: it counts as read, once. A record
inserted before the read position shifts the others forward, and the one at the page boundary comes again at the
start of the next page: one with a sys_id counts once however often a pass meets it. One without cannot be told from
another alike, so a pass meeting the same such text on two pages is taken only once a pass over the same window agrees
with it, as for hidden records (below).

X-Total-Count also counts the records ACLs hide from the integration user: they are dropped after the count and
the limit, so a page bringing fewer records than were counted for it tells how many were hidden there. A hidden
record that moves is never seen twice, so a pass that hid records over several pages is only taken once a second
pass over the same window agrees with it.

A whole table (the daily CMDB snapshot) needs no update-time order: it is paged by sys_id, each page starting after
the last sys_id read. No update moves a record in that order, so CIs that Discovery keeps updating while the CMDB is
read neither shift nor trigger re-reads.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

from pydantic import SecretStr

from lakehouse.ingest.client import ApiResponse, PageRequest, SourceClient
from lakehouse.ingest.errors import PagingBroken, SourceError, SourceUnavailable
from lakehouse.ingest.paginators import OffsetLinkPaginator

# The Table API named by its version: an instance whose default version is v1 answers a query that matches
# nothing with a 404 "No Record found" on the unversioned path, where v2 answers 200 and an empty list.
TABLE_API = "/api/now/v2/table"
MAX_PASSES = 8
# Re-scans cover rows already read once: big pages make them short, and a record can only be skipped when it
# moves between two pages of the same scan.
RESCAN_PAGE_SIZE = 10_000
# Time zones are at most 14 hours from UTC: a larger difference is another date format, not a zone.
MAX_ZONE_OFFSET = timedelta(hours=14)
# The time a display value ends with, whatever the user's date format: HH:mm:ss, or hh:mm:ss with AM/PM.
TIME_OF_DAY = re.compile(r"(\d{1,2}):(\d{2}):(\d{2})(?:\s*([AaPp])\.?[Mm]\.?)?$")
DAY_SECONDS = 86_400
# How ServiceNow stores a date: what the parser reads, zero-padded ('2024-03-04 10:00:00').
STORED_DATE = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")


def date_literal(moment: datetime) -> str:
    """A UTC instant as an encoded-query literal (the service account's time zone must be UTC)."""
    stamp = moment.astimezone(UTC)
    return f"javascript:gs.dateGenerate('{stamp:%Y-%m-%d}','{stamp:%H:%M:%S}')"


def updated_query(since: datetime, until: datetime | None) -> str:
    parts = [f"sys_updated_on>={date_literal(since)}"]
    if until is not None:
        parts.append(f"sys_updated_on<{date_literal(until)}")
    # A total order: ties on sys_updated_on would otherwise come back in any order between pages.
    parts.append("ORDERBYsys_updated_on^ORDERBYsys_id")
    return "^".join(parts)


def _stamp(cell: Any) -> str:
    value = cell.get("value") if isinstance(cell, dict) else cell
    return value if isinstance(value, str) else ""


def _readable(record: Any) -> bool:
    """Whether the parser can keep the record: an object with a sys_id and a ServiceNow date as sys_updated_on."""
    if not isinstance(record, dict) or not _stamp(record.get("sys_id")):
        return False
    stamp = _stamp(record.get("sys_updated_on"))
    return STORED_DATE.fullmatch(stamp) is not None and _parse(stamp) is not None


class ServiceNowClient(SourceClient):
    source = "servicenow"
    credential_settings = "ROSETTA_SERVICENOW_USER and ROSETTA_SERVICENOW_PASSWORD"
    listed_under = "result"

    def __init__(self, base_url: str, user: str, password: SecretStr, **options: Any) -> None:
        super().__init__(base_url, auth=(user, password), **options)
        # What the last count check found: the records held (hidden ones included) and the source's count.
        self.last_count: tuple[int, int] | None = None

    @property
    def rescans(self) -> int:
        """Windows read again because records moved, left or hid while they were paged."""
        return self.counters.reads_again

    def updated_records(
        self, table: str, fields: list[str], since: datetime, until: datetime | None, page_size: int
    ) -> Iterator[ApiResponse]:
        """Pages of records updated in [since, until), the window read again whole when drift may have hidden some.
        Not from the old time of the record seen moving alone: a record an earlier move hid may lie before it, that
        move's record itself skipped by a later one and so never seen twice."""
        size = page_size
        self.last_count = None
        latest: dict[str, str] = {}
        previous: tuple[int, frozenset[tuple[str, str]], frozenset[tuple[str, int]]] | None = None
        for scan in range(MAX_PASSES):
            again = False
            seen: dict[str, str] = {}
            total: int | None = None
            hidden = pages = 0
            unreadable = _Unreadable()
            for response in self._pass(table, fields, since, until, size):
                yield response
                pages += 1
                count = response.headers.get("x-total-count")
                if count is not None and count.isascii() and count.isdigit():
                    if total is not None and int(count) < total:
                        again = True
                    total = int(count)
                    hidden += _hidden_rows(response, total)
                set_aside: list[Any] = []
                for record in (response.body or {}).get("result") or []:
                    if isinstance(record, dict):
                        self._refuse_another_zone(table, record.get("sys_updated_on"))
                    if not _readable(record):
                        set_aside.append(record)
                        continue
                    sys_id, stamp = _stamp(record.get("sys_id")), _stamp(record.get("sys_updated_on"))
                    before = seen.get(sys_id)
                    if before is not None and before != stamp:
                        again = True
                    seen[sys_id] = stamp
                    latest[sys_id] = max(stamp, latest.get(sys_id, ""))
                # The parser sets them aside; counted, they are no records the paging lost.
                unreadable.add_page(set_aside)
            if scan == 0 and not seen:
                self._check_zone_on_latest(table)
            # A hidden record that moves during the pass is never seen twice: counted hidden twice, it stands in for
            # the visible record its move shifted over a page boundary, and the count check passes. So a pass that
            # hid records over several pages is trusted only when it agrees with the pass before it (same records,
            # as many hidden); otherwise the window is read again. A single page cannot shift under itself. So is a
            # pass that met a record without a sys_id on two pages: it may be one record shifted, counted twice.
            this = (hidden, frozenset(seen.items()), frozenset(unreadable.unnamed.items()))
            if ((hidden and pages > 1) or unreadable.on_two_pages) and this != previous:
                again = True
            if not again and self._complete(table, since, until, latest, hidden, unreadable.count(seen)):
                return
            previous = this
            self.counters.reads_again += 1
            size = max(page_size, RESCAN_PAGE_SIZE)
        # The count may be what disagrees (a source counting records it never lists): the error says both numbers.
        counted = (
            f", the last holding {self.last_count[0]} of the {self.last_count[1]} counted" if self.last_count else ""
        )
        raise SourceUnavailable(
            self.source,
            f"{table}: records kept moving while being paged ({MAX_PASSES} scans{counted}); run again later",
        )

    def every_record(self, table: str, fields: list[str], page_size: int) -> Iterator[ApiResponse]:
        """Pages of every record of the table, in sys_id order, each from the last sys_id read, until a page brings
        nothing. A short page is no end: ACLs drop records after the limit. A page they emptied whole gives no sys_id
        to go on from: the next one is asked past it, at an offset, while the source counts records beyond. So is a page
        whose records all lack a sys_id, or are no objects (the parser sets them aside)."""
        after, offset = "", 0
        while True:
            response = self.send(PageRequest(f"{TABLE_API}/{table}", _after_sys_id(after, fields, offset, page_size)))
            listed = (response.body or {}).get("result") or []
            records = [r for r in listed if isinstance(r, dict)]
            if listed:
                self.counters.pages += 1
                yield response
                last = self._last_sys_id(table, after, records)
                after, offset = (last, 0) if last else (after, offset + page_size)
                continue
            count = response.headers.get("x-total-count")
            counted = int(count) if count is not None and count.isascii() and count.isdigit() else 0
            if counted <= offset + page_size:
                return
            offset += page_size

    def _last_sys_id(self, table: str, after: str, records: list[dict[str, Any]]) -> str:
        """The sys_id the next page starts after ("" when no record of the page has one). Each must follow the one
        before: a source that did not apply the query (or its order) would be read again and again, or skip records.
        A record without a sys_id is no place in that order: the parser sets it aside."""
        ids = [sys_id for sys_id in (_stamp(record.get("sys_id")) for record in records) if sys_id]
        if not all(a < b for a, b in pairwise([after, *ids])):
            raise PagingBroken(self.source, f"{table}: records do not come in sys_id order after '{after}'")
        return ids[-1] if ids else ""

    def _check_zone_on_latest(self, table: str) -> None:
        """A window read in another time zone lies hours away from the real one and may bring no record at all,
        leaving none to check the zone on: the table's most recently updated record, outside the window, is checked
        instead (an empty table has nothing to check)."""
        params = {
            "sysparm_query": "ORDERBYDESCsys_updated_on",
            "sysparm_fields": "sys_updated_on",
            "sysparm_display_value": "all",
            "sysparm_limit": 1,
        }
        response = self.send(PageRequest(f"{TABLE_API}/{table}", params))
        for record in (response.body or {}).get("result") or []:
            if isinstance(record, dict):
                self._refuse_another_zone(table, record.get("sys_updated_on"))

    def _refuse_another_zone(self, table: str, updated_on: Any) -> None:
        shown = _shown_in_another_zone(updated_on)
        if shown:
            raise SourceError(
                self.source,
                f"{table}: the integration user sees times in another time zone than UTC ({shown}), and "
                "the window's bounds are read in it, so records would be skipped: set the user's time "
                "zone to UTC",
            )

    def _complete(
        self, table: str, since: datetime, until: datetime | None, latest: dict[str, str], hidden: int, unreadable: int
    ) -> bool:
        """One cheap request: does the source count as many records in the window as we hold, or saw hidden by
        ACLs or unreadable (rejects) in the last pass (which read [since, until))? A record that moved behind the read
        position leaves no other trace."""
        params = {"sysparm_query": updated_query(since, until), "sysparm_fields": "sys_id", "sysparm_limit": 1}
        response = self.send(PageRequest(f"{TABLE_API}/{table}", params))
        count = response.headers.get("x-total-count")
        if count is None or not (count.isascii() and count.isdigit()):
            return True  # the count is switched off (sysparm_no_count); nothing to compare with
        low = f"{since.astimezone(UTC):%Y-%m-%d %H:%M:%S}"
        high = f"{until.astimezone(UTC):%Y-%m-%d %H:%M:%S}" if until else "9999"
        held = sum(1 for stamp in latest.values() if low <= stamp < high)
        self.last_count = (held + hidden + unreadable, int(count))
        return held + hidden + unreadable >= int(count)

    def _pass(
        self, table: str, fields: list[str], since: datetime, until: datetime | None, page_size: int
    ) -> Iterator[ApiResponse]:
        params = {
            "sysparm_query": updated_query(since, until),
            "sysparm_fields": ",".join(fields),
            "sysparm_display_value": "all",
            "sysparm_exclude_reference_link": "true",
            "sysparm_limit": page_size,
            "sysparm_offset": 0,
        }
        return self.pages(PageRequest(f"{TABLE_API}/{table}", params), OffsetLinkPaginator(self.source))


class _Unreadable:
    """The records of one pass the parser sets aside. One with a sys_id is one record however often the pass met it;
    one without (no object, no sys_id) is told from others only by its text, and counts each time it is met."""

    def __init__(self) -> None:
        self.named: set[str] = set()
        self.unnamed: Counter[str] = Counter()
        self.pages_of: Counter[str] = Counter()  # how many pages met each unnamed text

    def add_page(self, records: list[Any]) -> None:
        met: Counter[str] = Counter()
        for record in records:
            sys_id = _stamp(record.get("sys_id")) if isinstance(record, dict) else ""
            if sys_id:
                self.named.add(sys_id)
            else:
                met[json.dumps(record, sort_keys=True, default=str)] += 1
        self.unnamed.update(met)
        self.pages_of.update(met.keys())

    @property
    def on_two_pages(self) -> bool:
        return any(pages > 1 for pages in self.pages_of.values())

    def count(self, readable: dict[str, str]) -> int:
        """Records set aside, but for those the pass also read whole (updated while paged): they count there."""
        return len(self.named - readable.keys()) + self.unnamed.total()


def _after_sys_id(after: str, fields: list[str], offset: int, page_size: int) -> dict[str, Any]:
    """A page of records in sys_id order, from the first after `after` (ServiceNow compares sys_ids as text)."""
    return {
        "sysparm_query": (f"sys_id>{after}^" if after else "") + "ORDERBYsys_id",
        "sysparm_fields": ",".join(fields),
        "sysparm_display_value": "all",
        "sysparm_exclude_reference_link": "true",
        "sysparm_limit": page_size,
        "sysparm_offset": offset,
    }


def _hidden_rows(response: ApiResponse, total: int) -> int:
    """Records the page was counted to hold but did not bring: ACLs drop them after `sysparm_limit` is applied."""
    params = response.request.params or {}
    offset, limit = int(params.get("sysparm_offset", 0)), int(params.get("sysparm_limit", 10_000))
    records = (response.body or {}).get("result") or []
    return max(0, min(limit, total - offset) - len(records))


def _shown_in_another_zone(cell: Any) -> str | None:
    """'<value> UTC is shown as <display value>' when the user sees a stored time shifted by a zone's offset, else
    None (display values not asked for, or nothing to compare). A user may write dates its own way (dd.MM.yyyy,
    MM-dd-yyyy hh:mm:ss a...): then the time of day it shows is compared, which a zone moves by whole quarters of
    an hour."""
    if not isinstance(cell, dict):
        return None
    value, shown = cell.get("value"), cell.get("display_value")
    if not isinstance(value, str) or not isinstance(shown, str):
        return None
    stored, seen = _parse(value), _parse(shown)
    if stored is None:
        return None
    if seen is not None:
        shifted = stored != seen and abs(seen - stored) <= MAX_ZONE_OFFSET
    else:
        clock = _time_of_day(shown)
        moved = None if clock is None else (clock - (stored.hour * 3600 + stored.minute * 60 + stored.second))
        shifted = moved is not None and moved % DAY_SECONDS != 0 and moved % 900 == 0
    return f"{value} UTC is shown as {shown}" if shifted else None


def _time_of_day(shown: str) -> int | None:
    """Seconds since midnight of the time a display value ends with, or None."""
    match = TIME_OF_DAY.search(shown.strip())
    if match is None:
        return None
    hours, minutes, seconds = (int(match.group(i)) for i in (1, 2, 3))
    if match.group(4):
        if not 1 <= hours <= 12:
            return None
        hours = hours % 12 + (12 if match.group(4).lower() == "p" else 0)
    if hours > 23 or minutes > 59 or seconds > 59:
        return None
    return hours * 3600 + minutes * 60 + seconds


def _parse(stamp: str) -> datetime | None:
    try:
        return datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None
