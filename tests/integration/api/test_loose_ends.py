"""A summary's SLA breaches when task SLAs were not read back far enough, a 304 through API Gateway, and a copy of an
S3 lake asked for a month the next build has replaced since."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from functions.api import deps
from functions.api.main import create_app
from functions.api.mart import ServingMart
from lakehouse.aggregates.build import build
from lakehouse.runlog import FirstReads
from lakehouse.schemas import get_dataset
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.integration.api.conftest import READER, READER_KEY, api_settings, down_sources, get_json
from tests.integration.api.test_lambda_and_inputs import CONTEXT, http_api_v2, lambda_handler, rest_api_v1  # noqa: F401
from tests.unit.aggregates.estate import AS_OF, estate_lake, rows, t, write_estate
from tests.unit.aggregates.test_unread_days import slas_read_late

SHOP = "/monitoring/applications/shop/summary"
SHOP_DB = "/monitoring/components/shop-db/summary"


def open_incidents(root: Path, settings: Settings, *routes: str) -> list[dict[str, Any]]:
    """The open incidents of each summary, from an API over the lake built in `root`."""
    with TestClient(create_app(api_settings(root), settings, down_sources())) as client:
        return [get_json(client, route)["incidents"] for route in routes]


def test_open_incidents_sla_breaches_are_unknown_on_a_lake_that_never_read_task_slas(client: TestClient) -> None:
    """The hand-made estate never read task SLAs: INC2, open on shop-db, may have one breached, unread. Its one open
    incident is counted (P1), its SLA breaches are unknown (null), where they said 0."""
    for route in (SHOP, SHOP_DB):
        assert get_json(client, route)["incidents"] == {
            "state": "ok",
            "open": 1,
            "openP1P2": 1,
            "slaBreached": None,
            "readUntil": None,
        }


def test_open_incidents_sla_breaches_are_unknown_when_task_slas_were_read_only_after_one_opened(
    tmp_path: Path,
) -> None:
    """Task SLAs first read from the 19th at 06:00; INC2 opened on the 18th at 08:00, before it: an SLA of it
    recorded, breached and last updated before the 19th was never read. Its breaches are unknown (null), not 0."""
    lake, settings = estate_lake(tmp_path)
    FirstReads(lake).record("servicenow", "task_slas", t(19, 6), run_id="first-run")
    build(lake, settings, mode="full", as_of=AS_OF)
    shop, shop_db = open_incidents(tmp_path, settings, SHOP, SHOP_DB)
    assert shop == shop_db == {"state": "ok", "open": 1, "openP1P2": 1, "slaBreached": None, "readUntil": None}


def test_open_incidents_sla_breaches_are_counted_when_each_is_known(tmp_path: Path) -> None:
    """Task SLAs first read from the 17th at 06:00 (slas_read_late). shop's INC2 opened after it (18th 08:00) with no
    task SLA read: none breached, 0. quiet's three open P3 incidents each have a breached task SLA read: INC10 opened
    after the first read, INC9 (14th) and INC11 (16th) before it, their breaches read all the same: 3."""
    _, settings = slas_read_late(tmp_path)
    shop, quiet = open_incidents(tmp_path, settings, SHOP, "/monitoring/applications/quiet/summary")
    assert shop == {"state": "ok", "open": 1, "openP1P2": 1, "slaBreached": 0, "readUntil": None}
    assert quiet == {"state": "ok", "open": 3, "openP1P2": 0, "slaBreached": 3, "readUntil": None}


def test_a_304_through_api_gateway_carries_no_header_describing_a_body(lambda_handler: Any) -> None:  # noqa: F811
    """Revalidated through an HTTP API (v2) and a REST API (v1): the 304 has its ETag and Cache-Control, an empty
    body, and no content-type (Mangum gave the HTTP API's one "application/json"): RFC 9110 15.4.5."""
    content = {"content-type", "content-length", "content-encoding", "content-language"}
    for event in (http_api_v2, rest_api_v1):
        first = lambda_handler(event(SHOP, headers={"x-api-key": READER_KEY}), CONTEXT)
        headers = {k.lower(): v for k, v in first["headers"].items()}
        assert first["statusCode"] == 200 and headers["content-type"] == "application/json"
        again = lambda_handler(
            event(SHOP, headers={"x-api-key": READER_KEY, "if-none-match": headers["etag"]}), CONTEXT
        )
        assert (again["statusCode"], again["body"], again["isBase64Encoded"]) == (304, "", False)
        sent = {k.lower(): v for k, v in again["headers"].items()}
        assert sent == {"etag": headers["etag"], "cache-control": "private, max-age=60"}, event.__name__
        assert not content & {k.lower() for k in again.get("multiValueHeaders", {})}


@pytest.mark.s3
def test_a_copy_asked_for_a_month_the_next_build_replaced_answers_it_from_that_build(
    s3_settings: Settings, tmp_path: Path
) -> None:
    """A lake on S3 with shop-api's requests on 10 July at 05:00 (5,000). The copy of the first build fetches the
    hourly months of the last 90 days (from 22 August); July waits for a request. The next build reads an hour more,
    7,000 requests at 06:00, and replaces July's object under the same key. Asked for July, the first copy gave the
    next build's 7,000 under its own build and ETag; it now refuses (503, retry in 5 s) and the next copy answers,
    with that build's run and ETag."""
    lake = Lake.from_settings(s3_settings)
    write_estate(lake)
    metrics = get_dataset("dynatrace/service_metrics_hourly")
    july = datetime(2026, 7, 10, 5, tzinfo=UTC)
    lake.write_days(metrics, rows(metrics.id, {"entity_id": "SERVICE-A", "hour": july, "request_count": 5000.0}))
    first_run = build(lake, s3_settings, mode="full", as_of=AS_OF).run_id
    route = "/monitoring/applications/shop/timeseries?metric=requests&from=2026-07-10&to=2026-07-11"
    app = create_app(api_settings(tmp_path), s3_settings, down_sources())
    serving: ServingMart = app.state.context.mart
    with TestClient(app, raise_server_exceptions=False) as client:
        assert get_json(client, SHOP)["freshness"]["buildRunId"] == first_run
        first_copy = serving.snapshot()
        later = {"entity_id": "SERVICE-A", "hour": july.replace(hour=6), "request_count": 7000.0}
        lake.write_days(metrics, rows(metrics.id, later))
        next_run = build(lake, s3_settings, mode="full", as_of=AS_OF).run_id
        refused = client.get(route, headers=READER)
        assert refused.status_code == 503, refused.text
        assert refused.headers["retry-after"] == "5" and "etag" not in refused.headers
        serving.refresh(force=True)  # the next copy, which the refusal started loading, is in
        answer = get_json(client, route)
        assert answer["freshness"]["buildRunId"] == next_run != first_run
        by_hour = {p["t"]: p["v"] for p in answer["points"]}
        assert (by_hour["2026-07-10T05:00:00Z"], by_hour["2026-07-10T06:00:00Z"]) == (5000.0, 7000.0)
        assert client.get(route, headers=READER).headers["etag"] != deps.copy_etag(first_copy)
