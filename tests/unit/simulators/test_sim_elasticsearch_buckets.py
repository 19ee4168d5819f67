"""Elasticsearch date_histogram rules: bucket keys are bucket starts, with the documented interval rules."""

import pytest

from simulators.elasticsearch import SearchError, bucketing


def test_fixed_interval_keys_are_starts_aligned_to_the_epoch() -> None:
    rule = bucketing({"field": "@timestamp", "fixed_interval": "1h"}, "h")
    t = 1_714_479_385_123  # 2024-04-30T12:16:25.123Z
    assert rule.floor(t) == 1_714_478_400_000
    assert rule.next(rule.floor(t)) == 1_714_482_000_000
    assert rule.key_as_string(rule.floor(t)) == "2024-04-30T12:00:00.000Z"


def test_calendar_day_in_a_time_zone_matches_the_documented_example() -> None:
    # Elasticsearch docs: with time_zone -01:00 a daily bucket of 2015-10-01T00:50 starts at 1443661200000.
    rule = bucketing({"field": "date", "calendar_interval": "day", "time_zone": "-01:00"}, "by_day")
    assert rule.floor(1443661200000 + 50 * 60_000) == 1443661200000
    assert rule.key_as_string(1443574800000) == "2015-09-30T00:00:00.000-01:00"
    utc = bucketing({"field": "date", "calendar_interval": "1d"}, "by_day")
    assert utc.floor(1443661200000 + 50 * 60_000) == 1443657600000


def test_epoch_millis_format_gives_the_key_as_a_string() -> None:
    rule = bucketing({"fixed_interval": "1m", "format": "epoch_millis"}, "2")
    assert rule.key_as_string(1668422400000) == "1668422400000"


def test_calendar_month_and_week_boundaries() -> None:
    month = bucketing({"calendar_interval": "1M"}, "m")
    assert month.floor(1_709_251_200_000 + 5 * 86_400_000) == 1_709_251_200_000  # 2024-03-01
    assert month.next(1_709_251_200_000) == 1_711_929_600_000  # 2024-04-01
    week = bucketing({"calendar_interval": "week"}, "w")
    assert week.floor(1_714_479_385_123) == 1_714_348_800_000  # Monday 2024-04-29


@pytest.mark.parametrize(
    ("spec", "error_type"),
    [
        ({"fixed_interval": "2w"}, "x_content_parse_exception"),
        ({"fixed_interval": "1M"}, "x_content_parse_exception"),
        ({"calendar_interval": "2d"}, "x_content_parse_exception"),
        ({"interval": "1h"}, "x_content_parse_exception"),
        ({}, "illegal_argument_exception"),
    ],
)
def test_invalid_intervals_are_refused_like_elasticsearch(spec: dict[str, str], error_type: str) -> None:
    with pytest.raises(SearchError) as raised:
        bucketing(spec, "h")
    assert raised.value.status == 400
    assert raised.value.body()["error"]["type"] == error_type
