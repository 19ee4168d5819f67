"""The analysts' views: the committed views.sql is current, and the views answer on a built lake."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from lakehouse.aggregates.build import build
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from lakehouse.views import render_views
from tests.unit.aggregates.estate import AS_OF, write_estate

VIEWS_SQL = Path(__file__).resolve().parents[3] / "lakehouse" / "sql" / "views.sql"


def test_committed_views_sql_is_generated() -> None:
    assert VIEWS_SQL.read_text(encoding="utf-8") == render_views(), (
        "lakehouse/sql/views.sql is stale: regenerate it with lakehouse.views.render_views()"
    )


def test_static_views_work_on_a_built_lake_with_a_variable(tmp_path: Path) -> None:
    settings = Settings(lake_url=str(tmp_path / "lake"), duckdb_temp_directory=tmp_path / "duckdb")
    lake = Lake.from_settings(settings)
    write_estate(lake)
    build(lake, settings, mode="full", as_of=AS_OF)
    con = duckdb.connect()
    con.execute("set variable lake = $url", {"url": lake.url})
    # Datasets the estate does not fill cannot get a static view; the per-lake script covers them.
    for statement in VIEWS_SQL.read_text(encoding="utf-8").split(";\n"):
        try:
            con.execute(statement)
        except duckdb.IOException as exc:
            assert "No files found" in str(exc)
    assert con.execute("select count(*) from servicenow_incidents_latest").fetchone() == (3,)
    assert con.execute("select rank, app_id from mv_monitoring_top_risks order by rank limit 1").fetchone() == (
        1,
        "shop",
    )
    assert con.execute("select max(version) from ref_mappings").fetchone() == (1,)
    # The hourly table stores counts; its view derives the error rate: shop at 10:00 had 101 errors in 1,500
    # requests (shop-api 1,000, shop-db 500), and shop-db had no traffic before 04:00.
    rate = "select error_rate from mv_golden_signals_hourly where app_id = $app and level = $level and hour = $hour"
    shop = {"app": "shop", "level": "application", "hour": datetime(2026, 11, 19, 10, tzinfo=UTC)}
    assert con.execute(rate, shop).fetchone() == (pytest.approx(101 / 1500),)
    rate += " and component_id = 'shop-db'"
    db = {"app": "shop", "level": "component", "hour": datetime(2026, 11, 19, 3, tzinfo=UTC)}
    assert con.execute(rate, db).fetchone() == (None,)


def test_per_lake_script_gives_every_view_even_for_empty_datasets(tmp_path: Path) -> None:
    settings = Settings(lake_url=str(tmp_path / "lake"), duckdb_temp_directory=tmp_path / "duckdb")
    lake = Lake.from_settings(settings)
    write_estate(lake)
    build(lake, settings, mode="full", as_of=AS_OF)
    con = duckdb.connect()
    con.execute(render_views(lake))
    assert con.execute("select count(*) from raw_argocd_app_status").fetchone() == (0,)
    assert con.execute("select count(*) from raw_dynatrace_service_metrics_hourly").fetchone() == (72,)
    runs = con.execute("select count(*) from batch_runs where function = 'build_aggregates'").fetchone()
    assert runs == (1,)
    d1 = con.execute(
        "select sum(requests) from mv_monitoring_domain_day_summary where domain = 'd1' and day = date '2026-11-19'"
    ).fetchone()
    assert d1 == (34_000,)
