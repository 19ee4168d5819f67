"""A lake built from the hand-made estate (tests/unit/aggregates/estate.py), and the API over it."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from pydantic import SecretStr

from functions.api.auth import key_digest
from functions.api.main import create_app
from functions.api.settings import ApiKey, ApiSettings
from lakehouse.aggregates.build import build
from lakehouse.ingest.config import IngestSettings
from lakehouse.mappings import MappingStore
from lakehouse.runlog import Watermarks
from lakehouse.schemas import get_dataset
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.unit.aggregates import estate as hand_made
from tests.unit.aggregates.estate import AS_OF, rows, t, write, write_estate

READER_KEY = "reader-key-0123456789"
ADMIN_KEY = "admin-key-0123456789"
READER = {"X-API-Key": READER_KEY}
ADMIN = {"X-API-Key": ADMIN_KEY}
# The read routes, as Backstage calls them for the estate's shop application and its shop-api component.
READ_ROUTES = [
    "/monitoring/overview",
    "/monitoring/applications/shop/summary",
    "/monitoring/applications/shop/timeseries",
    "/monitoring/applications/shop/incidents",
    "/monitoring/applications/shop/changes",
    "/monitoring/applications/shop/deployments",
    "/monitoring/applications/shop/logs/link",
    "/monitoring/components/shop-api/summary",
    "/monitoring/components/shop-api/timeseries",
    "/monitoring/components/shop-api/incidents",
    "/monitoring/components/shop-api/changes",
    "/monitoring/components/shop-api/deployments",
    "/monitoring/components/shop-api/logs/link",
    "/monitoring/kpis/slo",
    "/monitoring/kpis/dora",
    "/monitoring/kpis/incidents",
    "/monitoring/kpis/changes",
    "/monitoring/risk/top",
]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def api_settings(root: Path) -> ApiSettings:
    return ApiSettings(
        api_keys=[
            ApiKey(name="backstage", sha256=key_digest(READER_KEY), roles=["reader"]),
            ApiKey(name="ops-admin", sha256=key_digest(ADMIN_KEY), roles=["admin"]),
        ],
        local_dir=root / "api",
        kibana_url="http://kibana.example.org:5601",
        kibana_data_views={"logs-shop-*": "0f8c7d2e-shop"},
        # Sources on loopback answer in milliseconds, yet on a loaded machine (tests side by side) five probes at once
        # took more than 0.5 s. Tests of the timeout itself set theirs.
        live_timeout_s=5.0,
        mart_check_interval_s=3600,
        cors_origins=["https://backstage.example.org"],
    )


def down_sources() -> IngestSettings:
    """Sources whose port nobody listens on: live mode must fall back, never fail."""
    port = closed_port()
    return IngestSettings(
        argocd_url=f"http://127.0.0.1:{port}",
        argocd_token=SecretStr("t"),
        gitlab_url=f"http://127.0.0.1:{port}",
        gitlab_token=SecretStr("t"),
    )


@pytest.fixture(scope="module")
def estate_lake(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Path]:
    root = tmp_path_factory.mktemp("api-estate")
    settings = Settings(lake_url=str(root / "lake"), duckdb_temp_directory=root / "duckdb")
    lake = Lake.from_settings(settings)
    write_estate(lake)
    # elisa pivots for the logs link (added to the hand-made mapping, as an admin would)
    from lakehouse.mappings import MappingStore

    MappingStore(lake).apply(
        [
            {
                "entity_id": "shop",
                "kind": "application",
                "team": "t1",
                "group": "g1",
                "domain": "d1",
                "elisa_index": "logs-shop-*",
                "kibana_query_template": 'labels.application:"{application}" and log.level:error',
            }
        ],
        actor="test",
    )
    # shop-api-prod as the ingestion read it: Synced and Healthy at 09:45, Degraded at 10:05 (after as_of).
    app_status = get_dataset("argocd/app_status")
    snapshots = [
        {"app_name": "shop-api-prod", "observed_at": t(20, 9, 45), "sync_status": "Synced", "health_status": "Healthy"}
        | {"operation_phase": "Succeeded"},
        {"app_name": "shop-api-prod", "observed_at": t(20, 10, 5), "sync_status": "Synced", "health_status": "Degraded"}
        | {"operation_phase": "Running"},
    ]
    lake.write_days(app_status, rows(app_status.id, *snapshots))
    build(lake, settings, mode="full", as_of=AS_OF)
    return settings, root


@pytest.fixture(scope="module")
def app(estate_lake: tuple[Settings, Path]) -> FastAPI:
    settings, root = estate_lake
    return create_app(api_settings(root), settings, down_sources())


@pytest.fixture(scope="module")
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@contextmanager
def api_built_as_of(root: Path, lake: Lake, settings: Settings) -> Iterator[TestClient]:
    """The API over the lake once built in full as of AS_OF; a server error is answered (a 500), not raised."""
    build(lake, settings, mode="full", as_of=AS_OF)
    with TestClient(create_app(api_settings(root), settings, down_sources()), raise_server_exceptions=False) as client:
        yield client


def get_json(client: TestClient, url: str) -> dict:
    """A read route's 200 answer, as a reader calls it."""
    response = client.get(url, headers=READER)
    assert response.status_code == 200, response.text
    return response.json()


