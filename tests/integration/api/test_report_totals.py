"""The KPI reports say how many rows they have (page.total), whatever page of them is asked for.

The hand-made estate (tests/unit/aggregates/estate.py) maps three applications in production: shop (team t1, group
g1, domain d1), quiet (t2, g1, d1) and broken (t2, no group, d2). So every report has 3 application rows, 2 team rows
(t1, t2), 1 group row (g1) and 2 domain rows (d1, d2), incidents, changes or traffic aside.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.integration.api.conftest import READER_KEY, get_json
from tests.integration.api.test_lambda_and_inputs import Context, http_api_v2, lambda_handler  # noqa: F401

REPORTS = ["/monitoring/kpis/slo", "/monitoring/kpis/dora", "/monitoring/kpis/incidents", "/monitoring/kpis/changes"]
ROWS = {"app": 3, "team": 2, "group": 1, "domain": 2}
# A named period (each report's default) and a from/to range: the SLO and DORA reports compute a range themselves.
WHEN = ["", "from=2026-11-18&to=2026-11-20&"]


@pytest.mark.parametrize("when", WHEN)
@pytest.mark.parametrize("group_by", list(ROWS))
@pytest.mark.parametrize("report", REPORTS)
def test_every_page_says_how_many_rows_the_report_has(
    client: TestClient, report: str, group_by: str, when: str
) -> None:
    """Read one row a page: each page says the report's total, and there are that many pages."""
    url = f"{report}?{when}groupBy={group_by}&limit=1"
    pages = [get_json(client, url)]
    while cursor := pages[-1]["page"]["nextCursor"]:
        pages.append(get_json(client, f"{url}&cursor={cursor}"))
    assert [p["page"]["total"] for p in pages] == [ROWS[group_by]] * ROWS[group_by]
    assert sum(len(p["items"]) for p in pages) == ROWS[group_by]


@pytest.mark.parametrize("report", REPORTS)
def test_a_report_without_rows_says_none(client: TestClient, report: str) -> None:
    """Nothing is mapped in staging: no row, a total of 0."""
    body = get_json(client, f"{report}?environment=staging")
    assert (body["items"], body["page"]["total"], body["page"]["nextCursor"]) == ([], 0, None)


def test_the_total_through_api_gateway(lambda_handler: Any) -> None:  # noqa: F811
    """Backstage behind API Gateway: the incidents report by team, one a page, says there are 2 teams."""
    event = http_api_v2("/monitoring/kpis/incidents", "groupBy=team&limit=1", {"x-api-key": READER_KEY})
    answer = lambda_handler(event, Context())
    assert answer["statusCode"] == 200, answer["body"][:300]
    body = json.loads(answer["body"])
    assert [r["id"] for r in body["items"]] == ["t1"]
    assert body["page"]["total"] == 2 and body["page"]["nextCursor"]


@pytest.mark.parametrize("when", ["period=previous_month", "from=2026-10-01&to=2026-11-01"])
@pytest.mark.parametrize("group_by", list(ROWS))
def test_an_slo_range_before_the_data_held_lists_the_estate_with_no_data(
    client: TestClient, group_by: str, when: str
) -> None:
    """October is before the estate's first day (the 1st of November): no day row lies in it. The range
    2026-10-01 to 2026-11-01 is previous_month, and gives what it gives: every application and rollup, with no data
    over its 31 x 24 = 744 hours (an application's expected hours; a rollup's count only its applications with
    traffic, none)."""
    body = get_json(client, f"/monitoring/kpis/slo?{when}&groupBy={group_by}")
    assert body["page"]["total"] == ROWS[group_by]
    assert {r["availabilityStatus"] for r in body["items"]} == {"no data"}
    assert {r["measuredHours"] for r in body["items"]} == {0}
    if group_by == "app":
        assert {r["id"]: (r["expectedHours"], r["coverage"]) for r in body["items"]} == {
            "broken": (744, 0),
            "quiet": (744, 0),
            "shop": (744, 0),
        }
