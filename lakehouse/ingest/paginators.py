"""Paginators, one per style the sources use; each refuses to follow a token it has already followed."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from lakehouse.ingest.client import ApiResponse, PageRequest
from lakehouse.ingest.errors import LoopDetected, PagingBroken

_LINK_PART = re.compile(r"<?\s*([^<>;\s]+)\s*>?\s*;\s*rel=\"?([a-zA-Z]+)\"?")
# GitLab's page size when none is asked for, and the largest it serves (a larger per_page is served 100 a page).
GITLAB_DEFAULT_PER_PAGE = 20
GITLAB_MAX_PER_PAGE = 100


def link_targets(header: str | None) -> dict[str, str]:
    """rel -> URL from a Link header; tolerant of the missing '<' seen in ServiceNow's own docs.

    Not split on commas: a real ServiceNow writes the `sysparm_fields` list in its links with bare commas.
    """
    if not header:
        return {}
    found: dict[str, str] = {}
    for match in _LINK_PART.finditer(header):
        # Without '<', the comma that separates two links is read as the start of the next URL.
        found.setdefault(match.group(2).lower(), match.group(1).lstrip(","))
    return found


class NextPageKeyPaginator:
    """Dynatrace: follow `nextPageKey`; the follow-up request carries that key and nothing else."""

    def __init__(self, source: str = "dynatrace") -> None:
        self.source = source
        self._seen: set[str] = set()
        self._first: PageRequest | None = None
        self._previous: dict[str, Any] | None = None

    def start(self, first: PageRequest) -> PageRequest:
        self._first = first
        return first

    def next_request(self, response: ApiResponse) -> PageRequest | None:
        body = response.body if isinstance(response.body, dict) else {}
        key = body.get("nextPageKey")
        if not key:
            return None
        if not isinstance(key, str):
            raise PagingBroken(self.source, f"nextPageKey is a JSON {type(key).__name__}, not a text: not followed")
        if key in self._seen:
            raise LoopDetected(self.source, "loop detected: the same nextPageKey came back twice")
        # A new key on a page holding the previous page's records again would page on forever.
        records = {k: v for k, v in body.items() if k != "nextPageKey"}
        if records == self._previous:
            raise LoopDetected(self.source, "loop detected: a new nextPageKey on a page repeating the last one")
        self._previous = records
        self._seen.add(key)
        assert self._first is not None
        # Any other parameter next to nextPageKey is answered with 400 "Constraints violated".
        return PageRequest(self._first.url, {"nextPageKey": key})


class OffsetLinkPaginator:
    """ServiceNow: offset paging announced by `Link rel="next"`; stop when there is no next, not on a short page."""

    def __init__(self, source: str = "servicenow") -> None:
        self.source = source
        self._request: PageRequest | None = None
        self._offsets: set[int] = set()

    def start(self, first: PageRequest) -> PageRequest:
        self._request = first
        self._offsets = {int((first.params or {}).get("sysparm_offset", 0))}
        return first

    def next_request(self, response: ApiResponse) -> PageRequest | None:
        target = link_targets(response.headers.get("link")).get("next")
        if not target:
            self._refuse_unknown_end(response)
            return None
        query = parse_qs(urlsplit(target).query)
        try:
            offset = int(query["sysparm_offset"][0])
        except (KeyError, ValueError, IndexError):
            # A next page announced and not reachable: taken as the last page, it lost the rest.
            raise PagingBroken(self.source, 'rel="next" carries no sysparm_offset to follow') from None
        if offset in self._offsets or offset < max(self._offsets):
            raise LoopDetected(self.source, f"loop detected: rel=next points back to offset {offset}")
        self._offsets.add(offset)
        assert self._request is not None
        params = dict(self._request.params or {})
        params["sysparm_offset"] = offset
        if "sysparm_limit" in query:
            params["sysparm_limit"] = int(query["sysparm_limit"][0])
        return self._request.with_params(params)

    def _refuse_unknown_end(self, response: ApiResponse) -> None:
        """A full page with neither Link nor X-Total-Count (a proxy dropping them) says nothing of what follows:
        taken as the last page, it would lose the rest without a word."""
        if "link" in response.headers or "x-total-count" in response.headers:
            return
        limit = (response.request.params or {}).get("sysparm_limit")
        listed = response.body.get("result") if isinstance(response.body, dict) else None
        if limit is not None and isinstance(listed, list) and listed and len(listed) >= int(limit):
            raise PagingBroken(
                self.source,
                f"a full page of {len(listed)} records without a Link or X-Total-Count header: the next page cannot "
                "be known (a proxy in front of ServiceNow may drop them)",
            )


class NextPagePaginator:
    """GitLab: offset paging through `x-next-page` (empty on the last page), else `Link rel="next"` verbatim."""

    def __init__(self, source: str = "gitlab") -> None:
        self.source = source
        self._request: PageRequest | None = None
        self._seen: set[str] = set()

    def start(self, first: PageRequest) -> PageRequest:
        self._request = first
        params = first.params or {}
        self._seen = {str(params.get("page", 1))}
        # Keyset pages come without x-next-page, and a full one may be the last: only offset pages always carry it.
        self._offset_paged = params.get("pagination") != "keyset"
        self._per_page = min(int(params.get("per_page", GITLAB_DEFAULT_PER_PAGE)), GITLAB_MAX_PER_PAGE)
        return first

    def next_request(self, response: ApiResponse) -> PageRequest | None:
        assert self._request is not None
        next_page = (response.headers.get("x-next-page") or "").strip()
        if next_page and response.body == []:
            # An empty page is past the last record: a next one announced after it would be asked for forever.
            raise LoopDetected(self.source, f"loop detected: an empty page announces page {next_page}")
        if next_page:
            if next_page in self._seen:
                raise LoopDetected(self.source, f"loop detected: x-next-page {next_page} already fetched")
            self._seen.add(next_page)
            return self._request.with_params({**(self._request.params or {}), "page": next_page})
        target = link_targets(response.headers.get("link")).get("next")
        if target:
            # Keyset links carry an opaque cursor: follow them as given.
            if target in self._seen:
                raise LoopDetected(self.source, "loop detected: rel=next link already followed")
            self._seen.add(target)
            return PageRequest(target)
        self._refuse_unknown_end(response)
        return None

    def _refuse_unknown_end(self, response: ApiResponse) -> None:
        """GitLab sends x-next-page on every offset page, empty on the last. A full page without it (a proxy dropping
        it) or a next link says nothing of what follows: taken as the last page, it would lose the rest."""
        if not self._offset_paged or "x-next-page" in response.headers:
            return
        if isinstance(response.body, list) and len(response.body) >= self._per_page:
            raise PagingBroken(
                self.source,
                f"a full page of {len(response.body)} records without x-next-page or a next link: the next page "
                "cannot be known (a proxy in front of GitLab may drop them)",
            )


class CompositeAfterKeyPaginator:
    """Elasticsearch: a composite aggregation pages with `after_key`; the next body repeats the query with `after`."""

    def __init__(self, aggregation: str, source: str = "elasticsearch") -> None:
        self.aggregation = aggregation
        self.source = source
        self._request: PageRequest | None = None
        self._seen: set[str] = set()
        self._previous: Any = None

    def start(self, first: PageRequest) -> PageRequest:
        self._request = first
        return first

    def next_request(self, response: ApiResponse) -> PageRequest | None:
        assert self._request is not None
        agg: Any = ((response.body or {}).get("aggregations") or {}).get(self.aggregation) or {}
        after, buckets = agg.get("after_key"), agg.get("buckets")
        if not buckets:
            return None
        size = self._request.json["aggs"][self.aggregation]["composite"].get("size")
        if not after and isinstance(size, int) and len(buckets) >= size:
            # Elasticsearch gives after_key with every page of buckets: a full page without one cannot be the last.
            raise PagingBroken(self.source, f"a full page of {len(buckets)} buckets without after_key: not the last")
        if not after:
            return None
        if not isinstance(after, dict):
            raise PagingBroken(self.source, f"after_key is a JSON {type(after).__name__}, not an object: not followed")
        token = repr(sorted(after.items()))
        if token in self._seen:
            raise LoopDetected(self.source, "loop detected: the same after_key came back twice")
        if buckets == self._previous:
            raise LoopDetected(self.source, "loop detected: a new after_key on a page repeating the last one")
        self._previous = buckets
        self._seen.add(token)
        body = dict(self._request.json)
        aggs = dict(body["aggs"])
        composite = dict(aggs[self.aggregation])
        composite["composite"] = {**composite["composite"], "after": after}
        aggs[self.aggregation] = composite
        body["aggs"] = aggs
        return self._request.with_json(body)
