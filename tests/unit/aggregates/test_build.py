"""The build runner: file order, atomic failure, incremental builds equal to a full rebuild."""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import lakehouse.runlog as runlog_module
from lakehouse.aggregates import build as build_module
from lakehouse.aggregates import lease, mart_writes
from lakehouse.aggregates.build import BuildError, BuildResult, build
from lakehouse.aggregates.sqlfiles import MACROS, SQL_DIR, load_macros, load_sql_files, parse_sql_file
from lakehouse.mappings import MappingStore
from lakehouse.runlog import RunLog
from lakehouse.schemas import get_dataset
from lakehouse.settings import Settings
from lakehouse.storage import Lake, days_written, to_parquet
from tests.unit.aggregates.estate import (
    AS_OF,
    CI_API,
    CI_DB,
    CI_Q,
    change,
    deployment,
    estate_lake,
    incident,
    mapping,
    metrics,
    rows,
    t,
    task_slas_read_from,
    write_estate,
)

PROVIDED = {
    "build_params",
    "ref_entities",
    "ref_pivots",
    # The hours the logs ingestion read each index pattern (lakehouse.index_hours), registered by the build.
    "ref_log_hours_read",
    # The settled deployments (lakehouse.aggregates.settled_deployments), registered by the build.
    "settled_deployment_events",
    "settled_successes",
    # The settled lead times (lakehouse.aggregates.settled_lead_times).
    "settled_lead_times",
    "settled_merge_requests",
    "settled_request_targets",
    # The settled changes (lakehouse.aggregates.settled_changes).
    "settled_change_versions",
    # The carried incident links (lakehouse.aggregates.settled_links).
    "settled_links",
    # The carried deployment rows (lakehouse.aggregates.settled_deployment_rows).
    "deployments_found_again",
    # The days with traffic earlier builds stored (lakehouse.aggregates.inputs).
    "stored_app_traffic_days",
}
HOURLY_MART = "mv_golden_signals_hourly"
GOLDEN_NOVEMBER = "mart/mv_golden_signals_hourly/month=2026-11/data.parquet"
MART_TABLES = {
    "mv_monitoring_app_day_summary",
    "mv_monitoring_domain_day_summary",
    "mv_monitoring_top_risks",
    "mv_incidents_app_day",
    "mv_changes_app_day",
    "mv_slo_app_period",
    "mv_dora_app_period",
    "mv_dora_group_period",
    "mv_golden_signals_hourly",
}


def test_every_file_reads_only_what_is_built_before_it() -> None:
    built: set[str] = set()
    daily_only: set[str] = set()
    raw = {"raw_" + d.replace("/", "_") for d in build_module.REGISTRY}
    files = load_sql_files()
    monthly = build_module._monthly_steps(files)
    statements = re.split(r"^create or replace macro ", load_macros().lower(), flags=re.M)[1:]
    macros = {text.split("(", 1)[0]: text for text in statements}
    assert "servicenow_owner" in macros
    for sql_file in files:
        # Named after its table, with a number prefix that sets the order.
        prefix, _, rest = sql_file.path.name.partition("_")
        assert prefix.isdigit() and rest == f"{sql_file.table}.sql", sql_file.path.name
        for name in sql_file.reads:
            assert name in built or name in PROVIDED or name in raw, f"{sql_file.path.name} reads {name} too early"
        body = sql_file.text.lower().split("-- refresh")[1]
        # What a macro the file calls reads, the file reads: its header declares it.
        body += "".join(text for macro, text in macros.items() if re.search(rf"\b{macro}\(", body))
        for name in sql_file.reads:
            assert name in body, f"{sql_file.path.name} declares {name} but never uses it"
        # An hourly build runs only the hourly files: they cannot read what a daily file builds.
        if sql_file.refresh == "hourly":
            assert not daily_only.intersection(sql_file.reads), f"{sql_file.path.name} reads a daily-only table"
        else:
            daily_only.add(sql_file.table)
        # The monthly steps all run where the first of them stands.
        if sql_file in monthly:
            before = {f.table for f in files[: files.index(monthly[0])]}
            month_group = {f.table for f in monthly}
            outside = set(sql_file.reads) - before - month_group - PROVIDED - raw
            assert not outside, f"{sql_file.path.name} runs with the monthly steps but reads {outside}"
        assert sql_file.table not in built, f"{sql_file.table} built twice"
        built.add(sql_file.table)
    assert built >= MART_TABLES


def test_the_days_events_reach_are_known_before_any_file_works_by_day() -> None:
    """The build learns on which earlier days changed event rows are counted where the hourly signals' loop
    begins: every table counted by day must be built before it, every file working on the days rebuilt after."""
    files = load_sql_files()
    first_monthly = files.index(build_module._monthly_steps(files)[0])
    counted = [i for i, f in enumerate(files) if f.counted_on]
    by_day = [i for i, f in enumerate(files) if f.partitioned_by == "day" or "day_from" in f.text]
    assert counted and by_day
    assert max(counted) < first_monthly <= min(by_day)


def test_a_header_without_grain_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "99_mv_x.sql"
    path.write_text("-- table: mv_x\n-- reads: build_params\n-- refresh: hourly\nselect 1\n", encoding="utf-8")
    with pytest.raises(ValueError, match="header lacks grain"):
        parse_sql_file(path)


def test_a_derived_column_needs_a_name_and_an_expression(tmp_path: Path) -> None:
    path = tmp_path / "99_mv_x.sql"
    header = "-- table: mv_x\n-- grain: one row\n-- reads: build_params\n-- refresh: hourly\n"
    path.write_text(header + "-- derived on read: error rate = errors / requests\nselect 1\n", encoding="utf-8")
    with pytest.raises(ValueError, match="derived on read must be <column> = <expression>"):
        parse_sql_file(path)


@pytest.fixture
def lake_and_settings(tmp_path: Path) -> tuple[Lake, Settings]:
    settings = Settings(lake_url=str(tmp_path / "lake"), duckdb_temp_directory=tmp_path / "duckdb")
    lake = Lake.from_settings(settings)
    write_estate(lake)
    return lake, settings


def sql_changed(tmp_path: Path, file_name: str, needle: str, replacement: str) -> tuple[Path, int]:
    """A copy of the SQL folder whose file has its first `needle` replaced; the folder, and the line changed."""
    broken = tmp_path / "sql"
    shutil.copytree(SQL_DIR, broken)
    text = (broken / file_name).read_text(encoding="utf-8")
    at = text.index(needle)
    (broken / file_name).write_text(text[:at] + replacement + text[at + len(needle) :], encoding="utf-8")
    return broken, text.count("\n", 0, at) + 1


@pytest.mark.parametrize(
    ("file_name", "needle", "replacement"),
    [
        # Inside the monthly loop: the file fails on its first month.
        ("29_stg_app_signals_daily.sql", "sum(s.requests)", "sum(s.no_such_column)"),
        # After it: the hourly golden signals' months are already written to local files, and must not be put.
        ("35_mv_monitoring_app_day_summary.sql", "p.day_from and p.day_to", "p.no_such_column and p.day_to"),
    ],
)
def test_a_failing_sql_file_names_file_and_line_and_keeps_the_previous_mart(
    lake_and_settings: tuple[Lake, Settings],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    file_name: str,
    needle: str,
    replacement: str,
) -> None:
    lake, settings = lake_and_settings
    build(lake, settings, mode="full", as_of=AS_OF)
    before = {k: lake.store.get(k) for k in lake.list_keys("mart/")}
    broken, line_no = sql_changed(tmp_path, file_name, needle, replacement)
    monkeypatch.setattr(build_module, "load_sql_files", lambda: load_sql_files(broken))
    with pytest.raises(BuildError, match=rf"^{file_name} line {line_no}: Binder Error"):
        build(lake, settings, mode="full", as_of=AS_OF + timedelta(hours=1))
    after = {k: lake.store.get(k) for k in lake.list_keys("mart/")}
    assert after == before
    assert RunLog(lake).list(since=t(19).date())[0].status == "failed"
    # No local file of the failed build is left behind.
    assert not list(settings.duckdb_temp_directory.rglob("*.parquet"))


@pytest.mark.parametrize(
    ("file_name", "needle", "replacement", "named"),
    [
        # The hourly mart is a view, its rows computed as each month is written: the error named no file.
        (
            "30_mv_golden_signals_hourly.sql",
            "        s.requests,\n",
            "        cast(s.requests || 'x' as double) as requests,\n",
            "30_mv_golden_signals_hourly.sql: Conversion Error",
        ),
        # The component hours are a view the application rollup reads: the error named the rollup's file alone.
        (
            "26_stg_signals_hourly.sql",
            "        m.request_count as requests,\n",
            "        cast('x' || m.request_count as double) as requests,\n",
            "27_stg_app_signals_hourly.sql: Conversion Error",
        ),
    ],
)
def test_a_value_a_view_cannot_cast_names_the_view_and_keeps_the_previous_mart(
    lake_and_settings: tuple[Lake, Settings],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    file_name: str,
    needle: str,
    replacement: str,
    named: str,
) -> None:
    lake, settings = lake_and_settings
    build(lake, settings, mode="full", as_of=AS_OF)
    before = {k: lake.store.get(k) for k in lake.list_keys("mart/")}
    broken, _ = sql_changed(tmp_path, file_name, needle, replacement)
    monkeypatch.setattr(build_module, "load_sql_files", lambda: load_sql_files(broken))
    with pytest.raises(BuildError) as failed:
        build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=1))
    assert str(failed.value).startswith(named)
    assert str(failed.value).endswith("(or in a view it reads: 26_stg_signals_hourly.sql)")
    assert {k: lake.store.get(k) for k in lake.list_keys("mart/")} == before
    assert RunLog(lake).list(since=t(19).date())[0].status == "failed"


def test_a_failing_macro_names_macros_sql_and_its_line_and_ends_the_run_failed(
    lake_and_settings: tuple[Lake, Settings], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """macros.sql is run before any file, as the build opens its connection. A macro left unfinished there failed the
    build with DuckDB's bare "Parser Error", naming no file, and left its run record running, read as failed only
    once its lease ran out ("stopped without finishing")."""
    lake, settings = lake_and_settings
    build(lake, settings, mode="full", as_of=AS_OF)
    before = {k: lake.store.get(k) for k in lake.list_keys("mart/")}
    broken = tmp_path / "sql"
    shutil.copytree(SQL_DIR, broken)
    lines = (broken / MACROS).read_text(encoding="utf-8").splitlines()
    line_no = next(i for i, line in enumerate(lines, start=1) if line.startswith("create or replace macro budget_"))
    lines[line_no] = lines[line_no].replace(" end;", " end +;")  # the macro's body, on the line after its name
    (broken / MACROS).write_text("\n".join(lines), encoding="utf-8")
    monkeypatch.setattr(build_module, "load_macros", lambda: load_macros(broken))
    with pytest.raises(BuildError, match=rf"^{MACROS} line {line_no + 1}: Parser Error"):
        build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=1))
    assert {k: lake.store.get(k) for k in lake.list_keys("mart/")} == before
    (last, *_) = RunLog(lake).list(since=t(19).date())
    assert (last.status, last.finished_at is not None) == ("failed", True)
    assert last.error is not None and last.error.startswith(f"{MACROS} line {line_no + 1}")


def test_a_table_whose_write_fails_leaves_the_whole_previous_mart(
    lake_and_settings: tuple[Lake, Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tables are written to local files in the background while the next SQL files run. When one of them cannot
    be written (here the top risks', a disk full, say), the build fails and puts nothing: not the tables
    written before it, nor the hourly signals' months, whose files were ready first."""
    lake, settings = lake_and_settings
    build(lake, settings, mode="full", as_of=AS_OF)
    before = {k: lake.store.get(k) for k in lake.list_keys("mart/")}
    copy_to_file = mart_writes.copy_to_file

    def failing(con: duckdb.DuckDBPyConnection, query: str, *args: object, **kwargs: object) -> tuple[Path, int]:
        if "from mv_monitoring_top_risks " in query:
            raise OSError("No space left on device")
        return copy_to_file(con, query, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(mart_writes, "copy_to_file", failing)
    # A day of metrics: the hourly signals' month is written again, before the top risks are.
    ingest_metrics(lake, timedelta(days=1))
    with pytest.raises(OSError, match="No space left"):
        build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=14))
    assert {k: lake.store.get(k) for k in lake.list_keys("mart/")} == before
    assert RunLog(lake).list(since=t(19).date())[0].status == "failed"
    assert not list(settings.duckdb_temp_directory.rglob("*.parquet"))


def test_a_mapping_emptied_by_its_last_change_is_no_mapping_to_build_with(
    lake_and_settings: tuple[Lake, Settings],
) -> None:
    """An admin removes all seven entries of the estate's mapping. The next build says there is no mapping to build
    with, as ingestion does, and keeps the mart as it was; it failed on an ENUM of no values, a DuckDB binder error."""
    lake, settings = lake_and_settings
    build(lake, settings, mode="full", as_of=AS_OF)
    before = {k: lake.store.get(k) for k in lake.list_keys("mart/")}
    MappingStore(lake).apply([], actor="ops", remove=[(e["entity_id"], "production") for e in mapping()])
    with pytest.raises(BuildError, match=r"^no mapping"):
        build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=1))
    assert {k: lake.store.get(k) for k in lake.list_keys("mart/")} == before


def ingest(lake: Lake, dataset_id: str, *items: dict) -> None:
    """Rows arriving through an ingest run, recorded in the run log with the days it wrote."""
    runs = RunLog(lake)
    run = runs.start("ingest", dataset_id.split("/")[0], dataset_id)
    writes = lake.write_days(get_dataset(dataset_id), rows(dataset_id, *items))
    run.days_written = days_written(writes)
    runs.finish(run, "succeeded")


def ingest_metrics(lake: Lake, shift: timedelta, **changes: float) -> None:
    """The estate's day of metrics moved by `shift` (and with `changes`), recorded in the run log as an ingest."""
    moved = [row | {"hour": row["hour"] + shift} | changes for row in metrics().to_pylist()]
    ingest(lake, "dynatrace/service_metrics_hourly", *moved)


