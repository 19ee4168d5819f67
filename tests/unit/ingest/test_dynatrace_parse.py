"""Dynatrace parsers on real payloads: units, slot ends, nulls, open problems, rejects."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from functions.ingest_dynatrace import parse
from tests.conftest import FIXTURES

DT = FIXTURES / "dynatrace"


def load(name: str) -> Any:
    return json.loads((DT / name).read_text())


NULLS_FIXTURE = "metrics_query__response_time_avg_split_by_service_names_with_nulls_10m.json"


def as_median(page: Any) -> Any:
    """The fixture with names and nulls, its series read as the median response time: its own measure, the
    average, is no column of the lake (its series are set aside), and these tests are about the series."""
    page["result"][0]["metricId"] = 'builtin:service.response.time:percentile(50):splitBy("dt.entity.service"):names'
    return page


def test_response_time_microseconds_become_milliseconds_at_the_slot_start() -> None:
    points, rejects = parse.metric_points(load("metrics_query__response_time_p95_3_services_10m.json"))
    assert rejects == []
    assert points.num_rows == 3 * 144
    # Third series: first non-null value 644 µs stamped 1664325000000 (00:30 UTC, the END of a 10 min slot).
    rows = [r for r in points.to_pylist() if r["entity_id"] == "SERVICE-504937D81F10F081" and r["value"] is not None]
    assert rows[0]["slot_start"] == datetime(2022, 9, 28, 0, 20, tzinfo=UTC)
    assert rows[0]["value"] == pytest.approx(0.644)
    assert rows[0]["metric"] == "latency_p95_ms"


def test_nulls_stay_null_and_names_are_read() -> None:
    points, _ = parse.metric_points(as_median(load(NULLS_FIXTURE)))
    by_entity: dict[str, list[Any]] = {}
    for r in points.to_pylist():
        by_entity.setdefault(r["entity_id"], []).append(r)
    assert sum(r["value"] is None for r in by_entity["SERVICE-504937D81F10F081"]) == 62
    assert sum(r["value"] is None for r in by_entity["SERVICE-F91837027736B19E"]) == 0
    assert by_entity["SERVICE-F91837027736B19E"][0]["entity_name"] == "BookingService"
    # 276845.99 µs -> 276.846 ms, slot ending 00:10 starts at 00:00.
    assert by_entity["SERVICE-F91837027736B19E"][0]["value"] == pytest.approx(276.8459900990099)
    assert by_entity["SERVICE-F91837027736B19E"][0]["slot_start"] == datetime(2022, 9, 28, 0, 0, tzinfo=UTC)


def test_merged_series_without_entity_is_rejected_not_guessed() -> None:
    page = load("metrics_query__response_time_p95_merged_1h.json")
    result = parse.parse_metrics_page(page)
    assert result.rows == 0
    assert len(result.rejects) == 1
    assert "no service entity" in result.rejects[0].reason


def test_empty_result_with_warnings_is_not_an_error() -> None:
    result = parse.parse_metrics_page({**load("metrics_query__empty_with_warnings.json"), "resolution": "1h"})
    assert result.rows == 0 and result.rejects == []


def _hourly_page() -> dict[str, Any]:
    """A 1h page in the fixtures' shape: two metrics of one service, slot ends at 01:00 and 02:00."""
    ends = [1664326800000, 1664330400000]
    dims = {"dt.entity.service": "SERVICE-504937D81F10F081", "dt.entity.service.name": "checkout"}
    return {
        "totalCount": 2,
        "nextPageKey": None,
        "resolution": "1h",
        "result": [
            {
                "metricId": "builtin:service.requestCount.total:names",
                "data": [{"dimensions": [], "dimensionMap": dims, "timestamps": ends, "values": [1200, None]}],
            },
            {
                "metricId": "builtin:service.response.time:percentile(95)",
                "data": [{"dimensions": [], "dimensionMap": dims, "timestamps": ends, "values": [931, 29712]}],
            },
        ],
    }


