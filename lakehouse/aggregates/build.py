"""The aggregate build: raw/ + the mapping -> DuckDB SQL files -> mart/.

Three modes. `full` recomputes everything. `hourly` recomputes the day tables only for the days touched since
the last build (read from the run log) plus the current day, and every hourly table. `daily` adds the period
tables. A new mapping version forces a full build, so a corrected mapping re-attributes history.

Every SQL file runs before anything is written: a failing file leaves the whole previous mart in place.
"""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
import threading
import uuid
from collections.abc import Iterable, Mapping
from contextlib import suppress
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb

from lakehouse.aggregates import (
    lease,
    settled_changes,
    settled_deployment_rows,
    settled_deployments,
    settled_lead_times,
    settled_links,
)
from lakehouse.aggregates.as_of import outside_years
from lakehouse.aggregates.build_types import (
    FAILED_RUN_ID,
    BuildError,
    BuildMode,
    BuildParams,
    BuildResult,
    LocalObject,
    note_failed_run,
)
from lakehouse.aggregates.days import days_between, midnight, month_bounds
from lakehouse.aggregates.inputs import (
    HOURLY_DATASETS,
    LOG_COUNTS,
    bound_hourly_days,
    read_datasets,
    register_history,
    register_hourly,
    register_inputs,
    register_refs,
)
from lakehouse.aggregates.mart_writes import (
    TableWriter,
    column_types,
    copy_to_file,
    months_to_write,
    put_all,
    remove_days_held_twice,
    reused_objects,
    write_month,
)
from lakehouse.aggregates.refs import RefTables, ref_tables
from lakehouse.aggregates.sqlfiles import MACROS, SQL_DIR, SqlFile, files_version, load_macros, load_sql_files
from lakehouse.duckdb_session import first_row, open_duckdb, tune_for_build
from lakehouse.gitlab_projects import with_recorded_ids
from lakehouse.index_hours import IndexHoursRead, IndexSpan, hours_read_by_index
from lakehouse.mappings import MappingEntry, MappingStore
from lakehouse.objectstore import ABSENT, PreconditionFailed
from lakehouse.runlog import FirstReads, RunLog, RunRecord, Watermarks, describe_error
from lakehouse.schemas import REGISTRY, Dataset
from lakehouse.settings import SERVICENOW_FAILED_CLOSE_CODES, Settings
from lakehouse.storage import ROW_GROUP_ROWS, Lake

log = logging.getLogger("rosetta.build")
STATE_KEY = "state/build/aggregates.json"
# Per whole-history table counted by day, and day: its rows as the last build left them (see _reach_event_days).
EVENT_DAYS_KEY = "state/build/event_days.parquet"
# What the DORA periods count deployments from: the first window the deploy ingest completed.
DEPLOYMENT_EVENTS = REGISTRY["deploys/deployment_events"]
CHANGES = REGISTRY["servicenow/changes"]
INCIDENTS = REGISTRY["servicenow/incidents"]
TASK_SLAS = REGISTRY["servicenow/task_slas"]
# Where deployment events come from: ArgoCD's history and GitLab's deployments (see _deployments_read_until).
DEPLOYMENT_SOURCES = (REGISTRY["argocd/deployment_history"], REGISTRY["gitlab/deployments"])
# The golden signals' source: how far it was read tells the burn-rate alert and the top risks that Dynatrace is down.
SERVICE_METRICS = REGISTRY["dynatrace/service_metrics_hourly"]
# The datasets whose first instant read the build state records for the API: days before it are unknown there.
READ_FROM_DATASETS = (DEPLOYMENT_EVENTS, INCIDENTS, CHANGES, TASK_SLAS)
# In the build state's read_from: no run ever read the dataset and the lake holds none of it.
NEVER_READ = "never"
# The datasets the hourly signals are computed from: days they wrote are the days whose signals are rebuilt.
SIGNAL_DATASETS = (*HOURLY_DATASETS, "dynatrace/entities")
# How long before the last build's start a build reads the runs started: a run's record is put a moment after the
# start it names, and clocks of different machines differ, by far less than this.
RUN_LOG_MARGIN = timedelta(hours=1)
# The daily build refreshes the period tables once a day: an hourly build finding them older refreshes them itself,
# once a day at most (the last such try is kept under PERIODS_REFRESH_KEY).
PERIODS_REFRESHED_EVERY = timedelta(days=1)
PERIODS_REFRESH_KEY = "state/build/periods_refresh.json"
# The application hours (a month at a time) and the hourly mart that keeps them, level = 'application'.
APPLICATION_HOURS, HOURLY_MART = "stg_app_signals_hourly", "mv_golden_signals_hourly"
# The pivots by which a mapping finds Dynatrace services through the Entities API's listings.
SELECTED_BY = {"dynatrace_tag", "dynatrace_zone"}
# The header lines that name columns of the file's own query.
NAMING_COLUMNS = re.compile(r"^--\s*(partitioned by|counted on days of|counted with):")


