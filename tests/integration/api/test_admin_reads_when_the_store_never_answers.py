"""The admin routes, which read the lake itself, over a store that takes every connection and never answers (a proxy
on loopback in front of the embedded server): each answers 503 problem+json with Retry-After within the time a route
waits, under API Gateway's 29 s, not after botocore's tries of a minute each."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from functions.api import mart as mart_module
from functions.api.main import create_app
from lakehouse.runlog import RunLog
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.integration.api.conftest import ADMIN, api_settings, down_sources
from tests.integration.store_faults import HANG, FaultyStore, every_request
from tests.unit.aggregates.estate import write_estate

pytestmark = pytest.mark.s3

# The time a route waits (mart.LOAD_WAIT_S), shortened here from 25 s; the store's timeouts, shortened too.
ROUTE_WAIT_S = 6.0
CONNECT_TIMEOUT_S, READ_TIMEOUT_S = 1.0, 2.0
# The least the store's own timeouts take on a held read: six tries (botocore's five retries) of the read timeout.
TRIES_S = 6 * READ_TIMEOUT_S


def behind_the_proxy(faulty_s3: FaultyStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """A lake of its own in the store behind the proxy, with the short timeouts and route wait above."""
    monkeypatch.setattr(mart_module, "LOAD_WAIT_S", ROUTE_WAIT_S)
    return faulty_s3.endpoint.settings(
        f"t-{uuid.uuid4().hex[:12]}",
        duckdb_temp_directory=tmp_path / "duckdb",
        s3_connect_timeout_s=CONNECT_TIMEOUT_S,
        s3_read_timeout_s=READ_TIMEOUT_S,
    )


@pytest.mark.parametrize(
    "url", ["/monitoring/admin/mappings", "/monitoring/admin/batch-runs", "/monitoring/admin/config/sources"]
)
def test_an_admin_read_of_a_store_that_never_answers_answers_503_within_the_route_wait(
    faulty_s3: FaultyStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    """Every request to the store is held. The route answers 503 "Data unavailable" with Retry-After 30 s before the
    route's wait and a connect timeout more are over (its calls start no try past the wait), well before its six tries
    would end, and names neither the store's address nor its keys."""
    settings = behind_the_proxy(faulty_s3, tmp_path, monkeypatch)
    write_estate(Lake.from_settings(settings))
    app = create_app(api_settings(tmp_path), settings, down_sources())
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get(url, headers=ADMIN).status_code == 200
        faulty_s3.fail(every_request, HANG)
        started = time.monotonic()
        answer = client.get(url, headers=ADMIN)
        took = time.monotonic() - started
    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["retry-after"] == "30"
    assert answer.json()["title"] == "Data unavailable"
    assert took < ROUTE_WAIT_S + CONNECT_TIMEOUT_S < TRIES_S
    assert "127.0.0.1" not in answer.text and faulty_s3.endpoint.access_key_id not in answer.text


def test_run_records_read_side_by_side_end_within_the_route_wait(
    faulty_s3: FaultyStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store lists the run log but holds every run record's GET. batch-runs reads the records of a page side by
    side in a pool, whose threads did not see the request's deadline: each read waited out its six tries, 12 s here
    (120 s with the defaults, past API Gateway's 29 s). They now end with the route's wait: a 503 in time."""
    settings = behind_the_proxy(faulty_s3, tmp_path, monkeypatch)
    lake = Lake.from_settings(settings)
    write_estate(lake)
    runs = RunLog(lake)
    for _ in range(3):
        runs.finish(runs.start("ingest_deploys", "gitlab", "gitlab/deployments"), "succeeded")
    app = create_app(api_settings(tmp_path), settings, down_sources())
    with TestClient(app, raise_server_exceptions=False) as client:
        assert len(client.get("/monitoring/admin/batch-runs", headers=ADMIN).json()["items"]) == 3
        faulty_s3.fail(lambda r: r.method == "GET" and "/runs/" in r.path, HANG)
        started = time.monotonic()
        answer = client.get("/monitoring/admin/batch-runs", headers=ADMIN)
        took = time.monotonic() - started
    assert answer.status_code == 503, answer.text
    assert answer.json()["title"] == "Data unavailable"
    assert took < ROUTE_WAIT_S + CONNECT_TIMEOUT_S < TRIES_S
