"""The usual tagging: production selects shop-api's services by their component tag, staging by that tag and
`environment:staging`. A staging service carries both tags and meets both selectors in full; it is staging's, the
more specific match, and its errors stay out of production's SLO and error budget."""

from __future__ import annotations

from pathlib import Path

import pytest

from lakehouse.aggregates.build import build
from lakehouse.mappings import MappingStore
from lakehouse.schemas import get_dataset
from tests.unit.aggregates.estate import AS_OF, estate_lake, mapping, rows, t, write
from tests.unit.aggregates.test_kpis import mart, reading

PRODUCTION_SELECTOR = 'type(SERVICE),tag("component:shop-api")'
STAGING_SELECTOR = 'type(SERVICE),tag("component:shop-api"),tag("environment:staging")'


def shop_api_selected_by_tags() -> list[dict]:
    """The hand-made mapping, shop-api selected by its component tag, and its staging twin by one tag more."""
    entries = mapping()
    for entry in entries:
        if entry["entity_id"] == "shop-api":
            entry["dynatrace_entity_selector"] = PRODUCTION_SELECTOR
    staging = {
        "entity_id": "shop-api",
        "kind": "component",
        "application_id": "shop",
        "environment": "staging",
        "dynatrace_entity_selector": STAGING_SELECTOR,
    }
    return [*entries, staging]


def test_a_staging_service_counts_in_stagings_slo_not_productions(tmp_path: Path) -> None:
    """SERVICE-A, tagged component:shop-api and environment:production, is production's shop-api as before:
    24 h x 1000 requests, 124 errors (101 at 10:00, 1 in each other hour); shop-db adds 20 h x 500 requests without
    error. SERVICE-S, tagged component:shop-api and environment:staging, serves 1000 requests an hour on the 19th,
    half of them failing. By hand, over last_7d at 99.5 % (a budget of 0.005 of the requests):
    - production shop: 24,000 + 10,000 = 34,000 requests, 124 bad, availability 1 - 124 / 34,000 = 0.99635,
      budget consumed 124 / (0.005 x 34,000) = 124 / 170 = 0.73;
    - staging shop: 24,000 requests, 12,000 bad, availability 0.5, budget consumed 12,000 / 120 = 100."""
    lake, settings = estate_lake(tmp_path)
    MappingStore(lake).apply(shop_api_selected_by_tags(), actor="test", replace=True)
    entities = get_dataset("dynatrace/entities")
    listings = [
        {"entity_id": "SERVICE-A", "entity_type": "SERVICE", "tags": ["component:shop-api", "environment:production"]},
        {"entity_id": "SERVICE-S", "entity_type": "SERVICE", "tags": ["component:shop-api", "environment:staging"]},
    ]
    lake.write_days(entities, rows(entities.id, *[listing | {"seen_on": t(19)} for listing in listings]))
    staging_hours = [
        {"entity_id": "SERVICE-S", "hour": t(19, h), "request_count": 1000.0, "error_count": 500.0} for h in range(24)
    ]
    write(lake, "dynatrace/service_metrics_hourly", *staging_hours)
    build(lake, settings, mode="full", as_of=AS_OF)

    with reading(lake, settings) as built:
        found = mart(built, "mv_slo_app_period", "app_id = 'shop' and period = 'last_7d'")
    slo = {r["environment"]: r for r in found}

    production = slo["production"]
    assert (production["availability_denominator"], production["bad_requests"]) == (34_000, 124)
    assert production["availability"] == pytest.approx(1 - 124 / 34_000)
    assert production["error_budget_consumed"] == pytest.approx(124 / 170)

    staging = slo["staging"]
    assert (staging["availability_denominator"], staging["bad_requests"]) == (24_000, 12_000)
    assert staging["availability"] == pytest.approx(0.5)
    assert staging["error_budget_consumed"] == pytest.approx(100)
