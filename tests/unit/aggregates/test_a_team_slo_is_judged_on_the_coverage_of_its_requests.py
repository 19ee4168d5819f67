"""A team's SLO coverage weighs its applications' coverages as its SLI weighs them: by requests, and a latency
coverage by hours with that percentile. An application with one request in the period weighs as one request, not as
a whole period of hours missing, so it cannot hide the fully measured breach of its team's busy application.

Over the hand-made estate (estate.py) with two more applications of team t2, dark and dim, each watched by a
Dynatrace service of its own; broken (t2 too) has no Dynatrace service and no traffic. Built as of 20 Nov 10:00: the
last 30 days are the 720 hours before it.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from lakehouse.aggregates.build import build
from lakehouse.mappings import MappingStore
from tests.unit.aggregates.estate import AS_OF, dark, estate_lake, mapping, write
from tests.unit.aggregates.test_kpis import mart, one, reading


def test_two_applications_with_a_request_each_leave_the_busy_ones_breach_judged(tmp_path: Path) -> None:
    """quiet served 1,000 requests in each of the 720 hours, 10 of them failed (99.0 %, under its 99.5 %), with a p95
    of 200 ms and a p99 of 300 ms: breached, latency met, coverage 1. dark and dim served one request each, in one
    hour, with a latency: coverage 1 / 720 each. Team t2 by hand:
    availability 712,802 / 720,002; coverage (720,000 x 1 + 1 x 1/720 + 1 x 1/720) / 720,002, over 0.99999, so
    breached as quiet is; latency coverage (720 x 1 + 1 x 1/720 + 1 x 1/720) / 722, 0.997, met. Pooled as hours
    (722 of 2,160), both would read 'insufficient data'. measured_hours and expected_hours stay 722 and 2,160."""
    lake, settings = estate_lake(tmp_path)
    dim = [
        entry
        | {"entity_id": entry["entity_id"].replace("dark", "dim")}
        | (
            {"application_id": "dim", "dynatrace_entity_selector": 'entityId("SERVICE-E")'}
            if "application_id" in entry
            else {}
        )
        for entry in dark()
    ]
    MappingStore(lake).apply(mapping() + dark() + dim, actor="test", replace=True)
    latency = {"latency_p95_ms": 200.0, "latency_p99_ms": 300.0}
    busy = [
        {"entity_id": "SERVICE-Q", "hour": AS_OF - timedelta(hours=h), "request_count": 1000.0, "error_count": 10.0}
        | latency
        for h in range(1, 721)
    ]
    once = [
        {"entity_id": service, "hour": AS_OF - timedelta(hours=5), "request_count": 1.0, "error_count": 0.0} | latency
        for service in ("SERVICE-D", "SERVICE-E")
    ]
    write(lake, "dynatrace/service_metrics_hourly", *busy, *once)
    build(lake, settings, mode="full", as_of=AS_OF)
    where = "period = 'last_30d' and environment = 'production'"
    with reading(lake, settings) as built:
        apps = {
            r["app_id"]: r for r in mart(built, "mv_slo_app_period", f"{where} and app_id in ('quiet', 'dark', 'dim')")
        }
        team = one(mart(built, "mv_slo_group_period", f"{where} and level = 'team' and level_id = 't2'"))
    assert (apps["quiet"]["availability_status"], apps["quiet"]["coverage"]) == ("breached", 1.0)
    assert [apps[a]["coverage"] for a in ("dark", "dim")] == [pytest.approx(1 / 720)] * 2
    assert (team["availability_denominator"], team["availability_numerator"]) == (720_002, 712_802)
    assert (team["measured_hours"], team["expected_hours"]) == (722, 2160)
    assert team["coverage"] == pytest.approx((720_000 + 2 / 720) / 720_002)
    assert (team["availability_status"], team["applications_breached"]) == ("breached", 1)
    assert team["latency_coverage"] == pytest.approx((720 + 2 / 720) / 722)
    assert team["latency_p99_coverage"] == pytest.approx((720 + 2 / 720) / 722)
    assert (team["latency_p95_status"], team["latency_p99_status"]) == ("met", "met")
