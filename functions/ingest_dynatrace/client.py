"""The Dynatrace Environment API v2: Api-Token auth, nextPageKey paging, metrics, problems and entities."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import SecretStr

from lakehouse.ingest.client import ApiResponse, PageRequest, SetAside, SourceClient
from lakehouse.ingest.errors import SourceRefused
from lakehouse.ingest.paginators import NextPageKeyPaginator

MAX_PROBLEMS_PAGE_SIZE = 500
# The key under which each listing read lists its records, on every page (an empty result is an empty list).
LISTED_UNDER = {"/api/v2/metrics/query": "result", "/api/v2/problems": "problems", "/api/v2/entities": "entities"}
# The listings whose totalCount counts their records, as the run names them. A metrics query's counts its primary
# entities, not its series: an entity without data in the window is counted and has none (the documentation's own
# example announces 3 for 2 series), so comparing would call many complete runs partial.
COUNTED = {"/api/v2/problems": "problems", "/api/v2/entities": "entities"}


class DynatraceClient(SourceClient):
    source = "dynatrace"
    credential_settings = "ROSETTA_DYNATRACE_TOKEN"

    def __init__(self, base_url: str, token: SecretStr, **options: Any) -> None:
        header = SecretStr(f"Api-Token {token.get_secret_value()}")
        super().__init__(base_url, headers={"Authorization": header}, **options)

    def listing_keys(self, request: PageRequest, body: Any) -> tuple[str, ...]:
        key = LISTED_UNDER.get(request.url)
        return (key,) if key else ()

    def listing(self, path: str, params: dict[str, Any], dataset: str | None = None) -> Iterator[ApiResponse]:
        """Pages of a nextPageKey listing. An expired key (400 on a follow-up page) restarts the query once,
        from the first page with a fresh request; rows seen twice are merged on their key later, and a reject met
        again counts once (a read again, Counters.reads_again). A listing that ends holding fewer records than its
        totalCount announced is set aside as a reject of `dataset` (the stream's first when None), naming both
        figures."""
        restarted = False
        while True:
            paginator = NextPageKeyPaginator(self.source)
            request: PageRequest | None = paginator.start(PageRequest(path, params))
            announced: int | None = None
            read = 0
            try:
                while request is not None:
                    response = self.send(request)
                    self.counters.pages += 1
                    yield response
                    announced = _smallest(announced, response.body.get("totalCount"))
                    read += _listed(path, response.body)
                    request = paginator.next_request(response)
                if path in COUNTED and announced is not None and read < announced:
                    # The last page came without a next key and without an error, yet records are missing (a page
                    # lost, a key dropped): the run must not read as complete.
                    what = COUNTED[path]
                    self.counters.set_aside.append(
                        SetAside(
                            f"GET {path}",
                            f"the listing announced {announced} {what} (totalCount) and {read} were read",
                            "",
                            dataset,
                        )
                    )
                return
            except SourceRefused as exc:
                follow_up = request is not None and "nextPageKey" in (request.params or {})
                if exc.status != 400 or not follow_up or restarted:
                    raise
                restarted = True
                # The listing is read again from its first page: a reject it meets again is the same one.
                self.counters.reads_again += 1

    def metrics(
        self, selectors: list[str], entity_selector: str, since_ms: int, until_ms: int
    ) -> Iterator[ApiResponse]:
        return self.listing(
            "/api/v2/metrics/query",
            {
                "metricSelector": ",".join(selectors),
                "entitySelector": entity_selector,
                "resolution": "1h",
                "from": str(since_ms),
                "to": str(until_ms),
            },
        )

    def problems(
        self, since_ms: int, until_ms: int, page_size: int, problem_selector: str | None = None
    ) -> Iterator[ApiResponse]:
        # The Problems API refuses more than 500 a page (400 Constraints violated).
        size = min(page_size, MAX_PROBLEMS_PAGE_SIZE)
        params: dict[str, Any] = {"from": str(since_ms), "to": str(until_ms), "pageSize": size}
        if problem_selector:
            params["problemSelector"] = problem_selector
        return self.listing("/api/v2/problems", params)

    def entities(
        self,
        entity_selector: str,
        since_ms: int,
        until_ms: int,
        page_size: int,
        fields: str,
        dataset: str | None = None,
    ) -> Iterator[ApiResponse]:
        return self.listing(
            "/api/v2/entities",
            {
                "entitySelector": entity_selector,
                "fields": fields,
                "from": str(since_ms),
                "to": str(until_ms),
                "pageSize": page_size,
            },
            dataset,
        )


def _smallest(announced: int | None, count: Any) -> int | None:
    """The smallest totalCount the pages announced: a count that grew while the listing was read (a problem that
    opened meanwhile) proves no page lost."""
    if not isinstance(count, int) or isinstance(count, bool):
        return announced
    return count if announced is None else min(announced, count)


def _listed(path: str, body: Any) -> int:
    """How many records a page lists."""
    listed = body.get(LISTED_UNDER.get(path, ""))
    return len(listed) if isinstance(listed, list) else 0
