"""Run log and watermarks: one JSON record per batch run under runs/, one state file per dataset under state/.

A watermark says "everything up to here is durable in raw/"; it is only advanced after the partitions it
covers are written, so a crashed run is simply re-run from the old watermark.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from lakehouse.deadline import run_deadline
from lakehouse.errors import RosettaError
from lakehouse.storage import Lake

log = logging.getLogger(__name__)

RunStatus = Literal["running", "succeeded", "partial", "failed"]
# Run records read at once: botocore keeps 10 connections to a host, so more threads would wait for one.
READ_AT_ONCE = 10
TRIGGER_TAG = re.compile(r"[a-z]{1,16}(:[A-Za-z0-9_-]{1,64})?")
# How a run id begins: its start, to the second (new_run_id).
RUN_ID_START = "%Y%m%dT%H%M%SZ"
# A run nothing stops for certain (by hand, the scheduler service) is taken to be alive this long after its last sign
# of life; its process renews that every third of it while the run is open (RunLog's heartbeat). Long enough for a
# slow S3 put, short enough that a run killed outright (SIGKILL, a crashed machine) reads failed within the quarter.
RUN_LEASE = timedelta(minutes=15)


@dataclass
class RunRecord:
    """What one batch run did. `partial` = finished with rejected records or a failed dataset."""

    run_id: str
    function: str
    source: str
    dataset: str | None
    window_start: datetime | None
    window_end: datetime | None
    started_at: datetime
    status: RunStatus = "running"
    finished_at: datetime | None = None
    duration_s: float | None = None
    rows_in: int = 0
    rows_out: int = 0
    rows_rejected: int = 0
    requests: int = 0
    retries: int = 0
    days_written: list[str] = field(default_factory=list)
    error: str | None = None
    trigger: str = "schedule"
    # The instant the process running it is stopped for certain (Lambda's timeout); None when nothing stops it (a run
    # by hand, a record written before deadlines were).
    deadline: datetime | None = None
    # For a run without a deadline: the instant its process last said it would still be alive by (RUN_LEASE after its
    # last sign of life). Not a certainty, as a deadline is: a machine asleep past it wakes and renews it.
    alive_until: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in asdict(self).items()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunRecord:
        """The record as it stands now: see `ended_by_deadline`."""
        values = dict(data)
        for name in ("window_start", "window_end", "started_at", "finished_at", "deadline", "alive_until"):
            if values.get(name):
                values[name] = datetime.fromisoformat(values[name])
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in values.items() if k in known}).ended_by_deadline(datetime.now(UTC))

    @classmethod
    def not_started(
        cls,
        function: str,
        source: str,
        dataset: str | None,
        error: BaseException | str,
        *,
        window: tuple[datetime, datetime] | None = None,
        trigger: str = "schedule",
    ) -> RunRecord:
        """The record of a run that could not start (no mapping, a setting missing): failed, started and ended now."""
        now = datetime.now(UTC)
        return cls(
            run_id=new_run_id(now),
            function=function,
            source=source,
            dataset=dataset,
            window_start=window[0] if window else None,
            window_end=window[1] if window else None,
            started_at=now,
            status="failed",
            finished_at=now,
            duration_s=0.0,
            error=describe_error(error),
            trigger=trigger,
        )

    def ended_by_deadline(self, now: datetime) -> RunRecord:
        """A record still "running" past its deadline belongs to a process killed without a word (SIGKILL, Lambda's
        timeout itself): it can no longer be running, and reads as failed. So does one whose process gave no sign of
        life by its `alive_until`. Its end stays unknown (finished_at None), so that the build and the next run still
        treat what it wrote as written by a run that never recorded it."""
        if self.status != "running":
            return self
        if self.deadline is not None and now > self.deadline:
            self.status = "failed"
            self.error = f"stopped without finishing (no end recorded by {self.deadline.isoformat()})"
        elif self.alive_until is not None and now > self.alive_until:
            self.status = "failed"
            self.error = f"stopped without finishing (no sign of life by {self.alive_until.isoformat()})"
        return self


def new_run_id(started: datetime) -> str:
    """Sortable by start time, unique across concurrent runs."""
    return f"{started.strftime(RUN_ID_START)}-{uuid.uuid4().hex[:8]}"


def started_of(run_id: str) -> datetime | None:
    """The start time a run id begins with (new_run_id), None for an id that does not."""
    try:
        return datetime.strptime(run_id[:16], RUN_ID_START).replace(tzinfo=UTC)
    except ValueError:
        return None


def run_of(record: RunRecord) -> list[str | None]:
    """What the records of one run share: a run writes a record per dataset, one after the other, each with its
    function, trigger and window."""
    window = (record.window_start, record.window_end)
    return [record.function, record.trigger, *(w.isoformat() if w else None for w in window)]


def trigger_of(event: dict[str, Any]) -> str:
    """The event's trigger tag when it is a plain `word` or `word:id`, else "schedule" (it lands in logs)."""
    tag = event.get("trigger")
    if isinstance(tag, str) and TRIGGER_TAG.fullmatch(tag):
        return tag
    return "schedule"


