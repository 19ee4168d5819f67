"""The ArgoCD and GitLab APIs: bearer/private tokens, one ArgoCD listing, GitLab offset pages (x-next-page)."""

from __future__ import annotations

import json
import re
from collections.abc import Hashable, Iterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from pydantic import SecretStr

from functions.ingest_deploys import parse
from functions.ingest_deploys.redact import redact_sources
from lakehouse.ingest.client import ApiResponse, PageRequest, SetAside, SourceClient
from lakehouse.ingest.errors import SourceUnavailable
from lakehouse.ingest.paginators import NextPagePaginator
from lakehouse.ingest.run import by_fields

# Reads of one listing before a run gives up on records that keep moving while they are paged.
MAX_READS = 4
APPLICATIONS = "/api/v1/applications"
# A project by its id or its URL-encoded path (group%2Fproject).
PROJECT = re.compile(r"/api/v4/projects/[^/]+")


class ArgoCDClient(SourceClient):
    source = "argocd"
    credential_settings = "ROSETTA_ARGOCD_TOKEN"
    # Its API writes an empty list as null: `"items": null` is a listing of no application.
    null_list_is_empty = True

    def __init__(self, base_url: str, token: SecretStr, **options: Any) -> None:
        header = SecretStr(f"Bearer {token.get_secret_value()}")
        super().__init__(base_url, headers={"Authorization": header}, **options)

    def listing_keys(self, request: PageRequest, body: Any) -> tuple[str, ...]:
        # The listing always has items (null when no application is visible); one application read by name has none.
        return ("items",) if request.url == APPLICATIONS else ()

    def kept_text(self, text: str) -> str:
        """A listing set aside is kept redacted as the landed one is; one that is not JSON (cut off) cannot be, and is
        not kept: its tools' values would reach the rejects as they came."""
        try:
            redacted = redact_sources(json.loads(text))
        except ValueError:
            return f"<not kept: {len(text)} characters that are not JSON, whose tools' values cannot be redacted>"
        except RecursionError:  # past the parser, or past the redaction's walk
            return f"<not kept: {len(text)} characters of JSON nested too deeply for its tools' values to be redacted>"
        return super().kept_text(json.dumps(redacted, ensure_ascii=False))

    def redacted(self, body: Any) -> Any:
        # The tools' values (Helm, plugins) may hold credentials: they never reach the lake (see redact).
        return redact_sources(body)

    def applications(self) -> ApiResponse:
        """Every application in one answer (ArgoCD does not page). No `fields`: its whitelist drops history, and
        never `refresh`: a collector must not trigger reconciliation."""
        response = self.send(PageRequest(APPLICATIONS))
        self.counters.pages += 1
        return response


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _more_pages(response: ApiResponse) -> bool:
    return bool((response.headers.get("x-next-page") or "").strip())


def _halves(params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The window's two halves (both bounds are included: a record at the middle instant is read twice, merged on its
    key); None for a window of a millisecond, which cannot be split."""
    after = datetime.fromisoformat(params["updated_after"])
    before = datetime.fromisoformat(params["updated_before"])
    middle = after + (before - after) / 2
    middle = middle.replace(microsecond=middle.microsecond // 1000 * 1000)
    if middle <= after or middle >= before:
        return None
    return params | {"updated_before": _iso(middle)}, params | {"updated_after": _iso(middle)}


def _read_again(records: list[Any], seen: dict[int, Any]) -> bool:
    """Whether a record of this page was already read in this read of the listing with another update time: it was
    updated meanwhile and moved. `seen` keeps each id's update time as read. A record read twice as it was (records
    updated in the same instant, which GitLab may order either way from one page to the next) has not moved: it took
    another's place, which the count of the records read shows (see GitLabClient._updated_listing)."""
    again = False
    for record in records:
        if (key := parse.record_id(record)) is None:
            continue
        updated = record.get("updated_at")
        again = again or (key in seen and seen[key] != updated)
        seen[key] = updated
    return again


def _gather_unkeyed(records: list[Any], gathered: set[Hashable]) -> int:
    """Adds this page's records without an integer id to `gathered` by their fields, so that one met twice (read
    again in place of another) counts once, as a keyed one does. Returns how many entries are no object (nulls):
    nothing tells one from another, so each met counts."""
    objectless = 0
    for record in records:
        if parse.record_id(record) is not None:
            continue
        named = by_fields(record)
        if named is None:
            objectless += 1
        else:
            gathered.add(named)
    return objectless


