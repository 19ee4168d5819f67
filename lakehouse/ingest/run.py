"""One ingestion run: pages to landing/, parsed rows to day partitions, rejects aside, run log, then watermarks."""

from __future__ import annotations

import copy
import json
import logging
from collections import Counter
from collections.abc import Callable, Hashable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from lakehouse.aggregates.lease import refuse_while_forgetting
from lakehouse.errors import ConcurrentWriteError, RosettaError
from lakehouse.ingest.client import SourceClient
from lakehouse.ingest.records import ParseResult, Reject
from lakehouse.ingest.window import DAY, Window
from lakehouse.runlog import FirstReads, RunLog, RunRecord, Watermarks, describe_error
from lakehouse.schemas import READ_AT, Dataset, get_dataset, rejects_dataset
from lakehouse.storage import Lake, PartitionWrite, days_written, merge_rows, partition_days
from lakehouse.text import valid_text

Parser = Callable[[Any, Mapping[str, Any]], ParseResult]
MAX_RAW_TEXT = 64_000
# Computations of a derived dataset whose inputs another run keeps changing, before the run gives up.
MAX_DERIVED_ATTEMPTS = 4
COMBINE_EVERY_ROWS = 400_000


@dataclass(frozen=True)
class Page:
    """One API answer body, the dataset it feeds, and what the parser needs to know that the body does not say."""

    dataset: str
    body: Any
    context: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ReadAgain:
    """Stored rows a run read again whole (the log counts of the hours it read an index pattern for): the run's rows
    replace them, where a merge would keep a row the source no longer gives (a level without a line any more)."""

    # The days such rows lie in.
    days: tuple[date, ...]
    # Of a day's stored rows, those the run read again.
    covers: Callable[[pa.Table], pa.Array]


@dataclass
class Stream:
    """Pages from one client feeding one or more datasets (one ArgoCD listing feeds three)."""

    name: str
    datasets: tuple[str, ...]
    fetch: Callable[[], Iterator[Page]]
    parsers: Mapping[str, Parser]
    client: SourceClient | None = None
    # Rows of one key spread over several pages (a metric per page) are merged by these, per dataset.
    combine: Mapping[str, Callable[[pa.Table], pa.Table]] = field(default_factory=dict)
    # A page context entry that is part of the key (the index pattern of log counts): when it changes, the rows
    # buffered so far are combined once and set aside, so combining never works over the whole window.
    combine_scope: str | None = None
    # Per dataset, what the run read again whole (see ReadAgain); asked once every page is read, as it is known then.
    read_again: Mapping[str, Callable[[], ReadAgain]] = field(default_factory=dict)
    # Per dataset, the rows worth writing of those read, asked once every page is read: a source answering part of
    # a scope (an index pattern refused after its first pages) leaves sums of part of its buckets, which would
    # replace the whole ones a run stored before, read later; the pages stay in landing/.
    answered_whole: Mapping[str, Callable[[pa.Table], pa.Table]] = field(default_factory=dict)
    # Called once every dataset of the stream is durable (e.g. to remember that a full snapshot was taken),
    # in backfills too: they leave watermarks alone, not what their runs have done.
    after_success: Callable[[Lake, str], None] | None = None  # (lake, run id)
    # The source as it is now, whatever the window (ArgoCD's listing): a backfill reads it with its first day only,
    # where once a day would land the same snapshot and reject the same records once a day.
    snapshot: bool = False
    # The record a reject is of, where the source names its records (GitLab's ids, ServiceNow's sys_id and version),
    # else None: a record met again (moved while paged, repeated in place of another, read again) is one reject, as it
    # is one row. An object it finds no name in is named by its fields (see _MetRejects).
    record_of: Callable[[Any], Hashable | None] | None = None


@dataclass
class Derived:
    """A dataset computed from what is already in the lake (the unified deployment events)."""

    dataset: str
    build: Callable[[Lake, Window], pa.Table]
    # The first day the build computes whole for a window: from there its rows replace the lake's days.
    whole_from: Callable[[Window], date]
    # The datasets it is computed from: when another run writes one of them meanwhile, it is computed again.
    inputs: tuple[str, ...] = ()


@dataclass
class SourcePlan:
    """What one function ingests for one window."""

    source: str
    function: str
    streams: list[Stream]
    derived: list[Derived] = field(default_factory=list)
    clients: list[SourceClient] = field(default_factory=list)

    @property
    def datasets(self) -> list[str]:
        return [d for s in self.streams for d in s.datasets] + [d.dataset for d in self.derived]

    def close(self) -> None:
        for client in self.clients:
            client.close()