class RunLog:
    def __init__(self, lake: Lake, *, lease: timedelta = RUN_LEASE) -> None:
        self.lake = lake
        self.lease = lease
        self._clock: dict[str, float] = {}  # monotonic start per run, for an exact duration
        self._open: dict[str, RunRecord] = {}  # started here, not finished yet
        # The heartbeat's writes and a run's last one take turns: a renewal never lands over the record of its end.
        self._writing = threading.Lock()
        self._heartbeat: threading.Thread | None = None
        self._closed = threading.Event()  # set when no run without a deadline is open here any more

    def start(
        self,
        function: str,
        source: str,
        dataset: str | None = None,
        *,
        window: tuple[datetime, datetime] | None = None,
        trigger: str = "schedule",
        now: datetime | None = None,
    ) -> RunRecord:
        started = now or datetime.now(UTC)
        deadline = run_deadline()
        record = RunRecord(
            run_id=new_run_id(started),
            function=function,
            source=source,
            dataset=dataset,
            window_start=window[0] if window else None,
            window_end=window[1] if window else None,
            started_at=started,
            trigger=trigger,
            deadline=deadline.astimezone(UTC) if deadline else None,
            alive_until=None if deadline else datetime.now(UTC) + self.lease,
        )
        self._clock[record.run_id] = time.monotonic()
        with self._writing:
            self._open[record.run_id] = record
            self._write(record)
        self._note_last_run(record)
        if record.alive_until is not None:
            self._beat()
        return record

    def finish(
        self,
        record: RunRecord,
        status: RunStatus,
        *,
        error: BaseException | str | None = None,
        now: datetime | None = None,
    ) -> RunRecord:
        with _end_written(), self._writing:
            record.status = status
            record.finished_at = now or datetime.now(UTC)
            t0 = self._clock.pop(record.run_id, None)
            self._open.pop(record.run_id, None)
            record.duration_s = round(
                time.monotonic() - t0 if t0 is not None else (record.finished_at - record.started_at).total_seconds(), 3
            )
            if error is not None:
                record.error = describe_error(error)
            self._write(record)
            if not any(r.alive_until for r in self._open.values()):
                self._closed.set()
        return record

    def write_ended(self, record: RunRecord) -> None:
        """Writes a record that ends as it starts (RunRecord.not_started) in one write: a reader of the run log (the
        admin API, a trigger waiting for its run's answer) never sees it running, and no sign of life is renewed."""
        with _end_written():
            self._write(record)
        self._note_last_run(record)

    def stopped(self, reason: BaseException) -> None:
        """Ends as failed every run started here and still running: a process stopped (Ctrl-C) mid-run must not leave
        records saying "running" for ever."""
        for record in list(self._open.values()):
            self.finish(record, "failed", error=f"stopped ({type(reason).__name__})")

    def _write(self, record: RunRecord) -> None:
        self.lake.put_json(self.lake.run_key(record.run_id, record.started_at), record.to_json())

    def _beat(self) -> None:
        """Starts the heartbeat unless it runs: a daemon thread, so that it never keeps a process from ending."""
        with self._writing:
            if self._heartbeat is None:
                self._heartbeat = threading.Thread(target=self._renew, name="run-heartbeat", daemon=True)
                self._heartbeat.start()

    def _renew(self) -> None:
        """Every third of the lease, moves on the `alive_until` of each run without a deadline still open here; ends
        once none is (`finish` wakes it then). A renewal that cannot be written (the store out of reach) is tried
        again at the next beat; the run itself meets the same store, and says so."""
        while True:
            self._closed.wait(self.lease.total_seconds() / 3)
            with self._writing:
                alive = [r for r in self._open.values() if r.alive_until is not None]
                if not alive:
                    self._heartbeat = None
                    return
                self._closed.clear()
                for record in alive:
                    record.alive_until = datetime.now(UTC) + self.lease
                    try:
                        self._write(record)
                    except Exception as error:
                        log.warning(
                            "run %s: its sign of life was not written: %s", record.run_id, describe_error(error)
                        )

    def _note_last_run(self, record: RunRecord) -> None:
        """Notes the new record in its source's last run (Lake.last_run_key): the keys of the records of the run its
        newest record is one of, the newest per dataset, so that run is found in a few reads however many runs of
        other sources came since. A record started before the last run's newest (written late) leaves it as it is."""
        key = self.lake.run_key(record.run_id, record.started_at)
        run = run_of(record)

        def noted(stored: dict[str, Any] | None) -> dict[str, Any] | None:
            newest, records = record.started_at, {}
            if stored:
                noted_newest = datetime.fromisoformat(stored["started_at"])
                if stored["run"] == run:
                    newest, records = max(newest, noted_newest), stored["records"]
                elif noted_newest > record.started_at:
                    return None
            # Keyed by dataset ("" for a run that could not start): a window read again counts its newest attempt.
            return {"run": run, "started_at": newest.isoformat(), "records": records | {record.dataset or "": key}}

        self.lake.update_json(self.lake.last_run_key(record.source), noted)

    def get(self, run_id: str) -> RunRecord | None:
        """The record of a run by its id (new_run_id puts its start in it), None when there is none."""
        started = started_of(run_id)
        if started is None:
            return None
        found = self.lake.get_json(self.lake.run_key(run_id, started))
        return RunRecord.from_json(found[0]) if found else None

    def last_run_of(self, source: str) -> list[str | None] | None:
        """What `source`'s last run shares with the other records of its run (run_of): two sources whose last runs are
        one read each other in the same run. None when none was noted. One read."""
        found = self.lake.get_json(self.lake.last_run_key(source))
        return found[0]["run"] if found else None

    def last_run(self, source: str) -> list[RunRecord] | None:
        """The records of `source`'s last run, newest first; None when none was noted (a lake whose runs were all
        recorded before last runs were). One read, and one per dataset that run read, side by side."""
        found = self.lake.get_json(self.lake.last_run_key(source))
        if not found:
            return None
        keys = list(found[0]["records"].values())
        with ThreadPoolExecutor(max_workers=max(1, min(READ_AT_ONCE, len(keys)))) as pool:
            read = list(pool.map(self.lake.get_json, keys))
        records = [RunRecord.from_json(r[0]) for r in read if r]  # a record expired from the run log is gone
        records.sort(key=lambda r: r.started_at, reverse=True)
        return records

    def days(self) -> list[date]:
        """The days the run log holds records of, oldest first: one listing of its day folders (not runs/last/)."""
        return sorted(day for folder in self.lake.list_folders("runs/") if (day := _day_of(folder)) is not None)

    def of_day(self, day: date) -> list[RunRecord]:
        """The records of the runs started on `day`, oldest first."""
        keys = self.lake.list_keys(f"runs/day={day.isoformat()}/")
        with ThreadPoolExecutor(max_workers=max(1, min(READ_AT_ONCE, len(keys)))) as pool:
            found = list(pool.map(self.lake.get_json, keys))
        records = [RunRecord.from_json(f[0]) for f in found if f]
        records.sort(key=lambda r: r.started_at)
        return records

    def list(
        self, *, since: date | None = None, started_from: datetime | None = None, limit: int = 100
    ) -> list[RunRecord]:
        """Newest first. Reads only the day folders from `since` on (default: the last 7 days), or only the runs
        started from `started_from` on."""
        if started_from is not None:
            start = started_from.astimezone(UTC)
            since = start.date()
            # Keys sort by day, then by run id, which starts with the start time (new_run_id): the records of runs
            # started from `start` on sort after this.
            first = f"runs/day={since.isoformat()}/{start.strftime(RUN_ID_START)}"
        else:
            since = since or (datetime.now(UTC) - timedelta(days=7)).date()
            first = f"runs/day={since.isoformat()}"
        # Day folders sort as their days: the listing starts at `since`'s, however long the run log has grown.
        listed = self.lake.list_keys("runs/", start_after=first)
        keys = [k for k in listed if (day := _day_of(k)) is not None and day >= since]
        chosen = sorted(keys, reverse=True)[: max(limit * 2, limit)]
        # A record is an object of its own, on S3 a request of some tens of milliseconds: read side by side.
        with ThreadPoolExecutor(max_workers=max(1, min(READ_AT_ONCE, len(chosen)))) as pool:
            found = list(pool.map(self.lake.get_json, chosen))
        records = [RunRecord.from_json(f[0]) for f in found if f]
        records.sort(key=lambda r: r.started_at, reverse=True)
        return records[:limit]