class GitLabClient(SourceClient):
    source = "gitlab"
    credential_settings = "ROSETTA_GITLAB_TOKEN"
    page_shape = list

    def __init__(self, base_url: str, token: SecretStr, **options: Any) -> None:
        super().__init__(base_url, headers={"PRIVATE-TOKEN": token}, **options)

    @property
    def rereads(self) -> int:
        """Listings read again because records moved or left while they were paged."""
        return self.counters.reads_again

    def _listing(self, path: str, params: dict[str, Any]) -> Iterator[ApiResponse]:
        return self.pages(PageRequest(path, params), NextPagePaginator(self.source))

    def kept_text(self, text: str) -> str:
        """An answer set aside is kept when it is a JSON object (an error's or a proxy's words). Records, a listing
        cut or too large to read above all, are not: GitLab sends its people whole with them (names, e-mail
        addresses, profiles), which no dataset keeps, and text that is not JSON cannot be read to take them out."""
        try:
            answer = json.loads(text)
        except (ValueError, RecursionError):
            answer = None
        if isinstance(answer, dict):
            return super().kept_text(text)
        left_out = f"<not kept: {len(text)} characters of records"
        return left_out + ", whose people's names and e-mail addresses cannot be taken out>"

    def _updated_listing(self, path: str, params: dict[str, Any], dataset: str) -> Iterator[ApiResponse]:
        """Offset pages of what was updated in the window, by update time. A record updated while it is paged moves:
        the ones after its old place slide back one place, and the first of the next page is never read. It moves
        out of the window (its new time is past `updated_before`), which GitLab's count shows (x-total, on every
        page, up to 10,000 records: it falls), or to the end of the order when the window ends later than GitLab's
        now (`--until` tomorrow, a clock behind the collector's), where the count stays and the record comes back
        in the same read under an id already read, with its new update time. Either way the listing is read again
        (rows read twice are merged on their key, the latest update winning). A read that kept its count yet holds
        fewer records, each counted once (a page lost, an x-next-page missing, or a record repeated as it was in the
        place of another, records updated in the same instant coming in another order from page to page), is read
        again until the records read over every read make the count; past MAX_READS reads it is set aside as a reject
        of `dataset`, naming both figures. A record is counted once by its id, or without one by its fields: counted
        each time it was met, one repeated in the place of another would make up for the one never read. Entries
        that are no object (nulls) cannot be told apart: each counts, as often as one read met them."""
        # The records read over every read of the listing: by id, else by their fields.
        gathered: set[Hashable] = set()
        objectless = 0  # the most entries that are no object one read met
        for attempt in range(MAX_READS):
            counts: list[int] = []
            objectless_met = 0
            seen: dict[int, Any] = {}
            came_back = False
            for number, response in enumerate(self._listing(path, params)):
                total = (response.headers.get("x-total") or "").strip()
                halves = _halves(params) if number == 0 and not total and _more_pages(response) else None
                if halves:
                    # GitLab stops counting past 10,000 records, and uncounted, a record updated out of the window
                    # while paged would hide the next one unseen: each half of the window is read counted, as the
                    # source's advice goes (window by update time, not deep pages). Its first page is not read here.
                    for half in halves:
                        yield from self._updated_listing(path, half, dataset)
                    return
                yield response
                objectless_met += _gather_unkeyed(response.body, gathered)
                came_back = _read_again(response.body, seen) or came_back
                if total.isascii() and total.isdigit():
                    counts.append(int(total))
            gathered |= seen.keys()
            objectless = max(objectless, objectless_met)
            fell = bool(counts) and min(counts) < counts[0]
            read = len(gathered) + objectless
            short = bool(counts) and read < min(counts)
            if not fell and not came_back and not (short and attempt < MAX_READS - 1):
                if short:
                    reason = f"the listing announced {min(counts)} records (x-total) and {read} were read"
                    self.counters.set_aside.append(SetAside(f"GET {path}", reason, "", dataset))
                return
            self.counters.reads_again += 1
        raise SourceUnavailable(
            self.source,
            f"{path}: records kept leaving the window or moving in it while being paged ({MAX_READS} reads); "
            "run again later",
        )

    def deployments(self, project_id: int, since: datetime, until: datetime, per_page: int) -> Iterator[ApiResponse]:
        """Deployments updated in [since, until]. GitLab includes both bounds (updated_at >= updated_after and <=
        updated_before), so nothing at a bound is missed: a record updated exactly at `until` is read again by the
        next run, and the millisecond before `since` is a record read twice at most, merged on its key."""
        return self._updated_listing(
            f"/api/v4/projects/{project_id}/deployments",
            {
                "updated_after": _iso(since - timedelta(milliseconds=1)),
                "updated_before": _iso(until),
                "order_by": "updated_at",
                "sort": "asc",
                "per_page": per_page,
            },
            parse.DEPLOYMENTS,
        )

    def shape_of(self, request: PageRequest) -> type:
        # Every GitLab answer read is a listing, but the project's own, an object.
        return dict if PROJECT.fullmatch(request.url) else list

    def project(self, project: int | str) -> ApiResponse:
        """The project itself (its default branch), by its id or its path with namespace (group/project), which
        GitLab takes URL-encoded as one segment."""
        response = self.send(PageRequest(f"/api/v4/projects/{quote(str(project), safe='')}"))
        self.counters.pages += 1
        return response

    def deployment_merge_requests(self, project_id: int, deployment_id: int, per_page: int) -> Iterator[ApiResponse]:
        return self._listing(
            f"/api/v4/projects/{project_id}/deployments/{deployment_id}/merge_requests", {"per_page": per_page}
        )

    def merged_requests(
        self, project_id: int, since: datetime, until: datetime, per_page: int
    ) -> Iterator[ApiResponse]:
        """Merged requests updated in [since, until): lead time for deployments that list none (ArgoCD)."""
        return self._updated_listing(
            f"/api/v4/projects/{project_id}/merge_requests",
            {
                "state": "merged",
                "updated_after": _iso(since - timedelta(milliseconds=1)),
                "updated_before": _iso(until),
                "order_by": "updated_at",
                "sort": "asc",
                "per_page": per_page,
            },
            parse.MERGE_REQUESTS,
        )

    def pipelines(self, project_id: int, since: datetime, until: datetime, per_page: int) -> Iterator[ApiResponse]:
        return self._updated_listing(
            f"/api/v4/projects/{project_id}/pipelines",
            {
                "updated_after": _iso(since - timedelta(milliseconds=1)),
                "updated_before": _iso(until),
                "order_by": "updated_at",
                "sort": "asc",
                "per_page": per_page,
            },
            parse.PIPELINES,
        )
