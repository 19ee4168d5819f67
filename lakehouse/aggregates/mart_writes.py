"""How the build writes mart/: each table to local files while the SQL files run, then put once every file has
run. A whole-history table is one object per month, replaced only when a fingerprint of its rows changed; a day
table is one object per month with its latest days apart; a table without days is one object."""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb

from lakehouse.aggregates import footers, settled_deployments, settled_lead_times
from lakehouse.aggregates.build_types import BuildError, BuildParams, BuildResult, LocalObject
from lakehouse.aggregates.days import days_between, midnight, month_bounds
from lakehouse.aggregates.sqlfiles import SqlFile
from lakehouse.duckdb_session import first_row, sql_literal, tune_for_build
from lakehouse.storage import ROW_GROUP_ROWS, Lake

# Whole-history tables with an app_id are written sorted by it, then by the first of these they have.
EVENT_TIME_COLUMNS = ("opened_at", "change_start", "finished_at", "merged_at", "day", "hour")
PER_APPLICATION_ROW_GROUP = 16_384
# Row groups of a day table's month object: DuckDB's own default size. A month of hourly signals is written
# 0.3 s faster than in groups of 256,000 (1.8 s against 2.1 s), and a reader of one application skips more.
MONTH_ROW_GROUP = 122_880
# Mart tables written at once in the background while the SQL files run (see TableWriter): one per core of the build
# function.
WRITERS = 2
# Objects put side by side once every SQL file has run: a full build puts over a hundred (600 MB on the bench lake),
# one after another a few seconds of a single core, and on S3 as many round trips.
PUTS = 8
# The footer key of a month object's fingerprint (tables stored by month of a column).
FINGERPRINT_KEY = "rosetta_rows"
# In a day table's month object: the last day it holds; the month's later days are objects of their own.
DAYS_THROUGH_KEY = "rosetta_days_through"
# The hourly signals' keys as ENUM types over the mapping's values: tens of millions of rows a year are grouped
# and sorted on them, and an ENUM is a small integer to DuckDB (see _typed for how they are written). Sorted by
# value, so that an ENUM orders as its text does.
ENUM_KEYS = {"app_id": "mapped_app_id", "component_id": "mapped_component_id", "environment": "mapped_environment"}
# The column a reader of a day table skips row groups by, with their min/max statistics: the API reads one
# application at a time. A component is read within its application, whose row groups the application's own
# statistics find; written as text too, it made a month of hourly signals 0.1 s slower to write (of 0.7 s).
SKIPPED_BY = ("app_id",)


@dataclass
class TableWrite:
    """A mart table's write, made in local files while the SQL files run: the objects to put, then the keys to
    delete once they are, and the table's rows."""

    objects: list[LocalObject]
    deletes: list[str]
    rows: int


