"""The Dynatrace listing: follow-ups carry only nextPageKey; an expired key restarts the query once; the topology
followed from services to their containers."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from functions.ingest_dynatrace import source as dynatrace_source
from functions.ingest_dynatrace.client import DynatraceClient
from lakehouse.ingest.config import IngestSettings
from lakehouse.ingest.errors import SourceRefused
from lakehouse.ingest.mapping_pivots import dynatrace_service_selectors
from lakehouse.ingest.sources import ingest
from lakehouse.ingest.window import Window
from lakehouse.mappings import MappingEntry, MappingStore
from lakehouse.schemas import get_dataset
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.conftest import FIXTURES

CONSTRAINTS = json.loads((FIXTURES / "dynatrace" / "error__400_constraints_violated.json").read_text())


def client(answers: list[httpx.Response], seen: list[dict[str, str]]) -> DynatraceClient:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(dict(request.url.params))
        assert request.headers["Authorization"] == "Api-Token dt0c01.ABC.SECRET"
        return answers.pop(0)

    return DynatraceClient(
        "https://abc.live.dynatrace.com", SecretStr("dt0c01.ABC.SECRET"), transport=httpx.MockTransport(handle)
    )


def test_expired_key_restarts_once_from_a_fresh_first_request() -> None:
    seen: list[dict[str, str]] = []
    answers = [
        httpx.Response(200, json={"nextPageKey": "k1", "problems": [{"n": 1}]}),
        httpx.Response(400, json=CONSTRAINTS),
        httpx.Response(200, json={"nextPageKey": "k2", "problems": [{"n": 1}]}),
        httpx.Response(200, json={"nextPageKey": None, "problems": [{"n": 2}]}),
    ]
    pages = [p.body["problems"][0]["n"] for p in client(answers, seen).problems(1, 2, 50)]
    assert pages == [1, 1, 2]
    assert seen[0] == {"from": "1", "to": "2", "pageSize": "50"} == seen[2]
    assert seen[1] == {"nextPageKey": "k1"} and seen[3] == {"nextPageKey": "k2"}


def test_a_second_expiry_or_a_400_on_the_first_page_is_an_error() -> None:
    seen: list[dict[str, str]] = []
    with pytest.raises(SourceRefused, match=r"HTTP 400 on GET /api/v2/problems: Constraints violated\."):
        list(client([httpx.Response(400, json=CONSTRAINTS)], seen).problems(1, 2, 50))
    answers = [
        httpx.Response(200, json={"nextPageKey": "a", "problems": []}),
        httpx.Response(400, json=CONSTRAINTS),
        httpx.Response(200, json={"nextPageKey": "b", "problems": []}),
        httpx.Response(400, json=CONSTRAINTS),
    ]
    with pytest.raises(SourceRefused):
        list(client(answers, []).problems(1, 2, 50))


def test_a_refusal_names_the_parameters_dynatrace_says_violate_its_constraints() -> None:
    """Dynatrace's 400 says "Constraints violated." and lists which parameter and why in constraintViolations: the
    error carries them, else nobody can tell which parameter to fix."""
    with pytest.raises(SourceRefused) as refused:
        list(client([httpx.Response(400, json=CONSTRAINTS)], []).problems(1, 2, 50))
    assert str(refused.value).endswith(
        "HTTP 400 on GET /api/v2/problems: Constraints violated. "
        "(nextPageKey: expected one of nextPageKey or metricSelector to be specified)"
    )


SERVICE = "SERVICE-504937D81F10F081"
PROCESS = "PROCESS_GROUP_INSTANCE-95C5FBF859599282"  # a real instance id, entities_v2__list.json
CONTAINER = "CONTAINER_GROUP_INSTANCE-6D3E2F1A0B9C8D7E"


def tenant(request: httpx.Request) -> httpx.Response:
    """A tenant in Dynatrace's own topology: the service runsOn its PROCESS_GROUP and runsOnProcessGroupInstance
    its process, which isPgiOfCgi its container (a service is never linked to a container directly)."""
    params = request.url.params
    selector = params.get("entitySelector", "")
    if request.url.path == "/api/v2/entities" and selector.startswith("type(SERVICE)"):
        outgoing = {
            "runsOn": [{"id": "PROCESS_GROUP-1A2B3C4D5E6F7081", "type": "PROCESS_GROUP"}],
            "runsOnProcessGroupInstance": [{"id": PROCESS, "type": "PROCESS_GROUP_INSTANCE"}],
        }
        entity = {"entityId": SERVICE, "type": "SERVICE", "displayName": "checkout", "fromRelationships": outgoing}
        return httpx.Response(200, json={"totalCount": 1, "pageSize": 50, "entities": [entity]})
    if request.url.path == "/api/v2/entities" and selector.startswith("type(PROCESS_GROUP_INSTANCE)"):
        found = PROCESS in selector and "+fromRelationships" in params.get("fields", "")
        outgoing = {"isPgiOfCgi": [{"id": CONTAINER, "type": "CONTAINER_GROUP_INSTANCE"}]}
        entity = {"entityId": PROCESS, "type": "PROCESS_GROUP_INSTANCE", "displayName": "checkout (pod)"}
        entities = [entity | {"fromRelationships": outgoing}] if found else []
        return httpx.Response(200, json={"totalCount": len(entities), "pageSize": 50, "entities": entities})
    assert request.url.path == "/api/v2/metrics/query"
    containers = "builtin:containers" in params["metricSelector"]
    ends = [1664326800000, 1664330400000]  # slot ends 01:00 and 02:00 UTC, 2022-09-28
    if containers and CONTAINER not in selector:
        return httpx.Response(200, json={"totalCount": 0, "nextPageKey": None, "resolution": "1h", "result": []})
    dimension = {"dt.entity.container_group_instance": CONTAINER} if containers else {"dt.entity.service": SERVICE}
    values = {
        "builtin:containers.cpu.usagePercent": [37.5, 41.0],
        "builtin:containers.memory.usagePercent": [61.0, 62.5],
        "builtin:service.requestCount.total:names": [1200, 900],
    }
    result = [
        {"metricId": metric, "data": [{"dimensions": [], "dimensionMap": dimension, "timestamps": ends, "values": v}]}
        for metric, v in values.items()
        if metric in params["metricSelector"].split(",")
    ]
    return httpx.Response(200, json={"totalCount": 1, "nextPageKey": None, "resolution": "1h", "result": result})


def test_saturation_comes_from_the_containers_behind_the_service_process_instances(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Container CPU and memory were looked for under the service's `runsOn` relationships, which on a real tenant
    lead to its process group only: every service's saturation stayed empty. By hand: the container behind the
    service's process instance reads 37.5 % CPU and 61 % memory in the hour 00:00-01:00 (slot end 01:00), 41 % and
    62.5 % in the next; those are the service's saturation in those hours."""
    lake = Lake.from_settings(Settings(lake_url=str(tmp_path)))
    MappingStore(lake).apply(
        [
            {
                "entity_id": "shop",
                "kind": "application",
                "dynatrace_entity_selector": f'type(SERVICE),entityId("{SERVICE}")',
            }
        ],
        actor="test",
        replace=True,
    )

    def with_tenant(base_url: str, token: SecretStr, **options: Any) -> DynatraceClient:
        return DynatraceClient(base_url, token, transport=httpx.MockTransport(tenant), **options)

    monkeypatch.setattr(dynatrace_source, "DynatraceClient", with_tenant)
    settings = IngestSettings(dynatrace_url="https://abc.live.dynatrace.com", dynatrace_token=SecretStr("dt0c01.A.B"))
    since = datetime(2022, 9, 28, tzinfo=UTC)
    window = Window(since, since + timedelta(hours=2))
    outcome = ingest("dynatrace", lake, settings, window=window, datasets=["dynatrace/service_metrics_hourly"])
    assert not outcome.failed
    table = lake.read_partition(get_dataset("dynatrace/service_metrics_hourly"), since.date())
    assert table is not None
    rows = [(r["hour"].hour, r["request_count"], r["cpu_usage_pct"], r["memory_usage_pct"]) for r in table.to_pylist()]
    assert rows == [(0, 1200, 37.5, 61.0), (1, 900, 41.0, 62.5)]