def mart_snapshot(lake: Lake) -> dict[str, list[dict]]:
    """Each mart table's rows, whatever objects hold them (a month object and day objects, say)."""
    out: dict[str, list[dict]] = {}
    for key in lake.list_keys("mart/"):
        table = lake.get_table(key)
        assert table is not None
        out.setdefault(key.split("/")[1], []).extend(table.to_pylist())
    return {name: sorted(found, key=repr) for name, found in out.items()}


@pytest.mark.parametrize("mode", ["daily", "hourly"])
def test_incremental_builds_give_the_same_mart_as_a_full_rebuild(tmp_path: Path, settings: Settings, mode: str) -> None:
    def fresh(name: str) -> tuple[Lake, Settings]:
        settings = Settings(lake_url=str(tmp_path / name), duckdb_temp_directory=tmp_path / "duckdb")
        return Lake.from_settings(settings), settings

    # Incremental, on a local folder and on S3 (the kept days of a month are read back from the store): a full
    # build, then a day of metrics and a new incident arrive, then an hourly build.
    lake = Lake.from_settings(settings)
    write_estate(lake)
    build(lake, settings, mode="full", as_of=AS_OF)
    ingest_metrics(lake, timedelta(days=1))
    result = build(lake, settings, mode=mode, as_of=AS_OF + timedelta(hours=14))  # type: ignore[arg-type]
    assert result.mode == mode and result.day_from == t(20).date()

    # Full: the same raw data, built once.
    full_lake, full_settings = fresh("full")
    write_estate(full_lake)
    ingest_metrics(full_lake, timedelta(days=1))
    build(full_lake, full_settings, mode="full", as_of=AS_OF + timedelta(hours=14))

    assert_same_mart(lake, full_lake, mode)


def assert_same_mart(incremental_lake: Lake, full_lake: Lake, mode: str) -> None:
    incremental, full = mart_snapshot(incremental_lake), mart_snapshot(full_lake)
    if mode == "hourly":
        # An hourly build leaves the daily tables (SLO, DORA periods) as the last daily or full build made them.
        hourly = {f.table for f in load_sql_files() if f.refresh == "hourly" and f.is_mart}
        incremental = {k: v for k, v in incremental.items() if k in hourly}
        full = {k: v for k, v in full.items() if k in hourly}
        assert full["mv_golden_signals_hourly"]
    assert incremental == full


def test_forget_rewriting_a_day_before_the_lakes_first_adds_no_day_to_the_day_tables(tmp_path: Path) -> None:
    """jdoe started a sync of shop-api on 3 October, in ArgoCD's history, which the SQL does not read; the estate's
    first day is 1 November. Forget rewrote the 3rd, and its run (naming no dataset) sent the next hourly build back
    to it: 3 to 31 October became zero-filled rows of the day tables for each application, which no full build
    has. The hourly build now starts no earlier than the full one, and the mart is the same as a full rebuild."""
    from lakehouse.forget import forget

    lake, settings = estate_lake(tmp_path / "incremental")
    history = get_dataset("argocd/deployment_history")
    synced = datetime(2026, 10, 3, 12, tzinfo=UTC)
    row = {"app_name": "shop-api-prod", "history_id": 1, "revision": "r0", "deployed_at": synced}
    row |= {"deploy_started_at": synced - timedelta(hours=1), "initiated_by": "jdoe", "read_at": t(1)}
    lake.write_days(history, rows(history.id, row))
    build(lake, settings, mode="full", as_of=AS_OF)
    forgotten = forget(lake, "jdoe", actor="test", say=lambda line: None)
    assert {d.day.isoformat() for d in forgotten.rewritten} == {"2026-10-03"}
    result = build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=1))
    assert (result.mode, result.day_from) == ("hourly", AS_OF.date())  # the as-of's day alone, as any hour's

    copy = tmp_path / "full"
    shutil.copytree(settings.lake_url, copy / "lake", ignore=shutil.ignore_patterns("mart", "build"))
    full_settings = Settings(lake_url=str(copy / "lake"), duckdb_temp_directory=copy / "duckdb")
    full_lake = Lake.from_settings(full_settings)
    assert build(full_lake, full_settings, mode="full", as_of=AS_OF + timedelta(hours=1)).day_from == t(1).date()
    assert_same_mart(lake, full_lake, "hourly")


def resolve_old_incident(lake: Lake) -> None:
    """INC2, opened on the 18th, resolved on the 20th: an ingest writes its opening day's partition again."""
    ingest(lake, "servicenow/incidents", incident("i2" * 16, "INC2", CI_DB, t(18, 8), 1, 6, t(20, 9)))


def test_an_incident_resolved_today_rebuilds_its_days_but_not_the_signals_of_those_days(tmp_path: Path) -> None:
    """The incident tables are rebuilt from INC2's opening day, the 18th; the hourly signals only for the 20th,
    the day their ingest wrote. November's month object of signals, which holds the 18th and 19th, is left as
    it was, and the mart is the same as a full rebuild of the same data."""
    settings = Settings(lake_url=str(tmp_path / "incremental"), duckdb_temp_directory=tmp_path / "duckdb")
    lake = Lake.from_settings(settings)
    write_estate(lake)
    build(lake, settings, mode="full", as_of=AS_OF)
    before = lake.store.versions("mart/mv_golden_signals_hourly/")
    time.sleep(0.01)  # a local object's version includes its modification time
    ingest_metrics(lake, timedelta(days=1))
    resolve_old_incident(lake)
    result = build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=14))
    assert result.day_from == t(18).date()
    after = lake.store.versions("mart/mv_golden_signals_hourly/")
    assert after[GOLDEN_NOVEMBER] == before[GOLDEN_NOVEMBER]
    incidents = pa.concat_tables(lake.get_table(k) for k in lake.list_keys("mart/mv_incidents/"))  # type: ignore[misc]
    inc2 = next(r for r in incidents.to_pylist() if r["number"] == "INC2")
    assert inc2["restored_at"] == t(20, 9) and not inc2["is_open"]

    full_lake, full_settings = estate_lake(tmp_path / "full")
    ingest_metrics(full_lake, timedelta(days=1))
    resolve_old_incident(full_lake)
    build(full_lake, full_settings, mode="full", as_of=AS_OF + timedelta(hours=14))
    assert_same_mart(lake, full_lake, "hourly")


def write_change_corrected_after_as_of(lake: Lake) -> None:
    """CHG12 on quiet-svc, worked on the 18th from 09:00 to 10:00 and closed successful at 11:00; its close code was
    corrected to unsuccessful at 10:10 on the 20th, ten minutes after as_of, and read ahead of the build of 10:00."""
    successful = change("c" * 32, "CHG12", CI_Q, (t(18, 9), t(18, 10)), "successful", t(17), t(18, 11))
    unsuccessful = successful | {"close_code": "unsuccessful", "sys_updated_on": AS_OF + timedelta(minutes=10)}
    ingest(lake, "servicenow/changes", successful, unsuccessful)


def test_a_change_version_that_comes_due_rebuilds_its_days_as_a_full_rebuild_does(tmp_path: Path) -> None:
    """The build of 10:00 counts CHG12 successful on the 18th; the hourly build of 11:00, with nothing ingested
    since, reads its unsuccessful version: the 18th is rebuilt, with 1 unsuccessful change, and the mart is the
    same as a full rebuild at 11:00."""
    settings = Settings(lake_url=str(tmp_path / "incremental"), duckdb_temp_directory=tmp_path / "duckdb")
    lake = Lake.from_settings(settings)
    write_estate(lake)
    write_change_corrected_after_as_of(lake)
    build(lake, settings, mode="full", as_of=AS_OF)
    result = build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=1))
    assert result.mode == "hourly" and result.day_from == t(18).date()
    days = mart_snapshot(lake)["mv_changes_app_day"]
    quiet_18th = next(r for r in days if r["app_id"] == "quiet" and r["day"] == t(18).date())
    assert (quiet_18th["successful"], quiet_18th["unsuccessful"]) == (0, 1)

    full_lake, full_settings = estate_lake(tmp_path / "full")
    write_change_corrected_after_as_of(full_lake)
    build(full_lake, full_settings, mode="full", as_of=AS_OF + timedelta(hours=1))
    assert_same_mart(lake, full_lake, "hourly")


def test_day_tables_are_written_per_month(lake_and_settings: tuple[Lake, Settings]) -> None:
    lake, settings = lake_and_settings
    build(lake, settings, mode="full", as_of=AS_OF)
    keys = [k for k in lake.list_keys("mart/mv_monitoring_app_day_summary/")]
    # The month object holds the complete days; the build's own day (20 November, 10:00) is an object of its own.
    assert keys == [
        "mart/mv_monitoring_app_day_summary/month=2026-11/data.parquet",
        "mart/mv_monitoring_app_day_summary/month=2026-11/day-2026-11-20.parquet",
    ]
    month = pq.read_table(f"{lake.url}/{keys[0]}")
    # Days 1..19 of November (the earliest raw partition is the 1st) for shop, quiet, broken in production.
    assert month.num_rows == 19 * 3
    assert days_through(lake, keys[0]) == b"2026-11-19"
    assert pq.read_table(f"{lake.url}/{keys[1]}").column("day").to_pylist() == [t(20).date()] * 3


def test_hourly_signals_are_sorted_by_application_as_text_and_keep_text_keys(
    lake_and_settings: tuple[Lake, Settings],
) -> None:
    """The build keys the hourly rows on ENUMs made from the mapping, which lists shop before quiet (and broken,
    which has no metrics). The month object must still be sorted as text (quiet first: the API reads it by
    application), store plain text, and give the row group the minimum and maximum of its own applications: a
    reader skips row groups by them (broken, first in the ENUM, has no row in it)."""
    lake, settings = lake_and_settings
    build(lake, settings, mode="full", as_of=AS_OF)
    path = f"{lake.url}/{GOLDEN_NOVEMBER}"
    month = pq.read_table(path)
    apps = month.column("app_id").to_pylist()
    # The 19th's 24 hours: quiet's service and application, then shop's two services and application.
    assert apps == ["quiet"] * (24 * 2) + ["shop"] * (24 * 3)
    for column in ("level", "app_id", "component_id", "environment"):
        assert month.schema.field(column).type == pa.string(), column
    metadata = pq.read_metadata(path)
    assert metadata.num_row_groups == 1
    stats = metadata.row_group(0).column(metadata.schema.names.index("app_id")).statistics
    assert (stats.min, stats.max) == ("quiet", "shop")


def test_counts_are_written_as_integers(lake_and_settings: tuple[Lake, Settings]) -> None:
    """Summed counts stay BIGINT in the mart's Parquet: DuckDB's sum() widens them to HUGEINT, which Parquet
    writers store as a double or a 38-digit decimal, and analysts and the Glue catalog would see that."""
    lake, settings = lake_and_settings
    build(lake, settings, mode="full", as_of=AS_OF)
    counts = {
        "mv_monitoring_app_day_summary": ("log_errors", "log_exceptions", "measured_hours", "incidents_opened"),
        "mv_monitoring_domain_day_summary": ("incidents_opened", "sla_breaches", "deployments", "log_errors"),
        "mv_slo_group_period": ("measured_hours",),
        "mv_monitoring_top_risks": ("measured_hours_7d", "measured_hours_prev_7d"),
        "mv_golden_signals_hourly": ("log_errors", "log_exceptions"),
    }
    for table, columns in counts.items():
        key = next(k for k in lake.list_keys(f"mart/{table}/"))
        schema = pq.read_schema(f"{lake.url}/{key}")
        assert {c: str(schema.field(c).type) for c in columns} == dict.fromkeys(columns, "int64"), table


def test_whole_history_tables_rewrite_only_the_months_whose_rows_changed(
    lake_and_settings: tuple[Lake, Settings],
) -> None:
    lake, settings = lake_and_settings
    deploys = get_dataset("deploys/deployment_events")
    # A deployment in October besides the estate's November ones, and an object left by an older layout.
    lake.write_days(
        deploys,
        rows(
            deploys.id,
            deployment(
                "argocd:shop-api-prod:0", "argocd", "shop-api-prod", t(1) - timedelta(days=20), "succeeded", "r0"
            ),
        ),
    )
    lake.put_table("mart/mv_deployments/data.parquet", rows(deploys.id))  # the layout before months
    build(lake, settings, mode="full", as_of=AS_OF)
    october, november = (
        "mart/mv_deployments/month=2026-10/data.parquet",
        "mart/mv_deployments/month=2026-11/data.parquet",
    )
    assert lake.list_keys("mart/mv_deployments/") == [october, november]
    before = lake.store.versions("mart/mv_deployments/")

    time.sleep(0.01)  # a local object's version includes its modification time
    lake.write_days(
        deploys,
        rows(
            deploys.id,
            deployment(
                "argocd:shop-api-prod:9", "argocd", "shop-api-prod", AS_OF + timedelta(minutes=30), "succeeded", "r9"
            ),
        ),
    )
    build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=1))
    after = lake.store.versions("mart/mv_deployments/")
    assert after[october] == before[october]  # its rows did not change: not rewritten
    assert after[november] != before[november]
    keys = {r["deployment_key"] for r in lake.get_table(november).to_pylist()}  # type: ignore[union-attr]
    assert "argocd:shop-api-prod:9" in keys and "argocd:shop-api-prod:0" not in keys


def test_a_whole_history_table_left_without_rows_is_one_empty_object(lake_and_settings: tuple[Lake, Settings]) -> None:
    lake, settings = lake_and_settings
    build(lake, settings, mode="full", as_of=AS_OF)
    assert lake.list_keys("mart/mv_lead_times/") == ["mart/mv_lead_times/month=2026-11/data.parquet"]
    merge_requests = get_dataset("gitlab/merge_requests")
    for day in lake.list_partitions(merge_requests):
        lake.store.delete(lake.partition_key(merge_requests, day))
    build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=1))
    # No merge request left: the month's object is gone and one empty object keeps the table's columns.
    assert lake.list_keys("mart/mv_lead_times/") == ["mart/mv_lead_times/data.parquet"]
    empty = lake.get_table("mart/mv_lead_times/data.parquet")
    assert empty is not None and empty.num_rows == 0 and "lead_time_hours" in empty.column_names


