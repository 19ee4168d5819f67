"""Every route the app serves, as its own OpenAPI document lists it, refuses a caller without the role it needs
through API Gateway; a lake whose path holds quotes is built and served (the paths DuckDB cannot bind are quoted)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from functions.api.gateway import ADMIN_PATH
from functions.api.main import create_app
from lakehouse.aggregates.build import build
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.integration.api.conftest import ADMIN, READER, READER_KEY, api_settings, down_sources
from tests.integration.api.test_lambda_and_inputs import CONTEXT, http_api_v2, lambda_handler  # noqa: F401
from tests.unit.aggregates.estate import AS_OF, write_estate

# The estate's application and component, for the routes' path parameters.
PATH_VALUES = {"{app_id}": "shop", "{component_id}": "shop-api"}
WRONG_KEY = "admin-key-guessed-0123456789"


def served_routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path) of every operation the app documents, its path parameters filled with the estate's ids."""
    routes = []
    for path, operations in app.openapi()["paths"].items():
        for name, value in PATH_VALUES.items():
            path = path.replace(name, value)
        routes += [(method.upper(), path) for method in operations]
    return routes


def through_gateway(handler: Any, method: str, path: str, headers: dict[str, str]) -> dict[str, Any]:
    """The function's answer to an HTTP API request, a JSON object as the body of a POST."""
    event = http_api_v2(path, headers={"content-type": "application/json", **headers})
    event["requestContext"]["http"]["method"] = method
    event["body"] = "{}" if method == "POST" else None
    answer: dict[str, Any] = handler(event, CONTEXT)
    return answer


def test_every_route_refuses_a_caller_without_the_role_it_needs_through_api_gateway(
    app: FastAPI,
    lambda_handler: Any,  # noqa: F811
) -> None:
    """Health alone answers without a credential. Every other route is a 401 without one and with a wrong key,
    which the answer never quotes; every admin route, and every route that changes something (none but admin's
    does), is a 403 for a reader. Each refusal is problem+json."""
    routes = served_routes(app)
    # Today: 24 paths, /monitoring/admin/mappings with GET and POST, and POST batch/trigger.
    assert len(routes) >= 25
    changing = {path for method, path in routes if method != "GET"}
    assert f"{ADMIN_PATH}/batch/trigger" in changing and all(path.startswith(ADMIN_PATH) for path in changing)
    for method, path in routes:
        if path == "/monitoring/health":
            continue
        for headers, status in [({}, 401), ({"x-api-key": WRONG_KEY}, 401)]:
            answer = through_gateway(lambda_handler, method, path, headers)
            assert (answer["statusCode"], answer["headers"]["content-type"]) == (status, "application/problem+json")
            assert WRONG_KEY not in str(answer), path
        if path.startswith(ADMIN_PATH):
            answer = through_gateway(lambda_handler, method, path, {"x-api-key": READER_KEY})
            assert (answer["statusCode"], answer["headers"]["content-type"]) == (403, "application/problem+json")


def test_a_lake_at_a_path_with_quotes_is_built_and_served(tmp_path: Path) -> None:
    """DuckDB takes no bound value for a COPY target nor for the files a view reads: the build writes its mart to,
    and the API loads it from, paths quoted as SQL strings. A lake and a scratch folder named with quotes serve the
    estate's shop application like any other: its summary is a 200 naming its two components."""
    root = tmp_path / "o'brien's lake"
    settings = Settings(lake_url=str(root / "lake"), duckdb_temp_directory=root / "duck'db")
    lake = Lake.from_settings(settings)
    write_estate(lake)
    build(lake, settings, mode="full", as_of=AS_OF)
    with TestClient(create_app(api_settings(root), settings, down_sources())) as client:
        answer = client.get("/monitoring/applications/shop/summary", headers=READER)
    assert answer.status_code == 200, answer.text[:300]
    assert answer.json()["entity"]["components"] == ["shop-api", "shop-db"]


JSON = {"content-type": "application/json"}


@pytest.mark.parametrize(
    ("method", "route", "headers", "body", "status"),
    [
        ("GET", "/monitoring/admin/nowhere", ADMIN, None, 404),
        ("PUT", "/monitoring/admin/mappings", ADMIN | JSON, b"{}", 405),
        ("DELETE", "/monitoring/admin/batch/trigger", ADMIN, None, 405),
        # 2 MB that is no JSON, posted by an admin: refused as such, not read as a form nor a crash (over the body
        # limit, 16 MiB, it is not read at all: tests/integration/api/test_request_body_limit.py)
        ("POST", "/monitoring/admin/mappings", ADMIN | JSON, b"<entries>" * (2 * 2**20 // 9), 422),
        ("POST", "/monitoring/admin/batch/trigger", ADMIN | {"content-type": "text/html"}, b"<p>build</p>", 415),
        # 3,000 repetitions of a parameter read once, some 30 kB of query string
        ("GET", "/monitoring/overview?" + "period=last_7d&" * 3000, READER, None, 422),
        ("GET", "/monitoring/admin/batch-runs?limit=" + "9" * 5000, ADMIN, None, 422),
    ],
)
def test_a_bad_request_is_a_4xx_problem_never_a_trace_nor_html(
    client: TestClient, method: str, route: str, headers: dict[str, str], body: bytes | None, status: int
) -> None:
    answer = client.request(method, route, headers=headers, content=body)
    assert (answer.status_code, answer.headers["content-type"]) == (status, "application/problem+json")
    problem = answer.json()
    assert problem["status"] == status and "Traceback" not in answer.text and "<" not in problem["detail"]


@pytest.mark.parametrize("tag", ['W/"\x7f' + "W/" * 4000, "W/", '"unterminated', ", , ,", "*, W/1"])
def test_a_malformed_if_none_match_is_no_error(client: TestClient, tag: str) -> None:
    """An If-None-Match that holds no ETag the API gave matches nothing: the answer is the route's own 200."""
    answer = client.get("/monitoring/overview", headers=READER | {"If-None-Match": tag})
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