class TableWriter:
    """Writes each mart table to local files in the background once its SQL file has run (no later file changes it),
    WRITERS at a time, each on a cursor of its own, while the build goes on with the next files; and so the settled
    parts a daily or full build keeps. Much of a table's write is one thread's work (planning, footers, a small
    table's fixed costs): beside the SQL, it takes a core the SQL leaves idle. Nothing is put before every SQL file
    has run (`commit`)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, lake: Lake, scratch: Path, result: BuildResult) -> None:
        self.con, self.lake, self.scratch, self.result = con, lake, scratch, result
        self.pool = ThreadPoolExecutor(max_workers=WRITERS, thread_name_prefix="mart-write")
        self.pending: list[tuple[SqlFile, Future[TableWrite]]] = []
        self.cursors: list[duckdb.DuckDBPyConnection] = []
        self.settled: list[Future[list[LocalObject]]] = []
        # The months ('YYYY-MM') an hourly build writes of a whole-history table it holds only those of (see
        # lakehouse.aggregates.settled_deployment_rows); its other months stay as they are.
        self.months: dict[str, frozenset[str]] = {}

    def submit(self, sql_file: SqlFile, params: BuildParams) -> None:
        """Starts writing a table whose SQL file has run."""
        cursor = self._cursor()
        self.pending.append((sql_file, self.pool.submit(self._write, cursor, sql_file, params)))

    def _cursor(self, *, variables: bool = False) -> duckdb.DuckDBPyConnection:
        """A cursor with the build connection's settings, and with `variables` its variables as they are now: both are
        a session's own (the raw datasets' views read their files from variables, which the tables do not need). Its
        zone, UTC, is the whole database's (open_duckdb): the months of timestamps are the UTC ones."""
        cursor = self.con.cursor()
        self.cursors.append(cursor)
        tune_for_build(cursor)
        if not variables:
            return cursor
        for name, kind in self.con.execute("select name, type from duckdb_variables()").fetchall():
            value = first_row(self.con.execute("select getvariable($name)", {"name": name}))
            # The names and types are DuckDB's own, given by the variables the build set; the value is bound.
            cursor.execute(f"set variable {name} = cast($value as {kind})", {"value": value[0] if value else None})
        return cursor

    def submit_settled(
        self, step: str, queries: dict[str, tuple[str, dict[str, object]]], footer: dict[str, str]
    ) -> None:
        """Starts writing a settled part (see write_settled), to be put with the history copies."""
        cursor = self._cursor(variables=True)
        self.settled.append(self.pool.submit(self._write_settled, cursor, step, queries, footer))

    def _write_settled(
        self,
        cursor: duckdb.DuckDBPyConnection,
        step: str,
        queries: dict[str, tuple[str, dict[str, object]]],
        footer: dict[str, str],
    ) -> list[LocalObject]:
        with self.result.timed(f"write {step}"):
            return write_settled(cursor, queries, footer, self.scratch)

    def _write(self, cursor: duckdb.DuckDBPyConnection, sql_file: SqlFile, params: BuildParams) -> TableWrite:
        with self.result.timed(f"write {sql_file.table}"):
            return _write(cursor, self.lake, sql_file, params, self.scratch, self.months.get(sql_file.table))

    def finish(self) -> list[LocalObject]:
        """Waits for every write, raising the first failure, so that nothing is put when one failed; returns the
        settled parts' local files, to be put with the history copies."""
        wait([future for _, future in self.pending])
        wait(self.settled)
        for _, future in self.pending:
            future.result()
        return [local for future in self.settled for local in future.result()]

    def commit(self) -> None:
        """Puts every table's objects, then deletes what each replaced (once `finish` has returned)."""
        writes = [(sql_file, future.result()) for sql_file, future in self.pending]
        self.result.objects_written += put_all(self.lake, [local for _, write in writes for local in write.objects])
        for sql_file, write in writes:
            for key in write.deletes:
                self.lake.store.delete(key)
            self.result.tables.setdefault(sql_file.table, write.rows)

    def release(self) -> threading.Thread:
        """Closes the cursors and the connection on a thread of its own, once no query is left to run (`finish` has
        returned). DuckDB then frees the build's memory, a core's work for up to half a second after a full build,
        while the objects are put."""
        thread = threading.Thread(target=self._close_connection, name="duckdb-release")
        thread.start()
        return thread

    def _close_connection(self) -> None:
        for cursor in self.cursors:
            cursor.close()
        self.con.close()

    def close(self) -> None:
        """Waits for the writes under way (the connection must outlive them) and removes the local files left."""
        self.pool.shutdown(wait=True, cancel_futures=True)
        for cursor in self.cursors:
            cursor.close()
        for _, future in self.pending:
            if not future.cancelled() and future.exception() is None:
                for local in future.result().objects:
                    local.path.unlink(missing_ok=True)
        for settled in self.settled:
            if not settled.cancelled() and settled.exception() is None:
                for local in settled.result():
                    local.path.unlink(missing_ok=True)


