"""An application's error and exception log lines through the API (summary and timeseries), on the hand-made estate
(tests/unit/aggregates/estate.py) with solo, an application mapped directly with its index: its services log as
service.name = solo. On 19 November solo logged 4 ERROR lines and 1 exception at 09:00, 2 ERROR lines at 10:00 and
3 exceptions at 11:00. The build's as_of is 20 November 10:00."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from functions.api.main import create_app
from lakehouse.aggregates.build import build
from lakehouse.mappings import MappingStore
from tests.integration.api.conftest import READER, api_settings, down_sources
from tests.unit.aggregates.estate import AS_OF, estate_lake, t, write


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("log-signals")
    lake, settings = estate_lake(root)
    solo = {"entity_id": "solo", "kind": "application", "team": "t3", "elisa_index": "logs-solo-*"}
    MappingStore(lake).apply([solo], actor="test")
    line = {"index_pattern": "logs-solo-*", "service_name": "solo", "environment": "production"}
    logs = [
        line | {"level": "ERROR", "hour": t(19, 9), "count": 4},
        line | {"level": "EXCEPTION", "hour": t(19, 9), "count": 1},
        line | {"level": "ERROR", "hour": t(19, 10), "count": 2},
        line | {"level": "EXCEPTION", "hour": t(19, 11), "count": 3},
    ]
    write(lake, "elasticsearch/log_counts_hourly", *logs)
    build(lake, settings, mode="full", as_of=AS_OF)
    with TestClient(create_app(api_settings(root), settings, down_sources()), raise_server_exceptions=False) as c:
        yield c


def test_the_summary_counts_the_error_and_exception_lines_of_its_24_hours(client: TestClient) -> None:
    """The summary's 24 hours run from 19 November 10:00 to 20 November 10:00: 09:00's lines are before them, so 2
    ERROR lines (10:00) and 3 exceptions (11:00)."""
    body = client.get("/monitoring/applications/solo/summary", headers=READER).json()
    signals = body["goldenSignals"]
    assert (signals["logErrors"], signals["logExceptions"]) == (2, 3)


def test_the_exceptions_series_has_each_hours_lines(client: TestClient) -> None:
    """From 19 November 00:00 to 20 November 00:00: exceptions 1 at 09:00 and 3 at 11:00. 10:00 logged ERROR lines
    only: Elasticsearch counted solo's lines of that hour and found no exception, so 0 (and 11:00's ERROR lines 0),
    where an hour with no line counted at all has no point."""
    url = "/monitoring/applications/solo/timeseries?metric=log_exceptions&from=2026-11-19&to=2026-11-20"
    body = client.get(url, headers=READER).json()
    assert body["unit"] == "lines/hour"
    assert [(p["t"], p["v"]) for p in body["points"]] == [
        ("2026-11-19T09:00:00Z", 1),
        ("2026-11-19T10:00:00Z", 0),
        ("2026-11-19T11:00:00Z", 3),
    ]
    errors = client.get(url.replace("log_exceptions", "log_errors"), headers=READER).json()
    assert [(p["t"], p["v"]) for p in errors["points"]] == [
        ("2026-11-19T09:00:00Z", 4),
        ("2026-11-19T10:00:00Z", 2),
        ("2026-11-19T11:00:00Z", 0),
    ]