@dataclass
class DatasetOutcome:
    dataset: str
    record: RunRecord
    pages: int = 0
    writes: list[PartitionWrite] = field(default_factory=list)


@dataclass
class RunOutcome:
    source: str
    window: Window
    trigger: str
    outcomes: list[DatasetOutcome] = field(default_factory=list)

    @property
    def failed(self) -> list[DatasetOutcome]:
        return [o for o in self.outcomes if o.record.status == "failed"]

    @property
    def status(self) -> str:
        """The run's outcome as its dataset records say: failed if any failed, partial if any set records aside."""
        statuses = {o.record.status for o in self.outcomes}
        return next((s for s in ("failed", "partial") if s in statuses), "succeeded")

    def summary(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "trigger": self.trigger,
            "window": {"since": self.window.since.isoformat(), "until": self.window.until.isoformat()},
            "status": self.status,
            "datasets": {
                o.dataset: {
                    "run_id": o.record.run_id,
                    "status": o.record.status,
                    "rows_in": o.record.rows_in,
                    "rows_out": o.record.rows_out,
                    "rows_rejected": o.record.rows_rejected,
                    "pages": o.pages,
                    "requests": o.record.requests,
                    "retries": o.record.retries,
                    "days_written": o.record.days_written,
                    "error": o.record.error,
                }
                for o in self.outcomes
            },
        }

    def totals(self) -> dict[str, int]:
        records = [o.record for o in self.outcomes]
        return {
            "rows": sum(r.rows_out for r in records),
            "rejects": sum(r.rows_rejected for r in records),
            "requests": sum(r.requests for r in records),
            "retries": sum(r.retries for r in records),
            "pages": sum(o.pages for o in self.outcomes),
            "failed_datasets": len(self.failed),
        }


class IngestionFailed(RosettaError):
    """At least one dataset of the run failed; the others were written and the failure is in the run log."""

    def __init__(self, outcome: RunOutcome) -> None:
        self.outcome = outcome
        reasons = "; ".join(f"{o.dataset}: {o.record.error}" for o in outcome.failed)
        super().__init__(f"{outcome.source} run {outcome.window.label()} failed for {reasons}")


def run_plan(
    plan: SourcePlan,
    lake: Lake,
    window: Window,
    *,
    trigger: str = "schedule",
    advance_watermarks: bool = True,
    logger: logging.Logger | Any | None = None,
    now: datetime | None = None,
    progress: list[RunOutcome] | None = None,
) -> RunOutcome:
    """Run every stream of the plan, then the derived datasets. Never raises for a dataset: see `outcome.failed`.
    `now`: the instant the run reads the sources at, which a snapshot stream reaches whatever the window (without it,
    the window's end, as for the others). `progress` gets the outcome as the run starts, its datasets added as they
    start: a caller the run is stopped in (Lambda's timeout near) still has what it did."""
    log = logger or logging.getLogger("rosetta.ingest")
    outcome = RunOutcome(plan.source, window, trigger)
    if progress is not None:
        progress.append(outcome)
    runlog = RunLog(lake)
    try:
        for stream in plan.streams:
            _run_stream(plan, stream, lake, runlog, window, trigger, advance_watermarks, log, outcome, now)
        for derived in plan.derived:
            _run_derived(plan, derived, lake, runlog, window, trigger, advance_watermarks, log, outcome)
    except BaseException as stop:  # Ctrl-C, a process told to exit: the stop goes on, the run log says so
        runlog.stopped(stop)
        raise
    return outcome