# The stop a signal handler is raising (Lambda's coming timeout), noted by whoever raises it. DuckDB 1.5 chains a stop
# raised during a query to its "Query interrupted"; DuckDB 2.0 keeps no link to it, so the chain alone cannot tell.
_noted_stop: BaseException | None = None


def note_stop(stop: BaseException | None) -> None:
    """Note the stop a signal handler raises, for `describe_error`; None once it has been handled."""
    global _noted_stop
    _noted_stop = stop


class _EndBeingWritten(threading.local):
    """Per thread: whether it is writing the end of a run, and the stop held meanwhile."""

    writing = False
    held: BaseException | None = None


_end = _EndBeingWritten()


def hold_stop(stop: BaseException) -> bool:
    """For a signal handler about to raise `stop` (Lambda's coming timeout): True when its thread is writing the end of
    a run, which then raises `stop` once that end is written. The stop is there to record that end: raised in its
    write, it would leave the record "running" and the run's own error unsaid."""
    if not _end.writing:
        return False
    _end.held = stop
    return True


@contextmanager
def _end_written() -> Iterator[None]:
    _end.writing = True
    try:
        yield
    finally:
        _end.writing = False
        stop, _end.held = _end.held, None
        if stop is not None:
            note_stop(stop)
            raise stop


def describe_error(error: BaseException | str) -> str:
    """One line for the run log. Our own errors are already written for people; others get their type."""
    if isinstance(error, str):
        return error
    # A stop (Ctrl-C, Lambda's coming timeout) says so, also when DuckDB turned it into "Query interrupted" and the
    # build named the SQL file it stopped in (a BuildError raised while DuckDB's error was handled).
    stop = _stop_behind(error) or _noted_stop
    if stop is not None:
        return f"stopped ({type(stop).__name__})"
    if isinstance(error, RosettaError):
        return str(error)
    return f"{type(error).__name__}: {error}"


