"""A deployment events run writes the 2nd of March, then the store refuses its write of the 3rd: the run fails, and
its run record names the 2nd, which holds the run's events, while the 3rd keeps the last good run's. The next hourly
build's rows of the 2nd (mv_deployments, the application day summary) are those a full rebuild gives."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from functions.ingest_deploys import parse as deploys_parse
from functions.ingest_deploys.events import EVENTS
from lakehouse.aggregates.build import build
from lakehouse.ingest.config import IngestSettings
from lakehouse.ingest.run import RunOutcome
from lakehouse.ingest.sources import ingest
from lakehouse.ingest.window import Window
from lakehouse.mappings import MappingStore
from lakehouse.runlog import RunLog
from lakehouse.schemas import get_dataset
from lakehouse.settings import Settings
from lakehouse.storage import Lake

AS_OF = datetime(2024, 3, 6, 12, tzinfo=UTC)
WRITTEN_DAY, REFUSED_DAY = "2024-03-02", "2024-03-03"


class RefusesOneDay:
    """The lake's store, refusing every put of one day of the deployment events."""

    def __init__(self, store: Any, day: str) -> None:
        self.store, self.refused_key, self.refused = store, f"deployment_events/day={day}/", 0

    def put(self, key: str, *args: Any, **kwargs: Any) -> Any:
        if self.refused_key in key:
            self.refused += 1
            raise OSError("the store refused the write")
        return self.store.put(key, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


def gitlab_deployment(lake: Lake, deployment_id: int, finished_at: str) -> None:
    """A successful GitLab deployment made through the API (no job), created and finished on one day."""
    deployment = {
        "id": deployment_id,
        "iid": deployment_id,
        "ref": "main",
        "sha": f"sha{deployment_id}",
        "status": "success",
        "created_at": finished_at,
        "updated_at": finished_at,
        "user": {"username": "ann"},
        "environment": {"id": 1, "name": "production"},
        "deployable": None,
    }
    page = deploys_parse.parse_deployments_page([deployment], {"project_id": 11})
    lake.write_days(get_dataset(deploys_parse.DEPLOYMENTS), page.tables[deploys_parse.DEPLOYMENTS])


def events_run(lake: Lake, since: datetime) -> RunOutcome:
    window = Window(since, since + timedelta(hours=1))
    return ingest("deploys", lake, IngestSettings(), window=window, datasets=[EVENTS])


def mart_rows(lake: Lake, table: str) -> list[dict[str, Any]]:
    tables = [lake.get_table(key) for key in lake.list_keys(f"mart/{table}/")]
    return [row for t in tables if t is not None for row in t.to_pylist()]


def shop_deployments_on(lake: Lake, day: str) -> list[tuple[str, str]]:
    return sorted(
        (r["deployment_key"], r["status"])
        for r in mart_rows(lake, "mv_deployments")
        if r["app_id"] == "shop" and r["finished_at"].date().isoformat() == day
    )


def shop_summary_on(lake: Lake, day: str) -> list[dict[str, Any]]:
    rows = mart_rows(lake, "mv_monitoring_app_day_summary")
    return [r for r in rows if r["app_id"] == "shop" and r["day"].isoformat() == day]


def events_on(lake: Lake, day: str) -> list[str]:
    part = lake.read_partition(get_dataset(EVENTS), date.fromisoformat(day))
    return sorted(part.column("deployment_key").to_pylist()) if part is not None else []


def test_a_derived_run_failing_midway_still_tells_the_build_its_days(tmp_path: Path) -> None:
    settings = Settings(lake_url=str(tmp_path / "lake"), duckdb_temp_directory=tmp_path / "duckdb")
    lake = Lake.from_settings(settings)
    MappingStore(lake).apply(
        [{"entity_id": "shop", "kind": "application", "gitlab_project_id": 11}], actor="test", replace=True
    )
    # A first run on March 1st: the lake reads deployments from then on.
    events_run(lake, datetime(2024, 3, 1, tzinfo=UTC))
    gitlab_deployment(lake, 8001, "2024-03-02T10:00:00.000Z")
    gitlab_deployment(lake, 8002, "2024-03-03T10:00:00.000Z")
    events_run(lake, datetime(2024, 3, 6, 9, tzinfo=UTC))
    build(lake, settings, mode="full", as_of=AS_OF)
    assert shop_deployments_on(lake, WRITTEN_DAY) == [("gitlab:8001", "succeeded")]

    # A deployment more on each day; the run writes the 2nd, then the store refuses the 3rd.
    gitlab_deployment(lake, 8003, "2024-03-02T15:00:00.000Z")
    gitlab_deployment(lake, 8004, "2024-03-03T15:00:00.000Z")
    store = lake.store
    refusing = RefusesOneDay(store, REFUSED_DAY)
    lake.store = refusing  # type: ignore[assignment]
    try:
        outcome = events_run(lake, datetime(2024, 3, 6, 10, tzinfo=UTC))
    finally:
        lake.store = store
    assert refusing.refused
    [failed] = outcome.failed
    record = RunLog(lake).get(failed.record.run_id)
    assert record is not None and record.status == "failed"
    assert record.days_written == [WRITTEN_DAY]
    # The 2nd holds its new events; the 3rd keeps the last good run's.
    assert events_on(lake, WRITTEN_DAY) == ["gitlab:8001", "gitlab:8003"]
    assert events_on(lake, REFUSED_DAY) == ["gitlab:8002"]

    build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=1))
    hourly_deployments = shop_deployments_on(lake, WRITTEN_DAY)
    hourly_summary = shop_summary_on(lake, WRITTEN_DAY)
    # By hand: both deployments of the 2nd, counted in its summary.
    assert hourly_deployments == [("gitlab:8001", "succeeded"), ("gitlab:8003", "succeeded")]
    assert [r["deployments"] for r in hourly_summary] == [2]

    build(lake, settings, mode="full", as_of=AS_OF + timedelta(hours=1))
    assert hourly_deployments == shop_deployments_on(lake, WRITTEN_DAY)
    assert hourly_summary == shop_summary_on(lake, WRITTEN_DAY)
    # The 3rd keeps the last good run's events until the next run writes it.
    assert shop_deployments_on(lake, REFUSED_DAY) == [("gitlab:8002", "succeeded")]