def test_hourly_rows_pivot_metrics_on_the_hour_start() -> None:
    table = parse.parse_metrics_page(_hourly_page()).tables[parse.METRICS_DATASET]
    rows = table.to_pylist()
    assert [r["hour"] for r in rows] == [datetime(2022, 9, 28, 0, tzinfo=UTC), datetime(2022, 9, 28, 1, tzinfo=UTC)]
    assert rows[0]["request_count"] == 1200 and rows[0]["latency_p95_ms"] == pytest.approx(0.931)
    assert rows[1]["request_count"] is None and rows[1]["latency_p95_ms"] == pytest.approx(29.712)
    assert rows[0]["entity_name"] == "checkout"


def test_metrics_of_one_hour_on_two_pages_are_combined() -> None:
    page = _hourly_page()
    first = {**page, "result": page["result"][:1]}
    second = {**page, "result": page["result"][1:]}
    import pyarrow as pa

    parts = [parse.parse_metrics_page(p).tables[parse.METRICS_DATASET] for p in (first, second)]
    combined = parse.combine_hourly(pa.concat_tables(parts)).to_pylist()
    assert len(combined) == 2
    assert combined[0]["request_count"] == 1200 and combined[0]["latency_p95_ms"] == pytest.approx(0.931)


def container_cpu_page() -> dict:
    """The containers' CPU metric: CONTAINER_GROUP_INSTANCE-1 at 37.5 % in the hour of 2022-09-28 01:00 UTC."""
    series = {
        "dimensions": ["CONTAINER_GROUP_INSTANCE-1"],
        "dimensionMap": {"dt.entity.container_group_instance": "CONTAINER_GROUP_INSTANCE-1"},
        "timestamps": [1664326800000],
        "values": [37.5],
    }
    return {"resolution": "1h", "result": [{"metricId": "builtin:containers.cpu.usagePercent", "data": [series]}]}


def test_container_series_are_attributed_to_their_service() -> None:
    page = container_cpu_page()
    context = {"service_of_container": {"CONTAINER_GROUP_INSTANCE-1": ["SERVICE-A"]}}
    rows = parse.parse_metrics_page(page, context).tables[parse.METRICS_DATASET].to_pylist()
    assert rows[0]["entity_id"] == "SERVICE-A" and rows[0]["cpu_usage_pct"] == 37.5


def test_a_container_running_two_services_counts_for_both() -> None:
    """A process often serves more than one service (a web service and a messaging one in one JVM): SERVICE-A and
    SERVICE-B both run on PROCESS_GROUP_INSTANCE-1, in container 1. The container's saturation went to whichever
    service was listed last, the other had none; both run on it, both get its 37.5 % CPU."""
    services = {
        "entities": [
            {
                "entityId": service,
                "fromRelationships": {
                    "runsOnProcessGroupInstance": [{"id": "PROCESS_GROUP_INSTANCE-1", "type": "PROCESS_GROUP_INSTANCE"}]
                },
            }
            for service in ("SERVICE-A", "SERVICE-B")
        ]
    }
    instances = {
        "entities": [
            {
                "entityId": "PROCESS_GROUP_INSTANCE-1",
                "fromRelationships": {
                    "isPgiOfCgi": [{"id": "CONTAINER_GROUP_INSTANCE-1", "type": "CONTAINER_GROUP_INSTANCE"}]
                },
            }
        ]
    }
    containers = parse.containers_of(instances, parse.processes_of(services))
    page = container_cpu_page()
    rows = parse.parse_metrics_page(page, {"service_of_container": containers}).tables[parse.METRICS_DATASET]
    assert sorted((r["entity_id"], r["cpu_usage_pct"]) for r in rows.to_pylist()) == [
        ("SERVICE-A", 37.5),
        ("SERVICE-B", 37.5),
    ]


def test_a_series_with_a_text_value_is_rejected_alone() -> None:
    page = _hourly_page()
    page["result"][1]["data"][0]["values"] = ["931", 29712]
    result = parse.parse_metrics_page(page)
    assert len(result.rejects) == 1 and "non-numeric" in result.rejects[0].reason
    rows = result.tables[parse.METRICS_DATASET].to_pylist()
    assert rows[0]["request_count"] == 1200 and rows[0]["latency_p95_ms"] is None


