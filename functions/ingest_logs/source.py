"""What ingest_logs fetches: hourly error, warning and exception counts for each mapped index pattern."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from functions.ingest_logs import parse
from functions.ingest_logs.client import ElasticsearchClient, PartialAnswer
from lakehouse.index_hours import IndexHoursRead, Span, whole_hours
from lakehouse.ingest.client import SetAside
from lakehouse.ingest.config import IngestSettings
from lakehouse.ingest.errors import SourceRefused
from lakehouse.ingest.mapping_pivots import current_entries, elasticsearch_indices
from lakehouse.ingest.records import ParseResult
from lakehouse.ingest.run import Page, ReadAgain, SourcePlan, Stream
from lakehouse.ingest.window import HOUR, Window
from lakehouse.runlog import Watermarks
from lakehouse.schemas import READ_AT, get_dataset
from lakehouse.storage import Lake

SOURCE = "elasticsearch"
FUNCTION = "ingest_logs"
DATASETS = (parse.DATASET,)
ALIGN: timedelta | None = HOUR
# Elasticsearch's refusals of one index pattern's search, which must not stop the others': a concrete index that
# does not exist (404 index_not_found_exception), one the credentials may not read (403 security_exception), and one
# whose shards all failed the search (400, a field mapped as text there, say).
ONE_PATTERNS_OWN = frozenset({400, 403, 404})


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
    # The parser sets aside a bucket whose hour is outside what the search asked for.
    window_ms = {"since_ms": since_ms, "until_ms": until_ms}

    field = settings.elasticsearch_environment_field
    older_until = _older_until(lake)
    # The span each pattern was answered whole for, and the patterns a page of was refused (a partial answer).
    answered: dict[str, Span] = {}
    # When each pattern answered whole was asked: a stored row read after it is a later read's (a run at the same
    # time), which this run's rows must not replace.
    asked: dict[str, datetime] = {}
    incomplete: set[str] = set()

    def pages() -> Iterator[Page]:
        # One query per index pattern; the composite aggregation pages through its services.
        refusals = 0
        for pattern in patterns:
            # Lines logged after the question were not counted: a window ending later is read up to it.
            asked_at = datetime.now(UTC)
            try:
                for response in client.log_counts(pattern, since_ms, until_ms, settings.elasticsearch_page_size, field):
                    context = {"index_pattern": pattern, "environment_field": field, **window_ms}
                    yield Page(parse.DATASET, response.body, context)
            except (SourceRefused, PartialAnswer) as refused:
                refusals += 1
                # Every pattern refused is a wrong URL or query, refused credentials or a cluster in trouble, not one
                # pattern's indices: the run fails.
                own = isinstance(refused, PartialAnswer) or refused.status in ONE_PATTERNS_OWN
                if not own or refusals == len(patterns):
                    raise
                # An index deleted or renamed, one the credentials may not read, indices that cannot all answer the
                # search: one pattern's trouble must not stop every other pattern's counts. The run goes on, the
                # refusal is kept as a reject of the run (status partial), and the pattern's hours are not read.
                client.counters.set_aside.append(
                    SetAside(
                        f"Elasticsearch index {pattern}",
                        f"{refused}; the other index patterns were read: check the mapping's elisa_index and what the "
                        "credentials may read there",
                        "",
                    )
                )
            else:
                answered[pattern] = (window.since, min(window.until, asked_at))
                asked[pattern] = asked_at

    def parse_page(body: Any, context: Mapping[str, Any]) -> ParseResult:
        result = parse.parse_log_counts_page(body, context)
        if parse.DATASET not in result.tables:  # the page was refused whole: its pattern's hours lack its buckets
            incomplete.add(str(context["index_pattern"]))
        return result

    def read_whole() -> dict[str, Span]:
        return {pattern: span for pattern, span in answered.items() if pattern not in incomplete}

    def answered_whole(rows: pa.Table) -> pa.Table:
        """The rows of the patterns answered whole: one refused after its first pages (or with a page refused by the
        parser) has rows summing part of its buckets (ERROR and error, exceptions over levels) that would replace
        the whole counts stored, read later. Its hours count as not read this run (read_whole)."""
        whole = pa.array(sorted(read_whole()), pa.string())
        return rows.filter(pc.is_in(rows.column("index_pattern"), value_set=whole))

    def remember_hours_read(lake: Lake, run_id: str) -> None:
        IndexHoursRead(lake).record(read_whole(), older_until=older_until)

    stream = Stream(
        "log_counts",
        DATASETS,
        pages,
        {parse.DATASET: parse_page},
        client,
        combine={parse.DATASET: parse.combine_counts},
        combine_scope="index_pattern",
        read_again={parse.DATASET: lambda: hours_read_again(read_whole(), asked)},
        answered_whole={parse.DATASET: answered_whole},
        after_success=remember_hours_read,
    )
    return SourcePlan(SOURCE, FUNCTION, [stream], clients=[client])


def hours_read_again(read: Mapping[str, Span], asked: Mapping[str, datetime]) -> ReadAgain:
    """The stored log counts a run read again: each pattern's rows in the whole hours of the span it was answered
    whole for, the hours it counts as read (index_hours). Elasticsearch gives no bucket for a level without a line,
    so a level whose lines were deleted or re-levelled since is no row of the new read: its stored row must go.
    Only rows read before the run asked (`asked`, per pattern) are: a row read after it is a later read's, written by
    a run at the same time, and stays, the later read of a key winning as in any merge."""
    hours = {pattern: span for pattern, whole in read.items() if (span := whole_hours(*whole)) is not None}
    days = {day.first_day for since, until in hours.values() for day in Window(since, until).days()}

    def covers(rows: pa.Table) -> pa.Array:
        hour, pattern, read_at = rows.column("hour"), rows.column("index_pattern"), rows.column(READ_AT)
        read_again = pa.repeat(pa.scalar(False), rows.num_rows)
        for name, (since, until) in hours.items():
            in_span = pc.and_(
                pc.greater_equal(hour, pa.scalar(since, hour.type)), pc.less(hour, pa.scalar(until, hour.type))
            )
            # A row without a read time (none is written without one) counts as read before.
            earlier = pc.fill_null(pc.less(read_at, pa.scalar(asked[name], read_at.type)), True)
            read_again = pc.or_(read_again, pc.and_(pc.and_(pc.equal(pattern, name), in_span), earlier))
        return read_again

    return ReadAgain(tuple(sorted(days)), covers)


def _older_until(lake: Lake) -> datetime | None:
    """Before any run kept the hours read per index pattern: the watermark an older release left, up to which it
    counted every index as read; None when there is none. Asked before the run writes; it counts only for the run
    that keeps the first spans (index_hours.IndexHours.older_until)."""
    if IndexHoursRead(lake).get() is not None:
        return None
    ds = get_dataset(parse.DATASET)
    mark = Watermarks(lake).get(ds.source, ds.name)
    return mark.value if mark else None
