"""Log counts of the hours the logs ingestion read: a level without a line there is 0, an hour not read is null.

Elasticsearch answers the logs ingestion's composite aggregation without empty buckets, so an hour a service logged
no error and no warning line has no row in raw/. The estate: shop (its index logs-shop-*, into which its components
shop-api and shop-db log) and quiet (logs-quiet-*, its component quiet-svc) have log indexes and Dynatrace's 24 hours
of the 19th; solo, an application mapped directly, has an index and no Dynatrace; dark (SERVICE-D) has Dynatrace's
24 hours of the 19th and no index. A logs run read 19 November from 06:00 to 20:00: shop-api logged 4 ERROR lines
at 09:00, 2 ERROR lines and 1 line with an exception at 10:00, shop-db 3 WARN lines at 12:00; quiet and solo
logged no error and no warning line.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from lakehouse.aggregates.build import build
from lakehouse.mappings import MappingStore
from lakehouse.runlog import FirstReads, RunLog, Watermarks
from lakehouse.schemas import get_dataset
from lakehouse.settings import Settings
from lakehouse.storage import Lake, days_written
from tests.unit.aggregates.estate import AS_OF, dark, mapping, rows, t, write_estate
from tests.unit.aggregates.test_build import assert_same_mart
from tests.unit.aggregates.test_kpis import mart, one, reading

LOGS = get_dataset("elasticsearch/log_counts_hourly")
METRICS = get_dataset("dynatrace/service_metrics_hourly")
INDEXES = {"shop": "logs-shop-*", "quiet": "logs-quiet-*"}


def logs_run(lake: Lake, since: datetime, until: datetime, *lines: dict[str, Any]) -> None:
    """A logs run that read [since, until) and found `lines`: its rows, its run record, the watermark it advanced
    and the first read it recorded, as the ingestion keeps them."""
    runs = RunLog(lake)
    run = runs.start("ingest_logs", LOGS.source, LOGS.id, window=(since, until))
    if lines:
        run.days_written = days_written(lake.write_days(LOGS, rows(LOGS.id, *lines)))
    runs.finish(run, "succeeded")
    Watermarks(lake).advance(LOGS.source, LOGS.name, until, run_id=run.run_id, read_from=since)
    FirstReads(lake).record(LOGS.source, LOGS.name, since, run_id=run.run_id)


def line(service: str, at: datetime, level: str, count: int) -> dict[str, Any]:
    index = INDEXES["shop" if service.startswith("shop") else "quiet"]
    return {
        "index_pattern": index,
        "service_name": service,
        "environment": "production",
        "level": level,
        "hour": at,
        "count": count,
    }


def logged_estate(root: Path) -> tuple[Lake, Settings]:
    """The estate with its indexes, and the logs run of the 19th from 06:00 to 20:00."""
    settings = Settings(lake_url=str(root / "lake"), duckdb_temp_directory=root / "duckdb")
    lake = Lake.from_settings(settings)
    write_estate(lake)
    entries = [e | {"elisa_index": INDEXES[e["entity_id"]]} if e["entity_id"] in INDEXES else e for e in mapping()]
    solo = {"entity_id": "solo", "kind": "application", "team": "t3", "elisa_index": "logs-solo-*"}
    MappingStore(lake).apply([*entries, *dark(), solo], actor="test", replace=True)
    served = [{"entity_id": "SERVICE-D", "hour": t(19, h), "request_count": 10.0} for h in range(24)]
    lake.write_days(METRICS, rows(METRICS.id, *served))
    logs_run(
        lake,
        t(19, 6),
        t(19, 20),
        line("shop-api", t(19, 9), "ERROR", 4),
        line("shop-api", t(19, 10), "ERROR", 2),
        line("shop-api", t(19, 10), "EXCEPTION", 1),
        line("shop-db", t(19, 12), "WARN", 3),
    )
    return lake, settings


def day_logs(lake: Lake, settings: Settings, day: date) -> dict[str, tuple[int | None, int | None]]:
    """Per application, its (log_errors, log_exceptions) of `day` in the day summary."""
    with reading(lake, settings) as built:
        found = mart(built, "mv_monitoring_app_day_summary", "day = $d", d=day)
    return {r["app_id"]: (r["log_errors"], r["log_exceptions"]) for r in found}


def hour_errors(lake: Lake, settings: Settings, entity: str, at: datetime) -> int | None:
    """An application's (or a component's) log_errors of an hour in the hourly golden signals."""
    level = "component" if "-" in entity else "application"
    column = "component_id" if level == "component" else "app_id"
    with reading(lake, settings) as built:
        where = f"level = $level and {column} = $entity and hour = $hour"
        found = mart(built, "mv_golden_signals_hourly", where, level=level, entity=entity, hour=at)
    return one(found)["log_errors"]


def test_a_day_read_without_an_error_line_counts_0_and_a_day_not_read_stays_unknown(tmp_path: Path) -> None:
    """The 19th: shop 4 + 2 = 6 errors and 1 exception; quiet and solo, read from 06:00 to 20:00 without a line,
    0 and 0; dark, without an index, unknown. The 18th, before the logs were first read, and the 20th, after the last
    hour read, are unknown for every application."""
    lake, settings = logged_estate(tmp_path)
    build(lake, settings, mode="full", as_of=AS_OF)

    the_19th = day_logs(lake, settings, date(2026, 11, 19))
    assert the_19th["shop"] == (6, 1)
    assert the_19th["quiet"] == (0, 0)
    assert the_19th["solo"] == (0, 0)
    assert the_19th["dark"] == (None, None)
    for day in (date(2026, 11, 18), date(2026, 11, 20)):
        assert set(day_logs(lake, settings, day).values()) == {(None, None)}, day


def test_an_hour_read_without_an_error_line_counts_0_and_an_hour_not_read_stays_unknown(tmp_path: Path) -> None:
    """quiet-svc and quiet: unknown at 05:00 (before the run's window) and at 20:00 (after it), 0 at 06:00 and 19:00.
    At 12:00 shop-api logged nothing and shop-db only WARN lines: 0 errors for both, and for shop. dark, without an
    index, unknown at 12:00."""
    lake, settings = logged_estate(tmp_path)
    build(lake, settings, mode="full", as_of=AS_OF)

    for entity in ("quiet-svc", "quiet"):
        found = {h: hour_errors(lake, settings, entity, t(19, h)) for h in (5, 6, 19, 20)}
        assert found == {5: None, 6: 0, 19: 0, 20: None}, entity
    for entity in ("shop-api", "shop-db", "shop"):
        assert hour_errors(lake, settings, entity, t(19, 12)) == 0, entity
    assert hour_errors(lake, settings, "shop-api", t(19, 9)) == 4
    assert hour_errors(lake, settings, "dark", t(19, 12)) is None


def test_hours_read_since_the_last_build_count_0_in_an_hourly_build_as_in_a_full_rebuild(tmp_path: Path) -> None:
    """After the build of 10:00 on the 20th, a logs run reads from 20:00 on the 19th to 11:00 on the 20th and finds no
    line (it writes no day). The hourly build of 11:00 counts quiet's 21:00 on the 19th as 0, and quiet's and solo's
    20th as 0 errors (its hours up to 11:00 read), and its mart is a full rebuild's of the same lake."""

    def evening_read(lake: Lake) -> None:
        logs_run(lake, t(19, 20), t(20, 11))

    lake, settings = logged_estate(tmp_path / "incremental")
    build(lake, settings, mode="full", as_of=AS_OF)
    evening_read(lake)
    result = build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=1))
    assert result.mode == "hourly"

    assert hour_errors(lake, settings, "quiet", t(19, 21)) == 0
    the_20th = day_logs(lake, settings, date(2026, 11, 20))
    assert the_20th["quiet"] == (0, 0) and the_20th["solo"] == (0, 0)

    full_lake, full_settings = logged_estate(tmp_path / "full")
    evening_read(full_lake)
    build(full_lake, full_settings, mode="full", as_of=AS_OF + timedelta(hours=1))
    assert_same_mart(lake, full_lake, "hourly")


