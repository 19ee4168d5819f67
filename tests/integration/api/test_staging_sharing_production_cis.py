"""An estate whose ServiceNow has one CI per application, not one per environment: staging's entries name the CI
production's entries name. The build gives that CI's incidents and changes to production, so in staging nothing can
be found for it. Staging must then say the entity's incidents are unknown ("not mapped"), never "0 open" with a
green light; an entry naming a CI of its own in staging is read as usual.

The hand-made estate (production), plus in staging: shop, whose shop-api names production's CI, and quiet, whose
quiet-svc names a CI production does not.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from functions.api.main import create_app
from lakehouse.aggregates.build import build
from lakehouse.mappings import MappingStore
from tests.integration.api.conftest import api_settings, down_sources, get_json
from tests.unit.aggregates.estate import AS_OF, CI_API, estate_lake, mapping

CI_QUIET_STAGING = "9" * 32
STAGING = [
    {"entity_id": "shop", "kind": "application", "team": "t1", "environment": "staging"},
    {
        "entity_id": "shop-api",
        "kind": "component",
        "application_id": "shop",
        "servicenow_ci_id": CI_API,  # production's CI for shop-api
        "environment": "staging",
    },
    {"entity_id": "quiet", "kind": "application", "team": "t2", "environment": "staging"},
    {
        "entity_id": "quiet-svc",
        "kind": "component",
        "application_id": "quiet",
        "servicenow_ci_id": CI_QUIET_STAGING,
        "environment": "staging",
    },
]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("staging-shares-cis")
    lake, settings = estate_lake(root)
    MappingStore(lake).apply([*mapping(), *STAGING], actor="test", replace=True)
    build(lake, settings, mode="full", as_of=AS_OF)
    with TestClient(create_app(api_settings(root), settings, down_sources())) as c:
        yield c


def test_an_entity_whose_cis_are_all_production_s_has_unknown_incidents_in_staging(client: TestClient) -> None:
    incidents = get_json(client, "/monitoring/applications/shop/summary?environment=staging")["incidents"]
    assert incidents["state"] == "not mapped"
    assert (incidents["open"], incidents["openP1P2"]) == (None, None)
    listed = get_json(client, "/monitoring/applications/shop/incidents?environment=staging&status=all")
    assert (listed["state"], listed["items"]) == ("not mapped", [])
    changes = get_json(client, "/monitoring/applications/shop/changes?environment=staging")
    assert changes["state"] == "not mapped"


def test_production_keeps_the_shared_ci_s_incidents(client: TestClient) -> None:
    incidents = get_json(client, "/monitoring/applications/shop/summary")["incidents"]
    assert incidents["state"] == "ok"
    # INC1 to INC3 are shop-api's CI's (tests/unit/aggregates/estate.py), all listed under production's shop.
    listed = get_json(client, "/monitoring/applications/shop/incidents?status=all&period=last_30d")["items"]
    assert {"INC1", "INC3"} <= {i["number"] for i in listed}


def test_an_entity_with_a_ci_of_its_own_in_staging_reads_as_usual(client: TestClient) -> None:
    incidents = get_json(client, "/monitoring/applications/quiet/summary?environment=staging")["incidents"]
    assert (incidents["state"], incidents["open"]) == ("ok", 0)


def test_staging_s_incident_report_leaves_out_the_entity_it_cannot_measure(client: TestClient) -> None:
    rows = get_json(client, "/monitoring/kpis/incidents?environment=staging&groupBy=app&period=last_7d")["items"]
    assert [r["id"] for r in rows] == ["quiet"]


def test_staging_s_dora_has_no_mttr_for_the_entity(client: TestClient) -> None:
    # DORA's MTTR is found through incidents alone: not mapped in staging, as the summary says; quiet's is mapped.
    rows = get_json(client, "/monitoring/kpis/dora?environment=staging&groupBy=app&period=last_30d")["items"]
    assert {r["id"]: r["mttrState"] for r in rows} == {"quiet": "no incidents restored", "shop": "not mapped"}


def test_a_ci_shared_by_two_environments_neither_production_ties_the_first_by_name(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """qa and staging entries of one component name one CI production does not: the build gives its records to qa
    (the first environment by name), so qa reads its incidents and staging says they are unknown, not 0."""
    shared = "8" * 32
    entries = [
        entry
        for environment in ("qa", "staging")
        for entry in (
            {"entity_id": "lab", "kind": "application", "team": "t3", "environment": environment},
            {
                "entity_id": "lab-svc",
                "kind": "component",
                "application_id": "lab",
                "servicenow_ci_id": shared,
                "environment": environment,
            },
        )
    ]
    lake, settings = estate_lake(tmp_path)
    MappingStore(lake).apply([*mapping(), *entries], actor="test", replace=True)
    build(lake, settings, mode="full", as_of=AS_OF)
    with TestClient(create_app(api_settings(tmp_path), settings, down_sources())) as c:
        states = {
            env: get_json(c, f"/monitoring/applications/lab/summary?environment={env}")["incidents"]["state"]
            for env in ("qa", "staging")
        }
        mttr = {
            env: get_json(c, f"/monitoring/kpis/dora?environment={env}&groupBy=app&app=lab")["items"][0]["mttrState"]
            for env in ("qa", "staging")
        }
    assert states == {"qa": "ok", "staging": "not mapped"}
    assert mttr == {"qa": "no incidents restored", "staging": "not mapped"}
