"""The API over an S3 lake whose store fails (a proxy on loopback in front of the embedded server): it answers 503
problem+json with Retry-After within its budget, never a 500 nor a wait of minutes, and recovers by itself."""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from functions.api import mart as mart_module
from functions.api.main import create_app
from lakehouse.aggregates.build import build
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.integration.api.conftest import ADMIN, READER, api_settings, down_sources
from tests.integration.store_faults import HANG, RESET, FaultyStore, every_request
from tests.unit.aggregates.estate import AS_OF, write_estate

pytestmark = pytest.mark.s3

SUMMARY = "/monitoring/applications/shop/summary"


@pytest.fixture
def built(faulty_s3: FaultyStore, tmp_path: Path) -> Settings:
    """The hand-made estate on S3, built once."""
    settings = faulty_s3.endpoint.settings(f"t-{uuid.uuid4().hex[:12]}", duckdb_temp_directory=tmp_path / "duckdb")
    lake = Lake.from_settings(settings)
    write_estate(lake)
    build(lake, settings, mode="full", as_of=AS_OF)
    return settings


@pytest.mark.usefixtures("one_retry")
def test_admin_reads_answer_503_while_the_store_resets_and_200_once_it_is_back(
    faulty_s3: FaultyStore, built: Settings, tmp_path: Path
) -> None:
    """The API has served once; then every connection to the store is reset. The summary still answers from the
    copy; the admin reads, which read the lake itself, answer 503 problem+json asking to retry in 30 s, saying nothing
    of the store's address or keys; once the store answers again they answer 200."""
    app = create_app(api_settings(tmp_path), built, down_sources())
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get(SUMMARY, headers=READER).status_code == 200
        faulty_s3.fail(every_request, RESET)
        assert client.get(SUMMARY, headers=READER).status_code == 200
        for url in ("/monitoring/admin/batch-runs", "/monitoring/admin/config/sources", "/monitoring/admin/mappings"):
            answer = client.get(url, headers=ADMIN)
            assert answer.status_code == 503, (url, answer.text)
            assert answer.headers["content-type"] == "application/problem+json"
            assert answer.headers["retry-after"] == "30"
            assert answer.json()["title"] == "Data unavailable"
            assert "127.0.0.1" not in answer.text and faulty_s3.endpoint.access_key_id not in answer.text
        faulty_s3.clear()
        assert client.get("/monitoring/admin/batch-runs", headers=ADMIN).status_code == 200


def test_a_cold_start_on_a_store_that_never_answers_says_to_retry_within_the_budget(
    faulty_s3: FaultyStore, built: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new instance starts while the store takes connections and never answers (each try waits the read timeout,
    20 s, and is retried five times). The first request answers 503 "still loading" with Retry-After 5 once the
    route's wait (2 s here, 25 s in production) is over, not minutes later; the store answers again 10 s on, and the
    API then serves the summary by itself, without a restart."""
    monkeypatch.setattr(mart_module, "LOAD_WAIT_S", 2.0)
    faulty_s3.fail(every_request, HANG)
    back = threading.Timer(10.0, faulty_s3.clear)
    back.start()
    try:
        app = create_app(api_settings(tmp_path), built, down_sources())
        with TestClient(app, raise_server_exceptions=False) as client:
            started = time.monotonic()
            waiting = client.get(SUMMARY, headers=READER)
            assert time.monotonic() - started < 5.0
            assert waiting.status_code == 503, waiting.text
            assert waiting.headers["retry-after"] == "5"
            assert waiting.json()["detail"] == "the mart copy is still loading; retry shortly"
            deadline = time.monotonic() + 60
            while (answer := client.get(SUMMARY, headers=READER)).status_code != 200 and time.monotonic() < deadline:
                time.sleep(0.5)
            assert answer.status_code == 200, answer.text
    finally:
        back.cancel()
