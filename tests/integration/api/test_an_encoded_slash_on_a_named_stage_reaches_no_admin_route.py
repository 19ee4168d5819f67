"""On a named HTTP API stage (prod), the stage's name comes first in the path the gateway hands over:
/prod/monitoring/admin%2Fbatch-runs. At the gateway, admin%2Fbatch-runs is one segment, so the request matches the
reader route GET /monitoring/{proxy+}, where no admin scope is asked. mallory's token has the admin role in its roles
claim and not the rosetta/admin scope: the gateway lets her read, never reach an admin route. Her encoded slash is
answered as on the $default stage, a 404 naming the path she sent, and the run log stays unread. An admin with the
scope, asking /prod/monitoring/admin/batch-runs plainly (the gateway's admin route), reads it: the estate's lake has
the one run of its full build."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from functions.api import main
from lakehouse.settings import Settings
from tests.integration.api.test_lambda_and_inputs import http_api_v2
from tests.lambda_context import LambdaContext

CONTEXT = LambdaContext(function_name="rosetta-api")
READER_ROUTE = "GET /monitoring/{proxy+}"
ADMIN_ROUTE = "GET /monitoring/admin/{proxy+}"
MALLORY = {"sub": "mallory", "roles": "[admin]", "scope": "openid"}
ALICE = {"sub": "alice", "scope": "openid rosetta/admin"}


@pytest.fixture
def lambda_handler(estate_lake: tuple[Settings, Path], monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    settings, root = estate_lake
    monkeypatch.setenv("ROSETTA_LAKE_URL", settings.lake_url)
    monkeypatch.setenv("ROSETTA_DUCKDB_TEMP_DIRECTORY", str(root / "duckdb"))
    monkeypatch.setenv("ROSETTA_API_LOCAL_DIR", str(root / "lambda"))
    monkeypatch.setenv("ROSETTA_API_TRUST_GATEWAY_AUTHORIZER", "true")
    monkeypatch.setenv("ROSETTA_API_ADMIN_SCOPE", "rosetta/admin")
    monkeypatch.setattr(main, "_handler", None)
    yield main.handler
    monkeypatch.setattr(main, "_handler", None)


def http_api_event(stage: str, raw_path: str, path: str, route: str, claims: dict[str, str]) -> dict[str, Any]:
    """An HTTP API (v2) event as API Gateway sends it past its JWT authorizer: the raw path as the client wrote it,
    requestContext.http.path decoded, the stage's name in front of both on a named stage."""
    event = http_api_v2(path, headers={"authorization": "Bearer eyJ..."})
    context = event["requestContext"]
    context["authorizer"] = {"jwt": {"claims": claims, "scopes": claims["scope"].split()}}
    context["routeKey"], context["stage"] = route, stage
    return {**event, "routeKey": route, "rawPath": raw_path}


@pytest.mark.parametrize(
    "sent", ["/monitoring/admin%2Fbatch-runs", "/monitoring/admin%2fbatch-runs", "/monitoring%2Fadmin/batch-runs"]
)
def test_an_encoded_slash_on_the_prod_stage_is_the_404_it_is_on_the_default_stage(
    lambda_handler: Any, sent: str
) -> None:
    on_default = lambda_handler(
        http_api_event("$default", sent, "/monitoring/admin/batch-runs", READER_ROUTE, MALLORY), CONTEXT
    )
    on_prod = lambda_handler(
        http_api_event("prod", f"/prod{sent}", "/prod/monitoring/admin/batch-runs", READER_ROUTE, MALLORY), CONTEXT
    )
    for answer in (on_default, on_prod):
        assert answer["statusCode"] == 404, answer["body"][:300]
        assert json.loads(answer["body"])["instance"] == sent
        assert "build_aggregates" not in answer["body"]


def test_an_admin_with_the_scope_reads_the_batch_runs_on_the_prod_stage(lambda_handler: Any) -> None:
    event = http_api_event(
        "prod", "/prod/monitoring/admin/batch-runs", "/prod/monitoring/admin/batch-runs", ADMIN_ROUTE, ALICE
    )
    answer = lambda_handler(event, CONTEXT)
    assert answer["statusCode"] == 200, answer["body"][:300]
    # The estate's lake has the one run of its full build.
    runs = [(r["function"], r["dataset"], r["status"]) for r in json.loads(answer["body"])["items"]]
    assert runs == [("build_aggregates", "full", "succeeded")]