def test_logs_first_read_further_back_make_the_next_build_a_full_rebuild(tmp_path: Path) -> None:
    """A backfill of the 18th reads the logs from its midnight, with no line: every day table's 18th changes from
    unknown to 0 errors for quiet, which no hourly build would rewrite (nothing was written on the 18th)."""
    lake, settings = logged_estate(tmp_path)
    build(lake, settings, mode="full", as_of=AS_OF)
    FirstReads(lake).record(LOGS.source, LOGS.name, t(18), run_id="backfill")

    result = build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=1))
    assert result.mode == "full"
    assert day_logs(lake, settings, date(2026, 11, 18))["quiet"] == (0, 0)


def test_an_estate_that_logged_no_error_nor_warning_line_counts_0_errors_in_every_hour_read(tmp_path: Path) -> None:
    """The logs run of the 19th from 06:00 to 20:00 found no line at all: raw/ holds no log count. quiet's hour of
    12:00 counts 0 errors, as its application's, and its day 0; dark, without an index, stays unknown."""
    settings = Settings(lake_url=str(tmp_path / "lake"), duckdb_temp_directory=tmp_path / "duckdb")
    lake = Lake.from_settings(settings)
    write_estate(lake)
    entries = [e | {"elisa_index": INDEXES[e["entity_id"]]} if e["entity_id"] in INDEXES else e for e in mapping()]
    MappingStore(lake).apply([*entries, *dark()], actor="test", replace=True)
    lake.write_days(METRICS, rows(METRICS.id, *[{"entity_id": "SERVICE-D", "hour": t(19, 12), "request_count": 1.0}]))
    logs_run(lake, t(19, 6), t(19, 20))
    build(lake, settings, mode="full", as_of=AS_OF)

    assert hour_errors(lake, settings, "quiet-svc", t(19, 12)) == 0
    assert hour_errors(lake, settings, "quiet", t(19, 12)) == 0
    assert hour_errors(lake, settings, "dark", t(19, 12)) is None
    the_19th = day_logs(lake, settings, date(2026, 11, 19))
    assert the_19th["quiet"] == (0, 0) and the_19th["dark"] == (None, None)
