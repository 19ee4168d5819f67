"""Reading a list page after page with limit and page.nextCursor, as Backstage and an analyst's script do: every item
once whatever the page size, and a cursor that cannot follow on (another list, another mapping, tampered) refused."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from functions.api.main import create_app
from lakehouse.aggregates.build import build
from lakehouse.mappings import MappingStore
from lakehouse.runlog import RunLog
from lakehouse.schemas import get_dataset
from tests.integration.api.conftest import (
    ADMIN,
    READER,
    api_settings,
    assert_cursor_refused_for_another_list,
    down_sources,
    get_json,
)
from tests.unit.aggregates.estate import AS_OF, CI_API, estate_lake, incident, mapping, rows, t

SHOP_INCIDENTS = "/monitoring/applications/shop/incidents?status=all"
# Two incidents of shop-api opened at the same second as INC1 (19 Nov 10:30): newest first, then by sys_id from the
# highest, INC4 (i4...), INC1 (i1...), INC5 (i0...); then INC2 (18 Nov) and INC3 (10 Nov).
SHOP_INCIDENTS_IN_ORDER = ["INC4", "INC1", "INC5", "INC2", "INC3"]
# The estate's three applications, each tied to a ServiceNow CI: a report by application has a row each, by id.
APPS_IN_ORDER = ["broken", "quiet", "shop"]


def cursor_of(*values: object) -> str:
    """A cursor written by hand: base64url JSON, as the API writes its own."""
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("paging")
    lake, settings = estate_lake(root)
    incidents = get_dataset("servicenow/incidents")
    lake.write_days(
        incidents,
        rows(
            incidents.id,
            incident("i4" * 16, "INC4", CI_API, t(19, 10, 30), 3, 2),
            incident("i0" * 16, "INC5", CI_API, t(19, 10, 30), 3, 2),
        ),
    )
    build(lake, settings, mode="full", as_of=AS_OF)
    runs = RunLog(lake)
    for hour in (9, 8, 7):
        runs.finish(runs.start("f", "gitlab", now=datetime(2026, 11, 20, hour, tzinfo=UTC)), "failed")
    with TestClient(create_app(api_settings(root), settings, down_sources()), raise_server_exceptions=False) as c:
        yield c


def read_all(client: TestClient, url: str, field: str) -> list[str]:
    """`field` of every item of every page, following page.nextCursor to the last page."""
    body = get_json(client, url)
    found = [item[field] for item in body["items"]]
    while cursor := body["page"]["nextCursor"]:
        body = get_json(client, f"{url}&cursor={cursor}")
        found += [item[field] for item in body["items"]]
    return found


@pytest.mark.parametrize("limit", [1, 2, 5, 500])
def test_every_incident_comes_once_whatever_the_page_size_even_opened_at_the_same_second(
    client: TestClient, limit: int
) -> None:
    assert read_all(client, f"{SHOP_INCIDENTS}&limit={limit}", "number") == SHOP_INCIDENTS_IN_ORDER


@pytest.mark.parametrize("report", ["slo", "dora", "incidents", "changes"])
@pytest.mark.parametrize("limit", [1, 3, 500])
def test_every_application_of_a_report_comes_once_whatever_the_page_size(
    client: TestClient, report: str, limit: int
) -> None:
    assert read_all(client, f"/monitoring/kpis/{report}?groupBy=app&limit={limit}", "id") == APPS_IN_ORDER


@pytest.mark.parametrize(
    ("first", "then"),
    [
        (SHOP_INCIDENTS, "/monitoring/applications/shop/incidents?status=closed"),
        (SHOP_INCIDENTS, f"{SHOP_INCIDENTS}&period=last_7d"),
        (SHOP_INCIDENTS, "/monitoring/components/shop-api/incidents?status=all"),
        (SHOP_INCIDENTS, "/monitoring/applications/shop/changes?status=all"),
        (SHOP_INCIDENTS, "/monitoring/applications/shop/deployments?mode=history"),
        ("/monitoring/kpis/incidents?groupBy=app", "/monitoring/kpis/changes?groupBy=app"),
        ("/monitoring/kpis/incidents?groupBy=app", "/monitoring/kpis/slo?groupBy=app"),
        ("/monitoring/kpis/incidents?groupBy=app", "/monitoring/kpis/incidents?groupBy=app&period=last_7d"),
        ("/monitoring/kpis/incidents?groupBy=app", "/monitoring/kpis/incidents?groupBy=app&domain=d1"),
        ("/monitoring/kpis/dora?groupBy=app", "/monitoring/kpis/dora?groupBy=app&mode=light"),
    ],
)
def test_a_cursor_given_with_another_list_is_a_422_naming_the_cursor(client: TestClient, first: str, then: str) -> None:
    """The first page of `first` read, its cursor sent with `then`'s parameters: that page would start after a row of
    another list (another status, period, scope or report), with nothing saying so."""
    assert_cursor_refused_for_another_list(client, first, then)


def test_the_next_page_with_the_same_parameters_written_otherwise_follows_on(client: TestClient) -> None:
    """The plugin sends its parameters in another order, and the default period named: the same list."""
    cursor = get_json(client, f"{SHOP_INCIDENTS}&limit=2")["page"]["nextCursor"]
    again = "/monitoring/applications/shop/incidents?limit=2&period=last_30d&status=all"
    body = get_json(client, f"{again}&cursor={cursor}")
    assert [i["number"] for i in body["items"]] == ["INC5", "INC2"]


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor",
        cursor_of("1", "1000"),  # a mapping page's cursor
        cursor_of("runs", "", "runs/day=2026-11-20/x.json"),  # a batch-runs cursor
        cursor_of("r", "1", "0123456789abcdef", "yesterday", "i1"),  # an incident's, its instant tampered
    ],
)
def test_a_cursor_this_route_never_gave_is_a_422_naming_the_cursor(client: TestClient, cursor: str) -> None:
    """Before, a mapping page's cursor on a report was a 409 saying a new build was served: the plugin started over
    twice, and an analyst was told to wait for nothing."""
    for route in (SHOP_INCIDENTS, "/monitoring/kpis/slo?groupBy=app"):
        refused = client.get(f"{route}&cursor={cursor}", headers=READER)
        assert refused.status_code == 422, (route, refused.text)
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["errors"][0]["parameter"] == "cursor"


def test_batch_runs_pages_follow_on_and_refuse_a_cursor_of_another_status_or_no_run(client: TestClient) -> None:
    """The three failed runs, of 20 Nov at 09:00, 08:00 and 07:00, one a page. A cursor naming no run record (["zzz"],
    which sorts after every key) read as the first page again; one of the failed runs, sent without the status, would
    mix the two lists."""
    failed = "/monitoring/admin/batch-runs?status=failed&limit=1"
    pages, cursor = [], None
    while True:
        r = client.get(failed + (f"&cursor={cursor}" if cursor else ""), headers=ADMIN)
        assert r.status_code == 200, r.text
        pages.append([run["startedAt"][11:16] for run in r.json()["items"]])
        if not (cursor := r.json()["page"]["nextCursor"]):
            break
        last = cursor
    assert pages == [["09:00"], ["08:00"], ["07:00"]]
    for given in (
        cursor_of("zzz"),
        cursor_of("runs", "", "zzz"),
        cursor_of("runs", "", "state/build/lease.json"),
        cursor_of("2026", "1", "runs/day=2026-11-20/x.json"),
    ):
        refused = client.get(f"/monitoring/admin/batch-runs?cursor={given}", headers=ADMIN)
        assert refused.status_code == 422, (given, refused.text)
        assert refused.json()["errors"][0]["parameter"] == "cursor"
    refused = client.get(f"/monitoring/admin/batch-runs?cursor={last}", headers=ADMIN)
    assert refused.status_code == 422, refused.text
    assert "another list" in refused.json()["detail"]


@pytest.mark.parametrize("limit", ["0", "-1", "501", "abc", "1.5", ""])
@pytest.mark.parametrize(
    "route", [SHOP_INCIDENTS, "/monitoring/kpis/slo?groupBy=app", "/monitoring/admin/batch-runs?status=succeeded"]
)
def test_a_limit_out_of_bounds_is_a_422_naming_the_limit(client: TestClient, route: str, limit: str) -> None:
    refused = client.get(f"{route}&limit={limit}", headers=ADMIN if "admin" in route else READER)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert [e["parameter"] for e in refused.json()["errors"]] == ["limit"]


def test_a_cursor_of_the_mapping_before_is_a_409_telling_to_start_again(tmp_path: Path) -> None:
    """Between two pages of the incidents report (same build), an admin unties quiet from its ServiceNow CI: quiet's
    incidents can no longer be found, and its row leaves the report. Read on after broken, the second page would be
    the new mapping's after the first page of the old one. Started again, the pages are the new mapping's: broken,
    shop."""
    lake, settings = estate_lake(tmp_path)
    build(lake, settings, mode="full", as_of=AS_OF)
    app = create_app(api_settings(tmp_path), settings, down_sources())
    with TestClient(app, raise_server_exceptions=False) as client:
        url = "/monitoring/kpis/incidents?groupBy=app&limit=1"
        first = get_json(client, url)
        assert [r["id"] for r in first["items"]] == ["broken"]
        quiet_svc = next(e for e in mapping() if e["entity_id"] == "quiet-svc")
        MappingStore(lake).apply([{k: v for k, v in quiet_svc.items() if k != "servicenow_ci_id"}], actor="alice")
        assert app.state.context.mart.refresh(force=True)
        refused = client.get(f"{url}&cursor={first['page']['nextCursor']}", headers=READER)
        assert refused.status_code == 409, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert "start again without it" in refused.json()["detail"]
        assert read_all(client, url, "id") == ["broken", "shop"]
