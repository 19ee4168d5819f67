"""The KPI reports say how many rows they have (page.total), whatever page of them is asked for.

The hand-made estate (tests/unit/aggregates/estate.py) maps three applications in production: shop (team t1, group
g1, domain d1), quiet (t2, g1, d1) and broken (t2, no group, d2). So every report has 3 application rows, 2 team rows
(t1, t2), 1 group row (g1) and 2 domain rows (d1, d2), incidents, changes or traffic aside.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from functions.api import main
from functions.api.auth import key_digest
from functions.api.main import create_app
from lakehouse.aggregates.build import build
from lakehouse.mappings import MappingStore
from tests.integration.api.conftest import READER_KEY, api_settings, down_sources, get_json
from tests.integration.api.test_lambda_and_inputs import CONTEXT, http_api_v2, lambda_handler  # noqa: F401
from tests.unit.aggregates.estate import AS_OF
from tests.unit.aggregates.estate import estate_lake as hand_made_lake

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


@pytest.fixture(scope="module")
def lab_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The hand-made estate and 'lab', an application of team t9 mapped in staging only (on its CI, so that the
    incidents and changes reports can count it)."""
    root = tmp_path_factory.mktemp("lab-estate")
    lake, settings = hand_made_lake(root)
    lab = {"entity_id": "lab", "kind": "application", "team": "t9", "environment": "staging", "cmdb_ci_name": "Lab"}
    MappingStore(lake).apply([lab], actor="test")
    build(lake, settings, mode="full", as_of=AS_OF)
    with TestClient(create_app(api_settings(root), settings, down_sources()), raise_server_exceptions=False) as c:
        yield c


@pytest.mark.parametrize("report", REPORTS)
def test_a_report_without_rows_says_none(lab_client: TestClient, report: str) -> None:
    """Team t9 has no application in production: no row, a total of 0; in staging, lab's row."""
    body = get_json(lab_client, f"{report}?team=t9")
    assert (body["items"], body["page"]["total"], body["page"]["nextCursor"]) == ([], 0, None)
    staging = get_json(lab_client, f"{report}?team=t9&environment=staging")
    assert ([r["id"] for r in staging["items"]], staging["page"]["total"]) == (["lab"], 1)


def test_the_total_through_api_gateway(lambda_handler: Any) -> None:  # noqa: F811
    """Backstage behind API Gateway: the incidents report by team, one a page, says there are 2 teams."""
    event = http_api_v2("/monitoring/kpis/incidents", "groupBy=team&limit=1", {"x-api-key": READER_KEY})
    answer = lambda_handler(event, CONTEXT)
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


# What Lambda may answer: 6 MB, the whole response (its JSON, body escaped in it) counted.
LAMBDA_ANSWER_BYTES = 6 * 1024 * 1024


@pytest.mark.parametrize("report", ["/monitoring/kpis/changes", "/monitoring/kpis/incidents"])
def test_a_year_of_a_day_report_comes_through_api_gateway_page_by_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, report: str
) -> None:
    """The hand-made estate with 600 more applications: 603 rows, each with its 364 days from 2025-11-21 to the
    build's as-of day (2026-11-19, as_of being the 20th at 10:00), some 12 kB a row in the heatmap and 29 kB in the
    change calendar. Asked for 500 rows a page, as the Backstage plugin asks, a page would be over what Lambda may
    answer, and API Gateway would give a 500 for it. Each page holds at most 40,000 days of rows, 109 of 364 days;
    the pages, followed by cursor, have the 603 rows."""
    lake, settings = hand_made_lake(tmp_path)
    more = [
        {"entity_id": f"app-{i:03d}", "kind": "application", "team": "t9", "cmdb_ci_name": f"app-{i:03d}"}
        for i in range(600)
    ]
    MappingStore(lake).apply(more, actor="test")
    build(lake, settings, mode="full", as_of=AS_OF)
    monkeypatch.setenv("ROSETTA_LAKE_URL", settings.lake_url)
    monkeypatch.setenv("ROSETTA_DUCKDB_TEMP_DIRECTORY", str(tmp_path / "duckdb"))
    monkeypatch.setenv("ROSETTA_API_LOCAL_DIR", str(tmp_path / "lambda"))
    monkeypatch.setenv("ROSETTA_API_API_KEYS", json.dumps([{"name": "backstage", "sha256": key_digest(READER_KEY)}]))
    monkeypatch.setattr(main, "_handler", None)
    query, rows, sizes = "from=2025-11-21&to=2026-11-20&limit=500", [], []
    while query:
        answer = main.handler(http_api_v2(report, query, {"x-api-key": READER_KEY}), CONTEXT)
        assert answer["statusCode"] == 200, answer["body"][:300]
        sizes.append(len(json.dumps(answer).encode()))
        assert sizes[-1] < LAMBDA_ANSWER_BYTES, sizes
        body = json.loads(answer["body"])
        assert {len(r["days"]) for r in body["items"]} == {364}
        assert body["page"]["limit"] == 109 and body["page"]["total"] == 603
        rows += [r["id"] for r in body["items"]]
        cursor = body["page"]["nextCursor"]
        query = f"from=2025-11-21&to=2026-11-20&limit=500&cursor={cursor}" if cursor else ""
    monkeypatch.setattr(main, "_handler", None)
    assert len(rows) == len(set(rows)) == 603 and len(sizes) == 6  # 5 pages of 109, then 58