def test_a_series_with_a_null_timestamp_or_a_boolean_value_is_rejected_alone() -> None:
    """The contract has a number for every timestamp and a number or null for every value. A null timestamp in the
    p95 series lost that point with no word (its hour left out as if not measured), and a true among the request
    counts was stored as 1 request: each series is a reject, the other series of the page stays."""
    page = _hourly_page()
    p95 = page["result"][1]["data"][0]
    p95["timestamps"] = [None, p95["timestamps"][1]]  # its own list: the two series share one in _hourly_page
    result = parse.parse_metrics_page(page, {"since_ms": 1664323200000, "until_ms": 1664330400000})
    assert [r.reason for r in result.rejects] == ["non-numeric value None in a series"]
    rows = result.tables[parse.METRICS_DATASET].to_pylist()
    assert [(r["hour"].hour, r["request_count"], r["latency_p95_ms"]) for r in rows] == [(0, 1200, None)]

    page = _hourly_page()
    page["result"][0]["data"][0]["values"] = [True, None]
    result = parse.parse_metrics_page(page)
    assert [r.reason for r in result.rejects] == ["non-numeric value True in a series"]
    rows = result.tables[parse.METRICS_DATASET].to_pylist()
    assert [(r["hour"].hour, r["request_count"]) for r in rows] == [(0, None), (1, None)]
    assert [r["latency_p95_ms"] for r in rows] == [pytest.approx(0.931), pytest.approx(29.712)]


def test_a_number_too_large_for_its_column_is_a_reject_not_a_failed_run() -> None:
    """A value or a timestamp past a 64-bit integer in one series, or a problem time past any date, failed the page
    and with it the run. By hand: the p95 series with 10**20 as a value is a reject, the request count's 1200 at
    00:00 stays; a problem starting at 2**70 ms is a reject, the good one beside it stays."""
    # 10**20 is past a 64-bit integer; -2**63 is one, but as a value no double holds it exactly, and as a slot's
    # end it wrapped around to year 292 million once moved to the slot's start (the run then failed on its day).
    for spoiled, what, number in (
        ("values", "value", 10**20),
        ("timestamps", "timestamp", 10**20),
        ("values", "value", -(2**63)),
        ("timestamps", "timestamp", -(2**63)),
        ("timestamps", "timestamp", 2**63 - 1),
    ):
        page = _hourly_page()
        series = page["result"][1]["data"][0]
        series[spoiled] = [number, *series[spoiled][1:]]  # the two series share one timestamps list
        result = parse.parse_metrics_page(page)
        assert [r.reason for r in result.rejects] == [f"{what} {number} out of range in a series"]
        rows = result.tables[parse.METRICS_DATASET].to_pylist()
        assert [(r["hour"], r["request_count"], r["latency_p95_ms"]) for r in rows] == [
            (datetime(2022, 9, 28, 0, tzinfo=UTC), 1200, None)
        ]
    good = load("problems_v2__list_one_closed.json")["problems"][0]
    bad = {**good, "problemId": "X_1V2", "startTime": 2**70}
    result = parse.parse_problems_page({"problems": [good, bad]})
    assert result.tables[parse.PROBLEMS_DATASET].column("problem_id").to_pylist() == [good["problemId"]]
    (reject,) = result.rejects
    assert reject.index == 1 and reject.reason == f"ValueError: startTime: {2**70} is no time in epoch milliseconds"


def test_a_problem_starting_before_1970_is_rejected_alone() -> None:
    """Only times from 1970 on were checked: a start of -10**20 ms failed the page (OSError), -10**400 ms too
    (OverflowError), and -1, Dynatrace's "no end yet", was stored as a start in 1969. Each is now a reject, and the
    good problem beside it stays."""
    good = load("problems_v2__list_one_closed.json")["problems"][0]
    for start, why in (
        (-1, "startTime -1 is before 1970: no time Dynatrace gives"),
        (-(10**20), f"startTime: {-(10**20)} is no time in epoch milliseconds"),
        (-(10**400), "startTime: a 402-character number is no time in epoch milliseconds"),
    ):
        result = parse.parse_problems_page({"problems": [good, {**good, "problemId": "X_1V2", "startTime": start}]})
        assert result.tables[parse.PROBLEMS_DATASET].column("problem_id").to_pylist() == [good["problemId"]]
        assert [(r.index, r.reason) for r in result.rejects] == [(1, f"ValueError: {why}")]