def build(
    lake: Lake,
    settings: Settings,
    *,
    mode: BuildMode = "hourly",
    as_of: datetime | None = None,
    trigger: str = "schedule",
    params: dict[str, float | int] | None = None,
    lease_for: timedelta = lease.BUILD_LEASE,
) -> BuildResult:
    """One build at a time per lake: a build started while another holds the lake's lease stops before reading or
    writing anything (BuildError naming the running one). `lease_for`: the longest this build can run; a build
    stopped without letting go holds the lake that long."""
    if as_of is not None and as_of.tzinfo is None:
        raise BuildError("as_of needs a time zone: without one it is the machine's local time, UTC only on Lambda")
    if as_of is not None and (outside := outside_years(as_of)):
        # Let through, the build would end in an OverflowError halfway.
        raise BuildError(f"as_of {as_of.isoformat()} {outside}")
    held = lease.take(lake, trigger, lease_for)
    try:
        return _build(lake, settings, held, mode=mode, as_of=as_of, trigger=trigger, params=params)
    finally:
        lease.release(lake, held)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _build(
    lake: Lake,
    settings: Settings,
    held: lease.Lease,
    *,
    mode: BuildMode,
    as_of: datetime | None,
    trigger: str,
    params: dict[str, float | int] | None,
) -> BuildResult:
    as_of = (as_of or datetime.now(UTC)).astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    all_files = load_sql_files()
    read = read_datasets(all_files)
    macros = load_macros()
    sql_version = files_version(all_files, macros)
    runs = RunLog(lake)
    # A build that cannot start (no mapping, the lake's state unreadable) is a failed run, as an ingestion's is.
    try:
        mapping = MappingStore(lake).current()
        # A mapping whose last change removed every entry maps nothing, as ingestion reads it too.
        if mapping is None or not mapping.entries:
            raise BuildError("no mapping: import one with `rosetta-monitoring mappings import` before building")
        state = lake.get_json(STATE_KEY)
        previous = state[0] if state else None
        periods_as_of = _periods_as_of(previous)
        periods_due = mode == "hourly" and _periods_refresh_due(lake, periods_as_of, as_of)
        # The history copies and the settled part, listed once: the entity map's digest and the build read them.
        stored = set(lake.list_keys("state/build/"))
        # The projects the mapping names by path, as ingestion found them (lakehouse/gitlab_projects.py).
        entries = with_recorded_ids(lake, mapping.entries)
        # The mapping's tables, made once: the entity map's digest and the build join on them.
        refs = ref_tables(entries, settings.production_environment)
        entity_map = _entity_map_digest(lake, settings, refs, all_files, macros, stored)
        first_reads = FirstReads(lake)
        read_from = {d.id: first_reads.get(d.source, d.name) for d in READ_FROM_DATASETS}
        never_read = {
            d.id for d in READ_FROM_DATASETS if read_from[d.id] is None and first_reads.never_read(d.source, d.name)
        }
        # As the build state keeps it (and the API reads it): the instant, "never", or null when unknown.
        recorded = {dataset: NEVER_READ if dataset in never_read else _iso(m) for dataset, m in read_from.items()}
        # A dataset never read is read from now on: every period and day before as-of is unknown, never 0.
        read_from |= dict.fromkeys(never_read, as_of)
        read_until = _read_until(lake)
        logs_read = _log_hours_read(lake, first_reads, as_of)
        index_hours = hours_read_by_index(IndexHoursRead(lake).get(), _index_patterns(entries), *logs_read, as_of)
    except BaseException as exc:
        _failed_to_start(runs, mode, trigger, exc)
        raise
    gitlab_paths = _gitlab_paths_digest(entries)
    full_because = _why_full(
        previous,
        mapping.version,
        sql_version,
        entity_map,
        settings.production_environment,
        settings.failed_close_codes,
        as_of,
    )
    if not full_because and previous is not None and previous.get("gitlab_paths") != gitlab_paths:
        # A path found (or found to be another project) re-attributes that project's history, as a new mapping does.
        full_because = "a GitLab project path the mapping names was found to be a project, or another one"
    if not full_because and previous is not None and _moved(previous, recorded, TASK_SLAS):
        # The day tables leave a day's SLA breaches unknown before task SLAs were first read (mv_incidents_app_day):
        # a backfill reading further back makes days read that no incremental build would rewrite.
        full_because = "task SLAs were first read from another instant"
    if not full_because and previous is not None and _moved(previous, recorded, DEPLOYMENT_EVENTS):
        # The day summaries count deployments from their first read on, as DORA does: a backfill reading further
        # back counts those of days, the first read's own included, that no incremental build would rewrite.
        full_because = "deployments were first read from another instant"
    if not full_because and previous is not None and _log_reads_moved(previous, logs_read):
        # Every hour before the first read, or every hour before the watermark when that is unknown, changes from
        # unknown to read (or back): days no incremental build would rewrite.
        full_because = "the log counts were first read from another instant"
    if full_because:
        mode = "full"
    elif mode == "full":
        full_because = "asked for"
    daily_because = None
    if mode == "hourly" and periods_due and periods_as_of is not None:
        # The daily build failed, stopped while it put the period tables (leaving some its, some the day before's),
        # or never ran: this build refreshes them in its place rather than leave them so until the next one.
        mode = "daily"
        daily_because = f"the period tables are as of {periods_as_of.isoformat()}, more than a day before"
    # The build's run starts before the run log is read: the next build reads every run that finished after this
    # start, so an ingest finishing while the run log is read is not missed by both.
    run = runs.start("build_aggregates", "mart", mode, window=(midnight(as_of.date()), as_of), trigger=trigger)
    try:
        if daily_because and periods_as_of is not None:
            # Tried once a day at most: a daily build failing for good must not take every hourly build with it.
            lake.put_json(PERIODS_REFRESH_KEY, {"periods_as_of": periods_as_of.isoformat(), "as_of": as_of.isoformat()})
        # The days the lake read from, records or none: a day read with nothing on it counts 0, not unknown, so the
        # day tables start at the first read at the latest, also when no record is that old.
        read_since = {
            d.id: m.astimezone(UTC).date() for d in READ_FROM_DATASETS if (m := read_from[d.id]) and m < as_of
        }
        day_from, signals_from, running = _first_days_to_rebuild(
            lake, mode, previous, as_of, read, sorted(read_since.values())
        )
        if mode != "full" and previous is not None:
            # A backfill reading incidents or changes further back, over days that hold none: those days are read now.
            moved = [
                read_since[d.id] for d in (INCIDENTS, CHANGES) if d.id in read_since and _moved(previous, recorded, d)
            ]
            day_from = min([day_from, *moved])
        if (logs_moved := _log_hours_moved(previous, logs_read)) is not None and mode != "full":
            # The hours the logs ingestion read since the last build count 0 of a level without a line: their days
            # are rebuilt, also when that read wrote no line on them.
            day_from, signals_from = min(day_from, logs_moved), min(signals_from, logs_moved)
        if (index_moved := _index_hours_moved(previous, index_hours)) is not None and mode != "full":
            # An index read for hours it was not before (mapped since, or no longer refused): the same.
            day_from, signals_from = min(day_from, index_moved), min(signals_from, index_moved)
        build_params = BuildParams(
            as_of=as_of,
            day_from=day_from,
            day_to=as_of.date(),
            mode=mode,
            signals_from=signals_from,
            production_environment=settings.production_environment,
            failed_close_codes=settings.failed_close_codes,
            deployments_read_from=read_from.get(DEPLOYMENT_EVENTS.id),
            incidents_read_from=read_from.get(INCIDENTS.id),
            changes_read_from=read_from.get(CHANGES.id),
            incidents_read_until=read_until[INCIDENTS.id],
            changes_read_until=read_until[CHANGES.id],
            deployments_read_until=read_until[DEPLOYMENT_EVENTS.id],
            signals_read_until=read_until[SERVICE_METRICS.id],
            task_slas_read_from=read_from.get(TASK_SLAS.id),
            log_counts_read_from=logs_read[0],
            log_counts_read_until=logs_read[1],
            log_index_hours=tuple(index_hours),
            **(params or {}),  # type: ignore[arg-type]
        )
    except BaseException as exc:
        _failed(runs, run, exc)
        raise
    run.window_start = midnight(day_from)
    result = BuildResult(
        mode,
        as_of,
        day_from,
        build_params.day_to,
        mapping.version,
        run_id=run.run_id,
        full_because=full_because,
        daily_because=daily_because,
    )
    files = [f for f in all_files if mode != "hourly" or f.refresh == "hourly"]
    monthly = _monthly_steps(files)
    # The build's own folder for the files it writes, removed whole when it ends: a build failing half-way (a raw
    # object it cannot read, a table it cannot write) leaves none of them behind, round after round of a scheduler.
    scratch = settings.duckdb_temp_directory / f"build-{run.run_id}"
    written: list[LocalObject] = []
    stale: list[str] = []
    copies: list[LocalObject] = []
    try:
        con = _open(settings, lake, macros)
    except BaseException as exc:
        _failed(runs, run, exc)
        raise
    writer = TableWriter(con, lake, scratch, result)
    released: threading.Thread | None = None
    try:
        scratch.mkdir(parents=True, exist_ok=True)
        # A full build replaces every object and removes those it did not write: it reads none, so that one whose
        # footer cannot be read does not stop the build that replaces it.
        if mode != "full":
            with result.timed("remove days held twice"):
                remove_days_held_twice(con, lake)
        with result.timed("read inputs"):
            try:
                copies, versions = register_inputs(con, lake, refs, build_params, scratch, stored, read)
            except duckdb.Error as exc:
                # The views read raw/ as they are defined: an S3 error there (after httpfs's retries) fails the build
                # with one line naming the object, as a failing SQL file does.
                raise BuildError(f"reading the build's inputs: {str(exc).splitlines()[0]}") from None
        settled_part = None
        if mode == "hourly":
            with result.timed("read settled deployments"):
                settled_part = _take_settled(con, lake, stored, versions.get(DEPLOYMENT_EVENTS.id, {}), sql_version)
        if settled_part is None:
            settled_deployments.register_empty(con)
        else:
            build_params = _set_bound(con, build_params, "deployments_recent_from", settled_part.recent_from)
        settled_lead_times.register_empty(con)
        settled_links.register_empty(con)
        settled_deployment_rows.register_empty(con)
        links_carried = False
        deployment_rows: settled_deployment_rows.Carried | None = None
        deferred: SqlFile | None = None
        changes_reread = None
        if mode == "hourly":
            changes_reread = settled_changes.usable(con, lake, stored, settled_part, versions.get(CHANGES.id, {}))
        if changes_reread is not None and settled_part is not None:
            with result.timed("read settled changes"):
                settled_changes.register_stored(con, lake, changes_reread)
                build_params = _set_bound(con, build_params, "changes_created_from", settled_part.cut)
        else:
            settled_changes.register_empty(con)
        requests_carried: int | None = None
        if settled_part is not None and settled_lead_times.requests_usable(con, lake, stored, settled_part, versions):
            with result.timed("carried requests"):
                requests_carried = settled_lead_times.register_requests(con, lake, settled_part.recent_from)
        else:
            settled_lead_times.register_requests_empty(con)
        # What this build settles for the next hourly ones, when it is a daily or full build.
        settles = None
        if mode != "hourly":
            settles = settled_deployments.settled_at(
                con, settled_deployments.cut_for(as_of), versions.get(DEPLOYMENT_EVENTS.id, {}), sql_version
            )
        for sql_file in files:
            if sql_file in monthly:
                if sql_file is monthly[0]:
                    # The event tables are built: the days their changes reach are rebuilt too.
                    with result.timed("days the events reach"):
                        partial = {settled_deployment_rows.TABLE: deployment_rows.months} if deployment_rows else {}
                        build_params, event_days = _reach_event_days(con, lake, files, build_params, scratch, partial)
                    copies.append(event_days)
                    result.day_from = build_params.day_from
                    if deployment_rows is not None and deferred is not None:
                        with result.timed("carried mv_deployments"):
                            deployment_rows = settled_deployment_rows.add_months(
                                con, lake, deployment_rows, build_params.day_from
                            )
                        result.settled_rows[settled_deployment_rows.TABLE] = deployment_rows.rows
                        writer.months[settled_deployment_rows.TABLE] = deployment_rows.months
                        writer.submit(deferred, build_params)
                        deferred = None
                    _run_monthly(con, lake, monthly, build_params, scratch, result, written, stale)
                continue
            if sql_file.table == settled_links.TABLE and settled_part is not None and changes_reread is not None:
                with result.timed("settled links"):
                    carried = _carry_links(con, lake, previous, build_params, settled_part.recent_from)
                    if carried is not None:
                        result.settled_rows[sql_file.table] = carried
                        links_carried = True
            if (
                sql_file.table == settled_deployment_rows.TABLE
                and settled_part is not None
                and links_carried
                and EVENT_DAYS_KEY in stored
                and previous is not None
                and previous.get("full_min_confidence") == build_params.full_min_confidence
            ):
                with result.timed("settled mv_deployments"):
                    deployment_rows = settled_deployment_rows.register(
                        con, lake, settled_part.recent_from, changes_reread or []
                    )
            if sql_file.table == settled_lead_times.TABLE and settled_part is not None:
                with result.timed("settled lead times"):
                    months = settled_lead_times.usable(con, lake, stored, settled_part, versions)
                    if months is None and requests_carried is not None:
                        # The lead times are all found again, so every request is read.
                        _read_every_request(con, files, result)
                        requests_carried = None
                    if months is not None:
                        recent_from = settled_part.recent_from
                        result.settled_rows[sql_file.table] = settled_lead_times.register(
                            con, lake, months, recent_from, requests_carried=requests_carried is not None
                        )
                        build_params = _set_bound(con, build_params, "lead_times_recent_from", recent_from)
            with result.timed(sql_file.path.name):
                _run(con, sql_file)
                _check_header_columns(con, sql_file)
            if sql_file.table == "stg_merge_requests" and requests_carried is not None:
                result.settled_rows[sql_file.table] = requests_carried
            if sql_file.table == "stg_deploy_branches" and settles is not None:
                copies.append(_keep_deploy_branches(con, settles, versions, scratch))
            if sql_file.table == settled_lead_times.TABLE and settles is not None:
                footer = {settled_lead_times.MANIFEST_KEY: settled_lead_times.manifest(settles, versions)}
                writer.submit_settled("settled requests", settled_lead_times.request_queries(settles), footer)
            if sql_file.table == "stg_deployments":
                with result.timed("settled deployments"):
                    if settled_part is not None:
                        result.settled_rows[sql_file.table] = settled_deployments.complete(con)
                    elif settles is not None:
                        footer = {settled_deployments.MANIFEST_KEY: settles.manifest()}
                        writer.submit_settled("settled deployments", settled_deployments.queries(settles), footer)
            if sql_file.table == settled_deployment_rows.TABLE and deployment_rows is not None:
                with result.timed("carried mv_deployments"):
                    deployment_rows = settled_deployment_rows.complete(con, deployment_rows)
                result.settled_rows[sql_file.table] = deployment_rows.rows
                # Written once the days the events reach are known: the months of days rebuilt are added first.
                deferred = sql_file
            if sql_file.table in ("stg_change_deployments", "mv_changes") and changes_reread is not None:
                with result.timed(f"settled {sql_file.table}"):
                    result.settled_rows[sql_file.table] = settled_changes.complete(con, sql_file.table, changes_reread)
            if sql_file.table == "mv_changes" and settles is not None:
                with result.timed("settled changes"):
                    manifest = settled_changes.manifest(settles, versions.get(CHANGES.id, {}))
                    footer = {settled_changes.MANIFEST_KEY: manifest}
                    writer.submit_settled("settled changes", settled_changes.queries(con, settles), footer)
            if sql_file.materialize == "table":
                result.tables[sql_file.table] = _count(con, sql_file.table)
            if sql_file.is_mart and sql_file is not deferred:
                # Its parameters are final: a day table's days are known by then, since every file working by day
                # comes after the days the events reach (a test checks the files keep to this).
                writer.submit(sql_file, build_params)
        if deferred is not None:
            writer.submit(deferred, build_params)
        copies.extend(writer.finish())
        released = writer.release()
        # One GET: a build that outlived its lease stops here, before a newer build's tables are replaced.
        lease.check(lake, held)
        result.objects_written += put_all(lake, written)
        # Day objects a month object has taken in go once it is in place. No order of a put and deletes is safe
        # from a stop in between: deleting first would lose the days until the next build, and no reader could get
        # them back; putting first leaves the days twice, which readers recognize by the month object's last day
        # (Lake.mart_days_held_twice) and the next build removes.
        for key in stale:
            lake.store.delete(key)
        writer.commit()
        # The history copies last: a build that fails before them leaves the previous copies, still valid.
        put_all(lake, copies)
        state_record = {
            "mapping_version": mapping.version,
            "sql_version": sql_version,
            "entity_map": entity_map,
            "gitlab_paths": gitlab_paths,
            "production_environment": settings.production_environment,
            "failed_close_codes": list(settings.failed_close_codes),
            "as_of": as_of.isoformat(),
            "link_windows": settled_links.windows(build_params.full_window_hours, build_params.light_window_hours),
            # Stored deployment rows are carried only under the same rule for a full link to count.
            "full_min_confidence": build_params.full_min_confidence,
            # The API's DORA over an explicit range counts deployments over the same part of it as the build, and
            # its run reports leave the days before ServiceNow was read unknown.
            "read_from": recorded,
            # How far each was read (its watermark): a day after it is unknown to the run reports, not a day of none.
            "read_until": {dataset: _iso(mark) for dataset, mark in read_until.items()},
            # The hours of log counts read, which the next build compares with its own.
            "log_hours_read": [_iso(logs_read[0]), _iso(logs_read[1])],
            # And of each index pattern, compared likewise.
            "log_index_hours": _stored_index_hours(index_hours),
            "run_id": run.run_id,
            "started_at": run.started_at.isoformat(),
            "mode": mode,
            # The as-of of the period tables (SLO, DORA), which only daily and full builds refresh.
            "periods_as_of": _iso(as_of if mode != "hourly" else periods_as_of),
            "runs_running": running,
        }
        # Compare-and-swap on the state this build started from: a build that landed meanwhile (this one having
        # outlived its lease) keeps its state, and this build fails instead of pointing the API back to its own.
        try:
            lake.put_json(STATE_KEY, state_record, if_match=state[1] if state else ABSENT)
        except PreconditionFailed:
            # Unless this build's own put landed and its answer was lost, the retry of the same put refused.
            landed = lake.get_json(STATE_KEY)
            if landed is None or landed[0].get("run_id") != run.run_id:
                raise BuildError(
                    f"another build wrote {STATE_KEY} while this one put its tables (this one outlived its lease): "
                    "that build's state stands"
                ) from None
    except BaseException as exc:
        # A stop (Ctrl-C, SIGTERM, Lambda's coming timeout) landing in a query makes DuckDB stop waiting for it, yet
        # leaves it running: the close below would wait for it to end, past the margin left to record the run. A
        # connection the build closed already has nothing running.
        with suppress(duckdb.ConnectionException):
            con.interrupt()
        _failed(runs, run, exc)
        raise
    finally:
        if released is not None:
            released.join()
        writer.close()
        con.close()
        shutil.rmtree(scratch, ignore_errors=True)
    run.rows_out = sum(result.tables.values())
    run.window_start = midnight(result.day_from)
    run.days_written = [d.isoformat() for d in days_between(result.day_from, build_params.day_to)]
    runs.finish(run, "succeeded")
    return result


