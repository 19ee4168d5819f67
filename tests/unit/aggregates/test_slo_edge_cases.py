"""SLOs on the edge cases an SRE checks by hand, over the hand-made lake in estate.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from functions.api.main import create_app
from lakehouse.aggregates.build import build
from lakehouse.schemas import get_dataset
from tests.integration.api.conftest import READER, api_settings, down_sources
from tests.unit.aggregates.estate import AS_OF, estate_lake, rows
from tests.unit.aggregates.test_kpis import mart, reading


def test_a_quarter_under_way_allows_the_budget_of_the_requests_served_so_far(tmp_path: Path) -> None:
    """Built at noon on 29 February 2028 (a leap day). quiet (99.5 %, B = 0.005) came under monitoring on 16
    January: from then on quiet-svc served 100 requests an hour, none failed in January, 1 an hour in February.
    - quarter, 1 January to as_of: 31 + 28 days + 12 hours = 1,428 hours so far (not the quarter's 2,184); 384
      January hours (16th to 31st) and 684 February hours measured, 1,068: coverage 1,068 / 1,428. 106,800
      requests, 684 errors; the budget is that of the requests served so far, 0.005 x 106,800 = 534 (not a share
      of a whole quarter's traffic still to come): consumed 684 / 534, remaining (534 - 684) / 534; availability
      1 - 684 / 106,800 = 99.36 %: breached.
    - month, 1 February to as_of: 684 hours, all measured; 68,400 requests, 684 errors, budget 342.
    - previous_month, January: 744 hours, 384 measured (51.6 %); 38,400 requests, no error: met, budget 192.
    - last_30d, 30 January 12:00 to as_of: 36 January hours and 684 February ones, 720 of 720; 72,000 requests.
    - previous_quarter, the fourth quarter of 2027 (2,208 hours): no traffic, no data, nothing allowed."""
    lake, settings = estate_lake(tmp_path)
    as_of = datetime(2028, 2, 29, 12, tzinfo=UTC)
    start, february = datetime(2028, 1, 16, tzinfo=UTC), datetime(2028, 2, 1, tzinfo=UTC)
    hours = [start + timedelta(hours=h) for h in range(int((as_of - start) / timedelta(hours=1)))]
    served = [
        {"entity_id": "SERVICE-Q", "hour": at, "request_count": 100.0, "error_count": 1.0 if at >= february else 0.0}
        for at in hours
    ]
    metrics = get_dataset("dynatrace/service_metrics_hourly")
    lake.write_days(metrics, rows(metrics.id, *served))
    build(lake, settings, mode="full", as_of=as_of)
    with reading(lake, settings) as built:
        found = mart(built, "mv_slo_app_period", "app_id = 'quiet' and environment = 'production'")
    periods = {r["period"]: r for r in found}
    quarter, month, january = periods["quarter"], periods["month"], periods["previous_month"]
    assert (quarter["period_start"], quarter["period_end"]) == (datetime(2028, 1, 1, tzinfo=UTC), as_of)
    assert (quarter["measured_hours"], quarter["expected_hours"]) == (1_068, 1_428)
    assert quarter["coverage"] == pytest.approx(1_068 / 1_428)
    assert (quarter["availability_denominator"], quarter["bad_requests"]) == (106_800, 684)
    assert quarter["error_budget_allowed"] == pytest.approx(534)
    assert quarter["error_budget_consumed"] == pytest.approx(684 / 534)
    assert quarter["error_budget_remaining"] == pytest.approx((534 - 684) / 534)
    assert quarter["availability"] == pytest.approx(1 - 684 / 106_800)
    assert quarter["availability_status"] == "breached"
    assert (month["measured_hours"], month["expected_hours"], month["availability_denominator"]) == (684, 684, 68_400)
    assert month["error_budget_allowed"] == pytest.approx(342)
    assert (january["measured_hours"], january["expected_hours"], january["bad_requests"]) == (384, 744, 0)
    assert (january["error_budget_allowed"], january["availability_status"]) == (pytest.approx(192), "met")
    assert (periods["last_30d"]["measured_hours"], periods["last_30d"]["availability_denominator"]) == (720, 72_000)
    previous = periods["previous_quarter"]
    assert (previous["expected_hours"], previous["availability_status"]) == (2_208, "no data")
    assert (previous["error_budget_allowed"], previous["error_budget_remaining"]) == (None, None)


def test_a_range_that_has_not_begun_has_no_hours_to_divide_by(tmp_path: Path) -> None:
    """The estate built at 10:00 on 20 November, asked over the 21st: none of it has happened, so the report covers
    an empty period at its start. Its hours are none, as a named period's are before it begins (the month at its
    first hour): no expected hours and no coverage, rather than 0 hours and the 0 / 0 (NaN) coverage worked out from
    them; quiet had no traffic, shop none yet, and both are 'no data'."""
    lake, settings = estate_lake(tmp_path)
    build(lake, settings, mode="full", as_of=AS_OF)
    with TestClient(create_app(api_settings(tmp_path), settings, down_sources())) as client:
        response = client.get("/monitoring/kpis/slo?groupBy=app&from=2026-11-21&to=2026-11-22", headers=READER)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["period"]["start"], body["period"]["end"]) == ("2026-11-21T00:00:00Z", "2026-11-21T00:00:00Z")
    apps = {r["id"]: r for r in body["items"]}
    for app in ("shop", "quiet"):
        row = apps[app]
        assert (row["measuredHours"], row["expectedHours"], row["coverage"]) == (0, None, None)
        assert (row["latencyCoverage"], row["latencyP99Coverage"]) == (None, None)
        assert (row["availabilityStatus"], row["latencyP95Status"]) == ("no data", "no data")
