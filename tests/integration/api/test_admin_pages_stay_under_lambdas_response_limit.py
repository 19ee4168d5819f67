"""Through the Lambda handler, as API Gateway calls it. An estate of 1,000 applications with four components each,
every component selecting its 60 Dynatrace services by id (a 1,643-character selector): 5,000 entries read at once
made an 8 MB answer, over the 6 MB Lambda answers, so the gateway answered a 502 and the admin never saw the mapping.
Each page now stays under the limit and the pages read on to the last entry. And a mapping change sent gzipped is a
415 saying the API takes the body as it is, not a 422 saying the body is no UTF-8 text."""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from functions.api import main
from functions.api.auth import key_digest
from lakehouse.mappings import MappingStore
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.integration.api.conftest import ADMIN_KEY
from tests.integration.api.test_lambda_and_inputs import http_api_v2
from tests.lambda_context import LambdaContext

CONTEXT = LambdaContext(function_name="rosetta-api")
# What Lambda answers at most for a synchronous invocation, as the runtime serializes the handler's answer.
LAMBDA_ANSWER_BYTES = 6 * 2**20
APPLICATIONS = 1000
COMPONENTS_EACH = 4


def estate_entries() -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    pivots = {"team": "payments-team", "group": "retail-banking", "domain": "payments", "environment": "production"}
    for a in range(APPLICATIONS):
        app = f"payments-{a:04d}"
        entries.append({"entity_id": app, "kind": "application", **pivots})
        for c in range(COMPONENTS_EACH):
            n = a * COMPONENTS_EACH + c
            services = ",".join(f'"SERVICE-{n * 100 + k:016X}"' for k in range(60))
            selector = f"type(SERVICE),entityId({services})"
            entries.append(
                {"entity_id": f"payments-api-{a:04d}-{c}", "kind": "component", "application_id": app, **pivots}
                | {"dynatrace_entity_selector": selector}
            )
    return entries


@pytest.fixture(scope="module")
def mapped_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("long-selectors")
    lake = Lake.from_settings(Settings(lake_url=str(root / "lake")))
    entries = estate_entries()
    assert len(entries[1]["dynatrace_entity_selector"]) == 1643
    MappingStore(lake).apply(entries, actor="alice", note="payments estate")
    return root


@pytest.fixture
def lambda_handler(mapped_lake: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("ROSETTA_LAKE_URL", str(mapped_lake / "lake"))
    monkeypatch.setenv("ROSETTA_DUCKDB_TEMP_DIRECTORY", str(mapped_lake / "duckdb"))
    monkeypatch.setenv("ROSETTA_API_LOCAL_DIR", str(mapped_lake / "lambda"))
    keys = [{"name": "ops-admin", "sha256": key_digest(ADMIN_KEY), "roles": ["admin"]}]
    monkeypatch.setenv("ROSETTA_API_API_KEYS", json.dumps(keys))
    monkeypatch.setattr(main, "_handler", None)
    yield main.handler
    monkeypatch.setattr(main, "_handler", None)


def get_mappings(handler: Any, query: str) -> tuple[dict[str, Any], int]:
    """The answer's body, and the bytes Lambda is handed for the whole answer."""
    answer = handler(http_api_v2("/monitoring/admin/mappings", query, {"x-api-key": ADMIN_KEY}), CONTEXT)
    assert answer["statusCode"] == 200, answer["body"][:300]
    return json.loads(answer["body"]), len(json.dumps(answer).encode())


def post_mappings(handler: Any, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    event = http_api_v2("/monitoring/admin/mappings", headers={"x-api-key": ADMIN_KEY, **headers})
    event["requestContext"]["http"]["method"] = "POST"
    # API Gateway hands a body it does not take for text over base64-encoded.
    return handler({**event, "body": base64.b64encode(body).decode(), "isBase64Encoded": True}, CONTEXT)


def test_every_page_of_long_selectors_stays_under_the_limit_and_the_pages_read_every_entry(
    lambda_handler: Any,
) -> None:
    first, size = get_mappings(lambda_handler, "limit=5000")
    assert size < LAMBDA_ANSWER_BYTES
    assert 0 < len(first["entries"]) < 5000
    assert first["page"]["limit"] == len(first["entries"]) and first["page"]["nextCursor"]
    read = [e["entity_id"] for e in first["entries"]]
    cursor = first["page"]["nextCursor"]
    while cursor:
        page, size = get_mappings(lambda_handler, f"limit=5000&cursor={cursor}")
        assert size < LAMBDA_ANSWER_BYTES
        read += [e["entity_id"] for e in page["entries"]]
        cursor = page["page"]["nextCursor"]
    # Each entry once, whatever the order the mapping keeps them in.
    assert len(read) == len(set(read)) and set(read) == {e["entity_id"] for e in estate_entries()}


def test_a_page_within_the_limit_holds_the_entries_asked(lambda_handler: Any) -> None:
    page, _ = get_mappings(lambda_handler, "limit=1000")
    assert len(page["entries"]) == 1000 and page["page"]["limit"] == 1000


def test_a_gzipped_mapping_change_is_a_415_naming_the_coding(lambda_handler: Any) -> None:
    # An entry as it is already mapped: a change that writes no version when it is read.
    change = json.dumps({"entries": estate_entries()[:1], "note": "payments-0000 as it is"}).encode()
    json_type = {"content-type": "application/json"}
    answer = post_mappings(lambda_handler, gzip.compress(change), json_type | {"content-encoding": "gzip"})
    assert answer["statusCode"] == 415, answer["body"][:300]
    assert answer["headers"]["content-type"] == "application/problem+json"
    assert answer["headers"]["accept-encoding"] == "identity"
    detail = json.loads(answer["body"])["detail"]
    assert "'gzip'" in detail and "as it is sent (identity)" in detail
    # The same change sent as it is, or saying so, is read: it changes nothing, so no version is written (a 200).
    versions, _ = get_mappings(lambda_handler, "limit=1")
    for headers in (json_type, json_type | {"content-encoding": "identity"}):
        plain = post_mappings(lambda_handler, change, headers)
        assert plain["statusCode"] == 200, plain["body"][:300]
    assert get_mappings(lambda_handler, "limit=1")[0]["versions"] == versions["versions"]
