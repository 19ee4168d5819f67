"""Reading the risk ranking (`/monitoring/risk/top`) page after page with limit and page.nextCursor, as the other
reports are read: whatever the metric and the page size, the pages put together are the ranking read in one page,
each row once, in the ranking's order; a cursor of another ranking (metric, period, environment, filter) is a 422,
and one of the build before is a 409 telling to start again."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from functions.api.main import create_app
from lakehouse.aggregates.build import build
from lakehouse.mappings import MappingStore
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.integration.api.conftest import (
    READER,
    api_settings,
    assert_cursor_refused_for_another_list,
    down_sources,
    get_json,
)
from tests.unit.aggregates.estate import AS_OF, estate_lake, incident, mapping, t, write

MOST = 100  # the most rows risk/top gives in one page
# Nine applications beside the hand-made estate's three: r01 to r09, each with a service seen by Dynatrace and a
# ServiceNow CI, in production and in staging (a service of its own there).
MORE = [f"r{n:02d}" for n in range(1, 10)]
ENVIRONMENTS = {"production": "", "staging": "-S"}  # each environment's suffix of the service's entity id


def ci_of(app: str, environment: str) -> str:
    return f"{app}{environment}".encode().hex()[:32].ljust(32, "0")


def service_of(app: str, environment: str) -> str:
    return f"SERVICE-{app.upper()}{ENVIRONMENTS[environment]}"


def more_entries() -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    for environment in ENVIRONMENTS:
        for n, app in enumerate(MORE):
            scope = {"team": f"t{n % 2 + 1}", "group": "g1", "domain": "d1", "environment": environment}
            entries.append({"entity_id": app, "kind": "application"} | scope)
            entries.append(
                {
                    "entity_id": f"{app}-svc",
                    "kind": "component",
                    "application_id": app,
                    "environment": environment,
                    "dynatrace_entity_selector": f'entityId("{service_of(app, environment)}")',
                    "servicenow_ci_id": ci_of(app, environment),
                }
            )
    return entries


def more_signals() -> list[dict[str, Any]]:
    """A day of traffic on the 19th, and the hour before as-of: their errors repeat every third application, so that
    rankings tie and their order falls back on the application's id, across pages too."""
    signals = []
    hours = [t(19, hour) for hour in range(24)] + [AS_OF - timedelta(hours=1)]
    for environment in ENVIRONMENTS:
        for n, app in enumerate(MORE):
            errors = float(n % 3)
            for at in hours:
                signals.append(
                    {"entity_id": service_of(app, environment), "hour": at, "request_count": 1000.0}
                    | {"error_count": errors}
                )
    return signals


def more_incidents() -> list[dict[str, Any]]:
    """One incident of the 19th for every other application, P1 and still open for r01: counted by metric=incidents
    and in the risk score."""
    return [
        incident(f"{app}{'0' * 29}", f"INC{app}", ci_of(app, "production"), t(19, 9), 1 if app == "r01" else 3, 2)
        for app in MORE[::2]
    ]


def bigger_estate(root: Path) -> tuple[Lake, Settings]:
    lake, settings = estate_lake(root)
    MappingStore(lake).apply([*mapping(), *more_entries()], actor="test", replace=True)
    write(lake, "dynatrace/service_metrics_hourly", *more_signals())
    write(lake, "servicenow/incidents", *more_incidents())
    build(lake, settings, mode="full", as_of=AS_OF)
    return lake, settings


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("risk-pages")
    _, settings = bigger_estate(root)
    with TestClient(create_app(api_settings(root), settings, down_sources()), raise_server_exceptions=False) as c:
        yield c


def production_applications() -> list[str]:
    """The applications of the mapping in production, where an entry naming no environment is."""
    entries = [e for e in [*mapping(), *more_entries()] if e.get("environment", "production") == "production"]
    return [e["entity_id"] for e in entries if e["kind"] == "application"]


