"""A caller without a credential, or with a wrong one, who sends a body over the API's limit (ROSETTA_API_MAX_BODY_MB)
gets the 401 any request of theirs gets, and a reader posting to an admin route the 403 of any admin route: the body's
size is told only to a caller the route would read it for. The caller is judged by the headers, before the body is
read. Through the ASGI app, through uvicorn with the body still owed, and through the Lambda handler with an API
Gateway HTTP API event."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from functions.api.settings import ApiSettings
from tests.integration.api.conftest import READER
from tests.integration.api.test_lambda_and_inputs import CONTEXT, http_api_v2, lambda_handler
from tests.integration.api.test_request_body_limit import answer_to_a_body_never_finished
from tests.integration.api.test_served_connections import served

__all__ = ["lambda_handler"]

MIB = 1024 * 1024
JSON = {"content-type": "application/json"}
# The credentials the auth check refuses: none, an API key no one was given, a bearer token that is no JWT.
NOT_AUTHENTICATED = {
    "no credential": {},
    "a wrong key": {"X-API-Key": "wrong-key-0123456789"},
    "a bearer token that is no JWT": {"Authorization": "Bearer abc.def.ghi"},
}
# A route taking a body (admin), and a read route (reader), which takes none.
ROUTES = [("POST", "/monitoring/admin/mappings"), ("GET", "/monitoring/kpis/slo")]


def over_the_limit(client: TestClient) -> bytes:
    """A body one byte over the limit the app was given."""
    return b" " * (client.app.state.context.api.max_body_mb * MIB + 1)  # type: ignore[attr-defined]


def as_problem(answer: Any) -> tuple[int, str, str | None, dict[str, Any]]:
    return answer.status_code, answer.headers["content-type"], answer.headers.get("www-authenticate"), answer.json()


@pytest.mark.parametrize("credential", NOT_AUTHENTICATED.values(), ids=NOT_AUTHENTICATED.keys())
@pytest.mark.parametrize(("method", "route"), ROUTES, ids=[route for _, route in ROUTES])
def test_a_large_body_from_a_caller_not_authenticated_gets_the_auth_checks_401(
    client: TestClient, method: str, route: str, credential: dict[str, str]
) -> None:
    """The answer is the one the same caller gets with a body of two bytes: the auth check's."""
    small = client.request(method, route, headers=JSON | credential, content=b"{}")
    large = client.request(method, route, headers=JSON | credential, content=over_the_limit(client))
    assert small.status_code == 401, small.text[:300]
    assert as_problem(large) == as_problem(small)


def test_a_large_body_from_a_reader_to_an_admin_route_gets_its_403(client: TestClient) -> None:
    route = "/monitoring/admin/mappings"
    small = client.post(route, headers=JSON | READER, content=b"{}")
    large = client.post(route, headers=JSON | READER, content=over_the_limit(client))
    assert small.status_code == 403, small.text[:300]
    assert as_problem(large) == as_problem(small)


def test_uvicorn_answers_401_before_the_body_is_all_sent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A POST announcing 50 MiB without a credential, of which 1 MiB is sent: the 401 comes while the rest is owed."""
    monkeypatch.setenv("ROSETTA_LAKE_URL", str(tmp_path / "lake"))
    head = (
        "POST /monitoring/admin/mappings HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {50 * MIB}\r\n\r\n"
    )
    with served(tmp_path) as port:
        status, problem = answer_to_a_body_never_finished(port, head, b" " * MIB)
    assert (status, problem["status"], problem["title"]) == (401, 401, "Authentication required")


def lambda_post(path: str, headers: dict[str, str], body: str) -> dict[str, Any]:
    """An HTTP API v2 event of a POST with its Content-Length, as API Gateway hands it over without an authorizer."""
    event = http_api_v2(path, headers=JSON | headers | {"content-length": str(len(body))})
    event["requestContext"]["http"]["method"] = "POST"
    return event | {"body": body}


@pytest.mark.parametrize(
    ("credential", "status"),
    [({}, 401), ({"x-api-key": "wrong-key-0123456789"}, 401), ({"x-api-key": READER["X-API-Key"]}, 403)],
    ids=["no credential", "a wrong key", "a reader key"],
)
def test_a_large_body_through_the_lambda_handler_gets_the_auth_checks_answer(
    lambda_handler: Any, credential: dict[str, str], status: int
) -> None:
    route = "/monitoring/admin/mappings"
    small = lambda_handler(lambda_post(route, credential, "{}"), CONTEXT)
    # The Lambda's app reads ROSETTA_API_MAX_BODY_MB, unset here: its default.
    limit = ApiSettings.model_fields["max_body_mb"].default * MIB
    large = lambda_handler(lambda_post(route, credential, " " * (limit + 1)), CONTEXT)
    assert small["statusCode"] == status, small["body"][:300]
    assert large["statusCode"] == status, large["body"][:300]
    assert large["headers"]["content-type"] == "application/problem+json"
    assert json.loads(large["body"]) == json.loads(small["body"])
