"""Times in seconds where the sources write epoch milliseconds were silently lost or misfiled, the run succeeding
with no reject: a Dynatrace series stamped in seconds had every point outside the window, which the window filter
dropped (the service's request count went from 72 hours to none); an Elasticsearch bucket keyed in seconds was
stored on 1970-01-20; a Dynatrace problem starting in seconds was kept as starting on 1970-01-19. Each is now a
reject naming what fell outside, and the rest of its page is kept. Built from the sources' real payloads."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from functions.ingest_dynatrace import parse as dynatrace
from functions.ingest_logs import parse as logs
from tests.conftest import FIXTURES

# 2022-09-28 00:00 to 2022-09-29 00:00 UTC: the day the Dynatrace 1h fixture's 24 slots cover (ends 01:00 .. 24:00).
DAY_SINCE_MS, DAY_UNTIL_MS = 1_664_323_200_000, 1_664_409_600_000
P95 = 'builtin:service.response.time:percentile(95):splitBy("dt.entity.service")'
GOOD, SPOILED = "SERVICE-7A96961077A1AED2", "SERVICE-583C31D9DA560E1B"  # two services of the p95 fixture


def load(*path: str) -> Any:
    return json.loads(FIXTURES.joinpath(*path).read_text())


def p95_page_of_two_services(spoil: Any) -> dict[str, Any]:
    """The fixture's hourly p95 series (24 slots of 2022-09-28), once for each of two services, the second's
    timestamps passed through `spoil`."""
    page = load("dynatrace", "metrics_query__response_time_p95_merged_1h.json")
    (series,) = page["result"][0]["data"]
    good = {**series, "dimensionMap": {"dt.entity.service": GOOD}}
    spoiled = {**series, "dimensionMap": {"dt.entity.service": SPOILED}, "timestamps": spoil(series["timestamps"])}
    page["result"][0] = {"metricId": P95, "data": [good, spoiled]}
    return page


def test_a_series_stamped_in_seconds_is_a_reject_and_the_pages_other_series_are_kept() -> None:
    page = p95_page_of_two_services(lambda stamps: [t // 1000 for t in stamps])
    result = dynatrace.parse_metrics_page(page, {"since_ms": DAY_SINCE_MS, "until_ms": DAY_UNTIL_MS})
    rows = result.tables[dynatrace.METRICS_DATASET].to_pylist()
    # By hand: the good service keeps its 24 hours, 931 µs at 00:00 (slot ending 01:00) and 1287283 µs at 22:00.
    assert {r["entity_id"] for r in rows} == {GOOD} and len(rows) == 24
    assert rows[0]["hour"] == datetime(2022, 9, 28, 0, tzinfo=UTC)
    assert rows[0]["latency_p95_ms"] == pytest.approx(0.931)
    assert rows[22]["latency_p95_ms"] == pytest.approx(1287.283)
    # The other is one reject: its 24 stamps, 1664326800 the first, are all in January 1970 read as milliseconds.
    assert [(r.index, r.reason) for r in result.rejects] == [
        (
            1,
            f"{P95}: 24 of the series' 24 points lie outside the window "
            "2022-09-28T00:00:00+00:00..2022-09-29T00:00:00+00:00 (the first at 1664326800)",
        )
    ]


def test_one_stray_point_rejects_its_series_but_the_slot_in_progress_is_only_left_out() -> None:
    """A window ending at 23:00: each series' last slot (23:00 to 24:00) reaches past its end, as the slot in
    progress may; it is left out, no reject. The second series' first stamp alone is in seconds: its whole series is
    a reject naming that 1 point, since its stamps can no longer be trusted to name their hours."""
    page = p95_page_of_two_services(lambda stamps: [stamps[0] // 1000, *stamps[1:]])
    until_23h = DAY_UNTIL_MS - 3_600_000
    result = dynatrace.parse_metrics_page(page, {"since_ms": DAY_SINCE_MS, "until_ms": until_23h})
    rows = result.tables[dynatrace.METRICS_DATASET].to_pylist()
    assert [r["hour"].hour for r in rows] == list(range(23)) and {r["entity_id"] for r in rows} == {GOOD}
    assert [(r.index, r.reason) for r in result.rejects] == [
        (
            1,
            f"{P95}: 1 of the series' 24 points lie outside the window "
            "2022-09-28T00:00:00+00:00..2022-09-28T23:00:00+00:00 (the first at 1664326800)",
        )
    ]


def test_a_log_bucket_keyed_in_seconds_is_a_reject_and_the_other_buckets_are_kept() -> None:
    """Grafana's terms + date_histogram answer as composite buckets: services val1 to val3, minutes of 2022-11-14
    10:40 to 10:43 UTC (empty buckets left out: a composite aggregation answers none). val3's 27 lines of 10:41 come
    keyed in seconds."""
    answer = load("elasticsearch", "msearch_response__terms_date_histogram__grafana.json")["responses"][0]
    buckets = [
        {
            "key": {"service": term["key"], "environment": "production", "level": "ERROR", "hour": minute["key"]},
            "doc_count": minute["doc_count"],
            "exceptions": {"doc_count": 0},
        }
        for term in answer["aggregations"]["3"]["buckets"]
        for minute in term["2"]["buckets"]
        if minute["doc_count"]
    ]
    assert buckets[0]["key"]["hour"] == 1_668_422_460_123 and buckets[0]["doc_count"] == 27
    buckets[0]["key"]["hour"] //= 1000
    page = {"timed_out": False, "_shards": answer["_shards"], "aggregations": {"logs": {"buckets": buckets}}}
    window = {"since_ms": 1_668_420_000_000, "until_ms": 1_668_423_600_000}  # 10:00 to 11:00 UTC
    result = logs.parse_log_counts_page(page, {"index_pattern": "logs-*", **window})
    counts: dict[str, int] = {}
    for row in result.tables[logs.DATASET].to_pylist():
        counts[row["service_name"]] = counts.get(row["service_name"], 0) + row["count"]
        assert row["hour"].date().isoformat() == "2022-11-14"
    # By hand: val3 21 + 31 = 52, val2 28 + 22 + 39 = 89, val1 26 + 20 + 41 = 87; the fixture's 255 less the 27.
    assert counts == {"val3": 52, "val2": 89, "val1": 87}
    assert [(r.index, r.reason) for r in result.rejects] == [
        (
            0,
            "hour 1668422460 (1970-01-20T07:27:02.460000+00:00) is outside the window "
            "2022-11-14T10:00:00+00:00..2022-11-14T11:00:00+00:00 the search asked for",
        )
    ]


def test_a_problem_starting_or_ending_in_seconds_is_a_reject_and_the_others_are_kept() -> None:
    closed = load("dynatrace", "problems_v2__list_one_closed.json")["problems"][0]
    still_open = load("dynatrace", "problem_v2__open_endTime_minus1_with_evidence.json")
    for spoiled, why in (
        # 1604628840000 ms is 2020-11-06 02:14 UTC; 1604628840 read as ms is 1970-01-19 13:43:48.840.
        ({**closed, "startTime": 1_604_628_840}, "startTime 1604628840 is 1970-01-19T13:43:48.840000+00:00"),
        # Its end, 1604629560000 ms (02:26 UTC), in seconds.
        ({**closed, "endTime": 1_604_629_560}, "endTime 1604629560 is 1970-01-19T13:43:49.560000+00:00"),
    ):
        result = dynatrace.parse_problems_page({"problems": [still_open, spoiled]})
        kept = result.tables[dynatrace.PROBLEMS_DATASET].to_pylist()
        assert [(r["problem_id"], r["end_time"]) for r in kept] == [(still_open["problemId"], None)]
        assert [(r.index, r.reason) for r in result.rejects] == [
            (1, f"ValueError: {why}, before 2000: no time of a Dynatrace problem")
        ]
