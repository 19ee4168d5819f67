"""The serving copy: mart objects mirrored to local disk and read there, refreshed when a new build lands.

Requests never list or read S3: a glob over mart/ would LIST the whole prefix on every query. One LIST per build
finds the objects. When a build is first seen, the tables an application summary reads are fetched first (the
summary answers then); a background thread holds the last hours of golden signals in memory, fetches the other
whole tables (a few MB each; the other routes wait for them) and then the hourly table's months of the last 90
days (tens of MB each; older months are fetched when a request first needs them). Queries read the local Parquet
through views (small tables are copied into memory), so memory stays bounded by DuckDB's limit rather than by the
size of the mart. A new build is noticed by its state record (one small GET, at most every
`mart_check_interval_s`, in the background); the old copy serves until the new one is wholly loaded. The new copy
fetches only the objects the build replaced or added: one listed at the version the old copy listed is a hard link to
the old copy's file (see ServedCopy). No copy is loaded while a build holds the lake's lease: it puts its objects before
its state, and some may be its already.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import logging
import math
import os
import re
import shutil
import threading
import time
import uuid
import weakref
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq

from functions.api.entity_index import RecentHours, SummaryIndex
from functions.api.ids import Directory
from functions.api.problems import Problem
from functions.api.queries import BUILD_MACROS, RECENT_HOURLY, RECENT_SELECT, DaysRead, last_day_of
from functions.api.settings import ApiSettings
from lakehouse.aggregates import footers, lease
from lakehouse.aggregates.build import NEVER_READ, STATE_KEY
from lakehouse.aggregates.inputs import LOG_COUNTS
from lakehouse.aggregates.mart_writes import DAYS_THROUGH_KEY
from lakehouse.aggregates.sqlfiles import files_version, load_macros, load_sql_files
from lakehouse.duckdb_session import open_duckdb, sql_literal, utc_cursor
from lakehouse.mappings import MappingStore
from lakehouse.objectstore import LocalStore, file_version
from lakehouse.settings import Settings, make_folder
from lakehouse.storage import Lake

log = logging.getLogger("rosetta.api.mart")

HOURLY = "mv_golden_signals_hourly"
TASK_SLAS = "servicenow/task_slas"  # the dataset whose first read tells which open incidents' SLA breaches are known
# The tables the API reads; the hourly one is read per month (see Snapshot.hourly_files).
TABLES = (
    HOURLY,
    "mv_monitoring_app_day_summary",
    "mv_monitoring_domain_day_summary",
    "mv_incidents_app_day",
    "mv_changes_app_day",
    "mv_incidents",
    "mv_changes",
    "mv_deployments",
    "mv_deployments_latest",
    "mv_live_status_latest",
    "mv_incident_links",
    "mv_lead_times",
    "mv_slo_app_period",
    "mv_slo_burn_rates",
    "mv_slo_group_burn_rates",
    "mv_slo_group_period",
    "mv_dora_app_period",
    "mv_dora_group_period",
    "mv_dora_bands",
    "mv_dora_scopes",
    "mv_monitoring_top_risks",
    "mv_health",
    "mv_mapping_coverage",
    "mv_unmapped_keys",
)
# Tables read one application at a time: the mirror keeps them sorted by application, so a query reads the few
# row groups whose min/max bracket the application instead of the whole object. The build writes month objects
# already sorted by application; those are mirrored as they are (see _sorted_by_app), older ones are re-sorted.
SORTED_BY = {
    HOURLY: "app_id, level, component_id, environment, hour",
    "mv_incidents": "app_id, opened_at",
    "mv_changes": "app_id, change_start",
    "mv_deployments": "app_id, finished_at",
}
# Tables stored one object per month of the time their range queries filter on (the build's `partitioned by:
# month of finished_at`): a range reads only its months' objects (Snapshot.table_months).
READ_BY_MONTH = ("mv_deployments",)
# Tables stored one object per month of a time that never comes after the one their range queries filter on: a lead
# time is stored by month of its merge, at or before the deployment that shipped it (22_mv_lead_times.sql). A range
# of deployments reads the months up to its end's (Snapshot.months_up_to); a merge long before it can still count.
READ_UP_TO_MONTH = ("mv_lead_times",)
# Tables stored one object per month of a time their queries do not filter on (a change's window can fall months
# after the change was created): a copy merges their months into one local file sorted by SORTED_BY, once, so that
# a request opens one file instead of every month's (4-5 ms a request, measured, for the change calendar).
MERGED_ON_LOAD = ("mv_changes",)
# What an application's summary reads (the entity tab and the health card call it first): these tables come in
# before the first answer; the others arrive in the background and the other routes wait for them.
SUMMARY_TABLES = (
    "mv_slo_app_period",
    "mv_slo_burn_rates",
    "mv_monitoring_top_risks",
    "mv_incidents",
    "mv_deployments_latest",
    "mv_live_status_latest",
)
ROW_GROUP = 16_384
# The summary and the default timeseries read the last day: the hours before as_of are held in memory, sorted by
# application, so those answers scan one small in-memory row group instead of a month's Parquet.
RECENT_HOURS = 48
PREFETCH_DAYS = 90
RETIRE_AFTER_S = 60.0  # an old copy outlives its replacement by this much (requests last under 30 s)
LOAD_WAIT_S = 25.0  # a route waits this long for the rest of a copy: under API Gateway's 29 s timeout
IN_MEMORY_ROWS = 100_000
# A table's object, a month's object, or one of a month's days written on its own beside it (a month's rows are its
# objects' rows, less a day object whose day the month object also holds: see _read_paths).
MART_KEY = re.compile(
    r"^mart/(?P<table>mv_[a-z0-9_]+)/(?:month=(?P<month>\d{4}-\d{2})/)?(?:data|day-\d{4}-\d{2}-\d{2})\.parquet$"
)
RETRY_AFTER_FAILURE_S = 30.0
# What a request hears while the first copy cannot be loaded: it is tried again RETRY_AFTER_FAILURE_S after.
NOT_LOADED = "the mart copy could not be loaded; retrying shortly"
# Why a route answers 503 after an upgrade, before the first build of the new release's SQL.
EARLIER_RELEASE = (
    "the mart was built by an earlier release and lacks a table or column this answer needs; the next build adds it"
)
# What a 503 tells a client to wait (Retry-After) while the copy loads, or a new build's objects land.
RETRY_WHILE_LOADING_S = 5
# Why a copy is not loaded while a build puts its objects: they would be served under the previous build's state.
BUILD_LANDING = "a new build is putting its data; retry shortly"
# The digest of the SQL this release builds the mart with, as the build state records it (sql_version).
SQL_VERSION = files_version(load_sql_files(), load_macros())


def built_by_other_sql(build: dict[str, Any]) -> bool:
    """Whether the build ran SQL other than this release's (a release deployed before its first build): its tables
    may lack a column this release reads, until the next build (a full one, the SQL having changed)."""
    return build.get("sql_version") != SQL_VERSION


def unavailable(detail: str, retry_after_s: float) -> Problem:
    """A 503 the client can retry: Retry-After says when (whole seconds, at least one)."""
    wait = max(1, math.ceil(retry_after_s))
    return Problem(503, detail, title="Data unavailable", headers={"Retry-After": str(wait)})


# The copies this process made (mart-<pid>-<id>): any other under its pid is a dead process's.
_OWN_COPIES: set[str] = set()
# Background loaders still defining tables; waited for at exit (DuckDB aborts if a query runs while Python exits).
_LOADERS: weakref.WeakSet[threading.Thread] = weakref.WeakSet()
# Copies replaced and not yet retired, by id: each is retired by its timer, or at exit if the process ends first (a
# replaced copy may hold rows a forget run removed from the lake since, and its timer dies with the process).
_REPLACED: dict[int, Snapshot] = {}
_REPLACED_GUARD = threading.Lock()


@atexit.register
def _at_exit() -> None:
    _wait_for_loaders()
    with _REPLACED_GUARD:  # after a timer retiring its copy now: a daemon thread dies with the process
        for snap in _REPLACED.values():
            _retire(snap)
        _REPLACED.clear()


def _wait_for_loaders() -> None:
    for loader in list(_LOADERS):
        loader.join(timeout=30)


def _retire_later(snap: Snapshot) -> None:
    """Retire a replaced copy RETIRE_AFTER_S from now: requests that took it just before the swap still open its
    files."""
    with _REPLACED_GUARD:
        _REPLACED[id(snap)] = snap
    timer = threading.Timer(RETIRE_AFTER_S, _retire_replaced, args=(snap,))
    timer.name, timer.daemon = "mart-retire", True
    timer.start()


def _retire_replaced(snap: Snapshot) -> None:
    """Retire a replaced copy unless the exit did already."""
    with _REPLACED_GUARD:
        if _REPLACED.pop(id(snap), None) is not None:
            _retire(snap)


def _retire(snap: Snapshot) -> None:
    """Close a replaced copy's connection (its in-memory tables go with it) and remove its folder."""
    if snap.con is not None:
        snap.con.close()
    if snap.folder is not None:
        # Its names only: a file the next copy links (see ServedCopy) stays, under that copy's folder.
        shutil.rmtree(snap.folder, ignore_errors=True)
        _OWN_COPIES.discard(snap.folder.name)  # else a name more per build, for the life of the process