def _run_stream(
    plan: SourcePlan,
    stream: Stream,
    lake: Lake,
    runlog: RunLog,
    window: Window,
    trigger: str,
    advance: bool,
    log: Any,
    run: RunOutcome,
    now: datetime | None = None,
) -> None:
    datasets = {d: get_dataset(d) for d in stream.datasets}
    outcomes = {
        d: DatasetOutcome(
            d, runlog.start(plan.function, ds.source, d, window=(window.since, window.until), trigger=trigger)
        )
        for d, ds in datasets.items()
    }
    run.outcomes += outcomes.values()
    tables: dict[str, list[pa.Table]] = {d: [] for d in datasets}
    sealed: dict[str, list[pa.Table]] = {d: [] for d in datasets}  # combined already, never touched again
    scope: Any = None
    rejects: dict[str, list[tuple[str, Reject]]] = {d: [] for d in datasets}
    combined: dict[str, int] = {}
    client = stream.client
    met = _MetRejects(client, stream.record_of)
    set_aside_seen = len(client.counters.set_aside) if client else 0
    last = client.counters.snapshot() if client else (0, 0, 0)
    try:
        # Once the run records say this run is running: a `forget` taking the lease after this finds them.
        refuse_while_forgetting(lake)
        for page in stream.fetch():
            read_at = datetime.now(UTC)  # the answer just came: the version of its rows where the source gives none
            target = outcomes[page.dataset]
            target.pages += 1
            if client:
                last = _count_requests(client, target, last)
            if stream.combine_scope and page.context.get(stream.combine_scope) != scope:
                scope = page.context.get(stream.combine_scope)
                _seal(stream, tables, sealed, combined)
            ds = datasets[page.dataset]
            lake.put_landing(ds.source, ds.name, target.record.run_id, target.pages, page.body, window.first_day)
            result = stream.parsers[page.dataset](page.body, page.context)
            for d, table in result.tables.items():
                tables[d].append(_with_read_at(table, read_at))
                buffered = sum(t.num_rows for t in tables[d])
                # Combine when the buffer has doubled since the last time: memory stays bounded, work stays linear.
                if d in stream.combine and buffered > max(COMBINE_EVERY_ROWS, 2 * combined.get(d, 0)):
                    tables[d] = [stream.combine[d](pa.concat_tables(tables[d]))]
                    combined[d] = tables[d][0].num_rows
            for r in met.new(page, result.rejects):
                where = f"page {target.pages}" + (f" record {r.index}" if r.index is not None else "")
                rejects[r.dataset].append((where, r))
        if client:
            _count_requests(client, outcomes[stream.datasets[0]], last)
    except BaseException as exc:
        # What the run met before failing is kept and counted all the same: the next run may never meet it again
        # (the source changed meanwhile, or that run fails too). No row is written and no watermark moves.
        if client:
            _count_requests(client, outcomes[stream.datasets[0]], last)
            _take_set_aside(stream, client, set_aside_seen, rejects)
        for d, o in outcomes.items():
            _keep_rejects_of_failed(lake, datasets[d], o.record, rejects[d], log)
        if not isinstance(exc, Exception):
            raise  # Ctrl-C: the stop goes on, and run_plan ends these runs as stopped
        log.error("stream failed", extra={"stream": stream.name, "error": describe_error(exc)})
        for o in outcomes.values():
            runlog.finish(o.record, "failed", error=exc)
        return
    if client:
        _take_set_aside(stream, client, set_aside_seen, rejects)

    written: dict[str, int] = {}  # the datasets whose rows and rejects are stored: their distinct rows
    failed: set[str] = set()  # those whose write failed, their rejects kept all the same
    try:
        for d, ds in datasets.items():
            o = outcomes[d]
            try:
                _seal(stream, tables, sealed, combined)
                parts = sealed[d] + tables[d]
                table = pa.concat_tables(parts) if parts else ds.schema.empty_table()
                if d in stream.answered_whole:
                    table = stream.answered_whole[d](table)
                read_again = stream.read_again[d]() if d in stream.read_again else None
                _write_days(lake, ds, table, o, read_again)
                _write_rejects(lake, ds, o.record, rejects[d])
                written[d] = _distinct_rows(ds, table)
            except Exception as exc:
                log.error("write failed", extra={"dataset": d, "error": describe_error(exc)})
                _keep_rejects_of_failed(lake, ds, o.record, rejects[d], log)
                runlog.finish(o.record, "failed", error=exc)
                failed.add(d)
    except BaseException:
        for d, ds in datasets.items():  # Ctrl-C while writing: the datasets not reached keep their rejects too
            if d not in written and d not in failed:
                _keep_rejects_of_failed(lake, ds, outcomes[d].record, rejects[d], log)
        raise
    # What the stream records beside its rows (the hours a logs run read, a ServiceNow full read), before any
    # watermark moves: failing, the run fails and the next reads the window again. After the watermark, a failure
    # here left rows stored that no record named (hours read counted as not read), past where any run reads again.
    if stream.after_success and len(written) == len(datasets):
        try:
            stream.after_success(lake, outcomes[stream.datasets[0]].record.run_id)
        except Exception as exc:
            log.error("write failed", extra={"stream": stream.name, "error": describe_error(exc)})
            for d in written:
                outcomes[d].record.rows_rejected = len(rejects[d])  # stored, as a failed write's are
                runlog.finish(outcomes[d].record, "failed", error=exc)
            return
    # A snapshot reads the source as it is now, whatever the window: it leaves no gap behind.
    read_from = None if stream.snapshot else window.since
    snapshot_at = now if stream.snapshot else None
    for d, distinct in written.items():
        o = outcomes[d]
        try:
            _finish(runlog, o, distinct, len(rejects[d]), advance, window, lake, log, read_from, snapshot_at)
        except Exception as exc:
            log.error("write failed", extra={"dataset": d, "error": describe_error(exc)})
            runlog.finish(o.record, "failed", error=exc)


