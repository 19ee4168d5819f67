"""The sources the ingestion knows, by the name the CLI and the handlers use, and how to run one."""

from __future__ import annotations

import contextlib
import importlib
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

from lakehouse.errors import RosettaError
from lakehouse.ingest.config import IngestSettings
from lakehouse.ingest.run import RunOutcome, SourcePlan, backfill, default_window, run_plan
from lakehouse.ingest.window import Window, floor
from lakehouse.runlog import RunLog, RunRecord, describe_error
from lakehouse.storage import Lake

# name -> module with SOURCE, FUNCTION, DATASETS, ALIGN, overlap(), default_datasets(), build_plan()
SOURCE_MODULES = {
    "dynatrace": "functions.ingest_dynatrace.source",
    "servicenow": "functions.ingest_servicenow.source",
    "deploys": "functions.ingest_deploys.source",
    "logs": "functions.ingest_logs.source",
}
ALIASES = {"elasticsearch": "logs", "argocd": "deploys", "gitlab": "deploys"}


def source_module(name: str) -> ModuleType:
    key = ALIASES.get(name, name)
    if key not in SOURCE_MODULES:
        raise RosettaError(f"unknown source {name!r}; known: {', '.join(sorted(SOURCE_MODULES))}")
    return importlib.import_module(SOURCE_MODULES[key])


def select_datasets(module: ModuleType, settings: IngestSettings, wanted: list[str] | None) -> tuple[str, ...]:
    if not wanted:
        chosen: tuple[str, ...] = module.default_datasets(settings)
        return chosen
    unknown = list(dict.fromkeys(d for d in wanted if d not in module.DATASETS))
    if unknown:
        named = ", ".join(repr(d) for d in unknown)
        raise RosettaError(f"{module.SOURCE} does not ingest {named}; it ingests {', '.join(module.DATASETS)}")
    return tuple(wanted)


def chosen_datasets(
    name: str,
    module: ModuleType,
    settings: IngestSettings,
    lake: Lake,
    wanted: list[str] | None,
    *,
    window: Window | None,
    trigger: str,
    not_started: list[str] | None,
) -> tuple[str, ...]:
    """The datasets a run of source `name` (its `module`) reads. Naming one the source does not ingest, the run cannot
    start: the run log says so (the admin API's batch runs and the sources' state read it), not only the function's
    error alarm."""
    with recorded_if_not_started(name, lake, window=window, trigger=trigger, not_started=not_started):
        return select_datasets(module, settings, wanted)


def resolve_window(
    module: ModuleType,
    settings: IngestSettings,
    lake: Lake,
    datasets: tuple[str, ...],
    window: Window | None,
    now: datetime,
) -> Window:
    """The explicit window, else since the watermark minus the overlap; hourly sources keep whole hours."""
    if window is None:
        window = default_window(
            lake,
            list(datasets),
            now=now,
            overlap=module.overlap(settings),
            initial_lookback=timedelta(hours=settings.initial_lookback_hours),
            catch_up=timedelta(hours=settings.catch_up_hours) if settings.catch_up_hours else None,
        )
    align: timedelta | None = module.ALIGN
    return window.aligned(align, now) if align else window


def ingest(
    name: str,
    lake: Lake,
    settings: IngestSettings,
    *,
    window: Window | None = None,
    datasets: list[str] | None = None,
    trigger: str = "schedule",
    now: datetime | None = None,
    logger: logging.Logger | Any | None = None,
    progress: list[RunOutcome] | None = None,
    not_started: list[str] | None = None,
) -> RunOutcome:
    """One run of a source over a window (default: since its watermark). Failures are in `outcome.failed`;
    `progress` gets the outcome as the run goes (run_plan), `not_started` the run id of the record of a run that
    could not start."""
    module = source_module(name)
    chosen = chosen_datasets(
        name, module, settings, lake, datasets, window=window, trigger=trigger, not_started=not_started
    )
    moment = now or datetime.now(UTC)
    run_window = resolve_window(module, settings, lake, chosen, window, moment)
    with recorded_if_not_started(name, lake, window=run_window, trigger=trigger, not_started=not_started):
        plan: SourcePlan = module.build_plan(settings, lake, run_window, chosen)
    try:
        return run_plan(
            plan,
            lake,
            run_window,
            trigger=trigger,
            advance_watermarks=True,
            logger=logger,
            now=moment,
            progress=progress,
        )
    finally:
        plan.close()


