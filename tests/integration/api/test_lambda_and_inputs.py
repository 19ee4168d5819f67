"""The Lambda handler with real API Gateway event shapes (HTTP API v2, REST v1); auth failures; hostile inputs."""

from __future__ import annotations

import base64
import json
import logging
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi.testclient import TestClient

from functions.api import main
from functions.api.auth import key_digest
from functions.api.periods import BUILT_PERIODS, NAMED_PERIODS
from lakehouse.errors import RosettaError
from lakehouse.ingest import config
from lakehouse.settings import Settings
from tests.integration.api.conftest import ADMIN, READ_ROUTES, READER, READER_KEY
from tests.lambda_context import LambdaContext

PRIVATE_RSA = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def lambda_handler(estate_lake: tuple[Settings, Path], monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    settings, root = estate_lake
    monkeypatch.setenv("ROSETTA_LAKE_URL", settings.lake_url)
    monkeypatch.setenv("ROSETTA_DUCKDB_TEMP_DIRECTORY", str(root / "duckdb"))
    monkeypatch.setenv("ROSETTA_API_LOCAL_DIR", str(root / "lambda"))
    keys = [{"name": "backstage", "sha256": key_digest(READER_KEY), "roles": ["reader"]}]
    monkeypatch.setenv("ROSETTA_API_API_KEYS", json.dumps(keys))
    monkeypatch.setattr(main, "_handler", None)
    yield main.handler
    monkeypatch.setattr(main, "_handler", None)


CONTEXT = LambdaContext(function_name="rosetta-api")


def http_api_v2(path: str, query: str = "", headers: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "cookies": [],
        "headers": {"accept": "application/json", "host": "api.example.org", **(headers or {})},
        "queryStringParameters": dict(p.split("=", 1) for p in query.split("&")) if query else None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "api.example.org",
            "domainPrefix": "api",
            "http": {
                "method": "GET",
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "192.0.2.1",
                "userAgent": "backstage",
            },
            "requestId": "JKJaXmPLvHcESHA=",
            "routeKey": "$default",
            "stage": "$default",
            "time": "20/Nov/2026:10:00:00 +0000",
            "timeEpoch": 1795168800000,
        },
        "isBase64Encoded": False,
    }


def rest_api_v1(
    path: str, query: dict[str, str] | None = None, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    all_headers = {"Accept": "application/json", "Host": "api.example.org", **(headers or {})}
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": "GET",
        "headers": all_headers,
        "multiValueHeaders": {k: [v] for k, v in all_headers.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "httpMethod": "GET",
            "identity": {"sourceIp": "192.0.2.1", "userAgent": "backstage"},
            "path": f"/prod{path}",
            "protocol": "HTTP/1.1",
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "requestTimeEpoch": 1795168800000,
            "resourcePath": "/{proxy+}",
            "stage": "prod",
        },
        "body": None,
        "isBase64Encoded": False,
    }


def test_http_api_v2_event(lambda_handler: Any) -> None:
    answer = lambda_handler(
        http_api_v2("/monitoring/applications/shop/summary", headers={"x-api-key": READER_KEY}), CONTEXT
    )
    assert answer["statusCode"] == 200
    body = json.loads(answer["body"])
    assert body["incidents"]["open"] == 1 and body["risk"]["riskScore"] == 40
    series = lambda_handler(
        http_api_v2(
            "/monitoring/applications/shop/timeseries",
            "metric=errors&from=2026-11-19&to=2026-11-20",
            {"x-api-key": READER_KEY},
        ),
        CONTEXT,
    )
    assert sum(p["v"] for p in json.loads(series["body"])["points"]) == 124


def test_http_api_v2_event_on_a_named_stage(lambda_handler: Any) -> None:
    """An HTTP API stage other than $default puts its name in front of the path (/prod/monitoring/...): the
    request reaches the route, as on the default stage, instead of a 404. The shop summary has its 1 open incident."""
    event = http_api_v2("/prod/monitoring/applications/shop/summary", headers={"x-api-key": READER_KEY})
    event["requestContext"]["stage"] = "prod"
    answer = lambda_handler(event, CONTEXT)
    assert answer["statusCode"] == 200, answer["body"][:200]
    assert json.loads(answer["body"])["incidents"]["open"] == 1
    # A path of the same name without the stage in front is left as it is.
    event = http_api_v2("/monitoring/applications/shop/summary", headers={"x-api-key": READER_KEY})
    event["requestContext"]["stage"] = "prod"
    assert lambda_handler(event, CONTEXT)["statusCode"] == 200