class _MetRejects:
    """The rejects of a page not met before in the run. A listing read again (a ServiceNow table re-scanned, a GitLab
    listing re-read because a record moved while it was paged, Dynatrace's open problems after the window's) rejects
    its records again: a reject counts as many times as the read that met it most often met it, so two identical
    records of one read (two nulls in one listing) are two rejects, and a read again adds none. Reads are told apart
    by the client's count of listings read again (Counters.reads_again), not by where a record sat: a record moving
    while paged shifts the ones after it, and a re-scan starts elsewhere with larger pages. The page's context is
    part of the key: the same text met in two places (a bucket without a service in two index patterns) is met once
    in each. A record its source names (Stream.record_of) is one reject however often the reads met it, one read
    included: a record that moved while paged, or came again in place of another, is met twice by one read. So is
    an object of such a source that lacks its name (no sys_id, no integer id): its fields name it, a record differing
    in any of them is another. An entry that is no object (a null) has nothing to name it by, and counts as above."""

    def __init__(self, client: SourceClient | None, record_of: Callable[[Any], Hashable | None] | None = None) -> None:
        self.client = client
        self.record_of = record_of
        self.reads = self._reads()
        self.kept: Counter[tuple[str, str, str, str]] = Counter()
        self.this_read: Counter[tuple[str, str, str, str]] = Counter()
        self.records: set[tuple[str, str, Hashable]] = set()

    def _reads(self) -> int:
        return self.client.counters.reads_again if self.client else 0

    def new(self, page: Page, rejects: list[Reject]) -> list[Reject]:
        if self._reads() != self.reads:  # a read begins: what it meets was counted by the reads before
            self.reads = self._reads()
            self.this_read.clear()
        place = json.dumps(page.context, sort_keys=True, default=str) if rejects else ""
        found = []
        for r in rejects:
            record = self._record(r.raw)
            if record is not None:
                if (r.dataset, place, record) not in self.records:
                    self.records.add((r.dataset, place, record))
                    found.append(r)
                continue
            key = (r.dataset, r.reason, _raw_text(r.raw), place)
            self.this_read[key] += 1
            if self.this_read[key] > self.kept[key]:
                self.kept[key] = self.this_read[key]
                found.append(r)
        return found

    def _record(self, raw: Any) -> Hashable | None:
        """The record `raw` is, where its source names records: by its name, else an object by its fields."""
        if self.record_of is None:
            return None
        named = self.record_of(raw)
        return named if named is not None else by_fields(raw)


def by_fields(raw: Any) -> str | None:
    """What names an object its source sent without its name (no sys_id, no integer id): its fields, as JSON with
    sorted keys (the same fields in another order are the same record, a field differing makes another). None for an
    entry that is no object (a null), which nothing tells from another alike."""
    return json.dumps(raw, sort_keys=True, default=str) if isinstance(raw, dict) else None


def _with_read_at(table: pa.Table, read_at: datetime) -> pa.Table:
    """The rows stamped with the instant their answer came, where their dataset keeps it (schemas.READ_AT)."""
    where = table.schema.get_field_index(READ_AT)
    if where < 0:
        return table
    column = table.schema.field(where)
    return table.set_column(where, column, pa.repeat(pa.scalar(read_at, column.type), table.num_rows))


def _write_days(
    lake: Lake, ds: Dataset, table: pa.Table, o: DatasetOutcome, read_again: ReadAgain | None = None
) -> None:
    """The rows day by day, each day in the run record once it is written: a run failing halfway says which days it
    changed and how many rows it put there (the next hourly build rebuilds the days the run log says were written).
    A day holding rows the run read again and no longer got is replaced (see ReadAgain); the others are merged."""
    conformed = ds.conform(table)
    parts = partition_days(ds, conformed) if conformed.num_rows else {}
    empty = ds.schema.empty_table()
    stale = _days_with_rows_gone(lake, ds, parts, read_again) if read_again else set()
    if not parts and not stale:
        return
    _note_writing(lake, ds, o.record.run_id)
    unrecorded = _UnrecordedWriters(lake, o.record.run_id)
    for day in sorted(parts.keys() | stale):
        part = parts.get(day, empty)
        if read_again and day in stale:
            writes = _replace_read_again(lake, ds, day, part, read_again, o.record.run_id)
        else:
            writes = lake.write_days(ds, part, run_id=o.record.run_id)
        o.writes += unrecorded.named(writes)
        o.record.days_written = days_written(o.writes)
        o.record.rows_out += _distinct_rows(ds, part)


