"""Hourly telemetry: daily and weekly rhythm, degradations that raise errors, latency and error logs."""

from itertools import pairwise
from statistics import mean

from simulators.estate import Estate
from simulators.model import PRODUCTION
from simulators.timeseries import Telemetry, combine

HOUR = 3600


def _busiest(estate: Estate):  # type: ignore[no-untyped-def]
    return max((c for c in estate.components if not c.traffic.night_idle), key=lambda c: c.traffic.requests_per_minute)


def test_traffic_peaks_in_the_afternoon_and_drops_at_weekends(estate: Estate) -> None:
    telemetry = Telemetry(estate)
    comp = _busiest(estate)
    afternoons, nights, weekdays, weekends = [], [], [], []
    for hour_s in range(estate.start_s, estate.end_s, HOUR):
        stats = telemetry.hour_stats(comp, PRODUCTION, hour_s)
        if stats is None:
            continue
        hour_of_day = (hour_s % 86400) // HOUR
        weekday = (hour_s // 86400 + 3) % 7
        if 13 <= hour_of_day <= 15 and weekday < 4:
            afternoons.append(stats.requests)
        if 2 <= hour_of_day <= 4 and weekday < 4:
            nights.append(stats.requests)
        if 13 <= hour_of_day <= 15:
            (weekends if weekday >= 5 else weekdays).append(stats.requests)
    assert mean(afternoons) > 2.5 * mean(nights)
    assert mean(weekends) < 0.6 * mean(weekdays)


def test_degradations_raise_error_rate_latency_and_error_logs(estate: Estate) -> None:
    telemetry = Telemetry(estate)
    checked = 0
    for deg in estate.degradations:
        if deg.end_s - deg.start_s < 2 * HOUR or deg.end_s > estate.end_s or deg.start_s < estate.start_s + 86400:
            continue
        comp = estate.components[deg.component_index]
        inside_hour = deg.start_s - deg.start_s % HOUR + HOUR
        # Same hour on an earlier day that no degradation touched.
        calm_days = [
            k
            for k in range(1, 8)
            if inside_hour - k * 86400 >= estate.start_s
            and telemetry.degradation(comp, PRODUCTION, inside_hour - k * 86400, inside_hour - k * 86400 + HOUR) == 0
        ]
        if not calm_days:
            continue
        baseline_hour = inside_hour - calm_days[0] * 86400
        inside = telemetry.hour_stats(comp, PRODUCTION, inside_hour)
        baseline = telemetry.hour_stats(comp, PRODUCTION, baseline_hour)
        if inside is None or baseline is None:
            continue
        assert inside.error_rate_percent > 5 * baseline.error_rate_percent
        assert inside.response_p95_us > 1.3 * baseline.response_p95_us
        errors_inside = sum(
            telemetry.hour_log_count(comp, PRODUCTION, "ERROR", t, inside_hour)
            for t in (
                "java.net.SocketTimeoutException",
                "java.lang.NullPointerException",
                "org.springframework.dao.DataAccessResourceFailureException",
            )
        )
        errors_before = sum(
            telemetry.hour_log_count(comp, PRODUCTION, "ERROR", t, baseline_hour)
            for t in (
                "java.net.SocketTimeoutException",
                "java.lang.NullPointerException",
                "org.springframework.dao.DataAccessResourceFailureException",
            )
        )
        assert errors_inside > 3 * max(1, errors_before)
        checked += 1
    assert checked >= 3


def test_percentiles_are_ordered_and_in_microseconds(estate: Estate) -> None:
    telemetry = Telemetry(estate)
    comp = estate.components[0]
    for hour_s in range(estate.start_s, estate.start_s + 48 * HOUR, HOUR):
        stats = telemetry.hour_stats(comp, PRODUCTION, hour_s)
        if stats is None:
            continue
        assert stats.response_p50_us < stats.response_p95_us < stats.response_p99_us
        assert stats.response_p50_us > 1000  # tens of milliseconds, expressed in microseconds
        assert 0 <= stats.errors <= stats.requests


def test_sub_hour_slots_and_combined_hours_are_consistent(estate: Estate) -> None:
    telemetry = Telemetry(estate)
    comp = _busiest(estate)
    hour_s = estate.start_s + 5 * 86400 + 14 * HOUR
    hour = telemetry.hour_stats(comp, PRODUCTION, hour_s)
    minutes = [telemetry.slot_stats(comp, PRODUCTION, hour_s + i * 600, 600) for i in range(6)]
    assert hour is not None and all(m is not None for m in minutes)
    assert abs(sum(m.requests for m in minutes if m) - hour.requests) / hour.requests < 0.1
    day = telemetry.slot_stats(comp, PRODUCTION, hour_s - 14 * HOUR, 86400)
    hours = [telemetry.hour_stats(comp, PRODUCTION, hour_s - 14 * HOUR + i * HOUR) for i in range(24)]
    assert day == combine([h for h in hours if h is not None])


def test_no_data_outside_the_history(estate: Estate) -> None:
    telemetry = Telemetry(estate)
    comp = estate.components[0]
    assert telemetry.hour_stats(comp, PRODUCTION, estate.end_s) is None
    assert telemetry.hour_stats(comp, PRODUCTION, estate.start_s - HOUR) is None


def test_log_documents_split_exactly_across_any_boundaries(estate: Estate) -> None:
    telemetry = Telemetry(estate)
    comp = _busiest(estate)
    start_ms = (estate.start_s + 3 * 86400) * 1000
    end_ms = start_ms + 5 * 3_600_000
    whole = telemetry.log_count_between(comp, PRODUCTION, "INFO", None, start_ms, end_ms)
    cuts = [start_ms, start_ms + 61_234, start_ms + 3_600_000 + 7, start_ms + 4 * 3_600_000 - 1, end_ms]
    parts = sum(telemetry.log_count_between(comp, PRODUCTION, "INFO", None, a, b) for a, b in pairwise(cuts))
    assert whole > 0 and parts == whole