def test_another_production_environment_makes_the_next_build_a_full_rebuild(
    lake_and_settings: tuple[Lake, Settings],
) -> None:
    """Records mapped in several environments go to production's, and top risks are production's: naming another
    environment production re-attributes every day, as a corrected mapping does."""
    lake, settings = lake_and_settings
    build(lake, settings, mode="full", as_of=AS_OF)
    renamed = settings.model_copy(update={"production_environment": "prod"})
    result = build(lake, renamed, mode="hourly", as_of=AS_OF + timedelta(hours=1))
    assert (result.mode, result.day_from) == ("full", t(1).date())
    assert result.full_because == "the production environment is prod (was production)"
    assert build(lake, renamed, mode="hourly", as_of=AS_OF + timedelta(hours=2)).mode == "hourly"


def test_new_sql_makes_the_next_build_a_full_rebuild(
    lake_and_settings: tuple[Lake, Settings], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake, settings = lake_and_settings
    build(lake, settings, mode="full", as_of=AS_OF)
    assert build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=1)).mode == "hourly"
    # A release changes one definition: every day must be rebuilt with it, not only the days touched since.
    changed = release_with(tmp_path, "33_mv_incidents_app_day.sql", lambda sql: sql + "\n-- a changed definition\n")
    monkeypatch.setattr(build_module, "load_sql_files", lambda: load_sql_files(changed))
    result = build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=2))
    assert (result.mode, result.day_from, result.full_because) == ("full", t(1).date(), "the SQL files changed")
    # The SQL the mart was built with is recorded: the next build is incremental again.
    assert build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=3)).mode == "hourly"


def test_a_changed_macro_makes_the_next_build_a_full_rebuild(
    lake_and_settings: tuple[Lake, Settings], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake, settings = lake_and_settings
    build(lake, settings, mode="full", as_of=AS_OF)
    assert build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=1)).mode == "hourly"
    assert "none" in burn_rate_alerts(lake)
    # A release changes a rule several files share (macros.sql): every day is rebuilt with it, as for a changed file.
    changed = release_with(tmp_path, MACROS, lambda sql: sql.replace("else 'none'", "else 'calm'"))
    monkeypatch.setattr(build_module, "load_macros", lambda: load_macros(changed))
    result = build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=2))
    assert (result.mode, result.day_from, result.full_because) == ("full", t(1).date(), "the SQL files changed")
    # The build applied the rule it recorded: an application with nothing to alert on now reads 'calm'.
    alerts = burn_rate_alerts(lake)
    assert "calm" in alerts and "none" not in alerts
    assert build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=3)).mode == "hourly"


def release_with(tmp_path: Path, file_name: str, change: Callable[[str], str]) -> Path:
    """The SQL folder as a release would ship it, one file's text changed."""
    folder = tmp_path / "sql"
    shutil.copytree(SQL_DIR, folder)
    target = folder / file_name
    target.write_text(change(target.read_text(encoding="utf-8")), encoding="utf-8")
    return folder


def burn_rate_alerts(lake: Lake) -> set[str]:
    table = lake.get_table("mart/mv_slo_burn_rates/data.parquet")
    assert table is not None
    return set(table.column("burn_rate_alert").to_pylist())


def test_a_mart_from_a_release_that_did_not_record_its_sql_is_rebuilt_in_full(
    lake_and_settings: tuple[Lake, Settings],
) -> None:
    lake, settings = lake_and_settings
    build(lake, settings, mode="full", as_of=AS_OF)
    state = lake.get_json(build_module.STATE_KEY)
    assert state is not None
    lake.put_json(build_module.STATE_KEY, {k: v for k, v in state[0].items() if k != "sql_version"})
    result = build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=1))
    assert (result.mode, result.full_because) == ("full", "the SQL files changed")


def test_days_kept_from_an_older_object_take_the_types_the_sql_gives_now(
    lake_and_settings: tuple[Lake, Settings],
) -> None:
    lake, settings = lake_and_settings
    build(lake, settings, mode="full", as_of=AS_OF)
    key = GOLDEN_NOVEMBER
    before = lake.get_table(key)
    assert before is not None
    # The month as an older release wrote it: summed log counts as 38-digit decimals, and no footer saying which
    # days it holds (so it is taken to hold the whole month and rewritten by the next build).
    column = before.schema.get_field_index("log_errors")
    older = before.set_column(column, "log_errors", before["log_errors"].cast(pa.decimal128(38, 0)))
    older = older.replace_schema_metadata(None)
    sink = pa.BufferOutputStream()
    pq.write_table(older, sink)
    lake.store.put(key, sink.getvalue().to_pybytes())
    result = build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=1))
    assert result.day_from == t(20).date()
    after = lake.get_table(key)
    assert after is not None
    assert str(after.schema.field("log_errors").type) == "int64"

    def kept(table: pa.Table) -> list[dict]:
        return sorted((r for r in table.to_pylist() if r["day"] < t(20).date()), key=repr)

    assert kept(after) == kept(before)


def hourly_keys(lake: Lake) -> list[str]:
    return lake.list_keys("mart/mv_golden_signals_hourly/")


def days_through(lake: Lake, key: str) -> bytes:
    return pq.read_metadata(lake.url_of(key)).metadata[b"rosetta_days_through"]


def test_an_hourly_build_writes_its_days_beside_the_month_object_and_a_daily_build_folds_them_in(
    lake_and_settings: tuple[Lake, Settings],
) -> None:
    lake, settings = lake_and_settings
    build(lake, settings, mode="full", as_of=AS_OF)
    # The estate's signals are on the 19th; the full build of the 20th, 10:00 holds them in the month object.
    assert hourly_keys(lake) == [GOLDEN_NOVEMBER]
    month_before = lake.store.get(GOLDEN_NOVEMBER)
    assert month_before is not None and days_through(lake, GOLDEN_NOVEMBER) == b"2026-11-19"

    # A day of signals for the 20th arrives; the hourly build just after midnight rebuilds the 20th and 21st.
    ingest_metrics(lake, timedelta(days=1))
    build(lake, settings, mode="hourly", as_of=t(21, 0))
    day_key = "mart/mv_golden_signals_hourly/month=2026-11/day-2026-11-20.parquet"
    # The month object is left as it was; the 20th is an object of its own; the 21st has no rows, so no object.
    assert hourly_keys(lake) == [GOLDEN_NOVEMBER, day_key]
    month_after = lake.store.get(GOLDEN_NOVEMBER)
    assert month_after is not None and month_after.data == month_before.data
    day = lake.get_table(day_key)
    assert day is not None
    # 24 hours of shop's two components, quiet's one, and the two applications: 24 x 5 rows.
    assert set(day.column("day").to_pylist()) == {t(20).date()} and day.num_rows == 24 * 5
    assert day.num_rows == pq.read_table(lake.url_of(GOLDEN_NOVEMBER)).num_rows

    # The daily build folds the complete 20th into the month object and removes its day object.
    build(lake, settings, mode="daily", as_of=t(21, 1))
    assert hourly_keys(lake) == [GOLDEN_NOVEMBER]
    assert days_through(lake, GOLDEN_NOVEMBER) == b"2026-11-20"
    month = lake.get_table(GOLDEN_NOVEMBER)
    assert month is not None
    assert sorted(month.column("day").to_pylist()) == [t(19).date()] * (24 * 5) + [t(20).date()] * (24 * 5)


def test_late_rows_for_a_day_the_month_object_holds_are_merged_into_it(
    lake_and_settings: tuple[Lake, Settings],
) -> None:
    lake, settings = lake_and_settings
    build(lake, settings, mode="full", as_of=AS_OF)
    # A corrected 19th arrives (twice the requests): that day is in the month object, so the hourly build
    # rewrites it, with its other days kept.
    ingest_metrics(lake, timedelta(0), request_count=2000.0)
    result = build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=1))
    assert result.day_from == t(19).date()
    assert hourly_keys(lake) == [GOLDEN_NOVEMBER]
    month = lake.get_table(GOLDEN_NOVEMBER)
    assert month is not None
    components = [r for r in month.to_pylist() if r["level"] == "component"]
    # Each of the three components' 24 hours once, with the corrected count.
    assert len(components) == 72 and {r["requests"] for r in components} == {2000.0}
    assert days_through(lake, GOLDEN_NOVEMBER) == b"2026-11-19"


def test_a_day_object_the_month_object_also_holds_is_removed(lake_and_settings: tuple[Lake, Settings]) -> None:
    """A build that stopped after putting a month object and before removing the day objects it took in leaves
    those days twice; the next build removes the day objects."""
    lake, settings = lake_and_settings
    build(lake, settings, mode="full", as_of=AS_OF)
    month = lake.store.get(GOLDEN_NOVEMBER)
    assert month is not None
    left = "mart/mv_golden_signals_hourly/month=2026-11/day-2026-11-19.parquet"
    lake.store.put(left, month.data)
    build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=1))
    assert hourly_keys(lake) == [GOLDEN_NOVEMBER]


def test_a_day_object_the_month_object_also_holds_is_removed_from_a_month_the_build_does_not_write(
    tmp_path: Path,
) -> None:
    """The estate's day of signals also on 20 October; the full build of 20 November, 10:00 gives October's
    month objects, which hold its days through the 31st. A build stopped before its deletes left the 20th's day
    objects beside them. The next build is hourly: it rebuilds only November's last days and writes no October
    object, yet removes those day objects, for the hourly signals and for a day table written after the SQL."""
    settings = Settings(lake_url=str(tmp_path / "lake"), duckdb_temp_directory=tmp_path / "duckdb")
    lake = Lake.from_settings(settings)
    write_estate(lake)
    ingest_metrics(lake, -timedelta(days=30))
    build(lake, settings, mode="full", as_of=AS_OF)
    tables = (HOURLY_MART, "mv_monitoring_app_day_summary")
    for table in tables:
        october = lake.get_table(f"mart/{table}/month=2026-10/data.parquet")
        assert october is not None
        the_20th = october.filter(pc.equal(october["day"], t(20).date() - timedelta(days=31)))
        assert the_20th.num_rows > 0
        lake.put_table(f"mart/{table}/month=2026-10/day-2026-10-20.parquet", the_20th)
    before = lake.store.versions("mart/")
    result = build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=1))
    assert result.day_from == t(20).date()
    for table in tables:
        assert lake.list_keys(f"mart/{table}/month=2026-10/") == [f"mart/{table}/month=2026-10/data.parquet"]
        october_key = f"mart/{table}/month=2026-10/data.parquet"
        assert lake.store.versions(october_key)[october_key] == before[october_key]


def test_a_month_object_whose_footer_cannot_be_read_fails_the_build_and_keeps_the_day_objects(
    lake_and_settings: tuple[Lake, Settings],
) -> None:
    """The full build of the 20th, 10:00 and the hourly one of the 21st, 01:00 leave November's incident days as
    a month object through the 19th and the 20th's and 21st's day objects. The month object then cannot be read (cut
    short here; on S3, a failed request): its last day is unknown, not the month's last. The next build fails
    naming it, and the day objects, the only copy of the 20th and 21st, are still there as they were. A full build
    replaces every object, that one included: it succeeds, and November is a month object through the 20th again
    beside the 21st's day object."""
    lake, settings = lake_and_settings
    build(lake, settings, mode="full", as_of=AS_OF)
    build(lake, settings, mode="hourly", as_of=t(21, 1))
    folder = "mart/mv_incidents_app_day/month=2026-11/"
    days = [f"{folder}day-2026-11-20.parquet", f"{folder}day-2026-11-21.parquet"]
    assert lake.list_keys(folder) == [f"{folder}data.parquet", *days]
    before = {key: lake.store.get(key) for key in days}
    month = lake.store.get(f"{folder}data.parquet")
    assert month is not None
    lake.store.put(f"{folder}data.parquet", month.data[: len(month.data) // 2])
    with pytest.raises(BuildError, match=rf"^{folder}data.parquet: its footer cannot be read"):
        build(lake, settings, mode="hourly", as_of=t(21, 2))
    assert {key: lake.store.get(key) for key in days} == before
    build(lake, settings, mode="full", as_of=t(21, 2))
    assert lake.list_keys(folder) == [f"{folder}data.parquet", days[1]]
    rebuilt = lake.get_table(f"{folder}data.parquet")
    assert rebuilt is not None and max(rebuilt.column("day").to_pylist()) == t(20).date()


def test_a_daily_build_folds_in_the_day_objects_of_a_month_it_does_not_rebuild(
    lake_and_settings: tuple[Lake, Settings],
) -> None:
    """The full build of 30 November, 10:00 leaves the 30th as an object of its own, and so does the hourly
    build of 1 December, 01:00, which counts the 30th's hours after 10:00. A daily build on 2 December rebuilds
    only December's days (the 1st and the 2nd), yet November's 30th, complete since, goes into November's
    object: for a table written after the SQL (the day summary) and for the hourly signals, written month by
    month with it."""
    lake, settings = lake_and_settings
    ingest_metrics(lake, timedelta(days=11))  # the estate's day of signals again on the 30th
    build(lake, settings, mode="full", as_of=t(30, 10))
    build(lake, settings, mode="hourly", as_of=t(30, 10) + timedelta(hours=15))
    tables = ("mv_monitoring_app_day_summary", "mv_golden_signals_hourly")
    for table in tables:
        folder = f"mart/{table}/month=2026-11/"
        assert lake.list_keys(folder) == [f"{folder}data.parquet", f"{folder}day-2026-11-30.parquet"]
    before = mart_snapshot(lake)
    result = build(lake, settings, mode="daily", as_of=t(30, 10) + timedelta(days=2))
    assert (result.day_from, result.day_to) == (t(30).date() + timedelta(days=1), t(30).date() + timedelta(days=2))
    after = mart_snapshot(lake)
    for table in tables:
        folder = f"mart/{table}/month=2026-11/"
        assert lake.list_keys(folder) == [f"{folder}data.parquet"]
        assert days_through(lake, f"{folder}data.parquet") == b"2026-11-30"
        assert [r for r in after[table] if r["day"].month == 11] == [r for r in before[table] if r["day"].month == 11]


def list_service(lake: Lake, tags: list[str], seen_on_day: int) -> None:
    """The Entities API lists SERVICE-R with these tags on that day, recorded in the run log as an ingest."""
    listing = {"entity_id": "SERVICE-R", "entity_type": "SERVICE", "tags": tags, "seen_on": t(seen_on_day)}
    ingest(lake, "dynatrace/entities", listing)


def test_a_service_retagged_into_another_entity_moves_with_its_history(
    lake_and_settings: tuple[Lake, Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    """retag-a takes the services tagged app:ra, retag-b those tagged app:rb. SERVICE-R, listed with app:ra on
    the 19th, has 70 requests that day: retag-a's. On the 20th it is listed with app:rb: the next build, though
    hourly, rebuilds every day, and the 19th's requests are retag-b's, as a full rebuild would have them."""
    lake, settings = lake_and_settings
    selected = [
        {"entity_id": f"retag-{x}", "kind": "component", "application_id": "quiet", "dynatrace_tag": f"app:r{x}"}
        for x in ("a", "b")
    ]
    MappingStore(lake).apply([*mapping(), *selected], actor="test", replace=True)
    list_service(lake, ["app:ra"], 19)
    metrics = get_dataset("dynatrace/service_metrics_hourly")
    hour = {"entity_id": "SERVICE-R", "hour": t(19, 9), "request_count": 70.0, "error_count": 0.0}
    lake.write_days(metrics, rows(metrics.id, hour))

    def owner() -> list[tuple[str, float]]:
        golden = pa.concat_tables(lake.get_table(k) for k in hourly_keys(lake)).to_pylist()  # type: ignore[misc]
        return [(r["component_id"], r["requests"]) for r in golden if str(r["component_id"]).startswith("retag")]

    build(lake, settings, mode="full", as_of=AS_OF)
    assert owner() == [("retag-a", 70.0)]
    # The entity map's digest reads the entities' history copy, as the build does: the copies (and the settled
    # deployments beside them) are listed once.
    listed: list[str] = []
    list_keys = lake.list_keys
    monkeypatch.setattr(lake, "list_keys", lambda prefix, **kw: listed.append(prefix) or list_keys(prefix, **kw))
    assert build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=1)).full_because is None
    assert listed.count("state/build/") == 1

    list_service(lake, ["app:rb"], 20)
    result = build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=2))
    assert result.mode == "full" and "tags" in (result.full_because or "")
    assert owner() == [("retag-b", 70.0)]