def _failed_to_start(runs: RunLog, mode: str, trigger: str, error: BaseException) -> None:
    """A build that could not start (no mapping, the lake's state unreadable) is a failed run of its own. A store that
    cannot take the record either (the lake unreachable, the usual reason) leaves the first error to be raised, which
    says why."""
    record = RunRecord.not_started("build_aggregates", "mart", mode, error, trigger=trigger)
    note_failed_run(error, record.run_id)  # first, as in _failed: a stop may land while the record is written
    try:
        runs.write_ended(record)
    except Exception as unrecorded:
        setattr(error, FAILED_RUN_ID, None)  # not in the run log after all
        log.warning("the build that could not start is not in the run log", extra={"error": describe_error(unrecorded)})


def _failed(runs: RunLog, run: RunRecord, error: BaseException) -> None:
    """End the build's run record `failed`, and note its run id on the error for the line that reports it. Noted
    first: a stop before Lambda's timeout may land while the record is written, and is raised with this error as its
    context."""
    note_failed_run(error, run.run_id)
    runs.finish(run, "failed", error=error)


def _why_full(
    previous: dict | None,
    mapping_version: int,
    sql_version: str,
    entity_map: str | None,
    production: str,
    failed_close_codes: tuple[str, ...],
    as_of: datetime,
) -> str | None:
    """Why this build must rebuild every day whatever mode was asked, or None. A new mapping re-attributes every
    day, and so does a service re-tagged into another entity or another production environment (a record mapped in
    several environments goes to production's). New SQL changes what every day holds, and a month's kept days must
    have the columns and types of its rebuilt ones; so do new close codes of a failed change, since a change closed
    with a code listed since, or no longer, fails or not on every day it counts on. A build as of an hour before the
    last build's (`--as-of`) must drop the days after its own, which that build wrote, and count the earlier ones as
    of its hour."""
    if previous is None:
        return "no build before"
    if previous.get("as_of") and datetime.fromisoformat(previous["as_of"]) > as_of:
        return f"as of {as_of.isoformat()}, before the last build's {previous['as_of']}"
    if previous.get("mapping_version") != mapping_version:
        return f"mapping version {mapping_version} (was {previous.get('mapping_version')})"
    if previous.get("sql_version") != sql_version:
        return "the SQL files changed"
    if previous.get("entity_map") != entity_map:
        return "the Dynatrace services' tags or zones moved a service to another entity"
    # Builds from before the setting existed built for the environment named production.
    was = previous.get("production_environment", "production")
    if was != production:
        return f"the production environment is {production} (was {was})"
    # Builds from before the setting existed counted ServiceNow's own failure code alone.
    were = tuple(previous.get("failed_close_codes", SERVICENOW_FAILED_CLOSE_CODES))
    if were != failed_close_codes:
        return f"the close codes of a failed change are {','.join(failed_close_codes)} (were {','.join(were)})"
    return None


