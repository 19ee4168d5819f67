"""Open incidents as the API serves them, at the build's as_of (the 20th at 10:00 UTC).

quiet's incidents, all read when that build runs, ahead of it:

    INC15  P1  opened 20th 09:00, resolved 10:30: open at as_of, for an hour
    INC16  P2  opened 20th 10:30, still open: not opened yet at as_of
    INC17  P3  opened 20th 10:45, still open: not opened yet at as_of
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from functions.api.main import create_app
from lakehouse.aggregates.build import build
from lakehouse.schemas import get_dataset
from tests.integration.api.conftest import api_settings, down_sources, get_json
from tests.unit.aggregates.estate import AS_OF, CI_Q, incident, rows, t
from tests.unit.aggregates.estate import estate_lake as hand_made_lake


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("incidents-at-as-of")
    lake, settings = hand_made_lake(root)
    incidents = get_dataset("servicenow/incidents")
    lake.write_days(
        incidents,
        rows(
            incidents.id,
            incident("if" * 16, "INC15", CI_Q, t(20, 9), 1, 6, t(20, 10, 30)),
            incident("ig" * 16, "INC16", CI_Q, t(20, 10, 30), 2, 2),
            incident("ih" * 16, "INC17", CI_Q, t(20, 10, 45), 3, 2),
        ),
    )
    build(lake, settings, mode="full", as_of=AS_OF)
    with TestClient(create_app(api_settings(root), settings, down_sources()), raise_server_exceptions=False) as c:
        yield c


def test_the_summary_counts_the_incidents_open_at_as_of_as_its_risk_does(client: TestClient) -> None:
    body = get_json(client, "/monitoring/applications/quiet/summary")
    # The lake never read task SLAs: whether INC15 breached one is unknown (null).
    assert body["incidents"] == {"state": "ok", "open": 1, "openP1P2": 1, "slaBreached": None, "readUntil": None}
    assert (body["risk"]["health"], body["risk"]["reasons"]) == ("red", ["1 open P1/P2 incident(s)"])


def test_the_open_incidents_are_those_open_at_as_of_with_their_age_then(client: TestClient) -> None:
    items = get_json(client, "/monitoring/applications/quiet/incidents?status=open")["items"]
    assert [(i["number"], i["isOpen"], i["openAgeHours"]) for i in items] == [("INC15", True, 1.0)]


def test_an_incident_open_at_as_of_is_listed_without_its_resolution_after_it(client: TestClient) -> None:
    """INC15's resolution at 10:30 has not happened at as_of: no resolution, restoration nor duration yet."""
    (inc15,) = get_json(client, "/monitoring/applications/quiet/incidents?status=open")["items"]
    assert (inc15["resolvedAt"], inc15["restoredAt"], inc15["durationHours"]) == (None, None, None)


def test_the_closed_incidents_are_those_closed_at_as_of_whatever_the_range(client: TestClient) -> None:
    """A range past as_of: INC15 was still open at as_of, and INC16 and INC17 had not been opened."""
    closed = get_json(client, "/monitoring/applications/quiet/incidents?status=closed&from=2026-11-20&to=2026-11-21")
    assert closed["items"] == []


def test_every_incident_over_a_range_past_as_of_is_one_opened_by_as_of(client: TestClient) -> None:
    """status=all over a range past as_of: INC15, open at as_of; INC16 (10:30) and INC17 (10:45) had not been opened
    then, as they are neither open nor closed, and are not listed yet."""
    every = get_json(client, "/monitoring/applications/quiet/incidents?status=all&from=2026-11-20&to=2026-11-21")
    assert [(i["number"], i["isOpen"]) for i in every["items"]] == [("INC15", True)]