def test_a_gitlab_path_found_after_a_build_brings_its_projects_history(
    lake_and_settings: tuple[Lake, Settings],
) -> None:
    """by-path names its GitLab project by its path, shop/by-path, which no ingestion has asked GitLab yet: GitLab
    deployment 9001 of project 41 (the 19th) is no entity's. A run then records that the path is project 41: the
    next build, though hourly, rebuilds every day (the run's row lies under the project's creation day, which no
    build reads), and 9001 is by-path's, as a full rebuild would have it. By hand: no by-path deployment, then one,
    gitlab:9001 on the 19th, and the reason of the full rebuild names the path."""
    lake, settings = lake_and_settings
    by_path = {
        "entity_id": "by-path",
        "kind": "component",
        "application_id": "quiet",
        "gitlab_project_slug": "shop/by-path",
    }
    MappingStore(lake).apply([*mapping(), by_path], actor="test", replace=True)
    ingest(lake, "deploys/deployment_events", deployment("gitlab:9001", "gitlab", "41", t(19, 9), "succeeded", "c1"))

    def by_path_deployments() -> list[tuple[str, object]]:
        found = mart_snapshot(lake)["mv_deployments"]
        return [(r["deployment_key"], r["day"]) for r in found if r["component_id"] == "by-path"]

    build(lake, settings, mode="full", as_of=AS_OF)
    assert by_path_deployments() == []
    assert build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=1)).full_because is None

    answer = {"project_path": "shop/by-path", "project_id": 41, "created_at": t(1), "observed_at": t(20, 10)}
    ingest(lake, "gitlab/project_paths", answer)
    result = build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=2))
    assert result.mode == "full" and "GitLab project path" in (result.full_because or "")
    assert by_path_deployments() == [("gitlab:9001", t(19).date())]


def test_a_daily_build_reads_back_the_application_hours_of_months_without_new_signals(tmp_path: Path) -> None:
    """The estate's day of signals also on 20 October. After a full build, a day of signals arrives for 20
    November: the daily build rolls November up again and reads October's application hours back from the
    hourly mart. Its mart, the quarter's SLO (which counts 20 October) included, is a full rebuild's."""

    def lake_with_october(name: str) -> tuple[Lake, Settings]:
        settings = Settings(lake_url=str(tmp_path / name), duckdb_temp_directory=tmp_path / "duckdb")
        lake = Lake.from_settings(settings)
        write_estate(lake)
        ingest_metrics(lake, -timedelta(days=30))
        return lake, settings

    lake, settings = lake_with_october("incremental")
    build(lake, settings, mode="full", as_of=AS_OF)
    ingest_metrics(lake, timedelta(days=1))
    result = build(lake, settings, mode="daily", as_of=AS_OF + timedelta(hours=14))
    assert result.full_because is None and "read back application hours" in result.seconds

    full_lake, full_settings = lake_with_october("full")
    ingest_metrics(full_lake, timedelta(days=1))
    build(full_lake, full_settings, mode="full", as_of=AS_OF + timedelta(hours=14))
    quarter = [r for r in mart_snapshot(full_lake)["mv_slo_app_period"] if r["period"] == "quarter"]
    shop = next(r for r in quarter if r["app_id"] == "shop" and r["environment"] == "production")
    assert shop["availability_denominator"] == 3 * 34_000  # 20 Oct, 19 and 20 Nov
    assert_same_mart(lake, full_lake, "daily")


def test_a_table_counted_by_day_names_every_column_its_day_tables_read(
    lake_and_settings: tuple[Lake, Settings],
) -> None:
    """A column a day table reads but the counted table's header leaves out would change unseen: the day it is
    counted on would keep its old figure. Every column of a counted table that a day table reading it names
    must be in the header's `counted on days of` or `counted with`."""
    lake, settings = lake_and_settings
    build(lake, settings, mode="full", as_of=AS_OF)
    files = load_sql_files()
    counted = [f for f in files if f.counted_on]
    assert {f.table for f in counted} == {"mv_deployments", "mv_incidents", "mv_changes"}
    for table in counted:
        columns = lake.get_table(lake.list_keys(f"mart/{table.table}/")[0]).column_names  # type: ignore[union-attr]
        listed = {*table.counted_on, *table.counted_with}
        assert listed <= set(columns), table.table
        for day_table in (f for f in files if f.partitioned_by == "day" and table.table in f.reads):
            named = {c for c in columns if re.search(rf"\b{c}\b", day_table.text.split("\n--\n", 1)[-1])}
            assert named <= listed, (day_table.path.name, table.table, named - listed)


QUIET_DEPLOYED = [
    deployment("argocd:quiet-prod:1", "argocd", "quiet-prod", t(18, 9), "succeeded", "q1"),
    deployment("argocd:quiet-prod:2", "argocd", "quiet-prod", t(19, 9), "succeeded", "q2"),
]
SLA_BREACHED = {
    "sys_id": "s" * 32,
    "task_sys_id": "i2" * 16,
    "task_number": "INC2",
    "stage": "in_progress",
    "has_breached": True,
    "start_time": t(19, 1),
    "sys_updated_on": t(20, 11),
}
# What arrives on the 20th, and the earlier day of a day table it changes: (table, application, day, column).
LATE_EVENTS = {
    # q2 is rolled back: a change failure on the 19th, the day it was deployed.
    "rollback": (
        ("deploys/deployment_events", QUIET_DEPLOYED),
        (
            "deploys/deployment_events",
            [
                QUIET_DEPLOYED[0]
                | {"deployment_key": "argocd:quiet-prod:3", "finished_at": t(20, 12), "is_rollback": True}
            ],
        ),
        ("mv_monitoring_app_day_summary", "quiet", 19, "deployment_change_failures"),
    ),
    # An emergency change recorded on the 20th for work done on the 18th.
    "retroactive change": (
        None,
        (
            "servicenow/changes",
            [
                change(
                    "7" * 32,
                    "CHG7",
                    CI_Q,
                    (t(18, 9), t(18, 10)),
                    "unsuccessful",
                    t(20, 10),
                    t(20, 11),
                    change_type="emergency",
                    planned=(t(18, 9), t(18, 10)),
                )
            ],
        ),
        ("mv_changes_app_day", "quiet", 18, "emergency"),
    ),
    # INC2, opened on the 18th, breaches an SLA that started on the 19th: the SLA's partition is the 19th's. The
    # lake read task SLAs before (another of INC2's, met): one never read would leave the 18th's breaches unknown.
    "sla breach": (
        ("servicenow/task_slas", [SLA_BREACHED | {"sys_id": "m" * 32, "has_breached": False, "stage": "completed"}]),
        ("servicenow/task_slas", [SLA_BREACHED]),
        ("mv_incidents_app_day", "shop", 18, "sla_breaches"),
    ),
}


def _counted_on_day(lake: Lake, table: str, app_id: str, day: int, column: str) -> int:
    """A day table's figure for an application on a day of November."""
    found = mart_snapshot(lake)[table]
    return next(r[column] for r in found if r["app_id"] == app_id and r["day"] == t(day).date())


@pytest.mark.parametrize("case", LATE_EVENTS)
def test_an_event_arriving_today_rebuilds_the_earlier_day_it_is_counted_on(tmp_path: Path, case: str) -> None:
    """The run log names only the days ingests wrote; a row counted on an earlier day has that day rebuilt."""
    known, late, where = LATE_EVENTS[case]
    day = where[2]

    def counted(lake: Lake) -> int:
        return _counted_on_day(lake, *where)

    lake, settings = estate_lake(tmp_path)
    task_slas_read_from(lake)  # a lake of this release: its SLA breaches are known
    if known:
        lake.write_days(get_dataset(known[0]), rows(known[0], *known[1]))
    build(lake, settings, mode="full", as_of=AS_OF)
    assert counted(lake) == 0
    ingest(lake, late[0], *late[1])
    result = build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=14))
    assert result.day_from == t(day).date()
    assert counted(lake) == 1

    full_lake, full_settings = estate_lake(tmp_path / "full")
    task_slas_read_from(full_lake)  # a lake of this release: its SLA breaches are known
    for dataset_id, items in (known, late) if known else (late,):
        full_lake.write_days(get_dataset(dataset_id), rows(dataset_id, *items))
    build(full_lake, full_settings, mode="full", as_of=AS_OF + timedelta(hours=14))
    assert_same_mart(lake, full_lake, "hourly")


# Events ingested ahead of the build of 10:00 that happen after its as_of, counted on an earlier day: (dataset,
# rows, (table, application, day, column)).
AFTER_AS_OF = {
    # INC2's SLA (INC2 opened on the 18th) breaches at 10:20.
    "sla breach": (
        "servicenow/task_slas",
        [SLA_BREACHED | {"planned_end_time": t(20, 10, 20), "sys_updated_on": t(20, 10, 20)}],
        ("mv_incidents_app_day", "shop", 18, "sla_breaches"),
    ),
}


@pytest.mark.parametrize("case", AFTER_AS_OF)
def test_an_event_after_as_of_counts_on_its_earlier_day_once_an_hourly_build_passes_it(
    tmp_path: Path, case: str
) -> None:
    """Ingested before the build of 10:00 but happening after 10:00, the event is not counted by it. Nothing is
    ingested until the build of 11:00, an hourly one: it counts the event on its earlier day, as a full build does."""
    dataset_id, items, where = AFTER_AS_OF[case]
    day = where[2]

    def counted(lake: Lake) -> int:
        return _counted_on_day(lake, *where)

    lake, settings = estate_lake(tmp_path)
    task_slas_read_from(lake)  # a lake of this release: its SLA breaches are known
    ingest(lake, dataset_id, *items)
    build(lake, settings, mode="full", as_of=AS_OF)
    assert counted(lake) == 0
    result = build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=1))
    assert result.day_from == t(day).date()
    assert counted(lake) == 1

    full_lake, full_settings = estate_lake(tmp_path / "full")
    task_slas_read_from(full_lake)  # a lake of this release: its SLA breaches are known
    full_lake.write_days(get_dataset(dataset_id), rows(dataset_id, *items))
    build(full_lake, full_settings, mode="full", as_of=AS_OF + timedelta(hours=1))
    assert_same_mart(lake, full_lake, "hourly")


