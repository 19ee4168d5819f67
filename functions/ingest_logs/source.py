"""What ingest_logs fetches: hourly error, warning and exception counts for each mapped index pattern."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from functions.ingest_logs import parse
from functions.ingest_logs.client import ElasticsearchClient
from lakehouse.ingest.config import IngestSettings
from lakehouse.ingest.mapping_pivots import current_entries, elasticsearch_indices
from lakehouse.ingest.run import Page, SourcePlan, Stream
from lakehouse.ingest.window import HOUR, Window
from lakehouse.storage import Lake

SOURCE = "elasticsearch"
FUNCTION = "ingest_logs"
DATASETS = (parse.DATASET,)
ALIGN: timedelta | None = HOUR


def overlap(settings: IngestSettings) -> timedelta:
    return timedelta(hours=settings.overlap_hours)


def default_datasets(settings: IngestSettings) -> tuple[str, ...]:
    return DATASETS


def build_plan(settings: IngestSettings, lake: Lake, window: Window, datasets: tuple[str, ...]) -> SourcePlan:
    settings.require("elasticsearch_url")
    assert settings.elasticsearch_url
    if not settings.elasticsearch_api_key:
        settings.require("elasticsearch_user", "elasticsearch_password")
    client = ElasticsearchClient(
        settings.elasticsearch_url,
        user=settings.elasticsearch_user,
        password=settings.elasticsearch_password,
        api_key=settings.elasticsearch_api_key,
        **settings.client_options(),
    )
    patterns = elasticsearch_indices(current_entries(lake))
    since_ms, until_ms = int(window.since.timestamp() * 1000), int(window.until.timestamp() * 1000)

    field = settings.elasticsearch_environment_field

    def pages() -> Iterator[Page]:
        # One query per index pattern; the composite aggregation pages through its services.
        for pattern in patterns:
            for response in client.log_counts(pattern, since_ms, until_ms, settings.elasticsearch_page_size, field):
                yield Page(parse.DATASET, response.body, {"index_pattern": pattern, "environment_field": field})

    stream = Stream(
        "log_counts",
        DATASETS,
        pages,
        {parse.DATASET: parse.parse_log_counts_page},
        client,
        combine={parse.DATASET: parse.combine_counts},
        combine_scope="index_pattern",
    )
    return SourcePlan(SOURCE, FUNCTION, [stream], clients=[client])
