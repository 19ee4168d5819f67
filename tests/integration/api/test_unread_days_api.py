"""Days the lake never read, as the API answers them: the incidents report's SLA breaches over the days task SLAs were
read, and a ranking by incidents over the days incidents were read. The lake is slas_read_late's
(tests/unit/aggregates/test_unread_days.py): incidents first read from the 16th at 06:00, task SLAs from the 17th at
06:00, quiet's INC9 (14th), INC11 (16th) and INC10 (18th) each with a breached task SLA, beside the estate's shop
incidents INC3 (10th), INC2 (18th) and INC1 (19th)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from functions.api.main import create_app
from tests.integration.api.conftest import api_settings, by_id, down_sources, get_json
from tests.unit.aggregates.test_unread_days import slas_read_late


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("unread-days-api")
    _, settings = slas_read_late(root)
    with TestClient(create_app(api_settings(root), settings, down_sources())) as c:
        yield c


def test_the_incidents_report_counts_sla_breaches_over_the_days_task_slas_were_read(client: TestClient) -> None:
    """Over last_7d (the 13th to the 20th) quiet opened 2 incidents on the days incidents were read (INC11 on the
    16th, INC10 on the 18th), and its SLA breaches are summed over the 17th to the 20th: 1 (INC10), where the 16th's
    INC11 made it 2. On the 16th alone (from the 16th to the 17th) the incident is known (1 opened), its SLA breach
    unknown (null, where it said 1); so is team t2's (quiet and broken)."""
    week = by_id(get_json(client, "/monitoring/kpis/incidents?period=last_7d"))["quiet"]
    assert (week["opened"], week["slaBreaches"]) == (2, 1)
    day = "from=2026-11-16&to=2026-11-17"
    quiet = by_id(get_json(client, f"/monitoring/kpis/incidents?{day}"))["quiet"]
    assert (quiet["opened"], quiet["slaBreaches"]) == (1, None)
    team = by_id(get_json(client, f"/monitoring/kpis/incidents?groupBy=team&{day}"))["t2"]
    assert (team["opened"], team["slaBreaches"]) == (1, None)


def ranking(client: TestClient, query: str) -> list[tuple[str, int | None]]:
    items = get_json(client, f"/monitoring/risk/top?metric=incidents&{query}")["items"]
    return [(r["appId"], r["incidents"]) for r in items]


def test_a_ranking_by_incidents_counts_only_the_days_incidents_were_read(client: TestClient) -> None:
    """Over last_7d (the 13th to the 20th) incidents were read from the 16th: quiet opened 2 (INC11, INC10), where
    INC9 on the 14th made it 3; shop 2 (INC2, INC1), level with quiet and after it by id; broken none."""
    assert ranking(client, "period=last_7d") == [("quiet", 2), ("shop", 2), ("broken", 0)]


def test_a_ranking_by_incidents_over_days_never_read_is_unknown(client: TestClient) -> None:
    """From the 1st to the 14th no day was read: every application's incidents are unknown (null), ranked by id,
    where shop had 1 (INC3, on the 10th) and quiet 1 (INC9, on the 14th) ranked above broken's 0."""
    assert ranking(client, "from=2026-11-01&to=2026-11-15") == [("broken", None), ("quiet", None), ("shop", None)]
