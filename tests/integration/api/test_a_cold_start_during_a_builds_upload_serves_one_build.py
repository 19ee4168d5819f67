"""A build puts every mart object before it writes its state. An API instance started in between (a new Lambda
sandbox) read the last build's state, then listed the objects, some of them already the new build's: it answered
the new build's incidents under the last build's freshness and ETag. Each answer must be one build's, wholly."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from functions.api.main import create_app
from lakehouse.aggregates import mart_writes
from lakehouse.aggregates.build import build
from lakehouse.aggregates.build_types import LocalObject
from lakehouse.schemas import get_dataset
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.integration.api.conftest import READER, api_settings, down_sources
from tests.unit.aggregates.estate import AS_OF, CI_API, incident, rows, t, write_estate

OPEN_INCIDENTS = "/monitoring/applications/shop/incidents?status=open"
SUMMARY = "/monitoring/applications/shop/summary"
# By hand, from the estate: the first build (as of 10:00) has INC2 open on shop, a P1 on its database. INC4, a P1 on
# shop-api opened at 10:30 and still open, is read by the second build (as of 11:00) alone.
FIRST = ("2026-11-20T10:00:00Z", ("INC2",))
SECOND = ("2026-11-20T11:00:00Z", ("INC4", "INC2"))


class HeldUpload:
    """Holds a build's upload once its incidents table is put and before its other tables and its state."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.incidents_put = threading.Event()
        self.go_on = threading.Event()
        put_all = mart_writes.put_all

        def held(lake: Lake, objects: list[LocalObject]) -> int:
            incidents = [o for o in objects if o.key.startswith("mart/mv_incidents/")]
            if not incidents:
                return put_all(lake, objects)
            put = put_all(lake, incidents)
            self.incidents_put.set()
            assert self.go_on.wait(120)
            return put + put_all(lake, [o for o in objects if o not in incidents])

        monkeypatch.setattr(mart_writes, "put_all", held)


def listed(response: httpx.Response) -> tuple[str, tuple[str, ...]]:
    """What a user reads of the open incidents: the as-of they are of, and their numbers."""
    body = response.json()
    return body["freshness"]["asOf"], tuple(item["number"] for item in body["items"])


def counted(response: httpx.Response) -> tuple[str, int]:
    """What a user reads of the summary's incidents: the as-of they are of, and how many are open."""
    body = response.json()
    return body["freshness"]["asOf"], body["incidents"]["open"]


def builds_answered(incidents: httpx.Response, summary: httpx.Response) -> list[tuple[str, tuple[str, ...]]]:
    """The build whose figures each answer holds wholly (its as-of and open incidents), a 503 asking to retry aside:
    the list holds the as-of and the numbers, the summary the as-of and their count."""
    answered = []
    if incidents.status_code == 503:
        assert_retry_later(incidents)
    else:
        assert incidents.status_code == 200, incidents.text
        answered.append(next((b for b in (FIRST, SECOND) if listed(incidents) == b), ("a mix", ())))
    if summary.status_code == 503:
        assert_retry_later(summary)
    else:
        assert summary.status_code == 200, summary.text
        answered.append(next((b for b in (FIRST, SECOND) if counted(summary) == (b[0], len(b[1]))), ("a mix", ())))
    return answered


def assert_retry_later(response: httpx.Response) -> None:
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == 503
    assert int(response.headers["retry-after"]) >= 1


def test_a_cold_start_while_a_build_puts_its_tables_answers_one_build(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full build as of 10:00; INC4 is read; an hourly build as of 11:00 puts its incidents table and is held
    there. A new API instance's answers are the first build's wholly or the second's wholly, or a 503 to retry; once
    the second build's state lands, the retries get its figures."""
    lake = Lake.from_settings(settings)
    write_estate(lake)
    build(lake, settings, mode="full", as_of=AS_OF)
    incidents = get_dataset("servicenow/incidents")
    lake.write_days(incidents, rows(incidents.id, incident("i4" * 16, "INC4", CI_API, t(20, 10, 30), 1, 2)))
    upload = HeldUpload(monkeypatch)
    hourly = {"mode": "hourly", "as_of": AS_OF + timedelta(hours=1)}
    second = threading.Thread(target=build, args=(lake, settings), kwargs=hourly)
    second.start()
    try:
        assert upload.incidents_put.wait(300)
        app = create_app(api_settings(tmp_path), settings, down_sources())
        with TestClient(app, raise_server_exceptions=False) as client:
            during = (client.get(OPEN_INCIDENTS, headers=READER), client.get(SUMMARY, headers=READER))
            answered = builds_answered(*during)
            assert len(set(answered)) <= 1 and ("a mix", ()) not in answered, [r.text for r in during]

            upload.go_on.set()
            second.join(timeout=300)
            after = (retried(client, OPEN_INCIDENTS), retried(client, SUMMARY))
            assert listed(after[0]) == SECOND
            assert counted(after[1]) == ("2026-11-20T11:00:00Z", 2)
    finally:
        upload.go_on.set()
        second.join(timeout=300)


def retried(client: TestClient, route: str) -> httpx.Response:
    """The answer a client honouring Retry-After gets (waiting a tenth of a second instead)."""
    for _ in range(100):
        response = client.get(route, headers=READER)
        if response.status_code != 503:
            assert response.status_code == 200, response.text
            return response
        assert_retry_later(response)
        time.sleep(0.1)
    raise AssertionError(f"still refused: {response.text}")