def _write(
    con: duckdb.DuckDBPyConnection,
    lake: Lake,
    sql_file: SqlFile,
    params: BuildParams,
    scratch: Path,
    months: frozenset[str] | None = None,
) -> TableWrite:
    """A table's objects in local files, what to delete once they are put, and its rows (for a day table, the rows
    of the month objects written, kept days included). `scratch` is a local folder for the files DuckDB writes;
    `months`, for a whole-history table, the only months the table holds (see TableWriter.months)."""
    if sql_file.month_column and sql_file.table == settled_lead_times.TABLE and params.lead_times_recent_from:
        return _patch_months(con, lake, sql_file, params.lead_times_recent_from, scratch)
    if sql_file.month_column:
        return _write_changed_months(con, lake, sql_file, scratch, months)
    if sql_file.partitioned_by != "day":
        columns = [name for name, _ in column_types(con, sql_file.table)]
        # Tables with an app_id are read one application at a time: sorted by application (then time) in small
        # row groups, a reader's row-group statistics skip every other application, with no sort of its own.
        order, row_group = "", ROW_GROUP_ROWS
        if "app_id" in columns:
            when = next((c for c in EVENT_TIME_COLUMNS if c in columns), None)
            order = "order by app_id" + (f", {when}" if when else "")
            row_group = PER_APPLICATION_ROW_GROUP
        query = f"select * from {sql_file.table} {order}"  # noqa: S608 - the name and columns come from our files
        path, rows = copy_to_file(con, query, {}, scratch, row_group)
        return TableWrite([LocalObject(lake.mart_key(sql_file.table), path, rows)], [], rows)
    existing = set(lake.list_keys(f"mart/{sql_file.table}/"))
    reused = reused_objects(params, existing)
    write = TableWrite([], [], 0)
    for year_month in sorted(months_to_write(params, reused, params.day_from)):
        month_write = write_month(con, lake, sql_file, params, params.day_from, year_month, scratch, reused)
        write.objects += month_write.objects
        write.deletes += month_write.stale
    write.rows = sum(local.rows for local in write.objects)
    if params.mode == "full":
        write.deletes += sorted(existing - {local.key for local in write.objects})
    return write


def reused_objects(params: BuildParams, existing: set[str]) -> set[str]:
    """The objects of a day table a build may keep days from (`existing`: all of them). None in a full build: it
    rebuilds every day it holds and keeps no other (not the days after its own that a build as of a later hour
    wrote), and removes every object of the table it did not write once its own are in place."""
    return set() if params.mode == "full" else existing


def _write_changed_months(
    con: duckdb.DuckDBPyConnection, lake: Lake, sql_file: SqlFile, scratch: Path, only: frozenset[str] | None = None
) -> TableWrite:
    """A whole-history table stored one object per month of its month column. Every month is computed, but an
    object is replaced only when its rows changed, told by a fingerprint of the rows kept in the object's footer,
    and removed when its month has no rows left. So an hourly build writes the month or two a new day touched,
    not the whole history. With `only`, the table holds those months ('YYYY-MM') alone, and the objects of the
    others stay. Objects written and the table's rows."""
    table, column = sql_file.table, sql_file.month_column
    assert column is not None
    schema, order = _month_layout(con, table, column)
    month = f"utc_month({column})"  # macros.sql
    # The row hashes are summed, not combined in order: the fingerprint does not depend on how rows were read.
    months = con.execute(
        f"select {month}, count(*), sum(hash({table})::hugeint) from {table} group by all"  # noqa: S608 - as above
    ).fetchall()
    unplaced = sum(count for name, count, _ in months if name is None)
    if unplaced:
        raise BuildError(f"{sql_file.path.name}: {unplaced} rows have no {column}, so no month to be stored in")
    existing = lake.list_keys(f"mart/{table}/")
    if only is not None:
        existing = [k for k in existing if Lake.mart_month_of(k) in only]
    stored = _fingerprints(con, lake, existing)
    wanted: set[str] = set()
    objects: list[LocalObject] = []
    # An empty table is one empty object without a month, so that readers still find the table and its columns.
    empty: list[tuple[str | None, int, int]] = [(None, 0, 0)] if only is None else []
    for name, count, total in sorted(months) or empty:
        key = lake.mart_month_key(table, int(name[:4]), int(name[5:])) if name else lake.mart_key(table)
        wanted.add(key)
        fingerprint = f"{schema}:{count}:{total}"
        if stored.get(key) == fingerprint:
            continue
        # A range on the column itself, not its month's text: the scan's statistics can skip the other months.
        where = "true"
        bounds: dict[str, object] = {}
        if name:
            first, after = month_bounds(int(name[:4]), int(name[5:]))
            where = f"{column} >= $first and {column} < $after"
            bounds = {"first": midnight(first), "after": midnight(after)}
        query = f"select * from {table} where {where} order by {order}"  # noqa: S608 - names from our headers
        footer = {FINGERPRINT_KEY: fingerprint}
        path, rows = copy_to_file(con, query, bounds, scratch, PER_APPLICATION_ROW_GROUP, footer)
        objects.append(LocalObject(key, path, rows))
    # A month left without rows; the empty table's object once there are rows; the table's single object from
    # before it was stored by month.
    deletes = [key for key in existing if key not in wanted]
    return TableWrite(objects, deletes, sum(count for _, count, _ in months))


