"""The error budget's burn rates are the last build's, hourly builds included: an alert on the last hour is worth
little a day late. The SLO periods themselves are computed by the daily build."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from functions.api.main import create_app
from lakehouse.aggregates.build import build
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.integration.api.conftest import READER, api_settings, down_sources
from tests.unit.aggregates.estate import AS_OF, write_estate
from tests.unit.aggregates.test_build import ingest


def get(client: TestClient, url: str) -> dict:
    response = client.get(url, headers=READER)
    assert response.status_code == 200, response.text
    return response.json()


def test_an_hourly_build_brings_the_burn_rates_of_its_hour(tmp_path: Path) -> None:
    """A full build at 10:00 on the 20th, then shop-api serves 1,000 requests from 10:00 to 11:00, 500 of them
    failed, and an hourly build runs at 11:00. With a 99.5 % target (a budget of 0.5 %), shop burns:
    - over 1 h and 6 h: 500 / 1,000 = 0.5, so 100x: page;
    - over 24 h: the 19th from 11:00 (13 hours of 1,500 requests, 1 failed each) and the new hour, 513 / 20,500;
    - over 3 days: the whole 19th (124 of 34,000) and the new hour, 624 / 35,000.
    The summary, the SLO report and the top risks all say so after the hourly build."""
    settings = Settings(lake_url=str(tmp_path / "lake"), duckdb_temp_directory=tmp_path / "duckdb")
    lake = Lake.from_settings(settings)
    write_estate(lake)
    build(lake, settings, mode="full", as_of=AS_OF)
    bad_hour = {"entity_id": "SERVICE-A", "hour": AS_OF, "request_count": 1000.0, "error_count": 500.0}
    ingest(lake, "dynatrace/service_metrics_hourly", bad_hour)
    assert build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=1)).mode == "hourly"

    with TestClient(create_app(api_settings(tmp_path), settings, down_sources())) as client:
        summary = get(client, "/monitoring/applications/shop/summary")["slo"]
        shop = next(r for r in get(client, "/monitoring/kpis/slo?groupBy=app")["items"] if r["id"] == "shop")
        risks = get(client, "/monitoring/risk/top?metric=burn_rate")["items"]
    assert (summary["burnRate1H"], summary["burnRateAlert"]) == (pytest.approx(100.0), "page")
    assert (shop["burnRate1H"], shop["burnRate6H"], shop["burnRateAlert"]) == (
        pytest.approx(100.0),
        pytest.approx(100.0),
        "page",
    )
    assert shop["burnRate24H"] == pytest.approx((513 / 20_500) / 0.005)
    assert shop["burnRate3D"] == pytest.approx((624 / 35_000) / 0.005)
    assert risks[0]["appId"] == "shop" and risks[0]["burnRate1H"] == pytest.approx(100.0)
