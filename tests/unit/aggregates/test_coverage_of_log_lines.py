"""Log lines the mapping leaves out, in the mapping's coverage (mv_mapping_coverage, mv_unmapped_keys), on the hand-made
estate of estate.py with shop's index logs-shop-*, into which its components shop-api and shop-db log. The logs
ingestion reads the whole index, so it counts lines of services and environments no entry names. Each count is
worked out by hand below."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lakehouse.aggregates.build import build
from lakehouse.mappings import MappingStore
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.unit.aggregates.estate import AS_OF, estate_lake, t, write
from tests.unit.aggregates.test_kpis import mart, reading

SHOP_INDEX = "logs-shop-*"
SHOP = {"entity_id": "shop", "kind": "application", "team": "t1", "group": "g1", "domain": "d1"}


def logged(service: str, environment: str, at: datetime, count: int, level: str = "ERROR") -> dict[str, Any]:
    return {
        "index_pattern": SHOP_INDEX,
        "service_name": service,
        "environment": environment,
        "level": level,
        "hour": at,
        "count": count,
        "read_at": t(20, 1),
    }


def shop_logging(tmp_path: Path, *lines: dict[str, Any]) -> tuple[Lake, Settings]:
    """The estate, shop given its index, `lines` read from it, built at AS_OF (20 Nov 10:00)."""
    lake, settings = estate_lake(tmp_path)
    MappingStore(lake).apply([SHOP | {"elisa_index": SHOP_INDEX}], actor="test")
    write(lake, "elasticsearch/log_counts_hourly", *lines)
    build(lake, settings, mode="full", as_of=AS_OF)
    return lake, settings


def the_reviews_day(tmp_path: Path) -> tuple[Lake, Settings]:
    """24 hours of the 19th, ERROR lines: shop-api in production 5 an hour (its own), shop-checkout-v2 in production
    50 an hour (no entity of that id) and shop-api in prod 7 an hour (an environment the mapping does not use)."""
    lines = []
    for hour in range(24):
        lines.append(logged("shop-api", "production", t(19, hour), 5))
        lines.append(logged("shop-checkout-v2", "production", t(19, hour), 50))
        lines.append(logged("shop-api", "prod", t(19, hour), 7))
    return shop_logging(tmp_path, *lines)


def log_coverage(lake: Lake, settings: Settings) -> dict[str, Any]:
    with reading(lake, settings) as at:
        found = mart(at, "mv_mapping_coverage", "record_kind = 'log_line'")
    assert len(found) == 1, found
    return found[0]


def unmapped_lines(lake: Lake, settings: Settings) -> dict[tuple[str, str], dict[str, Any]]:
    with reading(lake, settings) as at:
        found = mart(at, "mv_unmapped_keys", "record_kind = 'log_line'")
    return {(r["key"], r["environment"]): r for r in found}


def golden_signal_log_errors(lake: Lake, settings: Settings) -> int:
    with reading(lake, settings) as at:
        found = mart(at, "mv_golden_signals_hourly", "level = 'component'")
    return sum(r["log_errors"] or 0 for r in found)


def test_the_lines_the_mapping_leaves_out_count_in_its_coverage(tmp_path: Path) -> None:
    lake, settings = the_reviews_day(tmp_path)
    coverage = log_coverage(lake, settings)
    # 24 x (5 + 50 + 7) = 1,488 lines read; shop-api's in production, 24 x 5 = 120, are the golden signals'.
    assert (coverage["records"], coverage["attributed"], coverage["unattributed"]) == (1488, 120, 1368)
    assert coverage["attributed_share"] == 120 / 1488
    assert golden_signal_log_errors(lake, settings) == 120
    assert (coverage["window_start"], coverage["window_end"]) == (datetime(2026, 10, 21, 10, tzinfo=UTC), AS_OF)


def test_the_unmapped_keys_name_the_index_service_and_environment_logged(tmp_path: Path) -> None:
    lake, settings = the_reviews_day(tmp_path)
    keys = unmapped_lines(lake, settings)
    assert set(keys) == {("logs-shop-*|shop-checkout-v2", "production"), ("logs-shop-*|shop-api", "prod")}
    checkout = keys[("logs-shop-*|shop-checkout-v2", "production")]
    assert (checkout["key_kind"], checkout["records"], checkout["first_seen"], checkout["last_seen"]) == (
        "elisa_service",
        24 * 50,
        t(19, 0),
        t(19, 23),
    )
    assert (checkout["latest_record"], checkout["label"]) == (None, None)  # a line has no number, nor a CI
    assert keys[("logs-shop-*|shop-api", "prod")]["records"] == 24 * 7


def test_lines_are_counted_once_in_the_30_days_before_as_of(tmp_path: Path) -> None:
    """shop-checkout-v2's lines: 10 ERROR at 25 Oct 12:00 (in the window, in the month before as_of's), 4 WARN on the
    19th at 08:00, 3 of whose ERROR and WARN lines carry an exception (counted in EXCEPTION too, not lines of their
    own); before the window (21 Oct 09:00) and from as_of's hour on (20 Nov 10:00), not counted. shop-db's 6 lines
    logged under "Production" count in production, as the golden signals count them."""
    lake, settings = shop_logging(
        tmp_path,
        logged("shop-checkout-v2", "production", datetime(2026, 10, 25, 12, tzinfo=UTC), 10),
        logged("shop-checkout-v2", "production", t(19, 8), 4, "WARN"),
        logged("shop-checkout-v2", "production", t(19, 8), 3, "EXCEPTION"),
        logged("shop-checkout-v2", "production", datetime(2026, 10, 21, 9, tzinfo=UTC), 100),
        logged("shop-checkout-v2", "production", t(20, 10), 1000),
        logged("shop-db", "Production", t(19, 9), 6),
    )
    coverage = log_coverage(lake, settings)
    assert (coverage["records"], coverage["attributed"], coverage["unattributed"]) == (20, 6, 14)
    checkout = unmapped_lines(lake, settings)[("logs-shop-*|shop-checkout-v2", "production")]
    assert (checkout["records"], checkout["first_seen"], checkout["last_seen"]) == (
        14,
        datetime(2026, 10, 25, 12, tzinfo=UTC),
        t(19, 8),
    )


def test_a_mapping_that_names_the_service_claims_its_lines(tmp_path: Path) -> None:
    """shop-checkout-v2 mapped as a component of shop, in production: its 1,200 lines are attributed at the next
    build; shop-api's in prod are still left out."""
    lake, settings = the_reviews_day(tmp_path)
    component = {"entity_id": "shop-checkout-v2", "kind": "component", "application_id": "shop"}
    MappingStore(lake).apply([component], actor="test")
    build(lake, settings, mode="full", as_of=AS_OF)
    coverage = log_coverage(lake, settings)
    assert (coverage["records"], coverage["attributed"], coverage["unattributed"]) == (1488, 1320, 168)
    assert set(unmapped_lines(lake, settings)) == {("logs-shop-*|shop-api", "prod")}


