"""JSON has no NaN nor Infinity, but Python's parser reads them, and a source or a proxy in between may write them.
A series holding one went into the lake: in DuckDB NaN > 0 holds, so an hour of NaN requests counted as measured
and turned the day's sums NaN. Such a series is now a reject naming its value, the page's other series kept. A
metric whose `data` is an object or a text, not a list of series, is a reject too; it was read as no series."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from functions.ingest_dynatrace.parse import METRICS_DATASET, parse_metrics_page
from lakehouse.ingest.records import checked_row
from lakehouse.schemas import BOOL, FLOAT, INT, STR, UTC_MS, get_dataset

HOUR = 1_709_290_800_000  # 2024-03-01 11:00 UTC, the slot's end (Dynatrace stamps slot ends)
REQUESTS = "builtin:service.requestCount.total:names"


def page(data: str) -> dict[str, object]:
    head = '{"totalCount": 1, "nextPageKey": null, "resolution": "1h", "result": '
    parsed: dict[str, object] = json.loads(f'{head}[{{"metricId": "{REQUESTS}", "data": {data}}}]}}')
    return parsed


def series(service: str, values: str) -> str:
    return (
        f'{{"dimensions": ["{service}"], "dimensionMap": {{"dt.entity.service": "{service}"}}, '
        f'"timestamps": [{HOUR}, {HOUR + 3_600_000}], "values": {values}}}'
    )


def test_a_series_holding_nan_or_infinity_is_rejected_and_the_others_kept() -> None:
    a, b, c = series("SERVICE-A", "[120, NaN]"), series("SERVICE-B", "[80, 90]"), series("SERVICE-C", "[1, Infinity]")
    data = f"[{a}, {b}, {c}]"
    result = parse_metrics_page(page(data))
    rows = result.tables[METRICS_DATASET].to_pylist()
    # By hand: B's two hours, 80 and 90 requests; A and C rejected whole, each naming its value.
    assert sorted((r["entity_id"], r["request_count"]) for r in rows) == [("SERVICE-B", 80.0), ("SERVICE-B", 90.0)]
    reasons = sorted(r.reason for r in result.rejects)
    assert reasons == ["value inf is not a number in a series", "value nan is not a number in a series"]


def test_a_metric_whose_data_is_not_a_list_is_rejected() -> None:
    for data in ("{}", '""', "0"):
        result = parse_metrics_page(page(data))
        assert [r.reason for r in result.rejects] == [
            f"{REQUESTS}: data should be a list of series, got {json.loads(data)!r}"
        ]
        assert result.tables[METRICS_DATASET].num_rows == 0


def test_a_row_field_that_is_not_a_number_rejects_its_record() -> None:
    # A pipeline row whose every field fits, then its duration made NaN, then infinite.
    typical = {STR: "x", INT: 1, FLOAT: 1.5, BOOL: True, UTC_MS: datetime(2024, 3, 1, tzinfo=UTC)}
    row = {f.name: typical.get(f.type) for f in get_dataset("gitlab/pipelines").schema}
    assert checked_row("gitlab/pipelines", dict(row)) == row
    for value in (float("nan"), float("inf")):
        with pytest.raises(ValueError, match=f"^duration_s should be double, got float {value}$"):
            checked_row("gitlab/pipelines", {**row, "duration_s": value})
