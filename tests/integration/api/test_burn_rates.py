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
from tests.unit.aggregates.test_kpis import with_quiet_burning, with_shop_targets


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


def test_a_groups_slo_rows_carry_its_burn_rates_and_its_period_burn_rate(tmp_path: Path) -> None:
    """g1 and d1 are shop (a 99.9 % target of its own) and quiet (99.5 %, burning as in with_quiet_burning); t1 is
    shop alone. At the build's hour (10:00 on the 20th), as in the build's own test: g1 burns 4x over 2 h (4 errors
    of a budget of 0.005 x 200 = 1), 318 / 44 over 24 h (shop 114 errors of a budget of 0.001 x 21,000 = 21, quiet
    204 of 0.005 x 4,600 = 23) and 328 / 57 over 3 d: a ticket. Over the last 30 days, and over the 19th and the
    20th asked as a range, g1 had 124 + 204 bad requests of a budget of 0.001 x 34,000 + 0.005 x 4,600 = 57: a
    period burn rate of 328 / 57, the same as (328 / 38,600) / (57 / 38,600), its error ratio over its
    requests-weighted budget ratio. t1 (shop): 124 / 34 over the period, 114 / 21 over 24 h, no alert."""
    settings = Settings(lake_url=str(tmp_path / "lake"), duckdb_temp_directory=tmp_path / "duckdb")
    lake = Lake.from_settings(settings)
    write_estate(lake)
    with_shop_targets(lake, slo_availability_target=0.999)
    with_quiet_burning(lake)
    build(lake, settings, mode="full", as_of=AS_OF)

    range_ = "from=2026-11-19T00:00:00Z&to=2026-11-20T10:00:00Z"
    with TestClient(create_app(api_settings(tmp_path), settings, down_sources())) as client:
        named = {r["id"]: r for r in get(client, "/monitoring/kpis/slo?groupBy=group")["items"]}
        ranged = {r["id"]: r for r in get(client, f"/monitoring/kpis/slo?groupBy=group&{range_}")["items"]}
        domains = {r["id"]: r for r in get(client, "/monitoring/kpis/slo?groupBy=domain")["items"]}
        teams = {r["id"]: r for r in get(client, f"/monitoring/kpis/slo?groupBy=team&{range_}")["items"]}
    for g1 in (named["g1"], ranged["g1"], domains["d1"]):
        assert g1["burnRatePeriod"] == pytest.approx(328 / 57)
        assert (g1["burnRate1H"], g1["burnRate2H"]) == (pytest.approx(4), pytest.approx(4))
        assert g1["burnRate6H"] == pytest.approx(4 / 21)
        assert g1["burnRate24H"] == pytest.approx(318 / 44)
        assert g1["burnRate3D"] == pytest.approx(328 / 57)
        assert g1["burnRateAlert"] == "ticket"
    t1 = teams["t1"]
    assert t1["burnRatePeriod"] == pytest.approx(124 / 34)
    assert (t1["burnRate1H"], t1["burnRate24H"], t1["burnRateAlert"]) == (None, pytest.approx(114 / 21), "none")
