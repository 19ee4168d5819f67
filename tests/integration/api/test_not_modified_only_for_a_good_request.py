"""A 304 only for a request the route answers 200 with the ETag the caller holds: the ETag names the serving copy, the
same for every URL, so a request the route refuses (a bad parameter, an unknown entity, a cursor it never gave out, a
range ending before it starts) gets its problem whatever ETag it sends, directly and through API Gateway."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.integration.api.conftest import READER, READER_KEY
from tests.integration.api.test_lambda_and_inputs import CONTEXT, http_api_v2, lambda_handler, rest_api_v1  # noqa: F401

OVERVIEW = "/monitoring/overview"
# Each refused request, by its path and query, with the status and the parameter its problem names (None: none).
REFUSED = [
    (OVERVIEW, "period=bogus", 422, "period"),
    ("/monitoring/applications/nosuchapp/summary", "", 404, None),
    ("/monitoring/applications/shop/incidents", "cursor=garbage", 422, "cursor"),
    ("/monitoring/kpis/slo", "from=2026-11-10&to=2026-11-01", 422, "to"),
]
# Requests the routes answer 200 (the estate maps shop, its shop-api component, and has a build as of the 20th).
GOOD = [
    (OVERVIEW, "period=last_7d"),
    ("/monitoring/applications/shop/summary", ""),
    ("/monitoring/applications/shop/incidents", "limit=1"),
    ("/monitoring/kpis/slo", "from=2026-11-01&to=2026-11-10"),
]
HISTORIZED = "private, max-age=60"


@pytest.fixture(scope="module")
def overview_etag(client: TestClient) -> str:
    answer = client.get(OVERVIEW, headers=READER)
    assert answer.status_code == 200, answer.text[:200]
    return answer.headers["etag"]


def _url(path: str, query: str) -> str:
    return f"{path}?{query}" if query else path


def _assert_problem(status: int, headers: dict[str, str], body: str, expected: int, parameter: str | None) -> None:
    """The route's own problem: its status in the answer and the body, never stored, with no ETag."""
    assert status == expected, body[:200]
    assert headers["content-type"] == "application/problem+json"
    assert headers["cache-control"] == "no-store" and "etag" not in headers
    problem = json.loads(body)
    assert problem["status"] == expected
    if parameter is not None:
        assert [e["parameter"] for e in problem["errors"]] == [parameter], problem


@pytest.mark.parametrize(("path", "query", "status", "parameter"), REFUSED)
def test_a_refused_request_gets_its_problem_whatever_etag_it_sends(
    client: TestClient, overview_etag: str, path: str, query: str, status: int, parameter: str | None
) -> None:
    """Sent with the overview's ETag (which names the copy these answers would be read from), the request gets the
    problem it gets without one, not a 304 that a cache would read as "your stored answer is still good"."""
    for held in (None, overview_etag, f'"other", {overview_etag.removeprefix("W/")}'):
        headers = READER | ({"If-None-Match": held} if held else {})
        answer = client.get(_url(path, query), headers=headers)
        _assert_problem(answer.status_code, dict(answer.headers), answer.text, status, parameter)


@pytest.mark.parametrize(("path", "query", "status", "parameter"), REFUSED)
def test_a_refused_request_through_api_gateway_gets_its_problem_whatever_etag_it_sends(
    lambda_handler: Any,  # noqa: F811
    overview_etag: str,
    path: str,
    query: str,
    status: int,
    parameter: str | None,
) -> None:
    """The same through the Lambda handler, from an HTTP API (v2) and a REST API (v1): the app behind it is another
    one over the same lake and build, so the overview's ETag is its too (checked)."""
    held = {"x-api-key": READER_KEY, "if-none-match": overview_etag}
    own = lambda_handler(http_api_v2(OVERVIEW, headers={"x-api-key": READER_KEY}), CONTEXT)
    assert {k.lower(): v for k, v in own["headers"].items()}["etag"] == overview_etag
    params = dict(p.split("=", 1) for p in query.split("&")) if query else None
    for event in (http_api_v2(path, query, held), rest_api_v1(path, params, held)):
        answer = lambda_handler(event, CONTEXT)
        headers = {k.lower(): v for k, v in answer["headers"].items()}
        _assert_problem(answer["statusCode"], headers, answer["body"], status, parameter)


@pytest.mark.parametrize(("path", "query"), GOOD)
def test_a_good_request_with_its_own_etag_is_still_a_304_without_a_body(
    client: TestClient,
    lambda_handler: Any,  # noqa: F811
    path: str,
    query: str,
) -> None:
    """Its 200's ETag sent back: a 304 with that ETag and the private Cache-Control, and no body, for GET and HEAD,
    directly and through API Gateway."""
    url = _url(path, query)
    first = client.get(url, headers=READER)
    assert first.status_code == 200, first.text[:200]
    tag = first.headers["etag"]
    held = READER | {"If-None-Match": tag}
    for method in ("GET", "HEAD"):
        again = client.request(method, url, headers=held)
        assert (again.status_code, again.content) == (304, b""), method
        assert (again.headers["etag"], again.headers["cache-control"]) == (tag, HISTORIZED), method
    event = http_api_v2(path, query, {"x-api-key": READER_KEY, "if-none-match": tag})
    answer = lambda_handler(event, CONTEXT)
    assert (answer["statusCode"], answer["body"]) == (304, "")
    headers = {k.lower(): v for k, v in answer["headers"].items()}
    assert (headers["etag"], headers["cache-control"]) == (tag, HISTORIZED)


def test_a_refused_head_request_with_a_held_etag_gets_its_status_without_a_body(
    client: TestClient, overview_etag: str
) -> None:
    """HEAD is answered as GET without the body: a 422, not a 304, and no body."""
    answer = client.head(f"{OVERVIEW}?period=bogus", headers=READER | {"If-None-Match": overview_etag})
    assert (answer.status_code, answer.content) == (422, b"")
    assert answer.headers["cache-control"] == "no-store" and "etag" not in answer.headers