# Dynatrace refuses an entitySelector longer than 2,000 characters (Environment API v2, Entity selector, Limitations).
SELECTOR_LIMIT = 2000
ID_IN_SELECTOR = re.compile(r'"([A-Z_]+-[0-9A-F]{16})"')


def large_tenant(request: httpx.Request) -> httpx.Response:
    """Service i runs on process instance i, in container i: each listed id answers for itself. A selector over the
    limit is refused as Dynatrace refuses it."""
    params = request.url.params
    selector = params.get("entitySelector", "")
    if len(selector) > SELECTOR_LIMIT:
        violation = {"path": "entitySelector", "message": "must be at most 2000 characters long"}
        body = {"error": {"code": 400, "message": "Constraints violated.", "constraintViolations": [violation]}}
        return httpx.Response(400, json=body)
    numbers = [int(found.rsplit("-", 1)[1], 16) for found in ID_IN_SELECTOR.findall(selector)]
    if request.url.path == "/api/v2/entities":
        if selector.startswith("type(SERVICE)"):
            entities = [
                {
                    "entityId": f"SERVICE-{n:016X}",
                    "fromRelationships": {
                        "runsOnProcessGroupInstance": [
                            {"id": f"PROCESS_GROUP_INSTANCE-{n:016X}", "type": "PROCESS_GROUP_INSTANCE"}
                        ]
                    },
                }
                for n in numbers
            ]
        else:
            entities = [
                {
                    "entityId": f"PROCESS_GROUP_INSTANCE-{n:016X}",
                    "fromRelationships": {
                        "isPgiOfCgi": [{"id": f"CONTAINER_GROUP_INSTANCE-{n:016X}", "type": "CONTAINER_GROUP_INSTANCE"}]
                    },
                }
                for n in numbers
            ]
        return httpx.Response(200, json={"totalCount": len(entities), "pageSize": 500, "entities": entities})
    containers = "builtin:containers" in params["metricSelector"]
    metric = "builtin:containers.cpu.usagePercent" if containers else "builtin:service.requestCount.total:names"
    dimension = "dt.entity.container_group_instance" if containers else "dt.entity.service"
    kind = "CONTAINER_GROUP_INSTANCE" if containers else "SERVICE"
    data = [
        {
            "dimensions": [],
            "dimensionMap": {dimension: f"{kind}-{n:016X}"},
            "timestamps": [1664326800000],  # slot end 01:00 UTC, 2022-09-28
            "values": [float(n) if containers else 100.0 + n],
        }
        for n in numbers
    ]
    result = [{"metricId": metric, "data": data}]
    body = {"totalCount": len(data), "nextPageKey": None, "resolution": "1h", "result": result}
    return httpx.Response(200, json=body)


