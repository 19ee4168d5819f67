"""A release deployed before its first build serves the mart an earlier release built, whose tables may lack a column
the new release reads: the routes that can answer do, the others say 503 with when to ask again, never a 500."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq
from fastapi.testclient import TestClient

from functions.api.main import create_app
from lakehouse.settings import Settings
from tests.integration.api.conftest import READER, api_settings, down_sources

# The digest an earlier release's SQL files gave (the build state's sql_version): not this release's.
EARLIER_SQL_VERSION = "0123456789abcdef"


def lake_of_an_earlier_release(estate_lake: tuple[Settings, Path], root: Path) -> Settings:
    """The estate's built lake as an earlier release left it: mv_incidents written before linked_deployment_light was
    added, and the build state naming that release's SQL."""
    _, built = estate_lake
    shutil.copytree(built / "lake", root / "lake")
    for path in (root / "lake" / "mart" / "mv_incidents").rglob("*.parquet"):
        pq.write_table(pq.read_table(path).drop_columns(["linked_deployment_light"]), path)
    state = root / "lake" / "state" / "build" / "aggregates.json"
    record = json.loads(state.read_text())
    state.write_text(json.dumps(record | {"sql_version": EARLIER_SQL_VERSION}))
    return Settings(lake_url=str(root / "lake"), duckdb_temp_directory=root / "duckdb")


def test_a_route_reading_a_column_the_earlier_mart_lacks_answers_503_until_the_next_build(
    estate_lake: tuple[Settings, Path], tmp_path: Path
) -> None:
    settings = lake_of_an_earlier_release(estate_lake, tmp_path)
    api = api_settings(tmp_path)
    with TestClient(create_app(api, settings, down_sources()), raise_server_exceptions=False) as client:
        incidents = client.get("/monitoring/applications/shop/incidents", headers=READER)
        assert incidents.status_code == 503
        assert incidents.headers["content-type"] == "application/problem+json"
        # Asked again once the API next looks for a build (the check interval, an hour in these settings).
        assert incidents.headers["retry-after"] == "3600"
        assert "earlier release" in incidents.json()["detail"]
        # The routes whose columns the earlier mart has answer as before.
        for route in ("/monitoring/applications/shop/summary", "/monitoring/kpis/slo", "/monitoring/risk/top"):
            assert client.get(route, headers=READER).status_code == 200, route


def test_a_column_missing_from_this_releases_own_mart_stays_an_error(
    estate_lake: tuple[Settings, Path], tmp_path: Path
) -> None:
    """The same missing column in a mart this release's SQL built is a defect, not a wait for the next build: it is
    not hidden behind a 503 a client would retry for ever."""
    settings = lake_of_an_earlier_release(estate_lake, tmp_path)
    state = tmp_path / "lake" / "state" / "build" / "aggregates.json"
    _, built = estate_lake
    state.write_text((built / "lake" / "state" / "build" / "aggregates.json").read_text())
    with TestClient(create_app(api_settings(tmp_path), settings, down_sources()), raise_server_exceptions=False) as c:
        assert c.get("/monitoring/applications/shop/incidents", headers=READER).status_code == 500


def test_a_summary_table_the_earlier_mart_wrote_without_a_column_is_waited_for_until_the_next_build(
    estate_lake: tuple[Settings, Path], tmp_path: Path
) -> None:
    """The summary's tables are loaded before any answer: mv_slo_app_period written before the latency budgets were
    added makes the summaries wait for the next build, saying so, not 'retrying shortly' every 30 s."""
    settings = lake_of_an_earlier_release(estate_lake, tmp_path)
    for path in (tmp_path / "lake" / "mart" / "mv_slo_app_period").rglob("*.parquet"):
        table = pq.read_table(path)
        pq.write_table(table.drop_columns([c for c in table.column_names if "_budget_" in c and "latency" in c]), path)
    with TestClient(create_app(api_settings(tmp_path), settings, down_sources()), raise_server_exceptions=False) as c:
        for _ in range(2):  # the first request tries the copy, the next is told the same without trying again
            summary = c.get("/monitoring/applications/shop/summary", headers=READER)
            assert summary.status_code == 503
            assert "earlier release" in summary.json()["detail"]
            assert 3500 < int(summary.headers["retry-after"]) <= 3600
