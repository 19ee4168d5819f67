"""A burn rate is read with the hour its windows end at: with Dynatrace an hour behind the build (an ingestion's
ordinary lag) the windows end at the last hour read, not at the build's as-of, and the API says so on every row that
carries burn rates: the application's summary, and the SLO report of the application and of its team."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from functions.api.main import create_app
from lakehouse.aggregates.build import build
from lakehouse.runlog import Watermarks
from lakehouse.schemas import get_dataset
from tests.integration.api.conftest import READER, api_settings, down_sources
from tests.unit.aggregates.estate import AS_OF, estate_lake, t
from tests.unit.aggregates.test_kpis import served_by_quiet

METRICS = get_dataset("dynatrace/service_metrics_hourly")


def get(client: TestClient, url: str) -> dict:
    response = client.get(url, headers=READER)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize(
    ("watermark", "windows_end", "burn_rate_1h"),
    [(AS_OF - timedelta(hours=1), "2026-11-20T09:00:00Z", 20.0), (AS_OF, "2026-11-20T10:00:00Z", None)],
    ids=["dynatrace-an-hour-behind", "dynatrace-read-to-the-as-of"],
)
def test_the_burn_rates_name_the_end_of_their_windows(
    tmp_path: Path, watermark: datetime, windows_end: str, burn_rate_1h: float | None
) -> None:
    """quiet (99.5 %) failed 100 of its 1,000 requests in the 08:00 hour of the 20th, and had none after 09:00. Built
    at 10:00 with Dynatrace read to 09:00, the windows end at 09:00 and the last hour is 08:00's: 0.1 / 0.005 = 20.
    Read to 10:00, they end at 10:00 and the last hour (09:00) had no traffic: no 1 h rate. quiet is team t2's only
    application with traffic (broken has no Dynatrace service), so its team's rows end where its own do."""
    lake, settings = estate_lake(tmp_path)
    served_by_quiet(lake, [(t(20, h), 1000.0, 100.0 if h == 8 else 0.0) for h in range(9)])
    Watermarks(lake).advance(METRICS.source, METRICS.name, watermark, run_id="by-hand")
    build(lake, settings, mode="full", as_of=AS_OF)

    with TestClient(create_app(api_settings(tmp_path), settings, down_sources())) as client:
        summary = get(client, "/monitoring/applications/quiet/summary")["slo"]
        app = next(r for r in get(client, "/monitoring/kpis/slo?groupBy=app")["items"] if r["id"] == "quiet")
        teams = {r["id"]: r for r in get(client, "/monitoring/kpis/slo?groupBy=team")["items"]}
    team = teams["t2"]
    for row in (summary, app, team):
        assert row["burnWindowsEnd"] == windows_end
        assert row["burnRate1H"] == (pytest.approx(burn_rate_1h) if burn_rate_1h is not None else None)
