"""Spellings of Dynatrace metric ids: each is read into a column of the lake, or its series are set aside, said why."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from functions.ingest_dynatrace import parse
from lakehouse.ingest.run import Page, SourcePlan, Stream, run_plan
from lakehouse.schemas import get_dataset
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.unit.ingest.test_dynatrace_parse import NULLS_FIXTURE, _hourly_page, load
from tests.unit.ingest.test_run import WINDOW

# The average response time, as the fixtures spell it: bare (one service, resolution Inf), and split by service
# with names (two services).
AVERAGES = {
    "builtin:service.response.time": "metrics_query__response_time_by_service_resolution_inf.json",
    'builtin:service.response.time:splitBy("dt.entity.service"):avg:names': NULLS_FIXTURE,
}


def with_average(fixture: str) -> dict[str, Any]:
    """The hourly page of checkout's request count and p95, with a fixture's average response time beside them."""
    page = _hourly_page()
    page["result"].append(load(fixture)["result"][0])
    return page


@pytest.mark.parametrize(("metric_id", "fixture"), AVERAGES.items())
def test_the_average_response_time_is_set_aside_and_the_rest_of_the_page_is_read(metric_id: str, fixture: str) -> None:
    """The alias read the average into `latency_avg_ms`, a column no table has: its points vanished when the page
    became rows, with no reject to say so. The lake keeps latency as p50, p95 and p99 only: the metric's series are
    one reject naming it and how many series it held, and the page's other metrics stay."""
    series = len(load(fixture)["result"][0]["data"])
    result = parse.parse_metrics_page(with_average(fixture))
    assert [r.reason for r in result.rejects] == [
        f"{metric_id}: average response time, which the lake does not keep (latency is read as its p50, p95 and "
        f"p99); {series} series not read"
    ]
    rows = result.tables[parse.METRICS_DATASET].to_pylist()
    # Slot end 01:00 -> hour 00:00: 1,200 requests, p95 931 µs = 0.931 ms; slot end 02:00: p95 29,712 µs.
    assert [(r["hour"], r["request_count"], r["latency_p95_ms"]) for r in rows] == [
        (datetime(2022, 9, 28, 0, tzinfo=UTC), 1200, pytest.approx(0.931)),
        (datetime(2022, 9, 28, 1, tzinfo=UTC), None, pytest.approx(29.712)),
    ]
    assert "latency_avg_ms" not in result.tables[parse.METRICS_DATASET].column_names


def test_a_run_reading_the_average_response_time_says_so(tmp_path: Path) -> None:
    """The run that met the average is partial, counts its series as one rejected record, and keeps the reason."""
    lake = Lake.from_settings(Settings(lake_url=str(tmp_path / "lake")))

    def fetch() -> Iterator[Page]:
        yield Page(parse.METRICS_DATASET, with_average(NULLS_FIXTURE))

    stream = Stream("metrics", (parse.METRICS_DATASET,), fetch, {parse.METRICS_DATASET: parse.parse_metrics_page})
    record = run_plan(SourcePlan("dynatrace", "ingest_dynatrace", [stream]), lake, WINDOW).outcomes[0].record
    # The two hours of checkout are written; the average's two series are the one reject.
    assert (record.status, record.rows_out, record.rows_rejected) == ("partial", 2, 1)
    rejects = lake.read_partition(get_dataset("dynatrace/rejects"), record.started_at.date())
    assert rejects is not None
    (kept,) = rejects.to_pylist()
    assert "average response time, which the lake does not keep" in kept["reason"]
    assert kept["reason"].endswith("; 2 series not read")


def test_the_request_count_alias_stays_and_the_average_has_no_column() -> None:
    """The other alias stays: `builtin:service.requestCount.total` without `:names` is the request count."""
    assert parse.metric_column("builtin:service.requestCount.total") == ("request_count", 1.0)
    assert parse.metric_column("builtin:service.response.time") is None