def _month_layout(con: duckdb.DuckDBPyConnection, table: str, column: str) -> tuple[str, str]:
    """A whole-history table's month objects: the schema tag their fingerprints begin with (rows of other columns or
    types are other rows), and the order their rows are written in (by application, for readers of one)."""
    described = column_types(con, table)
    names = [name for name, _ in described]
    order = ", ".join(c for c in ("app_id", column) if c in names)
    return hashlib.sha256(repr(described).encode()).hexdigest()[:16], order


def _patch_months(
    con: duckdb.DuckDBPyConnection, lake: Lake, sql_file: SqlFile, recent_from: datetime, scratch: Path
) -> TableWrite:
    """A whole-history table an hourly build found only the recent rows of (the settled lead times): each month
    object holding a row it found again, or one it found now, is replaced by that month's rows that hold and the
    ones found, unless they are the rows it holds (the fingerprint _write_changed_months keeps); the other months
    stay as they are. The table's rows are those of the months written."""
    table, column = sql_file.table, sql_file.month_column
    assert column is not None
    schema, order = _month_layout(con, table, column)
    held = set(lake.list_keys(f"mart/{table}/"))
    keys = {month: lake.mart_month_key(table, *month) for month in settled_lead_times.months_to_patch(con, recent_from)}
    stored = _fingerprints(con, lake, list(keys.values()))
    write = TableWrite([], [], 0)
    for (year, month), key in keys.items():
        first, after = month_bounds(year, month)
        # The month's rows as the table types them: those stored that hold, and those found.
        con.execute(f"create or replace table patched_month as select * from {table} limit 0")  # noqa: S608
        if key in held:
            # The rows that hold are told by their own times (no join with the half a million settled ones).
            con.execute(
                "insert into patched_month by name select * from read_parquet($url, hive_partitioning = false) "  # noqa: S608
                f"where {settled_lead_times.HOLDS}",
                {"url": lake.url_of(key), "recent_from": recent_from},
            )
        con.execute(
            f"insert into patched_month select * from {table} where {column} >= $first and {column} < $after",  # noqa: S608
            {"first": midnight(first), "after": midnight(after)},
        )
        # The fingerprint _write_changed_months gives the same rows (the row as a struct named after the table).
        found = first_row(
            con.execute(
                f"select count(*), sum(hash({table})::hugeint) from patched_month as {table}"  # noqa: S608
            )
        )
        count, total = (int(found[0]), found[1]) if found else (0, None)
        if not count:
            if key in held:
                write.deletes.append(key)
            continue
        fingerprint = f"{schema}:{count}:{total}"
        if stored.get(key) == fingerprint:
            continue  # found again as it was
        query = f"select * from patched_month order by {order}"  # noqa: S608 - names from our headers
        path, _ = copy_to_file(con, query, {}, scratch, PER_APPLICATION_ROW_GROUP, {FINGERPRINT_KEY: fingerprint})
        write.objects.append(LocalObject(key, path, count))
        write.rows += count
    return write


