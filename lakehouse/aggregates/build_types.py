"""What a build is given and what it gives back: its mode and parameters, its result, its error, and the local
files it writes before putting them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Literal

from lakehouse.aggregates.days import midnight
from lakehouse.errors import RosettaError
from lakehouse.settings import SERVICENOW_FAILED_CLOSE_CODES

BuildMode = Literal["full", "hourly", "daily"]
# Hourly facts are the only large inputs; they are read for the days being rebuilt plus this much history
# (the risk trend compares two weeks; the period tables go back two calendar quarters).
HOURLY_LOOKBACK_DAYS = 14
PERIOD_LOOKBACK_DAYS = 200


class BuildError(RosettaError):
    """A SQL file failed; the message names the file and line."""


# Where a failed build notes the run record it ended, so that the line reporting the failure names it.
FAILED_RUN_ID = "rosetta_build_run_id"


def note_failed_run(error: BaseException, run_id: str) -> None:
    """Tie a build's failure to the run record it ended `failed`."""
    setattr(error, FAILED_RUN_ID, run_id)


def failed_run_id(error: BaseException) -> str | None:
    """The run id of the record a failed build ended, None when it was refused before it recorded a run. A stop near
    Lambda's timeout is raised again as another error (functions.deadline): the failure it replaced is its context."""
    seen: BaseException | None = error
    for _ in range(8):  # an error's chain is short; a bound keeps a cycle from looping
        if seen is None:
            return None
        run_id = getattr(seen, FAILED_RUN_ID, None)
        if isinstance(run_id, str):
            return run_id
        seen = seen.__cause__ or seen.__context__
    return None


@dataclass(frozen=True)
class BuildParams:
    """Knobs the SQL reads from the one-row `build_params` table."""

    as_of: datetime
    day_from: date
    day_to: date
    mode: BuildMode
    # The first day whose hourly signals are rebuilt: day_from unless only events reached further back (an
    # incident opened weeks ago and resolved today rewrites its opening day, not that day's signals).
    signals_from: date | None = None
    availability_target: float = 0.995
    latency_p95_threshold_ms: float = 500.0
    latency_p99_threshold_ms: float = 1500.0
    latency_target: float = 0.95
    light_window_hours: int = 24
    full_window_hours: int = 4
    full_min_confidence: float = 0.7
    min_coverage: float = 0.5
    production_environment: str = "production"
    # The change close codes that mean a failed change, lower case (ROSETTA_FAILED_CLOSE_CODES): stg_changes.
    failed_close_codes: tuple[str, ...] = SERVICENOW_FAILED_CLOSE_CODES
    # The first instant the lake read deployments from (see lakehouse.runlog.FirstReads); None when unknown.
    deployments_read_from: datetime | None = None
    # The first instant the lake read incidents from; None when unknown.
    incidents_read_from: datetime | None = None
    # The first instant the lake read change requests from; None when unknown. With the deployments', it tells the top
    # risks whether any failed change could have been found (mv_monitoring_top_risks).
    changes_read_from: datetime | None = None
    # How far the lake read incidents (their watermark: ServiceNow down since, when it lies before as_of); None when
    # never read or unknown. The top risks say the incidents after it are unknown (mv_monitoring_top_risks).
    incidents_read_until: datetime | None = None
    # How far the lake read change requests, likewise: the top risks say the failed changes after it are unknown.
    changes_read_until: datetime | None = None
    # How far the lake read deployments (see build._deployments_read_until): DORA rows say it.
    deployments_read_until: datetime | None = None
    # How far the lake read Dynatrace's hourly service metrics: an as-of hour after it makes the burn-rate alert
    # 'no data' rather than none, and the top risks say the golden signals are unknown since.
    signals_read_until: datetime | None = None
    # The first instant the lake read task SLAs from; None when unknown.
    task_slas_read_from: datetime | None = None
    # The hours the logs ingestion read, [from, until): from its first read (None when unknown: every hour before
    # until) to its watermark in whole hours, at most as_of; until None when it never advanced one. A level an entity
    # whose logs are read has no line of in an hour read counts 0, elsewhere null (stg_signals_hourly).
    log_counts_read_from: datetime | None = None
    log_counts_read_until: datetime | None = None
    # The whole hours each mapped index pattern was read, (pattern, from, until), up to as_of (index_hours): a level
    # without a line counts 0 only there. The `ref_log_hours_read` table, not a column of `build_params`.
    log_index_hours: tuple[tuple[str, datetime | None, datetime], ...] = ()
    # In an hourly build that takes the settled deployments (lakehouse.aggregates.settled_deployments), the first
    # instant it attributes attempts from; None when it attributes every one.
    deployments_recent_from: datetime | None = None
    # In an hourly build that takes the settled lead times (lakehouse.aggregates.settled_lead_times), the first
    # instant it finds shipping deployments from; None when it finds every lead time.
    lead_times_recent_from: datetime | None = None
    # In an hourly build that takes the settled changes (lakehouse.aggregates.settled_changes), the first creation
    # instant it reads every change from; None when it reads every change.
    changes_created_from: datetime | None = None

    def __post_init__(self) -> None:
        if self.signals_from is None:
            object.__setattr__(self, "signals_from", self.day_from)

    @property
    def hours_from(self) -> datetime:
        """The first hour of hourly signals the build reads: the days rebuilt plus HOURLY_LOOKBACK_DAYS, and in
        daily and full builds enough for the period tables too."""
        first = self.day_from - timedelta(days=HOURLY_LOOKBACK_DAYS)
        if self.mode != "hourly":
            first = min(first, self.day_to - timedelta(days=PERIOD_LOOKBACK_DAYS))
        return midnight(first)


@dataclass
class BuildResult:
    mode: BuildMode
    as_of: datetime
    day_from: date
    day_to: date
    mapping_version: int
    tables: dict[str, int] = field(default_factory=dict)
    objects_written: int = 0
    run_id: str | None = None
    # Why every day was rebuilt ("the SQL files changed", "asked for"); None for an incremental build.
    full_because: str | None = None
    # Why an hourly build ran as a daily one (the period tables more than a day old); None otherwise.
    daily_because: str | None = None
    # Seconds per step ("27_stg_app_signals_hourly.sql", "write mv_incidents"), in the order they ran.
    seconds: dict[str, float] = field(default_factory=dict)
    # Rows an hourly build took from what the last daily or full build settled instead of computing them
    # (lakehouse.aggregates.settled_deployments, settled_lead_times and settled_changes).
    settled_rows: dict[str, int] = field(default_factory=dict)

    def slowest_steps(self, count: int = 5) -> dict[str, float]:
        """The slowest steps, slowest first: where a build that grew slow spends its time."""
        return dict(sorted(self.seconds.items(), key=lambda step: -step[1])[:count])

    @contextmanager
    def timed(self, step: str) -> Iterator[None]:
        """Adds the time the block takes to `step`'s seconds."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[step] = self.seconds.get(step, 0.0) + time.perf_counter() - started


@dataclass(frozen=True)
class LocalObject:
    """An object written to a local file during the SQL phase (a mart table's month, a dataset's history copy),
    put in the write phase."""

    key: str
    path: Path
    rows: int