@pytest.mark.parametrize(
    ("event", "kind"), [([http_api_v2("/monitoring/health")], "an array"), ("{}", "a string"), (None, "null")]
)
def test_an_event_that_is_no_json_object_is_refused_naming_what_the_api_reads(
    event: object, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The function invoked directly with something else than API Gateway's request object (a list of events, the
    event's JSON as a string) ended in an AttributeError ('list' object has no attribute 'get'). It is refused naming
    the event expected, before the app is built: these settings cannot be read, and the error is still the event's."""
    monkeypatch.setenv("ROSETTA_DUCKDB_THREADS", "many")
    monkeypatch.setattr(main, "_handler", None)
    expected = f"the event must be a JSON object, e.g. an API Gateway request (HTTP API or REST API), not {kind}"
    with pytest.raises(ValueError, match=f"^{re.escape(expected)}$"):
        main.handler(event, CONTEXT)  # type: ignore[arg-type]
    assert main._handler is None


def _v2_with(**changes: Any) -> dict[str, Any]:
    event = http_api_v2("/monitoring/health")
    for dotted, value in changes.items():
        *parents, name = dotted.split("__")
        target = event
        for parent in parents:
            target = target[parent]
        if value is ...:
            del target[name]
        else:
            target[name] = value
    return event


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        ({}, "the event is no API Gateway request"),
        ({"source": "aws.events", "detail-type": "Scheduled Event"}, "the event is no API Gateway request"),
        (_v2_with(requestContext__http__sourceIp=...), "requestContext.http.sourceIp is missing or null, not a text"),
        (_v2_with(requestContext__http=None), "requestContext.http is missing or null, not an object"),
        (_v2_with(headers={"x-count": 3}), "headers is not an object of texts"),
        (_v2_with(body=5), "body is a number, not a text"),
        (_v2_with(body="{}", isBase64Encoded="false"), "isBase64Encoded is a text, not true or false"),
        (_v2_with(body="abc", isBase64Encoded=True), "body is not base64, though isBase64Encoded says it is"),
        ({**rest_api_v1("/monitoring/health"), "multiValueHeaders": {"Accept": [1]}}, "multiValueHeaders is not"),
    ],
)
def test_an_event_api_gateway_would_not_send_is_refused_naming_the_field(
    event: dict[str, Any], reason: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The function invoked by hand with a scheduled event, an empty one or a request missing a field ended in
    Mangum's RuntimeError ("unable to infer a handler... Are you testing locally?"), a KeyError or an
    AttributeError, after the app was built; "false" as isBase64Encoded was taken as true. Each is now a ValueError
    naming the field, before the app is built (these settings cannot be read, and the error is still the event's)."""
    monkeypatch.setenv("ROSETTA_DUCKDB_THREADS", "many")
    monkeypatch.setattr(main, "_handler", None)
    with pytest.raises(ValueError, match=f"^{re.escape(reason)}"):
        main.handler(event, CONTEXT)
    assert main._handler is None


def test_fields_api_gateway_sends_as_null_read_as_none(lambda_handler: Any) -> None:
    """No headers, no query string or no identity, sent as null, are none of them: the health route answers."""
    v1 = rest_api_v1("/monitoring/health")
    v1["requestContext"]["identity"] = None
    for event in (_v2_with(headers=None), _v2_with(rawQueryString=None), v1):
        answer = lambda_handler(event, CONTEXT)
        assert answer["statusCode"] == 200, answer["body"][:200]


def test_an_http_api_path_is_decoded_once(lambda_handler: Any) -> None:
    """An HTTP API hands over the path decoded once: a client's sh%256Fp arrives as sh%6Fp, and decoded a second
    time it became shop, whose summary was served; %2561dmin arrived as %61dmin, the gateway matched it to the
    reader routes, and the app served it as admin. Decoded once, as uvicorn does, neither names a route's entity."""
    shop = lambda_handler(
        http_api_v2("/monitoring/applications/sh%6Fp/summary", headers={"x-api-key": READER_KEY}), CONTEXT
    )
    assert shop["statusCode"] == 422 and json.loads(shop["body"])["detail"].startswith("app_id is not an entity id")
    admin = lambda_handler(http_api_v2("/monitoring/%61dmin/batch-runs", headers={"x-api-key": READER_KEY}), CONTEXT)
    assert admin["statusCode"] == 404
    assert json.loads(admin["body"])["instance"] == "/monitoring/%61dmin/batch-runs"


def test_an_encoded_slash_does_not_take_a_reader_route_to_an_admin_one(
    lambda_handler: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """bob's token has the admin role in its roles claim, and not the admin scope the gateway asks on its admin routes.
    He asks for /monitoring/admin%2Fbatch-runs: at the gateway, admin%2Fbatch-runs is one segment, so the request
    matches the reader route GET /monitoring/{proxy+} (no scope asked), and the path handed on, decoded, is
    /monitoring/admin/batch-runs, which the app served bob as an admin route. The path now stays as sent, which no
    route has: the 404 naming it. Asked plainly, /monitoring/admin/batch-runs matches the gateway's admin route,
    which refuses him there; an entity ref's encoded slash (component:default%2Fshop) still reads as a slash."""
    monkeypatch.setenv("ROSETTA_API_TRUST_GATEWAY_AUTHORIZER", "true")
    monkeypatch.setenv("ROSETTA_API_ADMIN_SCOPE", "rosetta/admin")

    def as_bob(raw: str, decoded: str) -> dict[str, Any]:
        event = http_api_v2(decoded)
        event["rawPath"] = raw
        event["routeKey"] = event["requestContext"]["routeKey"] = "GET /monitoring/{proxy+}"
        event["requestContext"]["authorizer"] = {
            "jwt": {"claims": {"sub": "bob", "roles": "[admin]", "scope": "openid"}, "scopes": ["openid"]}
        }
        return lambda_handler(event, CONTEXT)

    for raw in ("/monitoring/admin%2Fbatch-runs", "/monitoring/admin%2fbatch-runs", "/monitoring%2Fadmin/batch-runs"):
        answer = as_bob(raw, "/monitoring/admin/batch-runs")
        assert answer["statusCode"] == 404, (raw, answer["body"][:300])
        assert json.loads(answer["body"])["instance"] == raw
    ref = as_bob(
        "/monitoring/applications/component:default%2Fshop/summary",
        "/monitoring/applications/component:default/shop/summary",
    )
    assert ref["statusCode"] == 200 and json.loads(ref["body"])["entity"]["id"] == "shop"


def test_an_admin_path_the_gateway_matched_to_a_reader_route_is_no_admin_request(
    lambda_handler: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """bob's token has the admin role in its roles claim, and not the admin scope the gateway asks on its admin routes
    alone. /monitoring/%61dmin/batch-runs (an encoded letter), or a path the gateway hands on decoded, matched the
    reader route GET /monitoring/{proxy+}, where no scope is asked, and the app served bob the run log as an admin.
    The app now takes a caller for an admin only on a request the gateway matched to an admin route: bob's is a 403;
    alice's, with the admin scope, on the admin route, is answered."""
    monkeypatch.setenv("ROSETTA_API_TRUST_GATEWAY_AUTHORIZER", "true")
    monkeypatch.setenv("ROSETTA_API_ADMIN_SCOPE", "rosetta/admin")

    def asked(raw: str, route: str, claims: dict[str, str]) -> dict[str, Any]:
        event = http_api_v2("/monitoring/admin/batch-runs")
        event["rawPath"] = raw
        event["routeKey"] = event["requestContext"]["routeKey"] = route
        event["requestContext"]["authorizer"] = {"jwt": {"claims": claims, "scopes": claims["scope"].split()}}
        return lambda_handler(event, CONTEXT)

    bob = {"sub": "bob", "roles": "[admin]", "scope": "openid"}
    for raw in ("/monitoring/%61dmin/batch-runs", "/monitoring/adm%69n/batch-runs", "/monitoring/admin/batch-runs"):
        answer = asked(raw, "GET /monitoring/{proxy+}", bob)
        assert answer["statusCode"] == 403, (raw, answer["body"][:300])
        assert json.loads(answer["body"])["detail"] == "this endpoint needs the admin role"
    alice = {"sub": "alice", "scope": "openid rosetta/admin"}
    assert asked("/monitoring/admin/batch-runs", "GET /monitoring/admin/{proxy+}", alice)["statusCode"] == 200


def test_half_a_character_in_a_header_or_the_query_is_answered_not_a_crash(lambda_handler: Any) -> None:
    """A lone surrogate escape (\\udc80) in a header or the query string failed the invocation in Mangum's encoding
    (a UnicodeEncodeError, the gateway's 502). It reads as U+FFFD: the health route answers, and a team id holding
    it is the 422 of a malformed id, through an HTTP API and a REST API alike."""
    header = lambda_handler(_v2_with(headers={"x-trace": "\udc80"}), CONTEXT)
    assert header["statusCode"] == 200
    event = http_api_v2("/monitoring/kpis/slo", "groupBy=team&team=x\udc80", {"x-api-key": READER_KEY})
    team = lambda_handler(event, CONTEXT)
    assert team["statusCode"] == 422 and json.loads(team["body"])["errors"][0]["parameter"] == "team"
    rest = lambda_handler(
        rest_api_v1("/monitoring/kpis/slo", {"groupBy": "team", "team": "x\udc80"}, {"X-API-Key": READER_KEY}),
        CONTEXT,
    )
    assert (rest["statusCode"], json.loads(rest["body"])["detail"]) == (
        team["statusCode"],
        json.loads(team["body"])["detail"],
    )


def test_head_through_api_gateway_has_no_body(lambda_handler: Any) -> None:
    """An uptime check's HEAD on the health route, through an HTTP API and a REST API: a 200 without a body."""
    v2 = http_api_v2("/monitoring/health")
    v2["requestContext"]["http"]["method"] = "HEAD"
    v1 = rest_api_v1("/monitoring/health")
    v1["httpMethod"] = v1["requestContext"]["httpMethod"] = "HEAD"
    for event in (v2, v1):
        answer = lambda_handler(event, CONTEXT)
        assert (answer["statusCode"], answer["body"]) == (200, ""), answer["body"][:200]


def test_rest_api_v1_event(lambda_handler: Any) -> None:
    answer = lambda_handler(
        rest_api_v1("/monitoring/kpis/slo", {"period": "last_30d", "groupBy": "domain"}, {"X-API-Key": READER_KEY}),
        CONTEXT,
    )
    assert answer["statusCode"] == 200
    d1 = next(r for r in json.loads(answer["body"])["items"] if r["id"] == "d1")
    assert d1["availabilityDenominator"] == 34_000
    denied = lambda_handler(rest_api_v1("/monitoring/overview"), CONTEXT)
    assert denied["statusCode"] == 401
    headers = {k.lower(): v for k, v in (denied.get("headers") or {}).items()}
    assert headers["content-type"] == "application/problem+json"
    unknown = lambda_handler(
        rest_api_v1("/monitoring/applications/ghost/summary", headers={"X-API-Key": READER_KEY}), CONTEXT
    )
    assert unknown["statusCode"] == 404


@pytest.mark.parametrize(
    ("route", "ref"),
    [
        ("/monitoring/applications/system:team-b/shop/summary", "system:team-b/shop"),
        ("/monitoring/components/component:team-b/shop-api/incidents", "component:team-b/shop-api"),
    ],
)
def test_a_ref_in_another_namespace_is_not_the_mapped_entity_of_that_name(
    client: TestClient, lambda_handler: Any, route: str, ref: str
) -> None:
    """The estate maps shop and shop-api in Backstage's default namespace. A Backstage page of team-b's shop (the
    plugin sends its ref, system:team-b/shop) was shown the default namespace's shop, its 1 open incident
    included: it is a 404 naming the ref, as any entity the mapping does not know."""
    for answer in (
        client.get(route, headers=READER),
        _as_response(lambda_handler(http_api_v2(route, headers={"x-api-key": READER_KEY}), CONTEXT)),
    ):
        assert answer.status_code == 404, answer.text[:200]
        assert answer.headers["content-type"] == "application/problem+json"
        detail = answer.json()["detail"]
        assert ref in detail and "namespace default" in detail and "set namespace: team-b" in detail
    # The default namespace's own ref, written out or not, is still the mapped entity.
    for same in (route.replace("team-b", "default"), route.replace("team-b/", "")):
        assert client.get(same, headers=READER).status_code == 200, same


class _Answer:
    """A Lambda answer read as the test client's response is."""

    def __init__(self, answer: dict[str, Any]) -> None:
        self.status_code = answer["statusCode"]
        self.headers = {k.lower(): v for k, v in (answer.get("headers") or {}).items()}
        self.text = answer["body"]

    def json(self) -> Any:
        return json.loads(self.text)


def _as_response(answer: dict[str, Any]) -> _Answer:
    return _Answer(answer)


def test_problems_through_lambda_are_plain_text(lambda_handler: Any) -> None:
    """A caller behind API Gateway reads an error as JSON, as the other answers: a REST API without
    binaryMediaTypes would hand on a base64-encoded problem+json body as it is."""
    for event in (rest_api_v1("/monitoring/overview"), http_api_v2("/monitoring/overview")):
        denied = lambda_handler(event, CONTEXT)
        assert denied["statusCode"] == 401
        assert denied["isBase64Encoded"] is False, denied["body"][:60]
        assert json.loads(denied["body"])["status"] == 401


def test_a_refused_preflight_through_a_rest_api_is_a_problem(
    lambda_handler: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A REST API hands OPTIONS on to the function (an HTTP API with CORS configured answers preflights itself): a
    page of an origin not allowed is answered the 400 problem+json the app gives, as JSON, not base64."""
    monkeypatch.setenv("ROSETTA_API_CORS_ORIGINS", '["https://backstage.example.org"]')
    asked = {"Origin": "https://evil.example.net", "Access-Control-Request-Method": "GET"}
    event = rest_api_v1("/monitoring/overview", headers=asked)
    event |= {"httpMethod": "OPTIONS", "requestContext": {**event["requestContext"], "httpMethod": "OPTIONS"}}
    answer = _as_response(lambda_handler(event, CONTEXT))
    assert answer.status_code == 400 and answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["title"] == "CORS preflight refused" and "origin" in answer.json()["detail"]


def test_a_local_dir_that_cannot_be_made_stops_the_start(
    lambda_handler: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A file where the copies' folder belongs: every request was answered 503 "the mart copy could not be loaded;
    retrying shortly", for ever, the reason in a logged traceback alone."""
    folder = tmp_path / "copies"
    folder.write_text("")
    monkeypatch.setenv("ROSETTA_API_LOCAL_DIR", str(folder))
    with pytest.raises(RosettaError) as err:
        lambda_handler(http_api_v2("/monitoring/overview", headers={"X-API-Key": READER_KEY}), CONTEXT)
    assert str(err.value) == f"ROSETTA_API_LOCAL_DIR: cannot make the folder {folder}: File exists"


ADMIN_ROUTES = ["/monitoring/admin/batch-runs", "/monitoring/admin/mappings", "/monitoring/admin/config/sources"]


def test_source_secrets_given_by_arn_are_fetched_once_at_start_up(
    lambda_handler: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a source secret given by ARN (Terraform's source_secrets with "api" in its functions), live mode uses
    the token from Secrets Manager instead of answering that ArgoCD is not configured."""
    fetched: list[tuple[str, str | None]] = []

    def fetch(name: str, arn: str | None, parameter: str | None) -> str:
        fetched.append((name, arn))
        return "token-from-secrets-manager"

    monkeypatch.setattr(config, "_fetch_secret", fetch)
    arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rosetta-argocd-token"
    monkeypatch.setenv("ROSETTA_ARGOCD_URL", "https://argocd.example.org")
    monkeypatch.setenv("ROSETTA_ARGOCD_TOKEN_SECRET_ARN", arn)
    for _ in range(2):
        assert lambda_handler(http_api_v2("/monitoring/health"), CONTEXT)["statusCode"] == 200
    sources = main._handler.app.state.context.sources
    assert sources.argocd_token is not None
    assert sources.argocd_token.get_secret_value() == "token-from-secrets-manager"
    assert fetched == [("argocd_token", arn)]


def test_an_unreadable_source_secret_leaves_live_mode_off_not_the_api(
    lambda_handler: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A secret the API cannot read (no value put yet) is logged; the API still serves the lake."""

    def fail(name: str, arn: str | None, parameter: str | None) -> str:
        raise RosettaError(f"{name}: the referenced secret is empty or not a string")

    monkeypatch.setattr(config, "_fetch_secret", fail)
    monkeypatch.setenv("ROSETTA_ARGOCD_TOKEN_SECRET_ARN", "arn:aws:secretsmanager:eu-west-1:1:secret:argocd")
    with caplog.at_level(logging.WARNING, logger="rosetta.api"):
        answer = lambda_handler(http_api_v2("/monitoring/health"), CONTEXT)
    assert answer["statusCode"] == 200
    assert main._handler.app.state.context.sources.argocd_token is None
    assert any("argocd_token" in r.getMessage() for r in caplog.records)


def test_every_route_needs_a_credential_and_admin_needs_the_role(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "wrong-key-that-must-not-be-logged"
    with caplog.at_level(logging.WARNING):
        for route in READ_ROUTES + ADMIN_ROUTES:
            assert client.get(route).status_code == 401, route
            assert client.get(route, headers={"X-API-Key": secret}).status_code == 401, route
            assert client.get(route, headers={"Authorization": "Bearer abc.def.ghi"}).status_code == 401, route
        for route in ADMIN_ROUTES:
            r = client.get(route, headers=READER)
            assert r.status_code == 403 and r.json()["title"] == "Forbidden", route
        posted = client.post("/monitoring/admin/batch/trigger", headers=READER, json={"kind": "build"})
        assert posted.status_code == 403
    logged = " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "request denied" in logged and secret not in logged and READER["X-API-Key"] not in logged


@pytest.mark.parametrize("route", ["/monitoring/admin/mappings", "/monitoring/admin/batch/trigger"])
def test_a_body_is_read_only_for_a_caller_with_the_admin_role(client: TestClient, route: str) -> None:
    """A malformed body posted without a credential gets the 401 every request without one gets, and with a
    reader key the 403 of any admin route: what the body holds is looked at for admins only."""
    json_type = {"content-type": "application/json"}
    anonymous = client.post(route, content="{not json", headers=json_type)
    assert anonymous.status_code == 401, anonymous.text[:200]
    assert anonymous.headers["content-type"] == "application/problem+json"
    reader = client.post(route, content="{not json", headers=json_type | READER)
    assert reader.status_code == 403, reader.text[:200]
    admin = client.post(route, content="{not json", headers=json_type | ADMIN)
    assert admin.status_code == 422 and admin.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("route", ["/monitoring/admin/mappings", "/monitoring/admin/batch/trigger"])
def test_a_body_not_sent_as_json_is_a_415_saying_how_to_send_it(client: TestClient, route: str) -> None:
    """`curl -d '{"kind": "build"}'` sends its body as application/x-www-form-urlencoded, and a client may send no
    Content-Type at all: the admin is told to send Content-Type: application/json (a 415), not that the body is no
    dictionary (a 422). A caller without the admin role still gets the 403 of any admin route."""
    body = '{"kind": "build"}'
    form = {"content-type": "application/x-www-form-urlencoded"}
    posted = client.post(route, content=body, headers=form | ADMIN)
    assert posted.status_code == 415, posted.text[:200]
    assert posted.headers["content-type"] == "application/problem+json"
    detail = posted.json()["detail"]
    assert "Content-Type: application/json" in detail and "application/x-www-form-urlencoded" in detail
    untyped = client.post(route, content=body, headers=ADMIN)
    assert untyped.status_code == 415, untyped.text[:200]
    assert client.post(route, content=body, headers=form | READER).status_code == 403


@pytest.mark.parametrize("route", ["/monitoring/admin/mappings", "/monitoring/admin/batch/trigger"])
def test_a_body_that_is_not_utf8_is_a_422_naming_the_byte(client: TestClient, route: str) -> None:
    """JSON between systems is UTF-8 (RFC 8259). A body that is not, here Latin-1 text whose twelfth byte is 0xE9,
    gets the 422 of a body that does not parse, naming where decoding stopped, in the same shape."""
    json_type = {"content-type": "application/json"}
    body = '{"kind": "d\u00e9ploiement"}'.encode("latin-1")
    assert body[11] == 0xE9  # {"kind": "d, then the e-acute
    posted = client.post(route, content=body, headers=json_type | ADMIN)
    assert posted.status_code == 422, posted.text[:200]
    assert posted.headers["content-type"] == "application/problem+json"
    problem = posted.json()
    assert problem["title"] == "Invalid body"
    assert problem["errors"] == [{"parameter": "body", "in": "body", "detail": "not JSON: not UTF-8 text at byte 11"}]
    # The same text in UTF-8 is read: both routes then refuse its field, "kind", for what it holds.
    utf8 = client.post(route, content=body.decode("latin-1").encode("utf-8"), headers=json_type | ADMIN)
    assert utf8.status_code == 422 and utf8.json()["title"] == "Invalid kind", utf8.text[:200]
    assert client.post(route, content=body, headers=json_type | READER).status_code == 403


def test_half_a_character_in_a_mapping_entrys_id_is_a_422_not_a_500(client: TestClient) -> None:
    """An entity_id ending in the JSON escape of a lone surrogate (half an emoji) is refused, and the refusal quotes
    the id: UTF-8 could not encode that quote, and the answer was a 500. It is a 422 whose reason shows the half
    character as U+FFFD; the mapping is the one before."""

    def version() -> object:
        return client.get("/monitoring/admin/mappings", headers=ADMIN).json()["version"]

    before = version()
    body = b'{"entries": [{"entity_id": "shop\\ud83d", "kind": "application"}]}'
    json_type = {"content-type": "application/json"}
    posted = client.post("/monitoring/admin/mappings", content=body, headers=json_type | ADMIN)
    assert posted.status_code == 422, posted.text[:300]
    assert posted.headers["content-type"] == "application/problem+json"
    (error,) = posted.json()["errors"]
    assert error["detail"].startswith("entry 1 (shop\ufffd): entity_id: ")
    assert version() == before


HOSTILE_IDS = [
    "shop' or '1'='1",
    "shop; drop table mv_incidents; --",
    "../../etc/passwd",
    "..%2F..%2Fetc%2Fpasswd",
    "%00",
    "ünïcødé-app",
    "💥",
    "a" * 5000,
    "component:default/../../x",
    "system:default/",
]
HOSTILE_QUERIES = [
    "period=last_7d'--",
    "period=last_99999d",
    "from=0001-01-01&to=9999-12-31",
    "from=2000-01-01&to=2099-12-31",
    "from=2026-11-20&to=2026-11-01",
    "from=not-a-date",
    "metric=latency_p95;select 1",
    "metric=../../secret",
    "status=open' or 1=1",
    "limit=0",
    "limit=-1",
    "limit=100000000000000000000",
    "cursor=bm90IGEgY3Vyc29y",
    "cursor=%27%20or%201%3D1",
    "cursor=" + "A" * 600,
    "environment=prod%27uction",
    "timeRange=now-999999d",
    "timeRange=%F0%9F%92%A5",
    "groupBy=app;drop",
    "mode=rm -rf",
    "bandSet=1999",
]


def test_hostile_ids_are_4xx_problems(client: TestClient) -> None:
    for ident in HOSTILE_IDS:
        for kind in ("applications", "components"):
            for tail in ("summary", "incidents", "timeseries", "logs/link"):
                r = client.get(f"/monitoring/{kind}/{ident}/{tail}", headers=READER)
                assert 400 <= r.status_code < 500, (ident, tail, r.status_code, r.text[:200])
                assert r.headers["content-type"] == "application/problem+json"


def test_hostile_query_strings_are_4xx_problems(client: TestClient) -> None:
    for route in READ_ROUTES:
        for query in HOSTILE_QUERIES:
            r = client.get(f"{route}?{query}", headers=READER)
            assert r.status_code < 500, (route, query, r.text[:300])
            if r.status_code >= 400:
                assert r.headers["content-type"] == "application/problem+json"
                assert r.json()["detail"]


@pytest.mark.parametrize("instant", ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59"])
def test_an_instant_its_offset_takes_past_the_calendar_is_a_422(client: TestClient, instant: str) -> None:
    """9999-12-31T23:59:59-23:59 is 10000-01-01T23:58:59 in UTC, 0001-01-01T00:00:00+23:59 is 0000-12-31T00:01:
    years no date has. As from or to, the user gets the 422 any instant outside 2000-2100 gets, on every route
    that takes a period (the summaries take none)."""
    for route in READ_ROUTES:
        if route.endswith("/summary"):
            continue
        for query in (f"from={quote(instant)}", f"from=2026-11-19&to={quote(instant)}"):
            r = client.get(f"{route}?{query}", headers=READER)
            assert r.status_code == 422, (route, query, r.status_code, r.text[:300])
            assert r.headers["content-type"] == "application/problem+json" and "2100" in r.json()["detail"]


@pytest.mark.parametrize("values", [["\u00b2", "0"], ["1", "\u00b2"], ["1", "-3"], ["x", "0"], ["0", "0"]])
def test_a_tampered_mapping_cursor_is_a_422(client: TestClient, values: list[str]) -> None:
    """A mapping cursor carries the version and the offset as decimal digits ("1", "3"). A superscript two is a
    digit to str.isdigit but no number, and versions count from 1: the admin gets the 422 any other cursor the API
    did not give out gets."""
    cursor = base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")
    r = client.get(f"/monitoring/admin/mappings?cursor={cursor}", headers=ADMIN)
    assert r.status_code == 422, (values, r.status_code, r.text[:200])
    assert r.headers["content-type"] == "application/problem+json" and r.json()["errors"][0]["parameter"] == "cursor"


def test_hostile_bodies(client: TestClient) -> None:
    for body in (
        "not json",
        json.dumps({"entries": "x"}),
        json.dumps({"entries": [{"entity_id": "x' or 1=1", "kind": "application"}]}),
        json.dumps({"entries": [None, 1, "s"]}),
        json.dumps({"remove": [{"entity_id": "../../x"}]}),
        json.dumps({"unexpected": True}),
    ):
        r = client.post(
            "/monitoring/admin/mappings", headers=ADMIN | {"content-type": "application/json"}, content=body
        )
        assert 400 <= r.status_code < 500, (body, r.text[:300])
    for trigger in ({"kind": "drop"}, {"kind": "build", "mode": "everything"}, {"kind": "ingest"}):
        assert client.post("/monitoring/admin/batch/trigger", headers=ADMIN, json=trigger).status_code == 422


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ("[" * 100_000 + "]" * 100_000, "JSON nested too deeply to read"),
        (
            '{"entries": [{"entity_id": "p", "kind": "application", "gitlab_project_id": ' + "9" * 5000 + "}]}",
            "a number in the JSON has more than 4300 digits",
        ),
    ],
)
def test_json_too_deep_or_a_number_too_long_is_a_422_saying_so(client: TestClient, body: str, why: str) -> None:
    """Valid JSON Python's reader still refuses got "400 There was an error parsing the body", where a body that is
    not JSON gets a 422 saying where it stops. Both are the same 422 now, with the reason."""
    r = client.post("/monitoring/admin/mappings", headers=ADMIN | {"content-type": "application/json"}, content=body)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"] == [{"parameter": "body", "in": "body", "detail": why}]
    assert r.json()["detail"] == f"body: {why}"


@pytest.mark.parametrize(
    ("route", "body", "key"),
    [
        ("/monitoring/admin/mappings", '{"entries": [], "remove": [{"entity_id": "shop"}], "remove": []}', "remove"),
        (
            "/monitoring/admin/mappings",
            '{"entries": [{"entity_id": "shop", "kind": "application", "entity_id": "sh0p"}]}',
            "entity_id",
        ),
        ("/monitoring/admin/batch/trigger", '{"kind": "build", "mode": "full", "mode": "hourly"}', "mode"),
    ],
)
def test_a_key_written_twice_in_a_body_is_a_422_naming_it(client: TestClient, route: str, body: str, key: str) -> None:
    """Python's reader keeps the last value of a key written twice: a removal followed by an empty list removed
    nothing, an entry's second id replaced its first, a full build asked for became an hourly one, each without a
    word, where a mapping file writing a key twice is refused. The body is now refused naming the key, and the
    mapping stays the version it was; a caller without the admin role still gets the 403 of any admin route."""
    before = client.get("/monitoring/admin/mappings", headers=ADMIN).json()["version"]
    json_type = {"content-type": "application/json"}
    r = client.post(route, headers=ADMIN | json_type, content=body)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json", r.text[:300]
    why = f"key {key!r} written twice in one object: which value is meant cannot be told"
    assert r.json()["title"] == "Invalid body"
    assert r.json()["errors"] == [{"parameter": "body", "in": "body", "detail": why}]
    assert client.get("/monitoring/admin/mappings", headers=ADMIN).json()["version"] == before
    assert client.post(route, headers=READER | json_type, content=body).status_code == 403


def test_each_period_the_document_lists_is_one_its_route_takes(client: TestClient) -> None:
    """The document typed `period` as any text, its names only in a sentence: a client generated from it could not
    tell a name from a typo. Each route's `period` now lists its names, and by hand, over every route with one: each
    name listed is answered (200), each other name is a 422 naming `period`. The KPI routes read the period tables,
    which have no last_24h; the ranking computes its own period and takes it."""
    document = client.get("/openapi.json").json()
    listed_by_route: dict[str, list[str]] = {}
    for path, item in document["paths"].items():
        parameters = {p["name"]: p for p in item.get("get", {}).get("parameters", [])}
        if "period" not in parameters:
            continue
        listed = parameters["period"]["schema"]["anyOf"][0]["enum"]
        listed_by_route[path] = listed
        url = path.replace("{app_id}", "shop").replace("{component_id}", "shop-api")
        # The risk ranking takes another period than last_7d for the measured metrics only.
        query = {"metric": "incidents"} if path.endswith("/risk/top") else {}
        for name in NAMED_PERIODS:
            r = client.get(url, params=query | {"period": name}, headers=READER)
            if name in listed:
                assert r.status_code == 200, (path, name, r.text[:200])
            else:
                assert r.status_code == 422 and r.json()["errors"][0]["parameter"] == "period", (path, name)
    assert len(listed_by_route) == 16
    assert listed_by_route["/monitoring/kpis/dora"] == list(BUILT_PERIODS)
    # A lead-time list is the DORA report's evidence: the report's periods.
    assert listed_by_route["/monitoring/applications/{app_id}/lead-times"] == list(BUILT_PERIODS)
    assert listed_by_route["/monitoring/components/{component_id}/lead-times"] == list(BUILT_PERIODS)
    assert listed_by_route["/monitoring/risk/top"] == listed_by_route["/monitoring/overview"] == list(NAMED_PERIODS)


@pytest.mark.parametrize("written", ["5_0", "+5", " 5", "5 ", "\u0665", "0x5", "5.0"])
@pytest.mark.parametrize(
    ("route", "name", "headers"),
    [
        ("/monitoring/kpis/slo", "limit", READER),
        ("/monitoring/kpis/incidents", "limit", READER),
        ("/monitoring/risk/top?metric=error_rate", "minRequests", READER),
        ("/monitoring/admin/mappings", "version", ADMIN),
        ("/monitoring/admin/mappings", "limit", ADMIN),
    ],
)
def test_a_number_in_the_query_is_written_in_digits(
    client: TestClient, route: str, name: str, headers: dict[str, str], written: str
) -> None:
    """A number in the query was read as Python reads one: `limit=5_0` gave pages of 50, `+5`, ` 5` and the
    Arabic-Indic five were 5. Each is the 422 of a number that is none, naming the parameter; in digits it is read."""
    joiner = "&" if "?" in route else "?"
    r = client.get(f"{route}{joiner}{name}={quote(written)}", headers=headers)
    assert r.status_code == 422, (route, written, r.text[:200])
    (error,) = r.json()["errors"]
    assert (error["parameter"], error["in"]) == (name, "query")
    assert error["detail"] == "Input should be a valid integer, unable to parse string as an integer"
    assert client.get(f"{route}{joiner}{name}=1", headers=headers).status_code == 200


def test_period_errors_name_the_allowed_values(client: TestClient) -> None:
    r = client.get("/monitoring/kpis/dora?period=last_24h", headers=READER)
    assert r.status_code == 422 and "last_30d" in r.json()["detail"]
    r = client.get("/monitoring/applications/shop/timeseries?metric=p95", headers=READER)
    assert r.status_code == 422 and "latency_p95" in r.json()["errors"][0]["allowed"]
    r = client.get("/monitoring/risk/top?metric=risk&period=last_30d", headers=READER)
    assert r.status_code == 422 and r.json()["errors"][0]["allowed"] == ["last_7d"]


def test_a_run_status_error_names_the_allowed_statuses(client: TestClient) -> None:
    """`status=success` on batch-runs is a 422 listing running, succeeded, partial and failed, as every other
    enumerated parameter's error lists its values, not the regular expression they were checked with."""
    r = client.get("/monitoring/admin/batch-runs?status=success", headers=ADMIN)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"][0]["allowed"] == ["running", "succeeded", "partial", "failed"]
    assert "^(" not in r.json()["detail"]


def test_a_repeated_parameter_is_a_422_naming_it(client: TestClient) -> None:
    """`period=last_7d&period=last_30d` asks for two periods at once: the reader gets a 422 naming period, not the
    last 30 days' figures. The same for any one-valued parameter, on the read and the admin routes."""
    for route, query, name in [
        ("/monitoring/kpis/slo", "period=last_7d&period=last_30d", "period"),
        ("/monitoring/applications/shop/timeseries", "metric=errors&from=2026-11-19&from=2026-11-01", "from"),
        ("/monitoring/risk/top", "metric=risk&limit=5&limit=50", "limit"),
    ]:
        r = client.get(f"{route}?{query}", headers=READER)
        assert r.status_code == 422, (route, r.status_code, r.text[:200])
        assert r.headers["content-type"] == "application/problem+json"
        body = r.json()
        assert [e["parameter"] for e in body["errors"]] == [name] and name in body["detail"]
    r = client.get("/monitoring/admin/batch-runs?status=failed&status=succeeded", headers=ADMIN)
    assert r.status_code == 422 and r.json()["errors"][0]["parameter"] == "status"
    # Each once is fine; so is a parameter no route reads; and a caller without a credential still gets the 401.
    assert client.get("/monitoring/kpis/slo?period=last_7d&groupBy=domain", headers=READER).status_code == 200
    assert client.get("/monitoring/kpis/slo?unused=1&unused=2", headers=READER).status_code == 200
    assert client.get("/monitoring/kpis/slo?period=last_7d&period=last_30d").status_code == 401


def test_a_parameter_written_another_way_is_a_422_naming_the_one_meant(client: TestClient) -> None:
    """`groupby=domain` or `group_by=domain` for groupBy, or `start`/`end` (their names in Python) for from/to, would
    be ignored: the SLO report by application, or the last 30 days' incidents, would come back as if asked for.
    Each is a 422 naming the parameter the route reads; a name the route reads nothing like stays ignored."""
    for route, query, given, meant in [
        ("/monitoring/kpis/slo", "groupby=domain", ["groupby"], "groupBy"),
        ("/monitoring/kpis/dora", "period=last_30d&group_by=team", ["group_by"], "groupBy"),
        ("/monitoring/applications/shop/incidents", "start=2026-11-01&end=2026-11-10", ["start", "end"], "from"),
        ("/monitoring/applications/shop/logs/link", "time_range=now-1h", ["time_range"], "timeRange"),
        ("/monitoring/risk/top", "metric=error_rate&min_requests=1", ["min_requests"], "minRequests"),
    ]:
        r = client.get(f"{route}?{query}", headers=READER)
        assert r.status_code == 422, (route, r.status_code, r.text[:200])
        assert r.headers["content-type"] == "application/problem+json"
        body = r.json()
        assert [e["parameter"] for e in body["errors"]] == given and meant in body["detail"]
    r = client.get("/monitoring/admin/batch-runs?Status=failed", headers=ADMIN)
    assert r.status_code == 422 and "status" in r.json()["detail"]
    assert client.get("/monitoring/kpis/slo?groupBy=domain&_=1795168800", headers=READER).status_code == 200


def test_a_misspelt_parameter_is_a_422_naming_the_one_meant(client: TestClient) -> None:
    """`enviroment=staging` was ignored: the SLO report answered production's figures as staging's; `metrics=errors`
    gave shop's p95 latency series as its errors, `peroid=last_7d` the incidents of the default 30 days. Each is a 422
    naming the parameter the route reads. A name like none of them (`resolution`) is still ignored."""
    for route, query, meant in [
        ("/monitoring/kpis/slo", "enviroment=staging", "environment"),
        ("/monitoring/applications/shop/timeseries", "metrics=errors", "metric"),
        ("/monitoring/kpis/incidents", "peroid=last_7d", "period"),
        ("/monitoring/risk/top", "metirc=error_rate", "metric"),
        ("/monitoring/kpis/dora", "gruopBy=team", "groupBy"),
        ("/monitoring/applications/shop/incidents", "stauts=all", "status"),
    ]:
        given = query.split("=")[0]
        r = client.get(f"{route}?{query}", headers=READER)
        assert r.status_code == 422, (route, r.status_code, r.text[:200])
        assert r.headers["content-type"] == "application/problem+json"
        assert [e["parameter"] for e in r.json()["errors"]] == [given]
        assert r.json()["detail"] == f"{given} is not a parameter of this route: {meant} is"
    assert client.get("/monitoring/applications/shop/timeseries?resolution=day", headers=READER).status_code == 200


def test_another_routes_parameter_two_letters_from_this_routes_is_ignored_not_a_slip(client: TestClient) -> None:
    """`groupBy` is two letters longer than risk/top's `group` and a parameter of every kpis/* route, so a dashboard
    giving one query string to both had risk/top answer a 422 "groupBy is not a parameter of this route: group is",
    whose advice (`group=team`) was a 404. It is ignored: the answer is the one without it. Likewise `t`, a cache
    buster, beside `to`."""
    for route, ignored in [
        ("/monitoring/risk/top?team=t1", "groupBy=team"),
        ("/monitoring/kpis/slo?from=2026-11-13&to=2026-11-20", "t=1"),
    ]:
        plain = client.get(route, headers=READER)
        given = client.get(f"{route}&{ignored}", headers=READER)
        assert (plain.status_code, given.status_code) == (200, 200), given.text[:200]
        assert given.json()["items"] == plain.json()["items"]


def test_servicenows_state_for_status_is_a_422_naming_status(client: TestClient) -> None:
    """`state=open`, ServiceNow's own word, read as a slip of `start` (from's name in the code): "state is not a
    parameter of this route: from is". It names status, the parameter it stands for."""
    for route in ("/monitoring/applications/shop/incidents", "/monitoring/applications/shop/changes"):
        r = client.get(f"{route}?state=open", headers=READER)
        assert r.status_code == 422, (route, r.status_code, r.text[:200])
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["detail"] == "state is not a parameter of this route: status is"


def test_a_period_given_by_its_name_on_another_route_is_a_422_naming_the_one_meant(client: TestClient) -> None:
    """The logs link names its period timeRange, the other routes name theirs period: `period=last_7d` on the link
    (as on the tab's every other route) was ignored and the link covered the default 24 hours, and `timeRange=now-7d`
    on a series gave its default 24 hours. Each is a 422 naming the parameter the route reads."""
    for route, query, given, meant in [
        ("/monitoring/applications/shop/logs/link", "period=last_7d", "period", "timeRange"),
        ("/monitoring/components/shop-api/logs/link", "period=last_30d", "period", "timeRange"),
        ("/monitoring/applications/shop/timeseries", "timeRange=now-7d", "timeRange", "period"),
        ("/monitoring/kpis/slo", "timeRange=last_7d", "timeRange", "period"),
    ]:
        r = client.get(f"{route}?{query}", headers=READER)
        assert r.status_code == 422, (route, r.status_code, r.text[:200])
        assert r.headers["content-type"] == "application/problem+json"
        assert [e["parameter"] for e in r.json()["errors"]] == [given]
        assert r.json()["detail"] == f"{given} is not a parameter of this route: {meant} is"


def test_an_offset_on_a_route_paged_by_cursor_is_a_422_naming_the_cursor(client: TestClient) -> None:
    """`limit=1&offset=1` asks for the second row of a report paged by cursor, which would answer the first one again
    (shop's two changes, or the SLO report's first application), so a caller paging by offset would read page one
    for ever. So does a cursor given under another API's name (`after`, `pageToken`, `starting_after`). It is a 422
    saying to give page.nextCursor as cursor."""
    for route in (
        "/monitoring/kpis/slo?limit=1&offset=1",
        "/monitoring/applications/shop/changes?status=all&limit=1&page=2",
        "/monitoring/admin/mappings?limit=3&offset=3",
        "/monitoring/risk/top?limit=5&offset=5",
        # Other APIs' names for a cursor: the first page again too.
        "/monitoring/kpis/slo?limit=1&after=eyJ9",
        "/monitoring/applications/shop/incidents?limit=1&pageToken=abc",
        "/monitoring/kpis/dora?limit=1&starting_after=shop",
    ):
        r = client.get(route, headers=ADMIN)
        assert r.status_code == 422, (route, r.status_code, r.text[:200])
        assert r.headers["content-type"] == "application/problem+json"
        assert "page.nextCursor" in r.json()["detail"] and "cursor" in r.json()["detail"]


def test_a_repeated_parameter_through_api_gateway_is_a_422(lambda_handler: Any) -> None:
    """API Gateway hands a repeated parameter on in its own way: an HTTP API (v2) joins it with a comma in
    queryStringParameters and keeps the raw query string; a REST API (v1) keeps the last value in
    queryStringParameters and all of them in multiValueQueryStringParameters. Both are a 422 naming period."""
    v2 = http_api_v2("/monitoring/kpis/slo", headers={"x-api-key": READER_KEY})
    v2 |= {"rawQueryString": "period=last_7d&period=last_30d", "queryStringParameters": {"period": "last_7d,last_30d"}}
    v1 = rest_api_v1("/monitoring/kpis/slo", {"period": "last_30d"}, {"X-API-Key": READER_KEY})
    v1["multiValueQueryStringParameters"] = {"period": ["last_7d", "last_30d"]}
    for event in (v2, v1):
        answer = lambda_handler(event, CONTEXT)
        assert answer["statusCode"] == 422, answer["body"][:200]
        assert json.loads(answer["body"])["errors"][0]["parameter"] == "period"


def test_a_bearer_token_the_configured_key_cannot_be_read_for_is_a_401_for_every_accepted_algorithm(
    lambda_handler: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ROSETTA_API_JWT_PUBLIC_KEY written on one line with literal \\n between its lines, as an environment file
    often carries a PEM: no key can be read from it. A bearer token of any accepted algorithm (RS256 and ES256 by
    default) is then a 401 problem with its Bearer challenge, the answer a caller gets for any token the API cannot
    verify, never a 500 that anyone could cause by naming ES256 in a token's header."""
    public = PRIVATE_RSA.public_key()
    pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    monkeypatch.setenv("ROSETTA_API_JWT_PUBLIC_KEY", pem.decode().strip().replace("\n", "\\n"))
    monkeypatch.setenv("ROSETTA_API_JWT_AUDIENCE", "rosetta-monitoring")
    claims = {"sub": "mallory", "aud": "rosetta-monitoring", "exp": int(time.time()) + 300, "roles": ["admin"]}
    for algorithm, key in (("RS256", PRIVATE_RSA), ("ES256", ec.generate_private_key(ec.SECP256R1()))):
        bearer = {"authorization": f"Bearer {jwt.encode(claims, key, algorithm=algorithm)}"}
        answer = lambda_handler(http_api_v2("/monitoring/overview", headers=bearer), CONTEXT)
        assert answer["statusCode"] == 401, (algorithm, answer["body"][:200])
        assert answer["headers"]["content-type"] == "application/problem+json"
        assert answer["headers"]["www-authenticate"] == 'Bearer error="invalid_token"'
        assert algorithm in json.loads(answer["body"])["detail"]


def test_a_rest_api_lambda_authorizer_context_may_hold_any_string(
    lambda_handler: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A REST API (v1) Lambda authorizer's context holds strings only, so one passing the token on or its claims as
    JSON writes them as strings, beside its principalId, under names the other authorizers give objects (jwt,
    claims). The caller is still the authorizer's principal with its roles: bob (admin) reads the run log, carol
    (reader) gets the 403 of a reader there and her summary, instead of a 500 or a 401 on every request."""
    monkeypatch.setenv("ROSETTA_API_TRUST_GATEWAY_AUTHORIZER", "true")

    def as_principal(path: str, context: dict[str, Any]) -> dict[str, Any]:
        event = rest_api_v1(path)
        event["requestContext"]["authorizer"] = context | {"integrationLatency": 12}
        answer: dict[str, Any] = lambda_handler(event, CONTEXT)
        return answer

    bob = {"principalId": "bob", "roles": "admin", "jwt": "eyJhbGciOiJSUzI1NiJ9.e30.c2ln"}
    answer = as_principal("/monitoring/admin/batch-runs", bob)
    assert answer["statusCode"] == 200, answer["body"][:200]
    carol = {"principalId": "carol", "roles": "reader", "claims": '{"sub": "carol", "roles": ["reader"]}'}
    answer = as_principal("/monitoring/admin/batch-runs", carol)
    assert answer["statusCode"] == 403, answer["body"][:200]
    answer = as_principal("/monitoring/applications/shop/summary", carol)
    assert answer["statusCode"] == 200, answer["body"][:200]
    assert json.loads(answer["body"])["incidents"]["open"] == 1


def test_a_refused_bearer_token_is_named_in_the_challenge(lambda_handler: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """RFC 6750, section 3.1: a request that sent a bearer token the API refuses (expired here, an hour ago) is
    answered with the challenge `Bearer error="invalid_token"`, which tells an OAuth client to get a new token; a
    request that sent none gets the bare `Bearer` challenge, with no error, as the RFC asks."""
    public = PRIVATE_RSA.public_key()
    pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    monkeypatch.setenv("ROSETTA_API_JWT_PUBLIC_KEY", pem.decode())
    monkeypatch.setenv("ROSETTA_API_JWT_AUDIENCE", "rosetta-monitoring")
    claims = {"sub": "alice", "aud": "rosetta-monitoring", "exp": int(time.time()) - 3600, "roles": ["reader"]}
    expired = {"authorization": f"Bearer {jwt.encode(claims, PRIVATE_RSA, algorithm='RS256')}"}
    for event in (
        http_api_v2("/monitoring/overview", headers=expired),
        rest_api_v1("/monitoring/overview", None, expired),
    ):
        answer = lambda_handler(event, CONTEXT)
        assert answer["statusCode"] == 401, answer["body"][:200]
        assert answer["headers"]["www-authenticate"] == 'Bearer error="invalid_token"'
        assert json.loads(answer["body"])["detail"] == "the bearer token has expired"
    anonymous = lambda_handler(http_api_v2("/monitoring/overview"), CONTEXT)
    assert anonymous["statusCode"] == 401 and anonymous["headers"]["www-authenticate"] == "Bearer"


def test_an_offset_whose_plus_the_query_string_made_a_space_is_read_as_that_offset(
    client: TestClient, lambda_handler: Any
) -> None:
    """from=2026-11-19T00:00:00+02:00 typed into a URL reaches the API as '2026-11-19T00:00:00 02:00' (a query
    string's `+` is a space). It is the 18th 22:00 to the 19th 01:00 in UTC, as with the `+` encoded: three hours
    of which shop-api has the 19th's 00:00 only (the estate's signals are the 19th's), 1000 requests."""
    query = "metric=requests&from=2026-11-19T00:00:00+02:00&to=2026-11-19T03:00:00+02:00"
    route = "/monitoring/components/shop-api/timeseries"
    expected_period = {"name": None, "start": "2026-11-18T22:00:00Z", "end": "2026-11-19T01:00:00Z"}
    expected_points = [{"t": "2026-11-19T00:00:00Z", "v": 1000.0}]
    answers = [client.get(f"{route}?{query}", headers=READER).json()]
    v2 = http_api_v2(route, query, {"x-api-key": READER_KEY})
    # A REST API (v1) gives the values decoded: the `+` is a space there already.
    decoded = {"metric": "requests", "from": "2026-11-19T00:00:00 02:00", "to": "2026-11-19T03:00:00 02:00"}
    v1 = rest_api_v1(route, decoded, {"X-API-Key": READER_KEY})
    for event in (v2, v1):
        answer = lambda_handler(event, CONTEXT)
        assert answer["statusCode"] == 200, answer["body"][:300]
        answers.append(json.loads(answer["body"]))
    for body in answers:
        assert body["period"] == expected_period and body["points"] == expected_points
    # The same on the logs link, whose Kibana range is given in UTC.
    r = client.get(
        "/monitoring/applications/shop/logs/link?from=2026-11-19T00:00:00+02:00&to=2026-11-19T03:00:00+02:00",
        headers=READER,
    )
    assert r.status_code == 200, r.text[:300]
    assert (r.json()["timeFrom"], r.json()["timeTo"]) == ("2026-11-18T22:00:00.000Z", "2026-11-19T01:00:00.000Z")


def test_a_logs_link_given_a_time_range_and_from_to_is_a_422(
    client: TestClient, lambda_handler: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """timeRange=now-1h and from=2026-11-19 ask for two windows: the link opened on the 19th on, and the caller who
    asked for the last hour never knew. As period with from/to on the other routes, it is a 422 naming timeRange."""
    monkeypatch.setenv("ROSETTA_API_KIBANA_URL", "http://kibana.example.org:5601")
    route = "/monitoring/applications/shop/logs/link"
    query = "timeRange=now-1h&from=2026-11-19"
    answers = [client.get(f"{route}?{query}", headers=READER)]
    for event in (
        http_api_v2(route, query, {"x-api-key": READER_KEY}),
        rest_api_v1(route, {"timeRange": "now-1h", "from": "2026-11-19"}, {"X-API-Key": READER_KEY}),
    ):
        answers.append(_as_response(lambda_handler(event, CONTEXT)))
    for r in answers:
        assert r.status_code == 422, r.text[:300]
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["errors"][0]["parameter"] == "timeRange"


@pytest.mark.parametrize(("kind", "parameter"), [("applications", "app_id"), ("components", "component_id")])
def test_a_malformed_id_is_named_as_the_path_parameter_it_was_given_as(
    client: TestClient, kind: str, parameter: str
) -> None:
    """The OpenAPI document calls the path parameters app_id and component_id. An id with a space, one of 256
    characters (a ref is at most 255) and one of 301 (the path takes at most 300) are refused under that name, so a
    caller matching on it hears of every malformed id, not only of the longest."""
    for ident in ("Profiles%20App", "a" * 256, "a" * 301):
        r = client.get(f"/monitoring/{kind}/{ident}/summary", headers=READER)
        assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
        assert [e["parameter"] for e in r.json()["errors"]] == [parameter], (ident[:20], r.json())
    assert client.get(f"/monitoring/{kind}/Profiles%20App/summary", headers=READER).json()["title"] == (
        f"Invalid {parameter}"
    )


LONG_ID = "a" * 300


@pytest.mark.parametrize(
    ("method", "url", "body", "parameter", "where", "most"),
    [
        ("GET", f"/monitoring/applications/{LONG_ID}/summary", None, "app_id", "path", 255),
        ("GET", f"/monitoring/applications/{LONG_ID}/timeseries", None, "app_id", "path", 255),
        ("GET", f"/monitoring/applications/{LONG_ID}/incidents", None, "app_id", "path", 255),
        ("GET", f"/monitoring/components/{LONG_ID}/summary", None, "component_id", "path", 255),
        ("GET", f"/monitoring/kpis/slo?app={LONG_ID}", None, "app", "query", 255),
        ("GET", f"/monitoring/kpis/dora?team={LONG_ID}", None, "team", "query", 63),
        ("POST", "/monitoring/admin/mappings", {"remove": [{"entity_id": LONG_ID}]}, "remove.0.entity_id", "body", 255),
    ],
)
def test_an_id_too_long_is_the_same_problem_on_every_route(
    client: TestClient, method: str, url: str, body: Any, parameter: str, where: str, most: int
) -> None:
    """An id of 300 characters was "Invalid app_id" on the application routes (a ref is at most 255 characters, the
    path took 300) but "Invalid request" as a team or a mapping key to remove (the request's validation), each
    worded its own way. Everywhere it is now the problem of that one parameter: titled by its name, its one error
    saying where it was given and how long it may be."""
    r = client.request(method, url, headers=ADMIN, json=body)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json", r.text[:300]
    problem = r.json()
    reason = f"{parameter} is too long: at most {most} characters"
    assert (problem["title"], problem["detail"]) == (f"Invalid {parameter}", reason)
    assert problem["errors"] == [{"parameter": parameter, "in": where, "detail": reason}]


def test_every_refused_parameter_says_where_it_was_given(client: TestClient) -> None:
    """A 422 the request's validation gives names each parameter with where it was given (query, path or body); the
    API's own checks (a period, an id, a cursor, a trigger's fields) give the same shape, so a caller reads one."""
    cursor = base64.urlsafe_b64encode(b"[1]").decode().rstrip("=")
    for method, url, body, expected in [
        ("GET", "/monitoring/kpis/slo?period=last_1d", None, ("period", "query")),
        ("GET", "/monitoring/kpis/slo?app=x%20y", None, ("app", "query")),
        ("GET", f"/monitoring/kpis/slo?cursor={cursor}", None, ("cursor", "query")),
        ("GET", "/monitoring/applications/shop/timeseries?from=tomorrow", None, ("from", "query")),
        ("GET", "/monitoring/applications/x%20y/summary", None, ("app_id", "path")),
        ("GET", "/monitoring/components/x%20y/summary", None, ("component_id", "path")),
        ("POST", "/monitoring/admin/batch/trigger", {"kind": "build", "source": "gitlab"}, ("source", "body")),
        ("POST", "/monitoring/admin/batch/trigger", {"kind": "ingest", "mode": "full"}, ("mode", "body")),
        ("POST", "/monitoring/admin/batch/trigger", {"kind": "ingest"}, ("source", "body")),
    ]:
        r = client.request(method, url, headers=ADMIN if method == "POST" else READER, json=body)
        assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json", (url, r.text)
        errors = r.json().get("errors") or []
        assert [(e["parameter"], e.get("in")) for e in errors] == [expected], (url, body, errors)
        assert all(e["detail"] for e in errors)


def test_a_historized_answer_through_api_gateway_is_revalidated_by_its_etag(lambda_handler: Any) -> None:
    """Through an HTTP API and a REST API: the summary's 200 carries the private Cache-Control and its ETag; the
    same request with If-None-Match is a 304 with no body and those headers; an error is never stored."""
    for event in (http_api_v2, rest_api_v1):
        path = "/monitoring/applications/shop/summary"
        first = lambda_handler(event(path, headers={"x-api-key": READER_KEY}), CONTEXT)
        headers = {k.lower(): v for k, v in first["headers"].items()}
        assert first["statusCode"] == 200 and headers["cache-control"] == "private, max-age=60"
        tag = headers["etag"]
        again = lambda_handler(event(path, headers={"x-api-key": READER_KEY, "if-none-match": tag}), CONTEXT)
        again_headers = {k.lower(): v for k, v in again["headers"].items()}
        assert (again["statusCode"], again["body"]) == (304, "")
        assert (again_headers["etag"], again_headers["cache-control"]) == (tag, "private, max-age=60")
        missing = lambda_handler(
            event("/monitoring/applications/ghost/summary", headers={"x-api-key": READER_KEY}), CONTEXT
        )
        assert missing["statusCode"] == 404
        assert {k.lower(): v for k, v in missing["headers"].items()}["cache-control"] == "no-store"


@contextmanager
def silent_endpoint(service_id: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[socket.socket]]:
    """The endpoint of an AWS service (by its service id, "Secrets Manager") on loopback, taking every connection and
    never answering, as one behind a network that drops the answers does; yields the connections taken."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.2)
    taken: list[socket.socket] = []
    done = threading.Event()

    def take() -> None:
        while not done.is_set():
            try:
                taken.append(listener.accept()[0])
            except TimeoutError:
                continue

    taker = threading.Thread(target=take, daemon=True)
    taker.start()
    variable = f"AWS_ENDPOINT_URL_{service_id.upper().replace(' ', '_')}"
    monkeypatch.setenv(variable, f"http://127.0.0.1:{listener.getsockname()[1]}")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    try:
        yield taken
    finally:
        done.set()
        taker.join(timeout=5)
        for connection in taken:
            connection.close()
        listener.close()


def test_a_trigger_whose_lambda_endpoint_hangs_is_a_502_before_the_gateway_gives_up(
    lambda_handler: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The API function in a VPC with no route to Lambda's endpoint: an invoke's connection is taken and never
    answered. The admin who triggers a build through the HTTP API gets the 502 naming the function. botocore's
    defaults would wait 60 s to read, three attempts, long past the 29 s API Gateway waits: the admin got the
    gateway's bare 503 and the function ran into its own timeout. Here Lambda's endpoint is a loopback socket that
    takes each connection and never answers: each attempt opens one, so two attempts (one retry) are two
    connections, then the 502 (botocore's defaults made three, three minutes)."""
    monkeypatch.setenv("ROSETTA_API_TRUST_GATEWAY_AUTHORIZER", "true")
    monkeypatch.setenv("ROSETTA_API_TRIGGER_MODE", "lambda")
    monkeypatch.setenv("ROSETTA_API_TRIGGER_FUNCTIONS", '{"build": "rosetta-build"}')
    event = http_api_v2("/monitoring/admin/batch/trigger", headers={"content-type": "application/json"})
    event["requestContext"]["http"]["method"] = "POST"
    event["requestContext"]["authorizer"] = {
        "jwt": {"claims": {"sub": "bob", "scope": "openid rosetta/admin"}, "scopes": ["openid", "rosetta/admin"]}
    }
    event |= {"body": json.dumps({"kind": "build"})}
    with silent_endpoint("Lambda", monkeypatch) as taken:
        answer = lambda_handler(event, CONTEXT)
    assert answer["statusCode"] == 502, answer["body"][:300]
    problem = json.loads(answer["body"])
    assert "rosetta-build" in problem["detail"] and problem["errorKind"] == "ReadTimeoutError"
    assert len(taken) == 2


def test_a_source_secret_whose_endpoint_hangs_leaves_live_mode_off_and_the_api_answers(
    lambda_handler: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The API function in a VPC with no route to Secrets Manager, ArgoCD's token given by ARN: the read's connection
    is taken and never answered. botocore's defaults waited 60 s to read, three attempts, on every cold start: past
    API Gateway's 29 s and the function's 30 s timeout, so no request was ever answered. The read gives up after two
    attempts (two connections taken); the API serves the lake without live mode, as for any secret it cannot read:
    the shop summary has its 1 open incident."""
    monkeypatch.setenv("ROSETTA_ARGOCD_URL", "https://argocd.example.org")
    monkeypatch.setenv("ROSETTA_ARGOCD_TOKEN_SECRET_ARN", "arn:aws:secretsmanager:eu-west-1:1:secret:argocd")
    event = http_api_v2("/monitoring/applications/shop/summary", headers={"x-api-key": READER_KEY})
    with silent_endpoint("Secrets Manager", monkeypatch) as taken:
        answer = lambda_handler(event, CONTEXT)
    assert answer["statusCode"] == 200, answer["body"][:300]
    assert json.loads(answer["body"])["incidents"]["open"] == 1
    assert main._handler.app.state.context.sources.argocd_token is None
    assert len(taken) == 2