def read_all(client: TestClient, url: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every row of every page, following page.nextCursor to the last page, and each page's `page`."""
    body = get_json(client, url)
    found, pages = list(body["items"]), [body["page"]]
    while cursor := body["page"]["nextCursor"]:
        body = get_json(client, f"{url}&cursor={cursor}")
        found += body["items"]
        pages.append(body["page"])
    return found, pages


RANKINGS = [
    "metric=risk",
    "metric=burn_rate",
    "metric=error_rate&period=last_30d&minRequests=0",
    "metric=incidents&period=last_30d",
    "metric=risk&team=t1",
    "metric=error_rate&period=last_30d&minRequests=0&environment=staging",
]


@pytest.mark.parametrize("limit", [1, 4])
@pytest.mark.parametrize("ranking", RANKINGS)
def test_the_pages_put_together_are_the_ranking_in_one_page(client: TestClient, ranking: str, limit: int) -> None:
    whole = get_json(client, f"/monitoring/risk/top?{ranking}&limit={MOST}")
    assert whole["page"]["nextCursor"] is None
    found, pages = read_all(client, f"/monitoring/risk/top?{ranking}&limit={limit}")
    assert found == whole["items"]
    assert len(found) > limit  # read over more than one page
    assert len(pages) == -(-len(found) // limit)  # each page full but the last
    assert {page["total"] for page in pages} == {len(found)} and whole["page"]["total"] == len(found)


def test_the_risk_ranks_follow_on_from_page_to_page_over_every_production_application(client: TestClient) -> None:
    found, _ = read_all(client, "/monitoring/risk/top?metric=risk&limit=5")
    assert sorted(r["appId"] for r in found) == sorted(production_applications())
    assert [r["rank"] for r in found] == list(range(1, len(production_applications()) + 1))


@pytest.mark.parametrize(
    ("first", "then"),
    [
        ("metric=risk", "metric=burn_rate"),
        ("metric=error_rate&period=last_30d&minRequests=0", "metric=incidents&period=last_30d"),
        ("metric=error_rate&period=last_30d&minRequests=0", "metric=error_rate&period=last_7d&minRequests=0"),
        ("metric=incidents&period=last_30d", "metric=incidents&period=last_30d&environment=staging"),
        ("metric=incidents&period=last_30d", "metric=incidents&from=2026-10-21&to=2026-11-20"),
        ("metric=error_rate&period=last_30d&minRequests=0", "metric=error_rate&period=last_30d&minRequests=1"),
        ("metric=risk", "metric=risk&team=t1"),
    ],
)
def test_a_cursor_of_another_ranking_is_a_422_naming_the_cursor(client: TestClient, first: str, then: str) -> None:
    assert_cursor_refused_for_another_list(client, f"/monitoring/risk/top?{first}", f"/monitoring/risk/top?{then}")


def test_a_cursor_of_the_build_before_is_a_409_telling_to_start_again(tmp_path: Path) -> None:
    lake, settings = bigger_estate(tmp_path)
    app = create_app(api_settings(tmp_path), settings, down_sources())
    rankings = ["metric=risk", "metric=burn_rate", "metric=incidents&period=last_30d"]
    with TestClient(app, raise_server_exceptions=False) as client:
        cursors = {r: get_json(client, f"/monitoring/risk/top?{r}&limit=2")["page"]["nextCursor"] for r in rankings}
        build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=1))
        assert app.state.context.mart.refresh(force=True)
        for ranking, cursor in cursors.items():
            refused = client.get(f"/monitoring/risk/top?{ranking}&limit=2&cursor={cursor}", headers=READER)
            assert refused.status_code == 409, (ranking, refused.text)
            assert refused.headers["content-type"] == "application/problem+json"
            assert "start again without it" in refused.json()["detail"]


@pytest.mark.parametrize("place", [0, -5, 10**40])
@pytest.mark.parametrize("ranking", ["metric=risk", "metric=incidents&period=last_30d"])
def test_a_cursor_whose_place_was_written_by_hand_is_a_422(client: TestClient, ranking: str, place: int) -> None:
    """A cursor of this ranking with its last row's place replaced: 0 or less would read as the first page again,
    a number past 128 bits failed in DuckDB (a 500)."""
    given = get_json(client, f"/monitoring/risk/top?{ranking}&limit=2")["page"]["nextCursor"]
    values = json.loads(base64.urlsafe_b64decode(given + "=" * (-len(given) % 4)))
    written = json.dumps([*values[:-1], place], separators=(",", ":")).encode()
    cursor = base64.urlsafe_b64encode(written).decode().rstrip("=")
    refused = client.get(f"/monitoring/risk/top?{ranking}&limit=2&cursor={cursor}", headers=READER)
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["parameter"] == "cursor"