def _fingerprints(con: duckdb.DuckDBPyConnection, lake: Lake, keys: list[str]) -> dict[str, str]:
    """The fingerprint in each object's footer. An object without one, or whose footer cannot be read, is
    rewritten."""
    found = {}
    for key in keys:
        try:
            value = footers.read(con, lake.url_of(key), FINGERPRINT_KEY)
        except duckdb.Error:
            continue
        if value is not None:
            found[key] = value
    return found


def months_to_write(params: BuildParams, keys: Iterable[str], first_day: date) -> set[tuple[int, int]]:
    """The months of a day table a build writes: those with rebuilt days (from first_day) and, in daily and full
    builds, those still holding day objects of complete days, to fold them into their month objects. Without that,
    a month whose last days were written by hourly builds keeps them apart when no later build rebuilds them."""
    months = {(d.year, d.month) for d in days_between(first_day, params.day_to)}
    if params.mode != "hourly":
        today = params.as_of.date()
        months |= {(d.year, d.month) for k in keys if (d := Lake.mart_day_of(k)) is not None and d < today}
    return months


@dataclass(frozen=True)
class MonthWrite:
    """What writing a day table's month gives: the objects to put, then the keys to delete once they are."""

    objects: list[LocalObject]
    stale: list[str]


def write_month(
    con: duckdb.DuckDBPyConnection,
    lake: Lake,
    sql_file: SqlFile,
    params: BuildParams,
    first_day: date,
    year_month: tuple[int, int],
    scratch: Path,
    existing: set[str],
) -> MonthWrite:
    """A day table's month in local files (`existing` lists the table's objects in the store).

    A month is a folder: one object holding its days up to a date kept in its footer, and one object for each
    later day. The days never overlap, so a reader takes every object of the folder. An hourly build whose rebuilt
    days all come after the month object's writes only those days' objects: a day of hourly signals instead of the
    whole month, read back, merged, sorted and encoded again (about 1 s). Any other build compacts: the month
    object then holds every complete day (those before the build's own), merged by DuckDB from the month object,
    the day objects and the rebuilt rows, and the day objects it took in are removed once it is put."""
    year, month = year_month
    first, after = month_bounds(year, month)
    last = after - timedelta(days=1)
    rebuilt = [d for d in days_between(first_day, params.day_to) if first <= d <= last]
    month_key = lake.mart_month_key(sql_file.table, year, month)
    folder = month_key.rsplit("/", 1)[0] + "/"
    # Every day object is after the month object's days: the build began by removing any other.
    day_objects = {day: k for k in existing if k.startswith(folder) and (day := lake.mart_day_of(k)) is not None}
    through = _days_through(con, lake, month_key, last) if month_key in existing else None
    stale: list[str] = []
    if params.mode != "hourly" or (through is not None and rebuilt[0] <= through):
        new_through = min(last, params.as_of.date() - timedelta(days=1))
        if through is not None:
            new_through = max(new_through, through)
    else:
        new_through = None
    described = column_types(con, sql_file.table)
    objects = []
    if new_through is not None and new_through >= first:
        absorbed = {day: k for day, k in day_objects.items() if day <= new_through}
        kept = [lake.url_of(k) for day, k in sorted(absorbed.items()) if day not in rebuilt]
        # The month object, unless every day it holds is rebuilt (a full rebuild): then it has nothing to give,
        # and reading it would also turn the month's ENUM keys back into text, slower to sort and write.
        if through is not None and not set(days_between(first, min(through, new_through))) <= set(rebuilt):
            kept.insert(0, lake.url_of(month_key))
        footer = {DAYS_THROUGH_KEY: new_through.isoformat()}
        objects.append(
            _write_days(con, sql_file, described, month_key, first, new_through, rebuilt, kept, scratch, footer)
        )
        stale += list(absorbed.values())
    for day in rebuilt:
        if new_through is not None and day <= new_through:
            continue
        key = lake.mart_day_key(sql_file.table, day)
        written = _write_days(con, sql_file, described, key, day, day, [], [], scratch)
        if written.rows:
            objects.append(written)
        else:
            # A day left without rows: no object, and none from before.
            written.path.unlink(missing_ok=True)
            if day in day_objects:
                stale.append(day_objects[day])
    return MonthWrite(objects, stale)


