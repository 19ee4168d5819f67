"""Days the lake never read, as the API answers them: the incidents report's SLA breaches over the days task SLAs were
read, and a ranking by incidents over the days incidents were read. The lake is slas_read_late's
(tests/unit/aggregates/test_unread_days.py): incidents first read from the 16th at 06:00, task SLAs from the 17th at
06:00, quiet's INC9 (14th), INC11 (16th) and INC10 (18th) each with a breached task SLA, beside the estate's shop
incidents INC3 (10th), INC2 (18th) and INC1 (19th)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from functions.api.main import create_app
from tests.integration.api.conftest import api_settings, by_id, down_sources, estate_read_until, get_json
from tests.unit.aggregates.estate import t
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


@pytest.mark.parametrize(("read_until", "open_p1_p2"), [(t(20, 0, 30), None), (t(20, 9), 1)])
def test_the_top_risks_leave_the_open_p1_p2_unknown_when_incidents_were_read_more_than_an_hour_before(
    tmp_path: Path, read_until: datetime, open_p1_p2: int | None
) -> None:
    """The hand-made estate as of the 20th at 10:00, shop with INC2, a P1 opened on the 18th and open. Incidents read
    up to 00:30 on the 20th: 9 h 30 unread, though the 20th was read in part, and a P1 opened since would not be
    seen: shop's open P1/P2 in risk/top and the overview's top risks is unknown (null), where it said 1, as its
    reasons say. Read up to 09:00, an hour behind (an ingestion's ordinary lag): 1."""
    with estate_read_until(tmp_path, {"servicenow/incidents": read_until}) as api:
        for rows in (
            get_json(api, "/monitoring/risk/top")["items"],
            get_json(api, "/monitoring/overview")["topRisks"],
        ):
            (shop,) = [r for r in rows if r["appId"] == "shop"]
            assert shop["openP1P2"] == open_p1_p2


@pytest.mark.parametrize(("read_until", "said"), [(t(20, 0, 30), t(20, 0, 30)), (t(20, 9), None)])
def test_a_summary_and_the_lists_to_as_of_say_how_far_the_sources_were_read_when_more_than_an_hour_before(
    tmp_path: Path, read_until: datetime, said: datetime | None
) -> None:
    """The same estate and watermarks, for ServiceNow's incidents and changes and for the deployments. Read up to
    00:30 on the as-of day: shop's summary no longer counts INC2, the P1 open since the 18th, as the one incident
    open (a P1 opened in the 9 h 30 not read would not be seen): its counts are unknown (null) and it says how far
    ServiceNow was read, as risk/top does; the lists up to as-of (incidents open, changes recent, deployments) say
    it too, where each said nothing while the as-of's day had been read in part, and the incidents report's backlog
    at the end of the 7 days is unknown (it said 1). Read up to 09:00: INC2 open, 1 of them P1/P2, nothing said."""
    marks = {"servicenow/incidents": read_until, "servicenow/changes": read_until}
    with estate_read_until(tmp_path, marks | {"deploys/deployment_events": read_until}) as api:
        base = "/monitoring/applications/shop"
        incidents = get_json(api, f"{base}/summary")["incidents"]
        if said is None:
            assert (incidents["open"], incidents["openP1P2"], incidents["readUntil"]) == (1, 1, None)
        else:
            assert (incidents["open"], incidents["openP1P2"], incidents["slaBreached"]) == (None, None, None)
            assert datetime.fromisoformat(incidents["readUntil"]) == said
        for path in ("incidents?status=open", "changes?status=recent", "deployments"):
            listed = get_json(api, f"{base}/{path}")["readUntil"]
            assert (datetime.fromisoformat(listed) if listed else None) == said, path
        # The incidents report's backlog at the end of a period ending on the as-of's day is the same backlog.
        report = by_id(get_json(api, "/monitoring/kpis/incidents?period=last_7d"))["shop"]
        backlog = (report["openEndOfPeriod"], report["openP1P2EndOfPeriod"])
        assert backlog == ((None, None) if said else (1, 1))
