"""SLO targets per application: the mapping's, else the build's defaults, in the named periods and in a from/to range
(which runs the build's SQL again over the day rows, with the targets the build resolved).

The hand-made estate (tests/unit/aggregates/estate.py, as_of the 20th at 10:00 UTC), where shop asks for 99.9 % and
a p95 under 850 ms, and is mapped in staging too, by an entry that sets no target of its own. On the 19th shop had
34,000 requests, 124 failed; its p95 was 800 ms at 12:00 and 13:00, 200 ms in the other 22 hours. In staging it had
100 requests an hour on the 19th, 10 of them failed.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from functions.api.main import create_app
from lakehouse.aggregates.build import build
from lakehouse.mappings import MappingStore
from lakehouse.schemas import get_dataset
from tests.integration.api.conftest import READER, api_settings, down_sources
from tests.unit.aggregates.estate import AS_OF, mapping, rows, t
from tests.unit.aggregates.estate import estate_lake as hand_made_lake

TARGETS = {"slo_availability_target": 0.999, "slo_latency_p95_ms": 850}
STAGING = [
    {"entity_id": "shop", "kind": "application", "team": "t1", "environment": "staging"},
    {
        "entity_id": "shop-api",
        "kind": "component",
        "application_id": "shop",
        "environment": "staging",
        "dynatrace_entity_selector": 'entityId("SERVICE-S")',
    },
]
RANGE = "from=2026-11-13T00:00:00Z&to=2026-11-20T10:00:00Z"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("slo-targets")
    lake, settings = hand_made_lake(root)
    entries = [e | TARGETS if e["entity_id"] == "shop" else e for e in mapping()]
    MappingStore(lake).apply(entries + STAGING, actor="test", replace=True)
    staging = [
        {"entity_id": "SERVICE-S", "hour": t(19, h), "request_count": 100.0, "error_count": 10.0} for h in range(24)
    ]
    lake.write_days(get_dataset("dynatrace/service_metrics_hourly"), rows("dynatrace/service_metrics_hourly", *staging))
    build(lake, settings, mode="full", as_of=AS_OF)
    with TestClient(create_app(api_settings(root), settings, down_sources()), raise_server_exceptions=False) as c:
        yield c


def slo(client: TestClient, query: str) -> dict[str, dict]:
    response = client.get(f"/monitoring/kpis/slo?{query}", headers=READER)
    assert response.status_code == 200, response.text
    return {r["id"]: r for r in response.json()["items"]}


@pytest.mark.parametrize("query", ["period=last_30d", RANGE])
def test_an_application_is_held_to_its_own_targets_in_a_period_and_in_a_range(client: TestClient, query: str) -> None:
    """shop: 0.1 % of 34,000 = 34 bad requests allowed, 124 spent; all 24 hours good under 850 ms (22 under the
    default 500 ms). quiet keeps the defaults."""
    apps = slo(client, f"groupBy=app&{query}")
    shop, quiet = apps["shop"], apps["quiet"]
    assert (shop["availabilityTarget"], shop["latencyP95ThresholdMs"], shop["latencyP99ThresholdMs"]) == (
        0.999,
        850,
        1500,
    )
    assert shop["errorBudgetAllowed"] == pytest.approx(34)
    assert shop["errorBudgetConsumed"] == pytest.approx(124 / 34)
    assert shop["latencyP95Sli"] == 1.0
    assert (shop["latencyTarget"], shop["latencyP99Target"]) == (0.95, 0.95)
    assert (quiet["availabilityTarget"], quiet["latencyP95ThresholdMs"]) == (0.995, 500)


def test_a_team_is_held_to_its_applications_targets(client: TestClient) -> None:
    """t1 is shop alone: its target and budget are shop's."""
    team = slo(client, f"groupBy=team&{RANGE}")["t1"]
    assert team["availabilityTarget"] == pytest.approx(0.999)
    assert team["errorBudgetAllowed"] == pytest.approx(34)
    assert team["latencyP95Sli"] == 1.0 and team["latencyTarget"] == pytest.approx(0.95)


def test_an_environment_without_targets_of_its_own_takes_productions(client: TestClient) -> None:
    """shop in staging: 2,400 requests, 240 failed; held to production's 99.9 %: 2.4 bad requests allowed."""
    shop = slo(client, "groupBy=app&period=last_30d&environment=staging")["shop"]
    assert shop["availabilityTarget"] == 0.999
    assert shop["errorBudgetAllowed"] == pytest.approx(2.4)
    assert shop["errorBudgetConsumed"] == pytest.approx(240 / 2.4)