def _days_with_rows_gone(lake: Lake, ds: Dataset, parts: Mapping[date, pa.Table], read_again: ReadAgain) -> set[date]:
    """The days that hold a row the run read again and did not get: only those are replaced, so a day read again
    that comes out as it was is merged, and left as it is (storage.Lake.write_partition)."""
    keys = list(ds.natural_key)
    stale = set()
    for day in sorted(set(read_again.days) & set(lake.list_partitions(ds))):
        stored = lake.read_partition(ds, day)
        if stored is None:
            continue
        read = stored.filter(read_again.covers(stored)).select(keys)
        got = parts.get(day, ds.schema.empty_table()).select(keys)
        if read.num_rows and read.join(got, keys, join_type="left anti").num_rows:
            stale.add(day)
    return stale


def _replace_read_again(
    lake: Lake, ds: Dataset, day: date, part: pa.Table, read_again: ReadAgain, run_id: str
) -> list[PartitionWrite]:
    """The day without the rows the run read again, merged with those it got, in one compare-and-swap: a run failing
    before it leaves the day as the last good read left it."""

    def replaced(stored: pa.Table) -> pa.Table:
        kept = stored.filter(pc.invert(read_again.covers(stored)))
        return merge_rows(ds, kept, part)

    write = lake.rewrite_partition(ds, day, replaced, run_id=run_id)
    if write is not None:
        return [write]
    # The day went meanwhile (forgotten): the run's rows are merged, as into any day.
    return lake.write_days(ds, part, run_id=run_id)


def _note_writing(lake: Lake, ds: Dataset, run_id: str) -> None:
    """Before the first day is put: the days this run leaves behind, should it fail, are then known as this
    release's, and the run completing the dataset's first window records its first read (runlog.FirstReads)."""
    FirstReads(lake).note_writing(ds.source, ds.name, run_id=run_id, held=lambda: bool(lake.list_partitions(ds)))


class _UnrecordedWriters:
    """Names as written a day found as this run would write it when no finished run record names it: the run that
    wrote it was killed between putting the day and finishing its record, which then says "running" and no day for
    ever, and the builds, which rebuild the days finished runs name, would never rebuild this one. A writer still
    running is named too (the day is then rebuilt twice: cost, never a day missed), and so is this run itself (a
    derived dataset computed again finds the day its first computation wrote)."""

    def __init__(self, lake: Lake, run_id: str) -> None:
        self.runs = RunLog(lake)
        self.run_id = run_id
        self.finished: dict[str, bool] = {}

    def named(self, writes: list[PartitionWrite]) -> list[PartitionWrite]:
        return [replace(w, changed=True) if self._unrecorded(w) else w for w in writes]

    def _unrecorded(self, write: PartitionWrite) -> bool:
        writer = write.written_by
        if write.changed or writer is None:
            return False
        if writer == self.run_id:
            return True
        if writer not in self.finished:
            record = self.runs.get(writer)
            # No record: one the run log no longer keeps, long finished.
            self.finished[writer] = record is None or record.finished_at is not None
        return not self.finished[writer]


def _count_requests(client: SourceClient, outcome: DatasetOutcome, last: tuple[int, int, int]) -> tuple[int, int, int]:
    """Adds the requests and retries the client made since `last` (its counters' snapshot then) to the outcome's run
    record; the snapshot now."""
    now = client.counters.snapshot()
    outcome.record.requests += now[0] - last[0]
    outcome.record.retries += now[1] - last[1]
    return now


def _distinct_rows(ds: Dataset, table: pa.Table) -> int:
    """Rows once per natural key: a record read twice (a re-scan, a restarted listing) is one row of the lake."""
    if table.num_rows == 0:
        return 0
    keys = list(ds.natural_key)
    return table.select(keys).group_by(keys, use_threads=False).aggregate([]).num_rows


def _seal(
    stream: Stream, tables: dict[str, list[pa.Table]], sealed: dict[str, list[pa.Table]], combined: dict[str, int]
) -> None:
    """Combine what is buffered and set it aside: later pages cannot share a key with it (see `combine_scope`)."""
    for d, combine in stream.combine.items():
        if tables[d]:
            sealed[d].append(combine(pa.concat_tables(tables[d])))
            tables[d] = []
            combined[d] = 0