def record_not_started(
    name: str, lake: Lake, error: BaseException, *, window: Window | None = None, trigger: str = "schedule"
) -> str | None:
    """A run that could not start (a setting or a secret missing, no mapping yet) goes in the run log too: one record
    for the source, without a dataset, failed with its reason (never a secret: see describe_error). The admin API's
    batch runs then say why nothing comes in, where only the function's error alarm did (and so does the sources'
    state of Dynatrace, ServiceNow and Elasticsearch, the sources their functions are named by). A store that cannot
    take the record either leaves the first error to be raised. Its run id, for the line that ends the invocation;
    None when it is not recorded."""
    module = source_module(name)
    runs = RunLog(lake)
    try:
        bounds = (window.since, window.until) if window else None
        record = RunRecord.not_started(module.FUNCTION, module.SOURCE, None, error, window=bounds, trigger=trigger)
        runs.write_ended(record)
    except Exception as unrecorded:
        logging.getLogger("rosetta.ingest").warning(
            "the run that could not start is not in the run log", extra={"error": describe_error(unrecorded)}
        )
        return None
    return record.run_id


@contextlib.contextmanager
def recorded_if_not_started(
    name: str, lake: Lake, *, window: Window | None, trigger: str, not_started: list[str] | None = None
) -> Iterator[None]:
    """Around what a run does before it starts (read its settings, choose its datasets, plan): failing there, the run
    could not start, and the run log says so (record_not_started) before the error goes on. `not_started` gets the
    run id of that record."""
    try:
        yield
    except Exception as exc:
        _note(not_started, record_not_started(name, lake, exc, window=window, trigger=trigger))
        raise


def _note(run_ids: list[str] | None, run_id: str | None) -> None:
    """Adds the run id of a run that could not start to the caller's list, when both are there."""
    if run_ids is not None and run_id is not None:
        run_ids.append(run_id)


def run_backfill(
    name: str,
    lake: Lake,
    settings: IngestSettings,
    *,
    window: Window,
    datasets: list[str] | None = None,
    concurrency: int | None = None,
    force: bool = False,
    now: datetime | None = None,
    logger: logging.Logger | Any | None = None,
    progress: list[RunOutcome] | None = None,
    not_started: list[str] | None = None,
) -> list[RunOutcome]:
    """Day by day over `window`, `concurrency` days at a time; finished days are skipped when run again. `progress`
    gets each day's outcome as it starts (run_plan), `not_started` the run id of the record of a backfill that could
    not start."""
    module = source_module(name)
    chosen = chosen_datasets(
        name, module, settings, lake, datasets, window=window, trigger="backfill", not_started=not_started
    )
    align: timedelta | None = module.ALIGN
    days = window.days()
    if align:
        now = datetime.now(UTC)
        # A day whose first step has not ended (today's first minutes) has nothing whole to read yet; today's others
        # end at the step under way.
        days = [d.aligned(align, now) for d in days if floor(d.since, align) + align <= now]

    planned: list[Window] = []

    def make_plan(day: Window) -> SourcePlan:
        if planned:
            plan: SourcePlan = module.build_plan(settings, lake, day, chosen)
        else:
            # The first day is planned alone: failing there, the backfill could not start (a setting or a secret
            # missing, no mapping yet), and says so in the run log as a run does.
            with recorded_if_not_started(name, lake, window=window, trigger="backfill", not_started=not_started):
                plan = module.build_plan(settings, lake, day, chosen)
        planned.append(day)
        return plan

    scope = "+".join(sorted(d.split("/", 1)[1] for d in chosen))
    return backfill(
        module.SOURCE,
        scope,
        make_plan,
        lake,
        days,
        concurrency=concurrency or settings.backfill_concurrency,
        force=force,
        now=now,
        logger=logger,
        progress=progress,
    )
