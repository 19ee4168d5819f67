"""A Dynatrace service mapped in production and in another environment, as closely in each (named by both, or
meeting selectors of as many criteria), goes to production's entity, as its incidents and changes do, whatever the
other entity's id. A selector with more criteria is the more specific match and wins, whatever its environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from lakehouse.aggregates.build import build
from lakehouse.mappings import MappingStore
from lakehouse.schemas import get_dataset
from tests.unit.aggregates.estate import AS_OF, CI_API, estate_lake, mapping, rows, t
from tests.unit.aggregates.test_kpis import mart, reading


def requests_by_app(lake, settings) -> dict[tuple[str, str], float]:
    with reading(lake, settings) as built:
        days = mart(built, "mv_monitoring_app_day_summary", "requests is not null")
    totals: dict[tuple[str, str], float] = {}
    for day in days:
        key = (day["app_id"], day["environment"])
        totals[key] = totals.get(key, 0.0) + day["requests"]
    return totals


def test_a_service_named_in_staging_too_keeps_its_requests_in_production(tmp_path: Path) -> None:
    """alpha-svc, a staging component of the staging application alpha, names shop-api's SERVICE-A too. The
    service stays shop-api's: shop's production day holds 24 h x 1000 requests of shop-api and 20 h x 500 of
    shop-db (34,000), and alpha has none."""
    lake, settings = estate_lake(tmp_path)
    alpha = [
        {"entity_id": "alpha", "kind": "application", "environment": "staging", "team": "t9"},
        {
            "entity_id": "alpha-svc",
            "kind": "component",
            "application_id": "alpha",
            "environment": "staging",
            "dynatrace_entity_selector": 'entityId("SERVICE-A")',
            "servicenow_ci_id": CI_API,
        },
    ]
    MappingStore(lake).apply([*mapping(), *alpha], actor="test", replace=True)
    build(lake, settings, mode="full", as_of=AS_OF)
    assert requests_by_app(lake, settings) == {("shop", "production"): 24 * 1000 + 20 * 500}


@pytest.mark.parametrize(
    ("staging_selector", "owner"),
    [
        # the same criterion, a tie: production's zulu-svc, though alpha-svc sorts before it
        ('tag("app:pay")', ("zulu-svc", "production")),
        # more criteria than production's: the more specific match, staging's
        ('tag("app:pay"),mzName("Payments")', ("alpha-svc", "staging")),
    ],
)
def test_a_service_selected_in_staging_too_goes_to_the_most_specific_selector(
    tmp_path: Path, staging_selector: str, owner: tuple[str, str]
) -> None:
    """SERVICE-P, tagged app:pay and in the Payments zone, is selected by zulu-svc in production (by its tag) and
    by alpha-svc in staging: its 70 requests are production's on a tie, else the entity's with more criteria."""
    lake, settings = estate_lake(tmp_path)

    def entry(entity: str, selector: str, environment: str) -> dict:
        return {
            "entity_id": entity,
            "kind": "component",
            "application_id": "quiet",
            "environment": environment,
            "dynatrace_entity_selector": f"type(SERVICE),{selector}",
        }

    entries = [entry("zulu-svc", 'tag("app:pay")', "production"), entry("alpha-svc", staging_selector, "staging")]
    MappingStore(lake).apply([*mapping(), *entries], actor="test", replace=True)
    entities = get_dataset("dynatrace/entities")
    listing = {
        "entity_id": "SERVICE-P",
        "entity_type": "SERVICE",
        "tags": ["app:pay"],
        "management_zones": ["Payments"],
        "seen_on": t(19),
    }
    lake.write_days(entities, rows(entities.id, listing))
    metrics = get_dataset("dynatrace/service_metrics_hourly")
    hour = {"entity_id": "SERVICE-P", "hour": t(19, 9), "request_count": 70.0, "error_count": 0.0}
    lake.write_days(metrics, rows(metrics.id, hour))
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        found = mart(built, "mv_golden_signals_hourly", "component_id in ('zulu-svc', 'alpha-svc')")
    assert [(r["component_id"], r["environment"], r["requests"]) for r in found] == [(*owner, 70.0)]