def assert_cursor_refused_for_another_list(client: TestClient, first: str, then: str) -> None:
    """The first page of the list `first` (a route and its parameters) read, its cursor sent with `then`'s
    parameters: a 422 naming the cursor, since that page would start after a row of another list."""
    cursor = get_json(client, f"{first}&limit=1")["page"]["nextCursor"]
    assert cursor
    refused = client.get(f"{then}&limit=1&cursor={cursor}", headers=READER)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["errors"][0]["parameter"] == "cursor"
    assert "another list" in refused.json()["detail"]


def assert_parameter_refused(response: Response, parameter: str) -> None:
    """A 422 problem naming `parameter`, and it alone."""
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["parameter"] for e in response.json()["errors"]] == [parameter]


def by_id(body: dict) -> dict[str, dict]:
    """A report's rows by their id."""
    return {r["id"]: r for r in body["items"]}


def run_record_reads(monkeypatch: pytest.MonkeyPatch, client: TestClient) -> list[str]:
    """The run records the app reads from now on (a GET each on S3), in order: the list fills as it reads them."""
    return lake_reads(monkeypatch, client, "runs/")


def lake_reads(monkeypatch: pytest.MonkeyPatch, client: TestClient, prefix: str) -> list[str]:
    """The keys under `prefix` the app reads from now on (a GET each on S3), in order: the list fills as it reads
    them."""
    store = client.app.state.context.lake.store  # type: ignore[attr-defined]
    reads: list[str] = []
    get = store.get

    def counted(key: str) -> object:
        reads.extend([key] if key.startswith(prefix) else [])
        return get(key)

    monkeypatch.setattr(store, "get", counted)
    return reads


@contextmanager
def estate_read_until(root: Path, marks: dict[str, datetime]) -> Iterator[TestClient]:
    """The API over the hand-made estate built as of AS_OF, each dataset of `marks` read up to its instant (its
    watermark set as a run would leave it): a source down since then."""
    lake, settings = hand_made.estate_lake(root)
    watermarks = Watermarks(lake)
    for dataset_id, mark in marks.items():
        dataset = get_dataset(dataset_id)
        watermarks.advance(dataset.source, dataset.name, mark, run_id="by-hand")
    build(lake, settings, mode="full", as_of=AS_OF)
    with TestClient(create_app(api_settings(root), settings, down_sources())) as client:
        yield client


# DORA reports of the hand-made estate whose period runs to its as-of (the 20th at 10:00): named periods, the daily
# build's, and a range computed on request.
DORA_TO_AS_OF = [
    "groupBy=app&app=shop",  # the last 90 days
    "groupBy=app&app=shop&period=last_7d",
    "groupBy=team&team=t1&period=month",
    "groupBy=app&app=shop&from=2026-11-10",  # a range up to as-of
]


def with_shop_api_in_staging(lake: Lake, entries: list[dict[str, Any]]) -> None:
    """The mapping `entries` and shop's component shop-api mapped in staging too (SERVICE-S, 10 requests an hour on
    the 19th): the mapping's environments are production and staging, and shop is in staging by its component."""
    staging = {
        "entity_id": "shop-api",
        "kind": "component",
        "application_id": "shop",
        "environment": "staging",
        "dynatrace_entity_selector": 'entityId("SERVICE-S")',
    }
    MappingStore(lake).apply([*entries, staging], actor="test", replace=True)
    hours = [{"entity_id": "SERVICE-S", "hour": t(19, h), "request_count": 10.0, "error_count": 0.0} for h in range(24)]
    write(lake, "dynatrace/service_metrics_hourly", *hours)