def d(month: int, day: int, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


# Deployments before the settled part's cut, 16 Oct 00:00 for a full build as of 20 Nov (35 days before): it settles
# the attempts whose next success finished before 15 Oct 00:00, a day before it.
BEFORE_THE_CUT = [
    # shop-api in production: GitLab deployed project 11 there until ArgoCD took over on 1 Sep.
    deployment("gitlab:901", "gitlab", "11", d(8, 20), "succeeded", "x1"),  # settled: ArgoCD's 1 Sep follows it
    deployment("gitlab:902", "gitlab", "11", d(9, 30), "succeeded", "x2"),  # a hand-off to ArgoCD: no deployment
    deployment("argocd:shop-api-prod:0a", "argocd", "shop-api-prod", d(9, 1), "succeeded", "r0"),  # settled
    deployment("argocd:shop-api-prod:0b", "argocd", "shop-api-prod", d(9, 10), "succeeded", "r0b"),  # settled
    deployment("argocd:shop-api-prod:0c", "argocd", "shop-api-prod", d(10, 1), "succeeded", "r0c"),  # next on 1 Nov
    deployment("argocd:shop-api-prod:op0", "argocd", "shop-api-prod", d(10, 5), "failed", "r9"),  # next on 1 Nov
    # shop-db in production (project 12).
    deployment("gitlab:201", "gitlab", "12", d(9, 1), "succeeded", "s0"),  # settled: next on 20 Sep
    deployment("gitlab:202", "gitlab", "12", d(9, 20), "succeeded", "s5"),  # settled: next on 1 Oct
    deployment("gitlab:203", "gitlab", "12", d(10, 1), "succeeded", "s6"),  # next is the estate's 102, on 18 Nov
]


def lake_before_the_cut(path: Path, incidents: list[dict], changes: list[dict]) -> tuple[Lake, Settings]:
    """The estate with the deployments before the cut (BEFORE_THE_CUT), and those incidents and changes."""
    lake, settings = estate_lake(path)
    lake.write_days(get_dataset("deploys/deployment_events"), rows("deploys/deployment_events", *BEFORE_THE_CUT))
    for dataset_id, items in (("servicenow/incidents", incidents), ("servicenow/changes", changes)):
        if items:
            lake.write_days(get_dataset(dataset_id), rows(dataset_id, *items))
    return lake, settings


@pytest.mark.parametrize("case", ["a rollback to a settled revision", "a day before the cut written again"])
def test_an_hourly_build_attributes_only_the_deployments_a_later_attempt_can_change(tmp_path: Path, case: str) -> None:
    """A full build as of 20 Nov settles the five deployments whose next success finished before 15 Oct. On the
    20th, GitLab puts s0 back on shop-db: s0 first ran on 1 Sep, before s1 (the estate's 18 Nov), so it is a
    rollback, and the estate's 102 (s1) was rolled back; and project 11's pipeline hands a revision to ArgoCD, which
    has deployed shop-api since 1 Sep. The hourly build attributes the other attempts again and takes the five
    settled ones as they were, and gives a full rebuild's mart. A deployment backfilled on
    25 Sep, a day before the cut, makes the settled part out of date: the hourly build attributes every attempt."""
    extra = [
        deployment("gitlab:205", "gitlab", "12", t(20, 8), "succeeded", "s0"),
        # Project 11's pipeline hands x3 to ArgoCD: not a deployment.
        deployment("gitlab:906", "gitlab", "11", t(20, 7), "succeeded", "x3"),
    ]
    if case == "a day before the cut written again":
        extra.append(deployment("gitlab:204", "gitlab", "12", d(9, 25), "failed", "s9"))

    lake, settings = estate_lake(tmp_path)
    lake.write_days(get_dataset("deploys/deployment_events"), rows("deploys/deployment_events", *BEFORE_THE_CUT))
    build(lake, settings, mode="full", as_of=AS_OF)
    ingest(lake, "deploys/deployment_events", *extra)
    result = build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=1))
    assert result.mode == "hourly"
    if case == "a rollback to a settled revision":
        # gitlab:901 and ArgoCD's 0a and 0b (next successes 1 Sep, 10 Sep and 1 Oct), gitlab:201 and 202 (20 Sep
        # and 1 Oct).
        assert result.settled_rows["stg_deployments"] == 5
    else:
        assert "stg_deployments" not in result.settled_rows
    deployments = {r["deployment_key"]: r for r in mart_snapshot(lake)["mv_deployments"]}
    assert deployments["gitlab:205"]["is_rollback"] and deployments["gitlab:205"]["previous_revision"] == "s1"
    assert deployments["gitlab:102"]["rolled_back"]
    assert not deployments["gitlab:203"]["rolled_back"]
    assert "gitlab:902" not in deployments and "gitlab:906" not in deployments

    full_lake, full_settings = estate_lake(tmp_path / "full")
    full_lake.write_days(
        get_dataset("deploys/deployment_events"), rows("deploys/deployment_events", *BEFORE_THE_CUT, *extra)
    )
    build(full_lake, full_settings, mode="full", as_of=AS_OF + timedelta(hours=1))
    assert_same_mart(lake, full_lake, "hourly")


def old_change(number: int, ci: str, work: tuple[datetime, datetime], updated: datetime, **fields: object) -> dict:
    """A change created the day its work started, closed successful."""
    created = work[0].replace(hour=0)
    return change(f"{number:032d}", f"CHG{number}", ci, work, "successful", created, updated) | fields


# Changes before the cut (16 Oct): the settled ones are those whose every version came before 15 Oct, whose work
# ended over an hour before it, and whose covered attempt is settled.
CHANGES_BEFORE_THE_CUT = [
    # Covers ArgoCD's 0a (1 Sep 12:00, settled): settled.
    old_change(901, CI_API, (d(9, 1, 11), d(9, 1, 11, 30)), d(9, 1, 13)),
    # Covers gitlab:202 (20 Sep 12:00, settled): settled.
    old_change(906, CI_DB, (d(9, 20, 11, 10), d(9, 20, 11, 40)), d(9, 20, 13)),
    # Covers ArgoCD's 0c (1 Oct 12:00), whose next success came on 1 Nov: carried.
    old_change(902, CI_API, (d(10, 1, 11), d(10, 1, 11, 45)), d(10, 1, 13)),
    # Covers gitlab:202 (20 Sep 12:00, settled), but a later version came on 18 Nov: carried, as that version.
    old_change(903, CI_DB, (d(9, 20, 11), d(9, 20, 11, 50)), d(9, 20, 13)),
    old_change(903, CI_DB, (d(9, 20, 11), d(9, 20, 11, 50)), d(11, 18), close_code="unsuccessful"),
    # Work ended 15 minutes before 15 Oct: an attempt finished in the hour after could still come: carried.
    old_change(904, CI_DB, (d(10, 14, 23), d(10, 14, 23, 45)), d(10, 15, 1)),
]


@pytest.mark.parametrize("case", ["a new change", "a day before the cut written again"])
def test_an_hourly_build_reads_only_the_changes_a_later_version_or_deployment_can_change(
    tmp_path: Path, case: str
) -> None:
    """A full build as of 20 Nov settles CHG901 and CHG906 (see CHANGES_BEFORE_THE_CUT); INC901, opened on 2 Sep,
    names CHG901 as its cause. On the 20th a change on shop-api covers ArgoCD's sync at 07:30: the hourly build reads
    the changes created from the cut on and the three carried, takes the two settled ones and the attempts they cover
    as they were, and gives a full rebuild's mart. A new version of CHG901 (closed unsuccessful) rewrites its creation
    day, 1 Sep: the hourly build reads that day's changes again, and takes CHG906 alone as it was."""
    sync = deployment("argocd:shop-api-prod:1", "argocd", "shop-api-prod", t(20, 7, 30), "succeeded", "r1")
    extra = [old_change(905, CI_API, (t(20, 7), t(20, 7, 20)), t(20, 8))]
    if case == "a day before the cut written again":
        extra.append(old_change(901, CI_API, (d(9, 1, 11), d(9, 1, 11, 30)), t(20, 8), close_code="unsuccessful"))
    inc901 = incident("i9" * 16, "INC901", CI_API, d(9, 2), 2, 6, d(9, 2, 14), caused_by=f"{901:032d}")

    def lake_with(path: Path) -> tuple[Lake, Settings]:
        return lake_before_the_cut(path, [inc901], CHANGES_BEFORE_THE_CUT)

    lake, settings = lake_with(tmp_path / "incremental")
    build(lake, settings, mode="full", as_of=AS_OF)
    ingest(lake, "deploys/deployment_events", sync)
    ingest(lake, "servicenow/changes", *extra)
    result = build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=1))
    assert result.mode == "hourly"
    changes = {r["number"]: r for r in mart_snapshot(lake)["mv_changes"]}
    assert changes["CHG905"]["deployment_key"] == "argocd:shop-api-prod:1"
    assert changes["CHG902"]["deployment_key"] == "argocd:shop-api-prod:0c"
    assert changes["CHG903"]["deployment_key"] == "gitlab:202" and changes["CHG903"]["is_failed"]
    assert changes["CHG904"]["deployment_key"] is None
    assert changes["CHG901"]["deployment_key"] == "argocd:shop-api-prod:0a"
    links = [r for r in mart_snapshot(lake)["mv_incident_links"] if r["correlation_mode"] == "full"]
    [link] = [r for r in links if r["incident_number"] == "INC901"]
    assert (link["rule"], link["deployment_key"]) == ("change_caused_by", "argocd:shop-api-prod:0a")
    assert changes["CHG906"]["deployment_key"] == "gitlab:202"
    if case == "a new change":
        assert result.settled_rows["mv_changes"] == 2 and result.settled_rows["stg_change_deployments"] == 2
        assert not changes["CHG901"]["is_failed"]
    else:
        assert result.settled_rows["mv_changes"] == 1 and result.settled_rows["stg_change_deployments"] == 1
        assert changes["CHG901"]["is_failed"]

    full_lake, full_settings = lake_with(tmp_path / "full")
    full_lake.write_days(get_dataset("deploys/deployment_events"), rows("deploys/deployment_events", sync))
    full_lake.write_days(get_dataset("servicenow/changes"), rows("servicenow/changes", *extra))
    build(full_lake, full_settings, mode="full", as_of=AS_OF + timedelta(hours=1))
    assert_same_mart(lake, full_lake, "hourly")


# Incidents before the settled deployments' recent_from (15 Oct), each linked within 4 hours of a deployment of its
# component (full mode) and within a day of one of its application (light mode): two links each.
INCIDENTS_BEFORE_THE_CUT = [
    incident("j1" * 16, "INC911", CI_DB, d(9, 20, 13), 3, 6, d(9, 20, 15)),  # gitlab:202, finished 20 Sep 12:00
    incident("j2" * 16, "INC912", CI_API, d(9, 10, 14), 2, 2),  # ArgoCD's 0b (10 Sep 12:00), still in progress
    incident("j3" * 16, "INC913", CI_API, d(10, 1, 13), 3, 6, d(10, 1, 16)),  # ArgoCD's 0c (1 Oct 12:00)
]
LINK_CASES = [
    "an incident opened today",
    "an old incident restored today",
    "an old incident's version read ahead",
    "a change created today covers an old attempt",
    "a change's version read ahead moves it off an old incident",
    "a change an old incident names is read today",
    "ArgoCD's first sync makes yesterday's GitLab deployment a hand-off",
]
# CHG902 on shop-api, read again every hour (it covers ArgoCD's 0c, not settled), and a version of it updated at 11:30
# that moves its work to 2 Oct, when shop-api did not deploy: same creation day, so the same partition.
CHG902 = CHANGES_BEFORE_THE_CUT[2]
CHG902_MOVED = old_change(902, CI_API, (d(10, 2, 10), d(10, 2, 10, 30)), t(20, 11, 30)) | {
    "sys_created_on": d(10, 1, 0)
}


def links_of(lake: Lake, number: str) -> dict[str, dict]:
    return {
        r["correlation_mode"]: r for r in mart_snapshot(lake)["mv_incident_links"] if r["incident_number"] == number
    }


