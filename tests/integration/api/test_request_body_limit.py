"""A request body over the API's limit (ROSETTA_API_MAX_BODY_MB, 16 MiB) is a 413 problem+json, answered before the
body is read whole: an admin POST of 50 MB was gathered in memory, then parsed, before any check. Through the ASGI app
(as uvicorn serves it) and through the Lambda handler with an API Gateway HTTP API event."""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from lakehouse.mappings import MappingStore
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.integration.api.conftest import ADMIN
from tests.integration.api.test_lambda_and_inputs import CONTEXT, lambda_handler
from tests.integration.api.test_served_connections import served
from tests.integration.api.test_trigger_inside_lambda import admin_trigger

__all__ = ["lambda_handler"]

MIB = 1024 * 1024
# 50 MB of one mapping entry's note, as JSON: far over the 16 MiB the API reads.
HUGE = json.dumps({"entries": [{"entity_id": "shop", "kind": "application"}], "note": "x" * (50 * MIB)})
JSON = {"content-type": "application/json"}


def mapping_version(settings: Settings) -> int | None:
    current = MappingStore(Lake.from_settings(settings)).current()
    return current.version if current else None


def assert_too_large(status: int, content_type: str, body: str) -> None:
    assert status == 413, body[:300]
    assert content_type == "application/problem+json"
    problem = json.loads(body)
    assert problem["status"] == 413 and problem["title"] == "Request too large"
    assert "16 MiB" in problem["detail"]


def test_a_50_mb_mapping_change_is_refused_by_its_length_and_nothing_is_written(
    client: TestClient, estate_lake: tuple[Settings, Path]
) -> None:
    settings, _ = estate_lake
    before = mapping_version(settings)
    answer = client.post("/monitoring/admin/mappings", headers=ADMIN | JSON, content=HUGE)
    assert_too_large(answer.status_code, answer.headers["content-type"], answer.text)
    assert answer.headers["cache-control"] == "no-store"
    assert mapping_version(settings) == before


def test_a_body_sent_without_its_length_is_refused_once_past_the_limit(client: TestClient) -> None:
    """Sent chunked, with no Content-Length: refused as the bytes come, once past 16 MiB."""

    def chunks() -> Iterator[bytes]:
        for _ in range(50):
            yield b" " * MIB

    answer = client.post("/monitoring/admin/batch/trigger", headers=ADMIN | JSON, content=chunks())
    assert_too_large(answer.status_code, answer.headers["content-type"], answer.text)


def answer_to_a_body_never_finished(port: int, head: str, sent: bytes) -> tuple[int, dict[str, Any]]:
    """The answer uvicorn gives to a POST whose body is only partly sent: one read whole first would never come."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(head.encode() + sent)
        response = http.client.HTTPResponse(conn)
        response.begin()
        return response.status, json.loads(response.read())


@pytest.mark.parametrize("chunked", [False, True], ids=["with its length", "chunked"])
def test_uvicorn_answers_413_before_the_body_is_all_sent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunked: bool
) -> None:
    """A POST announcing 50 MiB, of which 1 MiB is sent, or sent chunked and stopped after 17 chunks of 1 MiB: the
    413 comes while the rest is still owed."""
    monkeypatch.setenv("ROSETTA_LAKE_URL", str(tmp_path / "lake"))
    key = ADMIN["X-API-Key"]
    common = f"Host: 127.0.0.1\r\nX-API-Key: {key}\r\nContent-Type: application/json\r\n"
    if chunked:
        head = f"POST /monitoring/admin/mappings HTTP/1.1\r\n{common}Transfer-Encoding: chunked\r\n\r\n"
        sent = (f"{MIB:x}\r\n".encode() + b" " * MIB + b"\r\n") * 17
    else:
        head = f"POST /monitoring/admin/mappings HTTP/1.1\r\n{common}Content-Length: {50 * MIB}\r\n\r\n"
        sent = b" " * MIB
    with served(tmp_path) as port:
        status, problem = answer_to_a_body_never_finished(port, head, sent)
    assert (status, problem["title"]) == (413, "Request too large")


def test_the_largest_mapping_change_is_read_whole(client: TestClient) -> None:
    """20,000 entries, the most a change takes, each a component with every pivot set (some 600 bytes as JSON), and
    20,000 keys to remove (some 60 each): some 13.4 MB, under 16 MiB (16.8 MB). The API reads it and judges its
    content (here one entry 20,000 times, and removed 20,000 times: the mapping's own 422), never refusing it for its
    size."""
    entry = {
        "entity_id": "payments-api-0000",
        "kind": "component",
        "name": "Payments API 0000",
        "application_id": "payments-0000",
        "team": "payments-team",
        "group": "retail-banking",
        "domain": "payments",
        "environment": "production",
        "dynatrace_entity_selector": 'type(SERVICE),entityId("SERVICE-5A1C2D3E4F506172")',
        "servicenow_ci_id": "3c1e8a8f1b2a4c5d9e0f1a2b3c4d5e6f",
        "cmdb_ci_name": "payments-api-0000",
        "argocd_app_name": "payments-api-0000-prod",
        "gitlab_project_id": 4211,
        "elisa_index": "logs-payments-*",
        "kibana_query_template": 'service.name:"{component}" and deployment.environment:"{environment}"',
    }
    key = {"entity_id": "payments-api-0000", "environment": "production"}
    change = json.dumps({"entries": [entry] * 20_000, "remove": [key] * 20_000, "note": "n" * 2000})
    assert 13 * 10**6 < len(change) < 16 * MIB
    answer = client.post("/monitoring/admin/mappings", headers=ADMIN | JSON, content=change)
    assert answer.status_code == 422, answer.text[:300]
    assert answer.json()["title"] == "Mapping rejected"


def admin_post(path: str, body: str, headers: dict[str, str]) -> dict[str, Any]:
    """An HTTP API v2 event of an admin POST, as API Gateway hands it to the function after its JWT authorizer."""
    event = admin_trigger({})
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["headers"] = {**event["headers"], **headers}
    return event | {"body": body}


@pytest.mark.parametrize("length", [True, False], ids=["with its length", "without"])
def test_a_50_mb_body_through_the_lambda_handler_is_a_413(
    lambda_handler: Any, estate_lake: tuple[Settings, Path], monkeypatch: pytest.MonkeyPatch, length: bool
) -> None:
    settings, _ = estate_lake
    monkeypatch.setenv("ROSETTA_API_TRUST_GATEWAY_AUTHORIZER", "true")
    before = mapping_version(settings)
    headers = {"content-length": str(len(HUGE))} if length else {}
    answer = lambda_handler(admin_post("/monitoring/admin/mappings", HUGE, headers), CONTEXT)
    assert_too_large(answer["statusCode"], answer["headers"]["content-type"], answer["body"])
    assert mapping_version(settings) == before
