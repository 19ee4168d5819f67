"""A build stopped after it put its tables and before its state (a Lambda timeout, a store error) leaves its objects
under the last good build's state. A copy asked for a month it had not fetched yet found the object replaced and
answered 503 "being loaded", but the next copy is loaded only when the state changes: the month stayed refused until
the next build landed, an hour or, if builds kept being stopped, for good. With no build running, the objects there
are what the lake holds, and the next copy is loaded from them; while a build runs, the 503 stands until it lands."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from functions.api.main import create_app
from functions.api.mart import ServingMart
from lakehouse.aggregates import lease
from lakehouse.aggregates.build import STATE_KEY, build
from lakehouse.schemas import get_dataset
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.integration.api.conftest import READER, api_settings, down_sources, get_json
from tests.unit.aggregates.estate import AS_OF, rows, write_estate

SHOP = "/monitoring/applications/shop/summary"
JULY = datetime(2026, 7, 10, 5, tzinfo=UTC)
ROUTE = "/monitoring/applications/shop/timeseries?metric=requests&from=2026-07-10&to=2026-07-11"


def refreshes_done() -> None:
    """Waits for the reloads a refusal started (threads named mart-refresh)."""
    for thread in threading.enumerate():
        if thread.name == "mart-refresh":
            thread.join(timeout=60)


def full_build_stopped_before_its_state(lake: Lake, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """A full build as of AS_OF that puts its tables and is stopped before its state."""
    put = lake.store.put

    def stopped_before_the_state(key: str, *args: Any, **kwargs: Any) -> Any:
        if key == STATE_KEY:
            raise RuntimeError("stopped before its state")
        return put(key, *args, **kwargs)

    with monkeypatch.context() as patched:
        patched.setattr(lake.store, "put", stopped_before_the_state)
        with pytest.raises(RuntimeError, match="stopped before its state"):
            build(lake, settings, mode="full", as_of=AS_OF)


def answered(client: TestClient) -> dict[str, Any]:
    """July's requests once the copy that the refusal started loading is in, as a client honouring Retry-After."""
    for _ in range(100):
        response = client.get(ROUTE, headers=READER)
        if response.status_code != 503:
            assert response.status_code == 200, response.text
            return dict(response.json())
        refreshes_done()
        time.sleep(0.1)
    raise AssertionError(f"still refused: {response.text}")


@pytest.mark.s3
def test_a_month_a_stopped_build_replaced_is_answered_once_no_build_runs(
    s3_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """shop-api has 5,000 requests on 10 July at 05:00; the first build's copy fetches the months of the last 90 days
    and leaves July for a request. A full build reads 7,000 more at 06:00, puts July's object, and is stopped before
    its state. By hand: while a build holds the lake, July is refused (503, retry in 5 s); once none does, July is
    answered from the objects there, 5,000 and 7,000, under the last good build's run, whose state stands."""
    lake = Lake.from_settings(s3_settings)
    write_estate(lake)
    metrics = get_dataset("dynatrace/service_metrics_hourly")
    lake.write_days(metrics, rows(metrics.id, {"entity_id": "SERVICE-A", "hour": JULY, "request_count": 5000.0}))
    first_run = build(lake, s3_settings, mode="full", as_of=AS_OF).run_id
    app = create_app(api_settings(tmp_path), s3_settings, down_sources())
    serving: ServingMart = app.state.context.mart
    with TestClient(app, raise_server_exceptions=False) as client:
        first = client.get(SHOP, headers=READER)
        assert first.json()["freshness"]["buildRunId"] == first_run
        first_etag = first.headers["etag"]
        later = {"entity_id": "SERVICE-A", "hour": JULY.replace(hour=6), "request_count": 7000.0}
        lake.write_days(metrics, rows(metrics.id, later))
        full_build_stopped_before_its_state(lake, s3_settings, monkeypatch)

        # Another build holds the lake: it may be the one landing these objects, and its state will follow.
        running = lease.take(lake, "schedule", timedelta(minutes=5))
        for _ in range(2):
            refused = client.get(ROUTE, headers=READER)
            assert refused.status_code == 503, refused.text
            assert refused.headers["retry-after"] == "5"
            refreshes_done()
        lease.release(lake, running)

        answer = answered(client)
        assert answer["freshness"]["buildRunId"] == first_run
        by_hour = {p["t"]: p["v"] for p in answer["points"]}
        assert (by_hour["2026-07-10T05:00:00Z"], by_hour["2026-07-10T06:00:00Z"]) == (5000.0, 7000.0)
        assert get_json(client, SHOP)["freshness"]["buildRunId"] == first_run
        assert serving.snapshot().load_failed is False
        # Other objects, other figures: a cache holding the first copy's answers revalidates to a 200, not a 304.
        again = client.get(SHOP, headers={**READER, "If-None-Match": first_etag})
        assert again.status_code == 200 and again.headers["etag"] != first_etag


def test_a_month_a_stopped_build_removed_is_answered_once_no_build_runs(
    local_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build also removes objects before its state: a month left without rows (its raw day removed since, say).
    Asked for that month, the first copy answered 503 "a mart object vanished" and loaded nothing: refused until the
    next build landed. By hand: with no build running, the next copy answers July with no request."""
    lake = Lake.from_settings(local_settings)
    write_estate(lake)
    metrics = get_dataset("dynatrace/service_metrics_hourly")
    lake.write_days(metrics, rows(metrics.id, {"entity_id": "SERVICE-A", "hour": JULY, "request_count": 5000.0}))
    build(lake, local_settings, mode="full", as_of=AS_OF)
    app = create_app(api_settings(tmp_path), local_settings, down_sources())
    with TestClient(app, raise_server_exceptions=False) as client:
        get_json(client, SHOP)
        for key in lake.list_keys(f"raw/dynatrace/service_metrics_hourly/day={JULY.date().isoformat()}/"):
            lake.store.delete(key)
        full_build_stopped_before_its_state(lake, local_settings, monkeypatch)

        answer = answered(client)
        assert sum(p["v"] or 0 for p in answer["points"]) == 0