def test_half_a_character_in_a_service_name_is_replaced_not_a_failed_page() -> None:
    """A service name ending in half an emoji (the JSON escape of a lone UTF-16 surrogate, as a source that cuts
    its text in UTF-16 sends it) failed the page: Arrow cannot hold it. The name keeps its text, the half character
    becomes U+FFFD, and the series' 144 points stay."""
    text = (DT / NULLS_FIXTURE).read_text()
    page = as_median(json.loads(text.replace('name": "BookingService"', 'name": "BookingService \\ud83d"')))
    points, rejects = parse.metric_points(page)
    assert rejects == []
    names = {r["entity_id"]: r["entity_name"] for r in points.to_pylist()}
    assert names["SERVICE-F91837027736B19E"] == "BookingService \ufffd"
    assert points.num_rows == 2 * 144


def test_a_metric_whose_data_is_not_a_list_is_one_reject_not_a_failed_run() -> None:
    """A metric result whose `data` came as a number failed the page (TypeError) and with it the run; as a text it
    became a reject per character. Either way it is now one reject naming the metric, and the request count's 1200
    at 00:00 stays."""
    for data in (7, "oops"):
        page = _hourly_page()
        page["result"][1]["data"] = data
        result = parse.parse_metrics_page(page)
        assert [r.reason for r in result.rejects] == [
            f"builtin:service.response.time:percentile(95): data should be a list of series, got {data!r}"
        ]
        rows = result.tables[parse.METRICS_DATASET].to_pylist()
        assert [(r["hour"], r["request_count"], r["latency_p95_ms"]) for r in rows] == [
            (datetime(2022, 9, 28, 0, tzinfo=UTC), 1200, None)
        ]


def test_a_bad_series_does_not_shift_the_pages_other_series_by_an_hour() -> None:
    """A text value in the p95 series put the 1200 requests of 00:00 at 01:00, the end of their slot."""
    page = _hourly_page()
    page["result"][1]["data"][0]["values"] = ["931", 29712]
    rows = parse.parse_metrics_page(page).tables[parse.METRICS_DATASET].to_pylist()
    # Slot end 1664326800000 is 01:00, so the hour 00:00; the 02:00 slot has no request count left, no row.
    assert [(r["hour"], r["request_count"]) for r in rows] == [(datetime(2022, 9, 28, 0, tzinfo=UTC), 1200)]


def test_a_series_whose_entity_or_name_is_not_text_is_rejected_alone() -> None:
    """The fixture's two services, the first series' dimensionMap spoiled: its service id a number, then its name a
    number. That series (144 points) is a reject each time; the other keeps its 144 points, 62 of them null."""
    for key in ("dt.entity.service", "dt.entity.service.name"):
        page = as_median(load(NULLS_FIXTURE))
        page["result"][0]["data"][0]["dimensionMap"][key] = 12345
        points, rejects = parse.metric_points(page)
        assert len(rejects) == 1 and key in rejects[0].reason and rejects[0].index == 0
        assert set(points.column("entity_id").to_pylist()) == {"SERVICE-504937D81F10F081"}
        assert points.num_rows == 144 and points.column("value").null_count == 62


