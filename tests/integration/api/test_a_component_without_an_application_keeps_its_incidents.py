"""A component mapped without an application (a Backstage Component without spec.system) is its own application,
as the build counts it: the incident and change request on its ServiceNow CI count in the incident and change
reports, for it and its team, and in its risk.

The hand-made estate, plus lone, a production component of team t5 with its own CI, on which INC9 (P2, opened on
the 19th at 08:00, still in progress) and CHG9 (closed successful on the 18th) were raised."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from functions.api.main import create_app
from lakehouse.aggregates.build import build
from lakehouse.mappings import MappingStore
from tests.integration.api.conftest import api_settings, by_id, down_sources, get_json
from tests.unit.aggregates.estate import AS_OF, CI_WRONG, change, estate_lake, incident, mapping, t, write

LONE = {"entity_id": "lone", "kind": "component", "team": "t5", "servicenow_ci_id": CI_WRONG}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("component-without-application")
    lake, settings = estate_lake(root)
    MappingStore(lake).apply([*mapping(), LONE], actor="test", replace=True)
    write(lake, "servicenow/incidents", incident("i9" * 16, "INC9", CI_WRONG, t(19, 8), 2, 2))
    write(
        lake,
        "servicenow/changes",
        change("c9" * 16, "CHG9", CI_WRONG, (t(18, 9), t(18, 10)), "successful", t(17), t(18, 11)),
    )
    build(lake, settings, mode="full", as_of=AS_OF)
    with TestClient(create_app(api_settings(root), settings, down_sources())) as c:
        yield c


@pytest.mark.parametrize(("group_by", "row_id"), [("app", "lone"), ("team", "t5")])
def test_the_incident_report_counts_its_incident(client: TestClient, group_by: str, row_id: str) -> None:
    rows = by_id(get_json(client, f"/monitoring/kpis/incidents?groupBy={group_by}&period=last_30d"))
    assert row_id in rows
    row = rows[row_id]
    assert (row["applications"], row["opened"], row["openedP1P2"], row["openEndOfPeriod"]) == (1, 1, 1, 1)


@pytest.mark.parametrize(("group_by", "row_id"), [("app", "lone"), ("team", "t5")])
def test_the_change_report_counts_its_change(client: TestClient, group_by: str, row_id: str) -> None:
    rows = by_id(get_json(client, f"/monitoring/kpis/changes?groupBy={group_by}&period=last_30d"))
    assert row_id in rows
    row = rows[row_id]
    assert (row["applications"], row["implemented"], row["successful"], row["unsuccessful"]) == (1, 1, 1, 0)


def test_its_risk_counts_its_open_p1_p2_incident(client: TestClient) -> None:
    items = get_json(client, "/monitoring/risk/top")["items"]
    (lone,) = [i for i in items if i["appId"] == "lone"]
    assert (lone["openP1P2"], lone["incidents"]) == (1, 1)