@pytest.mark.parametrize("case", LINK_CASES)
def test_an_hourly_build_finds_again_only_the_incident_links_something_since_can_change(
    tmp_path: Path, case: str
) -> None:
    """A full build as of 20 Nov 10:00 links INC911, INC912 and INC913, opened in September and on 1 Oct (see
    INCIDENTS_BEFORE_THE_CUT); INC913's full link names CHG902, a change on its CI. On the 20th an incident opens on
    shop-api 30 minutes after ArgoCD's sync at 07:30: the hourly build at 11:00 finds its links and INC913's (CHG902
    is read again every hour), and carries the four of INC911 and INC912, which nothing since can have changed.
    INC912 restored on the 20th writes its opening day again: every incident opened from 10 Sep is found again, and
    its links say when it was restored.
    INC911 moved to quiet-svc's CI by a version updated at 11:30, which the ingest read before the 11:00 build, is
    counted as it was at 11:00 (on shop-db, linked); the 12:00 build, with nothing ingested since, finds its links
    again (its version at as_of changed): none, quiet-svc did not deploy. It carries INC912's two.
    CHG915, created on the 20th on shop-db's CI, ended its work on 20 Sep 11:55 and covers gitlab:202: INC911, opened
    an hour after, is now linked by it; the hourly build finds again every incident opened from that attempt on, and
    carries INC912's two links.
    CHG902 links INC913 by its CI; a version of it updated at 11:30 moves its work to 2 Oct, where it covers no
    attempt: the 12:00 build finds INC913's links again (one of them named a change read again), now by the component
    window alone.
    INC911 names CHG916 as its cause, a change on shop-api first read on the 20th, whose work on 1 Sep covers ArgoCD's
    0a: INC911 is now linked to 0a by it, and found again; INC912's links are carried.
    quiet-svc is GitLab project 13 too, which deployed it on the 19th at 08:00, an hour before INC950 opened on it.
    ArgoCD's first sync of quiet-prod, on the 20th at 08:00, makes that deployment a hand-off (from a day before
    ArgoCD's first one on): INC950, opened after the settled deployments' recent_from (15 Oct), is found again, and
    has no link any more. (This lake has no CHG902: the six links of the three old incidents are carried.)
    Either way the mart is a full rebuild's."""
    sync = deployment("argocd:shop-api-prod:1", "argocd", "shop-api-prod", t(20, 7, 30), "succeeded", "r1")
    today = incident("j4" * 16, "INC914", CI_API, t(20, 8), 2, 2)
    restored = incident("j2" * 16, "INC912", CI_API, d(9, 10, 14), 2, 6, t(20, 8))
    moved = incident("j1" * 16, "INC911", CI_Q, d(9, 20, 13), 3, 6, d(9, 20, 15)) | {"sys_updated_on": t(20, 11, 30)}
    chg915 = old_change(915, CI_DB, (d(9, 20, 11, 5), d(9, 20, 11, 55)), t(20, 9)) | {"sys_created_on": t(20, 9)}
    chg916 = old_change(916, CI_API, (d(9, 1, 11), d(9, 1, 11, 50)), t(20, 9)) | {"sys_created_on": t(20, 9)}
    incidents, changes = {
        "an incident opened today": ([today], []),
        "an old incident restored today": ([restored], []),
        "an old incident's version read ahead": ([moved], []),
        "a change created today covers an old attempt": ([], [chg915]),
        "a change's version read ahead moves it off an old incident": ([], [CHG902_MOVED]),
        "a change an old incident names is read today": ([], [chg916]),
        "ArgoCD's first sync makes yesterday's GitLab deployment a hand-off": ([], []),
    }[case]
    hand_off = case == "ArgoCD's first sync makes yesterday's GitLab deployment a hand-off"
    # quiet-svc is also GitLab project 13, which deployed it yesterday at 08:00; INC950 opened on it an hour after.
    quiet = [e | {"gitlab_project_id": 13} if e["entity_id"] == "quiet-svc" else e for e in mapping()]
    quiet_deployed = deployment("gitlab:950", "gitlab", "13", t(19, 8), "succeeded", "g1")
    inc950 = incident("j5" * 16, "INC950", CI_Q, t(19, 9), 3, 2)
    first_sync = deployment("argocd:quiet-prod:1", "argocd", "quiet-prod", t(20, 8), "succeeded", "q1")
    named = case == "a change an old incident names is read today"
    old_incidents = [
        i | {"caused_by_change_sys_id": f"{916:032d}"} if named and i["number"] == "INC911" else i
        for i in INCIDENTS_BEFORE_THE_CUT
    ]
    read_ahead = "read ahead" in case

    def lake_with(path: Path) -> tuple[Lake, Settings]:
        lake, settings = estate_lake(path)
        lake.write_days(get_dataset("deploys/deployment_events"), rows("deploys/deployment_events", *BEFORE_THE_CUT))
        lake.write_days(get_dataset("servicenow/incidents"), rows("servicenow/incidents", *old_incidents))
        if not hand_off:
            lake.write_days(get_dataset("servicenow/changes"), rows("servicenow/changes", CHG902))
        else:
            MappingStore(lake).apply(quiet, actor="test", replace=True)
            lake.write_days(get_dataset("deploys/deployment_events"), rows("deploys/deployment_events", quiet_deployed))
            lake.write_days(get_dataset("servicenow/incidents"), rows("servicenow/incidents", inc950))
        return lake, settings

    lake, settings = lake_with(tmp_path / "incremental")
    build(lake, settings, mode="full", as_of=AS_OF)
    if not hand_off:
        assert links_of(lake, "INC913")["full"]["change_sys_id"] == f"{902:032d}"
    else:
        assert links_of(lake, "INC950")["full"]["deployment_key"] == "gitlab:950"
        ingest(lake, "deploys/deployment_events", first_sync)
    ingest(lake, "deploys/deployment_events", sync)
    if incidents:
        ingest(lake, "servicenow/incidents", *incidents)
    if changes:
        ingest(lake, "servicenow/changes", *changes)
    as_of = AS_OF + timedelta(hours=1)
    result = build(lake, settings, mode="hourly", as_of=as_of)
    if case == "an old incident's version read ahead":
        # The 11:30 version's day (20 Sep) was written: INC911 is found again, as it was at 11:00.
        assert result.settled_rows["mv_incident_links"] == 2
        assert links_of(lake, "INC911")["full"]["deployment_key"] == "gitlab:202"
    if case == "a change's version read ahead moves it off an old incident":
        # The 11:30 version's day (1 Oct) was written: INC913 is found again, CHG902 as it was at 11:00.
        assert result.settled_rows["mv_incident_links"] == 4
        assert links_of(lake, "INC913")["full"]["change_sys_id"] == f"{902:032d}"
    if read_ahead:
        as_of += timedelta(hours=1)
        result = build(lake, settings, mode="hourly", as_of=as_of)
    assert result.mode == "hourly"
    if case == "an incident opened today":
        assert result.settled_rows["mv_incident_links"] == 4
        assert links_of(lake, "INC914")["full"]["deployment_key"] == "argocd:shop-api-prod:1"
    elif case == "an old incident restored today":
        assert result.settled_rows["mv_incident_links"] == 0
        assert links_of(lake, "INC912")["light"]["restored_at"] == t(20, 8)
        deployments = {r["deployment_key"]: r for r in mart_snapshot(lake)["mv_deployments"]}
        assert deployments["argocd:shop-api-prod:0b"]["recovered_at_light"] == t(20, 8)
    elif case == "an old incident's version read ahead":
        assert result.settled_rows["mv_incident_links"] == 2
        assert not links_of(lake, "INC911")
    elif case == "a change created today covers an old attempt":
        assert result.settled_rows["mv_incident_links"] == 2
        assert links_of(lake, "INC911")["full"]["change_sys_id"] == f"{915:032d}"
    elif case == "a change's version read ahead moves it off an old incident":
        assert result.settled_rows["mv_incident_links"] == 4
        link = links_of(lake, "INC913")["full"]
        assert (link["rule"], link["change_sys_id"]) == ("same_component_window", None)
    elif case == "a change an old incident names is read today":
        assert result.settled_rows["mv_incident_links"] == 2
        link = links_of(lake, "INC911")["full"]
        assert (link["rule"], link["deployment_key"]) == ("change_caused_by", "argocd:shop-api-prod:0a")
    else:
        assert result.settled_rows["mv_incident_links"] == 6
        assert not links_of(lake, "INC950")

    full_lake, full_settings = lake_with(tmp_path / "full")
    full_lake.write_days(get_dataset("deploys/deployment_events"), rows("deploys/deployment_events", sync))
    if hand_off:
        full_lake.write_days(get_dataset("deploys/deployment_events"), rows("deploys/deployment_events", first_sync))
    if incidents:
        full_lake.write_days(get_dataset("servicenow/incidents"), rows("servicenow/incidents", *incidents))
    if changes:
        full_lake.write_days(get_dataset("servicenow/changes"), rows("servicenow/changes", *changes))
    build(full_lake, full_settings, mode="full", as_of=as_of)
    assert_same_mart(lake, full_lake, "hourly")


def test_an_hourly_build_finds_every_link_when_a_stored_one_cannot_be_read(tmp_path: Path) -> None:
    """September's object of the stored links is unreadable (a torn write, say): the hourly build carries no link,
    finds every one, writes September's object anew, and gives a full rebuild's mart."""

    def lake_with(path: Path) -> tuple[Lake, Settings]:
        lake, settings = estate_lake(path)
        lake.write_days(get_dataset("deploys/deployment_events"), rows("deploys/deployment_events", *BEFORE_THE_CUT))
        lake.write_days(get_dataset("servicenow/incidents"), rows("servicenow/incidents", *INCIDENTS_BEFORE_THE_CUT))
        return lake, settings

    lake, settings = lake_with(tmp_path / "incremental")
    build(lake, settings, mode="full", as_of=AS_OF)
    september = "mart/mv_incident_links/month=2026-09/data.parquet"
    lake.store.put(september, b"not parquet")
    result = build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=1))
    assert result.mode == "hourly"
    assert "mv_incident_links" not in result.settled_rows and "stg_deployments" in result.settled_rows
    assert september in lake.list_keys("mart/mv_incident_links/")
    assert {r["incident_number"] for r in links_of_month(lake, september)} == {"INC911", "INC912"}

    full_lake, full_settings = lake_with(tmp_path / "full")
    build(full_lake, full_settings, mode="full", as_of=AS_OF + timedelta(hours=1))
    assert_same_mart(lake, full_lake, "hourly")


def links_of_month(lake: Lake, key: str) -> list[dict]:
    table = lake.get_table(key)
    assert table is not None
    return table.to_pylist()


DEPLOYMENT_ROW_CASES = [
    "nothing since moves an old attempt",
    "an old incident restored today",
    "a change created today covers an old attempt",
    "a month object lacks a carried attempt",
]


@pytest.mark.parametrize("case", DEPLOYMENT_ROW_CASES)
def test_an_hourly_build_finds_again_only_the_deployment_rows_something_since_can_move(
    tmp_path: Path, case: str
) -> None:
    """The lake of the links test: a full build as of 20 Nov settles gitlab:901 (20 Aug), ArgoCD's 0a and 0b (1 and
    10 Sep), gitlab:201 and 202 (1 and 20 Sep); INC912 is open on 0b. On the 20th ArgoCD syncs shop-api: the hourly
    build finds the rows of the attempts from 15 Oct on and of those not settled (0c, op0, gitlab:203), and writes
    October and November only, carrying no row.
    INC912 restored on the 20th writes its opening day (10 Sep) again: every incident opened from then on is found
    again, and so are the attempts they name, 0b (INC912) and gitlab:202 (INC911). September is written with those
    two found and its two other settled attempts carried (0a and gitlab:201); 0b is recovered on the 20th.
    CHG915, created on the 20th, covers gitlab:202 on 20 Sep: 202 is found again (it now has a change), so is INC911's
    link to it, and September carries 0a, 0b and gitlab:201.
    September's object lost 0a's row (an older release's object, say) while INC912 is restored: the build finds every
    row, and September's object has 0a again.
    Either way the mart is a full rebuild's."""
    sync = deployment("argocd:shop-api-prod:1", "argocd", "shop-api-prod", t(20, 7, 30), "succeeded", "r1")
    restored = incident("j2" * 16, "INC912", CI_API, d(9, 10, 14), 2, 6, t(20, 8))
    chg915 = old_change(915, CI_DB, (d(9, 20, 11, 5), d(9, 20, 11, 55)), t(20, 9)) | {"sys_created_on": t(20, 9)}
    restoring = case in ("an old incident restored today", "a month object lacks a carried attempt")
    incidents = [restored] if restoring else []
    changes = [chg915] if case == "a change created today covers an old attempt" else []

    def lake_with(path: Path) -> tuple[Lake, Settings]:
        return lake_before_the_cut(path, INCIDENTS_BEFORE_THE_CUT, [CHG902])

    lake, settings = lake_with(tmp_path / "incremental")
    build(lake, settings, mode="full", as_of=AS_OF)
    september = "mart/mv_deployments/month=2026-09/data.parquet"
    if case == "a month object lacks a carried attempt":
        held = lake.get_table(september)
        assert held is not None
        lake.store.put(september, to_parquet(held.filter(pc.field("deployment_key") != "argocd:shop-api-prod:0a")))
    ingest(lake, "deploys/deployment_events", sync)
    if incidents:
        ingest(lake, "servicenow/incidents", *incidents)
    if changes:
        ingest(lake, "servicenow/changes", *changes)
    result = build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=1))
    assert result.mode == "hourly"
    carried = {
        "nothing since moves an old attempt": 0,
        "an old incident restored today": 2,
        "a change created today covers an old attempt": 3,
    }.get(case)
    assert result.settled_rows.get("mv_deployments") == carried
    deployments = {r["deployment_key"]: r for r in mart_snapshot(lake)["mv_deployments"]}
    assert "argocd:shop-api-prod:0a" in deployments
    if incidents:
        assert deployments["argocd:shop-api-prod:0b"]["recovered_at_light"] == t(20, 8)
    if changes:
        assert deployments["gitlab:202"]["change_numbers"] == ["CHG915"]

    full_lake, full_settings = lake_with(tmp_path / "full")
    full_lake.write_days(get_dataset("deploys/deployment_events"), rows("deploys/deployment_events", sync))
    if incidents:
        full_lake.write_days(get_dataset("servicenow/incidents"), rows("servicenow/incidents", *incidents))
    if changes:
        full_lake.write_days(get_dataset("servicenow/changes"), rows("servicenow/changes", *changes))
    build(full_lake, full_settings, mode="full", as_of=AS_OF + timedelta(hours=1))
    assert_same_mart(lake, full_lake, "hourly")


def test_an_hourly_build_rebuilding_older_days_counts_the_deployments_of_months_it_does_not_write(
    tmp_path: Path,
) -> None:
    """The deployments before the cut, and an incident on quiet-svc (which never deployed) opened on 25 Aug. The
    full build as of 20 Nov settles gitlab:901 (20 Aug), ArgoCD's 0a and 0b, gitlab:201 and 202 (September). The
    incident resolved on the 20th writes 25 Aug again: the day tables are rebuilt from then on, while the hourly
    build finds no row of August or September (the incident names no attempt). It carries those two months' stored
    rows for the days rebuilt, without writing them: on 1 Sep, 0a and gitlab:201 still count as two deployments, as a
    full rebuild counts them."""
    opened = incident("q1" * 16, "INC960", CI_Q, d(8, 25), 3, 2)
    resolved = incident("q1" * 16, "INC960", CI_Q, d(8, 25), 3, 6, t(20, 8))

    lake, settings = lake_before_the_cut(tmp_path / "incremental", [opened], [])
    build(lake, settings, mode="full", as_of=AS_OF)
    september = "mart/mv_deployments/month=2026-09/data.parquet"
    before = lake.store.get(september)
    ingest(lake, "servicenow/incidents", resolved)
    result = build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=1))
    assert result.mode == "hourly" and result.day_from == d(8, 25).date()
    # gitlab:901 in August; 0a, 0b, gitlab:201 and 202 in September; none in the months written (October, November).
    assert result.settled_rows["mv_deployments"] == 5
    assert lake.store.get(september) == before
    days = {
        (r["app_id"], r["day"]): r["deployments"]
        for r in mart_snapshot(lake)["mv_monitoring_app_day_summary"]
        if r["environment"] == "production"
    }
    assert days[("shop", d(9, 1).date())] == 2

    full_lake, full_settings = lake_before_the_cut(tmp_path / "full", [resolved], [])
    build(full_lake, full_settings, mode="full", as_of=AS_OF + timedelta(hours=1))
    assert_same_mart(lake, full_lake, "hourly")


