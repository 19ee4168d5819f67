"""An hourly answer's points end on the hour. A series stamped at half past was stored half an hour early, as hours
(00:30, 01:30) no other figure of the lake shares; it is now a reject saying so, the page's other series kept."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from functions.ingest_dynatrace.parse import METRICS_DATASET, parse_metrics_page
from tests.conftest import FIXTURES

HOUR = 3_600_000
MIDNIGHT = 1_763_596_800_000  # 2025-11-20 00:00 UTC
WINDOW = {"since_ms": MIDNIGHT, "until_ms": MIDNIGHT + 4 * HOUR}
REQUESTS = "builtin:service.requestCount.total:names"


def series(service: str, ends: list[int], values: list[float]) -> dict[str, Any]:
    return {
        "dimensions": [service],
        "dimensionMap": {"dt.entity.service": service},
        "timestamps": ends,
        "values": values,
    }


def hourly_page(*data: dict[str, Any]) -> dict[str, Any]:
    return {"resolution": "1h", "result": [{"metricId": REQUESTS, "data": list(data)}]}


def test_a_series_stamped_at_half_past_is_rejected_and_the_others_kept() -> None:
    """SERVICE-A's slots end at 01:30 and 02:30, SERVICE-B's at 01:00 and 02:00. B's hours start at 00:00 and 01:00;
    A's series is set aside whole, where it was stored at 00:30 and 01:30."""
    off = [MIDNIGHT + HOUR + HOUR // 2, MIDNIGHT + 2 * HOUR + HOUR // 2]
    on = [MIDNIGHT + HOUR, MIDNIGHT + 2 * HOUR]
    result = parse_metrics_page(hourly_page(series("SERVICE-A", off, [5, 6]), series("SERVICE-B", on, [7, 8])), WINDOW)
    rows = result.tables[METRICS_DATASET].to_pylist()
    assert [(r["entity_id"], r["hour"], r["request_count"]) for r in rows] == [
        ("SERVICE-B", datetime(2025, 11, 20, 0, tzinfo=UTC), 7.0),
        ("SERVICE-B", datetime(2025, 11, 20, 1, tzinfo=UTC), 8.0),
    ]
    assert len(result.rejects) == 1
    reject = result.rejects[0]
    assert reject.reason.startswith("timestamps not on the hour")
    assert "2025-11-20T01:30:00+00:00" in reject.reason
    assert (reject.raw["entity"], reject.raw["timestamps"], reject.raw["values"]) == ("SERVICE-A", off, [5, 6])


def test_one_point_off_the_hour_rejects_its_series() -> None:
    """02:00, then 03:00 and a minute: the series cannot be trusted to name its hours."""
    ends = [MIDNIGHT + 2 * HOUR, MIDNIGHT + 3 * HOUR + 60_000]
    result = parse_metrics_page(hourly_page(series("SERVICE-A", ends, [1, 2])))
    assert result.tables[METRICS_DATASET].num_rows == 0
    assert [r.reason.startswith("timestamps not on the hour") for r in result.rejects] == [True]


def test_the_hourly_fixture_still_parses_whole() -> None:
    """The shared 1h answer (24 slots ending on the hour), given a service to belong to: 24 hours, no reject."""
    page = json.loads((FIXTURES / "dynatrace" / "metrics_query__response_time_p95_merged_1h.json").read_text())
    page["result"][0]["data"][0]["dimensionMap"] = {"dt.entity.service": "SERVICE-X"}
    result = parse_metrics_page(page)
    assert result.rejects == []
    rows = result.tables[METRICS_DATASET].to_pylist()
    assert len(rows) == 24
    assert rows[0]["hour"] == datetime(2022, 9, 28, 0, tzinfo=UTC)  # the first slot ends at 01:00


def test_a_page_served_a_day_to_a_point_is_a_reject_per_series_kept_with_its_points() -> None:
    """Dynatrace serves a query it cannot answer in as many points at a coarser resolution (a day to a point here).
    Its three series were one reject keeping none of their points, the page's results left out: three records the
    run set aside and nobody could see. Each series is a reject of its own, kept with its points."""
    day = 24 * HOUR
    page = {
        "totalCount": 3,
        "resolution": "1d",
        "result": [
            {
                "metricId": REQUESTS,
                "data": [series(f"SERVICE-{name}", [MIDNIGHT + day], [n]) for n, name in enumerate("ABC")],
            }
        ],
    }
    result = parse_metrics_page(page, WINDOW)
    assert result.tables.get(METRICS_DATASET) is None or result.tables[METRICS_DATASET].num_rows == 0
    assert [r.reason for r in result.rejects] == [f"{REQUESTS}: resolution '1d', expected 1h"] * 3
    kept = [r.raw for r in result.rejects]
    assert [(k["metricId"], k["dimensionMap"]["dt.entity.service"], k["values"]) for k in kept] == [
        (REQUESTS, "SERVICE-A", [0]),
        (REQUESTS, "SERVICE-B", [1]),
        (REQUESTS, "SERVICE-C", [2]),
    ]
