"""Paginators as small state machines: the next request they shape, when they stop, and loop detection."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from functions.ingest_deploys.client import GitLabClient
from functions.ingest_servicenow.client import ServiceNowClient
from lakehouse.ingest.client import ApiResponse, PageRequest
from lakehouse.ingest.errors import LoopDetected, PagingBroken, SourceError, SourceUnavailable
from lakehouse.ingest.paginators import (
    CompositeAfterKeyPaginator,
    NextPageKeyPaginator,
    NextPagePaginator,
    OffsetLinkPaginator,
    link_targets,
)
from lakehouse.ingest.window import Window
from tests.conftest import FIXTURES

DAY = Window(datetime(2024, 3, 4, tzinfo=UTC), datetime(2024, 3, 5, tzinfo=UTC))


def answer(body: object, request: PageRequest, headers: dict[str, str] | None = None) -> ApiResponse:
    return ApiResponse(200, httpx.Headers(headers or {}), body, request)


def test_dynatrace_follow_up_carries_only_the_page_key() -> None:
    key = (FIXTURES / "dynatrace" / "securityproblems_v2__nextPageKey_only.json").read_text()
    import json

    next_key = json.loads(key)["nextPageKey"]
    first = PageRequest("/api/v2/metrics/query", {"metricSelector": "builtin:service.response.time", "from": "1"})
    paginator = NextPageKeyPaginator()
    request = paginator.start(first)
    follow = paginator.next_request(answer({"nextPageKey": next_key}, request))
    assert follow == PageRequest("/api/v2/metrics/query", {"nextPageKey": next_key})
    assert paginator.next_request(answer({"nextPageKey": None}, follow)) is None
    with pytest.raises(LoopDetected, match="loop detected"):
        paginator.next_request(answer({"nextPageKey": next_key}, follow))


def test_servicenow_link_header_even_in_the_docs_malformed_form() -> None:
    lines = (FIXTURES / "servicenow" / "headers__pagination_and_rate_limit_docs.txt").read_text().splitlines()
    header = " ".join(line for line in lines if line.startswith("https://"))
    targets = link_targets(header)
    assert "sysparm_offset=40" in targets["next"] and "sysparm_offset=2780" in targets["last"]


def test_servicenow_pages_on_next_link_not_on_page_size() -> None:
    first = PageRequest("/api/now/table/incident", {"sysparm_query": "q", "sysparm_limit": 2, "sysparm_offset": 0})
    paginator = OffsetLinkPaginator()
    request = paginator.start(first)
    link = '<https://i/api/now/table/incident?sysparm_offset=2&sysparm_limit=2>;rel="next"'
    # A short page (ACLs dropped a row) with a next link: keep going.
    follow = paginator.next_request(answer({"result": [{}]}, request, {"Link": link}))
    assert follow is not None and follow.params == {"sysparm_query": "q", "sysparm_limit": 2, "sysparm_offset": 2}
    # A full page without a next link: stop.
    assert paginator.next_request(answer({"result": [{}, {}]}, follow, {"Link": '<x>;rel="first"'})) is None
    with pytest.raises(LoopDetected):
        paginator.next_request(answer({"result": []}, follow, {"Link": link}))


def servicenow_incidents(records: list[dict[str, Any]], hidden: set[int], requests: list[httpx.Request]) -> Any:
    """A ServiceNow table on offset paging that counts every record, then drops the `hidden` ones (ACLs, by the
    hour of `incident`)."""

    def handle(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        offset, limit = int(request.url.params.get("sysparm_offset", 0)), int(request.url.params["sysparm_limit"])
        page = [r for r in records[offset : offset + limit] if int(r["sys_id"]["value"]) not in hidden]
        headers = {"X-Total-Count": str(len(records))}
        if offset + limit < len(records):
            headers["Link"] = f'<https://i/api/now/table/incident?sysparm_offset={offset + limit}>;rel="next"'
        return httpx.Response(200, json={"result": page}, headers=headers)

    return ServiceNowClient("https://i", "svc", SecretStr("pw"), transport=httpx.MockTransport(handle))


def incident(hour: int) -> dict[str, Any]:
    return {"sys_id": {"value": f"{hour:032d}"}, "sys_updated_on": {"value": f"2024-03-04 {hour:02d}:00:00"}}


def test_servicenow_records_hidden_by_acls_do_not_fail_the_read() -> None:
    """A table with an incident the integration user may not see failed every run after 8 scans."""
    requests: list[httpx.Request] = []
    client = servicenow_incidents([incident(h) for h in range(5)], {2}, requests)
    pages = list(client.updated_records("incident", ["sys_id", "sys_updated_on"], DAY.since, DAY.until, 2))
    # Five counted, the third hidden after the limit of two: the pages bring 2, 1 and 1 records. Hidden over several
    # pages, they are read once more, in one large page, and the two reads agree.
    assert [len(p.body["result"]) for p in pages] == [2, 1, 1, 4]
    assert client.rescans == 1 and len(requests) == 5  # three pages, one more, then the count
    # Read in a single page, nothing can have slid past a page boundary: no second read.
    requests.clear()
    client = servicenow_incidents([incident(h) for h in range(5)], {2}, requests)
    pages = list(client.updated_records("incident", ["sys_id", "sys_updated_on"], DAY.since, DAY.until, 10))
    assert [len(p.body["result"]) for p in pages] == [4]
    assert client.rescans == 0 and len(requests) == 2  # the page, then the count


def test_servicenow_a_hidden_record_moving_during_the_read_does_not_hide_a_visible_one() -> None:
    """An incident updated while the integration user could not see a neighbour of it was never ingested, and the
    watermark moved past it: 1 (hidden by ACLs), 2, 3, 4, two a page. Once the first page is read, 1 is updated: it
    moves to the end and 2, 3, 4 slide back by one, so the second page (offset 2) brings 4, and 3 is not read. 1 is
    hidden on both pages: counted hidden twice, it stood in for 3 and the read was taken as complete."""
    records = [incident(h) for h in range(1, 5)]
    requests: list[httpx.Request] = []
    client = servicenow_incidents(records, {1}, requests)
    read: set[int] = set()
    for page in client.updated_records("incident", ["sys_id", "sys_updated_on"], DAY.since, DAY.until, 2):
        read |= {int(r["sys_id"]["value"]) for r in page.body["result"]}
        if len(requests) == 1:
            records.append(records.pop(0) | {"sys_updated_on": {"value": "2024-03-04 05:00:00"}})
    assert read == {2, 3, 4}
    assert client.rescans == 1


def test_servicenow_a_record_counted_after_the_read_is_read_again() -> None:
    """Held or hidden, not fewer than counted: one more record in the window after the read is still fetched."""
    records = [incident(1), incident(2)]
    requests: list[httpx.Request] = []
    client = servicenow_incidents(records, set(), requests)
    pages = []
    for page in client.updated_records("incident", ["sys_id", "sys_updated_on"], DAY.since, DAY.until, 10):
        pages.append(page)
        if len(pages) == 1:
            records.append(incident(3))  # it arrives once the only page of the first scan is read
    assert [len(p.body["result"]) for p in pages] == [2, 3]
    assert client.rescans == 1


def test_gitlab_next_page_header_then_link_then_stop() -> None:
    text = (FIXTURES / "gitlab" / "headers__offset_pagination_docs.txt").read_text()
    headers = dict(line.split(": ", 1) for line in text.splitlines()[2:] if ": " in line)
    first = PageRequest("/api/v4/projects/9/issues/8/notes", {"per_page": 3, "page": 2})
    paginator = NextPagePaginator()
    request = paginator.start(first)
    follow = paginator.next_request(answer([{"id": 1}], request, headers))
    assert follow is not None and follow.params == {"per_page": 3, "page": "3"}
    assert paginator.next_request(answer([], follow, {"x-next-page": ""})) is None
    keyset = (FIXTURES / "gitlab" / "headers__keyset_pagination_docs.txt").read_text()
    link = next(line for line in keyset.splitlines() if line.startswith("Link: ")).removeprefix("Link: ")
    after = NextPagePaginator()
    after.start(PageRequest("/api/v4/projects"))
    follow = after.next_request(answer([], request, {"Link": link}))
    assert follow is not None and follow.url.endswith("id_after=42")
    with pytest.raises(LoopDetected):
        after.next_request(answer([], follow, {"Link": link}))


def test_composite_after_key() -> None:
    body: dict[str, Any] = {"size": 0, "aggs": {"logs": {"composite": {"size": 2, "sources": []}}}}
    paginator = CompositeAfterKeyPaginator("logs")
    request = paginator.start(PageRequest("/logs-*/_search", json=body, method="POST"))
    page = {"aggregations": {"logs": {"after_key": {"service": "a", "hour": 1}, "buckets": [{}]}}}
    follow = paginator.next_request(answer(page, request))
    assert follow is not None and follow.json["aggs"]["logs"]["composite"]["after"] == {"service": "a", "hour": 1}
    assert "after" not in body["aggs"]["logs"]["composite"]  # the first request is left as it was
    assert paginator.next_request(answer({"aggregations": {"logs": {"buckets": []}}}, follow)) is None
    with pytest.raises(LoopDetected):
        paginator.next_request(answer(page, follow))


def test_servicenow_next_link_whose_fields_list_keeps_its_commas() -> None:
    """A real instance's Link header (ServiceNowITOM/ansible-sn-inventory issue 15) writes the sysparm_fields list
    with bare commas, the same character that separates the links: the next link was cut at the first field and
    paging stopped after page one. The header below is that one, its next and last links completed in the same
    shape; by hand, the next page starts at offset 10000 with limit 10000."""
    url = (
        "https://xxxxxx.service-now.com/api/now/table/cmdb_ci_server?sysparm_exclude_reference_link=true"
        "&sysparm_query=sys_class_nameINcmdb_ci_linux_server%2Ccmdb_ci_win_server&sysparm_display_value=true"
        "&sysparm_fields=sys_class_name,name,os,fqdn,os_version,host_name,ip_address,manufacturer"
    )
    header = (
        f'<{url}&sysparm_offset=0&sysparm_limit=10000>;rel="first",'
        f'<{url}&sysparm_offset=10000&sysparm_limit=10000>;rel="next",'
        f'<{url}&sysparm_offset=20000&sysparm_limit=10000>;rel="last"'
    )
    assert link_targets(header)["next"] == f"{url}&sysparm_offset=10000&sysparm_limit=10000"
    first = PageRequest("/api/now/table/cmdb_ci_server", {"sysparm_limit": 10000, "sysparm_offset": 0})
    paginator = OffsetLinkPaginator()
    follow = paginator.next_request(answer({"result": [{}]}, paginator.start(first), {"Link": header}))
    assert follow is not None and follow.params == {"sysparm_limit": 10000, "sysparm_offset": 10000}


def test_servicenow_a_user_reading_times_in_another_zone_stops_the_read() -> None:
    """The window's bounds are read in the integration user's time zone. The docs' change request shows its update
    at 11:59:27 for a stored 18:59:27 (UTC): a user on UTC-7. Asked for sys_updated_on >= 10:00, such a user reads
    from 17:00 UTC, so every run after the first asked 7 hours past its watermark, read nothing new, and moved the
    watermark on: the incremental reads never brought a record again."""
    la = {
        "sys_id": {"value": f"{1:032d}", "display_value": f"{1:032d}"},
        "sys_updated_on": {"value": "2024-03-04 18:59:27", "display_value": "2024-03-04 11:59:27"},
    }
    client = servicenow_incidents([la], set(), [])
    with pytest.raises(SourceError, match="time zone") as caught:
        list(client.updated_records("incident", ["sys_id", "sys_updated_on"], DAY.since, DAY.until, 10))
    assert "2024-03-04 18:59:27 UTC is shown as 2024-03-04 11:59:27" in str(caught.value)
    # A user on UTC sees the stored value itself, and so does any user without display values asked for; a user
    # writing dates day first (yyyy-dd-MM) shows another date, a month away, not a zone's offset.
    utc = la | {"sys_updated_on": {"value": "2024-03-04 18:59:27", "display_value": "2024-03-04 18:59:27"}}
    day_first = la | {"sys_updated_on": {"value": "2024-03-04 18:59:27", "display_value": "2024-04-03 18:59:27"}}
    for record in (utc, incident(3), day_first):
        client = servicenow_incidents([record], set(), [])
        pages = list(client.updated_records("incident", ["sys_id", "sys_updated_on"], DAY.since, DAY.until, 10))
        assert [len(p.body["result"]) for p in pages] == [1]


@pytest.mark.parametrize(
    ("shown", "shifted"),
    [
        ("03-04-2024 11:59:27 AM", True),  # MM-dd-yyyy hh:mm:ss a, on UTC-7
        ("04.03.2024 19:59:27", True),  # dd.MM.yyyy HH:mm:ss, on UTC+1
        ("05-03-2024 00:29:27", True),  # dd-MM-yyyy HH:mm:ss, on UTC+5:30, the next day
        ("03-04-2024 06:59:27 PM", False),  # MM-dd-yyyy hh:mm:ss a, on UTC
    ],
)
def test_servicenow_a_user_in_another_zone_is_caught_whatever_its_date_format(shown: str, shifted: bool) -> None:
    """A user's date format is its own (ServiceNow lets each user pick one), so a display value need not read as
    yyyy-MM-dd. The stored 2024-03-04 18:59:27 (UTC) shown at 11:59:27 AM, 19:59:27 or 00:29:27 is a user 7 hours
    behind, 1 hour ahead or 5 h 30 ahead of UTC, whose window bounds are shifted as much: the read stops saying so.
    Shown at 06:59:27 PM (18:59:27) it is the stored time in another format: the read goes on."""
    record = {
        "sys_id": {"value": f"{1:032d}", "display_value": f"{1:032d}"},
        "sys_updated_on": {"value": "2024-03-04 18:59:27", "display_value": shown},
    }
    client = servicenow_incidents([record], set(), [])

    def read() -> list[Any]:
        return list(client.updated_records("incident", ["sys_id", "sys_updated_on"], DAY.since, DAY.until, 10))

    if shifted:
        with pytest.raises(SourceError, match="time zone") as caught:
            read()
        assert f"2024-03-04 18:59:27 UTC is shown as {shown}" in str(caught.value)
    else:
        assert [len(p.body["result"]) for p in read()] == [1]


def gitlab_deployments(records: list[dict[str, Any]], requests: list[httpx.Request]) -> GitLabClient:
    """GitLab's offset pages over deployments updated before `updated_before`, by update time, counted (x-total)."""

    def handle(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        page, size = int(request.url.params.get("page", 1)), int(request.url.params["per_page"])
        before = request.url.params["updated_before"]
        listed = sorted((r for r in records if r["updated_at"] < before), key=lambda r: r["updated_at"])
        more = page * size < len(listed)
        headers = {"x-total": str(len(listed)), "x-next-page": str(page + 1) if more else ""}
        return httpx.Response(200, json=listed[(page - 1) * size : page * size], headers=headers)

    return GitLabClient("https://gitlab.example", SecretStr("glpat-x"), transport=httpx.MockTransport(handle))


def test_gitlab_a_deployment_updated_while_paged_does_not_hide_the_next_one() -> None:
    """Deployments 1..5 updated at 01:00..05:00 on the day read, two a page. Once the first page (1, 2) is read,
    1 is updated again, the next day: it leaves the day, 3, 4, 5 slide back one place, and the second page
    (places 3 and 4) brings 4 and 5. 3 was never read, and the watermark moved past it."""
    records = [{"id": i, "updated_at": f"2024-03-04T0{i}:00:00.000Z"} for i in range(1, 6)]
    requests: list[httpx.Request] = []
    client = gitlab_deployments(records, requests)
    read: set[int] = set()
    for page in client.deployments(5, DAY.since, DAY.until, 2):
        read |= {d["id"] for d in page.body}
        if len(requests) == 1:
            records[0] = {"id": 1, "updated_at": "2024-03-05T06:00:00.000Z"}
    # The count fell from 5 to 4 while the pages were read: the day is read again (2, 3 then 4, 5).
    assert read == {1, 2, 3, 4, 5}
    assert len(requests) == 2 + 2 and client.rereads == 1
    # One leaving at every read: after 4 reads the run fails, and its window is read again by the next run.
    records = [{"id": i, "updated_at": f"2024-03-04T0{i}:00:00.000Z"} for i in range(1, 10)]
    requests.clear()
    client = gitlab_deployments(records, requests)
    with pytest.raises(SourceUnavailable, match="kept leaving the window"):
        for _ in client.deployments(5, DAY.since, DAY.until, 2):
            if int(requests[-1].url.params.get("page", 1)) == 1:
                records.pop(0)
    assert sum(r.url.params.get("page", "1") == "1" for r in requests) == 4


def test_paging_that_does_not_move_forward_is_a_loop_however_its_tokens_change() -> None:
    """A source handing a new token with the same records, an offset going back, or an empty page announcing a
    next one paged until the run's request budget (50,000 requests, 435 s, 1 GB held): each is a loop at once."""
    dynatrace = NextPageKeyPaginator()
    first = dynatrace.start(PageRequest("/api/v2/problems", {"from": "now-1d"}))
    page = {"totalCount": 4, "problems": [{"problemId": "P-1"}, {"problemId": "P-2"}]}
    follow = dynatrace.next_request(answer({**page, "nextPageKey": "k1"}, first))
    assert follow is not None and follow.params == {"nextPageKey": "k1"}
    with pytest.raises(LoopDetected, match="a new nextPageKey on a page repeating the last one"):
        dynatrace.next_request(answer({**page, "nextPageKey": "k2"}, follow))

    servicenow = OffsetLinkPaginator()
    request = servicenow.start(PageRequest("/api/now/table/incident", {"sysparm_limit": 5, "sysparm_offset": 10}))
    with pytest.raises(LoopDetected, match="points back to offset 5"):
        servicenow.next_request(
            answer([], request, {"link": '<https://x/api/now/table/incident?sysparm_offset=5>;rel="next"'})
        )

    gitlab = NextPagePaginator()
    request = gitlab.start(PageRequest("/api/v4/projects/9/deployments", {"page": 1}))
    with pytest.raises(LoopDetected, match="an empty page announces page 2"):
        gitlab.next_request(answer([], request, {"x-next-page": "2"}))

    logs = CompositeAfterKeyPaginator("logs")
    body: dict[str, Any] = {"size": 0, "aggs": {"logs": {"composite": {"size": 2, "sources": []}}}}
    request = logs.start(PageRequest("/logs-*/_search", json=body, method="POST"))
    buckets = [{"key": {"s": "a"}, "doc_count": 1}, {"key": {"s": "b"}, "doc_count": 2}]
    follow = logs.next_request(
        answer({"aggregations": {"logs": {"after_key": {"s": "b"}, "buckets": buckets}}}, request)
    )
    assert follow is not None
    with pytest.raises(LoopDetected, match="a new after_key on a page repeating the last one"):
        logs.next_request(answer({"aggregations": {"logs": {"after_key": {"s": "c"}, "buckets": buckets}}}, follow))


@pytest.mark.parametrize(
    ("paginator", "first", "page", "headers", "reason"),
    [
        (
            NextPageKeyPaginator(),
            PageRequest("/api/v2/problems"),
            {"nextPageKey": {"k": 1}},
            {},
            "nextPageKey is a JSON dict",
        ),
        (
            OffsetLinkPaginator(),
            PageRequest("/api/now/table/incident", {"sysparm_limit": 5}),
            [],
            {"link": '<https://x/api/now/table/incident?sysparm_limit=5>;rel="next"'},
            'rel="next" carries no sysparm_offset',
        ),
        (
            CompositeAfterKeyPaginator("logs"),
            PageRequest("/l/_search", json={"aggs": {"logs": {"composite": {"size": 2}}}}, method="POST"),
            {"aggregations": {"logs": {"buckets": [{"doc_count": 1}, {"doc_count": 2}]}}},
            {},
            "a full page of 2 buckets without after_key",
        ),
        (
            CompositeAfterKeyPaginator("logs"),
            PageRequest("/l/_search", json={"aggs": {"logs": {"composite": {"size": 2}}}}, method="POST"),
            {"aggregations": {"logs": {"after_key": "b", "buckets": [{"doc_count": 1}]}}},
            {},
            "after_key is a JSON str",
        ),
    ],
)
def test_a_next_page_that_cannot_be_followed_fails_the_read_naming_it(
    paginator: Any, first: PageRequest, page: object, headers: dict[str, str], reason: str
) -> None:
    """Taken as the last page, a next link without its offset read 5 of 15 incidents and a full page of buckets
    without after_key 160 of 3,800 log counts, and the run succeeded; a token of the wrong kind ended in a
    TypeError naming no source. Each now fails the read, naming the source and what it could not follow."""
    request = paginator.start(first)
    with pytest.raises(PagingBroken, match=f"^{paginator.source}: {re.escape(reason)}"):
        paginator.next_request(answer(page, request, headers))


def test_servicenow_a_count_that_never_agrees_is_named_in_the_error() -> None:
    """A source counting 100 records in the window and listing 3 failed after 8 scans with "records kept moving",
    which sent the reader looking for moving records: the error now gives both numbers. A count written "²" (a
    digit to str.isdigit) on the listing is no count, not a ValueError."""

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.params["sysparm_fields"] == "sys_id":
            return httpx.Response(200, json={"result": []}, headers={"X-Total-Count": "100"})
        return httpx.Response(
            200, json={"result": [incident(h) for h in (1, 2, 3)]}, headers={"X-Total-Count": "²".encode("latin-1")}
        )

    client = ServiceNowClient("https://i", "svc", SecretStr("pw"), transport=httpx.MockTransport(handle))
    with pytest.raises(SourceUnavailable, match=re.escape("(8 scans, the last holding 3 of the 100 counted)")):
        list(client.updated_records("incident", ["sys_id", "sys_updated_on"], DAY.since, DAY.until, 10))


def test_gitlab_a_count_that_is_no_ascii_number_is_no_count() -> None:
    """x-total "²" is a digit to str.isdigit and no number to int: the read failed with a ValueError naming no
    source. It is read as no count: the pages are read once, all of them."""

    def handle(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params.get("page", 1))
        records = [{"id": i, "updated_at": f"2024-03-04T0{i}:00:00.000Z"} for i in (2 * page - 1, 2 * page)]
        headers = {"x-total": "²".encode("latin-1"), "x-next-page": b"2" if page == 1 else b""}
        return httpx.Response(200, json=records, headers=headers)

    client = GitLabClient("https://gitlab.example", SecretStr("glpat-x"), transport=httpx.MockTransport(handle))
    pages = list(client.deployments(5, DAY.since, DAY.until, 2))
    assert [d["id"] for page in pages for d in page.body] == [1, 2, 3, 4]
    assert client.rereads == 0
