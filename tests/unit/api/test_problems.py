"""Errors are RFC 9457 problem documents, including validation errors, which list the allowed values."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Depends, FastAPI, Query
from fastapi.testclient import TestClient
from pydantic import BaseModel

from functions.api import problems
from functions.api.deps import one_value_each


class Thing(BaseModel):
    name: str


def app() -> FastAPI:
    application = FastAPI()
    problems.install(application)

    @application.get("/thing")
    def thing(metric: Literal["a", "b"] = "a", n: int = 1) -> dict[str, str]:
        if n == 2:
            raise problems.Problem(404, "no thing 2", title="Unknown thing")
        if n == 3:
            raise RuntimeError("database password is hunter2")
        return {"metric": metric}

    @application.post("/things")
    def add(thing: Thing) -> dict[str, str]:
        return {"name": thing.name}

    return application


def test_shapes() -> None:
    client = TestClient(app(), raise_server_exceptions=False)
    bad = client.get("/thing?metric=c")
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
    body = bad.json()
    assert {"type", "title", "status", "detail", "instance"} <= set(body)
    assert body["errors"][0]["parameter"] == "metric" and body["errors"][0]["allowed"] == ["a", "b"]
    missing = client.get("/thing?n=2")
    assert missing.status_code == 404 and missing.json()["title"] == "Unknown thing"
    assert client.get("/nowhere").json()["status"] == 404
    crash = client.get("/thing?n=3")
    assert crash.status_code == 500 and "hunter2" not in crash.text
    assert crash.headers["content-type"] == "application/problem+json"


def test_a_body_that_is_no_json_is_named_body() -> None:
    """`{"name": "x"` (no closing brace) is 12 characters: the parser wants a delimiter at position 12, past them.
    The problem names the body, where it broke and why, not a parameter called "12"."""
    client = TestClient(app(), raise_server_exceptions=False)
    bad = client.post("/things", content='{"name": "x"', headers={"content-type": "application/json"})
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
    error = bad.json()["errors"][0]
    assert (error["parameter"], error["in"]) == ("body", "body")
    assert "position 12" in error["detail"] and "delimiter" in error["detail"]


def test_a_list_parameter_may_be_repeated_a_single_one_not() -> None:
    """The check against repeated parameters reads each route's parameters: `tag` is a list and takes both values,
    `n` takes one (a 422 naming n when given twice)."""
    application = FastAPI(dependencies=[Depends(one_value_each)])
    problems.install(application)

    @application.get("/tagged")
    def tagged(tag: Annotated[list[str], Query()], n: int = 1) -> dict[str, object]:
        return {"tags": tag, "n": n}

    client = TestClient(application, raise_server_exceptions=False)
    assert client.get("/tagged?tag=a&tag=b&n=2").json() == {"tags": ["a", "b"], "n": 2}
    twice = client.get("/tagged?tag=a&n=1&n=2")
    assert twice.status_code == 422 and twice.headers["content-type"] == "application/problem+json"
    assert twice.json()["errors"] == [{"parameter": "n", "in": "query", "detail": "given 2 times; give it once"}]
