"""What a caller sees when a new build lands while the API serves the one before."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from functions.api import deps
from functions.api.main import create_app
from functions.api.mart import ServingMart, Snapshot
from lakehouse.aggregates.build import build
from lakehouse.schemas import get_dataset
from tests.integration.api.conftest import READER, api_settings, down_sources, get_json
from tests.unit.aggregates.estate import AS_OF, estate_lake, rows, t

SUMMARY = "/monitoring/applications/shop/summary"
INCIDENTS = "/monitoring/applications/shop/incidents?status=all&limit=1"


def test_an_answer_and_its_etag_are_of_the_copy_the_request_took(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The next build is swapped in just after a request took its copy: the answer, its freshness and its ETag are
    all of the copy it took. An ETag of one build on the body of the next would let a cache revalidate that body as
    the previous build's."""
    lake, settings = estate_lake(tmp_path)
    first_run = build(lake, settings, mode="full", as_of=AS_OF).run_id
    app = create_app(api_settings(tmp_path), settings, down_sources())
    serving: ServingMart = app.state.context.mart
    with TestClient(app, raise_server_exceptions=False) as client:
        taken = serving.snapshot()
        build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=1))
        in_service = ServingMart.in_service

        def then_swapped(self: ServingMart) -> Snapshot | None:
            current = in_service(self)
            monkeypatch.setattr(ServingMart, "in_service", in_service)
            assert self.refresh(force=True)  # the new build lands now
            return current

        # The request takes the copy in service (deps.get_snapshot).
        monkeypatch.setattr(ServingMart, "in_service", then_swapped)
        answer = client.get(SUMMARY, headers=READER)
        assert answer.status_code == 200, answer.text
        assert serving.snapshot() is not taken  # the new copy serves the requests that follow
        assert answer.json()["freshness"]["buildRunId"] == first_run
        assert answer.headers["etag"] == deps.copy_etag(taken)


def test_a_page_cursor_of_the_build_before_is_refused_rather_than_read_in_the_next(tmp_path: Path) -> None:
    """Backstage follows page.nextCursor to read a list whole. A build landing between two pages would give the
    second page from other rows (an incident closed or reopened since moves between pages: counted twice or never),
    with nothing saying so: the cursor names its build, and one of another build is a 409 telling to start again."""
    lake, settings = estate_lake(tmp_path)
    build(lake, settings, mode="full", as_of=AS_OF)
    app = create_app(api_settings(tmp_path), settings, down_sources())
    with TestClient(app, raise_server_exceptions=False) as client:
        first = get_json(client, INCIDENTS)
        cursor = first["page"]["nextCursor"]
        # Within one build the pages follow on: INC1, then INC2 (test_endpoints.test_incidents_and_pagination).
        assert get_json(client, f"{INCIDENTS}&cursor={cursor}")["items"][0]["number"] == "INC2"
        report = get_json(client, "/monitoring/kpis/incidents?limit=1")
        report_cursor = report["page"]["nextCursor"]
        assert report_cursor is not None
        build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=1))
        assert app.state.context.mart.refresh(force=True)
        for stale in (f"{INCIDENTS}&cursor={cursor}", f"/monitoring/kpis/incidents?limit=1&cursor={report_cursor}"):
            refused = client.get(stale, headers=READER)
            assert refused.status_code == 409, (stale, refused.text)
            assert refused.headers["content-type"] == "application/problem+json"
            assert refused.headers["cache-control"] == "no-store"
            assert "start again without it" in refused.json()["detail"]
        # Started again, the pages are the new build's.
        again = get_json(client, INCIDENTS)
        assert again["freshness"]["buildRunId"] != first["freshness"]["buildRunId"]
        assert get_json(client, f"{INCIDENTS}&cursor={again['page']['nextCursor']}")["items"][0]["number"] == "INC2"


def test_a_copy_of_a_local_lake_keeps_reading_its_own_build(tmp_path: Path) -> None:
    """A local lake (the default of a local run) is read in place, and a build replaces its objects: until the next
    copy is loaded, the copy serving must answer the build it names in its freshness, not rows of the next one."""
    lake, settings = estate_lake(tmp_path)
    first_run = build(lake, settings, mode="full", as_of=AS_OF)
    route = "/monitoring/applications/shop/timeseries?metric=requests&period=last_7d"
    app = create_app(api_settings(tmp_path), settings, down_sources())
    with TestClient(app, raise_server_exceptions=False) as client:
        before = get_json(client, route)
        by_hour = {p["t"]: p["v"] for p in before["points"]}
        # 18 Nov 05:00 holds no hour of shop yet: the estate's metrics are of the 19th.
        assert "2026-11-18T05:00:00Z" not in by_hour
        # The next build reads an hour more of SERVICE-A (shop-api): 7,000 requests on 18 Nov at 05:00.
        metrics = get_dataset("dynatrace/service_metrics_hourly")
        extra = {"entity_id": "SERVICE-A", "hour": t(18, 5), "request_count": 7000.0, "error_count": 0.0}
        lake.write_days(metrics, rows(metrics.id, extra))
        build(lake, settings, mode="full", as_of=AS_OF)
        during = get_json(client, route)  # the copy of the first build still serves
        assert during["freshness"]["buildRunId"] == first_run.run_id
        assert during["points"] == before["points"]
        assert app.state.context.mart.refresh(force=True)
        after = {p["t"]: p["v"] for p in get_json(client, route)["points"]}
        assert after["2026-11-18T05:00:00Z"] == 7000.0


def test_before_the_first_build_a_route_says_when_to_ask_again(tmp_path: Path) -> None:
    """No build yet: every read route is a 503 problem, never stored, whose Retry-After is the wait until the API
    looks for a build again (api_settings looks once an hour: 3,600 s); asked sooner, it would answer the same."""
    _, settings = estate_lake(tmp_path)  # the sources are read, nothing is built
    app = create_app(api_settings(tmp_path), settings, down_sources())
    with TestClient(app, raise_server_exceptions=False) as client:
        for route in (SUMMARY, INCIDENTS, "/monitoring/kpis/slo"):
            answer = client.get(route, headers=READER)
            assert (answer.status_code, answer.json()["title"]) == (503, "No data yet"), route
            assert answer.headers["content-type"] == "application/problem+json"
            assert answer.headers["cache-control"] == "no-store" and "etag" not in answer.headers
            assert answer.headers["retry-after"] == "3600", route