def took(started: float) -> dict[str, float]:
    """A handler's log field for the time since `started` (time.monotonic()), in seconds as a run record's duration."""
    return {"duration_s": round(time.monotonic() - started, 3)}


def _stop_behind(error: BaseException) -> BaseException | None:
    """The stop (a BaseException that is no Exception) `error` is, or was raised while handling, if any."""
    seen: BaseException | None = error
    for _ in range(8):  # an error's chain is short; a bound keeps a cycle from looping
        if seen is None or not isinstance(seen, Exception):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _day_of(key: str) -> date | None:
    parts = key.split("/")
    if len(parts) == 3 and parts[1].startswith("day="):
        try:
            return date.fromisoformat(parts[1][4:])
        except ValueError:
            return None
    return None


@dataclass(frozen=True)
class Watermark:
    source: str
    dataset: str
    value: datetime
    run_id: str
    updated_at: datetime
    cursor: dict[str, Any] = field(default_factory=dict)


class Watermarks:
    """Per-dataset progress under state/. Never moves backwards: a backfill reads its days without touching it."""

    def __init__(self, lake: Lake) -> None:
        self.lake = lake

    def get(self, source: str, dataset: str) -> Watermark | None:
        found = self.lake.get_json(self.lake.state_key(source, dataset))
        return _watermark(source, dataset, found[0]) if found else None

    def advance(
        self,
        source: str,
        dataset: str,
        value: datetime,
        *,
        run_id: str,
        cursor: dict[str, Any] | None = None,
        now: datetime | None = None,
        read_from: datetime | None = None,
    ) -> Watermark:
        """Call only once the data up to `value` is durable in the lake; `read_from` is where the run's read began.
        A read that began after the watermark (a window given by hand) left what lies between unread: the watermark
        stays, and the next run since the watermark reads it."""
        if value.tzinfo is None:
            raise ValueError("watermarks are UTC instants; got a naive datetime")

        def moved(stored: dict[str, Any] | None) -> dict[str, Any] | None:
            held = datetime.fromisoformat(stored["value"]) if stored else None
            if held is not None and (value < held or (read_from is not None and read_from > held)):
                return None
            return {
                "value": value.astimezone(UTC).isoformat(),
                "run_id": run_id,
                "updated_at": (now or datetime.now(UTC)).isoformat(),
                "cursor": cursor or {},
            }

        return _watermark(source, dataset, self.lake.update_json(self.lake.state_key(source, dataset), moved))