def merged(mr_id: int, project_id: int, at: datetime, **fields: object) -> dict:
    return {"mr_id": mr_id, "project_id": project_id, "merged_at": at, "updated_at": at, "state": "merged"} | fields


LEAD_TIME_CASES = [
    "a request ships months after its merge",
    "a project's default branch is read",
    "an old deployment lists a request",
]


@pytest.mark.parametrize("case", LEAD_TIME_CASES)
def test_an_hourly_build_finds_only_the_lead_times_a_later_deployment_can_change(tmp_path: Path, case: str) -> None:
    """quiet-svc is also project 13's. The full build as of 20 Nov settles the lead times of requests merged and
    shipped before 15 Oct: 901 (merged 25 Aug, shipped by gitlab:201 on 1 Sep) and 902 (25 Sep, gitlab:203 on 1 Oct).
    903 (merged 10 Oct) shipped with the estate's 102 on 18 Nov, and 906 (project 13, merged 10 Sep) has not shipped.
    On the 20th ArgoCD syncs quiet-prod at 07:30: the hourly build finds 906 shipped, 1,699.5 hours after its merge
    (71 days less 4.5 hours), rewrites September's object with 902 and 906, and leaves August's and October's as they
    were. Of the requests merged before 15 Oct it reads only 903 and 906, kept by the full build.
    A request read on the 20th gives project 12 a default branch, main: 901, merged into release, no longer counts
    (nothing says project 12 deploys from release), so the hourly build finds every lead time again. So does a link
    read on the 20th in which gitlab:203 (1 Oct) lists a request merged on the 19th: 203 no longer ships the requests
    no deployment lists, so 902 ships with the next one, 102 on 18 Nov. Either way it reads every request again, and
    the mart is a full rebuild's."""
    quiet = [e | {"gitlab_project_id": 13} if e["entity_id"] == "quiet-svc" else e for e in mapping()]
    requests = [
        merged(901, 12, d(8, 25), target_branch="release"),
        merged(902, 12, d(9, 25)),
        merged(903, 12, d(10, 10)),
        merged(906, 13, d(9, 10)),
    ]
    sync = deployment("argocd:quiet-prod:1", "argocd", "quiet-prod", t(20, 7, 30), "succeeded", "q1")
    read_today = [merged(907, 12, t(20, 6), target_branch="main", default_branch="main")]
    link = {"deployment_id": 203, "project_id": 12, "mr_id": 908, "merged_at": t(19, 6)}

    def lake_with(path: Path) -> tuple[Lake, Settings]:
        lake, settings = estate_lake(path)
        MappingStore(lake).apply(quiet, actor="test", replace=True)
        lake.write_days(get_dataset("deploys/deployment_events"), rows("deploys/deployment_events", *BEFORE_THE_CUT))
        lake.write_days(get_dataset("gitlab/merge_requests"), rows("gitlab/merge_requests", *requests))
        return lake, settings

    lake, settings = lake_with(tmp_path / "incremental")
    build(lake, settings, mode="full", as_of=AS_OF)
    august, october = "mart/mv_lead_times/month=2026-08/data.parquet", "mart/mv_lead_times/month=2026-10/data.parquet"
    before = {key: lake.store.get(key) for key in (august, october)}
    ingest(lake, "deploys/deployment_events", sync)
    if case == "a project's default branch is read":
        ingest(lake, "gitlab/merge_requests", *read_today)
    if case == "an old deployment lists a request":
        ingest(lake, "gitlab/deployment_merge_requests", link)
    result = build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=1))
    lead_times = {r["mr_id"]: r for r in mart_snapshot(lake)["mv_lead_times"]}
    assert lead_times[906]["deployment_key"] == "argocd:quiet-prod:1"
    assert lead_times[906]["lead_time_hours"] == 1699.5
    assert lead_times[903]["deployment_key"] == "gitlab:102"
    if case == "a request ships months after its merge":
        assert result.settled_rows["mv_lead_times"] == 2  # 901 and 902
        # The requests merged before 15 Oct read from the daily build's part: 903 and 906, whose lead times a
        # deployment since can still find; not 901 nor 902, settled.
        assert result.settled_rows["stg_merge_requests"] == 2
        assert lead_times[901]["deployment_key"] == "gitlab:201"
        # 903's row, found again as it was, leaves October's object as it was too.
        assert {key: lake.store.get(key) for key in (august, october)} == before
        september = lake.get_table("mart/mv_lead_times/month=2026-09/data.parquet")
        assert september is not None and sorted(september.column("mr_id").to_pylist()) == [902, 906]
    elif case == "a project's default branch is read":
        assert 901 not in lead_times
        assert "mv_lead_times" not in result.settled_rows and "stg_merge_requests" not in result.settled_rows
    else:
        assert lead_times[902]["deployment_key"] == "gitlab:102"
        assert "mv_lead_times" not in result.settled_rows and "stg_merge_requests" not in result.settled_rows

    full_lake, full_settings = lake_with(tmp_path / "full")
    full_lake.write_days(get_dataset("deploys/deployment_events"), rows("deploys/deployment_events", sync))
    if case == "a project's default branch is read":
        full_lake.write_days(get_dataset("gitlab/merge_requests"), rows("gitlab/merge_requests", *read_today))
    if case == "an old deployment lists a request":
        links = get_dataset("gitlab/deployment_merge_requests")
        full_lake.write_days(links, rows(links.id, link))
    build(full_lake, full_settings, mode="full", as_of=AS_OF + timedelta(hours=1))
    assert_same_mart(lake, full_lake, "hourly")


@pytest.mark.parametrize("refresh_tried", [False, True])
def test_an_hourly_build_two_days_after_the_last_builds_the_day_between(tmp_path: Path, refresh_tried: bool) -> None:
    """The full build of the 20th, 10:00, then no build (and no ingest) until the 22nd, 10:00. The 21st was
    built by neither, yet a full rebuild has a row for it in every day table: the hourly build must build it,
    and the 20th again, which the first build counted up to 10:00 only. It runs as a daily build (the period tables
    are two days old), or, when an hourly build tried that an hour before (and failed), as an hourly one.
    On the 21st shop's backlog is INC2 alone (opened on the 18th, never restored; INC1 and INC3 were restored
    on the 19th and 10th); quiet and broken have none."""
    settings = Settings(lake_url=str(tmp_path / "incremental"), duckdb_temp_directory=tmp_path / "duckdb")
    lake = Lake.from_settings(settings)
    write_estate(lake)
    build(lake, settings, mode="full", as_of=AS_OF)
    if refresh_tried:
        tried = {"periods_as_of": AS_OF.isoformat(), "as_of": (AS_OF + timedelta(days=2, hours=-1)).isoformat()}
        lake.put_json(build_module.PERIODS_REFRESH_KEY, tried)
    result = build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(days=2))
    assert result.mode == ("hourly" if refresh_tried else "daily")
    assert result.day_from == t(20).date()
    backlog = {
        r["app_id"]: r["open_end_of_day"]
        for r in mart_snapshot(lake)["mv_incidents_app_day"]
        if r["day"] == t(21).date() and r["environment"] == "production"
    }
    assert backlog == {"shop": 1, "quiet": 0, "broken": 0}

    full_lake, full_settings = estate_lake(tmp_path / "full")
    build(full_lake, full_settings, mode="full", as_of=AS_OF + timedelta(days=2))
    assert_same_mart(lake, full_lake, "hourly")


@pytest.mark.parametrize("mode", ["hourly", "full"])
def test_a_build_as_of_an_hour_before_the_last_builds_gives_a_full_rebuilds_mart(tmp_path: Path, mode: str) -> None:
    """Built as of the 22nd, 10:00, then again as of the 20th, 10:00 (`build --as-of`, to look at the estate as it
    was). The day tables then end on the 20th, as a full rebuild as of that hour has them: the 1st (the earliest
    raw day) to the 20th for shop, quiet and broken, 20 x 3 = 60 rows, none of the 21st or the 22nd the first build
    wrote. Every table is the full rebuild's, the period tables included."""
    lake, settings = estate_lake(tmp_path / "incremental")
    build(lake, settings, mode="full", as_of=AS_OF + timedelta(days=2))
    result = build(lake, settings, mode=mode, as_of=AS_OF)  # type: ignore[arg-type]
    assert result.mode == "full" and result.day_to == t(20).date()
    days = [r["day"] for r in mart_snapshot(lake)["mv_monitoring_app_day_summary"]]
    assert len(days) == 60 and max(days) == t(20).date()

    full_lake, full_settings = estate_lake(tmp_path / "full")
    build(full_lake, full_settings, mode="full", as_of=AS_OF)
    assert_same_mart(lake, full_lake, "daily")


def cmdb_ci_edited_long_ago() -> dict:
    """A CI last edited on 19 October 2025, as a CMDB snapshot stores it: under the day of its last edit."""
    edited = datetime(2025, 10, 19, 8, tzinfo=UTC)
    return {"sys_id": CI_API, "name": "shop-api", "sys_class_name": "cmdb_ci_service", "sys_updated_on": edited}


def test_a_ci_edited_long_ago_does_not_start_a_full_builds_days(tmp_path: Path) -> None:
    """No SQL file reads the CMDB's CIs. The estate's earliest day the build reads is 1 November (shop-api's first
    deployment, merge request 2): the day tables start there, not at the CI's last edit a year before."""
    lake, settings = estate_lake(tmp_path)
    ingest(lake, "servicenow/cmdb_ci", cmdb_ci_edited_long_ago())
    result = build(lake, settings, mode="full", as_of=AS_OF)
    assert result.day_from == t(1).date()
    days = {r["day"] for r in mart_snapshot(lake)["mv_incidents_app_day"]}
    assert min(days) == t(1).date()


def test_a_ci_snapshot_rewriting_an_old_day_does_not_send_an_hourly_build_back_to_it(tmp_path: Path) -> None:
    """The full build of the 20th, 10:00, then a CMDB snapshot writes the day of a CI edited in October 2025. The
    hourly build of 11:00 rebuilds the 20th alone, as with nothing ingested."""
    lake, settings = estate_lake(tmp_path)
    build(lake, settings, mode="full", as_of=AS_OF)
    ingest(lake, "servicenow/cmdb_ci", cmdb_ci_edited_long_ago())
    result = build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=1))
    assert result.day_from == t(20).date()


def test_a_build_after_midnight_completes_the_last_builds_day_though_nothing_was_ingested(tmp_path: Path) -> None:
    """The estate's hours of the 19th are all in the lake. Built at 22:00 on the 19th, shop's day counts the 22
    hours before 22:00: shop-api 22 x 1,000 requests, shop-db 18 x 500 (none before 04:00) = 31,000, with 21
    errors and the 101 of 10:00 = 122. Nothing is ingested until the next build, at 01:00 on the 20th; the 19th
    then holds its 24 hours, 34,000 requests and 124 errors, as a full rebuild at 01:00 gives."""
    settings = Settings(lake_url=str(tmp_path / "incremental"), duckdb_temp_directory=tmp_path / "duckdb")
    lake = Lake.from_settings(settings)
    write_estate(lake)

    def shop_on_the_19th() -> tuple[int, float, float]:
        day = next(
            r
            for r in mart_snapshot(lake)["mv_monitoring_app_day_summary"]
            if (r["app_id"], r["environment"], r["day"]) == ("shop", "production", t(19).date())
        )
        return day["measured_hours"], day["requests"], day["errors"]

    build(lake, settings, mode="full", as_of=t(19, 22))
    assert shop_on_the_19th() == (22, 31_000, 122)
    result = build(lake, settings, mode="hourly", as_of=t(20, 1))
    assert shop_on_the_19th() == (24, 34_000, 124)
    assert result.day_from == t(19).date()

    full_lake, full_settings = estate_lake(tmp_path / "full")
    build(full_lake, full_settings, mode="full", as_of=t(20, 1))
    assert_same_mart(lake, full_lake, "hourly")


class RunLogClock(datetime):
    """The run log's clock, set by the test: the time runs (builds included) start and finish at."""

    at = AS_OF

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> RunLogClock:
        return cls.at  # type: ignore[return-value]


def test_an_ingest_started_before_midnight_and_finished_after_a_build_is_seen_by_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An ingest starts at 23:50 on the 20th and finishes at 00:10 on the 21st, rewriting the 19th: shop-api's
    hours corrected from 1,000 to 2,000 requests. The build of 00:05 read the run log while it ran. The next build,
    at 01:05, must rebuild the 19th: shop-api's 24 hours of the 19th then carry 2,000 requests each, and the
    mart is a full rebuild's."""
    monkeypatch.setattr(runlog_module, "datetime", RunLogClock)
    settings = Settings(lake_url=str(tmp_path / "incremental"), duckdb_temp_directory=tmp_path / "duckdb")
    lake = Lake.from_settings(settings)
    write_estate(lake)
    RunLogClock.at = t(21, 0, 5)
    build(lake, settings, mode="full", as_of=t(21))
    signals = get_dataset("dynatrace/service_metrics_hourly")
    corrected = [r | {"request_count": 2000.0} for r in metrics().to_pylist() if r["entity_id"] == "SERVICE-A"]
    runs = RunLog(lake)
    run = runs.start("ingest", "dynatrace", signals.id, now=t(20, 23, 50))
    run.days_written = days_written(lake.write_days(signals, rows(signals.id, *corrected)))
    runs.finish(run, "succeeded", now=t(21, 0, 10))
    RunLogClock.at = t(21, 1, 5)
    result = build(lake, settings, mode="hourly", as_of=t(21, 1))
    assert result.day_from == t(19).date()
    shop_api = [r["requests"] for r in mart_snapshot(lake)[HOURLY_MART] if r["component_id"] == "shop-api"]
    assert shop_api == [2000.0] * 24

    full_lake, full_settings = estate_lake(tmp_path / "full")
    full_lake.write_days(signals, rows(signals.id, *corrected))
    build(full_lake, full_settings, mode="full", as_of=t(21, 1))
    assert_same_mart(lake, full_lake, "hourly")


