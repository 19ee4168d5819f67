"""Incremental builds over a generated estate give the mart a full rebuild of the same raw data gives.

The bench's estate generator makes 8 applications x 40 days (signals, logs, deployments and rollbacks, changes,
incidents, merge requests). The lake receives them as the sources would tell them: each row once its source knows
it (a deployment once finished, an incident's resolved version once resolved, a change's closed version once
closed, an hour of signals once over), in steps, through the ingest path (day partitions merged, the run log naming
the days written), with hourly and daily builds between steps: part of a day, two days at once, older days written
again, the month's end, a build with nothing new. After the last hourly build and after the daily build that ends
it, a full rebuild of a copy of the raw data and the mapping must give the same mart.
"""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from bench import lake_generator as generator
from lakehouse.aggregates.build import BuildMode, BuildResult, build
from lakehouse.aggregates.days import midnight
from lakehouse.mappings import MappingStore
from lakehouse.runlog import RunLog
from lakehouse.schemas import get_dataset
from lakehouse.settings import Settings
from lakehouse.storage import Lake, days_written
from tests.unit.aggregates.test_build import assert_same_mart

SPEC = generator.LakeSpec(apps=8, days=40, end=date(2026, 11, 3), seed=7, logs=True)
DEPLOYMENTS, CHANGES, INCIDENTS = "deploys/deployment_events", "servicenow/changes", "servicenow/incidents"
# The instant a source knows each row: what an ingest run after it reads.
KNOWN_AT = {
    generator.METRICS: "hour",
    generator.LOGS: "hour",
    DEPLOYMENTS: "finished_at",
    CHANGES: "sys_updated_on",
    INCIDENTS: "sys_updated_on",
    "gitlab/merge_requests": "updated_at",
}
# The deployment events' ingest computes them again from the sources' history and replaces their last 30 days.
DEPLOYMENTS_REWRITTEN = timedelta(days=30)
FIRST_BUILD = datetime(2026, 10, 28, 2, tzinfo=UTC)


class Sources:
    """The generated estate, told as its sources would tell it at an instant."""

    def __init__(self) -> None:
        con = generator._connect(SPEC)
        try:
            horizon = midnight(SPEC.end) + timedelta(days=1)
            self.rows = generator.event_rows(con, SPEC.start, SPEC.end, floor=SPEC.start, horizon=horizon)
            for dataset_id in (generator.METRICS, generator.LOGS):
                days = [SPEC.start + timedelta(days=n) for n in range(SPEC.days)]
                self.rows[dataset_id] = pa.concat_tables(generator.hourly_rows(con, dataset_id, d) for d in days)
        finally:
            con.close()

    def known(self, dataset_id: str, since: datetime | None, until: datetime) -> pa.Table:
        """The rows the source learnt in [since, until)."""
        rows = self.rows[dataset_id]
        at = rows[KNOWN_AT[dataset_id]]
        seen = pc.less(at, until)
        if since is not None:
            seen = pc.and_(seen, pc.greater_equal(at, since))
        return rows.filter(seen)


def ingest(lake: Lake, dataset_id: str, rows: pa.Table, *, replace_from: date | None = None) -> None:
    """Rows written as an ingest run writes them, recorded in the run log with the days written."""
    dataset = get_dataset(dataset_id)
    runs = RunLog(lake)
    run = runs.start("ingest", dataset.source, dataset_id)
    # The deployment events' ingest replaces whole days; the others merge rows into their days.
    writes = lake.write_days(dataset, rows) if replace_from is None else lake.replace_days(dataset, rows, replace_from)
    run.days_written = days_written(writes)
    runs.finish(run, "succeeded")


def load_history(lake: Lake, sources: Sources, until: datetime) -> None:
    """What the sources knew before the first build, written as the generator writes a lake: one object a day."""
    for dataset_id in KNOWN_AT:
        known = sources.known(dataset_id, None, until)
        for day, rows in generator._split_by_day(known, get_dataset(dataset_id).partition_column).items():
            generator._put_day(lake, dataset_id, day, rows)


def ingest_until(
    lake: Lake,
    sources: Sources,
    known: dict[str, datetime],
    until: datetime,
    *,
    only: list[str] | None = None,
    deployments_rewritten: bool = False,
    signals_corrected: date | None = None,
) -> None:
    """The ingests before a build: what each source (or `only` those) learnt since it was last read (`known`, moved
    on); the deployment events' last 30 days computed again, and an older day of signals corrected (traffic
    counted twice as high), if asked."""
    if signals_corrected is not None:
        day = sources.known(generator.METRICS, midnight(signals_corrected), until).filter(
            pc.less(pc.field("hour"), midnight(signals_corrected + timedelta(days=1)))
        )
        for name in ("request_count", "error_count"):
            day = day.set_column(day.schema.get_field_index(name), name, pc.multiply(day[name], 2))
        ingest(lake, generator.METRICS, day)
    for dataset_id in only or list(KNOWN_AT):
        if dataset_id == DEPLOYMENTS and deployments_rewritten:
            first = (until - DEPLOYMENTS_REWRITTEN).date()
            rewritten = sources.known(dataset_id, midnight(first), until)
            ingest(lake, dataset_id, rewritten, replace_from=first)
        else:
            ingest(lake, dataset_id, sources.known(dataset_id, known[dataset_id], until))
        known[dataset_id] = until