def _run_derived(
    plan: SourcePlan,
    derived: Derived,
    lake: Lake,
    runlog: RunLog,
    window: Window,
    trigger: str,
    advance: bool,
    log: Any,
    run: RunOutcome,
) -> None:
    ds = get_dataset(derived.dataset)
    record = runlog.start(plan.function, ds.source, ds.id, window=(window.since, window.until), trigger=trigger)
    o = DatasetOutcome(ds.id, record)
    run.outcomes.append(o)
    held: dict[date, str] | None = None
    try:
        refuse_while_forgetting(lake)
        held = lake.partition_versions(ds)
        table = _build_derived(lake, derived, window, o)
        # The window is read for it only where it is for every input the run read: one whose days were not written
        # (GitLab's deployments refused, by GitLab or by the store) leaves them unread in what it is computed from.
        unread = [i.dataset for i in run.outcomes if i.dataset in derived.inputs and i.record.status == "failed"]
        _finish(runlog, o, table.num_rows, 0, advance, window, lake, log, window.since, inputs_failed=unread)
    except Exception as exc:
        log.error("derived dataset failed", extra={"dataset": ds.id, "error": describe_error(exc)})
        record.days_written = _days_changed_by_failed(lake, ds, held, o, log)
        runlog.finish(record, "failed", error=exc)


def _days_changed_by_failed(
    lake: Lake, ds: Dataset, held: dict[date, str] | None, o: DatasetOutcome, log: Any
) -> list[str]:
    """The days a failed derived run changed, for the hourly build to rebuild. Lake.replace_days names its days once
    it has written them all: one failing halfway names none, yet the days it put before failing are in the lake.
    Those are the days whose object is not the one `held` listed as the run began (a day another run wrote
    meanwhile is named too: rebuilt once more, never missed). A store that cannot list them leaves the days the
    run's finished computations named."""
    days = set(days_written(o.writes))
    if held is not None:
        try:
            now = lake.partition_versions(ds)
        except Exception as exc:
            log.error("days written not listed", extra={"dataset": ds.id, "error": describe_error(exc)})
        else:
            days |= {day.isoformat() for day in held.keys() | now.keys() if held.get(day) != now.get(day)}
    return sorted(days)


def _build_derived(lake: Lake, derived: Derived, window: Window, o: DatasetOutcome) -> pa.Table:
    """Compute and write the derived dataset until its inputs stood still the whole time: a run that read them
    before another run wrote new rows would otherwise replace the other run's result with an older one."""
    ds = get_dataset(derived.dataset)
    written: dict[date, PartitionWrite] = {}
    _note_writing(lake, ds, o.record.run_id)
    unrecorded = _UnrecordedWriters(lake, o.record.run_id)
    for _ in range(MAX_DERIVED_ATTEMPTS):
        before = _versions(lake, derived.inputs)
        table = derived.build(lake, window)
        replaced = lake.replace_days(ds, table, derived.whole_from(window), run_id=o.record.run_id)
        written |= {w.day: w for w in unrecorded.named(replaced)}
        o.writes = [written[d] for d in sorted(written)]
        if _versions(lake, derived.inputs) == before:
            return table
    raise ConcurrentWriteError(
        f"{ds.id}: its inputs changed while it was computed, {MAX_DERIVED_ATTEMPTS} times in a row; retry the run"
    )


def _versions(lake: Lake, datasets: tuple[str, ...]) -> dict[str, dict[date, str]]:
    return {d: lake.partition_versions(get_dataset(d)) for d in datasets}