def test_an_ingest_whose_finished_record_lands_after_a_build_read_the_run_log_is_seen_by_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An ingest rewrites the 19th (shop-api's hours corrected from 1,000 to 2,000 requests) and ends at 11:00:02,
    but its finished record is put slowly: the build started at 11:00:05 reads the run log while the record still
    says running, and rebuilds only the 20th. The next build, at 12:00:05, must rebuild the 19th though the ingest
    finished before the last build started: shop-api's 24 hours of the 19th then carry 2,000 requests each, and the
    mart is a full rebuild's."""
    monkeypatch.setattr(runlog_module, "datetime", RunLogClock)
    lake, settings = estate_lake(tmp_path / "incremental")
    RunLogClock.at = t(20, 10) + timedelta(seconds=5)
    build(lake, settings, mode="full", as_of=AS_OF)
    signals = get_dataset("dynatrace/service_metrics_hourly")
    corrected = [r | {"request_count": 2000.0} for r in metrics().to_pylist() if r["entity_id"] == "SERVICE-A"]
    runs = RunLog(lake)
    run = runs.start("ingest", "dynatrace", signals.id, now=t(20, 10, 59))
    run.days_written = days_written(lake.write_days(signals, rows(signals.id, *corrected)))
    read_run_log = RunLog.list

    def read_then_finish(self: RunLog, **kwargs: object) -> list:
        found = read_run_log(self, **kwargs)  # type: ignore[arg-type]
        if run.finished_at is None:
            runs.finish(run, "succeeded", now=t(20, 11) + timedelta(seconds=2))
        return found

    monkeypatch.setattr(RunLog, "list", read_then_finish)
    RunLogClock.at = t(20, 11) + timedelta(seconds=5)
    assert build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=1)).day_from == t(20).date()
    RunLogClock.at = t(20, 12) + timedelta(seconds=5)
    result = build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=2))
    assert result.day_from == t(19).date()
    shop_api = [r["requests"] for r in mart_snapshot(lake)[HOURLY_MART] if r["component_id"] == "shop-api"]
    assert shop_api == [2000.0] * 24

    full_lake, full_settings = estate_lake(tmp_path / "full")
    full_lake.write_days(signals, rows(signals.id, *corrected))
    build(full_lake, full_settings, mode="full", as_of=AS_OF + timedelta(hours=2))
    assert_same_mart(lake, full_lake, "hourly")


def test_application_hours_read_back_leave_out_a_day_object_the_month_object_also_holds(tmp_path: Path) -> None:
    """The estate's day of signals also on 20 October. A build stopped between putting October's month object
    and removing the 20th's day object it took in, leaving the 20th twice in October's folder. Then a day of
    signals arrives for 20 November and a daily build reads October's application hours back from the hourly
    mart: the 20th once. Shop's quarter counts 34,000 requests a day (24 hours x 1,000 on shop-api, 20 x 500 on
    shop-db) on 20 October, 19 and 20 November: 102,000."""
    settings = Settings(lake_url=str(tmp_path / "lake"), duckdb_temp_directory=tmp_path / "duckdb")
    lake = Lake.from_settings(settings)
    write_estate(lake)
    ingest_metrics(lake, -timedelta(days=30))
    build(lake, settings, mode="full", as_of=AS_OF)
    october = lake.store.get("mart/mv_golden_signals_hourly/month=2026-10/data.parquet")
    assert october is not None
    # October's object holds the 20th alone: as its day object, the same rows.
    lake.store.put("mart/mv_golden_signals_hourly/month=2026-10/day-2026-10-20.parquet", october.data)
    ingest_metrics(lake, timedelta(days=1))
    result = build(lake, settings, mode="daily", as_of=AS_OF + timedelta(hours=14))
    assert "read back application hours" in result.seconds
    quarter = [r for r in mart_snapshot(lake)["mv_slo_app_period"] if r["period"] == "quarter"]
    shop = next(r for r in quarter if r["app_id"] == "shop" and r["environment"] == "production")
    assert shop["availability_denominator"] == 3 * 34_000


def test_an_ingest_finishing_while_a_build_reads_the_run_log_is_seen_by_the_next(
    lake_and_settings: tuple[Lake, Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An ingest rewriting the 19th (shop-api's hours corrected from 1,000 to 2,000 requests) finishes just after
    an hourly build has read the run log, so that build rebuilds only the 20th. The next build must rebuild the
    19th: shop-api's 24 hours of the 19th then carry 2,000 requests each."""
    lake, settings = lake_and_settings
    build(lake, settings, mode="full", as_of=AS_OF)
    corrected = [r | {"request_count": 2000.0} for r in metrics().to_pylist() if r["entity_id"] == "SERVICE-A"]
    pending = [lambda: ingest(lake, "dynatrace/service_metrics_hourly", *corrected)]
    read_run_log = RunLog.list

    def read_then_ingest(self: RunLog, **kwargs: object) -> list:
        found = read_run_log(self, **kwargs)  # type: ignore[arg-type]
        while pending:
            pending.pop()()
        return found

    monkeypatch.setattr(RunLog, "list", read_then_ingest)
    assert build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=1)).day_from == t(20).date()
    result = build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=2))
    assert result.day_from == t(19).date()
    shop_api = [r["requests"] for r in mart_snapshot(lake)[HOURLY_MART] if r["component_id"] == "shop-api"]
    assert shop_api == [2000.0] * 24


@pytest.mark.parametrize(
    ("needle", "replacement"),
    [
        # The column whose month places a row in an object: used only once the mart is being written.
        ("-- partitioned by: month of finished_at", "-- partitioned by: month of finish_at"),
        # A column the day tables read of the table's rows: used where the hourly signals' loop begins.
        ("-- counted with: app_id,", "-- counted with: app,"),
    ],
)
def test_a_header_naming_a_column_the_query_lacks_names_file_and_line_and_keeps_the_previous_mart(
    lake_and_settings: tuple[Lake, Settings],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    needle: str,
    replacement: str,
) -> None:
    """21_mv_deployments.sql's header names a column its query does not give. The build fails naming the file
    and the header's line, and the mart is the one before it, though a day of new signals was waiting."""
    lake, settings = lake_and_settings
    build(lake, settings, mode="full", as_of=AS_OF)
    ingest_metrics(lake, timedelta(days=1))
    before = {k: lake.store.get(k) for k in lake.list_keys("mart/")}
    broken = tmp_path / "sql"
    shutil.copytree(SQL_DIR, broken)
    target = broken / "21_mv_deployments.sql"
    lines = target.read_text(encoding="utf-8").splitlines()
    line_no = next(i for i, line in enumerate(lines, start=1) if line.startswith(needle))
    lines[line_no - 1] = lines[line_no - 1].replace(needle, replacement)
    target.write_text("\n".join(lines), encoding="utf-8")
    monkeypatch.setattr(build_module, "load_sql_files", lambda: load_sql_files(broken))
    with pytest.raises(BuildError, match=rf"^21_mv_deployments.sql line {line_no}: "):
        build(lake, settings, mode="full", as_of=AS_OF + timedelta(hours=14))
    after = {k: lake.store.get(k) for k in lake.list_keys("mart/")}
    assert after == before


def test_a_second_build_on_the_same_lake_is_refused_while_one_runs(
    lake_and_settings: tuple[Lake, Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo's scheduler and the API's batch trigger (or the scheduler service and a `build` by hand) can start
    builds on one lake together; two builds interleaving their puts and deletes can leave a day in a month object and
    in a day object at once. A build started while another runs stops before touching anything, naming the one
    running; the running build ends normally and the next build after it runs."""
    lake, settings = lake_and_settings
    register = build_module.register_inputs
    second: list[BaseException | BuildResult] = []
    asked: list[bool] = []

    def register_then_build_again(*args: object, **kwargs: object) -> object:
        if not asked:
            asked.append(True)
            try:
                second.append(build(lake, settings, mode="daily", as_of=AS_OF, trigger="api:second"))
            except BuildError as exc:
                second.append(exc)
        return register(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(build_module, "register_inputs", register_then_build_again)
    first = build(lake, settings, mode="full", as_of=AS_OF, trigger="scheduler")
    assert isinstance(second[0], BuildError), second[0]
    assert str(second[0]).startswith("another build (scheduler, started ")
    # The refused build wrote no run record: one build ran, and it succeeded.
    builds = [r for r in RunLog(lake).list(limit=10) if r.function == "build_aggregates"]
    assert [(r.run_id, r.status) for r in builds] == [(first.run_id, "succeeded")]
    monkeypatch.setattr(build_module, "register_inputs", register)
    assert build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=1)).mode == "hourly"


def test_a_build_stopped_without_ending_holds_the_lake_only_until_its_lease_runs_out(
    lake_and_settings: tuple[Lake, Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build killed where it cannot let go (a Lambda timeout, kill -9) leaves its lease: builds are refused for
    its 30 minutes, then run. Lease taken at 10:00; at 10:29 a build is refused, at 10:31 one runs."""
    lake, settings = lake_and_settings
    taken = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    monkeypatch.setattr(lease, "release", lambda lake, held: None)  # the killed build never lets go
    monkeypatch.setattr(lease, "now", lambda: taken)
    build(lake, settings, mode="full", as_of=AS_OF)
    monkeypatch.undo()
    monkeypatch.setattr(lease, "now", lambda: taken + timedelta(minutes=29))
    with pytest.raises(BuildError, match="another build"):
        build(lake, settings, mode="hourly", as_of=AS_OF)
    monkeypatch.setattr(lease, "now", lambda: taken + timedelta(minutes=31))
    assert build(lake, settings, mode="hourly", as_of=AS_OF).mode == "hourly"


@pytest.mark.parametrize("old_day", [10, 19])
def test_raw_days_an_older_release_wrote_without_a_column_added_since_are_read_with_it_null(
    tmp_path: Path, old_day: int
) -> None:
    """A release adding a column to a raw dataset finds the days earlier releases wrote without it: the build reads
    every day by column name, the old days' value null. The estate's incidents: INC3 opened on the 10th (restored
    after an hour), INC1 on the 19th, caused by CHG1 (its change_caused_by link, 0.95). Here one of those two days
    is rewritten as an older release wrote it, without caused_by_change_sys_id, and a full build must still give
    both incidents: INC3 restored after 1 hour; INC1 linked by the change it names when its day kept the column,
    else by CHG1 as the change on its CI that ended half an hour before it opened (change_ci_window, 0.70: the
    best link a record without the column allows)."""
    settings = Settings(lake_url=str(tmp_path / "lake"), duckdb_temp_directory=tmp_path / "duckdb")
    lake = Lake.from_settings(settings)
    write_estate(lake)
    incidents = get_dataset("servicenow/incidents")
    day = datetime(2026, 11, old_day, tzinfo=UTC).date()
    written = lake.read_partition(incidents, day)
    assert written is not None and written.num_rows
    lake.put_table(lake.partition_key(incidents, day), written.drop_columns(["caused_by_change_sys_id"]))

    build(lake, settings, mode="full", as_of=AS_OF)

    con = duckdb.connect()
    mart = lambda table: lake.url_of(f"mart/{table}/") + "**/*.parquet"  # noqa: E731
    by_number = dict(
        con.execute(
            "select number, duration_hours from read_parquet($f) where number in ('INC1', 'INC3')",
            {"f": mart("mv_incidents")},
        ).fetchall()
    )
    assert by_number["INC3"] == pytest.approx(1.0)
    assert "INC1" in by_number
    rules = con.execute(
        "select rule from read_parquet($f) where incident_number = 'INC1' and correlation_mode = 'full'",
        {"f": mart("mv_incident_links")},
    ).fetchall()
    assert rules == [("change_caused_by" if old_day == 10 else "change_ci_window",)]


def test_a_column_no_day_of_the_lake_has_yet_is_read_as_null(tmp_path: Path) -> None:
    """The first build after a release that adds a column to a raw dataset finds no day with it: the business
    service of changes, here, every day of them written as the release before wrote them. The build reads it as
    null (changes are attributed by their CI, as before) instead of failing: the estate's CHG1 and CHG2 are shop's."""
    settings = Settings(lake_url=str(tmp_path / "lake"), duckdb_temp_directory=tmp_path / "duckdb")
    lake = Lake.from_settings(settings)
    write_estate(lake)
    changes = get_dataset("servicenow/changes")
    for day in lake.list_partitions(changes):
        written = lake.read_partition(changes, day)
        assert written is not None
        older = written.drop_columns(["business_service_sys_id", "business_service_name"])
        lake.put_table(lake.partition_key(changes, day), older)
    build(lake, settings, mode="full", as_of=AS_OF)
    owners = {r["number"]: r["app_id"] for r in mart_snapshot(lake)["mv_changes"]}
    assert owners == {"CHG1": "shop", "CHG2": "shop"}


@pytest.mark.parametrize("zone", ["UTC", "Pacific/Kiritimati", "America/Los_Angeles"])
def test_an_instants_utc_day_is_the_day_of_its_utc_time_whatever_the_sessions_zone(zone: str) -> None:
    """The day tables place an event on its UTC day by arithmetic (utc_day in macros.sql), not by a cast, which
    follows the session's zone and looks it up per row. Around midnight UTC, and before 1970: the last microsecond of
    a day is that day, midnight the next one; a null instant has no day."""
    con = duckdb.connect()
    con.execute(load_macros())
    con.execute(f"set TimeZone = '{zone}'")
    instants = {
        "2026-11-19 23:59:59.999999+00": "2026-11-19",
        "2026-11-20 00:00:00+00": "2026-11-20",
        "2026-11-20 00:00:00.000001+00": "2026-11-20",
        "2024-02-29 12:00:00+00": "2024-02-29",
        "1969-12-31 23:59:59+00": "1969-12-31",
        "1970-01-01 00:00:00+00": "1970-01-01",
    }
    for instant, day in instants.items():
        found = con.execute("select cast(utc_day(cast($at as timestamptz)) as varchar)", {"at": instant}).fetchone()
        assert found == (day,), instant
    assert con.execute("select utc_day(null::timestamptz)").fetchone() == (None,)
