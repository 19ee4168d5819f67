"""A build stopped after it put its tables and before its state leaves other objects under the same build's state;
the copy loaded from them (another ETag, same buildRunId) ranks other rows. A cursor of the copy before named only
the build and the mapping version, which still matched: its next page was read in the new copy, so rows came twice
or never. It is the 409 a cursor of another build gets: start again without it."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from functions.api.main import create_app
from functions.api.mart import ServingMart
from lakehouse.aggregates.build import build
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.integration.api.conftest import READER, api_settings, down_sources, get_json
from tests.integration.api.test_a_build_stopped_while_it_put_its_tables import full_build_stopped_before_its_state
from tests.unit.aggregates.estate import AS_OF, CI_Q, incident, t, write, write_estate

RANKING = "/monitoring/risk/top?metric=incidents&limit=1"


def quiet_incidents() -> list[dict]:
    """Five P3 incidents on quiet's CI, opened on the 19th and still open."""
    return [incident(f"q{n}" * 16, f"INCQ{n}", CI_Q, t(19, 8 + n), 3, 2) for n in range(5)]


def test_a_cursor_of_the_copy_before_a_reload_under_the_same_build_is_a_409(
    local_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """By hand, over the last 7 days: shop has INC1 and INC2 (its database's), broken and quiet none, so page 1 is
    shop (2) of 3 applications, broken and quiet (0) after it by id. Quiet gets 5 incidents; a build puts its tables
    and is stopped before its state; the copy is reloaded from the objects there, still under the first build. The
    first page's cursor is then refused with a 409 (followed, it read shop again and never quiet), and the ranking
    read again starts with quiet (5), then shop."""
    lake = Lake.from_settings(local_settings)
    write_estate(lake)
    first_run = build(lake, local_settings, mode="full", as_of=AS_OF).run_id
    app = create_app(api_settings(tmp_path), local_settings, down_sources())
    serving: ServingMart = app.state.context.mart
    with TestClient(app, raise_server_exceptions=False) as client:
        first = client.get(RANKING, headers=READER)
        assert first.status_code == 200, first.text
        page = first.json()
        assert [(r["appId"], r["incidents"]) for r in page["items"]] == [("shop", 2)]
        assert page["page"]["total"] == 3
        cursor = page["page"]["nextCursor"]

        write(lake, "servicenow/incidents", *quiet_incidents())
        full_build_stopped_before_its_state(lake, local_settings, monkeypatch)
        assert serving.refresh(force=True, replaced=True)

        refused = client.get(f"{RANKING}&cursor={cursor}", headers=READER)
        assert refused.status_code == 409, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert "start again without it" in refused.json()["detail"]

        again = client.get(RANKING, headers=READER)
        assert again.headers["etag"] != first.headers["etag"]
        assert again.json()["freshness"]["buildRunId"] == first_run
        assert [(r["appId"], r["incidents"]) for r in again.json()["items"]] == [("quiet", 5)]
        assert get_json(client, f"{RANKING}&cursor={again.json()['page']['nextCursor']}")["items"][0]["appId"] == "shop"