def _periods_refresh_due(lake: Lake, periods_as_of: datetime | None, as_of: datetime) -> bool:
    """Whether an hourly build as of `as_of` refreshes the period tables: they are more than a day old, and no
    hourly build tried to refresh them (these same tables) in the day before."""
    if periods_as_of is None or as_of - periods_as_of <= PERIODS_REFRESHED_EVERY:
        return False
    found = lake.get_json(PERIODS_REFRESH_KEY)
    tried = found[0] if found else {}
    if tried.get("periods_as_of") != periods_as_of.isoformat() or not tried.get("as_of"):
        return True
    return as_of - datetime.fromisoformat(tried["as_of"]) > PERIODS_REFRESHED_EVERY


def _periods_as_of(previous: dict | None) -> datetime | None:
    """The as-of of the period tables the last build left: that of the last daily or full build; None when unknown
    (no build before, or a state an earlier release wrote after an hourly build)."""
    if previous is None:
        return None
    if previous.get("periods_as_of"):
        return datetime.fromisoformat(previous["periods_as_of"])
    if previous.get("mode") in ("daily", "full") and previous.get("as_of"):
        return datetime.fromisoformat(previous["as_of"])
    return None


def _moved(previous: dict, recorded: dict[str, str | None], dataset: Dataset) -> bool:
    """Whether the lake's first read of `dataset` is not the one the last build counted from."""
    return (previous.get("read_from") or {}).get(dataset.id) != recorded.get(dataset.id)


def _read_until(lake: Lake) -> dict[str, datetime | None]:
    """How far the lake read each source an outage is told by, as the build state keeps it for the API: the watermark
    of ServiceNow's datasets and Dynatrace's service metrics, where the last good run left it while the source is
    down (the days, or hours, after it were not read), and the deployments' (see _deployments_read_until)."""
    marks = Watermarks(lake)
    found = {d.id: marks.get(d.source, d.name) for d in (INCIDENTS, CHANGES, TASK_SLAS, SERVICE_METRICS)}
    read_until = {dataset: mark.value if mark else None for dataset, mark in found.items()}
    read_until[DEPLOYMENT_EVENTS.id] = _deployments_read_until(lake, marks)
    return read_until


