"""What a build reads: the mapping as the tables the SQL joins on, the build's parameters as `build_params`, and one
view per raw dataset the SQL reads (`raw_<source>_<name>`): the hourly datasets over their day partitions, the event
datasets over their history copies and the days since; and the days with traffic earlier builds stored
(`stored_app_traffic_days`)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa

from lakehouse.aggregates import history
from lakehouse.aggregates.build_types import BuildParams, LocalObject
from lakehouse.aggregates.days import days_between
from lakehouse.aggregates.mart_writes import ENUM_KEYS, copy_to_file
from lakehouse.aggregates.refs import RefTables
from lakehouse.aggregates.sqlfiles import SqlFile
from lakehouse.schemas import REGISTRY, Dataset
from lakehouse.storage import ROW_GROUP_ROWS, Lake

LOG_COUNTS = "elasticsearch/log_counts_hourly"
HOURLY_DATASETS = ("dynatrace/service_metrics_hourly", LOG_COUNTS)
# The day table whose stored days give an application's traffic before the days a build rebuilds.
APP_DAYS = "mv_monitoring_app_day_summary"
LOG_HOURS_SCHEMA = pa.schema(
    [
        ("index_pattern", pa.string()),
        ("read_from", pa.timestamp("us", tz="UTC")),
        ("read_until", pa.timestamp("us", tz="UTC")),
    ]
)


def read_datasets(files: Iterable[SqlFile]) -> list[Dataset]:
    """The raw datasets the SQL files read (a view `raw_<source>_<name>` in a header's `reads:`). The others (the
    CMDB's CIs, the sources' own listings a derived dataset is made from, rejects) neither start a build's days nor
    are registered: a CI stored under the day of its last edit, a year back, would rebuild every day since."""
    views = {name for f in files for name in f.reads}
    return [ds for ds in REGISTRY.values() if f"raw_{ds.source}_{ds.name}" in views]


def register_inputs(
    con: duckdb.DuckDBPyConnection,
    lake: Lake,
    refs: RefTables,
    params: BuildParams,
    scratch: Path,
    stored: set[str],
    read: list[Dataset],
) -> tuple[list[LocalObject], dict[str, dict[date, str]]]:
    """The mapping, the parameters and one view per raw dataset the SQL reads (`stored`: the keys under
    state/build/). Returns the event datasets' history copies written to local files (see
    lakehouse.aggregates.history), to be put once the build has succeeded, and each event dataset's day partitions
    with their versions."""
    register_refs(con, refs)
    for column, kind in ENUM_KEYS.items():
        # Names are constants; the members are the mapping's own values, read by DuckDB.
        con.execute(
            f"create type {kind} as enum "  # noqa: S608
            f"(select distinct {column} from ref_entities where {column} is not null order by {column})"
        )
    values = {k: v for k, v in params.__dict__.items() if k != "log_index_hours"} | {"hours_from": params.hours_from}
    # A parameter left None has no type of its own: the SQL that reads it casts it (stg_periods).
    columns = ", ".join(f"${name} as {name}" for name in values)
    con.execute(f"create table build_params as select {columns}", values)
    register_hourly(con, lake, params)
    copies = []
    versions = {}
    for dataset in read:
        if dataset.id in HOURLY_DATASETS:
            continue
        copy, versions[dataset.id] = register_history(
            con, lake, dataset, stored, hourly=params.mode == "hourly", scratch=scratch
        )
        if copy is not None:
            copies.append(copy)
    register_stored_traffic_days(con, lake, params)
    return copies, versions


def register_stored_traffic_days(con: duckdb.DuckDBPyConnection, lake: Lake, params: BuildParams) -> None:
    """`stored_app_traffic_days(app_id, environment, day, measured_hours)`: each application's days with traffic in
    production before day_from, as earlier builds stored them in mv_monitoring_app_day_summary (the days from day_from
    on are this build's, stg_app_signals_daily). An hourly build reads two weeks of hours; the traffic-lost rule
    (mv_monitoring_top_risks) needs the week before an application's last day with traffic, however long ago. A full
    build reads every hour and none of the mart: the table is empty. A table, not a view: the objects are read once,
    here, where a read that fails fails the build as an input."""
    keys = [] if params.mode == "full" else lake.list_keys(f"mart/{APP_DAYS}/")
    # Month folders (month=YYYY-MM) after day_from's month hold no day before it.
    first_month = f"month={params.day_from:%Y-%m}"
    urls = [lake.url_of(k) for k in keys if k.endswith(".parquet") and k.split("/")[2] <= first_month]
    if not urls:
        con.execute(
            "create table stored_app_traffic_days "
            "(app_id varchar, environment varchar, day date, measured_hours bigint)"
        )
        return
    con.execute(
        "create table stored_app_traffic_days as "
        "select app_id, environment, day, measured_hours "
        "from read_parquet($urls, hive_partitioning = false, union_by_name = true) "
        "where day < $day_from and measured_hours > 0 and environment = $production",
        {"urls": urls, "day_from": params.day_from, "production": params.production_environment},
    )


def register_hourly(con: duckdb.DuckDBPyConnection, lake: Lake, params: BuildParams) -> None:
    """The hourly datasets' day partitions from the first hour the build reads; the table `ref_log_hours_read`, the
    hours the logs ingestion read each index pattern (stg_signals_hourly); and the variable `log_counts_read`: whether
    any of those days has log counts, or any of the build's hours was read."""
    heavy_from = params.hours_from.date()
    bound_hourly_days(con, heavy_from, params.day_to)
    for dataset_id in HOURLY_DATASETS:
        found = _register_raw(con, lake, REGISTRY[dataset_id], days_between(heavy_from, params.day_to))
        if dataset_id == LOG_COUNTS:
            read_from, read_until = params.log_counts_read_from, params.log_counts_read_until
            hours_read = read_until is not None and read_until > params.hours_from
            hours_read = hours_read and (read_from is None or read_from < params.as_of)
            register_log_hours(con, params)
            hours_read = hours_read or any(until > params.hours_from for _, _, until in params.log_index_hours)
            # Without either, stg_app_signals_hourly leaves its two log sums out (see there).
            con.execute("set variable log_counts_read = $read", {"read": found or hours_read})


def register_log_hours(con: duckdb.DuckDBPyConnection, params: BuildParams) -> None:
    """`ref_log_hours_read(index_pattern, read_from, read_until)`: the whole hours read of each index pattern, from
    null for every hour before until (BuildParams.log_index_hours). A table: the background writes' cursors read it."""
    rows = [{"index_pattern": p, "read_from": since, "read_until": until} for p, since, until in params.log_index_hours]
    con.register("ref_log_hours_read_arrow", pa.Table.from_pylist(rows, schema=LOG_HOURS_SCHEMA))
    con.execute("create or replace table ref_log_hours_read as select * from ref_log_hours_read_arrow")
    con.unregister("ref_log_hours_read_arrow")


def register_refs(con: duckdb.DuckDBPyConnection, refs: RefTables) -> None:
    """The mapping as the SQL joins on it: `ref_entities` and `ref_pivots`."""
    con.register("ref_entities_arrow", refs.entities)
    con.execute("create table ref_entities as select * from ref_entities_arrow")
    con.register("ref_pivots_arrow", refs.pivots)
    con.execute("create table ref_pivots as select * from ref_pivots_arrow")


def register_history(
    con: duckdb.DuckDBPyConnection,
    lake: Lake,
    dataset: Dataset,
    stored: set[str],
    *,
    hourly: bool,
    scratch: Path | None,
) -> tuple[LocalObject | None, dict[date, str]]:
    """An event dataset's view over its history copy and the days since; a new copy (in `scratch`) when that is
    due, unless there is no scratch folder to write it in. Returns the copy and the day partitions' versions."""
    view = f"raw_{dataset.source}_{dataset.name}"
    days = history.plan(con, lake, dataset, stored)
    if not days.versions:
        _register_empty(con, dataset, view)
        return None, {}
    history.register(con, lake, view, days)
    copy = None
    if scratch is not None and days.needs_rewrite(hourly):
        # The view name comes from the dataset registry; the footer lists the days and versions read.
        query = f"select * from {view}_days"  # noqa: S608
        path, rows = copy_to_file(
            con, query, {}, scratch, ROW_GROUP_ROWS, {history.MANIFEST_KEY: history.manifest(days)}
        )
        copy = LocalObject(days.key, path, rows)
        # The build reads the new copy, so the stale partitions are read once.
        history.register(con, lake, view, history.DatasetHistory(dataset, days.versions, days.versions), str(path))
    _dataset_view(con, dataset, view)
    return copy, days.versions


def bound_hourly_days(con: duckdb.DuckDBPyConnection, first: date, last: date) -> None:
    """The day partitions of the hourly datasets the next query reads. The hourly signals are computed a month
    at a time: bounding the raw input to that month skips the other days' files."""
    con.execute("set variable hourly_first_day = $first", {"first": first})
    con.execute("set variable hourly_last_day = $last", {"last": last})


def _register_raw(con: duckdb.DuckDBPyConnection, lake: Lake, dataset: Dataset, days: list[date] | None) -> bool:
    """`raw_<source>_<name>` over the dataset's partitions of `days`; whether it has any."""
    # View names come from the dataset registry, never from input; values are bound.
    view = f"raw_{dataset.source}_{dataset.name}"
    urls = lake.partition_urls(dataset, days)
    if not urls:
        _register_empty(con, dataset, view)
        return False
    # The file list is a bound value held in a variable; the view reads it from there.
    con.execute(f"set variable {view}_files = $files", {"files": urls})
    bound = (
        " where day between getvariable('hourly_first_day') and getvariable('hourly_last_day')"
        if dataset.id in HOURLY_DATASETS
        else ""
    )
    # By name: a day an older release wrote without a column added since reads it as null.
    con.execute(
        f"create or replace view {view}_days as select * "  # noqa: S608
        f"from read_parquet(getvariable('{view}_files'), hive_partitioning = true, union_by_name = true){bound}"
    )
    _dataset_view(con, dataset, view)
    return True


def _dataset_view(con: duckdb.DuckDBPyConnection, dataset: Dataset, view: str) -> None:
    """`view`: the rows of `<view>_days` without their day, with every column the dataset declares (see _declared).
    The view name comes from the dataset registry, never from input."""
    declared = _declared(con, dataset, f"{view}_days")
    con.execute(f"create or replace view {view} as select * exclude (day){declared} from {view}_days")  # noqa: S608


def _declared(con: duckdb.DuckDBPyConnection, dataset: Dataset, relation: str) -> str:
    """`, cast(null as <type>) as <column>` for each column the dataset declares and `relation` lacks. Reading by name
    makes a column an older release did not write null on its days, but only where some day has it: a lake whose every
    day predates the column (the first build after the release) would otherwise not have it at all."""
    present = {row[0] for row in con.execute(f"describe select * from {relation}").fetchall()}  # noqa: S608
    missing = [c.name for c in dataset.columns if c.name not in present]
    if not missing:
        return ""
    con.register(f"{relation}_declared", dataset.schema.empty_table())
    types = {row[0]: row[1] for row in con.execute(f"describe select * from {relation}_declared").fetchall()}  # noqa: S608
    return "".join(f", cast(null as {types[name]}) as {name}" for name in missing)


def _register_empty(con: duckdb.DuckDBPyConnection, dataset: Dataset, view: str) -> None:
    con.register(f"{view}_arrow", dataset.schema.empty_table())
    # A table, not the registered Arrow table (which only this connection sees): the background writes read the
    # views on cursors of their own.
    con.execute(f"create or replace table {view}_empty as select * from {view}_arrow")  # noqa: S608
    con.unregister(f"{view}_arrow")
    con.execute(f"create or replace view {view} as select * from {view}_empty")  # noqa: S608