def _days_through(con: duckdb.DuckDBPyConnection, lake: Lake, month_key: str, last: date) -> date:
    """The last day a month object holds, from its footer. An object without one (an older release's) is taken to
    hold its whole month, so the next build compacts it."""
    return _footer_days_through(con, lake, month_key) or last


def _footer_days_through(con: duckdb.DuckDBPyConnection, lake: Lake, month_key: str) -> date | None:
    """The last day in a month object's footer; None for an object without one. A footer that cannot be read (a
    failed request) fails the build: taken for an older object's, its month's day objects would be deleted as held
    twice, and with them the only copy of their days."""
    try:
        value = footers.read(con, lake.url_of(month_key), DAYS_THROUGH_KEY)
    except duckdb.Error as exc:
        raise BuildError(f"{month_key}: its footer cannot be read ({str(exc).splitlines()[0]})") from None
    return date.fromisoformat(value) if value else None


def remove_days_held_twice(con: duckdb.DuckDBPyConnection, lake: Lake) -> None:
    """Deletes the day objects whose day their month's object also holds, left by a build stopped between its puts
    and its deletes, in every month (not only those this build writes). Readers skip them already, so this changes
    nothing they see, even if this build fails later; the steps below then never meet them."""
    keys = lake.list_keys("mart/")
    for key in sorted(lake.mart_days_held_twice(keys, lambda month_key: _footer_days_through(con, lake, month_key))):
        lake.store.delete(key)


def _write_days(
    con: duckdb.DuckDBPyConnection,
    sql_file: SqlFile,
    described: list[tuple[str, str]],
    key: str,
    first: date,
    last: date,
    rebuilt: list[date],
    kept: list[str],
    scratch: Path,
    footer: dict[str, str] | None = None,
) -> LocalObject:
    """The rows of days first..last in a local file: the table's rows of those days, or, when `kept` lists objects
    to keep days from, those objects' rows of the days not in `rebuilt` with the table's rows of the rebuilt ones.
    DuckDB merges and sorts them, so no rows pass through Python."""
    columns = [name for name, _ in described]
    # Sorted by application: the API reads one application at a time, and row-group statistics on app_id then
    # let DuckDB skip the rest of the month. Only the application: a month of hourly signals fits an
    # application in one or two row groups, and each further key made the sort slower (0.35 s a month).
    keys = ["app_id"] if "app_id" in columns else [c for c in ("environment", "day") if c in columns]
    after = last + timedelta(days=1)
    bounds: dict[str, object] = {"first": first, "after": after}
    where = "day >= $first and day < $after"
    if "hour" in columns:
        where += " and hour >= $first_hour and hour < $after_hour"
        bounds |= {"first_hour": midnight(first), "after_hour": midnight(after)}
    rows = f"select * from {sql_file.table} where {where}"  # noqa: S608 - names from our headers
    if kept:
        # Names come from our headers; values are bound.
        kept_rows = "select * from read_parquet($kept, hive_partitioning = false, union_by_name = true) "
        kept_rows += "where day >= $first and day < $after"
        bounds["kept"] = kept
        if rebuilt:
            kept_rows += " and not list_contains($rebuilt, day)"
            bounds["rebuilt"] = rebuilt
        rows = f"{kept_rows} union all by name {rows}"
    # The columns and types the SQL gives now: kept rows from an object an older release wrote (a sum then
    # stored as a 38-digit decimal, say) would otherwise widen the month's column for good.
    typed = ", ".join(_typed(name, kind) for name, kind in described)
    # Sorted on the rows' own keys: an ENUM sorts faster than the text it is written as.
    order = ", ".join(f"r.{key}" for key in keys)
    query = f"select {typed} from ({rows}) as r order by {order}"  # noqa: S608 - as above
    # A day object (no footer) is small: row groups of the per-application size keep it readable one application
    # at a time.
    row_group = MONTH_ROW_GROUP if footer else PER_APPLICATION_ROW_GROUP
    path, count = copy_to_file(con, query, bounds, scratch, row_group, footer)
    return LocalObject(key, path, count)


