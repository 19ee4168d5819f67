"""After an upgrade, before the first build of the new release's SQL: an hourly table the earlier release wrote without
a column this release reads leaves the copy serving. The series and summaries reading that column wait for the next
build, the other routes answer, and the hourly objects are fetched once per build state, not at every check."""

from __future__ import annotations

import logging
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from functions.api.main import create_app
from functions.api.mart import HOURLY
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.integration.api.conftest import READER, api_settings, down_sources
from tests.integration.api.test_earlier_release_summary_tables import STATE, fetches_per_build_state
from tests.integration.api.test_mart_of_an_earlier_release import lake_of_an_earlier_release

LOG_EXCEPTIONS = "/monitoring/applications/shop/timeseries?metric=log_exceptions"


def without_log_exceptions(lake_root: Path) -> None:
    """mv_golden_signals_hourly as an earlier release wrote it, before it counted exception log lines."""
    for path in (lake_root / "mart" / HOURLY).rglob("*.parquet"):
        pq.write_table(pq.read_table(path).drop_columns(["log_exceptions"]), path)


@pytest.mark.s3
def test_hourly_objects_of_an_earlier_release_are_fetched_once_until_the_build_state_changes(
    estate_lake: tuple[Settings, Path], s3_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The estate's lake on S3 as an earlier release left it, the hourly table without log_exceptions, and an API
    looking for a new build every 0.3 s. The copy's load failed at the recent hours and was loaded again at every
    check, fetching the hourly objects each time. Each is now fetched once; the build state written again (another
    ETag, the same run) reloads the copy, which fetches none of them again: their versions did not change."""
    local = lake_of_an_earlier_release(estate_lake, tmp_path)
    without_log_exceptions(Path(local.lake_url))
    before, after = fetches_per_build_state(
        Path(local.lake_url), s3_settings, tmp_path, monkeypatch, HOURLY, LOG_EXCEPTIONS
    )
    hourly_objects = set(Lake.from_settings(s3_settings).store.list(f"mart/{HOURLY}/"))
    assert before == dict.fromkeys(hourly_objects, 1)
    assert after == dict.fromkeys(hourly_objects, 1)


def test_only_the_routes_reading_the_missing_hourly_column_wait_for_the_next_build(
    estate_lake: tuple[Settings, Path], tmp_path: Path
) -> None:
    """Every route but the summaries answered 503 'retrying shortly'; now the exception-line series and the summaries
    (whose golden signals count exception lines) wait for the next build, saying so, and the rest answer: shop-api's
    latency p95 over the build's last day, 200 ms but 800 ms at 12:00 and 13:00 on Nov 19 (the estate's SERVICE-A)."""
    settings = lake_of_an_earlier_release(estate_lake, tmp_path)
    without_log_exceptions(Path(settings.lake_url))
    with TestClient(create_app(api_settings(tmp_path), settings, down_sources()), raise_server_exceptions=False) as c:
        for route in (
            LOG_EXCEPTIONS,
            "/monitoring/components/shop-api/timeseries?metric=log_exceptions",
            "/monitoring/applications/shop/summary",
        ):
            answer = c.get(route, headers=READER)
            assert answer.status_code == 503, (route, answer.text)
            assert "earlier release" in answer.json()["detail"]
            assert 3500 < int(answer.headers["retry-after"]) <= 3600
        for route in ("/monitoring/kpis/dora", "/monitoring/kpis/changes", "/monitoring/risk/top"):
            assert c.get(route, headers=READER).status_code == 200, route

        series = c.get("/monitoring/components/shop-api/timeseries", headers=READER)
        assert series.status_code == 200, series.text
        points = {p["t"]: p["v"] for p in series.json()["points"]}
        assert points["2026-11-19T12:00:00Z"] == points["2026-11-19T13:00:00Z"] == 800.0
        assert points["2026-11-19T10:00:00Z"] == points["2026-11-19T23:00:00Z"] == 200.0


def test_the_hourly_column_missing_from_this_releases_own_mart_stays_a_failure(
    estate_lake: tuple[Settings, Path], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The same missing column in a mart this release's SQL built is a defect: the load is logged as failed, and the
    series reading the column is a 500, not a 503 a client would retry for ever."""
    settings = lake_of_an_earlier_release(estate_lake, tmp_path)
    without_log_exceptions(Path(settings.lake_url))
    _, built = estate_lake
    state = tmp_path / "lake" / STATE
    state.write_text((built / "lake" / STATE).read_text())
    with TestClient(create_app(api_settings(tmp_path), settings, down_sources()), raise_server_exceptions=False) as c:
        assert c.get(LOG_EXCEPTIONS, headers=READER).status_code == 500
    failed = [r for r in caplog.records if r.levelno == logging.ERROR and "loading the mart failed" in r.getMessage()]
    assert failed
