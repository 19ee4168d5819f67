"""A body of many rows each refused by the request's own schema: the 422 lists the first 200 problems and says how many
there were, as a mapping's own check does. Listing each of 20,000 made an answer of 1.5 MB, and a body of 20,000
entries with several fields wrong each would pass the 6 MB Lambda can answer, turning the 422 into a gateway error."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from tests.integration.api.conftest import ADMIN

JSON = {"content-type": "application/json"}


def test_twenty_thousand_rows_without_their_id_list_the_first_two_hundred(client: TestClient) -> None:
    # 20,000 keys to remove, each written with entityId where the API takes entity_id: 20,000 missing fields, and
    # 20,000 fields a key does not have.
    body = json.dumps({"entries": [], "remove": [{"entityId": "shop"}] * 20_000})
    answer = client.post("/monitoring/admin/mappings", headers=ADMIN | JSON, content=body)
    assert answer.status_code == 422
    problem = answer.json()
    assert len(problem["errors"]) == 200
    assert problem["errors"][:2] == [
        {"parameter": "remove.0.entity_id", "in": "body", "detail": "Field required"},
        {"parameter": "remove.0.entityId", "in": "body", "detail": "Extra inputs are not permitted"},
    ]
    assert problem["errors"][-1]["parameter"] == "remove.99.entityId"
    assert problem["detail"].startswith("40000 problems, the first 200 listed; remove.0.entity_id: Field required")
    assert len(answer.content) < 50_000


def test_a_few_problems_are_all_listed_without_a_count(client: TestClient) -> None:
    body = json.dumps({"entries": [], "remove": [{"entityId": "shop"}] * 3})
    answer = client.post("/monitoring/admin/mappings", headers=ADMIN | JSON, content=body)
    problem = answer.json()
    said = [(f"remove.{n}.entity_id", "Field required", f"remove.{n}.entityId") for n in range(3)]
    assert [e["parameter"] for e in problem["errors"]] == [p for missing, _, extra in said for p in (missing, extra)]
    assert problem["detail"] == "; ".join(
        f"{missing}: {why}; {extra}: Extra inputs are not permitted" for missing, why, extra in said
    )
