"""A query parameter given with no value (`?period=`, a client's template left blank) is the caller's slip: the
answer is a 422 naming that parameter, on every read route, never the default read as if it had been left out."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.integration.api.conftest import READ_ROUTES, READER


def query_parameters(client: TestClient, route: str) -> list[str]:
    """The query parameters the OpenAPI document lists for `route` (a concrete path, matched on its template)."""
    document = client.get("/openapi.json").json()
    parts = route.split("/")
    for template, operations in document["paths"].items():
        shape = template.split("/")
        if len(shape) == len(parts) and all(a == b or a.startswith("{") for a, b in zip(shape, parts, strict=True)):
            return [p["name"] for p in operations["get"].get("parameters", []) if p["in"] == "query"]
    raise AssertionError(f"{route} is not in the document")


def test_every_query_parameter_given_empty_is_a_422_naming_it(client: TestClient) -> None:
    answers = []
    for route in READ_ROUTES:
        for name in query_parameters(client, route):
            # `to` is asked for with a `from`: alone, the problem is the missing from.
            query = f"from=2026-11-19&{name}=" if name == "to" else f"{name}="
            r = client.get(f"{route}?{query}", headers=READER)
            named = [e["parameter"] for e in r.json().get("errors", [])] if r.status_code == 422 else []
            answers.append((route, name, r.status_code, r.headers["content-type"], named))
    wrong = [a for a in answers if a[2:] != (422, "application/problem+json", [a[1]])]
    assert wrong == [], "\n".join(map(str, wrong))


def test_the_document_lists_the_parameters_the_test_walks(client: TestClient) -> None:
    """The walk above reads its parameters from the document: a route listing none would pass it unseen."""
    assert "period" in query_parameters(client, "/monitoring/kpis/slo")
    assert "timeRange" in query_parameters(client, "/monitoring/applications/shop/logs/link")
