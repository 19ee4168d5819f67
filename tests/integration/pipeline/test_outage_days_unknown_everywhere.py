"""While ServiceNow is down, every answer that counts its incidents or changes over days leaves the days it could not
read unknown, never 0: the overview's trend and top risks, the risk ranking, the summary's open incidents and the
incident and change lists.

The set-up is the outage's (servicenow_outage.py): ServiceNow read from 14 November 00:00 (three days looked back)
to 17 November 00:00, then down; the mart's as-of is 19 November 23:00. What the lake holds of the simulator's
incidents, counted by hand from the estate (seed 5): those last updated before the 17th, INC0010003 (reporting, P2,
opened and restored on the 16th) and INC0010007 (claims, P3, opened on the 16th); INC0010001, of the 14th, was
updated on the 18th, and every other one opened from the 17th on."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from fastapi.testclient import TestClient

from functions.api.main import create_app
from tests.integration.api.conftest import api_settings, down_sources, get_json
from tests.integration.pipeline.servicenow_outage import OUTAGE_START, outage_estate, read_then_down
from tests.integration.pipeline.simulated import simulated_lake

UNREAD_DAYS = ("2026-11-17", "2026-11-18", "2026-11-19")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("outage")
    with pytest.MonkeyPatch.context() as monkeypatch:
        estate = outage_estate(monkeypatch)
        with simulated_lake(root, estate) as (_, settings, lake), pytest.MonkeyPatch.context() as outage:
            read_then_down(lake, settings, outage)
            with TestClient(create_app(api_settings(root), settings, down_sources())) as c:
                yield c


def test_the_overview_trend_leaves_the_days_servicenow_was_down_unknown(client: TestClient) -> None:
    trend = {d["day"]: d for d in get_json(client, "/monitoring/overview?period=last_7d")["trend"]}
    opened = {day: trend[day]["incidentsOpened"] for day in trend if day >= "2026-11-14"}
    assert opened == {
        "2026-11-14": 0,
        "2026-11-15": 0,
        "2026-11-16": 2,  # INC0010003 and INC0010007
        **dict.fromkeys(UNREAD_DAYS),
    }
    assert [trend[day]["changesImplemented"] for day in UNREAD_DAYS] == [None, None, None]


def test_an_incident_ranking_over_days_not_read_has_no_count(client: TestClient) -> None:
    down = get_json(client, "/monitoring/risk/top?metric=incidents&from=2026-11-17&to=2026-11-20")
    assert {r["appId"]: r["incidents"] for r in down["items"]} == {"claims": None, "reporting": None}
    # Over the last 7 days, the days read alone: one incident each, on the 16th.
    week = get_json(client, "/monitoring/risk/top?metric=incidents&period=last_7d")
    assert {r["appId"]: r["incidents"] for r in week["items"]} == {"claims": 1, "reporting": 1}


def test_the_top_risks_do_not_claim_no_open_p1_p2_incident_at_an_as_of_not_read(client: TestClient) -> None:
    for rows in (
        get_json(client, "/monitoring/risk/top")["items"],
        get_json(client, "/monitoring/overview")["topRisks"],
    ):
        assert {r["appId"]: r["openP1P2"] for r in rows} == {"claims": None, "reporting": None}
        # The 7 days to as-of were read on the 14th to the 16th: their incidents are counted.
        assert {r["appId"]: r["incidents"] for r in rows} == {"claims": 1, "reporting": 1}


def test_a_summary_does_not_claim_no_open_incident_while_servicenow_is_down(client: TestClient) -> None:
    for url in ("/monitoring/applications/reporting/summary", "/monitoring/components/reporting-sync/summary"):
        incidents = get_json(client, url)["incidents"]
        assert (incidents["open"], incidents["openP1P2"], incidents["slaBreached"]) == (None, None, None)
        assert datetime.fromisoformat(incidents["readUntil"]) == OUTAGE_START


def test_a_list_over_days_not_read_says_how_far_servicenow_was_read(client: TestClient) -> None:
    base = "/monitoring/applications/reporting"
    down = get_json(client, f"{base}/incidents?status=closed&from=2026-11-17")
    assert down["items"] == []
    assert datetime.fromisoformat(down["readUntil"]) == OUTAGE_START
    changes = get_json(client, f"{base}/changes?status=recent&from=2026-11-17")
    assert datetime.fromisoformat(changes["readUntil"]) == OUTAGE_START
    # A period read to its end lists what was read, and says nothing more.
    read = get_json(client, f"{base}/incidents?status=closed&from=2026-11-14&to=2026-11-17")
    assert [i["number"] for i in read["items"]] == ["INC0010003"]
    assert read["readUntil"] is None
