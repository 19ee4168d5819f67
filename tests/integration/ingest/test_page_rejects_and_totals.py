"""A page that stays unreadable is one reject, a page read on a later attempt none; a Dynatrace listing holding
fewer records than its totalCount announced makes the run partial, naming both figures."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from functions.ingest_deploys.client import GitLabClient
from functions.ingest_dynatrace import source as dynatrace_source
from functions.ingest_dynatrace.client import DynatraceClient
from functions.ingest_servicenow import handler as servicenow_handler
from lakehouse.ingest.client import PageRequest
from lakehouse.ingest.config import IngestSettings
from lakehouse.ingest.errors import SourceUnavailable
from lakehouse.ingest.run import IngestionFailed
from lakehouse.ingest.sources import ingest
from lakehouse.ingest.window import Window
from lakehouse.mappings import MappingStore
from lakehouse.runlog import RunRecord
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from simulators.estate import Estate
from simulators.faults import FaultConfig
from simulators.serve import start_simulators
from tests.conftest import FIXTURES
from tests.unit.ingest.test_client import client_for
from tests.unit.ingest.test_dynatrace_client import SERVICE, tenant

from .conftest import invoke, scheduled_event
from .test_ingest_handlers import Point, windows
from .truth import rows

pytestmark = pytest.mark.simulators
INCIDENTS = "servicenow/incidents"


def incidents_event(estate: Estate) -> dict[str, Any]:
    window = windows(estate)["servicenow"]
    return {**scheduled_event(servicenow_handler.__file__, window), "datasets": [INCIDENTS]}


def test_a_page_unreadable_on_every_attempt_is_one_reject_kept_once(
    local_settings: Settings, estate: Estate, point: Point
) -> None:
    """ServiceNow answers every request with its page cut in half (invalid JSON). Each of the 5 attempts
    (ROSETTA_HTTP_ATTEMPTS) was a reject: the run said 5 rejected for one page and kept 5 copies. By hand: the run
    fails on its first page after 5 requests (4 retries); 1 reject, located by the page's request, saying all 5
    attempts were unreadable, holding the last answer's cut page."""
    with start_simulators(estate, faults=FaultConfig.from_dict({"servicenow": {"malformed": 1.0}})) as own:
        point(own, local_settings)
        with pytest.raises(IngestionFailed) as caught:
            invoke(servicenow_handler, incidents_event(estate))
        (outcome,) = caught.value.outcome.outcomes
        record = outcome.record
        assert (record.status, record.requests, record.retries, record.rows_rejected) == ("failed", 5, 4, 1)
        (reject,) = rows(Lake.from_settings(local_settings), "servicenow/rejects")
        assert reject["location"] == "GET /api/now/v2/table/incident"
        assert reject["reason"].startswith("page was not valid JSON (")
        assert reject["reason"].endswith("), on all 5 attempts")
        assert reject["raw_text"].startswith('{"result":[')


def test_a_page_read_on_a_later_attempt_is_no_reject(local_settings: Settings, estate: Estate, point: Point) -> None:
    """The first answer of the run is cut in half, the second attempt reads the page. It was a reject and made the
    run partial though every record was read. By hand: 1 retry, 0 rejects, status succeeded, and the lake holds
    every incident the simulator serves."""
    with start_simulators(
        estate, faults=FaultConfig.from_dict({"servicenow": {"schedule": {"1": "malformed"}}})
    ) as own:
        point(own, local_settings)
        (run,) = invoke(servicenow_handler, incidents_event(estate))["runs"]
        stats = run["datasets"][INCIDENTS]
        assert (run["status"], stats["status"], stats["retries"], stats["rows_rejected"]) == (
            "succeeded",
            "succeeded",
            1,
            0,
        )
        lake = Lake.from_settings(local_settings)
        assert rows(lake, "servicenow/rejects") == []
        table = own.apis["servicenow"].tables["incident"]
        assert {r["sys_id"] for r in rows(lake, INCIDENTS)} == {table.sys_id(r) for r in table.rows}


def dynatrace_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, answer: Any, datasets: list[str]
) -> tuple[Lake, dict[str, RunRecord]]:
    """One Dynatrace run over the hours 00:00-02:00 UTC of 2022-09-28 against `answer`, the tenant, for one
    service mapped."""
    lake = Lake.from_settings(Settings(lake_url=str(tmp_path)))
    selector = f'type(SERVICE),entityId("{SERVICE}")'
    MappingStore(lake).apply(
        [{"entity_id": "shop", "kind": "application", "dynatrace_entity_selector": selector}],
        actor="test",
        replace=True,
    )
    monkeypatch.setattr(
        dynatrace_source, "DynatraceClient", partial(DynatraceClient, transport=httpx.MockTransport(answer))
    )
    settings = IngestSettings(
        dynatrace_url="https://abc.live.dynatrace.com",
        dynatrace_token=SecretStr("dt0c01.A.B"),
        dynatrace_entities_enabled=True,
    )
    since = datetime(2022, 9, 28, tzinfo=UTC)
    outcome = ingest("dynatrace", lake, settings, window=Window(since, since + timedelta(hours=2)), datasets=datasets)
    return lake, {o.dataset: o.record for o in outcome.outcomes}


