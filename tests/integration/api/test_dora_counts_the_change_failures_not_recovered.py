"""The DORA report gives each row's change failures still not recovered at as-of (changeFailuresNotRecovered) beside
the recovery time's median, which is over those recovered alone: named periods as the build wrote them, and a range
computed on request, for an application and for its team.

The estate of tests/unit/aggregates/test_change_failures_not_recovered_are_counted_beside_the_recovery_time.py: quiet
has 3 change failures in the last 30 days, one recovered in 2 hours and two still open at as-of; its team t2 adds
broken's two, never recovered.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from functions.api.main import create_app
from tests.integration.api.conftest import api_settings, by_id, down_sources, get_json
from tests.unit.aggregates.test_change_failures_not_recovered_are_counted_beside_the_recovery_time import (
    quiet_failures_lake,
)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("dora-not-recovered")
    _, settings = quiet_failures_lake(root)
    with TestClient(create_app(api_settings(root), settings, down_sources())) as c:
        yield c


def recovery(row: dict) -> tuple:
    return (
        row["changeFailureNumerator"],
        row["recoverySample"],
        row["recoveryMedianHours"],
        row["recoveryState"],
        row["changeFailuresNotRecovered"],
    )


@pytest.mark.parametrize(
    "query",
    [
        "groupBy=app&app=quiet&period=last_30d",
        # The same 30 days as a range, computed at the request: from 21 October 10:00 to as-of.
        "groupBy=app&app=quiet&from=2026-10-21T10:00:00Z&to=2026-11-20T10:00:00Z",
    ],
)
def test_an_application_says_how_many_failures_are_not_recovered(client: TestClient, query: str) -> None:
    (quiet,) = get_json(client, f"/monitoring/kpis/dora?{query}")["items"]
    assert recovery(quiet) == (3, 1, 2.0, "ok", 2)


def test_a_team_sums_them_over_its_applications(client: TestClient) -> None:
    teams = by_id(get_json(client, "/monitoring/kpis/dora?groupBy=team&period=last_30d"))
    assert recovery(teams["t2"]) == (5, 1, 2.0, "ok", 4)
