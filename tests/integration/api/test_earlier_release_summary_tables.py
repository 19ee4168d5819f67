"""After an upgrade, before the first build of the new release's SQL: summary tables the earlier release wrote without
a column this release reads are fetched once per build state, not at every check for a build, and only the routes
that read the summaries wait for the next build."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from functions.api.main import create_app
from functions.api.mart import SUMMARY_TABLES, ServingMart
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.integration.api.conftest import ADMIN, READER, api_settings, down_sources, lake_reads
from tests.integration.api.test_mart_of_an_earlier_release import lake_of_an_earlier_release

SUMMARY = "/monitoring/applications/shop/summary"
STATE = "state/build/aggregates.json"
CHECK_INTERVAL_S = 0.3


def without_latency_budgets(lake_root: Path) -> None:
    """mv_slo_app_period as an earlier release wrote it, before the latency SLOs had error budgets."""
    for path in (lake_root / "mart" / "mv_slo_app_period").rglob("*.parquet"):
        table = pq.read_table(path)
        pq.write_table(table.drop_columns([c for c in table.column_names if "_budget_" in c and "latency" in c]), path)


def uploaded(folder: Path, lake: Lake) -> None:
    """Every object of a local lake put under the same keys in `lake`."""
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        lake.store.put(path.relative_to(folder).as_posix(), path.read_bytes())


def assert_waits_for_the_next_build(client: TestClient, route: str) -> None:
    answer = client.get(route, headers=READER)
    assert answer.status_code == 503, (route, answer.text)
    assert "earlier release" in answer.json()["detail"]


def fetches_per_build_state(
    earlier_lake: Path, s3_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, watched: str, route: str
) -> tuple[Counter[str], Counter[str]]:
    """The earlier release's lake put on S3, served by an API looking for a new build every 0.3 s and asked for
    `route` (which waits for the next build) over four check intervals, then once the build state is written again
    (another ETag, the same run). How often each object under the `watched` tables' folders was fetched by then, and
    by the end."""
    lake = Lake.from_settings(s3_settings)
    uploaded(earlier_lake, lake)
    watched_objects = {key for table in watched.split() for key in lake.store.list(f"mart/{table}/")}
    assert watched_objects
    api = api_settings(tmp_path).model_copy(update={"mart_check_interval_s": CHECK_INTERVAL_S})
    app = create_app(api, s3_settings, down_sources())
    serving: ServingMart = app.state.context.mart
    with TestClient(app, raise_server_exceptions=False) as client:
        reads = lake_reads(monkeypatch, client, "mart/")
        for _ in range(4):
            assert_waits_for_the_next_build(client, route)
            assert client.get("/monitoring/kpis/dora", headers=READER).status_code == 200
            time.sleep(CHECK_INTERVAL_S + 0.1)
        assert serving.refresh(force=True) is False  # after the checks under way: the same build, nothing to load
        before = Counter(key for key in reads if key in watched_objects)

        state = lake.store.get(STATE)
        assert state is not None
        lake.store.put(STATE, json.dumps(json.loads(state.data), indent=2).encode())
        time.sleep(CHECK_INTERVAL_S + 0.1)
        assert_waits_for_the_next_build(client, route)  # starts the check that finds the new ETag
        serving.refresh(force=True)  # waits for that check's load
        assert_waits_for_the_next_build(client, route)
        return before, Counter(key for key in reads if key in watched_objects)


@pytest.mark.s3
def test_summary_tables_of_an_earlier_release_are_fetched_once_until_the_build_state_changes(
    estate_lake: tuple[Settings, Path], s3_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The estate's lake on S3 as an earlier release left it, mv_slo_app_period without its latency budgets, and an
    API looking for a new build every 0.3 s. Asked for a summary over four check intervals, each API instance fetched
    the six summary tables' objects again at each interval, though the build was the same. Each is now fetched once;
    the build state written again (another ETag, the same run) reloads the copy, which fetches none of them again: their
    versions did not change."""
    local = lake_of_an_earlier_release(estate_lake, tmp_path)
    without_latency_budgets(Path(local.lake_url))
    before, after = fetches_per_build_state(
        Path(local.lake_url), s3_settings, tmp_path, monkeypatch, " ".join(SUMMARY_TABLES), SUMMARY
    )
    assert len(before) >= len(SUMMARY_TABLES)
    assert before == dict.fromkeys(before, 1)
    assert after == dict.fromkeys(before, 1)


def test_routes_that_read_neither_the_summaries_nor_a_missing_column_answer(
    estate_lake: tuple[Settings, Path], tmp_path: Path
) -> None:
    """The earlier release's mart lacks mv_slo_app_period's latency budgets, which the summaries read, and
    mv_incidents' linked_deployment_light. Every route answered 503 until the next build; now the summaries and the
    incident lists wait for it, saying so, and the routes reading other tables, the run log or the mapping answer."""
    settings = lake_of_an_earlier_release(estate_lake, tmp_path)
    without_latency_budgets(Path(settings.lake_url))
    with TestClient(create_app(api_settings(tmp_path), settings, down_sources()), raise_server_exceptions=False) as c:
        for route in (SUMMARY, "/monitoring/components/shop-api/summary", "/monitoring/applications/shop/incidents"):
            assert_waits_for_the_next_build(c, route)
        for route in (
            "/monitoring/kpis/dora",
            "/monitoring/kpis/changes",
            "/monitoring/risk/top",
            "/monitoring/applications/shop/changes",
            "/monitoring/applications/shop/timeseries",
        ):
            answer = c.get(route, headers=READER)
            assert answer.status_code == 200, (route, answer.text)
        for route in ("/monitoring/admin/batch-runs", "/monitoring/admin/mappings", "/monitoring/admin/config/sources"):
            answer = c.get(route, headers=ADMIN)
            assert answer.status_code == 200, (route, answer.text)
            # The copy serving names its build: the admin's answer is not "nothing built".
            assert answer.json()["freshness"]["buildRunId"] is not None, route
