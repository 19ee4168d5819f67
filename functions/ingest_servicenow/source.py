"""What ingest_servicenow fetches: every version of incidents, changes, problems, task SLAs and CIs, incrementally."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

from functions.ingest_servicenow import parse
from functions.ingest_servicenow.client import ServiceNowClient
from lakehouse.ingest.config import IngestSettings
from lakehouse.ingest.run import Page, SourcePlan, Stream
from lakehouse.ingest.window import Window
from lakehouse.storage import Lake

SOURCE = "servicenow"
FUNCTION = "ingest_servicenow"
DATASETS = tuple(parse.TABLES)
ALIGN: timedelta | None = None


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
    for dataset in datasets:
        table, _ = parse.TABLES[dataset]
        plan.streams.append(
            Stream(
                dataset.split("/")[1],
                (dataset,),
                _pages(client, dataset, table, window, settings),
                {dataset: parse.PARSERS[dataset]},
                client,
            )
        )
    return plan


def _pages(
    client: ServiceNowClient, dataset: str, table: str, window: Window, settings: IngestSettings
) -> Callable[[], Iterator[Page]]:
    def pages() -> Iterator[Page]:
        fields = parse.requested_fields(dataset)
        for response in client.updated_records(
            table, fields, window.since, window.until, settings.servicenow_page_size
        ):
            yield Page(dataset, response.body)

    return pages