def _deployments_read_until(lake: Lake, marks: Watermarks) -> datetime | None:
    """The earliest watermark of the deployment events and of the sources the last deploy run read them from. A
    source that run did not read (switched off: an estate moved to ArgoCD alone) keeps a watermark that would hold the
    deployments back for good; the events' own stays behind when their derivation failed while the sources were read."""
    runs = RunLog(lake)
    last_run = runs.last_run_of(DEPLOYMENT_EVENTS.source)
    events = marks.get(DEPLOYMENT_EVENTS.source, DEPLOYMENT_EVENTS.name)
    found = [events.value] if events else []
    for source in DEPLOYMENT_SOURCES:
        mark = marks.get(source.source, source.name)
        # Without a noted last run (runs recorded by an older release), every source read counts.
        if mark is not None and (last_run is None or runs.last_run_of(source.source) == last_run):
            found.append(mark.value)
    return min(found, default=None)


def _log_hours_read(lake: Lake, first_reads: FirstReads, as_of: datetime) -> tuple[datetime | None, datetime | None]:
    """The hours the logs ingestion read, [from, until): from the log counts' first read (None when unknown) to their
    watermark in whole hours, at most `as_of` (a watermark within an hour has not read the rest of it). (from, None)
    when no run advanced the watermark: a backfill alone keeps none, and how far it read is not recorded."""
    logs = REGISTRY[LOG_COUNTS]
    mark = Watermarks(lake).get(logs.source, logs.name)
    read_from = first_reads.get(logs.source, logs.name)
    if mark is None:
        return read_from, None
    return read_from, min(mark.value.astimezone(UTC).replace(minute=0, second=0, microsecond=0), as_of)


def _log_reads_moved(previous: dict, logs_read: tuple[datetime | None, datetime | None]) -> bool:
    """Whether the log counts' first read is not the one the last build counted from, or a watermark appeared or
    went."""
    before = previous.get("log_hours_read") or [None, None]
    return before[0] != _iso(logs_read[0]) or (before[1] is None) != (logs_read[1] is None)


def _log_hours_moved(previous: dict | None, logs_read: tuple[datetime | None, datetime | None]) -> date | None:
    """The day of the first hour whose log counts were read or unread since the last build: where its watermark and
    this build's differ, the earlier of them; None when they are the same."""
    before = (previous or {}).get("log_hours_read") or [None, None]
    if before[1] is None or logs_read[1] is None or before[1] == _iso(logs_read[1]):
        return None
    return min(datetime.fromisoformat(before[1]), logs_read[1]).date()


def _index_patterns(entries: Iterable[MappingEntry]) -> list[str]:
    return sorted({e.elisa_index for e in entries if e.elisa_index})


def _stored_index_hours(index_hours: list[IndexSpan]) -> dict[str, list[list[str | None]]]:
    """The hours read per index pattern as the build state keeps them."""
    stored: dict[str, list[list[str | None]]] = {}
    for pattern, since, until in index_hours:
        stored.setdefault(pattern, []).append([_iso(since), _iso(until)])
    return stored


def _index_hours_moved(previous: dict | None, index_hours: list[IndexSpan]) -> date | None:
    """The day of the first hour read of some index pattern now and not at the last build, or the other way round;
    None when they are the same, or the last build kept none (an older release's: its SQL differs, every day is
    rebuilt)."""
    if previous is None or "log_index_hours" not in previous:
        return None
    now = _stored_index_hours(index_hours)
    before = previous["log_index_hours"]
    moved = [_first_difference(before.get(p, []), now.get(p, [])) for p in set(before) | set(now)]
    found = [m for m in moved if m is not None]
    return min(found).date() if found else None


def _first_difference(before: list[list[str | None]], now: list[list[str | None]]) -> datetime | None:
    """The first bound of a span where one of the two counts an hour read and the other not. A span from every hour
    before (null) differs only where the first read moved, which rebuilds every day (_log_reads_moved)."""
    if before == now:
        return None
    spans = [[(_moment(since), datetime.fromisoformat(str(until))) for since, until in side] for side in (before, now)]
    bounds = sorted({b for side in spans for span in side for b in span if b is not None})

    def inside(side: list[tuple[datetime | None, datetime]], at: datetime) -> bool:
        return any((since is None or since <= at) and at < until for since, until in side)

    return next((at for at in bounds if inside(spans[0], at) != inside(spans[1], at)), None)


def _moment(stored: str | None) -> datetime | None:
    return datetime.fromisoformat(stored) if stored else None


def _gitlab_paths_digest(entries: Iterable[MappingEntry]) -> str | None:
    """Which project each entry mapped by a GitLab path was found to be, as a digest; None when the mapping names
    no project by its path (nothing to find: the mapping's version says it all)."""
    found = sorted(
        f"{e.entity_id}|{e.environment}|{e.gitlab_project_slug}|{e.gitlab_project_id or ''}"
        for e in entries
        if e.gitlab_project_slug
    )
    return hashlib.md5("\n".join(found).encode()).hexdigest() if found else None


def _entity_map_digest(
    lake: Lake, settings: Settings, refs: RefTables, files: list[SqlFile], macros: str, stored: set[str]
) -> str | None:
    """Which Dynatrace service goes to which mapped entity, as a digest, when the mapping finds services by tag or
    management zone: the Entities API's latest listings then decide it, and a service re-tagged must move with its
    history, as for a corrected mapping. None when the mapping names its services by id: the mapping's version
    then says it all, and nothing is read."""
    if not set(refs.pivots.column("pivot_kind").to_pylist()) & SELECTED_BY:
        return None
    entity_map = next(f for f in files if f.table == "stg_dynatrace_entity_map")
    con = _open(settings, lake, macros)
    try:
        register_refs(con, refs)
        con.execute(
            "create table build_params as select $p as production_environment", {"p": settings.production_environment}
        )
        # No new history copy here: the build proper writes one when it is due.
        register_history(con, lake, REGISTRY["dynatrace/entities"], stored, hourly=True, scratch=None)
        _run(con, entity_map)
        row = first_row(
            con.execute(
                "select md5(coalesce(string_agg(concat_ws('|', dynatrace_entity_id, entity_id, environment), ',' "
                "order by dynatrace_entity_id, entity_id, environment), '')) from stg_dynatrace_entity_map"
            )
        )
    finally:
        con.close()
    return str(row[0]) if row else None