def _typed(name: str, kind: str) -> str:
    """A column as the month object stores it. An ENUM is text in Parquet, and DuckDB writes its dictionary as
    it is, which is faster; but it gives every row group the ENUM's whole range as min/max, so the column readers
    find rows by (the application) is written as text, whose statistics are the row group's own."""
    if not kind.startswith("ENUM("):
        return f"cast(r.{name} as {kind}) as {name}"
    return f"cast(r.{name} as varchar) as {name}" if name in SKIPPED_BY else f"r.{name}"


def copy_to_file(
    con: duckdb.DuckDBPyConnection,
    query: str,
    params: dict[str, object],
    scratch: Path,
    row_group: int,
    footer: dict[str, str] | None = None,
) -> tuple[Path, int]:
    """DuckDB writes the query's rows as Parquet to a new local file (no table passes through Python), with
    `footer` as key-value metadata; the file and the rows written."""
    scratch.mkdir(parents=True, exist_ok=True)
    target = scratch / f"{uuid.uuid4().hex}.parquet"
    # zstd's fastest level: the hourly mart's months are written 15 % faster than at its default level, and come
    # out no larger (measured on a month of the bench lake: 1.10 s against 1.32 s, 41.2 MB against 41.7 MB).
    options = f"format parquet, compression zstd, compression_level 1, row_group_size {row_group}"
    if footer:
        options += ", " + footers.copy_option(footer)
    try:
        # The query is built from our headers' names; the target path is ours; values are bound.
        copied = first_row(con.execute(f"copy ({query}) to {sql_literal(str(target))} ({options})", params))
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return target, int(copied[0]) if copied else 0


def put_all(lake: Lake, objects: list[LocalObject]) -> int:
    """Puts local files whole under their keys, PUTS at a time (the store replaces each object atomically), and
    removes them; raises the first failure once every put has ended. How many were put."""
    with ThreadPoolExecutor(max_workers=PUTS, thread_name_prefix="mart-put") as pool:
        puts = [pool.submit(_put, lake, local.key, local.path) for local in objects]
    for put in puts:
        put.result()
    return len(objects)


def _put(lake: Lake, key: str, path: Path) -> None:
    """Puts a local file whole under `key`, then removes what is left of it."""
    try:
        lake.store.put_file(key, path)
    finally:
        path.unlink(missing_ok=True)


def column_types(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    """The table's columns and their DuckDB types, in order. The name comes from our headers."""
    return [(row[0], row[1]) for row in con.execute(f"describe {table}").fetchall()]


def write_settled(
    con: duckdb.DuckDBPyConnection,
    queries: dict[str, tuple[str, dict[str, object]]],
    footer: dict[str, str],
    scratch: Path,
) -> list[LocalObject]:
    """A settled part this build found (its objects' queries by name, and the manifest they share), written to
    local files to be put with the history copies."""
    objects = []
    for name, (query, values) in queries.items():
        path, rows = copy_to_file(con, query, values, scratch, ROW_GROUP_ROWS, footer)
        objects.append(LocalObject(settled_deployments.key(name), path, rows))
    return objects
