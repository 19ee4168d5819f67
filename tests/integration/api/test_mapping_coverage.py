"""GET /monitoring/admin/mappings/coverage on the hand-made estate (tests/unit/aggregates/estate.py): its 3 incidents
and 2 changes are on mapped CIs; of its 8 deployments, gitlab:103 went to staging, where project 12 is not mapped."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.integration.api.conftest import ADMIN, READER


def test_an_admin_sees_what_the_mapping_attributes_and_what_it_leaves_out(client: TestClient) -> None:
    response = client.get("/monitoring/admin/mappings/coverage", headers=ADMIN)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["windowStart"], body["windowEnd"]) == ("2026-10-21T10:00:00Z", "2026-11-20T10:00:00Z")
    assert [(k["recordKind"], k["records"], k["attributed"], k["attributedShare"]) for k in body["kinds"]] == [
        ("incident", 3, 3, 1.0),
        ("change", 2, 2, 1.0),
        ("deployment", 8, 7, 7 / 8),
        ("log_line", 0, 0, None),  # no log line read: nothing to attribute
    ]
    assert body["unmappedTotal"] == 1
    gap = body["unmapped"][0]
    assert (gap["keyKind"], gap["key"], gap["environment"], gap["records"], gap["latestRecord"]) == (
        "gitlab_project",
        "12",
        "staging",
        1,
        "gitlab:103",
    )


def test_the_unmapped_keys_of_one_kind_of_record(client: TestClient) -> None:
    body = client.get("/monitoring/admin/mappings/coverage?recordKind=incident", headers=ADMIN).json()
    assert (body["unmapped"], body["unmappedTotal"]) == ([], 0)
    assert len(body["kinds"]) == 4  # the coverage of every kind comes with any filter


def test_the_coverage_is_for_admins_and_checks_its_parameters(client: TestClient) -> None:
    assert client.get("/monitoring/admin/mappings/coverage", headers=READER).status_code == 403
    bad = client.get("/monitoring/admin/mappings/coverage?recordKind=problem", headers=ADMIN)
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert bad.json()["errors"][0]["parameter"] == "recordKind"
    assert client.get("/monitoring/admin/mappings/coverage?limit=0", headers=ADMIN).status_code == 422