def _finish(
    runlog: RunLog,
    o: DatasetOutcome,
    rows: int,
    rejected: int,
    advance: bool,
    window: Window,
    lake: Lake,
    log: Any,
    read_from: datetime | None,
    snapshot_at: datetime | None = None,
    *,
    inputs_failed: list[str] | None = None,
) -> None:
    """`inputs_failed`: of a derived dataset, the inputs the run failed to read, whose window it has not read either."""
    record = o.record
    record.rows_in = rows + rejected
    record.rows_out = rows
    record.rows_rejected = rejected
    record.days_written = days_written(o.writes)
    runlog.finish(record, "partial" if rejected else "succeeded")
    ds = get_dataset(o.dataset)
    # A backfill's window too: a count over a period divides by the days the lake has read (runlog.FirstReads).
    # Before the watermark moves: a run stopped between the two then leaves the watermark where it was, and the next
    # run reads the window again; the other way round, the next run would record its own later start as the first
    # read, for good.
    written = {w.day for w in o.writes}

    def held_before() -> bool:
        return any(w.rows_before for w in o.writes) or any(day not in written for day in lake.list_partitions(ds))

    if inputs_failed:
        log.warning(
            "first read kept: inputs of the dataset failed over the window",
            extra={"dataset": o.dataset, "inputs": inputs_failed, "since": window.since.isoformat()},
        )
    else:
        FirstReads(lake).record(ds.source, ds.name, window.since, run_id=record.run_id, held_before=held_before)
    if advance:
        # Only now is everything up to `until` durable in raw/, and only up to when the run started reading: a
        # window ending in the future (`--until tomorrow`) has not read what will change until then. A snapshot
        # (`snapshot_at`, the run's now) has read the source as it was then, whatever the window: a catch-up window of
        # the source's other datasets, ending in the past, must not hold it back (ArgoCD's listing while GitLab
        # catches up).
        until = snapshot_at if snapshot_at is not None else window.until
        reached = min(until, record.started_at)
        mark = Watermarks(lake).advance(ds.source, ds.name, reached, run_id=record.run_id, read_from=read_from)
        if mark.value < reached:
            log.warning(
                "watermark kept: the window starts after it, and the next run reads what lies between",
                extra={"dataset": o.dataset, "watermark": mark.value.isoformat(), "since": window.since.isoformat()},
            )
    log.info(
        "dataset ingested",
        extra={"dataset": o.dataset, "rows": rows, "rejected": rejected, "pages": o.pages, "days": len(o.writes)},
    )


def _take_set_aside(
    stream: Stream, client: SourceClient, seen: int, rejects: dict[str, list[tuple[str, Reject]]]
) -> None:
    """The answers the client set aside since the stream started (pages that were not JSON...), as rejects."""
    for bad in client.counters.set_aside[seen:]:
        dataset = bad.dataset if bad.dataset in rejects else stream.datasets[0]
        rejects[dataset].append((bad.url, Reject(dataset, bad.reason, bad.text)))


def _keep_rejects_of_failed(
    lake: Lake, ds: Dataset, record: RunRecord, found: list[tuple[str, Reject]], log: Any
) -> None:
    """Store and count the rejects of a dataset whose run failed. A store that refuses them too is logged, not
    raised: the run's own failure is what its record says."""
    record.rows_rejected = len(found)
    try:
        _write_rejects(lake, ds, record, found)
    except Exception as exc:
        log.error("rejects not kept", extra={"dataset": ds.id, "rejects": len(found), "error": describe_error(exc)})


def _write_rejects(lake: Lake, ds: Dataset, record: RunRecord, found: list[tuple[str, Reject]]) -> None:
    if not found:
        return
    stamp = record.started_at.astimezone(UTC)
    rows = [
        {
            "dataset": ds.id,
            "run_id": record.run_id,
            "location": where,
            "reason": valid_text(r.reason[:1000]),
            "raw_text": _raw_text(r.raw),
            "rejected_at": stamp,
        }
        for where, (_, r) in zip(_unique_locations([w for w, _ in found]), found, strict=True)
    ]
    target = rejects_dataset(ds.source)
    lake.write_days(target, pa.Table.from_pylist(rows, schema=target.schema))


def _unique_locations(locations: list[str]) -> list[str]:
    """The location is the rejects' key, yet two rejects can meet at one: series are numbered within their metric,
    invalid JSON pages are located by their path. From the second on, '#2', '#3'... keeps every one of them."""
    seen: Counter[str] = Counter()
    unique = []
    for where in locations:
        seen[where] += 1
        unique.append(where if seen[where] == 1 else f"{where} #{seen[where]}")
    return unique


def _raw_text(raw: Any) -> str:
    """The record as received, as text UTF-8 holds. A lone surrogate in it (see records.valid_text) stays the JSON
    escape it arrived as, so that the record kept aside is the record sent."""
    if isinstance(raw, str):
        text = raw.encode("utf-8", "backslashreplace").decode("utf-8")
    else:
        text = json.dumps(raw, ensure_ascii=False, default=str)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            text = json.dumps(raw, ensure_ascii=True, default=str)
    return text[:MAX_RAW_TEXT]