def full_rebuild(tmp_path: Path, name: str, as_of: datetime) -> Lake:
    """A full build of a copy of the incremental lake's raw data and mapping."""
    folder = tmp_path / name
    settings = Settings(lake_url=str(folder), duckdb_temp_directory=tmp_path / "duckdb")
    for part in ("raw", "ref"):
        shutil.copytree(tmp_path / "incremental" / part, folder / part)
    lake = Lake.from_settings(settings)
    build(lake, settings, mode="full", as_of=as_of)
    return lake


def table_rows(lake: Lake, table: str) -> list[dict[str, Any]]:
    return [row for key in lake.list_keys(f"mart/{table}/") for row in lake.get_table(key).to_pylist()]  # type: ignore[union-attr]


def moved_worker() -> list[dict[str, Any]]:
    """The mapping with app-0001's worker moved to app-0000: a corrected mapping re-attributes its history."""
    entries = generator.mapping_entries(SPEC.apps, SPEC.seed)
    for entry in entries:
        if entry["entity_id"] == "app-0001-worker":
            entry["application_id"] = "app-0000"
    return entries


def test_incremental_builds_over_a_generated_estate_give_the_mart_of_a_full_rebuild(tmp_path: Path) -> None:
    sources = Sources()
    settings = Settings(lake_url=str(tmp_path / "incremental"), duckdb_temp_directory=tmp_path / "duckdb")
    lake = Lake.from_settings(settings)
    MappingStore(lake).apply(generator.mapping_entries(SPEC.apps, SPEC.seed), actor="test", replace=True)
    load_history(lake, sources, FIRST_BUILD)
    build(lake, settings, mode="full", as_of=FIRST_BUILD)

    known = dict.fromkeys(KNOWN_AT, FIRST_BUILD)
    results: list[BuildResult] = []

    def step(until: datetime, mode: BuildMode = "hourly", *, fed: bool = True, **ingests: Any) -> None:
        if fed:
            ingest_until(lake, sources, known, until, **ingests)
        results.append(build(lake, settings, mode=mode, as_of=until))

    # A corrected mapping first: the build after it is a full one, which would hide what incremental builds
    # before it got wrong.
    MappingStore(lake).apply(moved_worker(), actor="test", replace=True)
    step(datetime(2026, 10, 29, 2, tzinfo=UTC), "daily")
    # The deployment events' ingest runs every 15 minutes, the others lag: a rollback at 09:30 makes app-0007-web's
    # deployment of the 21st a change failure, while the run log names the 29th alone.
    step(datetime(2026, 10, 29, 10, tzinfo=UTC), only=[DEPLOYMENTS])
    assert results[-1].day_from == date(2026, 10, 21)
    assert_same_mart(lake, full_rebuild(tmp_path, "full-rollback", results[-1].as_of), "hourly")
    # Two days and a half at once, with older days written again: the deployment events' last 30 days, and the
    # 25th's signals.
    step(datetime(2026, 10, 31, 23, tzinfo=UTC), deployments_rewritten=True, signals_corrected=date(2026, 10, 25))
    step(datetime(2026, 11, 1, 1, tzinfo=UTC))  # over the month's end
    step(datetime(2026, 11, 1, 2, tzinfo=UTC), fed=False)  # nothing new since the last build
    assert [r.full_because is not None for r in results] == [True, False, False, False, False]
    assert_same_mart(lake, full_rebuild(tmp_path, "full-hourly", results[-1].as_of), "hourly")

    step(datetime(2026, 11, 2, 3, tzinfo=UTC), "daily")
    full = full_rebuild(tmp_path, "full-daily", results[-1].as_of)
    assert_same_mart(lake, full, "daily")

    # The estate holds the cases the promise is about, arriving after the first build.
    incidents = [r for r in table_rows(full, "mv_incidents") if r["restored_at"] is not None]
    assert any(r["opened_at"] < FIRST_BUILD <= r["restored_at"] for r in incidents), "an old incident restored later"
    assert any(r["is_rollback"] and r["finished_at"] > FIRST_BUILD for r in table_rows(full, "mv_deployments"))
    assert any(
        r["deployed_at"] > FIRST_BUILD and r["deployed_at"] - r["merged_at"] > timedelta(days=1)
        for r in table_rows(full, "mv_lead_times")
    ), "a merge request shipped days after its merge"
    closed = sources.known(CHANGES, FIRST_BUILD, known[CHANGES]).filter(pc.equal(pc.field("state_label"), "Closed"))
    assert any(r["sys_created_on"] < FIRST_BUILD for r in closed.to_pylist()), "a change closed after the first build"