def _watermark(source: str, dataset: str, data: dict[str, Any]) -> Watermark:
    return Watermark(
        source,
        dataset,
        datetime.fromisoformat(data["value"]),
        data["run_id"],
        datetime.fromisoformat(data["updated_at"]),
        data.get("cursor") or {},
    )


class FirstReads:
    """The first instant each dataset has been read from, under state/ beside its watermark: the start of the
    earliest window a run or a backfill completed for it. The lake knows nothing of what happened before it, so a
    count over a period that began earlier (deployments a day) is a count over the part since. Only ever moved
    back; a day a backfill failed on is not read, and is left for the backfill run again over it. Nor is a day one of
    the datasets a derived one is computed from failed on (the deployment events' GitLab deployments): its own
    computation succeeding reads nothing the lake lacks."""

    def __init__(self, lake: Lake) -> None:
        self.lake = lake

    def get(self, source: str, dataset: str) -> datetime | None:
        """None when unknown: no run recorded one, or the lake held the dataset before first reads were recorded."""
        found = self.lake.get_json(self.lake.read_from_key(source, dataset))
        return _instant(found[0]["read_from"]) if found else None

    def never_read(self, source: str, dataset: str) -> bool:
        """No run recorded a first read of the dataset and the lake holds none of it: nothing of it was ever read
        (a source not configured, or not run yet), which `get`'s None does not tell from a lake an older release
        wrote."""
        found = self.lake.get_json(self.lake.read_from_key(source, dataset))
        if found is not None and not found[0].get("pending"):
            return False
        return not self.lake.list_keys(f"raw/{source}/{dataset}/")

    def note_writing(self, source: str, dataset: str, *, run_id: str, held: Callable[[], bool]) -> None:
        """Call before a run's first write of a dataset. For a dataset without a record yet, notes that runs of this
        release write it from now on ("pending"): a run completing a window later records its first read whatever
        days the others wrote, a failed run's too. `held` tells whether the lake already holds its data (a lake an
        older release wrote): the first read is then unknown for good."""

        def noted(stored: dict[str, Any] | None) -> dict[str, Any] | None:
            if stored is not None:
                return None
            if held():
                return {"read_from": None, "run_id": run_id}
            return {"read_from": None, "run_id": run_id, "pending": True}

        self.lake.update_json(self.lake.read_from_key(source, dataset), noted)

    def record(
        self,
        source: str,
        dataset: str,
        since: datetime,
        *,
        run_id: str,
        held_before: Callable[[], bool] = lambda: False,
    ) -> datetime | None:
        """Call once a window starting at `since` is durable in the lake; the instant the dataset is read from.
        `held_before` tells, for a dataset without a record yet, whether the lake already held its data before the
        run (a lake an older release wrote): how far back that reaches is unknown, and stays so. A pending record
        (`note_writing`) says every day the lake holds of it was written by runs of this release."""
        if since.tzinfo is None:
            raise ValueError("first reads are UTC instants; got a naive datetime")

        def moved_back(stored: dict[str, Any] | None) -> dict[str, Any] | None:
            if stored is None or stored.get("pending"):
                first = None if stored is None and held_before() else since.astimezone(UTC).isoformat()
                return {"read_from": first, "run_id": run_id}
            earliest = _instant(stored["read_from"])
            if earliest is None or earliest <= since:
                return None
            return {"read_from": since.astimezone(UTC).isoformat(), "run_id": run_id}

        return _instant(self.lake.update_json(self.lake.read_from_key(source, dataset), moved_back)["read_from"])


def _instant(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