def test_lines_read_again_under_a_wider_index_pattern_are_not_left_out(tmp_path: Path) -> None:
    """shop reads logs-shop-*, its component shop-api logs-shop-api-* of its own, and staging's shop-api (mapped
    there by a component entry) logs-shop-stg-*. Elasticsearch answers logs-shop-* with every index it matches, so on
    the 19th at 08:00 it counts shop-api's 40 ERROR lines in production again, and staging's 6; besides, 10 ERROR
    lines of shop-db (logging into shop's index) and 3 of shop-api in production logged into an index of logs-shop-*
    outside logs-shop-api-* (an old one, left out: counted nowhere). Read: 40 + 6 (the narrower patterns', claimed),
    10 (shop-db's, claimed) and the wider pattern's shop-api rows, 43 in production and 6 in staging, of which only the
    3 beyond the 40 claimed are lines left out: 40 + 6 + 10 + 3 = 59 lines, 56 attributed, and one unmapped key."""
    lake, settings = estate_lake(tmp_path)
    staging = {
        "entity_id": "shop-api",
        "kind": "component",
        "application_id": "shop",
        "environment": "staging",
        "elisa_index": "logs-shop-stg-*",
    }
    production_api = {"entity_id": "shop-api", "kind": "component", "application_id": "shop"}
    MappingStore(lake).apply(
        [SHOP | {"elisa_index": SHOP_INDEX}, production_api | {"elisa_index": "logs-shop-api-*"}, staging],
        actor="test",
    )
    at = t(19, 8)
    write(
        lake,
        "elasticsearch/log_counts_hourly",
        logged("shop-api", "production", at, 40) | {"index_pattern": "logs-shop-api-*"},
        logged("shop-api", "staging", at, 6) | {"index_pattern": "logs-shop-stg-*"},
        logged("shop-api", "production", at, 43),
        logged("shop-api", "staging", at, 6),
        logged("shop-db", "production", at, 10),
    )
    build(lake, settings, mode="full", as_of=AS_OF)
    coverage = log_coverage(lake, settings)
    assert (coverage["records"], coverage["attributed"], coverage["unattributed"]) == (59, 56, 3)
    # The attributed lines are those the golden signals count: 40 + 10 in production, 6 in staging.
    assert golden_signal_log_errors(lake, settings) == 56
    keys = unmapped_lines(lake, settings)
    assert {key: row["records"] for key, row in keys.items()} == {("logs-shop-*|shop-api", "production"): 3}
