"""After an upgrade to a release that adds a table the summaries read, before its first build: the earlier release's
mart, which has no such table, keeps serving the routes that read other tables while the summaries wait for the next
build."""

from __future__ import annotations

import shutil
from pathlib import Path

from fastapi.testclient import TestClient

from functions.api.main import create_app
from lakehouse.settings import Settings
from tests.integration.api.conftest import READER, api_settings, down_sources
from tests.integration.api.test_earlier_release_summary_tables import STATE, assert_waits_for_the_next_build
from tests.integration.api.test_mart_of_an_earlier_release import lake_of_an_earlier_release

SUMMARY = "/monitoring/applications/shop/summary"


def without_burn_rates(lake_root: Path) -> None:
    """The mart as a release before mv_slo_burn_rates (a summary table) left it."""
    shutil.rmtree(lake_root / "mart" / "mv_slo_burn_rates")


def test_a_summary_table_the_earlier_release_did_not_build_makes_only_the_summaries_wait(
    estate_lake: tuple[Settings, Path], tmp_path: Path
) -> None:
    """Every route answered 503 'retrying shortly', and the copy was loaded again every 30 s, failing the same way:
    now the summaries wait for the next build, saying so, and the reports answer."""
    settings = lake_of_an_earlier_release(estate_lake, tmp_path)
    without_burn_rates(Path(settings.lake_url))
    with TestClient(create_app(api_settings(tmp_path), settings, down_sources()), raise_server_exceptions=False) as c:
        for route in (SUMMARY, "/monitoring/components/shop-api/summary"):
            assert_waits_for_the_next_build(c, route)
            assert 3500 < int(c.get(route, headers=READER).headers["retry-after"]) <= 3600
        for route in ("/monitoring/kpis/dora", "/monitoring/kpis/changes", "/monitoring/risk/top"):
            assert c.get(route, headers=READER).status_code == 200, route


def test_a_summary_table_missing_from_this_releases_own_mart_stays_a_failure(
    estate_lake: tuple[Settings, Path], tmp_path: Path
) -> None:
    """This release's own build always writes the table: without it the copy is a failure to look into, not a wait
    for the next build."""
    settings = lake_of_an_earlier_release(estate_lake, tmp_path)
    without_burn_rates(Path(settings.lake_url))
    _, built = estate_lake
    (tmp_path / "lake" / STATE).write_text((built / "lake" / STATE).read_text())
    with TestClient(create_app(api_settings(tmp_path), settings, down_sources()), raise_server_exceptions=False) as c:
        summary = c.get(SUMMARY, headers=READER)
        assert summary.status_code == 503
        assert "earlier release" not in summary.json()["detail"]


def test_a_report_table_the_earlier_release_did_not_build_waits_for_the_next_build_saying_so(
    estate_lake: tuple[Settings, Path], tmp_path: Path
) -> None:
    """A table only a report reads (mv_health, the overview's), added by this release: its route answered 503 'has
    not been built yet' with no Retry-After, as on a lake never built, though the next build writes it. It now says
    so and when to ask again; the summaries and other reports answer."""
    settings = lake_of_an_earlier_release(estate_lake, tmp_path)
    shutil.rmtree(Path(settings.lake_url) / "mart" / "mv_health")
    with TestClient(create_app(api_settings(tmp_path), settings, down_sources()), raise_server_exceptions=False) as c:
        assert_waits_for_the_next_build(c, "/monitoring/overview")
        assert 3500 < int(c.get("/monitoring/overview", headers=READER).headers["retry-after"]) <= 3600
        for route in (SUMMARY, "/monitoring/kpis/dora", "/monitoring/risk/top"):
            assert c.get(route, headers=READER).status_code == 200, route
