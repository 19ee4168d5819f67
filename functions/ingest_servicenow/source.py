"""What ingest_servicenow fetches: every version of incidents, changes, problems, task SLAs and CIs, incrementally.

CIs also get a full read every `servicenow_cmdb_snapshot_hours`: a CI nobody edits has no recent `sys_updated_on`,
so an incremental read alone would never bring it. The full read takes every CI as it is when read, paged by sys_id
(Discovery updates CIs all day: in update-time order they would keep moving). Rows keep their own `sys_updated_on`
day, so the full read rewrites nothing that was already there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

from functions.ingest_servicenow import parse
from functions.ingest_servicenow.client import ServiceNowClient
from lakehouse.ingest.config import IngestSettings
from lakehouse.ingest.run import Page, SourcePlan, Stream
from lakehouse.ingest.window import Window
from lakehouse.runlog import Watermarks
from lakehouse.storage import Lake

SOURCE = "servicenow"
FUNCTION = "ingest_servicenow"
DATASETS = tuple(parse.TABLES)
ALIGN: timedelta | None = None
CMDB = "servicenow/cmdb_ci"
# State entry (beside the watermarks) holding when CIs were last read whole.
CMDB_SNAPSHOT = "cmdb_ci_full_read"


def overlap(settings: IngestSettings) -> timedelta:
    return timedelta(minutes=settings.servicenow_overlap_minutes)


def default_datasets(settings: IngestSettings) -> tuple[str, ...]:
    return DATASETS


def build_plan(settings: IngestSettings, lake: Lake, window: Window, datasets: tuple[str, ...]) -> SourcePlan:
    """Tables are read whole (not per mapped CI): the mapping is applied when aggregates are built."""
    settings.require("servicenow_url", "servicenow_user", "servicenow_password")
    assert settings.servicenow_url and settings.servicenow_user and settings.servicenow_password
    client = ServiceNowClient(
        settings.servicenow_url, settings.servicenow_user, settings.servicenow_password, **settings.client_options()
    )
    plan = SourcePlan(SOURCE, FUNCTION, [], clients=[client])
    now = datetime.now(UTC)
    for dataset in datasets:
        table, _ = parse.TABLES[dataset]
        # Wall-clock time, not the window: the days of a backfill must not each read every CI again.
        full_read = dataset == CMDB and cmdb_snapshot_due(lake, settings, now)
        plan.streams.append(
            Stream(
                dataset.split("/")[1] + (" (full read)" if full_read else ""),
                (dataset,),
                _pages(client, dataset, table, None if full_read else window, settings),
                {dataset: parse.PARSERS[dataset]},
                client,
                after_success=(lambda lake, run_id: _remember_snapshot(lake, now, run_id)) if full_read else None,
                record_of=parse.record_version,
            )
        )
    return plan


def cmdb_snapshot_due(lake: Lake, settings: IngestSettings, now: datetime) -> bool:
    if settings.servicenow_cmdb_snapshot_hours == 0:
        return False
    last = Watermarks(lake).get(SOURCE, CMDB_SNAPSHOT)
    return last is None or now - last.value >= timedelta(hours=settings.servicenow_cmdb_snapshot_hours)


def _remember_snapshot(lake: Lake, when: datetime, run_id: str) -> None:
    Watermarks(lake).advance(SOURCE, CMDB_SNAPSHOT, when, run_id=run_id)


def _pages(
    client: ServiceNowClient, dataset: str, table: str, window: Window | None, settings: IngestSettings
) -> Callable[[], Iterator[Page]]:
    """The records updated in the window; every record when there is none (a full read)."""

    def pages() -> Iterator[Page]:
        fields, size = parse.requested_fields(dataset), settings.servicenow_page_size
        if window is None:
            responses = client.every_record(table, fields, size)
        else:
            responses = client.updated_records(table, fields, window.since, window.until, size)
        for response in responses:
            yield Page(dataset, response.body)

    return pages
