"""Hourly service telemetry and log counts, computed on demand from (seed, service, hour): never stored."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from simulators import hashing
from simulators.estate import HOUR, Estate
from simulators.model import PRODUCTION, Component

LOG_LEVELS = ("ERROR", "WARN", "INFO")
ERROR_TYPES = (
    "java.net.SocketTimeoutException",
    "java.lang.NullPointerException",
    "org.springframework.dao.DataAccessResourceFailureException",
)
_ERROR_TYPE_WEIGHTS = (0.5, 0.3, 0.2)
_ENV_CODE = {PRODUCTION: 1, "staging": 2}
_LEVEL_CODE = {"ERROR": 1, "WARN": 2, "INFO": 3}


@dataclass(slots=True, frozen=True)
class SlotStats:
    """What a service did during one time slot. Latencies in microseconds, as Dynatrace reports them."""

    requests: float
    errors: float
    response_avg_us: float
    response_p50_us: float
    response_p90_us: float
    response_p95_us: float
    response_p99_us: float
    response_max_us: float
    cpu_percent: float
    memory_percent: float

    @property
    def error_rate_percent(self) -> float:
        return 100.0 * self.errors / self.requests if self.requests else 0.0


def daily_rhythm(hour_of_day: float) -> float:
    """Traffic shape over a UTC day: a trough at night, a peak early afternoon."""
    return 0.3 + 0.7 * math.exp(-(((hour_of_day - 14.0) / 4.5) ** 2))


def weekly_rhythm(weekday: int) -> float:
    """Monday=0 … Sunday=6: weekends are quiet."""
    return (1.0, 1.0, 1.0, 1.0, 0.9, 0.45, 0.4)[weekday]


def rhythm_at(epoch_s: int) -> float:
    hour_of_day = (epoch_s % 86400) / 3600
    weekday = (epoch_s // 86400 + 3) % 7  # 1970-01-01 was a Thursday
    return daily_rhythm(hour_of_day) * weekly_rhythm(weekday)


class Telemetry:
    """Lazy telemetry of an estate, with a bounded cache of recently computed hours."""

    def __init__(self, estate: Estate, cache_size: int = 200_000) -> None:
        self.estate = estate
        self._seed = estate.seed & ((1 << 63) - 1)
        self._start_s = estate.start_s
        self._end_s = estate.end_s
        # Keys are component indexes: components themselves are mutable records, hence unhashable.
        self._cached_hour = lru_cache(maxsize=cache_size)(self._hour_stats)
        self._cached_logs = lru_cache(maxsize=cache_size)(self._hour_log_count)

    # --- degradations ---------------------------------------------------------------------------------------
    def degradation(self, comp: Component, environment: str, start_s: int, end_s: int) -> float:
        """How degraded the service is over [start_s, end_s): severity weighted by overlap, 0..1."""
        worst = 0.0
        span = end_s - start_s
        for deg in self.estate.degradations_overlapping(comp.index, environment, start_s, end_s):
            overlap = min(end_s, deg.end_s) - max(start_s, deg.start_s)
            if overlap > 0:
                worst = max(worst, deg.severity * overlap / span)
        return worst

    # --- service metrics ------------------------------------------------------------------------------------
    def _base(self, comp: Component, environment: str, hour_s: int) -> tuple[float, float] | None:
        """Requests in the hour and the load factor, or None when the service saw no traffic."""
        if hour_s < self._start_s or hour_s >= self._end_s:
            return None
        profile = comp.traffic
        rhythm = rhythm_at(hour_s + 1800)
        if profile.night_idle and daily_rhythm(((hour_s % 86400) + 1800) / 3600) < 0.4:
            return None
        env_code = _ENV_CODE[environment]
        noise = 1.0 + 0.08 * hashing.normal(self._seed, comp.index, env_code, hour_s // HOUR, 11)
        scale = 1.0 if environment == PRODUCTION else 0.03
        # Requests are counted: an hour holds a whole number of them, as Dynatrace's Count metrics do.
        requests = float(max(1, round(profile.requests_per_minute * 60 * rhythm * noise * scale)))
        return requests, rhythm

    def _stats(
        self, comp: Component, environment: str, hour_s: int, slot_start: int, slot_len: int
    ) -> SlotStats | None:
        base = self._base(comp, environment, hour_s)
        if base is None:
            return None
        hour_requests, rhythm = base
        profile = comp.traffic
        env_code = _ENV_CODE[environment]
        d = self.degradation(comp, environment, slot_start, slot_start + slot_len)
        requests = hour_requests * slot_len / HOUR
        if slot_len < HOUR:
            requests *= max(0.2, 1.0 + 0.05 * hashing.normal(self._seed, comp.index, env_code, slot_start, 12))
            requests = float(round(requests))
            if requests <= 0:
                return None
        noise = hashing.normal(self._seed, comp.index, env_code, slot_start, slot_len, 13)
        error_rate = min(0.95, profile.error_rate * (1.0 + 0.25 * abs(noise)) + 0.22 * d)
        p50 = profile.p50_ms * 1000.0 * (1.0 + 0.15 * rhythm) * (1.0 + 2.0 * d) * (1.0 + 0.04 * noise)
        p95 = p50 * profile.p95_ratio * (1.0 + 1.5 * d)
        p99 = p95 * profile.p99_ratio
        return SlotStats(
            requests=requests,
            errors=float(round(requests * error_rate)),
            response_avg_us=p50 * (0.55 + 0.25 * profile.p95_ratio),
            response_p50_us=p50,
            response_p90_us=p50 + (p95 - p50) * 0.7,
            response_p95_us=p95,
            response_p99_us=p99,
            response_max_us=p99 * 3.0,
            cpu_percent=min(100.0, profile.cpu_percent * (0.5 + 0.6 * rhythm) * (1.0 + 0.9 * d) + 2.0 * noise),
            memory_percent=min(100.0, profile.memory_percent + 6.0 * rhythm + 12.0 * d + 0.5 * noise),
        )

    def _hour_stats(self, comp_index: int, environment: str, hour_s: int) -> SlotStats | None:
        return self._stats(self.estate.components[comp_index], environment, hour_s, hour_s, HOUR)

    def hour_stats(self, comp: Component, environment: str, hour_s: int) -> SlotStats | None:
        return self._cached_hour(comp.index, environment, hour_s)

    def slot_stats(self, comp: Component, environment: str, start_s: int, length_s: int) -> SlotStats | None:
        """Stats over [start_s, start_s + length_s); slots of an hour or more combine whole hours."""
        if length_s < HOUR:
            hour_s = start_s - start_s % HOUR
            return self._stats(comp, environment, hour_s, start_s, length_s)
        first = start_s - start_s % HOUR
        hours = [self.hour_stats(comp, environment, h) for h in range(first, start_s + length_s, HOUR)]
        return combine([h for h in hours if h is not None])

    # --- logs -----------------------------------------------------------------------------------------------
    def hour_log_count(self, comp: Component, environment: str, level: str, error_type: str | None, hour_s: int) -> int:
        """Log documents of one stream (service, environment, level, exception type) in one hour."""
        return self._cached_logs(comp.index, environment, level, error_type, hour_s)

    def _hour_log_count(
        self, comp_index: int, environment: str, level: str, error_type: str | None, hour_s: int
    ) -> int:
        comp = self.estate.components[comp_index]
        stats = self.hour_stats(comp, environment, hour_s)
        if stats is None:
            return 0
        d = self.degradation(comp, environment, hour_s, hour_s + HOUR)
        if level == "INFO":
            expected = stats.requests * 0.02
        elif level == "WARN":
            expected = stats.requests * (0.001 + 0.01 * d)
        else:
            index = ERROR_TYPES.index(error_type or ERROR_TYPES[0])
            weight = _ERROR_TYPE_WEIGHTS[index]
            if d > 0:
                # A bad release throws one kind of exception above all.
                weight = weight * (1 - d) + (d if index == 1 else 0.0)
            expected = (stats.errors * 0.5 + 0.5) * weight
        code = (_ENV_CODE[environment], _LEVEL_CODE[level], ERROR_TYPES.index(error_type) if error_type else 9)
        # Stochastic rounding keeps hourly sums unbiased while staying deterministic.
        return int(expected + hashing.unit(self._seed, comp.index, *code, hour_s // HOUR, 14))

    def log_count_between(
        self, comp: Component, environment: str, level: str, error_type: str | None, start_ms: int, end_ms: int
    ) -> int:
        """Log documents with @timestamp in [start_ms, end_ms); documents are spread evenly in each hour."""
        if end_ms <= start_ms:
            return 0
        total = 0
        first_hour = (start_ms // 3_600_000) * 3600
        for hour_s in range(first_hour, (end_ms - 1) // 1000 + 1, HOUR):
            count = self.hour_log_count(comp, environment, level, error_type, hour_s)
            if count == 0:
                continue
            hour_ms = hour_s * 1000
            lo = max(0, start_ms - hour_ms)
            hi = min(3_600_000, end_ms - hour_ms)
            if hi <= lo:
                continue
            total += _docs_before(hi, count) - _docs_before(lo, count)
        return total


def doc_offset_ms(index: int, count: int) -> int:
    """Offset in the hour of log document number `index` out of `count`."""
    return index * 3_600_000 // count


def _docs_before(offset_ms: int, count: int) -> int:
    """How many of `count` evenly spread documents fall before offset_ms (ceil(offset*count/H))."""
    return min(count, -((-offset_ms * count) // 3_600_000))


def combine(slots: list[SlotStats]) -> SlotStats | None:
    """Merge slots: counts add up, latencies are request-weighted (percentiles approximately so)."""
    if not slots:
        return None
    if len(slots) == 1:
        return slots[0]
    requests = sum(s.requests for s in slots)

    def weighted(attr: str) -> float:
        return sum(getattr(s, attr) * s.requests for s in slots) / requests

    return SlotStats(
        requests=requests,
        errors=sum(s.errors for s in slots),
        response_avg_us=weighted("response_avg_us"),
        response_p50_us=weighted("response_p50_us"),
        response_p90_us=weighted("response_p90_us"),
        response_p95_us=weighted("response_p95_us"),
        response_p99_us=weighted("response_p99_us"),
        response_max_us=max(s.response_max_us for s in slots),
        cpu_percent=sum(s.cpu_percent for s in slots) / len(slots),
        memory_percent=sum(s.memory_percent for s in slots) / len(slots),
    )