def test_selectors_of_many_entities_stay_within_dynatrace_s_2000_characters(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """100 mapped services were asked for in one selector of 100 ids (the default batch), 2,723 characters, and
    their 100 process instances and containers in selectors longer still: Dynatrace refuses a selector over 2,000
    characters, so no service got any metric. By hand: a service id is 24 characters, 27 quoted with its comma, so
    `type(SERVICE),entityId(...)` holds 73 of them in 1,994 characters. Service i reads 100 + i requests and its
    container i % CPU in the hour 00:00-01:00."""
    lake = Lake.from_settings(Settings(lake_url=str(tmp_path)))
    entries = [
        {"entity_id": f"app{n}", "kind": "application", "dynatrace_entity_selector": f'entityId("SERVICE-{n:016X}")'}
        for n in range(100)
    ]
    MappingStore(lake).apply(entries, actor="test", replace=True)

    def with_tenant(base_url: str, token: SecretStr, **options: Any) -> DynatraceClient:
        return DynatraceClient(base_url, token, transport=httpx.MockTransport(large_tenant), **options)

    monkeypatch.setattr(dynatrace_source, "DynatraceClient", with_tenant)
    settings = IngestSettings(dynatrace_url="https://abc.live.dynatrace.com", dynatrace_token=SecretStr("dt0c01.A.B"))
    since = datetime(2022, 9, 28, tzinfo=UTC)
    outcome = ingest(
        "dynatrace",
        lake,
        settings,
        window=Window(since, since + timedelta(hours=1)),
        datasets=["dynatrace/service_metrics_hourly"],
    )
    assert not outcome.failed, outcome.summary()
    table = lake.read_partition(get_dataset("dynatrace/service_metrics_hourly"), since.date())
    assert table is not None
    rows = sorted((r["entity_id"], r["request_count"], r["cpu_usage_pct"]) for r in table.to_pylist())
    assert rows == [(f"SERVICE-{n:016X}", 100.0 + n, float(n)) for n in range(100)]


def test_a_batch_of_service_ids_is_cut_where_the_selector_would_pass_2000_characters() -> None:
    """By hand: `type(SERVICE),entityId(` and `)` are 24 characters and each id adds 26 quoted plus a comma, so 73
    ids make 24 + 73 * 26 + 72 = 1,994 characters and a 74th would make 2,021: 100 ids go 73, then 27."""
    entries = tuple(
        MappingEntry(entity_id=f"app{n}", kind="application", dynatrace_entity_selector=f'entityId("SERVICE-{n:016X}")')
        for n in range(100)
    )
    selectors = dynatrace_service_selectors(entries, 100)
    assert [len(ID_IN_SELECTOR.findall(s)) for s in selectors] == [73, 27]
    assert len(selectors[0]) == 1994
