"""The top risks' counts of a source the lake never read are unknown (null), never 0: an estate whose ServiceNow
incidents were never read must not read "0 open P1/P2". A source read and found empty counts 0.

The hand-made estate's mapping and Dynatrace signals (tests/unit/aggregates/estate.py), built as of the 20th at
10:00, with the sources named read from the 1st (a first read recorded, as an ingest run leaves it) and the others
never read (no first read, nothing of them in the lake). shop's signals are those of the 19th alone: 24 of the 168
hours, under the SLO's coverage, and no traffic in the last hour nor the week before, so its score is 0 and it is
green whatever is read, and says its SLOs were not judged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lakehouse.aggregates.build import build
from lakehouse.mappings import MappingStore
from lakehouse.runlog import FirstReads
from lakehouse.schemas import get_dataset
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.unit.aggregates.estate import AS_OF, CHG2, CI_DB, SHOP_SLOS_NOT_JUDGED, change, mapping, metrics, rows, t
from tests.unit.aggregates.test_kpis import mart, reading

SOURCES = {
    "incidents": ("servicenow", "incidents"),
    "changes": ("servicenow", "changes"),
    "deployments": ("deploys", "deployment_events"),
}
INCIDENTS_UNKNOWN = "incidents unknown: ServiceNow not read yet"
DEPLOYMENTS_UNKNOWN = "deployments unknown: not read yet"
CHANGES_UNKNOWN = "changes unknown: ServiceNow not read yet"
# CHG2, on shop-db's CI, closed unsuccessful: its work ended on the 18th at 07:00, within the 7 days.
UNSUCCESSFUL_CHANGE = change(
    CHG2, "CHG2", CI_DB, (t(18, 6, 58), t(18, 7)), "unsuccessful", t(17), t(18, 9), planned=(t(18, 6, 30), t(18, 8))
)


def shop_risk(root: Path, *read: str, changes: tuple[dict[str, Any], ...] = ()) -> dict[str, Any]:
    """shop's top-risks row, with the sources in `read` read from the 1st on and `changes` in the lake."""
    settings = Settings(lake_url=str(root / "lake"), duckdb_temp_directory=root / "duckdb")
    lake = Lake.from_settings(settings)
    MappingStore(lake).apply(mapping(), actor="test", replace=True)
    lake.write_days(get_dataset("dynatrace/service_metrics_hourly"), metrics())
    for source in read:
        FirstReads(lake).record(*SOURCES[source], t(1), run_id=f"first-{source}")
    if changes:
        lake.write_days(get_dataset("servicenow/changes"), rows("servicenow/changes", *changes))
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        return next(r for r in mart(built, "mv_monitoring_top_risks") if r["app_id"] == "shop")


def counts(risk: dict[str, Any]) -> tuple[Any, Any, Any]:
    return risk["open_p1_p2"], risk["incidents_7d"], risk["failed_changes_7d"]


def test_a_lake_that_never_read_incidents_nor_changes_has_unknown_counts(tmp_path: Path) -> None:
    """Nothing but Dynatrace read: the open P1/P2, the incidents of 7 days and the failed changes are null, where
    they said 0, and the reasons say why. The score and health stay those of what is known: 0, green."""
    shop = shop_risk(tmp_path)
    assert counts(shop) == (None, None, None)
    assert shop["reasons"] == [SHOP_SLOS_NOT_JUDGED, INCIDENTS_UNKNOWN, DEPLOYMENTS_UNKNOWN, CHANGES_UNKNOWN]
    assert (shop["risk_score"], shop["health"]) == (0, "green")


def test_incidents_read_with_none_open_count_zero(tmp_path: Path) -> None:
    """Every source read from the 1st, none of them holding anything of shop: 0 open, 0 opened, 0 failed, and no
    reason but the SLOs not judged."""
    shop = shop_risk(tmp_path, "incidents", "changes", "deployments")
    assert counts(shop) == (0, 0, 0)
    assert shop["reasons"] == [SHOP_SLOS_NOT_JUDGED]


def test_an_unsuccessful_change_counts_when_deployments_were_never_read(tmp_path: Path) -> None:
    """Change requests read, deployments never: CHG2 covers no deployment the lake holds, so it is 1 failed change
    (+10), not unknown; incidents never read stay unknown. 10 is green: the SLOs not judged are said."""
    shop = shop_risk(tmp_path, "changes", changes=(UNSUCCESSFUL_CHANGE,))
    assert counts(shop) == (None, None, 1)
    assert (shop["score_failed_changes"], shop["risk_score"]) == (10, 10)
    assert shop["reasons"] == [
        "1 failed change(s) in 7 days",
        SHOP_SLOS_NOT_JUDGED,
        INCIDENTS_UNKNOWN,
        DEPLOYMENTS_UNKNOWN,
    ]


def test_deployments_read_and_changes_never_read_count_the_failures_found(tmp_path: Path) -> None:
    """Deployments read from the 1st, none of shop's failed, change requests never read: 0 failed changes, as far as
    the deployments tell, and the reasons say the change requests are unknown: an unsuccessful one may be missing."""
    shop = shop_risk(tmp_path, "incidents", "deployments")
    assert counts(shop) == (0, 0, 0)
    assert shop["reasons"] == [SHOP_SLOS_NOT_JUDGED, CHANGES_UNKNOWN]
