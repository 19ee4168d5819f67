"""Retry and backoff decisions, the request budget and the error taxonomy, with a fake clock (no sleeping)."""

from __future__ import annotations

import gzip
import json
import logging
import random
from collections.abc import Iterator
from email.utils import formatdate

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from functions.ingest_deploys.client import ArgoCDClient, GitLabClient
from functions.ingest_servicenow.client import ServiceNowClient
from lakehouse.ingest.client import (
    MAX_TEXT_KEPT,
    REDACTED,
    PageRequest,
    RequestBudget,
    RetryPolicy,
    SourceClient,
    backoff_seconds,
    server_wait_seconds,
)
from lakehouse.ingest.errors import BudgetExhausted, PageTooLarge, SourceRefused, SourceUnavailable
from lakehouse.ingest.paginators import NextPagePaginator

NOW = 1_580_393_657.0  # 60 s before the RateLimit-Reset of the real GitLab 429 fixture


class FakeClock:
    def __init__(self) -> None:
        self.t = NOW
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds


def mock(answers: list[httpx.Response | Exception]) -> httpx.MockTransport:
    queue = list(answers)

    def handle(request: httpx.Request) -> httpx.Response:
        answer = queue.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return httpx.MockTransport(handle)


def client_for(
    answers: list[httpx.Response | Exception], clock: FakeClock | None = None, **kwargs: object
) -> tuple[SourceClient, FakeClock]:
    clock = clock or FakeClock()
    options: dict[str, object] = {
        "policy": RetryPolicy(attempts=4, backoff_base_s=1.0, backoff_max_s=8.0, max_server_wait_s=120.0)
    }
    options.update(kwargs)
    client = SourceClient(
        "https://tenant.example",
        transport=mock(answers),
        clock=clock,
        rng=random.Random(1),
        headers={"Authorization": SecretStr("Api-Token dt0c01.SECRET")},
        **options,  # type: ignore[arg-type]
    )
    return client, clock


def test_retry_after_seconds_then_http_date_then_ratelimit_reset() -> None:
    assert server_wait_seconds({"retry-after": "7"}, NOW) == 7.0
    date = formatdate(NOW + 30, usegmt=True)
    assert server_wait_seconds({"retry-after": date}, NOW) == pytest.approx(30.0)
    # The real gitlab.com 429: no Retry-After, RateLimit-Reset 1580393717 (epoch) = 60 s later.
    assert server_wait_seconds({"ratelimit-reset": "1580393717"}, NOW) == pytest.approx(60.0)
    assert server_wait_seconds({"x-ratelimit-reset": str(int(NOW) + 5)}, NOW) == pytest.approx(5.0)
    assert server_wait_seconds({}, NOW) is None


def test_a_reset_written_in_microseconds_or_milliseconds_since_the_epoch_is_the_wait_until_then() -> None:
    """Dynatrace Managed writes X-RateLimit-Reset as microseconds since the epoch: read as seconds, the wait was
    millions of years, past any a run takes, and the first such 429 stopped Dynatrace for the whole run."""
    assert server_wait_seconds({"x-ratelimit-reset": str(int(NOW + 20) * 1_000_000)}, NOW) == pytest.approx(20.0)
    assert server_wait_seconds({"x-ratelimit-reset": str(int(NOW + 20) * 1_000)}, NOW) == pytest.approx(20.0)
    assert server_wait_seconds({"x-ratelimit-reset": str(int(NOW) * 1_000_000 - 5)}, NOW) is None