def _remove_copies_of_ended_processes(local_dir: Path) -> None:
    """Removes the copies (mart-<pid>-<id>) of processes that ended without removing them. Lambda kills the runtime of
    a request that reaches the timeout and starts a new one in the same environment, whose /tmp keeps the old copy:
    one copy more per timeout until the function's storage is full. A copy under this process's pid that this process
    did not make is a dead process's too (a new runtime often gets the same pid)."""
    if not local_dir.is_dir():
        return
    for folder in local_dir.glob("mart-*-*"):
        pid = folder.name.split("-")[1]
        if not pid.isdigit() or folder.name in _OWN_COPIES:
            continue
        if int(pid) == os.getpid() or not _running(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def _not_built(retry_after_s: float | None = None) -> Problem:
    """A 503 before any build; with the wait until the API next looks for one (Retry-After) when it is known."""
    headers = {"Retry-After": str(max(1, math.ceil(retry_after_s)))} if retry_after_s is not None else None
    return Problem(503, "the mart has not been built yet: run a build first", title="No data yet", headers=headers)


def _sorted_by_app(path: Path) -> bool:
    """True when the file's row groups are already ordered by app_id (each one starts at or after the end of the
    previous one), so row-group statistics skip the other applications without a re-sort. Only the footer is
    read."""
    meta = pq.ParquetFile(path).metadata
    if meta.num_row_groups == 1 and meta.num_rows > ROW_GROUP:
        return False  # one large group: statistics cannot skip anything, so sort it into small ones
    names = [meta.schema.column(i).name for i in range(meta.num_columns)]
    if "app_id" not in names:
        return False
    column = names.index("app_id")
    previous_max = None
    for group in range(meta.num_row_groups):
        stats = meta.row_group(group).column(column).statistics
        if stats is None or not stats.has_min_max:
            return False
        if previous_max is not None and stats.min < previous_max:
            return False
        previous_max = stats.max
    return True


@dataclass
class Snapshot:
    """One build's copy. Requests take a cursor from it; it stays usable until the last request lets go."""

    con: duckdb.DuckDBPyConnection | None
    directory: Directory
    build: dict[str, Any] = field(default_factory=dict)
    marker: str | None = None
    tables: frozenset[str] = frozenset()
    folder: Path | None = None
    hourly_keys: dict[str, list[str]] = field(default_factory=dict)  # "YYYY-MM" -> the month's keys
    # Other tables stored by month: table -> "YYYY-MM" -> the month's keys.
    month_keys: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    fetch: Any = None  # (key) -> local path, fetching it if needed
    # The mart objects the copy listed, with their versions, as a digest: a copy loaded again under the same build
    # state (after a build stopped before its state) holds other figures, and its ETag must say so.
    objects: str | None = None
    listed: dict[str, str] = field(default_factory=dict)  # those objects: key -> version
    # A month object's last day, from its footer: read once per copy, not per request (see read_paths).
    days_through: dict[str, date | None] = field(default_factory=dict)
    summary_index: SummaryIndex | None = None  # set once the summary's tables are defined
    # Set when an earlier release's build wrote the summary's tables without a column this release reads: the
    # summaries answer 503, retried after these seconds (the next check for a build), while the other routes answer.
    summary_waits_s: float | None = None
    recent: RecentHours | None = None  # the last RECENT_HOURS, once in memory
    complete: threading.Event = field(default_factory=threading.Event)  # every table is defined
    # The background part of the load failed: some tables are missing, and the next check loads the copy again.
    load_failed: bool = False
    loaded_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def as_of(self) -> datetime | None:
        value = self.build.get("as_of")
        return datetime.fromisoformat(value) if value else None

    def read_from(self, dataset: str) -> datetime | None:
        """The first instant the lake read `dataset` from (deploys/deployment_events, servicenow/incidents,
        servicenow/changes), as the build had it: None when unknown."""
        return _first_read(self.build, dataset)

    def read_until(self, dataset: str) -> datetime | None:
        """How far the lake had read `dataset` (servicenow/incidents, changes, task_slas, deploys/deployment_events,
        dynatrace/service_metrics_hourly) when the build ran, its watermark: None when unknown (never advanced, or a
        build before it was recorded)."""
        value = (self.build.get("read_until") or {}).get(dataset)
        return datetime.fromisoformat(value) if value else None

    @cached_property
    def sources_read(self) -> list[tuple[str, datetime]]:
        """Each dataset the build recorded a watermark of, with it, the log counts' included (their hours read)."""
        marks = dict(self.build.get("read_until") or {})
        marks[LOG_COUNTS] = (self.build.get("log_hours_read") or [None, None])[1]
        return sorted((dataset, datetime.fromisoformat(mark)) for dataset, mark in marks.items() if mark)

    def days_read(self, dataset: str) -> DaysRead:
        """The days the lake had read `dataset` over when the build ran: a count of another day is unknown, not 0.
        Never read: no day, the as-of's own included (its hours up to the as-of were not read either)."""
        if self.never_read(dataset):
            return DaysRead.none()
        return DaysRead.between(self.read_from(dataset), self.read_until(dataset))

    def unread_after(self, dataset: str, end: datetime) -> datetime | None:
        """How far the lake had read `dataset` when the build ran, when that left a day up to `end` unread (ServiceNow
        down since): what happened after it is unknown, not none. None when every such day was read."""
        if self.days_read(dataset).read_through(last_day_of(end)):
            return None
        return self.read_until(dataset)

    def unread_at(self, dataset: str, moment: datetime) -> datetime | None:
        """How far the lake had read `dataset` when the build ran, when that lies more than an hour before `moment`
        (DaysRead.current_at, the top risks' rule): a backlog at that instant, or a list up to it, may miss what
        came since. ServiceNow and the deployments are read every 15 minutes, so a day read in part can hide hours.
        None when read to within the hour."""
        if self.days_read(dataset).current_at(moment):
            return None
        return self.read_until(dataset)

    @property
    def built_by_other_sql(self) -> bool:
        return built_by_other_sql(self.build)

    def never_read(self, dataset: str) -> bool:
        """Whether the lake had never read `dataset` when the build ran (no first read recorded, none of it held)."""
        return (self.build.get("read_from") or {}).get(dataset) == NEVER_READ

    def cursor(self) -> duckdb.DuckDBPyConnection:
        if self.con is None:
            raise _not_built()
        return utc_cursor(self.con)

    @property
    def summary(self) -> SummaryIndex:
        if self.summary_index is None:
            if self.summary_waits_s is not None:
                raise unavailable(EARLIER_RELEASE, self.summary_waits_s)
            raise _not_built()
        return self.summary_index

    def month_files(self, start: datetime, end: datetime) -> list[str]:
        """Local paths of the hourly table's months that overlap [start, end)."""
        return self.hourly_files(start.date(), (end - timedelta(microseconds=1)).date())

    def hourly_files(self, first: date, last: date) -> list[str]:
        """Local paths of the hourly table's months that overlap [first, last], fetched on first use."""
        return self.read_paths(_overlapping(self.hourly_keys, first, last))

    def table_months(self, table: str, start: datetime, end: datetime) -> list[str] | None:
        """Local paths of a table's month objects that overlap [start, end), when the table is stored by month
        of the time a query filters on; None when it is one object (read it through its view). A range then
        opens only its months: the range filter prunes row groups inside an object, not whole objects."""
        months = self.month_keys.get(table)
        if months is None:
            return None
        first, last = start.date(), (end - timedelta(microseconds=1)).date()
        return self.read_paths(_overlapping(months, first, last))

    def months_up_to(self, table: str, end: datetime) -> list[str] | None:
        """Local paths of a table's month objects from its first month to the one holding the instant before `end`,
        when the table is stored by month (see READ_UP_TO_MONTH); None when it is one object."""
        months = self.month_keys.get(table)
        if months is None:
            return None
        first = date.fromisoformat(f"{min(months)}-01")
        return self.read_paths(_overlapping(months, first, (end - timedelta(microseconds=1)).date()))

    def read_paths(self, keys: list[str]) -> list[str]:
        """Local paths of the objects a query reads, in the keys' order (see _read_paths)."""

        def through(month_key: str) -> date | None:
            if month_key not in self.days_through:
                self.days_through[month_key] = _days_through(self.fetch(month_key))
            return self.days_through[month_key]

        return _read_paths(keys, self.fetch, through)


def _marker(state: tuple[dict[str, Any], str] | None) -> str | None:
    """What tells one build state from another: its version and run."""
    if state is None:
        return None
    build, etag = state
    return f"{etag}|{build.get('run_id')}"


def _first_read(build: dict[str, Any], dataset: str) -> datetime | None:
    value = (build.get("read_from") or {}).get(dataset)
    if value == NEVER_READ:
        # Never read: read from the build's as-of on, so that nothing before it counts (unknown, never 0).
        value = build.get("as_of")
    return datetime.fromisoformat(value) if value else None


def _read_paths(keys: list[str], fetch: Any, through: Any = None) -> list[str]:
    """Local paths of the objects a query reads, in the keys' order: all but a day object whose day its month's
    object also holds (left by a build stopped before its deletes), which would count the day twice. `through`
    gives a month object's last day (by default read from the fetched object's footer)."""
    twice = Lake.mart_days_held_twice(keys, through or (lambda month_key: _days_through(fetch(month_key))))
    return [str(fetch(k)) for k in keys if k not in twice]


def _link(source: Path, target: Path) -> None:
    """`target` holding `source`'s object as it is now: a hard link (free), else a copy. Read in place, a local lake's
    object would be the next build's once that build replaces it (os.replace gives the key a new file), while the
    copy still names this build in its answers and ETags."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


@dataclass(frozen=True)
class ServedCopy:
    """What a copy being loaded takes from the copy serving meanwhile: that copy's file of an object it listed at the
    version the new copy lists, and its merge of a table whose objects are all so. Linked, not copied: no download,
    sort or merge again, and no file of the serving copy is written (a copy's files are only ever put in place whole,
    then read). Its folder's removal once it is retired takes its names away, not the files the new copy names too."""

    folder: Path
    served: dict[str, str]  # the objects the serving copy listed: key -> version
    listed: dict[str, str]  # the objects the new copy listed

    def link(self, key: str, target: Path) -> bool:
        """Whether `target` now names the serving copy's file of `key`, the same version of it."""
        version = self.listed.get(key)
        return version is not None and self.served.get(key) == version and _hard_link(self.folder / key, target)

    def link_merged(self, table: str, target: Path) -> bool:
        """Whether `target` now names the serving copy's merge of `table`, merged from the same objects."""
        prefix = f"mart/{table}/"
        if {k: v for k, v in self.served.items() if k.startswith(prefix)} != {
            k: v for k, v in self.listed.items() if k.startswith(prefix)
        }:
            return False
        return _hard_link(self.folder / _merged_name(table), target)


def _hard_link(source: Path, target: Path) -> bool:
    """Whether `target` is now a second name of `source`: not when the serving copy has no such file (never fetched,
    or its folder removed since it was retired) or the link fails (another file system); the object is fetched then."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        os.link(source, target)
    except OSError:
        return False
    return True


def _merged_name(table: str) -> str:
    """Where a copy's folder holds a table merged on load (MERGED_ON_LOAD), beside the objects' keys (mart/...)."""
    return f"merged/{table}.parquet"


def _days_through(path: Path) -> date | None:
    """The last day a month object holds, from its footer."""
    value = (pq.read_metadata(path).metadata or {}).get(DAYS_THROUGH_KEY.encode())
    return date.fromisoformat(value.decode()) if value else None


def _overlapping(months: dict[str, list[str]], first: date, last: date) -> list[str]:
    """The keys of the months ("YYYY-MM" -> keys) from first's month to last's, in order."""
    wanted = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        wanted += sorted(months.get(f"{year:04d}-{month:02d}", []))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return wanted


class ServingMart:
    def __init__(self, lake: Lake, settings: Settings, api: ApiSettings) -> None:
        self.lake = lake
        self.settings = settings
        self.api = api
        self._snapshot: Snapshot | None = None
        self._lock = threading.Lock()
        self._checking = threading.Lock()
        self._fetching: dict[str, threading.Lock] = {}  # one per object: different objects download in parallel
        self._fetching_guard = threading.Lock()
        self._checked_at = 0.0
        # When the first copy last failed to load (time.monotonic), None before any failure: a clock started
        # moments ago (a new Lambda sandbox) must not read as a recent failure.
        self._failed_at: float | None = None
        # The thread loading the first copy, and the 503 it ended with (a load that failed).
        self._first_loader: threading.Thread | None = None
        self._first_problem: Problem | None = None
        # The mapping's latest version as last read (every load or check reads it first), 0 before any read: what an
        # admin answer names while no copy is loaded, a build holding the lease, say.
        self.mapping_version_read = 0
        # Made when the API starts: a folder that cannot be made would fail every request's load of the copy.
        make_folder("ROSETTA_API_LOCAL_DIR", api.local_dir)

    # --- what requests use ------------------------------------------------------------------------
    def snapshot(self) -> Snapshot:
        current = self.in_service()
        return current if current is not None else self._first_snapshot()

    def in_service(self) -> Snapshot | None:
        """The copy in service, without waiting: None before the first one is loaded (`snapshot` waits for it)."""
        current = self._snapshot
        if current is not None and time.monotonic() - self._checked_at >= self.api.mart_check_interval_s:
            self._checked_at = time.monotonic()
            # Never on the request's time: the check (and a reload) run beside it.
            threading.Thread(target=self.refresh, name="mart-refresh", daemon=True).start()
        return current

    def _first_snapshot(self) -> Snapshot:
        """The first copy, loaded beside the request: a store that takes the connection and never answers keeps each
        request LOAD_WAIT_S at most (botocore's timeouts and retries take minutes), then it hears to retry while the
        load goes on."""
        with self._lock:
            if self._snapshot is not None:
                return self._snapshot
            if self._first_loader is None or not self._first_loader.is_alive():
                since_failure = (
                    time.monotonic() - self._failed_at if self._failed_at is not None else RETRY_AFTER_FAILURE_S
                )
                if since_failure < RETRY_AFTER_FAILURE_S:
                    raise unavailable(NOT_LOADED, RETRY_AFTER_FAILURE_S - since_failure)
                self._first_problem = None
                self._first_loader = threading.Thread(target=self._first_load, name="mart-first-load", daemon=True)
                self._first_loader.start()
                _LOADERS.add(self._first_loader)
            loader = self._first_loader
        loader.join(LOAD_WAIT_S)
        if self._snapshot is not None:
            return self._snapshot
        if loader.is_alive():
            raise unavailable("the mart copy is still loading; retry shortly", RETRY_WHILE_LOADING_S)
        raise self._first_problem or unavailable(NOT_LOADED, RETRY_AFTER_FAILURE_S)

    def _first_load(self) -> None:
        """Loads the first copy; what went wrong is kept for the requests waiting on it."""
        _remove_copies_of_ended_processes(self.api.local_dir)
        try:
            marker, build, version = self._markers()
            self._snapshot = self._load(marker, build, version, wait=False)
            self._checked_at = time.monotonic()
        except Problem as problem:
            self._first_problem = problem
        except Exception:
            self._failed_at = time.monotonic()
            log.exception("loading the mart failed")
            self._first_problem = unavailable(NOT_LOADED, RETRY_AFTER_FAILURE_S)

    def await_complete(self, snap: Snapshot) -> None:
        """Waits LOAD_WAIT_S at most for the rest of a copy still loading (`cursor` then says whether it came)."""
        snap.complete.wait(timeout=LOAD_WAIT_S)

    @contextmanager
    def cursor(
        self, snap: Snapshot | None = None, *, complete: bool = True, waited: bool = False
    ) -> Iterator[tuple[Snapshot, duckdb.DuckDBPyConnection]]:
        """A cursor on `snap` (the copy the request took), else on the current copy; with `complete`, once every table
        is defined (else only the summary's), waiting for them unless the caller `waited` already (await_complete)."""
        snap = snap if snap is not None else self.snapshot()
        if complete and not (snap.complete.is_set() if waited else snap.complete.wait(timeout=LOAD_WAIT_S)):
            raise unavailable("the mart copy is still loading; retry shortly", RETRY_WHILE_LOADING_S)
        if snap.con is None:
            # A build is looked for again after the check interval: asking sooner answers the same.
            raise _not_built(self.api.mart_check_interval_s)
        cur = snap.cursor()
        try:
            yield snap, cur
        finally:
            cur.close()

    def refresh(self, *, force: bool = False, replaced: bool = False) -> bool:
        """Reload what changed (the tables after a build, the directory after a mapping change); True if so.
        `replaced`: a request found an object of this copy replaced by a newer build's."""
        if not self._checking.acquire(blocking=force):
            return False
        try:
            marker, build, version = self._markers()
            current = self._snapshot
            if current is not None:
                version = self._latest_version(version, current.directory.version)
            # Objects replaced under the same build state, and no build running: that build failed or was stopped
            # while it put its tables, and the next may be an hour away. The objects there are what can be served.
            left_behind = replaced and not lease.build_running(self.lake)
            if current is not None and current.marker == marker and not current.load_failed and not left_behind:
                if current.directory.version == version:
                    return False
                # Same tables, new mapping: swapped in place, so what the loader is still adding to this copy
                # (the recent hours, the rest of the tables) reaches the requests that follow.
                current.directory = self._directory(version)
                return True
            fresh = self._load(marker, build, version, wait=True, served=current)
            served = self._snapshot
            if served is not None and served.directory.version > fresh.directory.version:
                # An admin's change landed while this copy loaded, under the version read before it.
                latest = self._latest_version(fresh.directory.version, served.directory.version)
                if latest == served.directory.version:
                    fresh.directory = served.directory
                elif latest != fresh.directory.version:
                    fresh.directory = self._directory(latest)
            with self._lock:
                old, self._snapshot = self._snapshot, fresh
            if old is not None:
                _retire_later(old)
            return True
        except Problem as refused:
            # A build landing, or an object replaced while the copy loaded: the next check loads it.
            log.info("the mart was not reloaded; the previous copy keeps serving", extra={"reason": refused.detail})
            return False
        except Exception:
            log.exception("reloading the mart failed; the previous copy keeps serving")
            return False
        finally:
            self._checking.release()

    def mapping_changed(self) -> None:
        """After an admin change: the copy serving resolves ids with the new mapping at once. A build landed since (or
        one loading) is taken up beside, as the periodic check takes it up: the admin's answer never waits for a copy
        to load, which a large mart takes longer than the API gateway waits."""
        current = self._snapshot
        if current is not None:
            versions = MappingStore(self.lake).versions()
            current.directory = self._directory(versions[-1] if versions else 0)
        # Forced: after a load under way, which read the mapping before this change, the new copy gets it too.
        threading.Thread(target=self.refresh, kwargs={"force": True}, name="mart-refresh", daemon=True).start()

    # --- loading ----------------------------------------------------------------------------------
    def _markers(self) -> tuple[str | None, dict[str, Any], int]:
        found = self.lake.get_json(STATE_KEY)
        versions = MappingStore(self.lake).versions()
        version = versions[-1] if versions else 0
        self.mapping_version_read = version
        build = found[0] if found else {}
        return _marker(found), build, version

    def _latest_version(self, read: int, served: int) -> int:
        """The mapping version to serve, `read` by a check: versions only grow, so one older than the `served` one was
        read before an admin's change landed (its answer swapped the newer one in), and serving it would step back.
        The store is asked again then: a mapping history really gone back (a lake reset) is taken as it is."""
        if read >= served:
            return read
        versions = MappingStore(self.lake).versions()
        return versions[-1] if versions else 0

    def _directory(self, version: int) -> Directory:
        mapping = MappingStore(self.lake).read(version) if version else None
        production = self.settings.production_environment
        return (
            Directory.of(mapping.version, mapping.entries, production) if mapping else Directory(production=production)
        )

    def _local_path(self, folder: Path, key: str, version: str | None = None, served: ServedCopy | None = None) -> Path:
        """Where `key` is read from: a mirror fetched once (per-application tables re-sorted unless the build
        already sorted them by application); a link to a local lake's own file when it needs no sorting; a link to
        the `served` copy's file when it holds the same version. `version`: the object's as the copy listed it; a
        later build's object under the key is refused."""
        target = folder / key
        if target.exists():
            return target
        with self._fetching_guard:
            key_lock = self._fetching.setdefault(str(target), threading.Lock())
        with key_lock:
            try:
                if not target.exists() and not (served is not None and served.link(key, target)):
                    self._fetch(key, target, version)
                return target
            finally:
                # Done with once the object is there (or its fetch failed): kept, the locks of every copy's objects
                # would pile up build after build. A request coming later finds the file, or fetches it again.
                with self._fetching_guard:
                    if self._fetching.get(str(target)) is key_lock:
                        del self._fetching[str(target)]

    def _fetch(self, key: str, target: Path, version: str | None) -> None:
        """Writes `key`'s object to `target` (see _local_path)."""
        match = MART_KEY.match(key)
        order = SORTED_BY.get(match.group("table")) if match else None
        local_lake = isinstance(self.lake.store, LocalStore)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + f".{uuid.uuid4().hex[:6]}.part")
        if local_lake:
            source = Path(self.lake.url_of(key))
            if not source.exists():
                raise self._replaced(key)
            self._check_version(key, version, file_version(source.stat()))
        else:
            found = self.lake.store.get(key)
            if found is None:
                raise self._replaced(key)
            self._check_version(key, version, found.etag)
            source = partial.with_suffix(".src")
            source.write_bytes(found.data)
        if order is None or _sorted_by_app(source):
            if local_lake:
                _link(source, partial)
            else:
                source.replace(partial)
        else:
            self._sorted_copy(source, partial, order)
            if not local_lake:
                source.unlink()
        partial.replace(target)

    def _check_version(self, key: str, listed: str | None, found: str) -> None:
        """A copy reads only its build's objects: a month first read after the next build replaced it would give
        that build's figures under this copy's ETag and freshness. The request is refused (retried, it is answered
        from the next copy), and the next copy is loaded beside it."""
        if listed is None or listed == found:
            return
        raise self._replaced(key, found)

    def _replaced(self, key: str, found: str | None = None) -> Problem:
        """The 503 for an object a newer build replaced (`found`: its version now) or removed, the next copy loading
        beside (see refresh's `replaced`)."""
        log.info("a mart object was replaced or removed by a newer build", extra={"key": key})
        threading.Thread(target=lambda: self.refresh(replaced=True), name="mart-refresh", daemon=True).start()
        if found is None:
            return unavailable("a mart object vanished; a new build is landing", RETRY_WHILE_LOADING_S)
        return unavailable("a newer build replaced the data asked for; it is being loaded", RETRY_WHILE_LOADING_S)

    def _sorted_copy(self, source: Path, target: Path, order: str) -> None:
        # A month object's last day goes with it: the copy's readers skip the day objects it holds by it.
        through = _days_through(source)
        footer = {DAYS_THROUGH_KEY: through.isoformat()} if through is not None else {}
        self._sort_into([source], target, order, footer=footer)

    def _sort_into(
        self,
        sources: list[Path],
        target: Path,
        order: str,
        *,
        footer: dict[str, str] | None = None,
        union: bool = False,
    ) -> None:
        """Writes the rows of `sources` to `target` sorted by `order`, in small row groups (see SORTED_BY)."""
        options = f"format parquet, compression zstd, row_group_size {ROW_GROUP}"
        if footer:
            options += ", " + footers.copy_option(footer)
        target.parent.mkdir(parents=True, exist_ok=True)
        files = ", ".join(sql_literal(str(source)) for source in sources)
        con = open_duckdb(self.settings)
        # One thread: a database of its own beside the copy's, whose second thread's buffers took the API's peak from
        # some 430 to 590 MB while the load merged the changes (bench/RESULTS.md), for the same 0.4 s.
        con.execute("set threads = 1")
        try:
            # The sort order is a constant from SORTED_BY; the paths are ours.
            con.execute(
                f"copy (select * from read_parquet([{files}]{', union_by_name = true' if union else ''}) "  # noqa: S608
                f"order by {order}) to {sql_literal(str(target))} ({options})"
            )
        finally:
            con.close()

    def _merge(self, sources: list[Path], target: Path, order: str, *, union: bool) -> None:
        """A table's objects merged into `target`, put in place whole: the next copy may link it while this one
        still loads (see ServedCopy)."""
        partial = target.with_name(target.name + f".{uuid.uuid4().hex[:6]}.part")
        self._sort_into(sources, partial, order, union=union)
        partial.replace(target)

    def _load(
        self, marker: str | None, build: dict[str, Any], version: int, *, wait: bool, served: Snapshot | None = None
    ) -> Snapshot:
        """A copy of the build: the summary's tables before returning, the others in a background thread
        (`Snapshot.complete` is set when they are defined); `wait` returns only once all are (a reload, while the
        previous copy, `served`, serves: its files of the objects the build left as they were are linked)."""
        if not build:
            empty = Snapshot(None, self._directory(version), {}, marker)
            empty.complete.set()  # nothing to wait for: requests get "not built yet" at once
            return empty
        started = time.monotonic()
        by_table: dict[str, list[str]] = {}
        hourly: dict[str, list[str]] = {}
        months: dict[str, dict[str, list[str]]] = {}
        # With each object's version as listed: the keys are overwritten by the next build (mart/<table>/...), so a
        # month fetched later is checked to be the one this build wrote (see _local_path).
        listed = self.lake.store.versions("mart/")
        self._refuse_a_landing_build(marker)
        for key in sorted(listed):
            match = MART_KEY.match(key)
            if not match or match.group("table") not in TABLES:
                continue
            if match.group("table") == HOURLY and match.group("month"):
                hourly.setdefault(match.group("month"), []).append(key)
            else:
                by_table.setdefault(match.group("table"), []).append(key)
                if match.group("table") in (*READ_BY_MONTH, *READ_UP_TO_MONTH) and match.group("month"):
                    months.setdefault(match.group("table"), {}).setdefault(match.group("month"), []).append(key)
        folder = self.api.local_dir / f"mart-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        _OWN_COPIES.add(folder.name)
        folder.mkdir(parents=True, exist_ok=True)
        # Only the folder and the listing of the copy serving: the new copy keeps no hold on the old one's tables.
        reuse = ServedCopy(served.folder, served.listed, listed) if served and served.folder else None

        def fetch(key: str) -> Path:
            return self._local_path(folder, key, listed.get(key), reuse)

        con = open_duckdb(self.settings)
        try:
            # The SLO ranges run the build's SQL, which uses its macros; the cursors of the copy share them.
            con.execute(BUILD_MACROS)
            # The mapping is read while the summary's tables come in (both are on the first answer's path).
            with ThreadPoolExecutor(max_workers=1) as beside:
                reading = beside.submit(self._directory, version)
                # Footers of the local files are read once, not per query.
                con.execute("set parquet_metadata_cache = true")
                first = {t: keys for t, keys in by_table.items() if t in SUMMARY_TABLES}
                self._define_tables(con, first, fetch, folder, reuse)
                summary = self._summary_index(con, build)
                directory = reading.result()
            snap = Snapshot(con, directory, build, marker, frozenset(by_table), folder, hourly, months, fetch)
            snap.objects = hashlib.sha256(json.dumps(sorted(listed.items())).encode()).hexdigest()[:24]
            snap.listed = listed
            snap.summary_index = summary
            if summary is None:
                snap.summary_waits_s = self.api.mart_check_interval_s
            log.info("mart summary tables ready", extra={"seconds": round(time.monotonic() - started, 3)})
            rest = {t: keys for t, keys in by_table.items() if t not in SUMMARY_TABLES}
            failure: list[BaseException] = []
            loader = threading.Thread(
                target=self._define_rest,
                args=(snap, rest, utc_cursor(con), failure, started, reuse),
                name="mart-load",
                daemon=True,
            )
            loader.start()
            _LOADERS.add(loader)
            if wait:
                loader.join()
                if failure:
                    raise failure[0]
        except BaseException:
            # A copy that could not be loaded is dropped whole; the previous one, if any, keeps serving.
            con.close()
            shutil.rmtree(folder, ignore_errors=True)
            _OWN_COPIES.discard(folder.name)
            raise
        return snap

    def _refuse_a_landing_build(self, marker: str | None) -> None:
        """Refuses a listing that may pair the state's build with a newer build's objects: a build puts every object
        before its state, so one holding the lease may have put some already, and one that landed since the state was
        read has put them all (its objects would then be served under the previous build's state and ETag). Read
        after the listing, the lease first: a build lets go of it after its state lands, which the state read then
        finds. A warm copy keeps serving; a cold one answers 503 until the state lands."""
        if lease.build_running(self.lake) or _marker(self.lake.get_json(STATE_KEY)) != marker:
            raise unavailable(BUILD_LANDING, RETRY_WHILE_LOADING_S)

    def _summary_index(self, con: duckdb.DuckDBPyConnection, build: dict[str, Any]) -> SummaryIndex | None:
        """The summaries' index; None when an earlier release's build wrote their tables without a column this release
        reads, or wrote no such table (one this release adds). The copy is kept all the same: the routes reading other
        tables and columns answer from it, and it is not fetched again before the build state changes (loading it
        again would fail the same way)."""
        try:
            return SummaryIndex.build(con, _first_read(build, TASK_SLAS))
        except (duckdb.BinderException, duckdb.CatalogException):
            if not built_by_other_sql(build):
                raise  # this release's own mart lacks the table or column: a defect
            log.warning("the mart was built by an earlier release's SQL; the summaries wait for the next build")
            return None

    def _define_rest(
        self,
        snap: Snapshot,
        tables: dict[str, list[str]],
        con: duckdb.DuckDBPyConnection,
        failure: list[BaseException],
        started: float,
        reuse: ServedCopy | None,
    ) -> None:
        try:
            # Until the recent hours are in memory, the summary reads them from the month object (a few ms more).
            self._hold_recent_hours_if_readable(snap, con)
            assert snap.folder is not None  # a copy with tables has its folder
            self._define_tables(con, tables, snap.fetch, snap.folder, reuse)
            snap.complete.set()
            # Then the months a 30- or 90-day timeseries reads, so its first request does not wait for them.
            if snap.as_of is not None:
                snap.hourly_files((snap.as_of - timedelta(days=PREFETCH_DAYS)).date(), snap.as_of.date())
            log.info(
                "mart copy ready",
                extra={
                    "tables": len(snap.tables),
                    "seconds": round(time.monotonic() - started, 3),
                    "build": snap.build.get("run_id"),
                },
            )
        except BaseException as exc:
            failure.append(exc)
            snap.load_failed = True
            if threading.main_thread().is_alive():
                log.exception("loading the mart failed; routes needing the missing tables answer 503")
            else:
                # The process is exiting (Python then refuses new work to thread pools): nothing to report.
                log.info("mart load stopped: the process is exiting")
        finally:
            snap.complete.set()
            con.close()

    def _define_tables(
        self,
        con: duckdb.DuckDBPyConnection,
        tables: dict[str, list[str]],
        fetch: Any,
        folder: Path,
        reuse: ServedCopy | None,
    ) -> None:
        keys = [k for ks in tables.values() for k in ks]
        with ThreadPoolExecutor(max_workers=4) as pool:
            local = dict(zip(keys, pool.map(fetch, keys), strict=True))
        for table, table_keys in sorted(tables.items()):
            paths = _read_paths(sorted(table_keys), local.__getitem__)
            opened = [pq.ParquetFile(path) for path in paths]
            # Objects written under one schema (the usual case) need no matching by name, which costs a view over
            # a table's months about a millisecond a query.
            same = all(f.schema_arrow == opened[0].schema_arrow for f in opened)
            union = "" if same else ", union_by_name = true"
            rows = sum(f.metadata.num_rows for f in opened)
            if table in MERGED_ON_LOAD and len(paths) > 1 and rows > IN_MEMORY_ROWS:
                merged = folder / _merged_name(table)
                if reuse is None or not reuse.link_merged(table, merged):
                    self._merge([Path(p) for p in paths], merged, SORTED_BY[table], union=bool(union))
                paths, union = [str(merged)], ""
            files = ", ".join(sql_literal(str(path)) for path in paths)
            # Small tables (periods, health, risks) are held in memory: a query then costs well under a
            # millisecond instead of opening and scanning Parquet files on every request.
            kind = "table" if rows <= IN_MEMORY_ROWS else "view"
            # Names come from TABLES and the key pattern; paths are ours, quoted as SQL strings.
            con.execute(f"create {kind} {table} as select * from read_parquet([{files}]{union})")  # noqa: S608

    def _hold_recent_hours_if_readable(self, snap: Snapshot, con: duckdb.DuckDBPyConnection) -> None:
        """The recent hours in memory, unless an earlier release's build wrote the hourly table without a column this
        release reads. The copy is kept all the same, without them: the series and summaries reading that column
        answer 503 from the month objects, the others answer, and it is not fetched again before the build state
        changes (loading it again would fail the same way)."""
        try:
            self._hold_recent_hours(snap, con)
        except duckdb.BinderException:
            if not snap.built_by_other_sql:
                raise  # this release's own mart lacks the column: a defect
            log.warning("the mart was built by an earlier release's SQL; the hourly signals wait for the next build")

    def _hold_recent_hours(self, snap: Snapshot, con: duckdb.DuckDBPyConnection) -> None:
        """The last RECENT_HOURS of golden signals in memory, and the summary's last 24 hours of every entity."""
        as_of = snap.as_of
        if as_of is None:
            return
        start = as_of - timedelta(hours=RECENT_HOURS)
        files = snap.hourly_files(start.date(), as_of.date())
        if not files:
            return
        # Held as Arrow, sorted by entity and hour: a last-day series is a slice of it (entity_index.RecentHours).
        # The columns and the order come from our own constants; values are bound.
        query = f"select {RECENT_SELECT} from read_parquet($files, union_by_name = true) where hour >= $start"  # noqa: S608
        recent = con.execute(
            f"{query} order by {SORTED_BY[HOURLY]}",
            {"files": files, "start": start},
        ).to_arrow_table()
        if snap.summary_index is not None:  # None: an earlier release's summary tables, read by no summary
            con.register(RECENT_HOURLY, recent)
            try:
                snap.summary_index = snap.summary_index.with_signals(con, as_of - timedelta(hours=24), as_of)
            finally:
                con.unregister(RECENT_HOURLY)
        snap.recent = RecentHours.of(recent, start)
