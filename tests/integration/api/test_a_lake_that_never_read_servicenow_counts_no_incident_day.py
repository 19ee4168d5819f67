"""A lake that has never read ServiceNow (Dynatrace connected first) knows nothing of its incidents. The summary
said so ("not read", counts null), but the top risks, the overview and the incidents report counted the as-of's own
day as read (the first read of a dataset never read was taken as the as-of): every application showed 0 open P1/P2
and 0 incidents over the week, and the as-of day 0 incidents opened, where nothing was read."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from functions.api.main import create_app
from tests.integration.api.conftest import READER, api_settings, down_sources
from tests.unit.aggregates.test_unread_days import signals_alone


def test_incident_counts_are_unknown_on_every_route_not_0(tmp_path: Path) -> None:
    _, settings = signals_alone(tmp_path)  # the hand-made estate's signals alone, as of 20 Nov 10:00
    with TestClient(create_app(api_settings(tmp_path), settings, down_sources())) as client:

        def get(url: str) -> dict:
            response = client.get(url, headers=READER)
            assert response.status_code == 200, response.text
            body: dict = response.json()
            return body

        summary = get("/monitoring/applications/shop/summary")
        assert (summary["incidents"]["state"], summary["incidents"]["openP1P2"]) == ("not read", None)
        risks = get("/monitoring/risk/top")["items"]
        assert {(r["appId"], r["openP1P2"], r["incidents"]) for r in risks} == {
            ("shop", None, None),
            ("broken", None, None),
            ("quiet", None, None),
        }
        assert all("incidents unknown: ServiceNow not read yet" in r["reasons"] for r in risks)
        by_incidents = get("/monitoring/risk/top?metric=incidents&period=last_7d")["items"]
        # Unknown everywhere: ranked by id.
        assert [(r["appId"], r["incidents"]) for r in by_incidents] == [
            ("broken", None),
            ("quiet", None),
            ("shop", None),
        ]
        overview = get("/monitoring/overview?period=last_7d")
        assert {(r["openP1P2"], r["incidents"]) for r in overview["topRisks"]} == {(None, None)}
        assert {d["incidentsOpened"] for d in overview["trend"]} == {None}
        (shop,) = get("/monitoring/kpis/incidents?groupBy=app&app=shop&period=last_7d")["items"]
        assert (shop["opened"], shop["openEndOfPeriod"], shop["restored"]) == (None, None, None)
        assert [d["opened"] for d in shop["days"]] == [None] * 8  # 13 to 20 Nov
