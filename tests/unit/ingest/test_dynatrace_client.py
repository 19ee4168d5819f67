"""The Dynatrace listing: follow-ups carry only nextPageKey; an expired key restarts the query once."""

from __future__ import annotations

import json

import httpx
import pytest
from pydantic import SecretStr

from functions.ingest_dynatrace.client import DynatraceClient
from lakehouse.ingest.errors import SourceRefused
from tests.conftest import FIXTURES

CONSTRAINTS = json.loads((FIXTURES / "dynatrace" / "error__400_constraints_violated.json").read_text())


def client(answers: list[httpx.Response], seen: list[dict[str, str]]) -> DynatraceClient:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(dict(request.url.params))
        assert request.headers["Authorization"] == "Api-Token dt0c01.ABC.SECRET"
        return answers.pop(0)

    return DynatraceClient(
        "https://abc.live.dynatrace.com", SecretStr("dt0c01.ABC.SECRET"), transport=httpx.MockTransport(handle)
    )


def test_expired_key_restarts_once_from_a_fresh_first_request() -> None:
    seen: list[dict[str, str]] = []
    answers = [
        httpx.Response(200, json={"nextPageKey": "k1", "problems": [{"n": 1}]}),
        httpx.Response(400, json=CONSTRAINTS),
        httpx.Response(200, json={"nextPageKey": "k2", "problems": [{"n": 1}]}),
        httpx.Response(200, json={"nextPageKey": None, "problems": [{"n": 2}]}),
    ]
    pages = [p.body["problems"][0]["n"] for p in client(answers, seen).problems(1, 2, 50)]
    assert pages == [1, 1, 2]
    assert seen[0] == {"from": "1", "to": "2", "pageSize": "50"} == seen[2]
    assert seen[1] == {"nextPageKey": "k1"} and seen[3] == {"nextPageKey": "k2"}


def test_a_second_expiry_or_a_400_on_the_first_page_is_an_error() -> None:
    seen: list[dict[str, str]] = []
    with pytest.raises(SourceRefused, match=r"HTTP 400 on GET /api/v2/problems: Constraints violated\."):
        list(client([httpx.Response(400, json=CONSTRAINTS)], seen).problems(1, 2, 50))
    answers = [
        httpx.Response(200, json={"nextPageKey": "a"}),
        httpx.Response(400, json=CONSTRAINTS),
        httpx.Response(200, json={"nextPageKey": "b"}),
        httpx.Response(400, json=CONSTRAINTS),
    ]
    with pytest.raises(SourceRefused):
        list(client(answers, []).problems(1, 2, 50))