def _first_days_to_rebuild(
    lake: Lake, mode: BuildMode, previous: dict | None, as_of: datetime, read: list[Dataset], read_since: list[date]
) -> tuple[date, date, list[str]]:
    """The first day to rebuild, and the first day whose hourly signals are rebuilt: for a full build, the earliest
    day of the lake's datasets, the day tables' from the first reads (`read_since`) too; otherwise the earliest day an
    ingest run wrote since the last build in a dataset the SQL reads (`read`), and the earliest a run of the hourly
    signals (or of the entities their attribution reads) wrote. A run that names no dataset counts for both. The
    days from the last build's own day on are rebuilt whatever was ingested: that build counted its day only up to
    its as_of, and a day no build ran on still has its (zero-filled) rows. Then, for a full build too, the ingest runs
    the run log says are still running, for the next build to count whenever they say they finished: all but those
    whose deadline had passed when the last build started, killed by then, whose records can never say so."""
    # A lake's first build reads the runs of the day before its as-of's on, as a later one reads those since the last.
    since = datetime.fromisoformat(previous["started_at"]) if previous else midnight(as_of.date() - timedelta(days=1))
    carried = previous.get("runs_running", []) if previous else []
    records = [r for r in _runs_since(lake, since, carried) if r.function != "build_aggregates"]
    # Dead by the last build's start, not by now: a finished record put just before the deadline may land just after
    # it, and the next build must still count it.
    running = sorted(r.run_id for r in records if r.finished_at is None and not _dead_before(r, since))
    if mode == "full" or previous is None:
        first = _first_day_held(lake, read, as_of)
        return min([first, *read_since]), first, running
    # A run's end is stamped before its record is put: a run the last build found still running may say it finished
    # before that build started, whose rebuilt days were not its.
    seen_running = set(carried)
    touched = {as_of.date(), (as_of - timedelta(hours=1)).date()}
    if previous.get("as_of"):
        touched |= set(days_between(datetime.fromisoformat(previous["as_of"]).date(), as_of.date()))
    signals = set(touched)
    unnamed: set[date] = set()  # the days of runs naming no dataset (forget's), of datasets the SQL may not read
    for record in records:
        if record.finished_at is None:
            continue
        if record.finished_at < since and record.run_id not in seen_running:
            continue
        if record.dataset is not None and record.dataset in REGISTRY and REGISTRY[record.dataset] not in read:
            continue
        days = {date.fromisoformat(d) for d in record.days_written if d}
        if record.dataset is None:
            unnamed |= days
            continue
        touched |= days
        if record.dataset in SIGNAL_DATASETS:
            signals |= days
    if unnamed and min(unnamed) < min(touched):
        # A day before the lake's first of the datasets read (forget rewrote a day of ArgoCD's sync operations, say)
        # would give the day tables days a full build has not: only those from the first one a full build reads on.
        first = min([_first_day_held(lake, read, as_of), *read_since])
        unnamed = {d for d in unnamed if d >= first}
    return min(touched | unnamed), min(signals | unnamed), running


def _first_day_held(lake: Lake, read: list[Dataset], as_of: datetime) -> date:
    """The earliest day any dataset the SQL reads holds, as-of's day at the latest."""
    return min([*(d for ds in read for d in lake.list_partitions(ds)[:1]), as_of.date()])


def _runs_since(lake: Lake, since: datetime, carried: list[str]) -> list[RunRecord]:
    """The records of the runs started from RUN_LOG_MARGIN before `since` (the last build's start) on, and of those the
    last build found running (`carried`) that started earlier: each run is read by the first build to find it and,
    while it runs, by every build after, so that a build reads the runs of the last hour or so, not whole days of the
    run log. A run carried since before the day before `since` is taken for dead (killed without a deadline), as the
    run log's days before it were never read, unless its process still gave signs of life then (a long run by hand,
    whose `alive_until` came after `since`)."""
    runs = RunLog(lake)
    found = runs.list(started_from=since - RUN_LOG_MARGIN, limit=100_000)
    listed = {r.run_id for r in found}
    horizon = midnight(since.date() - timedelta(days=1))
    earlier = [r for r in map(runs.get, (i for i in carried if i not in listed)) if r is not None]
    return found + [r for r in earlier if r.started_at >= horizon or (r.alive_until and r.alive_until > since)]


def _dead_before(record: RunRecord, moment: datetime) -> bool:
    """Whether the run's deadline, the instant its process is stopped for certain, had passed by `moment`."""
    return record.deadline is not None and record.deadline < moment


def _set_bound(con: duckdb.DuckDBPyConnection, params: BuildParams, name: str, at: datetime) -> BuildParams:
    """The build's parameters, and its `build_params` table, with one of the settled parts' bounds set (`name` is a
    field of BuildParams, left None when the table was made)."""
    # A parameter left None has no type of its own (see inputs.register_inputs). The name is one of our fields.
    con.execute(f"alter table build_params alter {name} set data type timestamptz")
    con.execute(f"update build_params set {name} = $at", {"at": at})  # noqa: S608
    return replace(params, **{name: at})  # type: ignore[arg-type]


def _take_settled(
    con: duckdb.DuckDBPyConnection, lake: Lake, stored: set[str], versions: dict[date, str], sql_version: str
) -> settled_deployments.Settled | None:
    """The stored settled deployments, registered for `12_stg_deployments`, when they were made from what this
    build reads; None when they were not (the build then attributes every attempt)."""
    part = settled_deployments.usable(con, lake, stored, versions, sql_version)
    if part is not None:
        settled_deployments.register_stored(con, lake, part)
    return part


def _carry_links(
    con: duckdb.DuckDBPyConnection,
    lake: Lake,
    previous: Mapping[str, object] | None,
    params: BuildParams,
    recent_from: datetime,
) -> int | None:
    """The incident links an hourly build carries from the last build (lakehouse.aggregates.settled_links), with the
    bounds it finds the others from; None when it finds every link: no stored table, or other windows."""
    windows = settled_links.windows(params.full_window_hours, params.light_window_hours)
    if previous is None or previous.get("link_windows") != windows or not isinstance(previous.get("as_of"), str):
        return None
    objects = settled_links.stored(lake)
    if not objects:
        return None
    last_as_of = datetime.fromisoformat(str(previous["as_of"]))
    try:
        return settled_links.register(
            con,
            lake,
            objects,
            recent_from,
            midnight(params.day_from),
            last_as_of,
            params.full_window_hours,
            max(windows),
        )
    except duckdb.Error:
        # A stored object that cannot be read: every link is found again (the next build writes the table anew).
        settled_links.register_empty(con)
        return None


def _keep_deploy_branches(
    con: duckdb.DuckDBPyConnection,
    settles: settled_deployments.Settled,
    versions: dict[str, dict[date, str]],
    scratch: Path,
) -> LocalObject:
    """The deploy branches this build found, written to a local file to be put with the history copies: an hourly
    build keeps the lead times it settles only while they are the same (lakehouse.aggregates.settled_lead_times)."""
    footer = {settled_lead_times.MANIFEST_KEY: settled_lead_times.manifest(settles, versions)}
    path, rows = copy_to_file(con, "select * from stg_deploy_branches", {}, scratch, ROW_GROUP_ROWS, footer)
    return LocalObject(settled_lead_times.BRANCHES_KEY, path, rows)


def _read_every_request(con: duckdb.DuckDBPyConnection, files: list[SqlFile], result: BuildResult) -> None:
    """`stg_merge_requests` and `stg_deploy_branches` made again from every request, in an hourly build that carried
    the older ones but finds every lead time (lakehouse.aggregates.settled_lead_times)."""
    settled_lead_times.register_requests_empty(con)
    result.settled_rows.pop("stg_merge_requests", None)
    for sql_file in files:
        if sql_file.table in ("stg_merge_requests", "stg_deploy_branches"):
            # Names from our headers.
            con.execute(f"drop {sql_file.materialize} {sql_file.table}")
            _run(con, sql_file)
            result.tables[sql_file.table] = _count(con, sql_file.table)


