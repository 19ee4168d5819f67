"""A client may send a raw byte in the query string that is no UTF-8 (`?period=\\xff`, not `%FF`). The API
refuses it as it refuses any other bad value, with a problem+json naming the path: building that answer read the
path from the request's whole URL, whose query string it decoded as UTF-8, so the answer itself failed and the
server sent its own plain-text 500. An error no handler answers on such a request is still a problem+json 500."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from fastapi import FastAPI

from functions.api import problems
from tests.integration.api.conftest import READER_KEY


def answer(app: Any, path: str, query: bytes, headers: list[tuple[bytes, bytes]]) -> tuple[int, dict[str, str], Any]:
    """The app's answer to a GET whose query string is `query` as sent on the wire: a client library would encode
    the byte, so the ASGI scope is made by hand. Its status, headers and JSON body."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query,
        "headers": [(b"host", b"api.example.org"), (b"accept", b"application/json"), *headers],
        "client": ("192.0.2.1", 50000),
        "server": ("api.example.org", 80),
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    headers_sent = {k.decode(): v.decode() for k, v in start["headers"]}
    return start["status"], headers_sent, json.loads(body)


def test_a_period_holding_a_byte_that_is_no_utf8_is_a_422_problem(app: FastAPI) -> None:
    status, headers, body = answer(app, "/monitoring/kpis/slo", b"period=\xff", [(b"x-api-key", READER_KEY.encode())])
    assert status == 422, body
    assert headers["content-type"] == problems.PROBLEM_JSON
    assert body["instance"] == "/monitoring/kpis/slo"
    assert [e["parameter"] for e in body["errors"]] == ["period"]


def test_such_a_request_without_a_credential_is_a_401_problem(app: FastAPI, caplog: pytest.LogCaptureFixture) -> None:
    """The denial is logged with its path, as any other: that log line read the whole URL too."""
    status, headers, body = answer(app, "/monitoring/kpis/slo", b"period=\xff", [])
    assert (status, headers["content-type"], body["instance"]) == (401, problems.PROBLEM_JSON, "/monitoring/kpis/slo")
    (denied,) = [r for r in caplog.records if r.getMessage() == "request denied"]
    assert denied.path == "/monitoring/kpis/slo"  # type: ignore[attr-defined]


def test_an_unexpected_error_on_such_a_request_is_a_500_problem(caplog: pytest.LogCaptureFixture) -> None:
    """The error's own words go to the log with the path, as for any other request, never to the caller."""
    app = FastAPI()
    problems.install(app)

    @app.get("/thing")
    def thing() -> None:
        raise RuntimeError("database password is hunter2")

    status, headers, body = answer(app, "/thing", b"n=\xff", [])
    assert (status, headers["content-type"]) == (500, problems.PROBLEM_JSON)
    assert body == {
        "type": "about:blank",
        "title": "Internal error",
        "status": 500,
        "detail": "the server could not answer; see its log",
        "instance": "/thing",
    }
    (logged,) = [r for r in caplog.records if r.getMessage() == "unhandled error"]
    assert logged.path == "/thing" and "hunter2" in str(logged.exc_info[1])  # type: ignore[attr-defined,index]