# --- windows from watermarks, and backfills --------------------------------------------------------------------
def default_window(
    lake: Lake,
    datasets: list[str],
    *,
    now: datetime,
    overlap: timedelta,
    initial_lookback: timedelta,
    catch_up: timedelta | None = None,
) -> Window:
    """Since the oldest watermark of the datasets minus the overlap (or the initial lookback for a dataset never
    read, when earlier), until now, or until `catch_up` after the start when the source is far behind: a run after
    a long outage then takes one bounded step (memory and run time stay those of a normal run) and the next
    scheduled runs take the rest."""
    marks = Watermarks(lake)
    values = []
    for d in datasets:
        ds = get_dataset(d)
        mark = marks.get(ds.source, ds.name)
        values.append(mark.value if mark else None)
    if all(v is None for v in values):
        return Window(now - initial_lookback, now)
    since = min(v for v in values if v is not None) - overlap
    if any(v is None for v in values):
        # A dataset never read (newly enabled) gets its first lookback, and the others still start where they
        # stopped: starting them at the lookback would move their watermarks over what they never read.
        since = min(since, now - initial_lookback)
    if catch_up is not None and now - since > catch_up:
        return Window(since, since + catch_up)
    return Window(since, now)


def backfill_marker_key(lake: Lake, source: str, scope: str, day: Window) -> str:
    """state/<source>/backfill/<scope>/<day>.json: one marker per finished day and set of datasets."""
    return lake.state_key(source, f"backfill/{scope}/{day.first_day.isoformat()}")


def backfill(
    source: str,
    scope: str,
    make_plan: Callable[[Window], SourcePlan],
    lake: Lake,
    days: list[Window],
    *,
    concurrency: int,
    force: bool = False,
    now: datetime | None = None,
    logger: Any | None = None,
    progress: list[RunOutcome] | None = None,
) -> list[RunOutcome]:
    """Run day windows with bounded concurrency. A finished whole day leaves a marker; markers are skipped unless
    `force`, so a crashed backfill resumes where it stopped. `progress`: each day's outcome as it starts (run_plan)."""
    log = logger or logging.getLogger("rosetta.ingest")
    moment = now or datetime.now(UTC)
    todo = [d for d in days if force or lake.get_json(backfill_marker_key(lake, source, scope, d)) is None]
    skipped = len(days) - len(todo)
    if skipped:
        log.info("backfill resumes", extra={"source": source, "days_already_done": skipped})

    stopping: list[BaseException] = []  # the stop the main thread met (Ctrl-C, Lambda's timeout near)

    def stop_if_asked() -> None:
        # Only the main thread takes a signal: the days running in the pool stop here, between two pages, with a
        # stop of the same kind, so that their run records say why they ended.
        if stopping:
            raise copy.copy(stopping[0])

    snapshots_read: list[Window] = []  # the day whose run read the snapshot streams: the first one

    def one_day(day: Window) -> RunOutcome:
        stop_if_asked()
        plan = make_plan(day)
        if snapshots_read:
            plan.streams = [s for s in plan.streams if not s.snapshot]
        snapshots_read.append(day)
        for stream in plan.streams:
            stream.fetch = _stoppable(stream.fetch, stop_if_asked)
        try:
            outcome = run_plan(
                plan, lake, day, trigger="backfill", advance_watermarks=False, logger=log, progress=progress
            )
        finally:
            plan.close()
        complete = day.until - day.since >= DAY and day.until <= moment
        if not outcome.failed and complete:
            lake.put_json(
                backfill_marker_key(lake, source, scope, day), {"done_at": moment.isoformat(), **outcome.totals()}
            )
        return outcome

    # The first day runs alone: what a run does once for many days (the CMDB full read, the snapshot streams) is
    # then done and remembered before the other days are planned. When it fails, it is run again, snapshots
    # included, by the next backfill over these days (it has no marker).
    first = [one_day(day) for day in todo[:1]]
    pool = ThreadPoolExecutor(max_workers=max(1, concurrency))
    try:
        days_run = [pool.submit(one_day, day) for day in todo[1:]]
        return first + [d.result() for d in days_run]
    except BaseException as stop:
        stopping.append(stop)
        raise
    finally:
        # On a stop the days not started are dropped, and the running ones end at their next page.
        pool.shutdown(wait=True, cancel_futures=True)


def _stoppable(fetch: Callable[[], Iterator[Page]], stop_if_asked: Callable[[], None]) -> Callable[[], Iterator[Page]]:
    """The stream's pages, asking before each one and after the last (the count that checks the listing)."""

    def pages() -> Iterator[Page]:
        for page in fetch():
            stop_if_asked()
            yield page
        stop_if_asked()

    return pages