def _reach_event_days(
    con: duckdb.DuckDBPyConnection,
    lake: Lake,
    files: list[SqlFile],
    params: BuildParams,
    scratch: Path,
    partial: Mapping[str, frozenset[str]],
) -> tuple[BuildParams, LocalObject]:
    """The build's parameters with day_from moved back to the earliest day on which a changed event row is
    counted, and the event days to store for the next build.

    A day table counts a whole-history table's rows on their days (header `counted on days of`): a deployment on
    the day it finished, a change on its planned and end days. Such a row can change long after its day, while
    the run log names only the days ingests wrote: a rollback today makes yesterday's deployment a change failure,
    an emergency change recorded today covers work done last week, an SLA breach lands in its own day's partition.
    So the build keeps, per table and day, the count of the rows counted on it and the summed hashes of what the
    day tables read of them (header `counted with`); the days that differ from the last build's are rebuilt, from
    the earliest. A change the day tables do not read (a failure's recovery time) reaches back no day.
    `partial`: the whole-history tables that hold only some months ('YYYY-MM'); their other months' days keep the
    last build's record."""
    _event_days(con, files)
    # A full build reads no record of the last build's: it rebuilds as a build on a new lake would.
    stored = lake.get_table(EVENT_DAYS_KEY) if params.mode != "full" else None
    if stored is None and partial:
        raise BuildError(f"{EVENT_DAYS_KEY} could not be read: the days of the months not rebuilt are unknown")
    if stored is not None:
        con.register("stored_event_days_arrow", stored)
    for table, months in partial.items():
        con.execute(
            "insert into build_event_days select * from stored_event_days_arrow "
            "where table_name = $table and not list_contains($months, strftime(day, '%Y-%m'))",
            {"table": table, "months": sorted(months)},
        )
    if stored is None:
        # No record of the last build's events: every day they are counted on is rebuilt.
        row = first_row(con.execute("select min(day) from build_event_days"))
    else:
        row = first_row(
            con.execute(
                "select min(coalesce(n.day, s.day)) from build_event_days as n "
                "full join stored_event_days_arrow as s on n.table_name = s.table_name and n.day = s.day "
                "where n.rows is distinct from s.rows or n.row_hashes is distinct from s.row_hashes"
            )
        )
    first = row[0] if row else None
    if first is not None and first < params.day_from:
        params = replace(params, day_from=first)
        con.execute(
            "update build_params set day_from = $day_from, hours_from = $hours_from",
            {"day_from": first, "hours_from": params.hours_from},
        )
        register_hourly(con, lake, params)
    path = scratch / f"event-days-{uuid.uuid4().hex}.parquet"
    con.execute("copy (select * from build_event_days order by all) to $path (format parquet)", {"path": str(path)})
    rows = _count(con, "build_event_days")
    return params, LocalObject(EVENT_DAYS_KEY, path, rows)


def _event_days(con: duckdb.DuckDBPyConnection, files: list[SqlFile]) -> None:
    """`build_event_days`: for each table counted by day and each day, its rows counted on that day (on the
    earliest of their days: every later day is rebuilt with it) and the sum of the hashes of what the day tables
    read of them, as text."""
    con.execute(
        "create or replace table build_event_days (table_name varchar, day date, rows bigint, row_hashes varchar)"
    )
    for sql_file in files:
        if not sql_file.counted_on:
            continue
        # utc_day (macros.sql): a cast to date would look the time zone up for every row.
        day = f"utc_day(least({', '.join(sql_file.counted_on)}))"
        read = ", ".join((*sql_file.counted_on, *sql_file.counted_with))
        # Table and column names come from our headers (checked to be names); the table's name is bound.
        con.execute(
            "insert into build_event_days "  # noqa: S608
            f"select $table, counted_day, count(*), cast(sum(hash({read})::hugeint) as varchar) "
            f"from (select {day} as counted_day, * from {sql_file.table}) "
            "where counted_day is not null group by counted_day",
            {"table": sql_file.table},
        )


def _monthly_steps(files: list[SqlFile]) -> list[SqlFile]:
    """The files computed a month at a time: each `materialize: month` file and every file that reads one.
    They run together where the first of them stands in the file order, so they may read only what is built
    before it (a test checks the files keep to this)."""
    month_tables = {f.table for f in files if f.materialize == "month"}
    return [f for f in files if f.table in month_tables or month_tables.intersection(f.reads)]


def _run_monthly(
    con: duckdb.DuckDBPyConnection,
    lake: Lake,
    steps: list[SqlFile],
    params: BuildParams,
    scratch: Path,
    result: BuildResult,
    written: list[LocalObject],
    stale: list[str],
) -> None:
    """The hourly signals, one month after another over the hourly lookback. A month file's table holds that
    month alone; a table that reads it gains the month's rows; a mart table that reads it writes the month to a
    local file (only for the months being rebuilt), put with the other objects once every SQL file has run.

    A year of hourly rows grouped at once is tens of millions of rows under the memory limit, then a sort;
    a month at a time, each step works on what fits in memory, and the month's component rows are computed
    once for both the application rollup and the mart."""
    first_hour = params.hours_from
    # The day tables computed here read the hourly signals alone: their rebuilt days are those with new signals.
    # The loop still covers the other rebuilt days, whose daily signals the later day tables read.
    first_day = params.signals_from or params.day_from
    existing = {step.table: set(lake.list_keys(f"mart/{step.table}/")) for step in steps if step.is_mart}
    reused = {table: reused_objects(params, keys) for table, keys in existing.items()}
    to_write = {table: months_to_write(params, keys, first_day) for table, keys in reused.items()}
    created: set[str] = set()
    for year, month in sorted({(d.year, d.month) for d in days_between(first_hour.date(), params.day_to)}):
        first, after = month_bounds(year, month)
        # A day either side: the partitions hold whole UTC days, the margin only guards the edges.
        bound_hourly_days(con, first - timedelta(days=1), after)
        hours = {"month_first_hour": max(first_hour, midnight(first)), "month_after_hour": midnight(after)}
        kept = _kept_application_hours(lake, params, existing, first_day, (year, month))
        # The month of the first day with new signals, begun before it: its earlier hours are read back, the
        # others rolled up from the raw days of that day on.
        earlier = _earlier_application_hours(lake, params, existing, first_day, (year, month), first_hour)
        if earlier:
            bound_hourly_days(con, first_day - timedelta(days=1), after)
        for step in steps:
            if kept and step.table == APPLICATION_HOURS:
                with result.timed("read back application hours"):
                    _read_back(con, step, [lake.url_of(k) for k in kept], hours)
                continue
            if earlier and step.table == APPLICATION_HOURS:
                with result.timed("read back application hours"):
                    read_back = hours | {"month_after_hour": midnight(first_day)}
                    _read_back(con, step, [lake.url_of(k) for k in earlier], read_back)
                with result.timed(step.path.name):
                    # The name and text come from our SQL file; the hours are bound.
                    statement = (
                        f"insert into {step.table} select * from ({step.text}\n) "  # noqa: S608
                        "where hour >= $from_hour and hour < $month_after_hour"
                    )
                    bound = {"from_hour": midnight(first_day), "month_after_hour": hours["month_after_hour"]}
                    _execute(con, step, statement, bound)
                continue
            with result.timed(step.path.name):
                if step.materialize == "month":
                    # The name comes from our header; the hours are bound.
                    statement = (
                        f"create or replace table {step.table} as select * from ({step.text}\n) "  # noqa: S608
                        "where hour >= $month_first_hour and hour < $month_after_hour"
                    )
                    _execute(con, step, statement, hours)
                elif step.table not in created:
                    _run(con, step)
                    created.add(step.table)
                elif step.materialize == "table":
                    _execute(con, step, f"insert into {step.table} {step.text}")
            if step.is_mart and (year, month) in to_write[step.table]:
                with result.timed(f"write {step.table}"):
                    try:
                        month_write = write_month(
                            con, lake, step, params, first_day, (year, month), scratch, reused[step.table]
                        )
                    except duckdb.Error as exc:
                        # A view's rows are computed as they are written.
                        raise _failing(con, step, exc) from None
                written.extend(month_write.objects)
                stale.extend(month_write.stale)
    # The hourly datasets' bounds back to every day registered: a later file reads the log counts of the 30 days
    # before as_of (stg_attribution), which may begin in the month before the last one.
    bound_hourly_days(con, first_hour.date(), params.day_to)
    if params.mode == "full":
        put_keys = {o.key for o in written}
        for keys in existing.values():
            stale.extend(sorted(keys - put_keys))
    for step in steps:
        if step.is_mart:
            result.tables[step.table] = sum(o.rows for o in written if o.key.startswith(f"mart/{step.table}/"))
        elif step.materialize == "table":
            result.tables[step.table] = _count(con, step.table)
        elif step.materialize == "month":
            # Only this loop reads it; the memory goes back to the steps that follow.
            con.execute(f"drop table if exists {step.table}")


