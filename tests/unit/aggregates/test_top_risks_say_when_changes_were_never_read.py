"""The top risks say when ServiceNow's change requests were never read, or read only within the 7 days, as they say
it of incidents and deployments: an unsuccessful change not read must not pass for none.

The hand-made estate's mapping and Dynatrace signals (tests/unit/aggregates/estate.py), built as of the 20th at
10:00, with the sources named read from the given instant (a first read recorded, as an ingest run leaves it) and
the others never read (no first read, nothing of them in the lake). shop's signals alone score nothing: 0, green,
with its SLOs not judged (24 hours with traffic of the 84 they need), said first.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from lakehouse.aggregates.build import build
from lakehouse.mappings import MappingStore
from lakehouse.runlog import FirstReads
from lakehouse.schemas import get_dataset
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.unit.aggregates.estate import AS_OF, SHOP_SLOS_NOT_JUDGED, mapping, metrics, t
from tests.unit.aggregates.test_kpis import mart, reading

SOURCES = {
    "incidents": ("servicenow", "incidents"),
    "changes": ("servicenow", "changes"),
    "deployments": ("deploys", "deployment_events"),
}
CHANGES_UNKNOWN = "changes unknown: ServiceNow not read yet"


def shop_risk(root: Path, **read_from: datetime) -> dict[str, Any]:
    """shop's top-risks row, each source of `read_from` first read at its instant."""
    settings = Settings(lake_url=str(root / "lake"), duckdb_temp_directory=root / "duckdb")
    lake = Lake.from_settings(settings)
    MappingStore(lake).apply(mapping(), actor="test", replace=True)
    lake.write_days(get_dataset("dynatrace/service_metrics_hourly"), metrics())
    for source, since in read_from.items():
        FirstReads(lake).record(*SOURCES[source], since, run_id=f"first-{source}")
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        return next(r for r in mart(built, "mv_monitoring_top_risks") if r["app_id"] == "shop")


def test_change_requests_never_read_say_so(tmp_path: Path) -> None:
    """Incidents and deployments read from the 1st, change requests never: the failed changes count what the
    deployments tell (0), and the reasons say the changes are unknown, as they would say it of incidents."""
    shop = shop_risk(tmp_path, incidents=t(1), deployments=t(1))
    assert shop["failed_changes_7d"] == 0
    assert shop["reasons"] == [SHOP_SLOS_NOT_JUDGED, CHANGES_UNKNOWN]
    assert (shop["risk_score"], shop["health"]) == (0, "green")


def test_change_requests_read_with_none_in_the_week_count_zero_and_say_nothing(tmp_path: Path) -> None:
    shop = shop_risk(tmp_path, incidents=t(1), deployments=t(1), changes=t(1))
    assert shop["failed_changes_7d"] == 0
    assert shop["reasons"] == [SHOP_SLOS_NOT_JUDGED]


def test_change_requests_first_read_within_the_week_say_since_when(tmp_path: Path) -> None:
    """Change requests first read on the 17th at 09:00, three days before as_of: those of the days before may be
    missing."""
    shop = shop_risk(tmp_path, incidents=t(1), deployments=t(1), changes=t(17, 9))
    assert shop["reasons"] == [
        SHOP_SLOS_NOT_JUDGED,
        "changes read only since 2026-11-17 09:00 UTC: ServiceNow first read then (earlier ones may be missing)",
    ]


def test_nothing_read_but_dynatrace_names_each_source_unknown_in_turn(tmp_path: Path) -> None:
    """Incidents, deployments, then change requests: the failed changes, found in neither, are unknown (null)."""
    shop = shop_risk(tmp_path)
    assert shop["failed_changes_7d"] is None
    assert shop["reasons"] == [
        SHOP_SLOS_NOT_JUDGED,
        "incidents unknown: ServiceNow not read yet",
        "deployments unknown: not read yet",
        CHANGES_UNKNOWN,
    ]