def test_a_problems_listing_holding_fewer_than_its_total_count_is_partial_naming_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real problems page announcing totalCount 12 and listing none, without a nextPageKey (a page lost): the
    run read 0 problems and said succeeded. By hand: the window's listing, problems_v2__list_empty_page.json,
    announces 12 and 0 are read: 1 reject naming both; the open problems' listing, problems_v2__list_one_closed.json,
    announces 1 and holds 1: no reject, and its problem is the run's 1 row."""
    announced = json.loads((FIXTURES / "dynatrace" / "problems_v2__list_empty_page.json").read_text())
    one = json.loads((FIXTURES / "dynatrace" / "problems_v2__list_one_closed.json").read_text())

    def problems(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/api/v2/problems"
        return httpx.Response(200, json=one if "problemSelector" in request.url.params else announced)

    lake, records = dynatrace_run(tmp_path, monkeypatch, problems, ["dynatrace/problems"])
    record = records["dynatrace/problems"]
    assert (record.status, record.rows_out, record.rows_rejected) == ("partial", 1, 1)
    (reject,) = rows(lake, "dynatrace/rejects")
    assert (reject["location"], reject["reason"]) == (
        "GET /api/v2/problems",
        "the listing announced 12 problems (totalCount) and 0 were read",
    )


def test_entities_fewer_than_announced_are_a_reject_and_a_metrics_query_s_count_of_entities_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tenant's service listing announces 2 entities on one last page holding 1 (a next page key cut short),
    and its metrics query announces 2 for its 1 series. By hand: the entities dataset is partial with 1 reject
    naming 2 announced and 1 read. A metrics query's totalCount counts its primary entities, not its series: the
    documentation's own answer (metrics_query__errors_total_count_2_services_docs.json) announces 3 for 2 series,
    so the metrics query's 2 for 1 is no shortfall and its 2 hourly rows are written, the run succeeded."""
    docs = json.loads((FIXTURES / "dynatrace" / "metrics_query__errors_total_count_2_services_docs.json").read_text())
    assert (docs["totalCount"], sum(len(r["data"]) for r in docs["result"])) == (3, 2)

    def cut_short(request: httpx.Request) -> httpx.Response:
        answer = tenant(request)
        body = json.loads(answer.content)
        if request.url.params.get("entitySelector", "").startswith("type(SERVICE)"):
            body["totalCount"] = 2  # the service's listing and its metrics query, each holding 1
        return httpx.Response(200, json=body)

    datasets = ["dynatrace/service_metrics_hourly", "dynatrace/entities"]
    lake, records = dynatrace_run(tmp_path, monkeypatch, cut_short, datasets)
    metrics, entities = records["dynatrace/service_metrics_hourly"], records["dynatrace/entities"]
    assert (metrics.status, metrics.rows_out, metrics.rows_rejected) == ("succeeded", 2, 0)
    assert (entities.status, entities.rows_rejected) == ("partial", 1)
    assert [(r["dataset"], r["location"], r["reason"]) for r in rows(lake, "dynatrace/rejects")] == [
        ("dynatrace/entities", "GET /api/v2/entities", "the listing announced 2 entities (totalCount) and 1 were read"),
    ]


def test_a_gitlab_listing_holding_fewer_than_its_x_total_is_a_reject_naming_both() -> None:
    """GitLab's x-total was only compared with itself (a count falling while paged is a reread): a listing whose
    x-next-page went missing read 4 of 5 deployments unnoticed. By hand: 5 counted, two a page, page 2 says it is
    the last: 2 + 2 = 4 read. The listing is read again, as a page lost may come back, four reads in all; then 1
    reject of gitlab/deployments naming 5 and 4."""

    def handle(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params.get("page", 1))
        listed = [{"id": 2 * page - 1}, {"id": 2 * page}]
        return httpx.Response(200, json=listed, headers={"x-total": "5", "x-next-page": "2" if page == 1 else ""})

    gitlab = GitLabClient("https://gitlab.example", SecretStr("glpat-x"), transport=httpx.MockTransport(handle))
    since = datetime(2024, 3, 4, tzinfo=UTC)
    read = [d["id"] for page in gitlab.deployments(5, since, since + timedelta(days=1), 2) for d in page.body]
    assert read == [1, 2, 3, 4] * 4 and gitlab.rereads == 3
    (reject,) = gitlab.counters.set_aside
    assert (reject.url, reject.reason, reject.dataset) == (
        "GET /api/v4/projects/5/deployments",
        "the listing announced 5 records (x-total) and 4 were read",
        "gitlab/deployments",
    )


def test_a_page_never_read_keeps_its_last_unreadable_body_and_names_every_way_it_failed() -> None:
    """A proxy's HTML, an empty body, a cut page, then a 503: the page was never read. By hand: 3 of the 4
    attempts were unreadable; the reject keeps the last body that had one (the cut page), its reason that answer's,
    and names the empty body too (the HTML was not JSON either, the same way as the cut page)."""
    cut = b'{"result": [{"sys_id": "ab'
    answers: list[httpx.Response | Exception] = [
        httpx.Response(200, content=b"<html><body>Gateway</body></html>"),
        httpx.Response(200, content=b""),
        httpx.Response(200, content=cut),
        httpx.Response(503),
    ]
    client, _ = client_for(answers)
    with pytest.raises(SourceUnavailable, match="HTTP 503 on GET /api/now/table/incident, still after 4 attempts"):
        client.send(PageRequest("/api/now/table/incident"))
    (reject,) = client.counters.set_aside
    assert reject.reason.startswith("page was not valid JSON (")
    assert reject.reason.endswith("), on 3 of 4 attempts; also page was empty")
    assert (reject.url, reject.text, client.counters.read_again) == ("GET /api/now/table/incident", cut.decode(), [])
