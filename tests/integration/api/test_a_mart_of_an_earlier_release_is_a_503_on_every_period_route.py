"""After an upgrade, before the first build of the new release's SQL, the mart is the one an earlier release built: a
table it wrote without a column a report answers with makes that report answer 503 with when to ask again, as the
from/to reports do, never 200 with the column's figures null. The named periods read the period tables the build
wrote, and those of an earlier release may lack this release's columns.

The hand-made estate (tests/unit/aggregates/estate.py, as_of the 20th at 10:00 UTC): team t1 is shop alone, whose p95
was measured in the 24 hours of the 19th and over 500 ms at 12:00 and 13:00: 22 good hours in the last 7 days. Its
successful production deployments over the last 30 days, in days of 24 hours counted back from as_of: D2 and D3 on
the 19th after 10:00 (the first day), G2 on the 18th at 08:30 (the third: [17th 10:00, 18th 10:00)) and D1 on the
1st at 12:00: 3 days with deployments.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest
from fastapi.testclient import TestClient

from functions.api.main import create_app
from lakehouse.settings import Settings
from tests.integration.api.conftest import READER, api_settings, by_id, down_sources, get_json

# The digest an earlier release's SQL files gave (the build state's sql_version): not this release's.
EARLIER_SQL_VERSION = "0123456789abcdef"
# What the API tells a client to wait: until it next looks for a build (mart_check_interval_s in api_settings).
NEXT_CHECK = "3600"


def lake_of_an_earlier_release(estate_lake: tuple[Settings, Path], root: Path) -> Settings:
    """The estate's built lake, its build state naming an earlier release's SQL, as the API finds it after an
    upgrade."""
    _, built = estate_lake
    shutil.copytree(built / "lake", root / "lake")
    state = root / "lake" / "state" / "build" / "aggregates.json"
    state.write_text(json.dumps(json.loads(state.read_text()) | {"sql_version": EARLIER_SQL_VERSION}))
    return Settings(lake_url=str(root / "lake"), duckdb_temp_directory=root / "duckdb")


def written_without(lake: Path, table: str, column: str) -> None:
    """The mart table's objects as a release before `column` wrote them: every other column, rewritten by DuckDB."""
    objects = sorted((lake / "mart" / table).rglob("*.parquet"))
    assert objects, table
    with duckdb.connect() as con:
        for path in objects:
            older = path.with_name(path.name + ".older")
            # The column is one of this test's names; the paths are bound.
            sql = f"copy (select * exclude ({column}) from read_parquet($src)) to $dst (format parquet)"
            con.execute(sql, {"src": str(path), "dst": str(older)})
            older.replace(path)


def assert_waits_for_the_next_build(client: TestClient, route: str) -> None:
    answer = client.get(route, headers=READER)
    assert answer.status_code == 503, (route, answer.text)
    assert answer.headers["content-type"] == "application/problem+json"
    assert "earlier release" in answer.json()["detail"]
    assert answer.headers["retry-after"] == NEXT_CHECK


@pytest.mark.parametrize(
    ("table", "column", "route"),
    [
        ("mv_slo_app_period", "latency_p95_budget_remaining", "/monitoring/kpis/slo?period=last_7d&groupBy=app"),
        ("mv_slo_group_period", "latency_p95_good_hours", "/monitoring/kpis/slo?period=last_7d&groupBy=team"),
        ("mv_dora_app_period", "days_with_deployments", "/monitoring/kpis/dora?period=last_30d"),
        ("mv_dora_group_period", "deployments_from", "/monitoring/kpis/dora?period=last_30d&groupBy=team"),
        ("mv_monitoring_top_risks", "failed_changes_7d", "/monitoring/risk/top"),
        ("mv_monitoring_top_risks", "failed_changes_7d", "/monitoring/overview"),
    ],
)
def test_a_report_whose_table_lacks_a_column_it_answers_with_waits_for_the_next_build(
    estate_lake: tuple[Settings, Path], tmp_path: Path, table: str, column: str, route: str
) -> None:
    settings = lake_of_an_earlier_release(estate_lake, tmp_path)
    written_without(Path(settings.lake_url), table, column)
    with TestClient(create_app(api_settings(tmp_path), settings, down_sources()), raise_server_exceptions=False) as c:
        assert_waits_for_the_next_build(c, route)


def test_an_earlier_releases_mart_with_every_column_answers_its_figures(
    estate_lake: tuple[Settings, Path], tmp_path: Path
) -> None:
    settings = lake_of_an_earlier_release(estate_lake, tmp_path)
    with TestClient(create_app(api_settings(tmp_path), settings, down_sources()), raise_server_exceptions=False) as c:
        t1 = by_id(get_json(c, "/monitoring/kpis/slo?period=last_7d&groupBy=team"))["t1"]
        assert t1["latencyP95GoodHours"] == 22
        shop = by_id(get_json(c, "/monitoring/kpis/dora?period=last_30d"))["shop"]
        assert shop["daysWithDeployments"] == 3
