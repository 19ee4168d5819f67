"""A period that has not begun by the data's as-of (the month at its first hour, a from/to range after the as-of
hour) holds nothing that happened: its DORA figures are 'insufficient data', never a frequency of 0 and 'no
deployments'."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from functions.api.main import create_app
from lakehouse.aggregates.build import build
from tests.integration.api.conftest import READER, api_settings, down_sources
from tests.unit.aggregates.estate import estate_lake
from tests.unit.aggregates.test_kpis import mart, one, reading

FIRST_HOUR_OF_DECEMBER = datetime(2026, 12, 1, 0, tzinfo=UTC)
SHOP_ROW = (
    "app_id = 'shop' and environment = 'production' and period = $period and correlation_mode = 'full' "
    "and band_set = '2023'"
)


def test_the_month_at_its_first_hour_is_insufficient_data_and_the_month_before_is_whole(tmp_path: Path) -> None:
    """Built at 00:00 UTC on 1 December, 'month' runs from 00:00 to 00:00: no hour of December has passed. shop's
    production deployments all lie in November: argocd 1 (1st), 2 and 3 (19th) and gitlab 102 (18th) succeeded,
    gitlab 101 failed. 'month' has none of them and can say nothing; 'previous_month' is November whole, 30 days:
    4 deployments, 4 / 30 a day."""
    lake, settings = estate_lake(tmp_path)
    build(lake, settings, mode="full", as_of=FIRST_HOUR_OF_DECEMBER)
    with reading(lake, settings) as built:
        december = one(mart(built, "mv_dora_app_period", SHOP_ROW, period="month"))
        november = one(mart(built, "mv_dora_app_period", SHOP_ROW, period="previous_month"))
    assert (december["period_start"], december["period_end"]) == (FIRST_HOUR_OF_DECEMBER, FIRST_HOUR_OF_DECEMBER)
    assert december["deployment_frequency_per_day"] is None
    assert december["deployment_frequency_state"] == "insufficient data"
    assert december["rework_state"] == "insufficient data"
    assert december["mttr_state"] == "insufficient data"
    assert november["period_start"] == datetime(2026, 11, 1, tzinfo=UTC)
    assert november["deployment_frequency_numerator"] == 4
    assert november["deployment_frequency_per_day"] == pytest.approx(4 / 30)
    assert november["deployment_frequency_state"] == "ok"


def test_a_range_after_the_as_of_hour_is_insufficient_data(tmp_path: Path) -> None:
    """January 2030 lies after the build's as-of (10:00 UTC on 20 November 2026): the answer's period stops where the
    data does, empty, and shop's figures over it are unknown, not 0 deployments a day."""
    lake, settings = estate_lake(tmp_path)
    build(lake, settings, mode="full", as_of=datetime(2026, 11, 20, 10, tzinfo=UTC))
    with TestClient(create_app(api_settings(tmp_path), settings, down_sources())) as client:
        answer = client.get("/monitoring/kpis/dora?groupBy=app&from=2030-01-01&to=2030-02-01", headers=READER)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["period"]["start"] == body["period"]["end"] == "2030-01-01T00:00:00Z"
    shop = {r["id"]: r for r in body["items"]}["shop"]
    assert shop["deploymentFrequencyPerDay"] is None
    assert shop["deploymentFrequencyState"] == "insufficient data"
    assert shop["reworkState"] == "insufficient data"
    assert shop["mttrState"] == "insufficient data"