def test_a_reset_already_past_is_backed_off_from_not_asked_again_at_once() -> None:
    """GitLab's 429 carries no Retry-After, only RateLimit-Reset; with GitLab's clock 5 s behind ours, the reset is
    past, and read as a wait of 0 every attempt went at once, six in 10 ms, and the run failed against a source asking
    to be left alone. A reset or date already past is no wait: the client backs off, 1, 2, 4 s at most, jittered."""
    past = {"RateLimit-Reset": str(int(NOW) - 5)}
    assert server_wait_seconds({"ratelimit-reset": str(int(NOW) - 5)}, NOW) is None
    assert server_wait_seconds({"retry-after": formatdate(NOW - 30, usegmt=True)}, NOW) is None
    client, clock = client_for([httpx.Response(429, headers=past)] * 3 + [httpx.Response(200, json={"ok": True})])
    assert client.send(PageRequest("/api/v4/projects/1/deployments")).body == {"ok": True}
    assert len(clock.sleeps) == 3 and all(wait > 0 for wait in clock.sleeps)
    assert all(0 < wait <= ceiling for wait, ceiling in zip(clock.sleeps, (1.0, 2.0, 4.0), strict=True))


def test_backoff_is_exponential_with_full_jitter() -> None:
    policy = RetryPolicy(backoff_base_s=0.5, backoff_max_s=4.0)
    rng = random.Random(3)
    for attempt, ceiling in ((1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (9, 4.0)):
        waits = [backoff_seconds(attempt, policy, rng) for _ in range(200)]
        assert min(waits) >= 0.0 and max(waits) <= ceiling
        assert max(waits) > ceiling * 0.8  # jitter spreads over the whole range


def test_429_waits_what_the_server_asks_then_succeeds() -> None:
    client, clock = client_for(
        [
            httpx.Response(429, headers={"Retry-After": "3"}, json={"error": {"message": "Rate limit exceeded"}}),
            httpx.Response(429, headers={"RateLimit-Reset": str(int(NOW) + 3 + 10)}),
            httpx.Response(200, json={"ok": True}),
        ]
    )
    response = client.send(PageRequest("/api/v2/problems"))
    assert response.body == {"ok": True}
    assert clock.sleeps == [3.0, pytest.approx(10.0)]
    assert (client.counters.requests, client.counters.retries, client.counters.rate_limited) == (3, 2, 2)


def test_5xx_and_dropped_connections_back_off_then_give_up_clearly() -> None:
    client, clock = client_for(
        [
            httpx.Response(503),
            httpx.ConnectError("refused"),
            httpx.ReadTimeout("slow"),
            httpx.Response(502),
        ]
    )
    with pytest.raises(SourceUnavailable) as caught:
        client.send(PageRequest("/api/v2/metrics/query", {"metricSelector": "x"}))
    message = str(caught.value)
    assert message.startswith("source: HTTP 502 on GET /api/v2/metrics/query, still after 4 attempts")
    assert "SECRET" not in message and "metricSelector" not in message
    assert len(clock.sleeps) == 3 and all(0 <= s <= 8.0 for s in clock.sleeps)


def test_other_4xx_fail_at_once_naming_the_status() -> None:
    client, clock = client_for(
        [httpx.Response(401, json={"error": {"code": 401, "message": "Token Authentication failed"}})]
    )
    with pytest.raises(SourceRefused) as caught:
        client.send(PageRequest("/api/v2/problems"))
    assert str(caught.value) == "source: HTTP 401 on GET /api/v2/problems: Token Authentication failed"
    assert caught.value.status == 401 and clock.sleeps == []


def test_a_servicenow_refusal_says_its_detail_too() -> None:
    """ServiceNow's error names the refusal in `message` and why in `detail` ({"error": {"message", "detail"},
    "status": "failure"}); a field ACL on the query's fields reads "Insufficient rights to query records" alone
    without its detail, which says what to grant."""
    body = {
        "error": {
            "message": "Insufficient rights to query records",
            "detail": "Field(s) present in the query do not have permission to be read",
        },
        "status": "failure",
    }
    answers = [httpx.Response(403, json=body), httpx.Response(400, json={"error": {"message": "Invalid table x"}})]
    servicenow = ServiceNowClient("https://i.example", "u", SecretStr("pw"), transport=mock(answers), clock=FakeClock())
    with pytest.raises(SourceRefused) as caught:
        servicenow.send(PageRequest("/api/now/table/incident"))
    assert str(caught.value) == (
        "servicenow: HTTP 403 on GET /api/now/table/incident: Insufficient rights to query records (Field(s) present "
        "in the query do not have permission to be read); check ROSETTA_SERVICENOW_USER and "
        "ROSETTA_SERVICENOW_PASSWORD and what its account may read"
    )
    with pytest.raises(SourceRefused) as caught:
        servicenow.send(PageRequest("/api/now/table/x"))
    assert str(caught.value) == "servicenow: HTTP 400 on GET /api/now/table/x: Invalid table x"


def test_a_truncated_json_page_is_kept_then_asked_again() -> None:
    client, _ = client_for([httpx.Response(200, content=b'{"result": [{"sys_id": "ab'), httpx.Response(200, json={})])
    assert client.send(PageRequest("/api/now/table/incident")).body == {}
    (bad,) = client.counters.read_again
    assert "not valid JSON" in bad.reason and bad.text == '{"result": [{"sys_id": "ab'


def test_an_empty_page_is_kept_then_asked_again() -> None:
    """A 200 without a body (an answer cut by a proxy) came back as an empty page: the ServiceNow, Dynatrace, ArgoCD
    and Elasticsearch parsers failed the run on it, the GitLab ones read it as a page of no records."""
    client, _ = client_for([httpx.Response(200, content=b""), httpx.Response(200, json={"result": []})])
    assert client.send(PageRequest("/api/now/table/incident")).body == {"result": []}
    (bad,) = client.counters.read_again
    assert (bad.url, bad.reason, bad.text) == ("GET /api/now/table/incident", "page was empty", "")
    assert (client.counters.requests, client.counters.retries) == (2, 1)


def test_a_page_of_another_json_shape_is_kept_then_asked_again() -> None:
    """A 200 whose JSON is a list where the API answers an object failed the run with "AttributeError: 'list' object
    has no attribute 'get'"; GitLab's object where it answers a list was read as a page of no records."""
    listed = b'[{"sys_id": "a"}]'
    client, _ = client_for([httpx.Response(200, content=listed), httpx.Response(200, json={"result": []})])
    assert client.send(PageRequest("/api/now/table/incident")).body == {"result": []}
    (bad,) = client.counters.read_again
    assert (bad.reason, bad.text) == ("page was a JSON list, not an object", '[{"sys_id": "a"}]')
    answers = [httpx.Response(200, json={"message": "x"}), httpx.Response(200, json=[])]
    gitlab = GitLabClient("https://gitlab.example", SecretStr("glpat-x"), transport=mock(answers), clock=FakeClock())
    assert gitlab.send(PageRequest("/api/v4/projects/5/pipelines")).body == []
    (bad,) = gitlab.counters.read_again
    assert bad.reason == "page was a JSON object, not a list"


def test_a_servicenow_page_without_its_result_list_is_kept_then_asked_again() -> None:
    """Every Table API page lists its records under `result`. A 200 without it (an error body, a gateway's JSON) was
    read as a page of no records, so the window moved past records never read: it is set aside and asked again, and
    when every attempt answers so the run fails and keeps its window."""
    error = {"error": {"message": "Transaction cancelled: maximum execution time exceeded"}, "status": "failure"}
    answers = [httpx.Response(200, json=error), httpx.Response(200, json={"result": [{"sys_id": "a"}]})]
    clock = FakeClock()
    servicenow = ServiceNowClient("https://i.example", "u", SecretStr("pw"), transport=mock(answers), clock=clock)
    assert servicenow.send(PageRequest("/api/now/table/incident")).body == {"result": [{"sys_id": "a"}]}
    (bad,) = servicenow.counters.read_again
    assert (bad.url, bad.reason) == ("GET /api/now/table/incident", "page has no result list")
    assert "maximum execution time exceeded" in bad.text
    always = ServiceNowClient(
        "https://i.example",
        "u",
        SecretStr("pw"),
        transport=mock([httpx.Response(200, json=error)] * 4),
        clock=FakeClock(),
        policy=RetryPolicy(attempts=4, backoff_base_s=1.0, backoff_max_s=8.0),
    )
    with pytest.raises(SourceUnavailable, match="page has no result list on GET /api/now/table/incident"):
        always.send(PageRequest("/api/now/table/incident"))


def test_an_argocd_listing_of_no_application_is_items_null() -> None:
    """ArgoCD answers its listing with `"items": null` when no application is visible (its API leaves an empty list
    out as null): that is a listing of none, not a page without its list. A listing without `items` at all still
    is one, set aside and asked again."""
    empty = {"metadata": {"resourceVersion": "12"}, "items": None}
    argocd = ArgoCDClient("https://argocd.example", SecretStr("t"), transport=mock([httpx.Response(200, json=empty)]))
    assert argocd.applications().body == empty and argocd.counters.set_aside == []
    answers = [httpx.Response(200, json={"metadata": {}}), httpx.Response(200, json={"metadata": {}, "items": []})]
    argocd = ArgoCDClient("https://argocd.example", SecretStr("t"), transport=mock(answers), clock=FakeClock())
    assert argocd.applications().body == {"metadata": {}, "items": []}
    assert [a.reason for a in argocd.counters.read_again] == ["page has no items list"]


def test_a_redirect_fails_at_once_saying_so() -> None:
    """A redirect (an http:// URL sent on to https://) was read as a page of no body: asked again and again, then
    failed as an empty page, with the reason hidden."""
    client, clock = client_for([httpx.Response(301, headers={"Location": "https://tenant.example/api/v2/problems"})])
    with pytest.raises(SourceRefused) as caught:
        client.send(PageRequest("/api/v2/problems"))
    assert str(caught.value) == "source: HTTP 301 on GET /api/v2/problems: redirected; check the source's URL"
    assert client.counters.set_aside == [] and clock.sleeps == []


def test_budget_counts_retries_and_stops_the_run() -> None:
    """Two requests allowed, two 500s: the third try is refused. The run then writes nothing and moves no watermark,
    so the message must not promise that the next run continues where this one stopped."""
    budget = RequestBudget(2)
    client, _ = client_for([httpx.Response(500), httpx.Response(500), httpx.Response(200, json={})], budget=budget)
    with pytest.raises(BudgetExhausted) as caught:
        client.send(PageRequest("/x"))
    assert str(caught.value) == (
        "source: request budget of 2 used up; the next run reads the window again (if every run stops here, raise "
        "ROSETTA_REQUEST_BUDGET or lower ROSETTA_CATCH_UP_HOURS)"
    )
    assert budget.used == 2


def test_a_server_wait_up_to_the_longest_a_run_waits_is_waited() -> None:
    client, clock = client_for(
        [httpx.Response(429, headers={"Retry-After": "5"}), httpx.Response(200, json={})],
        policy=RetryPolicy(attempts=3, max_server_wait_s=5.0),
    )
    client.send(PageRequest("/x"))
    assert clock.sleeps == [5.0]


def test_a_server_wait_longer_than_a_run_waits_stops_the_source_at_once_naming_it() -> None:
    """ServiceNow's hourly rate limit answers 429 with a Retry-After of up to an hour. Each try waited the cap and
    asked again (6 tries, 5 minutes of a 60 s cap), then failed with "HTTP 429 ... still after 6 attempts", the
    wait the server asked for said nowhere. By hand: Retry-After 3600 s > the 5 s a run waits, so no sleep and no
    second request; the error names the wait; a later request of the same client (the next table of the run) is
    refused without being sent, the source asked for an hour; once the hour has passed, it is sent again."""
    client, clock = client_for(
        [httpx.Response(429, headers={"Retry-After": "3600"}), httpx.Response(200, json={})],
        policy=RetryPolicy(attempts=3, max_server_wait_s=5.0),
    )
    with pytest.raises(SourceUnavailable) as caught:
        client.send(PageRequest("/api/now/table/incident", {"sysparm_limit": 5}))
    assert str(caught.value) == (
        "source: rate limit on GET /api/now/table/incident: retry after 3600 s, longer than a run waits (5 s, "
        "ROSETTA_HTTP_MAX_SERVER_WAIT_S); the next run reads the window again"
    )
    assert clock.sleeps == [] and (client.counters.requests, client.counters.retries) == (1, 0)
    with pytest.raises(SourceUnavailable, match="retry after 3600 s"):
        client.send(PageRequest("/api/now/table/change_request"))
    assert client.counters.requests == 1
    clock.t += 3600
    assert client.send(PageRequest("/api/now/table/change_request")).body == {}


def test_a_next_link_to_another_host_is_not_followed_with_the_credentials() -> None:
    """GitLab's keyset pages follow the Link header's next URL as given. One naming another host, or the same host
    over plain http, would carry the token there: the run fails saying where the link went, and no request leaves
    for it. A link on the source's own origin is followed."""
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.params.get("cursor") == "2":
            return httpx.Response(200, json=[{"id": 2}])
        return httpx.Response(200, json=[{"id": 1}], headers={"Link": f'<{next_url}>; rel="next"'})

    for next_url, followed in [
        ("https://gitlab.example/api/v4/projects/1/deployments?cursor=2", True),
        ("https://attacker.example/api/v4/projects/1/deployments?cursor=2", False),
        ("http://gitlab.example/api/v4/projects/1/deployments?cursor=2", False),
    ]:
        seen.clear()
        client = GitLabClient(
            "https://gitlab.example/api/v4", SecretStr("glpat-SECRET"), transport=httpx.MockTransport(handle)
        )
        first = PageRequest("/projects/1/deployments", {"pagination": "keyset"})
        if followed:
            assert [r.body for r in client.pages(first, NextPagePaginator())] == [[{"id": 1}], [{"id": 2}]]
            assert [r.url.host for r in seen] == ["gitlab.example", "gitlab.example"]
            continue
        with pytest.raises(SourceRefused) as refused:
            list(client.pages(first, NextPagePaginator()))
        origin = next_url.split("/api")[0]
        assert f"a page links to {origin}, not https://gitlab.example: not followed" in str(refused.value)
        assert "glpat-SECRET" not in str(refused.value)
        assert [r.url.host for r in seen] == ["gitlab.example"]


def test_gitlabs_per_minute_throttle_is_waited_with_the_default_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real gitlab.com 429 (fixture, read in place) has no Retry-After and a RateLimit-Reset 61 s after its Date:
    GitLab throttles per minute and resets on the next whole second. Waited at most 60 s by default, a run stopped
    GitLab at its first throttle and failed. By hand: answered at Date 14:14:16 GMT = 1580393656, reset 1580393717,
    so the client sleeps 61 s and asks again, with the settings a deployment runs with."""
    import os
    from email.utils import parsedate_to_datetime

    from lakehouse.ingest.config import IngestSettings
    from tests.conftest import FIXTURES

    lines = (FIXTURES / "gitlab" / "headers__429_rate_limited_real.txt").read_text().splitlines()
    headers = dict(line.split(": ", 1) for line in lines if ": " in line and not line.startswith("#"))
    body = lines[-1]
    for name in list(os.environ):
        if name.startswith("ROSETTA_"):
            monkeypatch.delenv(name)
    client, clock = client_for(
        [httpx.Response(429, headers=headers, content=body.encode()), httpx.Response(200, json={})],
        policy=IngestSettings().policy(),
    )
    clock.t = parsedate_to_datetime(headers["Date"]).timestamp()
    assert client.send(PageRequest("/api/v4/projects/1/deployments")).body == {}
    assert clock.sleeps == [61.0]


def test_a_password_in_the_base_url_reaches_no_log_at_info(caplog: pytest.LogCaptureFixture) -> None:
    """An Elasticsearch URL written with its user and password: httpx logged each request's whole URL at INFO, so a
    function logging at INFO wrote the password out with every page."""
    caplog.set_level(logging.INFO)
    answers = mock([httpx.Response(200, json={"hits": []})])
    with SourceClient("https://svc:Pa55-s3cr3t@es.example", transport=answers) as client:
        assert client.send(PageRequest("/_search", {})).body == {"hits": []}
    assert "Pa55-s3cr3t" not in caplog.text


def test_an_answer_with_no_content_is_kept_then_asked_again_as_an_empty_page() -> None:
    """A 204 came back as a page of nothing: GitLab read 0 of 9 deployments and the run succeeded, the other
    sources' parsers failed on None naming no source. It is an empty page: kept aside, asked again."""
    client, _ = client_for([httpx.Response(204), httpx.Response(200, json={"result": []})])
    assert client.send(PageRequest("/api/now/table/incident")).body == {"result": []}
    (bad,) = client.counters.read_again
    assert (bad.reason, bad.text) == ("page was empty (HTTP 204)", "")


def test_a_body_that_does_not_decompress_is_kept_then_asked_again() -> None:
    """Content-Encoding gzip over bytes that are no gzip failed the run at once with httpx's DecodingError, naming
    no source, neither retried nor kept aside."""
    garbled = httpx.Response(200, headers={"content-encoding": "gzip"}, stream=httpx.ByteStream(b"not gzip at all"))
    client, _ = client_for([garbled, httpx.Response(200, json={"result": []})])
    assert client.send(PageRequest("/api/now/table/incident")).body == {"result": []}
    (bad,) = client.counters.read_again
    assert bad.reason.startswith("page could not be decompressed")
    assert (client.counters.requests, client.counters.retries) == (2, 1)


def test_a_page_echoing_the_token_loses_it_before_its_records_are_read() -> None:
    """A valid page quoting the request's Authorization header (in a problem's title) put the whole
    `Api-Token dt0c01.SECRET` in landing/, raw/ and the rejects: only pages set aside were cleaned. Written as it is
    or JSON-escaped, it is REDACTED in the records read."""
    page = '{"problems": [{"title": "denied for Api-Token dt0c01.SECRET"}, {"title": "dt0c01\\u002ESECRET"}]}'
    client, _ = client_for([httpx.Response(200, content=page.encode())])
    body = client.send(PageRequest("/api/v2/problems")).body
    assert body == {"problems": [{"title": f"denied for {REDACTED}"}, {"title": REDACTED}]}


@pytest.mark.parametrize("value", ["\u00b2", "9" * 400, "1e9"])
def test_a_retry_after_that_is_no_number_of_seconds_is_no_wait(value: str) -> None:
    """Retry-After "²" (a digit to str.isdigit) ended in float's ValueError and 400 nines in an OverflowError, each
    failing the run naming no source. Neither is seconds nor a date: the client backs off as without one."""
    assert server_wait_seconds({"retry-after": value}, NOW) is None


def _growing(pieces: int, piece: bytes, clock: FakeClock | None = None, seconds: float = 0.0) -> httpx.SyncByteStream:
    """A body of `pieces` pieces sent without a length, the clock moving `seconds` before each."""

    class Stream(httpx.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            for _ in range(pieces):
                if clock is not None:
                    clock.t += seconds
                yield piece

    return Stream()


def test_a_page_announced_over_the_limit_fails_the_read_unread() -> None:
    """A 200 MB page was read whole and took 1.6-2.6 GB, over the ingestion functions' 1,024 MB. A length over the
    limit is refused before the body is read, and not asked again: the same page would come back."""
    big = httpx.Response(200, headers={"content-length": str(3 * 2**20)}, stream=_growing(1, b"{}"))
    client, _ = client_for([big], max_page_bytes=2 * 2**20)
    with pytest.raises(PageTooLarge, match=r"page was over 2 MB \(3,145,728 bytes announced\) on GET /api/v2/"):
        client.send(PageRequest("/api/v2/problems"))
    (kept,) = client.counters.set_aside
    assert (kept.reason, kept.text) == ("page was over 2 MB (3,145,728 bytes announced)", "")
    assert (client.counters.requests, client.counters.retries) == (1, 0)


def test_a_page_growing_past_the_limit_stops_there_its_beginning_kept() -> None:
    """Without a length (chunked), the read stops at the first piece past the limit: 3 pieces of 400 kB against
    1 MB. The rejects keep the page's first MAX_TEXT_KEPT characters."""
    client, _ = client_for([httpx.Response(200, stream=_growing(5, b"[" * 400_000))], max_page_bytes=2**20)
    with pytest.raises(PageTooLarge, match=r"\(1,200,000 bytes read so far\).*raise ROSETTA_HTTP_MAX_PAGE_MB"):
        client.send(PageRequest("/api/v2/problems"))
    (kept,) = client.counters.set_aside
    assert kept.text == "[" * MAX_TEXT_KEPT


def test_a_page_cut_within_a_credential_keeps_no_part_of_it() -> None:
    """The rejects keep a page's first MAX_TEXT_KEPT characters, and took the credentials out of them after the cut:
    cut within one, its part was kept. Here the client's own token (dt0c01.SECRET, echoed by a proxy) begins 15
    characters before the cut, and in a second page a URL's password, 1,500 characters long as a JWT may be, runs
    across it: neither keeps a character of its secret, and what came before them is kept."""
    own, jwt = "dt0c01.SECRET", "eyJ" + "a" * 1_497
    lead = '{"problems": [{"title": "'
    for written, before, after in [
        (own, 15, "<redacted>"),  # found whole in what is read past the cut, and cut as "<redacted>" is
        (f"https://deploy:{jwt}@git.example.com/repo.git", 100, "https://"),  # its @ never read: cut after ://
    ]:
        kept_before = lead + "x" * (MAX_TEXT_KEPT - len(lead) - before)
        page = (kept_before + written + '"}]}' + " " * 300_000).encode()
        pieces = [page[i : i + 8_192] for i in range(0, len(page), 8_192)]
        client, _ = client_for([httpx.Response(200, content=iter(pieces))], max_page_bytes=200_000)
        with pytest.raises(PageTooLarge):
            client.send(PageRequest("/api/v2/problems"))
        (kept,) = client.counters.set_aside
        assert kept.text.startswith(kept_before)
        rest = kept.text[len(kept_before) :]
        assert rest.startswith(after) or after.startswith(rest), rest
        assert not any(part in rest for part in ("dt0c", "SECRET", "eyJ", "deploy")), rest


def test_a_page_set_aside_keeps_no_password_of_a_url_it_writes_json_escaped() -> None:
    """A 200 whose JSON is an error (no result list) is set aside as it came: its URL written https:\\/\\/user:pw@
    kept the password in the rejects."""
    error = rb'{"error": {"message": "upstream https:\/\/deploy:hunter2-topsecret@git.example.com\/repo failed"}}'
    client = ServiceNowClient(
        "https://acme.service-now.com",
        "svc",
        SecretStr("Sup3rS3cretPassw0rd"),
        transport=mock([httpx.Response(200, content=error)]),
        policy=RetryPolicy(attempts=1),
    )
    with pytest.raises(SourceUnavailable, match="page has no result list"):
        client.send(PageRequest("/api/now/table/incident"))
    (kept,) = client.counters.set_aside
    assert kept.text == r'{"error": {"message": "upstream https:\/\/git.example.com\/repo failed"}}'


def test_the_limit_is_on_the_page_decompressed() -> None:
    """A gzip of 5 MB of spaces is some 5 kB on the wire: the limit counts what would be parsed."""
    squeezed = gzip.compress(b'{"problems": []' + b" " * 5 * 2**20 + b"}")
    assert len(squeezed) < 10_000
    page = httpx.Response(200, headers={"content-encoding": "gzip"}, content=squeezed)
    client, _ = client_for([page], max_page_bytes=2**20)
    with pytest.raises(PageTooLarge):
        client.send(PageRequest("/api/v2/problems"))


def test_a_gzip_longer_than_its_page_is_judged_by_its_page() -> None:
    """A Content-Length counts the bytes on the wire: a small page's gzip is longer than the page (its header and
    checksum). The page, within the limit, was refused on the length of its gzip; it is read."""
    page = b'{"problems": []}'
    squeezed = gzip.compress(page)
    assert len(page) < 32 < len(squeezed)
    answer = httpx.Response(
        200, headers={"content-encoding": "gzip", "content-length": str(len(squeezed))}, content=squeezed
    )
    client, _ = client_for([answer], max_page_bytes=32)
    assert client.send(PageRequest("/api/v2/problems")).body == {"problems": []}


def test_a_page_at_the_limit_is_read() -> None:
    page = b'{"problems": []' + b" " * (2**20 - 16) + b"}"
    assert len(page) == 2**20
    client, _ = client_for([httpx.Response(200, content=page)], max_page_bytes=2**20)
    assert client.send(PageRequest("/api/v2/problems")).body == {"problems": []}


def test_a_body_sent_a_byte_now_and_then_is_asked_again_as_after_a_timeout() -> None:
    """Each byte came within the read timeout, so a 60-byte page sent a byte a second took 60 s under a 3 s
    timeout. The answer has `total_timeout_s` from its request to its last byte; past that it is asked again."""
    clock = FakeClock()
    trickle = httpx.Response(200, stream=_growing(60, b" ", clock, seconds=1.0))
    client, _ = client_for([trickle, httpx.Response(200, json={"problems": []})], clock, total_timeout_s=10.0)
    assert client.send(PageRequest("/api/v2/problems")).body == {"problems": []}
    assert (client.counters.requests, client.counters.retries) == (2, 1)
    # 11 pieces came (the 11th past the 10 s) before the read stopped, then one backoff.
    assert clock.t - NOW == pytest.approx(11.0 + clock.sleeps[0])


def test_a_body_that_keeps_coming_too_slowly_fails_the_source_saying_so() -> None:
    clock = FakeClock()
    trickles = [httpx.Response(200, stream=_growing(60, b" ", clock, seconds=1.0)) for _ in range(4)]
    client, _ = client_for(list(trickles), clock, total_timeout_s=10.0)
    with pytest.raises(SourceUnavailable, match=r"timeout \(the answer took over 10 s\) on GET /api/v2/problems"):
        client.send(PageRequest("/api/v2/problems"))


@settings(max_examples=200, deadline=None, database=None)
@given(
    titles=st.lists(st.text(max_size=40), max_size=60),
    pieces=st.integers(min_value=1, max_value=4096),
    squeezed=st.booleans(),
    announced=st.booleans(),
    limit_share=st.floats(min_value=0.01, max_value=2.0),
)
def test_a_page_within_the_limit_reads_whatever_its_pieces_and_one_over_it_fails(
    titles: list[str], pieces: int, squeezed: bool, announced: bool, limit_share: float
) -> None:
    """However a page comes (in pieces of any size, gzipped or not, with or without its length), a page no larger
    than the limit once decompressed reads as it was sent, and a larger one fails its read, kept aside, asked once."""
    page = json.dumps({"problems": [{"title": title} for title in titles]}).encode()
    limit = max(1, int(len(page) * limit_share))
    wire = gzip.compress(page) if squeezed else page
    headers = {"content-encoding": "gzip"} if squeezed else {}
    if announced:
        headers["content-length"] = str(len(wire))
    chunks = [wire[i : i + pieces] for i in range(0, len(wire), pieces)]
    answer = httpx.Response(200, headers=headers, stream=_pieces(chunks))
    client, _ = client_for([answer], max_page_bytes=limit)
    if len(page) <= limit:
        assert client.send(PageRequest("/api/v2/problems")).body == json.loads(page)
    else:
        with pytest.raises(PageTooLarge):
            client.send(PageRequest("/api/v2/problems"))
        (kept,) = client.counters.set_aside
        assert kept.reason.startswith(f"page was over {limit / 2**20:g} MB (")
    assert client.counters.requests == 1


def _pieces(chunks: list[bytes]) -> httpx.SyncByteStream:
    class Stream(httpx.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            yield from chunks

    return Stream()
