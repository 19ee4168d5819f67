"""What ingest_dynatrace fetches for a window: golden signals of the mapped services, problems, entities."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from functions.ingest_dynatrace import parse
from functions.ingest_dynatrace.client import DynatraceClient
from lakehouse.ingest.config import IngestSettings
from lakehouse.ingest.mapping_pivots import (
    current_entries,
    dynatrace_found_by_topology,
    dynatrace_service_selectors,
    entity_id_selectors,
)
from lakehouse.ingest.run import Page, SourcePlan, Stream
from lakehouse.ingest.window import HOUR, Window, floor
from lakehouse.storage import Lake

SOURCE = "dynatrace"
FUNCTION = "ingest_dynatrace"
DATASETS = (parse.METRICS_DATASET, parse.PROBLEMS_DATASET, parse.ENTITIES_DATASET)
ALIGN: timedelta | None = HOUR
# Open problems that started this long before the window are re-read so that their end is caught.
OPEN_PROBLEM_LOOKBACK = timedelta(days=30)


def overlap(settings: IngestSettings) -> timedelta:
    return timedelta(hours=settings.overlap_hours)


def default_datasets(settings: IngestSettings) -> tuple[str, ...]:
    return DATASETS if settings.dynatrace_entities_enabled else DATASETS[:2]


def build_plan(settings: IngestSettings, lake: Lake, window: Window, datasets: tuple[str, ...]) -> SourcePlan:
    settings.require("dynatrace_url", "dynatrace_token")
    assert settings.dynatrace_url and settings.dynatrace_token
    client = DynatraceClient(settings.dynatrace_url, settings.dynatrace_token, **settings.client_options())
    plan = SourcePlan(SOURCE, FUNCTION, [], clients=[client])
    since_ms, until_ms = _ms(window)
    if parse.METRICS_DATASET in datasets:
        entries = current_entries(lake)
        selectors = dynatrace_service_selectors(entries, settings.dynatrace_entities_per_query)
        # The listing is read whichever datasets were asked for (it finds the services' processes); kept when asked,
        # and whenever the mapping finds services by tag or zone, which the build reads from it.
        with_entities = parse.ENTITIES_DATASET in datasets or dynatrace_found_by_topology(entries)
        seen_on_ms = int(floor(window.until - timedelta(milliseconds=1), timedelta(days=1)).timestamp() * 1000)

        def metric_pages() -> Iterator[Page]:
            context = {"since_ms": since_ms, "until_ms": until_ms}
            for selector in selectors:
                processes: dict[str, list[str]] = {}
                fields = "+fromRelationships,+tags,+managementZones"
                # Services missing from this listing are missing from the entities dataset: its reject when read.
                topology_of = parse.ENTITIES_DATASET if with_entities else None
                for topology in client.entities(
                    selector, since_ms, until_ms, settings.dynatrace_page_size, fields, topology_of
                ):
                    _gather(processes, parse.processes_of(topology.body))
                    if with_entities:
                        yield Page(parse.ENTITIES_DATASET, topology.body, {"seen_on_ms": seen_on_ms})
                for page in client.metrics(list(parse.SERVICE_METRICS), selector, since_ms, until_ms):
                    yield Page(parse.METRICS_DATASET, page.body, context)
                # Containers are two hops away: service -> process group instance -> container.
                containers: dict[str, list[str]] = {}
                batch = settings.dynatrace_entities_per_query
                for process_selector in entity_id_selectors("PROCESS_GROUP_INSTANCE", sorted(processes), batch):
                    for instances in client.entities(
                        process_selector, since_ms, until_ms, settings.dynatrace_page_size, "+fromRelationships"
                    ):
                        _gather(containers, parse.containers_of(instances.body, processes))
                for container_selector in entity_id_selectors("CONTAINER_GROUP_INSTANCE", sorted(containers), batch):
                    for page in client.metrics(list(parse.CONTAINER_METRICS), container_selector, since_ms, until_ms):
                        yield Page(parse.METRICS_DATASET, page.body, {**context, "service_of_container": containers})

        produced = (parse.METRICS_DATASET, parse.ENTITIES_DATASET) if with_entities else (parse.METRICS_DATASET,)
        plan.streams.append(
            Stream(
                "metrics",
                produced,
                metric_pages,
                {parse.METRICS_DATASET: parse.parse_metrics_page, parse.ENTITIES_DATASET: parse.parse_entities_page},
                client,
                combine={parse.METRICS_DATASET: parse.combine_hourly},
            )
        )
    if parse.PROBLEMS_DATASET in datasets:

        def problem_pages() -> Iterator[Page]:
            for page in client.problems(since_ms, until_ms, settings.dynatrace_page_size):
                yield Page(parse.PROBLEMS_DATASET, page.body)
            lookback_ms = since_ms - int(OPEN_PROBLEM_LOOKBACK.total_seconds() * 1000)
            client.counters.reads_again += 1  # the open problems list again some of the window's
            for page in client.problems(lookback_ms, until_ms, settings.dynatrace_page_size, 'status("open")'):
                yield Page(parse.PROBLEMS_DATASET, page.body)

        plan.streams.append(
            Stream(
                "problems",
                (parse.PROBLEMS_DATASET,),
                problem_pages,
                {parse.PROBLEMS_DATASET: parse.parse_problems_page},
                client,
            )
        )
    return plan


def _gather(found: dict[str, list[str]], more: dict[str, list[str]]) -> None:
    """Add a page's entity -> services to what earlier pages gave: the services of one entity can span pages."""
    for entity, services in more.items():
        listed = found.setdefault(entity, [])
        listed.extend(s for s in services if s not in listed)


def _ms(window: Window) -> tuple[int, int]:
    return int(window.since.timestamp() * 1000), int(window.until.timestamp() * 1000)