def _kept_application_hours(
    lake: Lake,
    params: BuildParams,
    existing: dict[str, set[str]],
    first_day: date,
    year_month: tuple[int, int],
) -> list[str]:
    """The hourly mart's objects of a month none of whose days has new signals, in an incremental build: their
    application rows are what the application rollup would give again, made by the same SQL from the same inputs
    (new SQL, a new mapping or a service moved to another entity make the build a full one). Empty when the month
    must be rolled up from the component hours. No day object the month object also holds is among them: the
    build began by removing those."""
    _, after = month_bounds(*year_month)
    if params.mode == "full" or after > first_day:
        return []
    return _hourly_month_objects(lake, existing, year_month)


def _earlier_application_hours(
    lake: Lake,
    params: BuildParams,
    existing: dict[str, set[str]],
    first_day: date,
    year_month: tuple[int, int],
    first_hour: datetime,
) -> list[str]:
    """The hourly mart's objects of the month holding the first day with new signals, when the build reads hours of
    that month before that day: those hours' application rows are what the rollup would give again, as for a month
    without new signals (see _kept_application_hours). Empty otherwise."""
    first, after = month_bounds(*year_month)
    if params.mode == "full" or not first <= first_day < after or midnight(first_day) <= first_hour:
        return []
    return _hourly_month_objects(lake, existing, year_month)


def _hourly_month_objects(lake: Lake, existing: dict[str, set[str]], year_month: tuple[int, int]) -> list[str]:
    """The hourly mart's objects of a month: its month object and its day objects."""
    if HOURLY_MART not in existing:
        return []
    folder = lake.mart_month_key(HOURLY_MART, *year_month).rsplit("/", 1)[0] + "/"
    return sorted(k for k in existing[HOURLY_MART] if k.startswith(folder))


def _read_back(con: duckdb.DuckDBPyConnection, step: SqlFile, urls: list[str], hours: Mapping[str, object]) -> None:
    """The application hours of a month read back from the hourly mart, in the table's own columns and types
    (its keys are ENUMs again, as the rollup gives them)."""
    # The name and text come from our SQL file.
    _execute(con, step, f"create or replace table {step.table} as select * from ({step.text}\n) limit 0")  # noqa: S608
    columns = ", ".join(name for name, _ in column_types(con, step.table))
    # Names come from our headers and the table's own columns; values are bound.
    con.execute(
        f"insert into {step.table} by name select {columns} "  # noqa: S608
        "from read_parquet($urls, hive_partitioning = false, union_by_name = true) "
        "where level = 'application' and hour >= $month_first_hour and hour < $month_after_hour",
        {"urls": urls, **hours},
    )


def _open(settings: Settings, lake: Lake, macros: str) -> duckdb.DuckDBPyConnection:
    """A connection to run the SQL files on: the macros they use are defined first."""
    con = open_duckdb(settings, lake)
    try:
        tune_for_build(con)
        con.execute(macros)
    except duckdb.Error as exc:
        con.close()
        raise _named(MACROS, exc) from None
    return con


def _run(con: duckdb.DuckDBPyConnection, sql_file: SqlFile) -> None:
    _execute(con, sql_file, f"create {sql_file.materialize} {sql_file.table} as {sql_file.text}")


def _execute(
    con: duckdb.DuckDBPyConnection, sql_file: SqlFile, statement: str, params: Mapping[str, object] | None = None
) -> None:
    """Runs a statement built around the file's text. The text is kept whole (its header comment included) and
    starts on the statement's first line, so DuckDB's line numbers match the file."""
    try:
        con.execute(statement, params or {})
    except duckdb.Error as exc:
        raise _failing(con, sql_file, exc) from None


def _failing(con: duckdb.DuckDBPyConnection, sql_file: SqlFile, exc: duckdb.Error) -> BuildError:
    """DuckDB's error in a file. A view's error (a value that cannot be cast, say) is met where a file reads it,
    without a line: the views the file reads are named beside it."""
    views = _views_read(con, sql_file) if "LINE " not in str(exc) else []
    return _named(sql_file.path.name, exc, f" (or in a view it reads: {', '.join(views)})" if views else "")


def _named(file_name: str, exc: duckdb.Error, more: str = "") -> BuildError:
    """DuckDB's error as one line naming the SQL file, and its line when DuckDB gives one."""
    message = str(exc).splitlines()
    line = next((m for m in (re.search(r"LINE (\d+)", x) for x in message) if m), None)
    where = f"{file_name} line {line.group(1)}" if line else file_name
    return BuildError(f"{where}: {message[0]}{more}")


def _views_read(con: duckdb.DuckDBPyConnection, sql_file: SqlFile) -> list[str]:
    """The files of the views among those a file reads."""
    if not sql_file.reads:
        return []
    views = con.execute(
        "select view_name from duckdb_views() where not internal and list_contains($reads, view_name)",
        {"reads": list(sql_file.reads)},
    ).fetchall()
    return sorted(path.name for (view,) in views for path in SQL_DIR.glob(f"[0-9][0-9]_{view}.sql"))


def _check_header_columns(con: duckdb.DuckDBPyConnection, sql_file: SqlFile) -> None:
    """The columns a file's header names (the month its rows are stored by, the days they are counted on and
    with) are columns its query gives. The build writes them into queries of its own, one of which runs only once
    the mart is being written: a wrong name must fail the build here, naming the file and the header's line."""
    named = [c for c in (sql_file.month_column, *sql_file.counted_on, *sql_file.counted_with) if c]
    columns = {name for name, _ in column_types(con, sql_file.table)} if named else set()
    for column in named:
        if column not in columns:
            lines = enumerate(sql_file.text.splitlines(), start=1)
            line = next(n for n, text in lines if NAMING_COLUMNS.match(text) and re.search(rf"\b{column}\b", text))
            raise BuildError(f"{sql_file.path.name} line {line}: the header names {column}, not a column of its query")


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    row = first_row(con.execute(f"select count(*) from {table}"))  # noqa: S608 - table name from our header
    return int(row[0]) if row else 0
