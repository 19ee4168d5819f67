"""One ServiceNow CI, named by its name on lab-svc's production entry and by its id on its staging entry (an estate
whose production entries were written from the CMDB's names, staging's from its ids). ServiceNow gives every record
on the CI both, as incident INC90 (P2, opened on the 19th at 08:00, in progress) and change CHG90 (closed successful
on the 18th) carry them. The build gives a CI mapped in several environments to production first, as the API says
which entry is tied to it: production's lab counts INC90 and CHG90, and staging's none."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from functions.api.main import create_app
from lakehouse.aggregates.build import build
from lakehouse.mappings import MappingStore
from tests.integration.api.conftest import api_settings, down_sources, get_json
from tests.unit.aggregates.estate import AS_OF, change, estate_lake, incident, mapping, t, write

LAB_CI, LAB_CI_NAME = "7" * 32, "lab-ci"
LAB = [
    {"entity_id": "lab", "kind": "application", "team": "t3", "environment": "production"},
    {
        "entity_id": "lab-svc",
        "kind": "component",
        "application_id": "lab",
        "cmdb_ci_name": LAB_CI_NAME,
        "environment": "production",
    },
    {"entity_id": "lab", "kind": "application", "team": "t3", "environment": "staging"},
    {
        "entity_id": "lab-svc",
        "kind": "component",
        "application_id": "lab",
        "servicenow_ci_id": LAB_CI,
        "environment": "staging",
    },
]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("ci-by-id-and-by-name")
    lake, settings = estate_lake(root)
    MappingStore(lake).apply([*mapping(), *LAB], actor="test", replace=True)
    write(
        lake,
        "servicenow/incidents",
        incident("i90" * 10 + "ab", "INC90", LAB_CI, t(19, 8), 2, 2) | {"cmdb_ci_name": LAB_CI_NAME},
    )
    write(
        lake,
        "servicenow/changes",
        change("c90" * 10 + "ab", "CHG90", LAB_CI, (t(18, 9), t(18, 10)), "successful", t(17), t(18, 11))
        | {"cmdb_ci_name": LAB_CI_NAME},
    )
    build(lake, settings, mode="full", as_of=AS_OF)
    with TestClient(create_app(api_settings(root), settings, down_sources())) as c:
        yield c


def test_production_counts_the_ci_s_incident_and_change(client: TestClient) -> None:
    incidents = get_json(client, "/monitoring/applications/lab/summary")["incidents"]
    assert (incidents["state"], incidents["open"], incidents["openP1P2"]) == ("ok", 1, 1)
    listed = get_json(client, "/monitoring/applications/lab/incidents?status=all&period=last_30d")["items"]
    assert [i["number"] for i in listed] == ["INC90"]
    changes = get_json(client, "/monitoring/applications/lab/changes?period=last_30d")["items"]
    assert [c["number"] for c in changes] == ["CHG90"]


def test_staging_lists_none_of_them(client: TestClient) -> None:
    query = "period=last_30d&environment=staging"
    incidents = get_json(client, f"/monitoring/applications/lab/incidents?status=all&{query}")["items"]
    changes = get_json(client, f"/monitoring/applications/lab/changes?{query}")["items"]
    assert (incidents, changes) == ([], [])
