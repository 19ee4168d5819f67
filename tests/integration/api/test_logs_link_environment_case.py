"""Loggers that write their environment capitalised: solo's lines say deployment.environment "Production" (as a .NET
service's ASPNETCORE_ENVIRONMENT has it). The log counts take them for production; the logs link must find the same
lines in Kibana, where KQL matches a keyword field's case exactly. On 19 November solo logged 2 ERROR lines at 10:00;
and, mapped in pre-prod too, 7 ERROR lines at 12:00 there as "Pre-Prod". The build's as_of is 20 November 10:00."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import unquote

import pytest
import rison
from fastapi.testclient import TestClient

from functions.api.main import create_app
from lakehouse.aggregates.build import build
from lakehouse.mappings import MappingStore
from tests.integration.api.conftest import api_settings, down_sources, get_json
from tests.unit.aggregates.estate import AS_OF, estate_lake, t, write


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("logs-link-case")
    lake, settings = estate_lake(root)
    solo = {"entity_id": "solo", "kind": "application", "team": "t3", "elisa_index": "logs-solo-*"}
    MappingStore(lake).apply([solo, solo | {"environment": "pre-prod"}], actor="test")
    line = {"index_pattern": "logs-solo-*", "service_name": "solo", "environment": "Production"}
    write(lake, "elasticsearch/log_counts_hourly", line | {"level": "ERROR", "hour": t(19, 10), "count": 2})
    pre_prod = line | {"environment": "Pre-Prod"}
    write(lake, "elasticsearch/log_counts_hourly", pre_prod | {"level": "ERROR", "hour": t(19, 12), "count": 7})
    build(lake, settings, mode="full", as_of=AS_OF)
    with TestClient(create_app(api_settings(root), settings, down_sources()), raise_server_exceptions=False) as c:
        yield c


def test_the_link_finds_the_capitalised_lines_the_counts_count(client: TestClient) -> None:
    summary = get_json(client, "/monitoring/applications/solo/summary")
    assert summary["goldenSignals"]["logErrors"] == 2
    link = get_json(client, "/monitoring/applications/solo/logs/link?timeRange=now-24h")
    expected = 'service.name:"solo" and deployment.environment:("production" or "Production" or "PRODUCTION")'
    assert link["query"] == expected
    app_state = rison.loads(unquote(link["url"].split("&_a=", 1)[1]))
    assert app_state["query"] == {"language": "kuery", "query": expected}


def test_the_link_finds_the_lines_written_with_each_word_capitalised(client: TestClient) -> None:
    """pre-prod's lines say "Pre-Prod": counted, 7 at 12:00; the link asked for "pre-prod", "Pre-prod" and "PRE-PROD"
    only, and Discover showed none of the 7."""
    window = "from=2026-11-19&to=2026-11-20&environment=pre-prod"
    series = get_json(client, f"/monitoring/applications/solo/timeseries?metric=log_errors&{window}")
    assert [(p["t"], p["v"]) for p in series["points"] if p["v"]] == [("2026-11-19T12:00:00Z", 7.0)]
    link = get_json(client, f"/monitoring/applications/solo/logs/link?{window}")
    spellings = '"pre-prod" or "Pre-prod" or "Pre-Prod" or "PRE-PROD"'
    assert link["query"] == f'service.name:"solo" and deployment.environment:({spellings})'