def test_closed_problem_times_and_entities() -> None:
    result = parse.parse_problems_page(load("problems_v2__list_one_closed.json"))
    (row,) = result.tables[parse.PROBLEMS_DATASET].to_pylist()
    assert row["problem_id"] == "-8130375692469737113_1604628540000V2"
    assert row["start_time"] == datetime(2020, 11, 6, 2, 14, tzinfo=UTC)  # 1604628840000
    assert row["end_time"] == datetime(2020, 11, 6, 2, 26, tzinfo=UTC)  # 1604629560000
    assert row["status"] == "CLOSED" and row["severity_level"] == "ERROR" and row["impact_level"] == "INFRASTRUCTURE"
    assert row["affected_entity_ids"] == ["ELASTIC_LOAD_BALANCER-B4C30136D16ABD7A"]
    assert row["entity_tags"][0] == "[AWS]kubernetes.io/cluster/keptn07:owned"


def test_impact_levels_are_the_ones_the_problems_api_v2_writes() -> None:
    """Problems API v2 names a problem on services SERVICES (SERVICE was API v1's spelling); the level is kept as
    sent, and the dictionary an analyst filters by lists the four levels as the API writes them."""
    from lakehouse.schemas import get_dataset

    page = load("problems_v2__list_one_closed.json")
    page["problems"][0]["impactLevel"] = "SERVICES"
    (row,) = parse.parse_problems_page(page).tables[parse.PROBLEMS_DATASET].to_pylist()
    assert row["impact_level"] == "SERVICES"
    assert parse.parse_problem(load("problem_v2__open_endTime_minus1_with_evidence.json"))["impact_level"] == (
        "APPLICATION"
    )
    described = {c.name: c.description for c in get_dataset(parse.PROBLEMS_DATASET).columns}["impact_level"]
    levels = set(described.replace(",", " ").split()) - {"or"}
    assert levels == {"APPLICATION", "SERVICES", "INFRASTRUCTURE", "ENVIRONMENT"}


def test_open_problem_has_no_end() -> None:
    row = parse.parse_problem(load("problem_v2__open_endTime_minus1_with_evidence.json"))
    assert row["end_time"] is None  # endTime -1 means still open
    assert row["status"] == "OPEN" and row["root_cause_entity_id"] is None
    assert row["management_zones"] == ["Easytravel", "allTypes"]


def test_a_problem_with_a_numeric_display_id_is_rejected_with_its_text() -> None:
    page = load("problems_v2__list_one_closed.json")
    page["problems"][0]["displayId"] = 12345
    result = parse.parse_problems_page(page)
    assert result.rows == 0
    assert "displayId" in result.rejects[0].reason and result.rejects[0].raw["problemId"].endswith("V2")


def test_a_problem_with_a_wrongly_typed_field_is_rejected_alone() -> None:
    """A problem whose severityLevel came as a number failed its whole page: the good problem beside it was lost."""
    good = load("problem_v2__open_endTime_minus1_with_evidence.json")
    bad = {**good, "problemId": "X_1V2", "severityLevel": 5}
    result = parse.parse_problems_page({"problems": [good, bad]})
    assert result.tables[parse.PROBLEMS_DATASET].column("problem_id").to_pylist() == [good["problemId"]]
    (reject,) = result.rejects
    assert reject.index == 1 and reject.reason == "ValueError: severity_level should be string, got int 5"


def test_an_entity_with_a_wrongly_typed_name_is_rejected_alone() -> None:
    """An entity whose displayName came as a number failed its whole page of entities."""
    page = load("entities_v2__list.json")
    page["entities"][1]["displayName"] = 42
    result = parse.parse_entities_page(page, {"seen_on_ms": 1654041600000})
    assert result.rows == 3 and [r.index for r in result.rejects] == [1]


def test_empty_problem_page() -> None:
    result = parse.parse_problems_page(load("problems_v2__list_empty_page.json"))
    assert result.rows == 0 and result.rejects == []


def test_entities_are_listed_on_their_day() -> None:
    result = parse.parse_entities_page(
        load("entities_v2__list.json"), {"seen_on_ms": 1654000200000 // 86_400_000 * 86_400_000}
    )
    rows = result.tables[parse.ENTITIES_DATASET].to_pylist()
    assert len(rows) == 4 and rows[0]["entity_type"] == "PROCESS_GROUP_INSTANCE"
    assert rows[0]["seen_on"] == datetime(2022, 5, 31, tzinfo=UTC)
    assert rows[0]["tags"] == []
