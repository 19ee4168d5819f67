"""KPIs of the hand-made lake in estate.py, each worked out by hand in the comments."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from lakehouse.aggregates.build import build
from lakehouse.duckdb_session import open_duckdb
from lakehouse.mappings import MappingStore
from lakehouse.runlog import FirstReads
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.unit.aggregates.estate import (
    AS_OF,
    CI_API,
    CI_DB,
    CI_Q,
    CI_WRONG,
    QUIET_SLOS_NOT_JUDGED,
    SOLO,
    breached_sla,
    change,
    dark,
    deployment,
    estate_lake,
    incident,
    mapping,
    metrics,
    t,
    task_slas_read_from,
    write,
    write_estate,
    write_estate_in,
)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Lake, duckdb.DuckDBPyConnection]]:
    root = tmp_path_factory.mktemp("kpis")
    settings = Settings(lake_url=str(root / "lake"), duckdb_temp_directory=root / "duckdb")
    lake = Lake.from_settings(settings)
    write_estate(lake)
    build(lake, settings, mode="full", as_of=AS_OF)
    con = open_duckdb(settings, lake)
    yield lake, con
    con.close()


def served_by_quiet(lake: Lake, hours: list[tuple[datetime, float, float]], latency: bool = False) -> None:
    """quiet-svc's (hour, requests, errors), written as Dynatrace's hourly service metrics of SERVICE-Q; with
    `latency`, a p95 of 200 ms and a p99 of 300 ms in each hour, under quiet's thresholds (500 and 1,500 ms)."""
    served = [{"entity_id": "SERVICE-Q", "hour": at, "request_count": n, "error_count": e} for at, n, e in hours]
    if latency:
        served = [row | {"latency_p95_ms": 200.0, "latency_p99_ms": 300.0} for row in served]
    write(lake, "dynatrace/service_metrics_hourly", *served)


@contextmanager
def reading(lake: Lake, settings: Settings) -> Iterator[tuple[Lake, duckdb.DuckDBPyConnection]]:
    """What `mart` reads with, on a lake of the test's own."""
    con = open_duckdb(settings, lake)
    try:
        yield lake, con
    finally:
        con.close()


def mart(built: tuple[Lake, duckdb.DuckDBPyConnection], table: str, where: str = "true", **params: Any) -> list[dict]:
    lake, con = built
    glob = f"{lake.url}/mart/{table}/**/*.parquet"
    rel = con.execute(f"select * from read_parquet($glob) where {where}", {"glob": glob, **params})
    return rel.to_arrow_table().to_pylist()


def one(rows: list[dict]) -> dict:
    assert len(rows) == 1, rows
    return rows[0]


def test_day_summary_counts_requests_and_leaves_zero_traffic_hours_out(built) -> None:
    day = one(mart(built, "mv_monitoring_app_day_summary", "app_id = 'shop' and day = $d", d=date(2026, 11, 19)))
    # shop-api 24 h x 1000 requests, shop-db 20 h x 500 (its first 4 hours had no traffic).
    assert day["requests"] == 24 * 1000 + 20 * 500
    # 23 hours with 1 error, one hour with 101; shop-db had none.
    assert day["errors"] == 23 + 101
    assert day["availability"] == pytest.approx(1 - 124 / 34_000)
    assert day["measured_hours"] == 24
    # App latency = worst component per hour: 800 ms at 12:00 and 13:00, over the 500 ms threshold.
    assert day["latency_p95_good_hours"] == 22
    assert day["latency_p95_worst_hour_ms"] == 800
    quiet = one(mart(built, "mv_monitoring_app_day_summary", "app_id = 'quiet' and day = $d", d=date(2026, 11, 19)))
    assert quiet["requests"] is None and quiet["availability"] is None and quiet["measured_hours"] == 0


def test_slo_no_traffic_is_no_data_not_100_percent(built) -> None:
    quiet = one(mart(built, "mv_slo_app_period", "app_id = 'quiet' and period = 'last_30d'"))
    assert quiet["availability"] is None and quiet["availability_status"] == "no data" and quiet["coverage"] == 0


def test_slo_error_budget_over_30_days(built) -> None:
    shop = one(
        mart(built, "mv_slo_app_period", "app_id = 'shop' and period = 'last_30d' and environment = 'production'")
    )
    assert shop["availability_denominator"] == 34_000 and shop["bad_requests"] == 124
    # Budget: 0.5 % of 34,000 requests = 170 bad requests allowed; 124 used = 72.9 %.
    assert shop["error_budget_allowed"] == pytest.approx(170)
    assert shop["error_budget_consumed"] == pytest.approx(124 / 170)
    assert shop["error_budget_remaining"] == pytest.approx(1 - 124 / 170)
    assert shop["burn_rate_period"] == pytest.approx((124 / 34_000) / 0.005)
    # 24 measured hours of 720 expected: too little data to judge.
    assert shop["coverage"] == pytest.approx(24 / 720)
    assert shop["availability_status"] == "insufficient data"
    assert shop["latency_p95_good_hours"] == 22 and shop["latency_measured_hours"] == 24


def dora(built, app: str, mode: str = "full", period: str = "last_30d") -> dict:
    where = (
        "app_id = $app and period = $period and correlation_mode = $mode and band_set = '2023' "
        "and environment = 'production'"
    )
    return one(mart(built, "mv_dora_app_period", where, app=app, period=period, mode=mode))


def test_day_summaries_count_the_attempts_a_change_failure_rate_is_out_of(built) -> None:
    """shop's production attempts: D1 on the 1st; G1 (failed) and G2 on the 18th; D2 and D3, its rollback, on the 19th
    (D2 a change failure). broken's: op1 on the 15th and op2 on the 16th, both failed. A day's deployments are its
    successful attempts; its deployment attempts, successful and failed, are what its change failures are out of, so
    that summed over the 30 days they are DORA's denominator: shop 5 and broken 2, where the deployments
    make 4 and 0."""
    where = "environment = 'production' and app_id in ('shop', 'broken') and deployment_attempts > 0"
    days = {
        (r["app_id"], r["day"].day): (r["deployments"], r["deployment_attempts"], r["deployment_change_failures"])
        for r in mart(built, "mv_monitoring_app_day_summary", where)
    }
    assert days == {
        ("shop", 1): (1, 1, 0),
        ("shop", 18): (1, 2, 1),
        ("shop", 19): (2, 2, 1),
        ("broken", 15): (0, 1, 1),
        ("broken", 16): (0, 1, 1),
    }
    for app, denominator in (("shop", 5), ("broken", 2)):
        assert sum(a for (name, _), (_, a, _) in days.items() if name == app) == denominator
        assert dora(built, app)["change_failure_denominator"] == denominator
    # A domain's day sums its applications': broken is d2's only one with an attempt.
    d2 = one(mart(built, "mv_monitoring_domain_day_summary", "domain = 'd2' and day = $d", d=t(15).date()))
    assert (d2["deployments"], d2["deployment_attempts"], d2["deployment_change_failures"]) == (0, 1, 1)


def test_day_summaries_count_deployments_from_the_first_read_as_dora_does(tmp_path: Path) -> None:
    """The lake first read deployments on the 10th: D1, on the 1st, came with that read from ArgoCD's history (its last
    syncs), an incomplete record of the days before, which DORA leaves out. The day summary counted it: over November
    its days summed 5 attempts where the month's DORA counted 4, and 4 deployments where DORA counted 3, though the
    table says its sums are DORA's. From the 10th on: G1 (failed) and G2 on the 18th, D2 (a change failure) and D3 on
    the 19th, 4 attempts, 3 successful, 2 change failures, on both sides."""
    lake, settings = estate_lake(tmp_path)
    FirstReads(lake).record("deploys", "deployment_events", t(10), run_id="first-read")
    build(lake, settings, mode="full", as_of=AS_OF)
    con = open_duckdb(settings, lake)
    try:
        where = "environment = 'production' and app_id = 'shop' and month(day) = 11"
        days = mart((lake, con), "mv_monitoring_app_day_summary", where)
        month = dora((lake, con), "shop", period="month")
    finally:
        con.close()
    sums = tuple(sum(d[c] for d in days) for c in ("deployments", "deployment_attempts", "deployment_change_failures"))
    assert sums == (3, 4, 2)
    numerators = ("deployment_frequency_numerator", "change_failure_denominator", "change_failure_numerator")
    assert tuple(month[c] for c in numerators) == sums
    assert [d["deployment_attempts"] for d in days if d["day"] == t(1).date()] == [0]


def test_a_backfill_reading_deployments_further_back_rebuilds_the_days_it_makes_read(tmp_path: Path) -> None:
    """First read on the 10th, the lake built; then a backfill reads deployments from the 1st on. D1, on the 1st,
    was held already, and no run wrote its day again: an hourly build would rebuild no day before the 20th, and the
    1st would keep 0 attempts where DORA now counts D1. The build is full, and the month's days sum to 5 attempts
    and 4 deployments, as DORA's."""
    lake, settings = estate_lake(tmp_path)
    FirstReads(lake).record("deploys", "deployment_events", t(10), run_id="first-read")
    build(lake, settings, mode="full", as_of=AS_OF)
    FirstReads(lake).record("deploys", "deployment_events", t(1), run_id="backfill")
    result = build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=1))
    assert result.full_because == "deployments were first read from another instant"
    con = open_duckdb(settings, lake)
    try:
        where = "environment = 'production' and app_id = 'shop' and month(day) = 11"
        days = mart((lake, con), "mv_monitoring_app_day_summary", where)
    finally:
        con.close()
    sums = tuple(sum(d[c] for d in days) for c in ("deployments", "deployment_attempts", "deployment_change_failures"))
    assert sums == (4, 5, 2)


def test_dora_for_shop(built) -> None:
    d = dora(built, "shop")
    # Attempts: D1, D2, D3 (rollback), G1 (failed), G2; the staging deployment and the pipeline do not count.
    assert (d["deployment_frequency_numerator"], d["change_failure_denominator"]) == (4, 5)
    assert d["deployment_frequency_per_day"] == pytest.approx(4 / 30)
    # D1 on the 1st, the others on the 18th and 19th: weeks counted back from as_of, they fill the 3rd and the 1st
    # of the 4 whole weeks, so not weekly; the one 30-day block holds them: monthly, 'medium'.
    assert (d["deploy_days"], d["weeks_with_deployments"], d["months_with_deployments"]) == (3, 2, 1)
    assert d["deployment_frequency_level"] == "medium"
    # Failures: D2 (caused INC1 through CHG1, and rolled back by D3) and G1 (failed). D1 is not blamed for
    # INC3, nine days later.
    assert d["change_failure_numerator"] == 2 and d["change_failure_rate"] == pytest.approx(0.4)
    assert d["change_failure_level"] == "low"
    # Lead times: MR2 2 h (D1), MR3 2.5 h (G1 failed, shipped by G2), MR1 4 h (D2).
    assert d["lead_time_sample"] == 3 and d["lead_time_median_hours"] == pytest.approx(2.5)
    assert d["lead_time_p90_hours"] == pytest.approx(2.5 + 0.8 * 1.5)
    assert d["lead_time_level"] == "elite"
    # Recovery: G1 -> G2 1.5 h; D2 -> later of rollback D3 (13:00) and INC1 restored (12:30) = 3 h.
    assert d["recovery_sample"] == 2 and d["recovery_median_hours"] == pytest.approx(2.25)
    assert d["recovery_level"] == "high"
    # MTTR over incidents restored in the period: INC1 2 h, INC3 1 h; INC2 is still open.
    assert d["mttr_sample"] == 2 and d["mttr_median_hours"] == pytest.approx(1.5)
    assert d["mttr_level"] == "high"  # 1.5 h: under a day, not under an hour
    # Rework: the rollback D3, of 4 successful deployments.
    assert (d["rework_numerator"], d["rework_denominator"], d["rework_state"]) == (1, 4, "ok")


def test_incident_links_carry_rule_and_confidence_and_stay_bounded(built) -> None:
    links = mart(built, "mv_incident_links", "true order by correlation_mode, incident_number")
    assert [(r["correlation_mode"], r["incident_number"], r["rule"], r["deployment_key"]) for r in links] == [
        ("full", "INC1", "change_caused_by", "argocd:shop-api-prod:2"),
        ("light", "INC1", "same_app_window", "argocd:shop-api-prod:2"),
    ]
    assert links[0]["confidence"] == 0.95 and links[0]["hours_after_deployment"] == pytest.approx(0.5)


def test_no_deploys_and_all_deploys_failed_are_states_not_zeros(built) -> None:
    quiet = dora(built, "quiet")
    assert quiet["deployment_frequency_state"] == "no deployments" and quiet["deployment_frequency_level"] is None
    assert quiet["change_failure_state"] == "insufficient data" and quiet["change_failure_rate"] is None
    # quiet-svc is deployed by ArgoCD alone: no GitLab project, so no merge request can ever be found for it.
    assert quiet["lead_time_state"] == "not mapped" and quiet["lead_time_median_hours"] is None
    # Without an attempt there is nothing to recover from, nor evidence of no failures.
    assert quiet["recovery_state"] == "insufficient data"
    # Rework is a share of successful deployments: none, so no rate.
    assert (quiet["rework_state"], quiet["rework_rate"]) == ("no deployments", None)
    broken = dora(built, "broken")
    assert (broken["change_failure_numerator"], broken["change_failure_denominator"]) == (2, 2)
    assert broken["change_failure_rate"] == 1.0 and broken["change_failure_level"] == "low"
    assert broken["recovery_state"] == "not recovered" and broken["recovery_median_hours"] is None
    assert broken["deployment_frequency_state"] == "no deployments"
    assert (broken["rework_state"], broken["rework_denominator"]) == ("no deployments", 0)


def test_a_metric_whose_source_the_mapping_ties_to_none_of_its_applications_is_not_mapped(tmp_path: Path) -> None:
    """dark (team t3, group g1) is mapped to Dynatrace alone: no ArgoCD application, GitLab project nor ServiceNow
    CI, so none of its DORA metrics can find an event. Each says 'not mapped', with no value and no level, where
    'no deployments' or 'no incidents restored' would claim what nobody could see. Its team t3, itself alone, says
    the same; its group g1 has shop, whose sources are mapped: g1's figures are shop's, with their own states."""
    lake, settings = estate_lake(tmp_path)
    MappingStore(lake).apply(dark(team="t3"), actor="test")
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as at:
        for row in (dora(at, "dark"), dora_group(at, "team", "t3")):
            states = {k: v for k, v in row.items() if k.endswith("_state")}
            assert set(states.values()) == {"not mapped"}, states
            assert row["deployment_frequency_per_day"] is None and row["deployment_frequency_level"] is None
            assert row["mttr_median_hours"] is None and row["mttr_level"] is None
        group = dora_group(at, "group", "g1")
    assert "not mapped" not in {v for k, v in group.items() if k.endswith("_state")}
    # shop's 5 production attempts in 30 days, 2 of them change failures (see test_dora_for_shop).
    assert (group["change_failure_numerator"], group["change_failure_denominator"]) == (2, 5)


def test_open_incident_spanning_the_period_end(built) -> None:
    backlog = mart(built, "mv_incidents_app_day", "app_id = 'shop' and environment = 'production' order by day")
    by_day = {r["day"]: r for r in backlog}
    # INC2 (P1) opened on the 18th and still open: in the backlog of the 18th, 19th and 20th.
    assert [by_day[date(2026, 11, d)]["open_end_of_day"] for d in (17, 18, 19, 20)] == [0, 1, 1, 1]
    assert by_day[date(2026, 11, 19)]["opened"] == 1 and by_day[date(2026, 11, 19)]["restored"] == 1
    assert by_day[date(2026, 11, 19)]["mttr_median_hours"] == pytest.approx(2.0)
    inc2 = one(mart(built, "mv_incidents", "number = 'INC2'"))
    assert inc2["is_open"] and inc2["duration_hours"] is None
    assert inc2["open_age_hours"] == pytest.approx(50.0)  # 18th 08:00 to as_of 20th 10:00


def test_top_risks_and_health_with_reasons(built) -> None:
    risks = mart(built, "mv_monitoring_top_risks", "true order by rank")
    assert next(r["app_id"] for r in risks) == "shop"
    shop = risks[0]
    # open P1/P2: +20; failed changes in 7 days: D2 and G1 = 2 (CHG2 closed unsuccessful, but it covers G1: one
    # failure, not two), +20; no error-rate trend: 124/34000 = 0.36 % with no traffic the week before, nothing
    # to compare with. Availability 99.64 % meets 99.5 %. INC2 is an open P1: red.
    assert (shop["score_open_incidents"], shop["score_failed_changes"], shop["score_trend"]) == (20, 20, 0)
    assert shop["score_slo"] == 0 and shop["risk_score"] == 40 and shop["health"] == "red"
    assert shop["reasons"] == ["1 open P1/P2 incident(s)", "2 failed change(s) in 7 days"]
    health = {(r["level"], r["level_id"]): r for r in mart(built, "mv_health")}
    assert health[("application", "quiet")]["health"] == "no data"
    # d1 holds shop (red) and quiet (no data): one of one application with data is red.
    assert health[("domain", "d1")]["health"] == "red" and health[("domain", "d1")]["reasons"] == ["shop is red"]


def write_the_week_before_at_a_tenth_of_a_percent(lake: Lake) -> None:
    """The estate's day of metrics a week earlier, its errors 0.1 % of its requests."""
    week_before = [
        row | {"hour": row["hour"] - timedelta(days=7), "error_count": (row["request_count"] or 0.0) * 0.001}
        for row in metrics().to_pylist()
    ]
    write(lake, "dynatrace/service_metrics_hourly", *week_before)


def test_the_error_rate_trend_compares_with_a_previous_week_that_had_traffic(tmp_path: Path) -> None:
    """shop's week before (the 12th, in 7-day window [6th 10:00, 13th 10:00)) had the same traffic at 0.1 %
    errors; this week's 124/34000 = 0.3647 % is more than twice that: +10, with both rates in the reason (this
    week's rounded up to 0.365 %)."""
    lake, settings = estate_lake(tmp_path)
    write_the_week_before_at_a_tenth_of_a_percent(lake)
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        shop = one(mart(built, "mv_monitoring_top_risks", "app_id = 'shop'"))
    assert shop["error_rate_prev_7d"] == pytest.approx(0.001)
    assert shop["score_trend"] == 10 and shop["risk_score"] == 50
    assert shop["reasons"][-1] == "error rate 0.365% is more than twice the previous week's 0.100%"


def test_the_top_risks_rates_carry_their_requests_errors_and_hours(tmp_path: Path) -> None:
    """shop's week: shop-api 24 hours x 1,000 requests with 1 error an hour but 101 at 10:00 (124 errors), shop-db
    20 hours x 500 without errors: 34,000 requests, 124 errors, in the 24 hours of the 19th with traffic. The week
    before, the same traffic with 0.1 % errors: 24 errors of shop-api's 24,000 and 10 of shop-db's 10,000, in 24
    hours. quiet had no traffic: no requests nor errors, 0 hours in both weeks."""
    lake, settings = estate_lake(tmp_path)
    write_the_week_before_at_a_tenth_of_a_percent(lake)
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        risks = {r["app_id"]: r for r in mart(built, "mv_monitoring_top_risks")}
    counts = ("requests_7d", "errors_7d", "measured_hours_7d", "requests_prev_7d", "errors_prev_7d")
    assert [risks["shop"][c] for c in counts] == [34000, pytest.approx(124), 24, 34000, pytest.approx(34)]
    assert risks["shop"]["measured_hours_prev_7d"] == 24
    assert [risks["quiet"][c] for c in (*counts, "measured_hours_prev_7d")] == [None, None, 0, None, None, 0]


def test_an_error_rate_just_over_twice_the_previous_weeks_never_reads_as_twice_it(tmp_path: Path) -> None:
    """quiet-svc served 10,000 requests an hour through the 14 days before as_of. The week before, 10 errors an
    hour: 1,680 / 1,680,000 = 0.1 %. This week, 20 an hour and 27 in one hour: 3,367 / 1,680,000 = 0.20042 %, more
    than twice 0.1 % (and over 0.1 %): +10. Rounded to two decimals the reason would say 0.20 % is more than twice
    0.10 %, which it is not; this week's rate shows rounded up, the week before's cut, at the third decimal."""
    lake, settings = estate_lake(tmp_path)
    errors = {h: 10.0 if h > 168 else (27.0 if h == 100 else 20.0) for h in range(1, 337)}
    served_by_quiet(lake, [(AS_OF - timedelta(hours=h), 10_000.0, e) for h, e in errors.items()], latency=True)
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        quiet = one(mart(built, "mv_monitoring_top_risks", "app_id = 'quiet'"))
    assert quiet["error_rate_7d"] == pytest.approx(3_367 / 1_680_000)
    assert quiet["error_rate_prev_7d"] == pytest.approx(0.001)
    assert (quiet["score_trend"], quiet["risk_score"]) == (10, 10)
    assert quiet["reasons"] == ["error rate 0.201% is more than twice the previous week's 0.100%"]


def test_an_unsuccessful_change_over_a_deployment_before_the_7_days_counts_once(tmp_path: Path) -> None:
    """CHG9, unsuccessful, covers quiet-prod's deployment Q1, which finished 20 minutes before the 7 days of top
    risks began; the change ended 10 minutes inside them. Q1 is not a failure of the 7 days, so the change is:
    one failed change, +10: green, which says its SLOs were not judged (quiet has no traffic)."""
    lake, settings = estate_lake(tmp_path)
    edge = AS_OF - timedelta(days=7)
    q1 = deployment("argocd:quiet-prod:1", "argocd", "quiet-prod", edge - timedelta(minutes=20), "succeeded", "q1")
    write(lake, "deploys/deployment_events", q1)
    window = (edge - timedelta(hours=1), edge + timedelta(minutes=10))
    chg9 = change("9" * 32, "CHG9", CI_Q, window, "unsuccessful", edge - timedelta(days=1), edge + timedelta(hours=1))
    write(lake, "servicenow/changes", chg9)
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        assert one(mart(built, "mv_changes", "number = 'CHG9'"))["deployment_key"] == "argocd:quiet-prod:1"
        quiet = one(mart(built, "mv_monitoring_top_risks", "app_id = 'quiet'"))
    assert (quiet["failed_changes_7d"], quiet["score_failed_changes"]) == (1, 10)
    assert quiet["reasons"] == ["1 failed change(s) in 7 days", QUIET_SLOS_NOT_JUDGED]


def test_errors_without_requests_stay_out_of_an_hour_that_had_traffic(tmp_path: Path) -> None:
    """On the 19th at 02:00, shop-db (no request before 04:00) reports 7 errors, and SERVICE-A2, a second service
    of shop-api, reports 3 errors without a request, beside SERVICE-A's 1,000 requests and 1 error. Those 10
    errors have no requests behind them: shop-api's hour has 1 error, shop's hour 1 in 1,000, and shop's day keeps
    the estate's 124 errors in 34,000 requests."""
    lake, settings = estate_lake(tmp_path)
    entries = mapping()
    api = next(e for e in entries if e["entity_id"] == "shop-api")
    api["dynatrace_entity_selector"] = 'entityId("SERVICE-A","SERVICE-A2")'
    MappingStore(lake).apply(entries, actor="test", replace=True)
    at = t(19, 2)
    without_requests = [
        {"entity_id": "SERVICE-B", "hour": at, "request_count": 0.0, "error_count": 7.0},
        {"entity_id": "SERVICE-A2", "hour": at, "request_count": 0.0, "error_count": 3.0},
    ]
    write(lake, "dynatrace/service_metrics_hourly", *without_requests)
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        hours = mart(built, "mv_golden_signals_hourly", "app_id = 'shop' and hour = $at", at=at)
        day = one(mart(built, "mv_monitoring_app_day_summary", "app_id = 'shop' and day = $day", day=t(19).date()))
    by_level = {(h["level"], h["component_id"]): (h["requests"], h["errors"]) for h in hours}
    assert by_level[("component", "shop-api")] == (1000, 1)
    assert by_level[("application", None)] == (1000, 1)
    assert (day["requests"], day["errors"]) == (34_000, 124)
    assert day["availability"] == pytest.approx(1 - 124 / 34_000)


def test_a_latency_slo_needs_hours_of_latency_not_only_of_traffic(tmp_path: Path) -> None:
    """quiet-svc served 100 requests an hour, none failed, through the 7 days before AS_OF, but reported a p95
    (200 ms, under the threshold) and a p99 for one hour only. Its availability has the coverage it needs (168 of
    168 hours): met. Its latency SLIs rest on 1 hour of 168: 'insufficient data', for quiet and for its team t2
    (broken, the other application, reported no latency). In the top risks quiet is green, and says its latency SLO
    was not judged: its SLOs were not all judged (slos_judged_7d), which a green team would name."""
    lake, settings = estate_lake(tmp_path)
    hours = [AS_OF - timedelta(hours=h) for h in range(1, 169)]
    week = [{"entity_id": "SERVICE-Q", "hour": at, "request_count": 100.0, "error_count": 0.0} for at in hours]
    week[0] |= {"latency_p95_ms": 200.0, "latency_p99_ms": 300.0}
    write(lake, "dynatrace/service_metrics_hourly", *week)
    build(lake, settings, mode="full", as_of=AS_OF)
    where = "period = 'last_7d' and environment = 'production'"
    with reading(lake, settings) as built:
        quiet = one(mart(built, "mv_slo_app_period", f"{where} and app_id = 'quiet'"))
        team = one(mart(built, "mv_slo_group_period", f"{where} and level = 'team' and level_id = 't2'"))
        risk = one(mart(built, "mv_monitoring_top_risks", "app_id = 'quiet'"))
    assert (quiet["availability_status"], quiet["coverage"]) == ("met", 1.0)
    assert (quiet["latency_p95_sli"], quiet["latency_coverage"]) == (1.0, pytest.approx(1 / 168))
    assert (quiet["latency_p95_status"], quiet["latency_p99_status"]) == ("insufficient data", "insufficient data")
    assert team["latency_coverage"] == pytest.approx(1 / 168)
    assert (team["latency_p95_status"], team["latency_p99_status"]) == ("insufficient data", "insufficient data")
    assert (risk["health"], risk["slos_judged_7d"], risk["measured_hours_7d"]) == ("green", False, 168)
    assert risk["reasons"] == [
        "latency SLO not judged: latency reported in 1 of the 168 hours of the last 7 days, fewer than the 84 it needs"
    ]


def deploys_at(tmp_path: Path, **instants: list[datetime]) -> tuple[Lake, Settings]:
    """The estate, with each ArgoCD application named (quiet_prod for quiet-prod) deploying successfully at each
    of its instants, then built at AS_OF."""
    lake, settings = estate_lake(tmp_path)
    made = [
        deployment(f"argocd:{app}:{i}", "argocd", app, at, "succeeded", f"{app}-{i}")
        for name, ats in instants.items()
        for app in [name.replace("_", "-")]
        for i, at in enumerate(ats)
    ]
    write(lake, "deploys/deployment_events", *made)
    build(lake, settings, mode="full", as_of=AS_OF)
    return lake, settings


def quiet_deploys_on(tmp_path: Path, *days: datetime) -> tuple[Lake, Settings]:
    """The estate, with quiet-prod deploying once at noon on each of `days`, then built at AS_OF."""
    return deploys_at(tmp_path, quiet_prod=[day.replace(hour=12) for day in days])


def dora_group(built, level: str, level_id: str) -> dict:
    where = (
        "level = $level and level_id = $id and period = 'last_30d' and correlation_mode = 'full' "
        "and band_set = '2023' and environment = 'production'"
    )
    return one(mart(built, "mv_dora_group_period", where, level=level, id=level_id))


def test_thirty_deployments_on_one_day_are_not_daily(tmp_path: Path) -> None:
    """quiet deploys 30 times on the 19th, from 09:00 a minute apart. The last 30 days (21 October 10:00 to 20
    November 10:00) hold 30 whole days and 4 whole weeks, counted back from the end: the deployments fill 1 of
    the days (the second counted back, from the 18th 10:00 to the 19th 10:00) and 1 of the weeks, so neither
    daily nor weekly; the one 30-day block holds a deployment: monthly, 'medium'. 30 deployments, one a day on
    average, would have read as daily."""
    lake, settings = deploys_at(tmp_path, quiet_prod=[t(19, 9, m) for m in range(30)])
    with reading(lake, settings) as built:
        quiet = dora(built, "quiet")
    assert (quiet["deployment_frequency_numerator"], quiet["deploy_days"]) == (30, 1)
    assert quiet["deployment_frequency_per_day"] == pytest.approx(1.0)
    assert (quiet["days_with_deployments"], quiet["weeks_with_deployments"], quiet["months_with_deployments"]) == (
        1,
        1,
        1,
    )
    assert quiet["deployment_frequency_level"] == "medium"


def test_a_deployment_every_day_is_daily(tmp_path: Path) -> None:
    """quiet deploys at noon on each of the 30 days from 21 October to 19 November. Counted back from the end of
    the last 30 days (20 November 10:00), each day from 10:00 to 10:00 holds one noon: 30 of 30 days, 'elite'."""
    noons = [datetime(2026, 10, 21, 12, tzinfo=UTC) + timedelta(days=d) for d in range(30)]
    lake, settings = deploys_at(tmp_path, quiet_prod=noons)
    with reading(lake, settings) as built:
        quiet = dora(built, "quiet")
    assert (quiet["deployment_frequency_numerator"], quiet["deploy_days"]) == (30, 30)
    assert (quiet["days_with_deployments"], quiet["weeks_with_deployments"], quiet["months_with_deployments"]) == (
        30,
        5,
        1,
    )
    assert quiet["deployment_frequency_level"] == "elite"


def test_a_deployment_every_working_day_is_daily(tmp_path: Path) -> None:
    """quiet deploys at noon on each working day from Wednesday 21 October to Thursday 19 November: 22 of the 30
    days, none at a weekend. Daily asks for a deployment on 5 of every 7 days, as many as the 30 days hold working
    days at the fewest (5 in each of 4 whole weeks, and 2 days left over that may be a weekend: 20): 'elite', as a
    team deploying every working day is, though its weekends are quiet."""
    days = [datetime(2026, 10, 21, 12, tzinfo=UTC) + timedelta(days=d) for d in range(30)]
    working = [day for day in days if day.weekday() < 5]
    lake, settings = deploys_at(tmp_path, quiet_prod=working)
    with reading(lake, settings) as built:
        quiet = dora(built, "quiet")
    assert (quiet["deployment_frequency_numerator"], quiet["days_with_deployments"]) == (22, 22)
    assert quiet["deployment_frequency_level"] == "elite"


def test_four_deployments_in_the_first_week_of_30_days_are_not_weekly(tmp_path: Path) -> None:
    """quiet deploys at noon on 21, 22, 23 and 24 October, the first days of the last 30 days. Weeks counted back
    from 20 November 10:00: 23 October 10:00 to 30 October 10:00 is the fourth whole week (it holds the 23rd and
    24th), and the 2 days before it, from 21 October 10:00, a part week (the 21st and 22nd). 2 weeks with a
    deployment of the 4 whole weeks: not weekly, though 4 deployments are one per whole week; monthly, 'medium'."""
    lake, settings = quiet_deploys_on(tmp_path, *[datetime(2026, 10, d, tzinfo=UTC) for d in (21, 22, 23, 24)])
    with reading(lake, settings) as built:
        quiet = dora(built, "quiet")
    assert quiet["deployment_frequency_numerator"] == 4
    assert (quiet["weeks_with_deployments"], quiet["months_with_deployments"]) == (2, 1)
    assert quiet["deployment_frequency_level"] == "medium"


def test_a_groups_deployment_frequency_counts_the_weeks_any_of_its_applications_deployed(tmp_path: Path) -> None:
    """Weeks counted back from 20 November 10:00: the 1st holds 13 November noon, the 2nd 6 November, the 3rd 30
    October, the 4th 23 October. quiet deploys on 13 November and 30 October, broken on 6 November and 23 October:
    each fills 2 of the 4 weeks ('medium'), their team t2 all 4 ('high'). Group g1 holds shop (1 November, in the
    3rd week, and the 18th and 19th, in the 1st) and quiet: 6 deployments, more than one per whole week, but in the
    same 2 weeks. As calendar weeks, the part weeks at the two ends (from 21 October, and from 16 November) together
    one: the week of 26 October (30 October, 1 November), that of 9 November (the 13th) and the part weeks (the 18th
    and 19th), 3 of the 4 whole ones: 'medium' either way."""
    at_noon = [datetime(2026, m, d, 12, tzinfo=UTC) for m, d in ((11, 13), (10, 30), (11, 6), (10, 23))]
    lake, settings = deploys_at(tmp_path, quiet_prod=at_noon[:2], broken_prod=at_noon[2:])
    with reading(lake, settings) as built:
        quiet, broken = dora(built, "quiet"), dora(built, "broken")
        t2, g1 = dora_group(built, "team", "t2"), dora_group(built, "group", "g1")
    assert (quiet["weeks_with_deployments"], quiet["deployment_frequency_level"]) == (2, "medium")
    assert (broken["weeks_with_deployments"], broken["deployment_frequency_level"]) == (2, "medium")
    assert (t2["deployment_frequency_numerator"], t2["weeks_with_deployments"]) == (4, 4)
    assert t2["deployment_frequency_level"] == "high"
    assert (g1["deployment_frequency_numerator"], g1["weeks_with_deployments"]) == (6, 3)
    assert g1["deployment_frequency_level"] == "medium"


def test_a_weekly_deployer_is_graded_weekly_over_30_days(tmp_path: Path) -> None:
    """quiet deploys every Friday: 23 and 30 October, 6 and 13 November. The last 30 days (from 21 October at
    10:00) hold four whole weeks, counted back from 20 November 10:00, and each holds a Friday: once a week,
    'high', though 4 / 30 = 0.133 a day is under 1/7 (a strictly weekly deployer has 4 deployments in 5 of every
    7 such windows)."""
    fridays = [datetime(2026, 10, 23, tzinfo=UTC) + timedelta(weeks=w) for w in range(4)]
    lake, settings = quiet_deploys_on(tmp_path, *fridays)
    with reading(lake, settings) as built:
        quiet = dora(built, "quiet")
    assert quiet["deployment_frequency_numerator"] == 4
    assert quiet["deployment_frequency_per_day"] == pytest.approx(4 / 30)
    assert quiet["weeks_with_deployments"] == 4
    assert quiet["deployment_frequency_level"] == "high"


def test_a_monthly_deployer_is_graded_monthly_in_long_months_and_quarters(tmp_path: Path) -> None:
    """quiet deploys on the 15th of July, August, September and October. October (31 days) holds one deployment
    and the third quarter (92 days) three: once a month, 'medium', though 1/31 and 3/92 a day are under 1/30."""
    lake, settings = quiet_deploys_on(tmp_path, *[datetime(2026, m, 15, tzinfo=UTC) for m in (7, 8, 9, 10)])
    with reading(lake, settings) as built:
        month, quarter = dora(built, "quiet", period="previous_month"), dora(built, "quiet", period="previous_quarter")
    assert (month["deployment_frequency_numerator"], quarter["deployment_frequency_numerator"]) == (1, 3)
    assert month["deployment_frequency_per_day"] == pytest.approx(1 / 31)
    assert quarter["deployment_frequency_per_day"] == pytest.approx(3 / 92)
    assert (month["deployment_frequency_level"], quarter["deployment_frequency_level"]) == ("medium", "medium")


def test_a_deployment_at_the_first_instant_of_the_period_is_in_its_first_day(tmp_path: Path) -> None:
    """quiet deploys on the 13th at 10:00, the first instant of the last 7 days (13 November 10:00 to 20 November
    10:00), on the 14th at 09:00, and at 08:00 on the 18th, 19th and 20th. Counted back from the end, the days from
    10:00 to 10:00 holding a deployment are the 19th-20th, 18th-19th, 17th-18th and 13th-14th (both of its
    deployments): 4 of the 7 days, under the 5 daily asks for; the one whole week holds them all. Weekly, 'high'."""
    ats = [t(13, 10), t(14, 9), t(18, 8), t(19, 8), t(20, 8)]
    lake, settings = deploys_at(tmp_path, quiet_prod=ats)
    with reading(lake, settings) as built:
        quiet = dora(built, "quiet", period="last_7d")
    assert (quiet["deployment_frequency_numerator"], quiet["deploy_days"]) == (5, 5)
    assert (quiet["days_with_deployments"], quiet["weeks_with_deployments"], quiet["months_with_deployments"]) == (
        4,
        1,
        1,
    )
    assert quiet["deployment_frequency_level"] == "high"


def test_a_lake_younger_than_the_period_counts_deployments_over_the_days_it_read(tmp_path: Path) -> None:
    """The deploy ingest first read from 10 November 10:00, ten days before as_of. quiet deploys at noon on 1
    November (an older sync ArgoCD's history still listed) and on the 12th, 14th, 16th and 18th. Over the last 30
    days the lake knows only those ten days: 4 deployments (not the 1st's) in 10 days is 0.4 a day, where 5 / 30
    would say a sixth of that. Counted back from 20 November 10:00 the four fill weeks 1 (the 14th, 16th and 18th)
    and 2 (the 12th, 7 days 22 hours before the end): one whole week fits in 10 days, so weekly, 'high'; daily would
    need 6 of the days (5 in the whole week, and 1 of the 3 left over: 2 of them may be a weekend). The third
    quarter ended before the lake read any deployment: its deployment figures are 'insufficient data', not 'no
    deployments' and 'low'."""
    lake, settings = estate_lake(tmp_path)
    noons = [t(1, 12), t(12, 12), t(14, 12), t(16, 12), t(18, 12)]
    made = [
        deployment(f"argocd:q:{i}", "argocd", "quiet-prod", at, "succeeded", f"q-{i}") for i, at in enumerate(noons)
    ]
    write(lake, "deploys/deployment_events", *made)
    FirstReads(lake).record("deploys", "deployment_events", t(10, 10), run_id="first-run")
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        last_30d = dora(built, "quiet")
        quarter = dora(built, "quiet", period="previous_quarter")
    assert last_30d["deployments_from"] == t(10, 10)
    assert (last_30d["deployment_frequency_numerator"], last_30d["deployment_frequency_denominator_days"]) == (4, 10)
    assert last_30d["deployment_frequency_per_day"] == pytest.approx(0.4)
    assert (last_30d["days_with_deployments"], last_30d["weeks_with_deployments"]) == (4, 2)
    assert last_30d["deployment_frequency_level"] == "high"
    assert quarter["deployments_from"] == datetime(2026, 10, 1, tzinfo=UTC)
    assert quarter["deployment_frequency_denominator_days"] is None
    assert (quarter["deployment_frequency_per_day"], quarter["deployment_frequency_level"]) == (None, None)
    states = ("deployment_frequency_state", "change_failure_state", "recovery_state", "rework_state")
    assert [quarter[s] for s in states] == ["insufficient data"] * 4


def test_a_lake_younger_than_the_period_counts_lead_times_from_the_day_it_read_deployments(tmp_path: Path) -> None:
    """Lead time is a deployment metric: it counts the requests deployed from deployments_from on, as the frequency and
    the failure rate beside it do. The deploy ingest first read from 10 November 10:00; shop's requests shipped on the
    1st (merged 10:00, deployed 12:00: 2 h, a sync ArgoCD's history still listed), the 18th (06:00 to 08:30: 2.5 h)
    and the 19th (06:00 to 10:00: 4 h). Over the last 30 days and this month the lake counts the last two: median
    (2.5 + 4) / 2 = 3.25 h, p90 2.5 + 0.9 x 1.5 = 3.85 h, of 2."""
    lake, settings = estate_lake(tmp_path)
    FirstReads(lake).record("deploys", "deployment_events", t(10, 10), run_id="first-run")
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        for period in ("last_30d", "month"):
            shop = dora(built, "shop", period=period)
            assert shop["deployments_from"] == t(10, 10)
            assert (shop["lead_time_sample"], shop["lead_time_state"]) == (2, "ok"), period
            assert shop["lead_time_median_hours"] == pytest.approx(3.25)
            assert shop["lead_time_p90_hours"] == pytest.approx(3.85)


def test_a_failure_by_its_change_and_an_incident_is_not_recovered_until_a_deployment_follows(tmp_path: Path) -> None:
    """quiet-prod's Q1 succeeded on the 10th at 12:00; CHG3, covering it, closed unsuccessful, and INC9, caused by
    CHG3, opened at 13:00 and was restored at 15:00. No deployment follows Q1: restoring the incident does not
    recover the deployment, which needs the next successful one too. DORA for quiet: 1 change failure of 1, not
    recovered."""
    lake, settings = estate_lake(tmp_path)
    q1 = deployment("argocd:quiet-prod:1", "argocd", "quiet-prod", t(10, 12), "succeeded", "q1")
    write(lake, "deploys/deployment_events", q1)
    chg3 = change("3" * 32, "CHG3", CI_Q, (t(10, 11, 30), t(10, 12, 30)), "unsuccessful", t(9), t(10, 13))
    write(lake, "servicenow/changes", chg3)
    inc9 = incident("i9" * 16, "INC9", CI_Q, t(10, 13), 2, 6, resolved=t(10, 15), caused_by="3" * 32)
    write(lake, "servicenow/incidents", inc9)
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        first = one(mart(built, "mv_deployments", "deployment_key = 'argocd:quiet-prod:1'"))
        quiet = dora(built, "quiet")
    assert first["is_change_failure_full"] and first["incident_numbers_full"] == ["INC9"]
    assert (first["recovered_at_full"], first["recovered_at_light"]) == (None, None)
    assert (quiet["change_failure_numerator"], quiet["change_failure_denominator"]) == (1, 1)
    assert (quiet["recovery_state"], quiet["recovery_median_hours"], quiet["recovery_level"]) == (
        "not recovered",
        None,
        None,
    )


def test_a_deployment_failed_by_its_unsuccessful_change_recovers_with_the_next_success(tmp_path: Path) -> None:
    """quiet-prod's Q1 succeeded on the 10th at 12:00, but CHG3, covering it, closed unsuccessful: a change failure.
    Q2 succeeded on the 12th at 12:00: Q1 recovered 48 hours later. DORA for quiet over 30 days: 1 failure of 2
    deployments, one recovery of 48 h."""
    lake, settings = estate_lake(tmp_path)
    q1 = deployment("argocd:quiet-prod:1", "argocd", "quiet-prod", t(10, 12), "succeeded", "q1")
    q2 = deployment("argocd:quiet-prod:2", "argocd", "quiet-prod", t(12, 12), "succeeded", "q2")
    write(lake, "deploys/deployment_events", q1, q2)
    chg3 = change("3" * 32, "CHG3", CI_Q, (t(10, 11, 30), t(10, 12, 30)), "unsuccessful", t(9), t(10, 13))
    write(lake, "servicenow/changes", chg3)
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        first = one(mart(built, "mv_deployments", "deployment_key = 'argocd:quiet-prod:1'"))
        quiet = dora(built, "quiet")
    assert first["is_change_failure_full"] and first["recovered_at_full"] == t(12, 12)
    assert (quiet["change_failure_numerator"], quiet["change_failure_denominator"]) == (1, 2)
    assert quiet["recovery_sample"] == 1 and quiet["recovery_median_hours"] == pytest.approx(48.0)


def test_an_hour_with_traffic_and_no_error_count_had_no_errors(tmp_path: Path) -> None:
    """Dynatrace leaves an error count's slot empty when no error occurred. quiet-svc served 1,000 requests an
    hour for the five days before as_of, every error count empty: 100 % available over 7 days, 'met'. Domain
    d1, with shop's 34,000 requests and 124 errors, is (154,000 - 124) / 154,000."""
    lake, settings = estate_lake(tmp_path)
    hours = [
        {"entity_id": "SERVICE-Q", "hour": AS_OF - timedelta(hours=h), "request_count": 1000.0} for h in range(1, 121)
    ]
    write(lake, "dynatrace/service_metrics_hourly", *hours)
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        where = "period = 'last_7d' and environment = 'production'"
        quiet = one(mart(built, "mv_slo_app_period", f"{where} and app_id = 'quiet'"))
        d1 = one(mart(built, "mv_slo_group_period", f"{where} and level = 'domain' and level_id = 'd1'"))
    assert (quiet["availability"], quiet["availability_status"]) == (1.0, "met")
    assert d1["availability"] == pytest.approx((154_000 - 124) / 154_000)


def test_a_month_at_its_first_hour_is_no_data_not_a_division_by_zero(tmp_path: Path) -> None:
    """Built at 1 December 00:00, the month (and the quarter, since 1 October) have not begun: the month's SLO is
    'no data' with no coverage, and its DORA frequency is unknown, 'insufficient data'; nothing is NaN."""
    lake, settings = estate_lake(tmp_path)
    build(lake, settings, mode="full", as_of=datetime(2026, 12, 1, tzinfo=UTC))
    with reading(lake, settings) as built:
        slo = one(
            mart(built, "mv_slo_app_period", "period = 'month' and app_id = 'shop' and environment = 'production'")
        )
        shop = dora(built, "shop", period="month")
        nans = mart(built, "mv_slo_app_period", "isnan(coverage)") + mart(
            built, "mv_dora_app_period", "isnan(deployment_frequency_per_day)"
        )
    assert (slo["coverage"], slo["availability_status"]) == (None, "no data")
    assert (shop["deployment_frequency_per_day"], shop["deployment_frequency_state"]) == (None, "insufficient data")
    assert nans == []


def test_an_open_p1_or_a_deployment_in_14_days_is_evidence_not_no_data(tmp_path: Path) -> None:
    """quiet has no traffic and, in the hand-made estate, no events: 'no data'. A P1 on quiet-svc opened on the 1st
    (19 days before as_of) and still open makes it red; alone, a deployment of quiet-prod 10 days before as_of
    makes it green."""
    lake, settings = estate_lake(tmp_path)
    write(lake, "servicenow/incidents", incident("i7" * 16, "INC7", CI_Q, t(1, 9), 1, 2))
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        quiet = one(mart(built, "mv_monitoring_top_risks", "app_id = 'quiet'"))
    assert (quiet["health"], quiet["reasons"]) == ("red", ["1 open P1/P2 incident(s)"])

    lake, settings = estate_lake(tmp_path / "deployed")
    write(
        lake,
        "deploys/deployment_events",
        deployment("argocd:quiet-prod:x", "argocd", "quiet-prod", t(10, 9), "succeeded", "q1"),
    )
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        quiet = one(mart(built, "mv_monitoring_top_risks", "app_id = 'quiet'"))
    assert (quiet["health"], quiet["risk_score"]) == ("green", 0)


def test_top_risks_count_the_incidents_open_at_as_of(tmp_path: Path) -> None:
    """Both read when the build of 10:00 on the 20th runs, ahead of it: INC11, a P1 on quiet-svc opened at 09:00 and
    resolved at 10:30, was open at as_of; INC12, a P2 opened at 10:30 and still open, had not been opened yet. So
    quiet has one open P1/P2 at as_of, a P1: +20 and red, as its day of incidents says (one open at the end of the
    20th, which stops at as_of)."""
    lake, settings = estate_lake(tmp_path)
    inc11 = incident("ib" * 16, "INC11", CI_Q, t(20, 9), 1, 6, resolved=t(20, 10, 30))
    inc12 = incident("ic" * 16, "INC12", CI_Q, t(20, 10, 30), 2, 2)
    write(lake, "servicenow/incidents", inc11, inc12)
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        quiet = one(mart(built, "mv_monitoring_top_risks", "app_id = 'quiet'"))
        day = one(mart(built, "mv_incidents_app_day", "app_id = 'quiet' and day = $d", d=date(2026, 11, 20)))
    assert (day["open_end_of_day"], day["open_p1_p2_end_of_day"]) == (1, 1)
    assert (quiet["open_p1_p2"], quiet["score_open_incidents"], quiet["risk_score"]) == (1, 20, 20)
    assert (quiet["health"], quiet["reasons"]) == ("red", ["1 open P1/P2 incident(s)"])


def test_a_change_implemented_in_14_days_is_evidence_not_no_data(tmp_path: Path) -> None:
    """quiet has no traffic, no incident and no deployment, but CHG7, a successful standard change on quiet-svc,
    was implemented 3 days before as_of (the 17th, 09:00 to 10:00): an event in the 14 days, and no evidence of
    trouble, so green with a score of 0, not 'no data', saying that its SLOs were not judged."""
    lake, settings = estate_lake(tmp_path)
    chg7 = change("7" * 32, "CHG7", CI_Q, (t(17, 9), t(17, 10)), "successful", t(16), t(17, 11), "standard")
    write(lake, "servicenow/changes", chg7)
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        quiet = one(mart(built, "mv_monitoring_top_risks", "app_id = 'quiet'"))
    assert (quiet["health"], quiet["risk_score"], quiet["reasons"]) == ("green", 0, [QUIET_SLOS_NOT_JUDGED])


@pytest.mark.parametrize(
    ("served_days", "expected"),
    [
        (
            (7, 8, 9, 10),
            (20, 20, "orange", ["no traffic measured in the last 7 days (96,000 requests the 7 days before)"]),
        ),
        ((10,), (0, 0, "green", [QUIET_SLOS_NOT_JUDGED])),
        (
            (10, 17),
            (
                0,
                0,
                "green",
                [
                    "SLOs not judged: traffic measured in 24 of the 168 hours of the last 7 days, "
                    "fewer than the 84 they need"
                ],
            ),
        ),
        ((), (None, None, "no data", [])),
    ],
)
def test_an_application_whose_traffic_stopped_is_orange_not_green(
    tmp_path: Path, served_days: tuple[int, ...], expected: tuple[int | None, int | None, str, list[str]]
) -> None:
    """quiet-svc serves 1,000 requests an hour without an error through each of `served_days`. At 10:00 on the 20th
    the 7 days before the last 7 are [6th 10:00, 13th 10:00), the last 7 days [13th 10:00, 20th 10:00).
    - the 7th to the 10th: 96 hours of 168 with traffic the week before (over min_coverage, 0.5: a service that
      served), 96,000 requests, and none measured since; the application went dark, which is no reason for green:
      traffic lost, +20, orange. Nothing else scores (no SLO without traffic, no burn, no trend);
    - the 10th only: 24 hours of 168 the week before, under min_coverage: sparse traffic that stopped is not a
      service gone dark, nothing scores, green, and with no hour of traffic in the last 7 days its SLOs were not
      judged, which it says;
    - the 10th and the 17th: traffic in both weeks, 0 errors, 24 hours of 168 under min_coverage: nothing scores,
      and the SLOs not judged are said with the 24 hours;
    - neither: no traffic nor event in the 14 days, 'no data' as before, with no score (null, not 0)."""
    lake, settings = estate_lake(tmp_path)
    served_by_quiet(lake, [(t(day, h), 1_000.0, 0.0) for day in served_days for h in range(24)])
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        quiet = one(mart(built, "mv_monitoring_top_risks", "app_id = 'quiet'"))
    lost, score, health, reasons = expected
    assert (quiet["score_traffic_lost"], quiet["risk_score"], quiet["health"], quiet["reasons"]) == (
        lost,
        score,
        health,
        reasons,
    )


def test_group_slo_rows_carry_the_states_of_their_applications(built) -> None:
    """Over 30 days: team t1 (shop, 24 hours with traffic of 720) is 'insufficient data'; team t2 (quiet, no
    traffic) is 'no data'. Domain d1 holds both: quiet, idle, weighs nothing in the coverage, 24 / 720."""
    rows_ = mart(built, "mv_slo_group_period", "period = 'last_30d' and environment = 'production'")
    groups = {(r["level"], r["level_id"]): r for r in rows_}
    t1, t2, d1 = groups[("team", "t1")], groups[("team", "t2")], groups[("domain", "d1")]
    assert (t1["availability_status"], t1["latency_p95_status"]) == ("insufficient data", "insufficient data")
    assert (t2["availability_status"], t2["latency_p95_status"]) == ("no data", "no data")
    assert d1["coverage"] == pytest.approx(24 / 720) and d1["availability_status"] == "insufficient data"


def test_a_group_slo_shows_the_hours_its_coverage_is_the_share_of(built) -> None:
    """Over 30 days, domain d1 holds shop (24 hours with traffic) and quiet (idle). Its coverage is 24 / 720: quiet
    weighs nothing, so the row's expected hours are shop's 720, not 2 x 720, and with one application with traffic
    measured / expected is the coverage shown beside them."""
    d1 = one(
        mart(
            built,
            "mv_slo_group_period",
            "level = 'domain' and level_id = 'd1' and period = 'last_30d' and environment = 'production'",
        )
    )
    assert (d1["measured_hours"], d1["expected_hours"]) == (24, 720)
    assert d1["coverage"] == pytest.approx(d1["measured_hours"] / d1["expected_hours"])


def test_group_rollups_are_weighted_by_events(built) -> None:
    team = one(
        mart(
            built,
            "mv_dora_group_period",
            "level = 'team' and level_id = 't2' and period = 'last_30d' and correlation_mode = 'full' "
            "and band_set = '2023' and environment = 'production'",
        )
    )
    # t2 = quiet (no deployments) + broken (2 failed attempts): 2 failures of 2 attempts.
    assert (team["change_failure_numerator"], team["change_failure_denominator"], team["applications"]) == (2, 2, 2)
    domain = one(
        mart(
            built,
            "mv_slo_group_period",
            "level = 'domain' and level_id = 'd1' and period = 'last_30d' and environment = 'production'",
        )
    )
    assert domain["availability_denominator"] == 34_000 and domain["availability"] == pytest.approx(1 - 124 / 34_000)
    assert domain["bad_requests"] == 124
    # The domain's day: shop's 24 hours with traffic on the 19th (quiet had none) are the sample behind it.
    day = one(mart(built, "mv_monitoring_domain_day_summary", "domain = 'd1' and day = $day", day=t(19).date()))
    assert (day["requests"], day["errors"], day["measured_hours"]) == (34_000, 124, 24)


def test_a_group_spending_its_budget_to_the_last_request_meets_its_target(tmp_path: Path) -> None:
    """g1 over the last 7 days, both applications at the default 99.5 %: shop's 34,000 requests of the 19th, 124
    bad; quiet 495,000 requests an hour for the 150 hours before as_of, 2,475 bad an hour (0.5 %) and 46 more in
    the last: 74,250,000 requests, 371,296 bad. g1: 74,284,000 requests, budget 0.005 x 74,284,000 = 371,420 = 124
    + 371,296 bad: consumed 1, remaining 0, availability 73,912,580 / 74,284,000 = 99.5 % exactly, the target (its
    applications' 99.5 % whatever their weights), with coverage (24 + 150) / 336 hours: met. quiet's weight
    0.995 x 74,250,000 = 73,878,750 turned into a 12-decimal number through binary floating point reads
    73,878,750.000000008, which made the target a hair over 99.5 % and the group breached with nothing overspent."""
    lake, settings = estate_lake(tmp_path)
    hours = [(AS_OF - timedelta(hours=h), 495_000.0, 2_475.0 + (46 if h == 1 else 0)) for h in range(1, 151)]
    served_by_quiet(lake, hours)
    build(lake, settings, mode="full", as_of=AS_OF)
    where = "period = 'last_7d' and environment = 'production' and level = 'group' and level_id = 'g1'"
    with reading(lake, settings) as built:
        g1 = one(mart(built, "mv_slo_group_period", where))
    assert (g1["availability_denominator"], g1["bad_requests"], g1["measured_hours"]) == (74_284_000, 371_420, 174)
    assert g1["error_budget_allowed"] == 371_420
    assert (g1["error_budget_consumed"], g1["error_budget_remaining"]) == (1, 0)
    assert (g1["availability"], g1["availability_target"]) == (0.995, 0.995)
    assert g1["availability_status"] == "met"


def test_ratios_of_counts_are_the_nearest_double_to_the_exact_ratio(tmp_path: Path) -> None:
    """quiet-svc served 1,200 requests at 09:00 on the 20th, 26 of them failed; shop's 34,000 requests of the 19th had
    124. quiet: availability 1,174 / 1,200 on its day (the domain's day too, shop had no traffic then) and over the
    last 7 days; its budget 0.5 % x 1,200 = 6, overspent: (6 - 26) / 6 remains. g1 over 7 days: 35,200 requests,
    budget 176, 150 spent: (176 - 150) / 176 remains. Computed as 1 - 26 / 1,200 and 1 - 26 / 6, two roundings
    made 0.9783333333333334 read 0.9783333333333333 and -3.3333333333333335 read -3.333333333333333."""
    lake, settings = estate_lake(tmp_path)
    served_by_quiet(lake, [(AS_OF - timedelta(hours=1), 1_200.0, 26.0)])
    build(lake, settings, mode="full", as_of=AS_OF)
    last_7d = "period = 'last_7d' and environment = 'production'"
    with reading(lake, settings) as built:
        quiet_day = one(mart(built, "mv_monitoring_app_day_summary", "app_id = 'quiet' and day = $d", d=t(20).date()))
        domain_day = one(mart(built, "mv_monitoring_domain_day_summary", "domain = 'd1' and day = $d", d=t(20).date()))
        risk = one(mart(built, "mv_monitoring_top_risks", "app_id = 'quiet'"))
        quiet = one(mart(built, "mv_slo_app_period", f"{last_7d} and app_id = 'quiet'"))
        g1 = one(mart(built, "mv_slo_group_period", f"{last_7d} and level = 'group' and level_id = 'g1'"))
    assert quiet_day["availability"] == domain_day["availability"] == risk["availability_7d"] == 1_174 / 1_200
    assert (quiet["error_budget_allowed"], quiet["bad_requests"]) == (6, 26)
    assert quiet["error_budget_remaining"] == (6 - 26) / 6
    assert (g1["error_budget_allowed"], g1["bad_requests"]) == (176, 150)
    assert g1["error_budget_remaining"] == (176 - 150) / 176


def test_a_corrected_mapping_reattributes_history(tmp_path: Path) -> None:
    lake, settings = estate_lake(tmp_path, db_ci=CI_WRONG)  # shop-db mapped to the wrong CI at first
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        incidents = {r["number"] for r in mart(built, "mv_incidents")}
        assert "INC2" not in incidents
        write_estate(lake, db_ci="b" * 32)  # corrected: a new mapping version
        result = build(lake, settings, mode="hourly", as_of=AS_OF)
        # A new mapping version forces a full rebuild.
        assert (result.mode, result.full_because) == ("full", "mapping version 2 (was 1)")
        inc2 = one(mart(built, "mv_incidents", "number = 'INC2'"))
        assert (inc2["app_id"], inc2["component_id"]) == ("shop", "shop-db")
        backlog = one(mart(built, "mv_incidents_app_day", "app_id = 'shop' and day = $d", d=date(2026, 11, 18)))
        assert backlog["open_end_of_day"] == 1


def problem(problem_id: str, root_cause: str, start: datetime, end: datetime) -> dict[str, Any]:
    """A closed Dynatrace problem rooted in the Dynatrace entity root_cause, affecting it alone."""
    return {
        "problem_id": problem_id,
        "display_id": f"P-{problem_id}",
        "title": "Failure rate increase",
        "status": "CLOSED",
        "severity_level": "ERROR",
        "impact_level": "SERVICES",
        "start_time": start,
        "end_time": end,
        "root_cause_entity_id": root_cause,
        "affected_entity_ids": [root_cause],
    }


def test_a_dynatrace_root_cause_links_an_incident_to_the_deployment_just_before_the_problem(tmp_path: Path) -> None:
    """quiet-svc (Dynatrace SERVICE-Q) is deployed at 08:00 on the 15th; a problem rooted in it starts at 10:00,
    within the 4-hour window, and an incident on its CI opens at 11:00 while the problem is open. Another problem
    rooted in it starts on the 17th, two days after that deployment: its incident is linked to nothing."""
    lake, settings = estate_lake(tmp_path)
    write(
        lake,
        "deploys/deployment_events",
        deployment("argocd:quiet-prod:1", "argocd", "quiet-prod", t(15, 8), "succeeded", "q1"),
    )
    write(
        lake,
        "dynatrace/problems",
        problem("1", "SERVICE-Q", t(15, 10), t(15, 12)),
        problem("2", "SERVICE-Q", t(17, 9), t(17, 11)),
    )
    write(
        lake,
        "servicenow/incidents",
        incident("i9" * 16, "INC9", CI_Q, t(15, 11), 2, 6, t(15, 13)),
        incident("ia" * 16, "INC10", CI_Q, t(17, 10), 2, 6, t(17, 12)),
    )
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        links = mart(built, "mv_incident_links", "correlation_mode = 'full' and app_id = 'quiet'")
    # The same-component window (0.50) holds too; full mode keeps the more confident root cause (0.80).
    assert [(r["incident_number"], r["rule"], r["confidence"], r["deployment_key"]) for r in links] == [
        ("INC9", "dynatrace_root_cause", 0.80, "argocd:quiet-prod:1")
    ]
    assert links[0]["hours_after_deployment"] == pytest.approx(3.0)


def test_light_and_full_modes_count_change_failures_each_by_its_own_links(tmp_path: Path) -> None:
    """INC4 opens on shop-db's CI at 14:00 on the 19th, an hour after shop-api's rollback D3 and 29.5 hours after
    shop-db's last deployment G2. Full mode needs the same component within 4 hours: no link. Light mode takes
    the application's last deployment within 24 hours that is no rollback (D3 is the fix of D2's outage): D2, 4 hours
    before it, which then recovers only when INC4 is restored, in light mode only."""
    lake, settings = estate_lake(tmp_path)
    write(lake, "servicenow/incidents", incident("i4" * 16, "INC4", CI_DB, t(19, 14), 3, 6, t(19, 15)))
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        full, light = dora(built, "shop", "full"), dora(built, "shop", "light")
    # Full: D2 (INC1 through CHG1, and rolled back) and G1 (failed), of five attempts, as without INC4.
    assert (full["change_failure_numerator"], full["change_failure_denominator"]) == (2, 5)
    # Recovery: G1 -> G2 1.5 h, D2 -> 3 h.
    assert full["recovery_sample"] == 2 and full["recovery_median_hours"] == pytest.approx(2.25)
    # Light: the same two; D2 recovers when INC4 is restored (15:00), 5 h after it. Median of 1.5 and 5 hours.
    assert (light["change_failure_numerator"], light["change_failure_denominator"]) == (2, 5)
    assert light["change_failure_rate"] == pytest.approx(0.4)
    assert light["recovery_sample"] == 2 and light["recovery_median_hours"] == pytest.approx(3.25)
    # Time to restore counts every restored incident whatever the mode: INC1 2 h, INC3 1 h, INC4 1 h.
    for figures in (full, light):
        assert figures["mttr_sample"] == 3 and figures["mttr_median_hours"] == pytest.approx(1.0)


def test_of_two_deployments_finished_at_the_same_instant_an_incident_links_to_the_smaller_key(tmp_path: Path) -> None:
    """Two quiet-prod deployments finish at 08:00 on the 15th; INC6 opens on quiet-svc at 09:00. Its window links,
    in both modes, go to one deployment, the same in every build: the smaller key."""
    lake, settings = estate_lake(tmp_path)
    write(
        lake,
        "deploys/deployment_events",
        deployment("argocd:quiet-prod:b", "argocd", "quiet-prod", t(15, 8), "succeeded", "q2"),
        deployment("argocd:quiet-prod:a", "argocd", "quiet-prod", t(15, 8), "succeeded", "q1"),
    )
    write(lake, "servicenow/incidents", incident("i6" * 16, "INC6", CI_Q, t(15, 9), 3, 6, t(15, 10)))
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        links = mart(built, "mv_incident_links", "incident_number = 'INC6' order by correlation_mode")
        latest = one(mart(built, "mv_deployments_latest", "component_id = 'quiet-svc'"))
    assert [(r["correlation_mode"], r["rule"], r["deployment_key"]) for r in links] == [
        ("full", "same_component_window", "argocd:quiet-prod:a"),
        ("light", "same_app_window", "argocd:quiet-prod:a"),
    ]
    # The latest attempt is the last in the component's sequence (finish time, then key): b, with b's own
    # revision, never one field from each.
    assert (latest["deployment_key"], latest["revision"]) == ("argocd:quiet-prod:b", "q2")


def test_applications_mapped_directly_each_have_their_own_deployment_sequence(tmp_path: Path) -> None:
    """Two applications mapped directly (no components): mono (ArgoCD mono-prod) and solo (ArgoCD solo-prod,
    GitLab project 21). On the 5th: M1 09:00 (mono), S1 09:30 (solo), M2 10:00 (mono, a rollback); on the 6th:
    S2 08:00 fails, S3 09:00 succeeds. MR 7 on project 21 is merged at 09:00 on the 5th.
    Each application's sequence is its own: M2 rolls back M1, not S1, which only stands between them in time."""
    lake, settings = estate_lake(tmp_path)
    direct = [
        {"entity_id": "mono", "kind": "application", "team": "t3", "domain": "d3", "argocd_app_name": "mono-prod"},
        SOLO,
    ]
    MappingStore(lake).apply([*mapping(), *direct], actor="test", replace=True)
    write(
        lake,
        "deploys/deployment_events",
        deployment("argocd:mono-prod:1", "argocd", "mono-prod", t(5, 9), "succeeded", "m1"),
        deployment("argocd:solo-prod:1", "argocd", "solo-prod", t(5, 9, 30), "succeeded", "s1"),
        deployment("argocd:mono-prod:2", "argocd", "mono-prod", t(5, 10), "succeeded", "m0", rollback=True),
        deployment("argocd:solo-prod:2", "argocd", "solo-prod", t(6, 8), "failed", "s2"),
        deployment("argocd:solo-prod:3", "argocd", "solo-prod", t(6, 9), "succeeded", "s2"),
    )
    write(lake, "gitlab/merge_requests", {"mr_id": 7, "project_id": 21, "merged_at": t(5, 9), "updated_at": t(5, 9)})
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        flags = {
            r["deployment_key"]: (r["rolled_back"], r["recovered_at_full"])
            for r in mart(built, "mv_deployments", "app_id in ('mono', 'solo')")
        }
        lead = one(mart(built, "mv_lead_times", "mr_id = 7"))
        mono, solo = dora(built, "mono"), dora(built, "solo")
    assert flags == {
        "argocd:mono-prod:1": (True, t(5, 10)),  # rolled back by M2, which recovers it
        "argocd:mono-prod:2": (False, None),
        "argocd:solo-prod:1": (False, None),
        "argocd:solo-prod:2": (False, t(6, 9)),  # failed; S3 recovers it an hour later
        "argocd:solo-prod:3": (False, None),
    }
    # MR 7 ships with solo's first deployment after its merge: S1, half an hour later.
    assert (lead["deployment_key"], lead["lead_time_hours"]) == ("argocd:solo-prod:1", pytest.approx(0.5))
    # mono: M1 of two attempts failed, recovered in 1 h. solo: S2 of three, recovered in 1 h.
    assert (mono["change_failure_numerator"], mono["change_failure_denominator"]) == (1, 2)
    assert (solo["change_failure_numerator"], solo["change_failure_denominator"]) == (1, 3)
    for figures in (mono, solo):
        assert figures["recovery_sample"] == 1 and figures["recovery_median_hours"] == pytest.approx(1.0)
    assert solo["lead_time_sample"] == 1 and solo["lead_time_median_hours"] == pytest.approx(0.5)


def test_a_monorepo_mapped_on_its_application_ships_with_any_of_its_components(tmp_path: Path) -> None:
    """mono is one repository with two components: GitLab project 31 is mapped on the application, and each
    component has its own ArgoCD app (mono-web-prod, mono-jobs-prod); mono-web has a project of its own too (33).
    On the 5th: W1 (web) 09:00, J1 (jobs) 11:30, W2 (web) 12:00.
    MR 31 (project 31) merged 07:00 ships with W1: 2 h. MR 32 (project 31) merged 10:00 ships with J1: 1.5 h.
    MR 33 (project 33) merged 10:30 ships with web's next deployment, W2, as before (J1 is another component's):
    1.5 h. mono and its team: 3 requests, median of 2, 1.5 and 1.5 h = 1.5 h."""
    lake, settings = estate_lake(tmp_path)
    mono = [
        {"entity_id": "mono", "kind": "application", "team": "t3", "domain": "d3", "gitlab_project_id": 31},
        {
            "entity_id": "mono-web",
            "kind": "component",
            "application_id": "mono",
            "argocd_app_name": "mono-web-prod",
            "gitlab_project_id": 33,
        },
        {
            "entity_id": "mono-jobs",
            "kind": "component",
            "application_id": "mono",
            "argocd_app_name": "mono-jobs-prod",
        },
    ]
    MappingStore(lake).apply([*mapping(), *mono], actor="test", replace=True)
    write(
        lake,
        "deploys/deployment_events",
        deployment("argocd:mono-web-prod:1", "argocd", "mono-web-prod", t(5, 9), "succeeded", "w1"),
        deployment("argocd:mono-jobs-prod:1", "argocd", "mono-jobs-prod", t(5, 11, 30), "succeeded", "j1"),
        deployment("argocd:mono-web-prod:2", "argocd", "mono-web-prod", t(5, 12), "succeeded", "w2"),
    )
    merged = {31: (31, t(5, 7)), 32: (31, t(5, 10)), 33: (33, t(5, 10, 30))}
    write(
        lake,
        "gitlab/merge_requests",
        *(
            {"mr_id": i, "project_id": project, "merged_at": at, "updated_at": at}
            for i, (project, at) in merged.items()
        ),
    )
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        leads = {
            (r["mr_id"], r["component_id"]): (r["deployment_key"], r["lead_time_hours"])
            for r in mart(built, "mv_lead_times", "mr_id in (31, 32, 33)")
        }
        figures = [dora(built, "mono"), dora_group(built, "team", "t3")]
    assert leads == {
        (31, None): ("argocd:mono-web-prod:1", pytest.approx(2.0)),
        (32, None): ("argocd:mono-jobs-prod:1", pytest.approx(1.5)),
        (33, "mono-web"): ("argocd:mono-web-prod:2", pytest.approx(1.5)),
    }
    for f in figures:
        assert f["lead_time_sample"] == 3 and f["lead_time_median_hours"] == pytest.approx(1.5)


def shipped_by(lake: Lake, settings: Settings, mr_ids: list[int]) -> dict[int, tuple[str, Any, str]]:
    """A full build as of AS_OF, then each merge request's shipping deployment, lead time and match rule."""
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        return {
            r["mr_id"]: (r["deployment_key"], r["lead_time_hours"], r["match_rule"])
            for r in mart(built, "mv_lead_times", "list_contains($ids, mr_id)", ids=mr_ids)
        }


def merged_and_listed(lake: Lake, project: int, merged: dict[int, datetime], listed: dict[int, list[int]]) -> None:
    """The merge requests of a GitLab project, merged at `merged[mr_id]`, and the requests GitLab lists in each of
    its deployments (`listed[deployment_id]`)."""
    write(
        lake,
        "gitlab/merge_requests",
        *({"mr_id": i, "project_id": project, "merged_at": at, "updated_at": at} for i, at in merged.items()),
    )
    write(
        lake,
        "gitlab/deployment_merge_requests",
        *(
            {"deployment_id": deployment_id, "project_id": project, "mr_id": i, "merged_at": merged[i]}
            for deployment_id, mr_ids in listed.items()
            for i in mr_ids
        ),
    )


def test_a_merge_request_ships_with_the_deployment_gitlab_lists_it_in(tmp_path: Path) -> None:
    """shop-db (GitLab project 12) on the 19th: MR 4 and MR 5 merged at 07:00, MR 6 at 06:00. G4 at 08:00 deploys
    an older revision and GitLab lists MR 6 only; G5 at 12:00 lists MR 4; G6 at 13:00 lists nothing (its list was
    not fetched). MR 4 ships with G5: 5 h, though G4 came first. MR 5 is in no list: the first deployment after
    its merge whose list is unknown is G6, 6 h (G4 and G5 list other requests). MR 6 ships with G4: 2 h."""
    lake, settings = estate_lake(tmp_path)
    write(
        lake,
        "deploys/deployment_events",
        deployment("gitlab:104", "gitlab", "12", t(19, 8), "succeeded", "s0"),
        deployment("gitlab:105", "gitlab", "12", t(19, 12), "succeeded", "s4"),
        deployment("gitlab:106", "gitlab", "12", t(19, 13), "succeeded", "s5"),
    )
    merged_and_listed(lake, 12, {4: t(19, 7), 5: t(19, 7), 6: t(19, 6)}, {104: [6], 105: [4]})
    leads = shipped_by(lake, settings, [4, 5, 6])
    assert leads == {
        4: ("gitlab:105", pytest.approx(5.0), "deployment link"),
        5: ("gitlab:106", pytest.approx(6.0), "first deployment after merge"),
        6: ("gitlab:104", pytest.approx(2.0), "deployment link"),
    }


def test_only_merge_requests_into_a_branch_the_project_deploys_from_get_a_lead_time(tmp_path: Path) -> None:
    """shop-db (GitLab project 12) deploys from main: G4 at 08:00 and G5 at 12:00 on the 19th, both of ref main.
    MR 4 into main, merged 07:00, ships with G4: 1 h. MR 5 into feature/cart, merged 07:00, ships nothing itself:
    no lead time (before: G4, 1 h). MR 6, merged 09:00 with no target branch known, counts: G5, 3 h.
    shop-api (project 11) is deployed by ArgoCD: its branches are unknown, so MR 8 into feature/x, merged 08:00 on
    the 19th, still ships with its next deployment (10:00): 2 h."""
    lake, settings = estate_lake(tmp_path)
    write(
        lake,
        "deploys/deployment_events",
        deployment("gitlab:104", "gitlab", "12", t(19, 8), "succeeded", "s4"),
        deployment("gitlab:105", "gitlab", "12", t(19, 12), "succeeded", "s6"),
    )
    write(
        lake,
        "gitlab/deployments",
        *(
            {
                "deployment_id": i,
                "project_id": 12,
                "environment": "production",
                "status": "success",
                "ref": "main",
                "sha": sha,
                "created_at": at - timedelta(minutes=5),
                "updated_at": at,
                "finished_at": at,
            }
            for i, sha, at in ((104, "s4", t(19, 8)), (105, "s6", t(19, 12)))
        ),
    )
    merged = {
        4: (12, "main", t(19, 7)),
        5: (12, "feature/cart", t(19, 7)),
        6: (12, None, t(19, 9)),
        8: (11, "feature/x", t(19, 8)),
    }
    write(
        lake,
        "gitlab/merge_requests",
        *(
            {"mr_id": i, "project_id": project, "target_branch": branch, "merged_at": at, "updated_at": at}
            for i, (project, branch, at) in merged.items()
        ),
    )
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        leads = {
            r["mr_id"]: (r["deployment_key"], r["lead_time_hours"])
            for r in mart(built, "mv_lead_times", "mr_id in (4, 5, 6, 8)")
        }
    assert leads == {
        4: ("gitlab:104", pytest.approx(1.0)),
        6: ("gitlab:105", pytest.approx(3.0)),
        8: ("argocd:shop-api-prod:2", pytest.approx(2.0)),
    }


def test_a_project_deployed_by_argocd_counts_the_requests_into_its_default_branch(tmp_path: Path) -> None:
    """shop-api (GitLab project 11) is deployed by ArgoCD, next at 10:00 on the 19th; its default branch is main.
    MR 9 into main, merged 08:00, ships with it: 2 h. MR 8 into feature/x, merged 08:00 too, ships nothing itself:
    no lead time (before: 2 h as well)."""
    lake, settings = estate_lake(tmp_path)
    merged = {8: "feature/x", 9: "main"}
    write(
        lake,
        "gitlab/merge_requests",
        *(
            {
                "mr_id": i,
                "project_id": 11,
                "target_branch": branch,
                "default_branch": "main",
                "merged_at": t(19, 8),
                "updated_at": t(19, 8),
            }
            for i, branch in merged.items()
        ),
    )
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        leads = {
            r["mr_id"]: (r["deployment_key"], r["lead_time_hours"])
            for r in mart(built, "mv_lead_times", "mr_id in (8, 9)")
        }
    assert leads == {9: ("argocd:shop-api-prod:2", pytest.approx(2.0))}


def handed_off(lake: Lake) -> None:
    """shop-api is deployed by ArgoCD (shop-api-prod) and built by GitLab project 11, whose pipeline also records
    GitLab deployments to production: G202 failed at 09:40 on the 19th, G201 succeeded at 09:50 and G203 at 10:30.
    GitLab lists MR 4 (merged 07:00) in G201 and MR 5 (merged 09:00) in G203."""
    write(
        lake,
        "deploys/deployment_events",
        deployment("gitlab:202", "gitlab", "11", t(19, 9, 40), "failed", "c4"),
        deployment("gitlab:201", "gitlab", "11", t(19, 9, 50), "succeeded", "c4"),
        deployment("gitlab:203", "gitlab", "11", t(19, 10, 30), "succeeded", "c5"),
    )
    merged_and_listed(lake, 11, {4: t(19, 7), 5: t(19, 9)}, {201: [4], 203: [5]})


def test_a_gitlab_deployment_of_a_component_argocd_deploys_is_a_hand_off_not_a_deployment(tmp_path: Path) -> None:
    """shop-api's releases are ArgoCD's syncs: D1 (1st), D2 (19th 10:00) and the rollback D3 (19th 13:00). GitLab's
    G201, G202 and G203 to the same environment are its pipeline handing the release to ArgoCD: counted, each
    release would count twice. So shop's 19th has 2 deployments (D2, D3) and 1 change failure (D2, rolled back),
    not 4 and 2 (G201 and G203 succeeded, G202 failed). shop-db, which no ArgoCD application deploys, keeps its
    GitLab deployments G1 and G2."""
    lake, settings = estate_lake(tmp_path)
    handed_off(lake)
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        keys: dict[str, list[str]] = {}
        for r in sorted(mart(built, "mv_deployments"), key=lambda r: r["deployment_key"]):
            keys.setdefault(r["component_id"], []).append(r["deployment_key"])
        day = one(mart(built, "mv_monitoring_app_day_summary", "app_id = 'shop' and day = $d", d=t(19).date()))
    assert keys["shop-api"] == ["argocd:shop-api-prod:1", "argocd:shop-api-prod:2", "argocd:shop-api-prod:3"]
    assert keys["shop-db"] == ["gitlab:101", "gitlab:102"]
    assert (day["deployments"], day["deployment_change_failures"]) == (2, 1)


def test_gitlab_deploys_a_component_until_argocd_first_does(tmp_path: Path) -> None:
    """shop-api moved to GitOps: GitLab deployed it itself until ArgoCD's first sync of it, D1 (1 Nov, 12:00). G190 (31
    Oct, 09:00, 27 h before) is one of its deployments. G191 (1 Nov, 10:00) is the hand-off of the release D1 synced
    two hours later: from a day before ArgoCD's first deployment on, GitLab's are hand-offs, as are G201, G202 and
    G203 on the 19th. shop-db's mapping names an ArgoCD application that has never deployed (shop-db-prod): nothing
    says ArgoCD took it over, and GitLab's G1 and G2 stay its deployments."""
    lake, settings = estate_lake(tmp_path)
    handed_off(lake)
    write(
        lake,
        "deploys/deployment_events",
        deployment("gitlab:190", "gitlab", "11", datetime(2026, 10, 31, 9, tzinfo=UTC), "succeeded", "c0"),
        deployment("gitlab:191", "gitlab", "11", t(1, 10), "succeeded", "r1"),
    )
    entries = [e | {"argocd_app_name": "shop-db-prod"} if e["entity_id"] == "shop-db" else e for e in mapping()]
    MappingStore(lake).apply(entries, actor="test", replace=True)
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        keys: dict[str, list[str]] = {}
        for r in sorted(mart(built, "mv_deployments"), key=lambda r: r["deployment_key"]):
            keys.setdefault(r["component_id"], []).append(r["deployment_key"])
    assert keys["shop-api"] == [
        "argocd:shop-api-prod:1",
        "argocd:shop-api-prod:2",
        "argocd:shop-api-prod:3",
        "gitlab:190",
    ]
    assert keys["shop-db"] == ["gitlab:101", "gitlab:102"]


def test_a_request_handed_off_to_argocd_ships_with_the_sync_after_its_hand_off(tmp_path: Path) -> None:
    """MR 4, merged 07:00 on the 19th and handed off in G201 at 09:50, ships with ArgoCD's next sync, D2 at 10:00:
    3 h, by 'gitops hand-off' (not G201 itself, 2 h 50 min: it ran nothing). MR 5, merged 09:00 and handed off in
    G203 at 10:30, is not deployed yet: the only sync after 10:30 is the rollback D3 (13:00), which ships nothing, and
    D2 at 10:00 came before its hand-off (taken as the first deployment after its merge, it would be 1 h). MR 1,
    merged 06:00 and in no GitLab list, takes the first sync after its merge, D2: 4 h."""
    lake, settings = estate_lake(tmp_path)
    handed_off(lake)
    leads = shipped_by(lake, settings, [1, 4, 5])
    assert leads == {
        1: ("argocd:shop-api-prod:2", pytest.approx(4.0), "first deployment after merge"),
        4: ("argocd:shop-api-prod:2", pytest.approx(3.0), "gitops hand-off"),
    }


def test_a_sync_started_before_the_merge_does_not_ship_a_request_handed_off_after_it(tmp_path: Path) -> None:
    """MR 9 (project 11) is merged at 09:59 on the 19th and handed off to ArgoCD in G204, finished 09:59. ArgoCD's
    D2, the first sync to finish after the hand-off (10:00), started at 09:58, before the merge: it ran the release
    G201 handed off. The next sync, the rollback D3 (13:00), ships nothing; D4 (r9, 14:00) ships MR 9: lead time
    14:00 - 09:59 = 4 h 1 min, by 'gitops hand-off'. MR 4 (merged 07:00, handed off in G201) still ships with D2."""
    lake, settings = estate_lake(tmp_path)
    handed_off(lake)
    write(
        lake,
        "deploys/deployment_events",
        deployment("gitlab:204", "gitlab", "11", t(19, 9, 59), "succeeded", "c9"),
        deployment("argocd:shop-api-prod:4", "argocd", "shop-api-prod", t(19, 14), "succeeded", "r9"),
    )
    merged_and_listed(lake, 11, {9: t(19, 9, 59)}, {204: [9]})
    assert shipped_by(lake, settings, [4, 9]) == {
        4: ("argocd:shop-api-prod:2", pytest.approx(3.0), "gitops hand-off"),
        9: ("argocd:shop-api-prod:4", pytest.approx(4 + 1 / 60), "gitops hand-off"),
    }


def test_a_project_handing_off_to_argocd_deploys_from_the_branches_it_hands_off_from(tmp_path: Path) -> None:
    """shop-api's pipeline hands off from main (G201, 09:50 on the 19th, ref main). MR 6 into feature/y, merged
    08:00, ships nothing itself: no lead time (were the hand-offs left out of the project's branches, none would be
    known and it would count, with ArgoCD's D2 at 10:00: 2 h). MR 4 into main, handed off in G201, ships with D2."""
    lake, settings = estate_lake(tmp_path)
    handed_off(lake)
    handoff = {
        "deployment_id": 201,
        "project_id": 11,
        "environment": "production",
        "status": "success",
        "ref": "main",
        "sha": "c4",
        "created_at": t(19, 9, 45),
        "updated_at": t(19, 9, 50),
        "finished_at": t(19, 9, 50),
    }
    write(lake, "gitlab/deployments", handoff)
    merged = {4: ("main", t(19, 7)), 6: ("feature/y", t(19, 8))}
    write(
        lake,
        "gitlab/merge_requests",
        *(
            {"mr_id": i, "project_id": 11, "target_branch": branch, "merged_at": at, "updated_at": at}
            for i, (branch, at) in merged.items()
        ),
    )
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        leads = {r["mr_id"]: r["deployment_key"] for r in mart(built, "mv_lead_times", "mr_id in (4, 6)")}
    assert leads == {4: "argocd:shop-api-prod:2"}


def test_a_merge_request_known_only_from_the_deployments_that_shipped_it_counts_once(tmp_path: Path) -> None:
    """shop-db (GitLab project 12) on the 19th: MR 7, merged at 07:00, is missing from the project's merged list;
    GitLab lists it in G4 (08:00) and again in G5 (12:00). It is one request, shipped by G4: 1 h, by its link.
    MR 8, in the merged list and listed by G5, is there once too: 3 h (merged at 09:00)."""
    lake, settings = estate_lake(tmp_path)
    write(
        lake,
        "deploys/deployment_events",
        deployment("gitlab:104", "gitlab", "12", t(19, 8), "succeeded", "s7"),
        deployment("gitlab:105", "gitlab", "12", t(19, 12), "succeeded", "s8"),
    )
    merged = {"mr_id": 8, "project_id": 12, "merged_at": t(19, 9), "updated_at": t(19, 9)}
    write(lake, "gitlab/merge_requests", merged)
    write(
        lake,
        "gitlab/deployment_merge_requests",
        {"deployment_id": 104, "project_id": 12, "mr_id": 7, "merged_at": t(19, 7)},
        {"deployment_id": 105, "project_id": 12, "mr_id": 7, "merged_at": t(19, 7)},
        {"deployment_id": 105, "project_id": 12, "mr_id": 8, "merged_at": t(19, 9)},
    )
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        leads = [
            (r["mr_id"], r["deployment_key"], r["lead_time_hours"], r["match_rule"])
            for r in mart(built, "mv_lead_times", "mr_id in (7, 8) order by mr_id")
        ]
    assert leads == [
        (7, "gitlab:104", pytest.approx(1.0), "deployment link"),
        (8, "gitlab:105", pytest.approx(3.0), "deployment link"),
    ]


def test_a_change_raised_on_a_business_service_goes_to_the_entity_mapped_on_it(tmp_path: Path) -> None:
    """ServiceNow changes name a business service as incidents do. CHG20 names no CI, only quiet-svc's as its
    business service: it is quiet's, as an incident would be. CHG21 names shop-db's CI and quiet-svc's business
    service: the CI goes first, so it is shop's. The change calendar counts CHG20 planned for quiet on the 19th."""
    lake, settings = estate_lake(tmp_path)
    on_service = change(
        "20" * 16, "CHG20", "", (t(19, 6), t(19, 7)), "successful", t(18), t(19, 8), planned=(t(19, 5), t(19, 8))
    )
    on_both = change("21" * 16, "CHG21", CI_DB, (t(19, 6), t(19, 7)), "successful", t(18), t(19, 8))
    write(
        lake,
        "servicenow/changes",
        on_service | {"cmdb_ci_sys_id": None, "business_service_sys_id": CI_Q},
        on_both | {"business_service_sys_id": CI_Q},
    )
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        owners = {r["number"]: r["app_id"] for r in mart(built, "mv_changes", "number in ('CHG20', 'CHG21')")}
        day = one(mart(built, "mv_changes_app_day", "app_id = 'quiet' and day = $d", d=date(2026, 11, 19)))
    assert owners == {"CHG20": "quiet", "CHG21": "shop"}
    assert day["planned"] == 1


def test_an_entity_mapped_by_its_ci_name_gets_the_incidents_and_changes_of_that_ci(tmp_path: Path) -> None:
    """legacy is mapped by CI name only (cmdb.ciName 'Legacy ERP'). INC7 and CHG7 name that CI; INC8 names it too
    but its CI id is shop-db's, and the id goes first. So legacy has INC7 and CHG7, shop-db keeps INC8."""
    lake, settings = estate_lake(tmp_path)
    legacy = {"entity_id": "legacy", "kind": "application", "team": "t4", "cmdb_ci_name": "Legacy ERP"}
    MappingStore(lake).apply([*mapping(), legacy], actor="test", replace=True)
    unknown_ci = "f" * 32
    write(
        lake,
        "servicenow/incidents",
        incident("7" * 32, "INC7", unknown_ci, t(19, 8), 3, 2) | {"cmdb_ci_name": "Legacy ERP"},
        incident("8" * 32, "INC8", CI_DB, t(19, 9), 3, 2) | {"cmdb_ci_name": "Legacy ERP"},
    )
    write(
        lake,
        "servicenow/changes",
        change("7" * 32, "CHG7", unknown_ci, (t(19, 6), t(19, 7)), "successful", t(18), t(19, 7))
        | {"cmdb_ci_name": "Legacy ERP"},
    )
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        owners = {r["number"]: r["app_id"] for r in mart(built, "mv_incidents", "number in ('INC7', 'INC8')")}
        owners |= {r["number"]: r["app_id"] for r in mart(built, "mv_changes", "number = 'CHG7'")}
        opened = one(mart(built, "mv_incidents_app_day", "app_id = 'legacy' and day = $d", d=date(2026, 11, 19)))
    assert owners == {"INC7": "legacy", "INC8": "shop", "CHG7": "legacy"}
    assert opened["opened"] == 1


def test_a_service_tagged_for_an_entity_mapped_in_two_environments_goes_to_production(tmp_path: Path) -> None:
    """tagged-svc is mapped in production and in staging by the same selector, tag("app:tagged"); SERVICE-T
    carries the tag. Both entries match it equally: its hours go to production, in every build."""
    lake, settings = estate_lake(tmp_path)
    selector = 'type(SERVICE),tag("app:tagged")'
    twins = [
        {
            "entity_id": "tagged-svc",
            "kind": "component",
            "application_id": "quiet",
            "dynatrace_entity_selector": selector,
        }
        | ({"environment": environment} if environment else {})
        for environment in (None, "staging")
    ]
    MappingStore(lake).apply([*mapping(), *twins], actor="test", replace=True)
    write(
        lake,
        "dynatrace/entities",
        {"entity_id": "SERVICE-T", "entity_type": "SERVICE", "tags": ["app:tagged"], "seen_on": t(19)},
    )
    write(
        lake,
        "dynatrace/service_metrics_hourly",
        {"entity_id": "SERVICE-T", "hour": t(19, 9), "request_count": 70.0, "error_count": 0.0},
    )
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        hours = mart(built, "mv_golden_signals_hourly", "component_id = 'tagged-svc'")
    assert [(r["environment"], r["requests"]) for r in hours] == [("production", 70.0)]


def test_a_service_belongs_to_an_entity_whose_selector_criteria_it_meets_all_of(tmp_path: Path) -> None:
    """Dynatrace applies every criterion of a selector. tagged-api is mapped in production by
    tag("app:tagged"),tag("environment:production") and in staging by the same with environment:staging;
    tagged-zdb adds tag("tier:db") in production; tagged-zone selects mzName("Checkout").
    SERVICE-S carries app:tagged and environment:staging: staging's, not production's. SERVICE-O carries
    environment:production alone: nobody's. SERVICE-D carries all three production tags: both tagged-api and
    tagged-zdb are met in full, and the more specific, tagged-zdb, takes it. SERVICE-Z is in the zone."""
    lake, settings = estate_lake(tmp_path)

    def entry(entity: str, selector: str, environment: str = "production") -> dict[str, Any]:
        return {
            "entity_id": entity,
            "kind": "component",
            "application_id": "quiet",
            "environment": environment,
            "dynatrace_entity_selector": f"type(SERVICE),{selector}",
        }

    entries = [
        entry("tagged-api", 'tag("app:tagged"),tag("environment:production")'),
        entry("tagged-api", 'tag("app:tagged"),tag("environment:staging")', "staging"),
        entry("tagged-zdb", 'tag("app:tagged"),tag("environment:production"),tag("tier:db")'),
        entry("tagged-zone", 'mzName("Checkout")'),
    ]
    MappingStore(lake).apply([*mapping(), *entries], actor="test", replace=True)
    services = {
        "SERVICE-P": (["app:tagged", "environment:production"], [], 10.0),
        "SERVICE-S": (["app:tagged", "environment:staging"], [], 20.0),
        "SERVICE-D": (["app:tagged", "environment:production", "tier:db"], [], 40.0),
        "SERVICE-O": (["environment:production"], [], 80.0),
        "SERVICE-Z": ([], ["Checkout"], 160.0),
    }
    listed = [
        {"entity_id": s, "entity_type": "SERVICE", "tags": tags, "management_zones": zones, "seen_on": t(19)}
        for s, (tags, zones, _) in services.items()
    ]
    write(lake, "dynatrace/entities", *listed)
    hours = [
        {"entity_id": s, "hour": t(19, 9), "request_count": requests, "error_count": 0.0}
        for s, (_, _, requests) in services.items()
    ]
    write(lake, "dynatrace/service_metrics_hourly", *hours)
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        found = mart(built, "mv_golden_signals_hourly", "component_id like 'tagged-%'")
    assert sorted((r["component_id"], r["environment"], r["requests"]) for r in found) == [
        ("tagged-api", "production", 10.0),
        ("tagged-api", "staging", 20.0),
        ("tagged-zdb", "production", 40.0),
        ("tagged-zone", "production", 160.0),
    ]


def test_an_application_known_only_by_its_components_takes_the_first_components_team(tmp_path: Path) -> None:
    """lone is mapped only through two staging components that name different teams: lone-b (team tb) and
    lone-a (team ta). The application's staging row takes the first component's by id, ta, in every build."""
    lake, settings = estate_lake(tmp_path)
    components = [
        {
            "entity_id": f"lone-{x}",
            "kind": "component",
            "application_id": "lone",
            "environment": "staging",
            "team": f"t{x}",
        }
        for x in ("b", "a")
    ]
    lone = {"entity_id": "lone", "kind": "application", "team": "t-prod", "domain": "d1"}
    MappingStore(lake).apply([*mapping(), lone, *components], actor="test", replace=True)
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        scopes = mart(built, "mv_dora_scopes", "app_id = 'lone' and environment = 'staging' and level = 'team'")
    assert [r["level_id"] for r in scopes] == ["ta"]


def test_hourly_signals_across_a_month_boundary(tmp_path: Path) -> None:
    """The hourly signals are computed a month at a time: hours on both sides of a month's end land in their
    own month object, and the day and window sums that span the boundary add both months' parts."""
    lake, settings = estate_lake(tmp_path)
    october_end, november_start = datetime(2026, 10, 31, 23, tzinfo=UTC), datetime(2026, 11, 1, 0, tzinfo=UTC)
    extra = [
        # shop-api and shop-db in the last hour of October and the first of November.
        {
            "entity_id": "SERVICE-A",
            "hour": october_end,
            "request_count": 300.0,
            "error_count": 3.0,
            "latency_p95_ms": 250.0,
        },
        {
            "entity_id": "SERVICE-B",
            "hour": october_end,
            "request_count": 200.0,
            "error_count": 0.0,
            "latency_p95_ms": 700.0,
        },
        {
            "entity_id": "SERVICE-A",
            "hour": november_start,
            "request_count": 100.0,
            "error_count": 1.0,
            "latency_p95_ms": 150.0,
        },
    ]
    write(lake, "dynatrace/service_metrics_hourly", *extra)
    build(lake, settings, mode="full", as_of=AS_OF)
    con = open_duckdb(settings, lake)
    try:

        def read(key: str, where: str, **params: Any) -> list[dict]:
            rel = con.execute(f"select * from read_parquet($url) where {where}", {"url": lake.url_of(key), **params})
            return rel.to_arrow_table().to_pylist()

        october = "mart/mv_golden_signals_hourly/month=2026-10/data.parquet"
        november = "mart/mv_golden_signals_hourly/month=2026-11/data.parquet"
        # October's object holds its one hour: two component rows and the application's.
        assert len(read(october, "true")) == 3
        app = one(read(october, "level = 'application' and app_id = 'shop'"))
        # Requests and errors add up over the components; latency is the worst component's.
        assert (app["requests"], app["errors"], app["latency_p95_ms"]) == (500, 3, 700)
        first = one(read(november, "level = 'application' and app_id = 'shop' and hour = $h", h=november_start))
        assert (first["requests"], first["errors"]) == (100, 1)

        def day_summary(day: date) -> dict:
            return one(
                read(
                    f"mart/mv_monitoring_app_day_summary/month={day:%Y-%m}/data.parquet",
                    "app_id = 'shop' and day = $d",
                    d=day,
                )
            )

        assert (day_summary(date(2026, 10, 31))["requests"], day_summary(date(2026, 11, 1))["requests"]) == (500, 100)
        slo = one(
            read(
                "mart/mv_slo_app_period/data.parquet",
                "app_id = 'shop' and period = 'last_30d' and environment = 'production'",
            )
        )
        # The estate's 34,000 requests and 124 errors on the 19th, plus 500 + 100 and 3 + 1 on either side of
        # the month's end, all within the 30 days before as_of.
        assert (slo["availability_denominator"], slo["bad_requests"]) == (34_600, 128)
        assert slo["measured_hours"] == 24 + 2
    finally:
        con.close()


def test_an_availability_just_under_the_target_never_reads_as_the_target(tmp_path: Path) -> None:
    """quiet-svc served 10,000 requests an hour through the 7 days before as_of (1,680,000), 8,401 of them failed:
    availability 1 - 8,401 / 1,680,000 = 99.49994 %, under the 99.5 % target, +30. Rounded to three decimals it
    would read 99.500 %, the target itself; the reason shows it cut at the third decimal, 99.499 %."""
    lake, settings = estate_lake(tmp_path)
    served = [
        {
            "entity_id": "SERVICE-Q",
            "hour": AS_OF - timedelta(hours=h),
            "request_count": 10_000.0,
            "error_count": 51.0 if h == 1 else 50.0,
        }
        for h in range(1, 169)
    ]
    write(lake, "dynatrace/service_metrics_hourly", *served)
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        quiet = one(mart(built, "mv_monitoring_top_risks", "app_id = 'quiet'"))
    assert (quiet["requests_7d"], quiet["score_slo"]) == (1_680_000, 30)
    assert quiet["reasons"][0] == "availability 99.499% over 7 days is below the 99.500% target"


@pytest.mark.parametrize(("hours", "status", "score"), [(24, "insufficient data", 0), (100, "breached", 30)])
def test_top_risks_see_an_slo_breach_only_where_the_slo_has_the_coverage_it_asks_for(
    tmp_path: Path, hours: int, status: str, score: int
) -> None:
    """quiet-svc served 1,000 requests an hour at 50 % errors for the `hours` before as_of. Over 7 days (168 h)
    that covers 24/168 = 14 % of the hours, under min_coverage 50 %: the SLO says 'insufficient data' and top
    risks add nothing for it; 100/168 = 60 % is a breach for both, +30."""
    lake, settings = estate_lake(tmp_path)
    served = [
        {"entity_id": "SERVICE-Q", "hour": AS_OF - timedelta(hours=h), "request_count": 1000.0, "error_count": 500.0}
        for h in range(1, hours + 1)
    ]
    write(lake, "dynatrace/service_metrics_hourly", *served)
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        where = "period = 'last_7d' and environment = 'production' and app_id = 'quiet'"
        slo = one(mart(built, "mv_slo_app_period", where))
        quiet = one(mart(built, "mv_monitoring_top_risks", "app_id = 'quiet'"))
    assert (slo["availability"], slo["availability_status"]) == (0.5, status)
    assert quiet["score_slo"] == score
    assert any(r.startswith("availability 50.000% over 7 days") for r in quiet["reasons"]) == (score > 0)


def test_a_canceled_change_was_not_implemented_and_covers_no_deployment(tmp_path: Path) -> None:
    """CHG5, an emergency change on quiet's CI planned for the 5th 09:30-10:30, was canceled. quiet-prod deployed
    at 10:00 and INC5 opened on quiet at 12:00. CHG5 implemented nothing on the 5th and covers nothing, so INC5's
    best link is the 4-hour component window (0.50), under the 0.70 that counts: no change failure, no rework. The
    change calendar shows it canceled on the 5th, not planned nor an emergency."""
    lake, settings = estate_lake(tmp_path)
    write(
        lake,
        "deploys/deployment_events",
        deployment("argocd:quiet-prod:1", "argocd", "quiet-prod", t(5, 10), "succeeded", "q1"),
    )
    planned = (t(5, 9, 30), t(5, 10, 30))
    chg5 = change("5" * 32, "CHG5", CI_Q, planned, "", t(4), t(5, 11), change_type="emergency", planned=planned)
    canceled = chg5 | {"state": 4, "work_start": None, "work_end": None, "close_code": None}
    write(lake, "servicenow/changes", canceled)
    write(lake, "servicenow/incidents", incident("i5" * 16, "INC5", CI_Q, t(5, 12), 3, 2))
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        day = one(mart(built, "mv_changes_app_day", "app_id = 'quiet' and day = $day", day=t(5).date()))
        chg = one(mart(built, "mv_changes", "number = 'CHG5'"))
        link = one(mart(built, "mv_incident_links", "incident_number = 'INC5' and correlation_mode = 'full'"))
        deployed = one(mart(built, "mv_deployments", "deployment_key = 'argocd:quiet-prod:1'"))
        inc5 = one(mart(built, "mv_incidents", "number = 'INC5'"))
    # Nor is it planned any more, nor an emergency: the calendar counts it apart.
    assert (day["planned"], day["canceled"], day["emergency"], day["implemented"]) == (0, 1, 0, 0)
    assert chg["is_canceled"] and not chg["is_closed"] and not chg["covers_deployment"]
    assert (link["rule"], link["counts_as_change_failure"]) == ("same_component_window", False)
    assert not deployed["is_change_failure_full"] and not deployed["is_rework"]
    # The incident shows that link as evidence that does not count.
    assert inc5["linked_deployment_full"] == "argocd:quiet-prod:1"
    assert inc5["link_counts_as_change_failure_full"] is False


def test_a_close_code_on_a_change_not_closed_is_no_failure(tmp_path: Path) -> None:
    """CHG8 on quiet's CI worked on the 18th, 09:00-10:00, and was canceled carrying close code 'unsuccessful'. A
    canceled change was not implemented: it is no failed change, in the calendar of the 18th (no change failure
    rate, nothing closed with a code) nor in quiet's top-risk evidence, where it is no event either: quiet, with
    nothing else in the 14 days, has no data, and no score."""
    lake, settings = estate_lake(tmp_path)
    chg8 = change("8" * 32, "CHG8", CI_Q, (t(18, 9), t(18, 10)), "unsuccessful", t(17), t(18, 11)) | {"state": 4}
    write(lake, "servicenow/changes", chg8)
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        day = one(mart(built, "mv_changes_app_day", "app_id = 'quiet' and day = $day", day=t(18).date()))
        chg = one(mart(built, "mv_changes", "number = 'CHG8'"))
        quiet = one(mart(built, "mv_monitoring_top_risks", "app_id = 'quiet'"))
    assert chg["is_canceled"] and not chg["is_failed"]
    assert (day["unsuccessful"], day["closed_with_code"], day["change_failure_rate"]) == (0, 0, None)
    assert (quiet["failed_changes_7d"], quiet["score_failed_changes"], quiet["health"]) == (0, None, "no data")


def test_a_deployment_finished_after_an_incident_opened_did_not_cause_it(tmp_path: Path) -> None:
    """CHG6 on quiet's CI worked 09:00-10:00 on the 5th and covers quiet-prod's deployment at 10:50 (within its
    window's hour of slack). INC6 opened at 10:30, INC7 too, naming CHG6 as its cause: the deployment came 20
    minutes after both opened, so neither is linked to it, by the change's CI nor by the change named."""
    lake, settings = estate_lake(tmp_path)
    write(
        lake,
        "deploys/deployment_events",
        deployment("argocd:quiet-prod:1", "argocd", "quiet-prod", t(5, 10, 50), "succeeded", "q1"),
    )
    chg6 = change("6" * 32, "CHG6", CI_Q, (t(5, 9), t(5, 10)), "successful", t(4), t(5, 11))
    write(lake, "servicenow/changes", chg6)
    opened = t(5, 10, 30)
    write(
        lake,
        "servicenow/incidents",
        incident("i6" * 16, "INC6", CI_Q, opened, 3, 2),
        incident("i7" * 16, "INC7", CI_Q, opened, 3, 2, caused_by="6" * 32),
    )
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        assert one(mart(built, "mv_changes", "number = 'CHG6'"))["deployment_key"] == "argocd:quiet-prod:1"
        assert mart(built, "mv_incident_links", "incident_number in ('INC6', 'INC7')") == []


def quiet_incident_days(built: tuple[Lake, duckdb.DuckDBPyConnection], first: int, last: int) -> dict[int, dict]:
    """quiet's production incident days from the `first` to the `last` of November, by day of the month."""
    where = "app_id = 'quiet' and environment = 'production' and day between $a and $b"
    return {r["day"].day: r for r in mart(built, "mv_incidents_app_day", where, a=t(first).date(), b=t(last).date())}


def test_a_closed_incident_without_its_timestamps_leaves_the_backlog_at_its_last_update(tmp_path: Path) -> None:
    """INC8 opened on quiet on the 3rd at 09:00 and was last updated, to Closed, on the 4th at 09:00, with neither
    resolved_at nor closed_at: open at the end of the 3rd, restored on the 4th after 24 hours, then gone."""
    lake, settings = estate_lake(tmp_path)
    closed = incident("i8" * 16, "INC8", CI_Q, t(3, 9), 3, 7) | {"sys_updated_on": t(4, 9)}
    write(lake, "servicenow/incidents", closed)
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        days = quiet_incident_days(built, 3, 10)
    assert [days[d]["open_end_of_day"] for d in (3, 4, 10)] == [1, 0, 0]
    assert (days[4]["restored"], days[4]["mttr_mean_hours"]) == (1, 24.0)


def test_an_unsuccessful_change_over_a_deployment_after_as_of_still_counts(tmp_path: Path) -> None:
    """CHG8, unsuccessful, worked 09:00-09:50 on the 20th; quiet-prod's failed attempt at 10:20, in the hour after
    it, was already ingested when the build of 10:00 runs. The attempt is after as_of: it has not finished, so the
    change covers no attempt yet and the attempt is not among the 7 days' deployments. The change is the failure that
    counts, once: +10, green."""
    lake, settings = estate_lake(tmp_path)
    attempt = deployment("argocd:quiet-prod:9", "argocd", "quiet-prod", AS_OF + timedelta(minutes=20), "failed", "q9")
    write(lake, "deploys/deployment_events", attempt)
    window = (AS_OF - timedelta(hours=1), AS_OF - timedelta(minutes=10))
    chg8 = change("8" * 32, "CHG8", CI_Q, window, "unsuccessful", t(19), AS_OF - timedelta(minutes=5))
    write(lake, "servicenow/changes", chg8)
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        assert one(mart(built, "mv_changes", "number = 'CHG8'"))["deployment_key"] is None
        quiet = one(mart(built, "mv_monitoring_top_risks", "app_id = 'quiet'"))
    assert (quiet["failed_changes_7d"], quiet["score_failed_changes"], quiet["health"]) == (1, 10, "green")


def test_an_incident_reopened_after_its_resolution_is_open_again(tmp_path: Path) -> None:
    """INC9 opened on quiet on the 5th at 09:00, was resolved on the 6th at 09:00, then reopened (In Progress)
    on the 7th, still carrying its resolution time. It is open, in the backlog at the end of every day from the
    5th, and no MTTR counts its first resolution."""
    lake, settings = estate_lake(tmp_path)
    reopened = incident("i9" * 16, "INC9", CI_Q, t(5, 9), 3, 2, resolved=t(6, 9)) | {"sys_updated_on": t(7, 9)}
    write(lake, "servicenow/incidents", reopened)
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        inc9 = one(mart(built, "mv_incidents", "number = 'INC9'"))
        days = quiet_incident_days(built, 5, 20)
    assert inc9["is_open"] and inc9["restored_at"] is None
    assert [days[d]["open_end_of_day"] for d in (5, 6, 7, 20)] == [1, 1, 1, 1]
    assert days[6]["restored"] == 0


def test_an_emergency_change_without_a_plan_counts_on_the_day_its_work_started(tmp_path: Path) -> None:
    """CHG10, an emergency change on quiet's CI, was recorded after the work (the 8th, 22:00 to the 9th, 01:00)
    with no planned window: an emergency on the 8th, implemented on the 9th, planned on no day."""
    lake, settings = estate_lake(tmp_path)
    chg10 = change(
        "a" * 32, "CHG10", CI_Q, (t(8, 22), t(9, 1)), "successful", t(9, 2), t(9, 3), change_type="emergency"
    )
    write(lake, "servicenow/changes", chg10)
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        where = "app_id = 'quiet' and environment = 'production' and day between $a and $b"
        days = {r["day"].day: r for r in mart(built, "mv_changes_app_day", where, a=t(8).date(), b=t(9).date())}
    assert [(days[d]["emergency"], days[d]["implemented"], days[d]["planned"]) for d in (8, 9)] == [
        (1, 0, 0),
        (0, 1, 0),
    ]


def with_shop_targets(lake: Lake, **targets: float) -> None:
    """shop's entry with SLO targets of its own, as a mapping (or a System's annotations) sets them."""
    entries = [e | targets if e["entity_id"] == "shop" else e for e in mapping()]
    MappingStore(lake).apply(entries, actor="test", replace=True)


def test_an_applications_own_slo_targets_replace_the_build_defaults(tmp_path: Path) -> None:
    """shop asks for 99.9 % availability, a p95 under 850 ms and a p99 under 850 ms; quiet keeps the defaults
    (99.5 %, 500 ms, 1,500 ms, 95 %). shop's hours on the 19th (the estate): 34,000 requests, 124 errors; its p95
    is 800 ms at 12:00 and 13:00 and 200 ms otherwise, its p99 900 ms every hour.
    Availability: 0.1 % of 34,000 = 34 bad requests allowed; 124 spent = 124/34 of the budget.
    Latency: all 24 hours are good under 850 ms (22 under the default 500 ms); no hour's p99 is under 850 ms.
    Burn rate over the last 24 h (the 19th from 10:00 to 23:00): 14,000 + 7,000 requests, 101 + 13 errors:
    (114 / 21,000) / 0.001."""
    lake, settings = estate_lake(tmp_path)
    with_shop_targets(
        lake, slo_availability_target=0.999, slo_latency_p95_ms=850, slo_latency_p99_ms=850, slo_latency_target=0.9
    )
    build(lake, settings, mode="full", as_of=AS_OF)
    where = "period = 'last_30d' and environment = 'production'"
    with reading(lake, settings) as built:
        shop = one(mart(built, "mv_slo_app_period", f"{where} and app_id = 'shop'"))
        quiet = one(mart(built, "mv_slo_app_period", f"{where} and app_id = 'quiet'"))
        burn = one(mart(built, "mv_slo_burn_rates", "app_id = 'shop' and environment = 'production'"))
        day = one(mart(built, "mv_monitoring_app_day_summary", "app_id = 'shop' and day = $d", d=date(2026, 11, 19)))
    assert (shop["availability_target"], shop["latency_target"]) == (0.999, 0.9)
    assert (shop["latency_p95_threshold_ms"], shop["latency_p99_threshold_ms"]) == (850, 850)
    assert shop["error_budget_allowed"] == pytest.approx(34)
    assert shop["error_budget_consumed"] == pytest.approx(124 / 34)
    assert shop["burn_rate_period"] == pytest.approx((124 / 34_000) / 0.001)
    assert (shop["latency_p95_good_hours"], shop["latency_p99_good_hours"], shop["latency_measured_hours"]) == (
        24,
        0,
        24,
    )
    assert day["latency_p95_good_hours"] == 24 and day["latency_p99_good_hours"] == 0
    assert burn["availability_target"] == 0.999
    assert burn["burn_rate_24h"] == pytest.approx((114 / 21_000) / 0.001)
    assert (quiet["availability_target"], quiet["latency_target"]) == (0.995, 0.95)
    assert (quiet["latency_p95_threshold_ms"], quiet["latency_p99_threshold_ms"]) == (500, 1500)


def quiet_asking_99_95_percent(tmp_path: Path, hours: dict[int, tuple[float, float]]) -> tuple[Lake, Settings]:
    """The estate with quiet's target at 99.95 % and quiet-svc's (requests, errors) in the hours that many hours
    before as_of, built in full."""
    lake, settings = estate_lake(tmp_path)
    entries = [e | {"slo_availability_target": 0.9995} if e["entity_id"] == "quiet" else e for e in mapping()]
    MappingStore(lake).apply(entries, actor="test", replace=True)
    served_by_quiet(lake, [(AS_OF - timedelta(hours=h), n, e) for h, (n, e) in sorted(hours.items())])
    build(lake, settings, mode="full", as_of=AS_OF)
    return lake, settings


def test_a_budget_spent_to_the_last_request_leaves_nothing_not_a_rounding(tmp_path: Path) -> None:
    """quiet asks for 99.95 %. quiet-svc served 20 requests an hour for the 100 hours before as_of, one of them
    failed: 2,000 requests, coverage 100 / 168 over 7 days. Budget: 0.05 % of 2,000 = 1 bad request allowed, 1
    spent: consumed 1, remaining 0 (not overspent), burn rate 1, availability 1,999 / 2,000 = 99.95 %, met.
    1 - 0.9995 in binary floating point is 0.00049999999999994, which would leave -0.00000000000011 of the
    budget: overspent while met."""
    lake, settings = quiet_asking_99_95_percent(tmp_path, {h: (20.0, 0.0) for h in range(2, 101)} | {1: (20.0, 1.0)})
    with reading(lake, settings) as built:
        quiet = one(
            mart(built, "mv_slo_app_period", "period = 'last_7d' and app_id = 'quiet' and environment = 'production'")
        )
    assert (quiet["availability_denominator"], quiet["bad_requests"]) == (2000, 1)
    assert quiet["error_budget_allowed"] == 1
    assert (quiet["error_budget_consumed"], quiet["error_budget_remaining"]) == (1, 0)
    assert quiet["burn_rate_period"] == 1
    assert quiet["availability_status"] == "met"


def test_an_application_mapped_in_staging_only_through_a_component_keeps_its_targets(tmp_path: Path) -> None:
    """shop asks for 99.9 % in its (production) entry; in staging only its shop-api component is mapped, by
    SERVICE-S: 100 requests an hour on the 19th, 10 of them failed. shop in staging is the same application, held
    to its 99.9 %, not to the build's 99.5 %: 0.1 % of 2,400 requests = 2.4 bad requests allowed, 240 spent."""
    lake, settings = estate_lake(tmp_path)
    staging_api = {
        "entity_id": "shop-api",
        "kind": "component",
        "application_id": "shop",
        "environment": "staging",
        "dynatrace_entity_selector": 'entityId("SERVICE-S")',
    }
    entries = [e | {"slo_availability_target": 0.999} if e["entity_id"] == "shop" else e for e in mapping()]
    MappingStore(lake).apply([*entries, staging_api], actor="test", replace=True)
    staging = [
        {"entity_id": "SERVICE-S", "hour": t(19, h), "request_count": 100.0, "error_count": 10.0} for h in range(24)
    ]
    write(lake, "dynatrace/service_metrics_hourly", *staging)
    build(lake, settings, mode="full", as_of=AS_OF)
    where = "period = 'last_30d' and environment = 'staging' and app_id = 'shop'"
    with reading(lake, settings) as built:
        shop = one(mart(built, "mv_slo_app_period", where))
        burn = one(mart(built, "mv_slo_burn_rates", "app_id = 'shop' and environment = 'staging'"))
    assert shop["availability_target"] == 0.999
    assert shop["error_budget_allowed"] == pytest.approx(2.4)
    assert shop["error_budget_consumed"] == pytest.approx(240 / 2.4)
    assert burn["availability_target"] == 0.999


def test_an_application_without_a_production_entry_takes_the_build_defaults_where_an_environment_sets_none(
    tmp_path: Path,
) -> None:
    """lab is mapped in staging, asking for 99.9 % and a p95 under 850 ms, and in dev, asking for nothing; in qa
    only its component lab-svc is mapped. It has no production entry, so dev and qa have no production targets to
    take: they are held to the build's defaults (99.5 %, 500 ms), not to staging's."""
    lake, settings = estate_lake(tmp_path)
    lab = [
        {
            "entity_id": "lab",
            "kind": "application",
            "environment": "staging",
            "team": "t3",
            "slo_availability_target": 0.999,
            "slo_latency_p95_ms": 850,
        },
        {"entity_id": "lab", "kind": "application", "environment": "dev"},
        {"entity_id": "lab-svc", "kind": "component", "application_id": "lab", "environment": "qa"},
    ]
    MappingStore(lake).apply([*mapping(), *lab], actor="test", replace=True)
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        where = "period = 'last_30d' and app_id = 'lab'"
        slos = {r["environment"]: r for r in mart(built, "mv_slo_app_period", where)}
        burns = {r["environment"]: r for r in mart(built, "mv_slo_burn_rates", "app_id = 'lab'")}
    targets = {env: (r["availability_target"], r["latency_p95_threshold_ms"]) for env, r in slos.items()}
    assert targets == {"staging": (0.999, 850), "dev": (0.995, 500), "qa": (0.995, 500)}
    assert {env: r["availability_target"] for env, r in burns.items()} == {
        "staging": 0.999,
        "dev": 0.995,
        "qa": 0.995,
    }


def test_a_groups_slo_targets_weigh_its_applications_own(tmp_path: Path) -> None:
    """Over the last 7 days, g1 is shop (34,000 requests on the 19th, 124 bad; 24 hours with a p95 and a p99) and
    quiet (100 requests an hour for 168 hours, none bad; a 200 ms p95 and a 300 ms p99 every hour). shop asks for
    99.9 %, a p99 under 850 ms (its p99 is 900 ms: 0 good hours) and a latency target of 20 %; quiet keeps 99.5 %
    and 95 %.
    Availability target: (0.999 x 34,000 + 0.995 x 16,800) / 50,800; budget allowed 34 + 84 = 118.
    p99: 168 good hours of 192; the target asks for 0.2 x 24 + 0.95 x 168 = 164.4 good hours, a target of
    164.4 / 192 = 0.85625: met (at the default 95 % it would be breached). p95, shop at the default 500 ms: 22 good
    hours, quiet 168: 190 of 192 against the same 0.85625, met."""
    lake, settings = estate_lake(tmp_path)
    with_shop_targets(lake, slo_availability_target=0.999, slo_latency_p99_ms=850, slo_latency_target=0.2)
    week = [
        {
            "entity_id": "SERVICE-Q",
            "hour": AS_OF - timedelta(hours=h),
            "request_count": 100.0,
            "error_count": 0.0,
            "latency_p95_ms": 200.0,
            "latency_p99_ms": 300.0,
        }
        for h in range(1, 169)
    ]
    write(lake, "dynatrace/service_metrics_hourly", *week)
    build(lake, settings, mode="full", as_of=AS_OF)
    where = "period = 'last_7d' and environment = 'production' and level = 'group' and level_id = 'g1'"
    with reading(lake, settings) as built:
        g1 = one(mart(built, "mv_slo_group_period", where))
    assert g1["availability_target"] == pytest.approx((0.999 * 34_000 + 0.995 * 16_800) / 50_800)
    assert g1["error_budget_allowed"] == pytest.approx(118)
    assert g1["error_budget_consumed"] == pytest.approx(124 / 118)
    assert g1["latency_p99_sli"] == pytest.approx(168 / 192)
    assert g1["latency_p99_target"] == pytest.approx(164.4 / 192)
    assert g1["latency_p99_status"] == "met"
    assert g1["latency_p95_sli"] == pytest.approx(190 / 192)
    assert (g1["latency_target"], g1["latency_p95_status"]) == (pytest.approx(164.4 / 192), "met")


def test_a_group_whose_applications_share_a_target_has_that_target(tmp_path: Path) -> None:
    """Over the last 7 days, team t1 is shop alone, at the defaults (99.5 %, a latency target of 95 %): 24 hours
    with a p95 and a p99, so its latency targets are shop's, 0.95 x 24 / 24 = 0.95. Team t2 is quiet, 20 requests
    in the hour before as_of, and broken, with no traffic: its availability target is quiet's, 0.995 x 20 / 20 =
    0.995. The weighted sums made doubles and divided read 0.9500000000000001 and 0.9949999999999999. Neither
    team has the coverage to be judged: 24 and 1 hours of 168."""
    lake, settings = estate_lake(tmp_path)
    served_by_quiet(lake, [(AS_OF - timedelta(hours=1), 20.0, 0.0)])
    build(lake, settings, mode="full", as_of=AS_OF)
    where = "period = 'last_7d' and environment = 'production' and level = 'team'"
    with reading(lake, settings) as built:
        teams = {r["level_id"]: r for r in mart(built, "mv_slo_group_period", where)}
    t1, t2 = teams["t1"], teams["t2"]
    assert (t1["availability_target"], t1["latency_target"], t1["latency_p99_target"]) == (0.995, 0.95, 0.95)
    assert (t2["availability_denominator"], t2["availability_target"]) == (20, 0.995)
    assert (t1["availability_status"], t2["availability_status"]) == ("insufficient data", "insufficient data")


def with_quiet_burning(lake: Lake) -> None:
    """quiet (no traffic in the estate) fails half of its 100 requests an hour on the 19th from 20:00 to 23:00, serves
    1,000 requests an hour without an error on the 20th from 04:00 to 07:00, then fails 2 of 100 at 08:00 and 09:00:
    a burn that goes on while a busy morning hides it from the 6-hour window."""
    hours = [(t(19, h), 100.0, 50.0) for h in range(20, 24)]
    hours += [(t(20, h), 1000.0, 0.0) for h in range(4, 8)]
    hours += [(t(20, h), 100.0, 2.0) for h in (8, 9)]
    served_by_quiet(lake, hours)


def test_a_burn_rate_alert_without_traffic_in_any_window_is_no_data(built) -> None:
    """At 10:00 on the 20th (a 99.5 % target, B = 0.005), shop's traffic is the 19th's: nothing over 1, 2 or 6 h;
    24 h (the 19th from 10:00) 14,000 + 7,000 requests, 101 + 13 errors: 114 / 21,000 / 0.005 = 1.09x; 3 d (the whole
    19th) 124 / 34,000 / 0.005 = 0.73x. No rule holds on rates it has: none. quiet had no traffic at all: no rate in
    any window, so nothing says its budget is safe: no data. Team t1 is shop alone, team t2 quiet and broken, neither
    with traffic: the same alerts."""
    shop = one(mart(built, "mv_slo_burn_rates", "app_id = 'shop' and environment = 'production'"))
    quiet = one(mart(built, "mv_slo_burn_rates", "app_id = 'quiet' and environment = 'production'"))
    team_rows = mart(built, "mv_slo_group_burn_rates", "level = 'team' and environment = 'production'")
    teams = {r["level_id"]: r for r in team_rows}
    assert (shop["burn_rate_1h"], shop["burn_rate_2h"], shop["burn_rate_6h"]) == (None, None, None)
    assert shop["burn_rate_24h"] == pytest.approx(114 / 21_000 / 0.005)
    assert shop["burn_rate_3d"] == pytest.approx(124 / 34_000 / 0.005)
    assert (shop["burn_rate_alert"], teams["t1"]["burn_rate_alert"]) == ("none", "none")
    rates = ("burn_rate_1h", "burn_rate_2h", "burn_rate_6h", "burn_rate_24h", "burn_rate_3d")
    assert [quiet[r] for r in rates] == [teams["t2"][r] for r in rates] == [None] * 5
    assert (quiet["burn_rate_alert"], teams["t2"]["burn_rate_alert"]) == ("no data", "no data")


def test_a_burn_over_24_hours_still_going_in_the_last_2_opens_a_ticket(tmp_path: Path) -> None:
    """The workbook's second ticket: 24 h and 2 h both over 3. quiet (see with_quiet_burning; a 99.5 % target,
    a budget ratio of 0.005) at 10:00 on the 20th:
    - 1 h: 2 / 100 = 0.02, 4x; 2 h: 4 / 200, 4x (neither pages: 1 h is not over 14.4, nor over 6);
    - 6 h (04:00 to 10:00): 4 / 4,200, 0.19x, so the 3 d and 6 h ticket does not hold;
    - 24 h (the 19th from 10:00): 400 + 4,000 + 200 requests, 200 + 4 errors: (204 / 4,600) / 0.005, 8.9x;
    - 3 d: the same hours, the same 8.9x.
    24 h > 3 and 2 h > 3: a ticket (before the 2 h window, the alert was none)."""
    lake, settings = estate_lake(tmp_path)
    with_quiet_burning(lake)
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        quiet = one(mart(built, "mv_slo_burn_rates", "app_id = 'quiet' and environment = 'production'"))
    assert (quiet["requests_2h"], quiet["errors_2h"]) == (200, 4)
    assert quiet["burn_rate_1h"] == pytest.approx(4)
    assert quiet["burn_rate_2h"] == pytest.approx(4)
    assert quiet["burn_rate_6h"] == pytest.approx((4 / 4_200) / 0.005)
    assert quiet["burn_rate_24h"] == pytest.approx((204 / 4_600) / 0.005)
    assert quiet["burn_rate_3d"] == pytest.approx((204 / 4_600) / 0.005)
    assert quiet["burn_rate_alert"] == "ticket"


@pytest.mark.parametrize(
    ("last_hour_errors", "score", "reasons"),
    [
        (
            1,
            0,
            ["SLOs not judged: traffic measured in 6 of the 168 hours of the last 7 days, fewer than the 84 they need"],
        ),
        (5, 20, ["error budget burning 18.3x over 6 hours"]),
    ],
)
def test_top_risks_count_a_6_hour_burn_only_while_the_last_hour_confirms_it(
    tmp_path: Path, last_hour_errors: int, score: int, reasons: list[str]
) -> None:
    """The risk follows the page alert: a 6 h burn over 6 counts only when the 1 h burn is over 6 too. quiet (a
    99.5 % target, B = 0.005) serves 100 requests an hour on the 20th from 04:00 to 09:00 and fails 10 of them an
    hour up to 08:00, then `last_hour_errors` at 09:00. At 10:00:
    - 1 error: 1 h 1 / 100 / 0.005 = 2x; 6 h 51 / 600 / 0.005 = 17x. The burn has stopped: no page, no points,
      green, which says its SLOs were not judged (6 hours with traffic of the 84 they need);
    - 5 errors: 1 h 5 / 100 / 0.005 = 10x (not over 14.4); 6 h 55 / 600 / 0.005 = 18.3x: a page, +20.
    Nothing else scores: 6 hours of 168 is under min_coverage, and there was no traffic the week before."""
    lake, settings = estate_lake(tmp_path)
    hours = [(t(20, h), 10.0) for h in range(4, 9)] + [(t(20, 9), float(last_hour_errors))]
    served_by_quiet(lake, [(at, 100.0, e) for at, e in hours])
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        quiet = one(mart(built, "mv_monitoring_top_risks", "app_id = 'quiet'"))
    assert quiet["burn_rate_1h"] == pytest.approx(last_hour_errors / 100 / 0.005)
    assert quiet["burn_rate_6h"] == pytest.approx((50 + last_hour_errors) / 600 / 0.005)
    assert (quiet["score_burn"], quiet["risk_score"], quiet["reasons"]) == (score, score, reasons)


@pytest.mark.parametrize(
    ("errors", "reason"),
    [
        (721, "error budget burning 14.5x over the last hour"),
        (725, "error budget burning 14.5x over the last hour"),
        (1_000, "error budget burning 20.0x over the last hour"),
    ],
)
def test_a_burn_rate_just_over_the_page_threshold_never_reads_as_the_threshold(
    tmp_path: Path, errors: int, reason: str
) -> None:
    """quiet (a 99.5 % target, B = 0.005) fails `errors` of 10,000 requests in the hour before as_of, its only
    traffic: a 1 h burn rate of errors / 10,000 / 0.005. 721 errors burn 14.42x, over 14.4: +30. Rounded to one
    decimal the reason would say 14.4x, the threshold it passed; it reads 14.5x. 725 errors burn 14.5x and 1,000
    burn 20x, which read as they are."""
    lake, settings = estate_lake(tmp_path)
    served_by_quiet(lake, [(AS_OF - timedelta(hours=1), 10_000.0, float(errors))])
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        quiet = one(mart(built, "mv_monitoring_top_risks", "app_id = 'quiet'"))
    assert quiet["burn_rate_1h"] == pytest.approx(errors / 10_000 / 0.005)
    assert (quiet["score_burn"], quiet["reasons"]) == (30, [reason])


def test_a_6_hour_burn_just_over_6_never_reads_as_6(tmp_path: Path) -> None:
    """quiet (B = 0.005) fails 144 of 4,900 requests two hours before as_of and 7 of 100 in the last hour: 1 h
    7 / 100 / 0.005 = 14x (over 6, not over 14.4), 6 h 151 / 5,000 / 0.005 = 6.04x, over 6: +20. Rounded to one
    decimal the reason would say 6.0x; it reads 6.1x."""
    lake, settings = estate_lake(tmp_path)
    served_by_quiet(lake, [(AS_OF - timedelta(hours=2), 4_900.0, 144.0), (AS_OF - timedelta(hours=1), 100.0, 7.0)])
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        quiet = one(mart(built, "mv_monitoring_top_risks", "app_id = 'quiet'"))
    assert quiet["burn_rate_6h"] == pytest.approx(6.04)
    assert (quiet["score_burn"], quiet["reasons"]) == (20, ["error budget burning 6.1x over 6 hours"])


def test_a_burn_rate_exactly_at_the_page_threshold_does_not_page(tmp_path: Path) -> None:
    """quiet asks for 99.95 % (B = 0.0005). quiet-svc failed 144 of 20,000 requests in the hour before as_of and
    none of 10,000 in each of the five hours before: 1 h 144 / (0.0005 x 20,000) = 144 / 10 = 14.4x, not over
    14.4; 6 h 144 / (0.0005 x 70,000) = 4.11x, not over 6; 2 h 144 / 15 = 9.6x and 24 h 4.11x, both over 3: a
    ticket, not a page. Team t2 is quiet alone: the same rates. 1 - 0.9995 in binary floating point is a hair
    under 0.0005, which made the 1 h rate 14.4000000000016, a page."""
    lake, settings = quiet_asking_99_95_percent(
        tmp_path, {h: (10_000.0, 0.0) for h in range(2, 7)} | {1: (20_000.0, 144.0)}
    )
    with reading(lake, settings) as built:
        quiet = one(mart(built, "mv_slo_burn_rates", "app_id = 'quiet' and environment = 'production'"))
        t2 = one(
            mart(built, "mv_slo_group_burn_rates", "level = 'team' and level_id = 't2' and environment = 'production'")
        )
    for burn in (quiet, t2):
        assert (burn["burn_rate_1h"], burn["burn_rate_2h"]) == (14.4, 9.6)
        assert burn["burn_rate_6h"] == pytest.approx(144 / 35)
        assert burn["burn_rate_alert"] == "ticket"


def test_a_groups_burn_rates_hold_its_errors_against_its_applications_own_budgets(tmp_path: Path) -> None:
    """g1 is shop (a 99.9 % target of its own: B = 0.001) and quiet (the default 99.5 %: B = 0.005, burning as in
    with_quiet_burning). At 10:00 on the 20th:
    - shop had no traffic in the last 1, 2 and 6 hours; over 24 h (the 19th from 10:00) 21,000 requests, 114
      errors, a budget of 0.001 x 21,000 = 21; over 3 d (the whole 19th) 34,000 requests, 124 errors, a budget of 34;
    - quiet: 1 h 100 requests, 2 errors, budget 0.5; 2 h 200, 4, budget 1; 6 h 4,200, 4, budget 21; 24 h and 3 d
      4,600, 204, budget 23.
    g1: 1 h 2 / 0.5 = 4; 2 h 4 / 1 = 4; 6 h 4 / 21; 24 h (114 + 204) / (21 + 23) = 318 / 44, 7.2x;
    3 d (124 + 204) / (34 + 23) = 328 / 57. 24 h > 3 and 2 h > 3: a ticket. (At one budget ratio of 0.005 for
    both, the 24 h rate would be (318 / 25,600) / 0.005, 2.5x, and no ticket: shop's stricter target counts.)
    t1 is shop alone: 24 h 114 / 21, 3 d 124 / 34, no rate over 1, 2 or 6 h, so no alert. d2 is broken, which has
    no traffic: no sums, no rates, and no data rather than no alert."""
    lake, settings = estate_lake(tmp_path)
    with_shop_targets(lake, slo_availability_target=0.999)
    with_quiet_burning(lake)
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        levels = {
            (r["level"], r["level_id"]): r for r in mart(built, "mv_slo_group_burn_rates", "environment = 'production'")
        }
    g1, t1, d2 = levels["group", "g1"], levels["team", "t1"], levels["domain", "d2"]
    assert g1["applications"] == 2
    assert (g1["requests_1h"], g1["errors_1h"], g1["requests_2h"], g1["errors_2h"]) == (100, 2, 200, 4)
    assert (g1["requests_6h"], g1["errors_6h"]) == (4_200, 4)
    assert (g1["requests_24h"], g1["errors_24h"], g1["requests_3d"], g1["errors_3d"]) == (25_600, 318, 38_600, 328)
    assert g1["burn_rate_1h"] == pytest.approx(4)
    assert g1["burn_rate_2h"] == pytest.approx(4)
    assert g1["burn_rate_6h"] == pytest.approx(4 / 21)
    assert g1["burn_rate_24h"] == pytest.approx(318 / 44)
    assert g1["burn_rate_3d"] == pytest.approx(328 / 57)
    assert g1["burn_rate_alert"] == "ticket"
    assert (t1["burn_rate_1h"], t1["burn_rate_2h"], t1["burn_rate_6h"]) == (None, None, None)
    assert t1["burn_rate_24h"] == pytest.approx(114 / 21)
    assert t1["burn_rate_3d"] == pytest.approx(124 / 34)
    assert t1["burn_rate_alert"] == "none"
    assert (d2["applications"], d2["requests_24h"], d2["burn_rate_24h"], d2["burn_rate_alert"]) == (
        1,
        None,
        None,
        "no data",
    )


def test_a_rollback_after_a_redeploy_of_the_same_revision_is_still_a_rollback(tmp_path: Path) -> None:
    """quiet-prod: Q1 deploys q1 on the 5th, Q2 q2 on the 6th, Q3 redeploys q2 (a resync) on the 7th, and Q4 puts
    q1 back on the 8th, not flagged at ingestion. q1 ran before q2, the revision Q4 replaces: Q4 is a rollback
    and Q3, the deployment it replaces, was rolled back. By hand: 4 attempts, 1 change failure (Q3), recovered
    by Q4 24 hours later; 1 rework deployment (Q4) of 4 successes."""
    lake, settings = estate_lake(tmp_path)
    write(
        lake,
        "deploys/deployment_events",
        deployment("argocd:quiet-prod:1", "argocd", "quiet-prod", t(5, 9), "succeeded", "q1"),
        deployment("argocd:quiet-prod:2", "argocd", "quiet-prod", t(6, 9), "succeeded", "q2"),
        deployment("argocd:quiet-prod:3", "argocd", "quiet-prod", t(7, 9), "succeeded", "q2"),
        deployment("argocd:quiet-prod:4", "argocd", "quiet-prod", t(8, 9), "succeeded", "q1"),
    )
    flags, quiet = quiet_rollbacks(lake, settings)
    assert flags == {"1": (False, False), "2": (False, False), "3": (False, True), "4": (True, False)}
    assert (quiet["change_failure_numerator"], quiet["change_failure_denominator"]) == (1, 4)
    assert quiet["recovery_sample"] == 1 and quiet["recovery_median_hours"] == pytest.approx(24.0)
    assert (quiet["rework_numerator"], quiet["rework_denominator"]) == (1, 4)


def test_a_deployment_fixing_forward_an_incident_its_predecessor_caused_is_rework(tmp_path: Path) -> None:
    """quiet-prod: Q1 deploys q1 on the 5th at 09:00 under CHG30 (a normal change, worked 08:58-09:00). INC30 opens at
    09:30 naming CHG30 as its cause: Q1 is a change failure. Q2 deploys q2 at 10:30, while INC30 is still open (it is
    restored at 11:00): an unplanned deployment made because of a production incident, DORA's rework, though no
    rollback nor emergency change. Q3 deploys q3 at 12:00, after the restoration: planned work again. By hand: 1
    rework deployment (Q2) of 3 successes."""
    lake, settings = estate_lake(tmp_path)
    write(
        lake,
        "deploys/deployment_events",
        deployment("argocd:quiet-prod:1", "argocd", "quiet-prod", t(5, 9), "succeeded", "q1"),
        deployment("argocd:quiet-prod:2", "argocd", "quiet-prod", t(5, 10, 30), "succeeded", "q2"),
        deployment("argocd:quiet-prod:3", "argocd", "quiet-prod", t(5, 12), "succeeded", "q3"),
    )
    chg30 = change("30" * 16, "CHG30", CI_Q, (t(5, 8, 58), t(5, 9)), "successful", t(4), t(5, 9, 10))
    write(lake, "servicenow/changes", chg30)
    inc30 = incident("i30" * 10 + "ab", "INC30", CI_Q, t(5, 9, 30), 2, 6, t(5, 11), "30" * 16)
    write(lake, "servicenow/incidents", inc30)
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        flags = {
            r["deployment_key"][-1]: (r["is_change_failure_full"], r["is_rework"])
            for r in mart(built, "mv_deployments", "app_id = 'quiet'")
        }
        quiet = dora(built, "quiet")
    assert flags == {"1": (True, False), "2": (False, True), "3": (False, False)}
    assert (quiet["rework_numerator"], quiet["rework_denominator"]) == (1, 3)


def test_a_deployment_between_two_incidents_of_its_predecessor_fixes_neither_forward(tmp_path: Path) -> None:
    """quiet-prod: Q1 deploys q1 on the 5th at 09:00 under CHG30 (worked 08:58-09:00). INC30 opens at 09:30 naming
    CHG30 and is restored at 10:00; INC31 opens at 12:00 naming CHG30 too and is restored at 13:00. Both count
    against Q1. Q2 deploys q2 at 11:00: INC30 was restored an hour before and INC31 had not opened, so no incident
    was open when Q2 finished: planned work, not a fix forward. By hand: 0 rework deployments of 2 successes."""
    lake, settings = estate_lake(tmp_path)
    write(
        lake,
        "deploys/deployment_events",
        deployment("argocd:quiet-prod:1", "argocd", "quiet-prod", t(5, 9), "succeeded", "q1"),
        deployment("argocd:quiet-prod:2", "argocd", "quiet-prod", t(5, 11), "succeeded", "q2"),
    )
    chg30 = change("30" * 16, "CHG30", CI_Q, (t(5, 8, 58), t(5, 9)), "successful", t(4), t(5, 9, 10))
    write(lake, "servicenow/changes", chg30)
    inc30 = incident("i30" * 10 + "ab", "INC30", CI_Q, t(5, 9, 30), 2, 6, t(5, 10), "30" * 16)
    inc31 = incident("i31" * 10 + "ab", "INC31", CI_Q, t(5, 12), 2, 6, t(5, 13), "30" * 16)
    write(lake, "servicenow/incidents", inc30, inc31)
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        first = one(mart(built, "mv_deployments", "deployment_key = 'argocd:quiet-prod:1'"))
        second = one(mart(built, "mv_deployments", "deployment_key = 'argocd:quiet-prod:2'"))
        quiet = dora(built, "quiet")
    assert first["incident_numbers_full"] == ["INC30", "INC31"]
    assert not second["is_rework"]
    assert (quiet["rework_numerator"], quiet["rework_denominator"]) == (0, 2)


def quiet_rollbacks(lake: Lake, settings: Settings) -> tuple[dict[str, tuple[bool, bool]], dict[str, Any]]:
    """A full build; then quiet's deployments as (is_rollback, rolled_back) by their key's last character, and
    quiet's DORA row."""
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        flags = {
            r["deployment_key"][-1]: (r["is_rollback"], r["rolled_back"])
            for r in mart(built, "mv_deployments", "app_id = 'quiet'")
        }
        return flags, dora(built, "quiet")


@pytest.mark.parametrize(
    ("revisions", "flags", "rework"),
    [
        # q2 is put back after the rollback from it: a roll forward. Q3 (back to q1, first run on the 5th, before
        # q2 on the 6th) is the rollback and Q2 the deployment rolled back; Q4 is not a rollback.
        (
            ["q1", "q2", "q1", "q2"],
            {"1": (False, False), "2": (False, True), "3": (True, False), "4": (False, False)},
            1,
        ),
        # q1, first run on the 5th, put back over q3, first run on the 7th: a rollback two revisions back.
        (
            ["q1", "q2", "q3", "q1"],
            {"1": (False, False), "2": (False, False), "3": (False, True), "4": (True, False)},
            1,
        ),
    ],
    ids=["roll forward", "two back"],
)
def test_a_rollback_puts_back_an_older_revision(
    tmp_path: Path, revisions: list[str], flags: dict[str, tuple[bool, bool]], rework: int
) -> None:
    """quiet-prod deploys the revisions in turn at 09:00 on the 5th to the 8th, none flagged at ingestion. A rollback
    is a revision first run before the one it replaces. By hand, in both cases: 4 attempts, 1 change failure (the
    deployment rolled back), recovered 24 hours later by the rollback, and 1 rework deployment of 4."""
    lake, settings = estate_lake(tmp_path)
    attempts = [
        deployment(f"argocd:quiet-prod:{n}", "argocd", "quiet-prod", t(4 + n, 9), "succeeded", revision)
        for n, revision in enumerate(revisions, start=1)
    ]
    write(lake, "deploys/deployment_events", *attempts)
    seen, quiet = quiet_rollbacks(lake, settings)
    assert seen == flags
    assert (quiet["change_failure_numerator"], quiet["change_failure_denominator"]) == (1, 4)
    assert quiet["recovery_sample"] == 1 and quiet["recovery_median_hours"] == pytest.approx(24.0)
    assert (quiet["rework_numerator"], quiet["rework_denominator"]) == (rework, 4)


def test_of_two_revisions_first_deployed_at_the_same_instant_putting_back_the_first_is_a_rollback(
    tmp_path: Path,
) -> None:
    """quiet-prod: A deploys q1 and B q2, both finishing on the 5th at 09:00 (ArgoCD's times are to the second); the
    sequence runs A before B (same instant, then key), so q2 replaced q1. C puts q1 back on the 6th at 09:00, not
    flagged at ingestion: q1 first ran before q2, so C is a rollback and B was rolled back. By hand: 3 attempts, 1
    change failure (B), recovered by C 24 hours later; 1 rework deployment (C) of 3 successes."""
    lake, settings = estate_lake(tmp_path)
    write(
        lake,
        "deploys/deployment_events",
        deployment("argocd:quiet-prod:5a", "argocd", "quiet-prod", t(5, 9), "succeeded", "q1"),
        deployment("argocd:quiet-prod:5b", "argocd", "quiet-prod", t(5, 9), "succeeded", "q2"),
        deployment("argocd:quiet-prod:6c", "argocd", "quiet-prod", t(6, 9), "succeeded", "q1"),
    )
    flags, quiet = quiet_rollbacks(lake, settings)
    assert flags == {"a": (False, False), "b": (False, True), "c": (True, False)}
    assert (quiet["change_failure_numerator"], quiet["change_failure_denominator"]) == (1, 3)
    assert quiet["recovery_sample"] == 1 and quiet["recovery_median_hours"] == pytest.approx(24.0)
    assert (quiet["rework_numerator"], quiet["rework_denominator"]) == (1, 3)


def test_a_redeploy_of_the_revision_already_running_ships_no_merge_request(tmp_path: Path) -> None:
    """shop-api (ArgoCD shop-api-prod, GitLab project 11) runs r1 since D1 on the 1st. MR 8 is merged at 09:00 on
    the 5th; at 10:00 ArgoCD syncs r1 again (a resync of what already runs: nothing new goes out), and at 12:00
    deploys r5. MR 8 first runs in production with r5: lead time 12:00 - 09:00 = 3 hours, not the resync's 1."""
    attempts = [
        deployment("argocd:shop-api-prod:1b", "argocd", "shop-api-prod", t(5, 10), "succeeded", "r1"),
        deployment("argocd:shop-api-prod:1c", "argocd", "shop-api-prod", t(5, 12), "succeeded", "r5"),
    ]
    assert shipping_of_a_request_merged_at_9_on_the_5th(tmp_path, attempts) == (
        "argocd:shop-api-prod:1c",
        pytest.approx(3.0),
        "first deployment after merge",
    )


def test_a_roll_forward_to_a_revision_run_before_the_merge_ships_no_merge_request(tmp_path: Path) -> None:
    """shop-api (ArgoCD shop-api-prod, GitLab project 11) runs r1 since D1 on the 1st. On the 5th ArgoCD deploys r5
    at 07:00 and rolls back to r1 at 08:00; MR 8 is merged at 09:00; at 10:00 r5 is put back (a roll forward: r5 was
    built before 07:00, two hours before the merge, and cannot hold it), and at 12:00 r6 goes out. MR 8 first runs
    in production with r6: lead time 12:00 - 09:00 = 3 hours, not the roll forward's 1."""
    attempts = [
        deployment("argocd:shop-api-prod:5a", "argocd", "shop-api-prod", t(5, 7), "succeeded", "r5"),
        deployment("argocd:shop-api-prod:5b", "argocd", "shop-api-prod", t(5, 8), "succeeded", "r1"),
        deployment("argocd:shop-api-prod:5c", "argocd", "shop-api-prod", t(5, 10), "succeeded", "r5"),
        deployment("argocd:shop-api-prod:5d", "argocd", "shop-api-prod", t(5, 12), "succeeded", "r6"),
    ]
    assert shipping_of_a_request_merged_at_9_on_the_5th(tmp_path, attempts) == (
        "argocd:shop-api-prod:5d",
        pytest.approx(3.0),
        "first deployment after merge",
    )


def test_a_deployment_started_before_the_merge_does_not_ship_it(tmp_path: Path) -> None:
    """shop-db (GitLab project 12) on the 12th: G601 deploys old1, its job running 10:00-10:10; MR 88 is merged at
    10:05 (merge commit new1); G602 deploys new1, 10:40-11:00. GitLab's lists of the requests each deployment shipped
    are not read. G601 finished after the merge but started before it, on a commit chosen then: MR 88 ships with
    G602, lead time 11:00 - 10:05 = 55 min (0.917 h), not G601's 5 min."""
    lake, settings = estate_lake(tmp_path)
    old = deployment("gitlab:601", "gitlab", "12", t(12, 10, 10), "succeeded", "old1") | {"started_at": t(12, 10)}
    new = deployment("gitlab:602", "gitlab", "12", t(12, 11), "succeeded", "new1") | {"started_at": t(12, 10, 40)}
    write(lake, "deploys/deployment_events", old, new)
    merged = {"mr_id": 88, "project_id": 12, "merged_at": t(12, 10, 5), "updated_at": t(12, 10, 5)}
    write(lake, "gitlab/merge_requests", merged | {"merge_commit_sha": "new1", "target_branch": "main"})
    assert shipped_by(lake, settings, [88]) == {
        88: ("gitlab:602", pytest.approx(55 / 60), "first deployment after merge")
    }


@pytest.mark.parametrize("start", ["known", "unknown"])
def test_an_argocd_sync_started_before_the_merge_does_not_ship_it(tmp_path: Path, start: str) -> None:
    """shop-api (ArgoCD shop-api-prod, GitLab project 11) runs r1 since D1 on the 1st. On the 5th sync A (r5) runs
    08:50-09:10; MR 8 is merged at 09:00; sync B (r6) finishes at 10:00. A resolved its revision when it started,
    before the merge: MR 8 ships with B, lead time 10:00 - 09:00 = 1 hour. Where ArgoCD's history gives no start
    for A (an entry too old), its finish stands for it: A, 10 minutes."""
    a = deployment("argocd:shop-api-prod:5a", "argocd", "shop-api-prod", t(5, 9, 10), "succeeded", "r5")
    a["started_at"] = t(5, 8, 50) if start == "known" else None
    b = deployment("argocd:shop-api-prod:5b", "argocd", "shop-api-prod", t(5, 10), "succeeded", "r6")
    expected = ("argocd:shop-api-prod:5b", pytest.approx(1.0)) if start == "known" else (a["deployment_key"], 1 / 6)
    assert shipping_of_a_request_merged_at_9_on_the_5th(tmp_path, [a, b]) == (
        expected[0],
        pytest.approx(expected[1]),
        "first deployment after merge",
    )


def test_a_merge_request_shipped_after_as_of_has_no_lead_time_yet(tmp_path: Path) -> None:
    """MR 9 (shop-api's project 11) is merged at 09:00 on the 20th; ArgoCD deploys r9 to shop-api-prod at 10:10,
    ingested ahead of the build of 10:00. At 10:00 the request is not deployed yet: no lead time, as DORA counts it.
    At 11:00 it shipped with that deployment, 1 hour 10 minutes after its merge."""
    lake, settings = estate_lake(tmp_path)
    shipped = deployment("argocd:shop-api-prod:9", "argocd", "shop-api-prod", t(20, 10, 10), "succeeded", "r9")
    write(lake, "deploys/deployment_events", shipped)
    write(lake, "gitlab/merge_requests", {"mr_id": 9, "project_id": 11, "merged_at": t(20, 9), "updated_at": t(20, 9)})
    found = {}
    for as_of in (AS_OF, AS_OF + timedelta(hours=1)):
        build(lake, settings, mode="full", as_of=as_of)
        with reading(lake, settings) as built:
            found[as_of.hour] = [
                (r["deployment_key"], r["lead_time_hours"]) for r in mart(built, "mv_lead_times", "mr_id = 9")
            ]
    assert found[10] == []
    assert found[11] == [("argocd:shop-api-prod:9", pytest.approx(70 / 60))]


def shipping_of_a_request_merged_at_9_on_the_5th(tmp_path: Path, attempts: list[dict]) -> tuple:
    """The deployment, lead time and rule of MR 8 (shop-api's project 11, merged at 09:00 on the 5th) once the
    estate has these deployment attempts too."""
    lake, settings = estate_lake(tmp_path)
    write(lake, "deploys/deployment_events", *attempts)
    write(lake, "gitlab/merge_requests", {"mr_id": 8, "project_id": 11, "merged_at": t(5, 9), "updated_at": t(5, 9)})
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        lead = one(mart(built, "mv_lead_times", "mr_id = 8"))
    return lead["deployment_key"], lead["lead_time_hours"], lead["match_rule"]


@pytest.mark.parametrize("order", ["a first", "b first"])
def test_of_two_deployments_shipping_a_merge_request_at_the_same_instant_the_smaller_key_ships_it(
    tmp_path: Path, order: str
) -> None:
    """shop-api (ArgoCD shop-api-prod, GitLab project 11) runs r1 since D1 on the 1st. MR 8 is merged at 09:00 on
    the 5th; two syncs, A (r6) and B (r7), both finish at 11:00, GitLab listing neither. The first deployment after
    the merge is whichever of the two comes first in the deployment sequence (finish time, then key): A, whatever
    order their events were written in. Lead time 11:00 - 09:00 = 2 hours."""
    tied = [
        deployment("argocd:shop-api-prod:5a", "argocd", "shop-api-prod", t(5, 11), "succeeded", "r6"),
        deployment("argocd:shop-api-prod:5b", "argocd", "shop-api-prod", t(5, 11), "succeeded", "r7"),
    ]
    attempts = tied if order == "a first" else tied[::-1]
    assert shipping_of_a_request_merged_at_9_on_the_5th(tmp_path, attempts) == (
        "argocd:shop-api-prod:5a",
        pytest.approx(2.0),
        "first deployment after merge",
    )


def test_an_incident_naming_its_change_is_linked_to_it_though_the_attempt_the_change_covers_failed(
    tmp_path: Path,
) -> None:
    """CHG3 on quiet's CI worked 09:00-10:00 on the 10th. quiet-prod's attempt Q1 failed at 10:00, the one closest
    to the change's end, so the one the change covers; the retry Q2 succeeded at 10:20. INC9 opened at 11:00 naming
    CHG3 as its cause and was restored at 13:00. The incident's own record names the change: in full mode it is
    linked to the change's attempt Q1 at 0.95, and counts. Q1, failed, was already a change failure: the link
    adds the incident, and Q1 recovers when both Q2 has succeeded (10:20) and INC9 is restored (13:00): at 13:00,
    3 hours after it. DORA for quiet: 1 change failure (Q1) of 2 attempts; recovery 3 h."""
    lake, settings = estate_lake(tmp_path)
    write(
        lake,
        "deploys/deployment_events",
        deployment("argocd:quiet-prod:1", "argocd", "quiet-prod", t(10, 10), "failed", "q1"),
        deployment("argocd:quiet-prod:2", "argocd", "quiet-prod", t(10, 10, 20), "succeeded", "q1"),
    )
    chg3 = change("3" * 32, "CHG3", CI_Q, (t(10, 9), t(10, 10)), "successful", t(9), t(10, 11))
    write(lake, "servicenow/changes", chg3)
    inc9 = incident("i9" * 16, "INC9", CI_Q, t(10, 11), 2, 6, resolved=t(10, 13), caused_by="3" * 32)
    write(lake, "servicenow/incidents", inc9)
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        link = one(mart(built, "mv_incident_links", "incident_number = 'INC9' and correlation_mode = 'full'"))
        first = one(mart(built, "mv_deployments", "deployment_key = 'argocd:quiet-prod:1'"))
        quiet = dora(built, "quiet")
    assert (link["rule"], link["deployment_key"], link["confidence"], link["counts_as_change_failure"]) == (
        "change_caused_by",
        "argocd:quiet-prod:1",
        0.95,
        True,
    )
    assert link["hours_after_deployment"] == pytest.approx(1.0)
    assert first["incident_numbers_full"] == ["INC9"] and first["recovered_at_full"] == t(10, 13)
    assert (quiet["change_failure_numerator"], quiet["change_failure_denominator"]) == (1, 2)
    assert quiet["recovery_sample"] == 1 and quiet["recovery_median_hours"] == pytest.approx(3.0)


def test_a_failed_attempt_recovered_after_as_of_is_not_recovered_yet(tmp_path: Path) -> None:
    """quiet-prod's Q1 failed on the 20th at 09:00; Q2 succeeded at 10:20, already ingested when the build of 10:00
    (as_of) runs. At as_of Q2 has not happened, as an incident restored after as_of is not yet counted by MTTR: Q1
    is not recovered. DORA for quiet over 30 days: 1 change failure (Q1) of 1 attempt (Q2 is after the period),
    not recovered, rather than recovered in 1 h 20."""
    lake, settings = estate_lake(tmp_path)
    write(
        lake,
        "deploys/deployment_events",
        deployment("argocd:quiet-prod:1", "argocd", "quiet-prod", t(20, 9), "failed", "q1"),
        deployment("argocd:quiet-prod:2", "argocd", "quiet-prod", AS_OF + timedelta(minutes=20), "succeeded", "q1"),
    )
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        first = one(mart(built, "mv_deployments", "deployment_key = 'argocd:quiet-prod:1'"))
        quiet = dora(built, "quiet")
    assert first["is_change_failure_full"]
    assert (first["recovered_at_full"], first["recovered_at_light"]) == (None, None)
    assert (quiet["change_failure_numerator"], quiet["change_failure_denominator"]) == (1, 1)
    assert (quiet["recovery_state"], quiet["recovery_sample"], quiet["recovery_median_hours"]) == (
        "not recovered",
        0,
        None,
    )


def test_a_deployment_whose_incident_is_restored_after_as_of_is_not_recovered_yet(tmp_path: Path) -> None:
    """quiet-prod's Q1 succeeded on the 20th at 08:00, covered by CHG3 (worked 07:30-08:00). INC9 opened at 08:30
    naming CHG3, and was resolved at 10:30, already ingested when the build of 10:00 (as_of) runs. Q1 is a change
    failure in both modes (the change named, 0.95; the application's window). At as_of INC9 is not restored yet:
    MTTR leaves it out (no incident restored), and Q1 is not recovered, rather than recovered in 2 h 30."""
    lake, settings = estate_lake(tmp_path)
    q1 = deployment("argocd:quiet-prod:1", "argocd", "quiet-prod", t(20, 8), "succeeded", "q1")
    write(lake, "deploys/deployment_events", q1)
    chg3 = change("3" * 32, "CHG3", CI_Q, (t(20, 7, 30), t(20, 8)), "successful", t(19), t(20, 8))
    write(lake, "servicenow/changes", chg3)
    inc9 = incident("i9" * 16, "INC9", CI_Q, t(20, 8, 30), 2, 6, resolved=t(20, 10, 30), caused_by="3" * 32)
    write(lake, "servicenow/incidents", inc9)
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        first = one(mart(built, "mv_deployments", "deployment_key = 'argocd:quiet-prod:1'"))
        quiet = dora(built, "quiet")
    assert first["incident_numbers_full"] == first["incident_numbers_light"] == ["INC9"]
    assert (first["recovered_at_full"], first["recovered_at_light"]) == (None, None)
    assert (quiet["change_failure_numerator"], quiet["change_failure_denominator"]) == (1, 1)
    assert (quiet["recovery_state"], quiet["recovery_sample"]) == ("not recovered", 0)
    assert (quiet["mttr_state"], quiet["mttr_sample"]) == ("no incidents restored", 0)


@pytest.mark.parametrize("evidence", ["rollback", "incident", "unsuccessful change"])
def test_a_deployment_failed_by_an_event_after_as_of_has_not_failed_yet(tmp_path: Path, evidence: str) -> None:
    """quiet-prod deployed q1 on the 10th and q2 on the 20th at 09:50, covered by CHG3 (worked 09:40-09:55). Just
    after as_of (10:00), already ingested when the build of 10:00 runs: q1 deployed again at 10:10 (a rollback),
    or INC9 (P3) opened at 10:10 naming CHG3 (a link of 0.95), or CHG3 worked until 10:20 and closed unsuccessful.
    None of them has happened at as_of: q2 is no change failure yet, as an incident opened after as_of is not open
    yet. Top risks count no failed change for quiet, the 20th's day row 1 deployment (q2) and no failure, DORA over
    30 days 0 failures of 2 attempts. The build of 11:00 counts it: q2 a change failure, 1 failed change in 7 days,
    1 failure on the 20th and over 30 days (the rollback, by then, one more attempt of each)."""
    lake, settings = estate_lake(tmp_path)
    attempts = [
        deployment("argocd:quiet-prod:1", "argocd", "quiet-prod", t(10, 9), "succeeded", "q1"),
        deployment("argocd:quiet-prod:2", "argocd", "quiet-prod", t(20, 9, 50), "succeeded", "q2"),
    ]
    if evidence == "rollback":
        attempts.append(deployment("argocd:quiet-prod:3", "argocd", "quiet-prod", t(20, 10, 10), "succeeded", "q1"))
    write(lake, "deploys/deployment_events", *attempts)
    unsuccessful = evidence == "unsuccessful change"
    work_end, close_code = (t(20, 10, 20), "unsuccessful") if unsuccessful else (t(20, 9, 55), "successful")
    chg3 = change("3" * 32, "CHG3", CI_Q, (t(20, 9, 40), work_end), close_code, t(19), work_end)
    write(lake, "servicenow/changes", chg3)
    if evidence == "incident":
        inc9 = incident("i9" * 16, "INC9", CI_Q, t(20, 10, 10), 3, 2, caused_by="3" * 32)
        write(lake, "servicenow/incidents", inc9)
    found = {}
    for as_of in (AS_OF, AS_OF + timedelta(hours=1)):
        build(lake, settings, mode="full", as_of=as_of)
        with reading(lake, settings) as built:
            q2 = one(mart(built, "mv_deployments", "deployment_key = 'argocd:quiet-prod:2'"))
            risk = one(mart(built, "mv_monitoring_top_risks", "app_id = 'quiet'"))
            day = one(mart(built, "mv_monitoring_app_day_summary", "app_id = 'quiet' and day = $d", d=t(20).date()))
            quiet = dora(built, "quiet")
        found[as_of.hour] = (
            q2["is_change_failure_full"],
            risk["failed_changes_7d"],
            (day["deployments"], day["deployment_change_failures"]),
            (quiet["change_failure_numerator"], quiet["change_failure_denominator"]),
        )
    # By 11:00 the rollback is one more attempt, on the 20th and in the 30 days.
    rollback = 1 if evidence == "rollback" else 0
    assert found[10] == (False, 0, (1, 0), (0, 2))
    assert found[11] == (True, 1, (1 + rollback, 1), (1, 2 + rollback))


def test_an_incident_without_a_task_sla_has_no_sla_state_not_a_met_one(tmp_path: Path) -> None:
    """quiet's incidents at 10:00 on the 20th: INC8 (18th, 09:00) has a resolution SLA still running, not breached;
    INC9 (19th, 09:00) has one SLA, cancelled; INC10 (19th, 10:00) has none. Only INC8 has an SLA to meet: it has
    not breached (false). INC9 and INC10 have no SLA state (null), not a met one; no day counts a breach."""
    lake, settings = estate_lake(tmp_path)
    task_slas_read_from(lake)
    inc8 = incident("i8" * 16, "INC8", CI_Q, t(18, 9), 3, 2)
    inc9 = incident("i9" * 16, "INC9", CI_Q, t(19, 9), 3, 2)
    inc10 = incident("ia" * 16, "INC10", CI_Q, t(19, 10), 3, 2)
    write(lake, "servicenow/incidents", inc8, inc9, inc10)

    def sla(sys_id: str, task: dict, stage: str) -> dict:
        return {
            "sys_id": sys_id,
            "task_sys_id": task["sys_id"],
            "task_number": task["number"],
            "stage": stage,
            "has_breached": False,
            "start_time": task["opened_at"],
            "planned_end_time": t(21, 9),
            "sys_updated_on": task["opened_at"],
        }

    write(lake, "servicenow/task_slas", sla("s8" * 16, inc8, "in_progress"), sla("s9" * 16, inc9, "cancelled"))
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        flags = {r["number"]: r["sla_breached"] for r in mart(built, "mv_incidents", "app_id = 'quiet'")}
        days = quiet_incident_days(built, 18, 19)
    assert flags == {"INC8": False, "INC9": None, "INC10": None}
    assert (days[18]["sla_breaches"], days[19]["sla_breaches"]) == (0, 0)


def test_an_sla_breaching_after_as_of_has_not_breached_yet(tmp_path: Path) -> None:
    """INC8 opened on quiet on the 18th at 09:00, its resolution SLA breached that day at 13:00. INC9 opened on the
    19th at 09:00, its SLA breaching on the 20th at 10:20: after as_of (10:00), yet ingested breached when the build
    of 10:00 runs. At 10:00 only INC8 has breached: 1 breach on the 18th, none on the 19th. The build of 11:00
    counts INC9's too: 1 on the 19th."""
    lake, settings = estate_lake(tmp_path)
    task_slas_read_from(lake)
    inc8 = incident("i8" * 16, "INC8", CI_Q, t(18, 9), 3, 2)
    inc9 = incident("i9" * 16, "INC9", CI_Q, t(19, 9), 3, 2)
    write(lake, "servicenow/incidents", inc8, inc9)
    write(
        lake,
        "servicenow/task_slas",
        breached_sla(inc8, t(18, 13), "s8" * 16),
        breached_sla(inc9, t(20, 10, 20), "s9" * 16),
    )
    found = {}
    for as_of in (AS_OF, AS_OF + timedelta(hours=1)):
        build(lake, settings, mode="full", as_of=as_of)
        with reading(lake, settings) as built:
            flags = {r["number"]: r["sla_breached"] for r in mart(built, "mv_incidents", "app_id = 'quiet'")}
            days = quiet_incident_days(built, 18, 19)
        found[as_of.hour] = (flags, days[18]["sla_breaches"], days[19]["sla_breaches"])
    assert found[10] == ({"INC8": True, "INC9": False}, 1, 0)
    assert found[11] == ({"INC8": True, "INC9": True}, 1, 1)


def test_the_hourly_golden_signals_hold_the_hours_before_as_of(tmp_path: Path) -> None:
    """quiet-svc served 100 requests an hour on the 20th from 08:00 to 11:00, Dynatrace read ahead of the build:
    the hour of 10:00 is under way at as_of (10:00) and the one of 11:00 to come. The build of 10:00 has quiet's
    hours of 08:00 and 09:00, for the component and the application; the build of 11:00 adds 10:00."""
    lake, settings = estate_lake(tmp_path)
    served_by_quiet(lake, [(t(20, h), 100.0, 0.0) for h in (8, 9, 10, 11)])
    found = {}
    for as_of in (AS_OF, AS_OF + timedelta(hours=1)):
        build(lake, settings, mode="full", as_of=as_of)
        with reading(lake, settings) as built:
            hours = mart(built, "mv_golden_signals_hourly", "app_id = 'quiet' and hour >= $d", d=t(20))
        found[as_of.hour] = sorted((str(r["level"]), r["hour"].hour, r["requests"]) for r in hours)
    assert found[10] == [("application", 8, 100), ("application", 9, 100), ("component", 8, 100), ("component", 9, 100)]
    assert found[11] == [
        *(("application", h, 100) for h in (8, 9, 10)),
        *(("component", h, 100) for h in (8, 9, 10)),
    ]


def test_a_change_whose_work_ends_after_as_of_is_not_closed_yet(tmp_path: Path) -> None:
    """CHG3, on quiet, was under way (Implement) on the 20th from 09:40, as the ingest of 09:45 read it; its work
    ended at 10:20 and it closed unsuccessful, ingested when the build of 10:00 runs. At 10:00 its work is under way:
    the change calendar lists it neither closed nor failed, as the 20th's day row counts it neither implemented nor
    unsuccessful. At 11:00 it is closed and failed, and counted so."""
    lake, settings = estate_lake(tmp_path)
    chg3 = change("3" * 32, "CHG3", CI_Q, (t(20, 9, 40), t(20, 10, 20)), "unsuccessful", t(19), t(20, 10, 20))
    under_way = chg3 | {"state": -1, "work_end": None, "close_code": "", "sys_updated_on": t(20, 9, 40)}
    write(lake, "servicenow/changes", under_way, chg3)
    found = {}
    for as_of in (AS_OF, AS_OF + timedelta(hours=1)):
        build(lake, settings, mode="full", as_of=as_of)
        with reading(lake, settings) as built:
            listed = one(mart(built, "mv_changes", "number = 'CHG3'"))
            day = one(mart(built, "mv_changes_app_day", "app_id = 'quiet' and day = $d", d=t(20).date()))
        found[as_of.hour] = (listed["is_closed"], listed["is_failed"], day["implemented"], day["unsuccessful"])
    assert found[10] == (False, False, 0, 0)
    assert found[11] == (True, True, 1, 1)


def test_the_latest_deployment_is_the_last_one_finished_before_as_of(tmp_path: Path) -> None:
    """quiet-prod deployed q1 on the 19th at 09:00 and q2 on the 20th at 10:10, after as_of (10:00), ingested when
    the build of 10:00 runs. What ran at 10:00 is q1: the latest deployment of quiet-svc (the summary's) is q1 then,
    q2 from the build of 11:00. Built at 09:00 on the 19th, as q1 finishes, quiet-svc has no deployment yet."""
    lake, settings = estate_lake(tmp_path)
    attempts = [
        deployment("argocd:quiet-prod:1", "argocd", "quiet-prod", t(19, 9), "succeeded", "q1"),
        deployment("argocd:quiet-prod:2", "argocd", "quiet-prod", t(20, 10, 10), "succeeded", "q2"),
    ]
    write(lake, "deploys/deployment_events", *attempts)
    found = {}
    for as_of in (t(19, 9), AS_OF, AS_OF + timedelta(hours=1)):
        build(lake, settings, mode="full", as_of=as_of)
        with reading(lake, settings) as built:
            latest = mart(built, "mv_deployments_latest", "component_id = 'quiet-svc'")
        found[as_of] = [(r["deployment_key"], r["revision"]) for r in latest]
    assert found == {
        t(19, 9): [],
        AS_OF: [("argocd:quiet-prod:1", "q1")],
        AS_OF + timedelta(hours=1): [("argocd:quiet-prod:2", "q2")],
    }


def test_the_last_status_and_pipeline_read_before_as_of_are_kept_for_live_mode(tmp_path: Path) -> None:
    """shop-api-prod (shop-api) was read Synced and Healthy on the 20th at 09:45, then OutOfSync and Degraded at
    10:05, after as_of (10:00). Project 11 (shop-api) ran pipeline 900 (the estate's: success on main, last read on
    the 19th at 03:00) and pipeline 901, created at 09:50 but last read at 10:20, after as_of; project 12 (shop-db)
    ran pipeline 950, failed on fix, read at 09:40. quiet-prod (quiet-svc) was last read on the 12th, over a week
    before as_of. Live mode's fallback shows shop-api Synced, Healthy as of 09:45 with pipeline 900, shop-db its
    pipeline 950 and no ArgoCD status (it has no ArgoCD application), and nothing for quiet-svc."""
    lake, settings = estate_lake(tmp_path)
    status = {"sync_status": "Synced", "health_status": "Healthy", "operation_phase": "Succeeded"}
    snapshots = [
        {"app_name": "shop-api-prod", "observed_at": t(20, 9, 45)} | status,
        {"app_name": "shop-api-prod", "observed_at": t(20, 10, 5)}
        | {"sync_status": "OutOfSync", "health_status": "Degraded", "operation_phase": "Running"},
        {"app_name": "quiet-prod", "observed_at": t(12, 9)} | status,
    ]
    write(lake, "argocd/app_status", *snapshots)
    url = "https://gitlab.example/shop/db/-/pipelines/950"
    ran = [
        {"pipeline_id": 901, "project_id": 11, "status": "success", "ref": "main"}
        | {"created_at": t(20, 9, 50), "updated_at": t(20, 10, 20)},
        {"pipeline_id": 950, "project_id": 12, "status": "failed", "ref": "fix", "web_url": url}
        | {"created_at": t(20, 9, 30), "updated_at": t(20, 9, 40)},
    ]
    write(lake, "gitlab/pipelines", *ran)
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        found = mart(built, "mv_live_status_latest", "true order by component_id")
    read = ("sync_status", "health_status", "operation_phase", "status_observed_at")
    pipeline = ("last_pipeline_status", "last_pipeline_ref", "last_pipeline_at", "last_pipeline_url")
    assert [(r["app_id"], r["component_id"], r["environment"]) for r in found] == [
        ("shop", "shop-api", "production"),
        ("shop", "shop-db", "production"),
    ]
    assert [tuple(r[c] for c in read) for r in found] == [
        ("Synced", "Healthy", "Succeeded", t(20, 9, 45)),
        (None, None, None, None),
    ]
    assert [tuple(r[c] for c in pipeline) for r in found] == [
        ("success", "main", t(19, 3), None),
        ("failed", "fix", t(20, 9, 40), url),
    ]


def test_an_emergency_change_without_a_plan_starting_after_as_of_has_not_started_yet(tmp_path: Path) -> None:
    """CHG11, an emergency change on quiet's CI with no planned window, had its work start on the 20th at 10:10,
    after as_of (10:00), and is under way (Implement) when the build of 10:00 reads it. It has not started at 10:00:
    the 20th counts no emergency then, 1 from the build of 11:00."""
    lake, settings = estate_lake(tmp_path)
    chg11 = change(
        "b" * 32, "CHG11", CI_Q, (t(20, 10, 10), t(20, 10, 10)), "", t(20, 10, 12), t(20, 10, 12), "emergency"
    ) | {"state": -1, "work_end": None}
    write(lake, "servicenow/changes", chg11)
    found = {}
    for as_of in (AS_OF, AS_OF + timedelta(hours=1)):
        build(lake, settings, mode="full", as_of=as_of)
        with reading(lake, settings) as built:
            day = one(mart(built, "mv_changes_app_day", "app_id = 'quiet' and day = $d", d=t(20).date()))
        found[as_of.hour] = (day["emergency"], day["planned"])
    assert found == {10: (0, 0), 11: (1, 0)}


def test_an_application_mapped_directly_counts_its_own_error_logs(tmp_path: Path) -> None:
    """solo is an application mapped directly (no component) with its index: its services log as service.name =
    solo, as its Kibana query reads them. On 19 November it logged 4 ERROR lines at 09:00 and 2 at 10:00: 6 errors
    that day (they were ingested but counted for no one)."""
    lake, settings = estate_lake(tmp_path)
    solo = {"entity_id": "solo", "kind": "application", "team": "t3", "elisa_index": "logs-solo-*"}
    MappingStore(lake).apply([solo], actor="test")
    line = {"index_pattern": "logs-solo-*", "service_name": "solo", "environment": "production", "level": "ERROR"}
    logs = [line | {"hour": t(19, 9), "count": 4}, line | {"hour": t(19, 10), "count": 2}]
    write(lake, "elasticsearch/log_counts_hourly", *logs)
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        day = one(mart(built, "mv_monitoring_app_day_summary", "app_id = 'solo' and day = $d", d=date(2026, 11, 19)))
    assert day["log_errors"] == 6


def test_logs_whose_environment_is_written_with_capitals_count_for_the_mappings_environment(tmp_path: Path) -> None:
    """solo's loggers write deployment.environment as "Production"; the mapping, like every mapping id, says
    production. On 19 November solo logged 4 ERROR lines at 09:00 written "Production" and 2 at 10:00 written
    "production": 6 errors that day (the first 4 were ingested and counted for no one)."""
    lake, settings = estate_lake(tmp_path)
    solo = {"entity_id": "solo", "kind": "application", "team": "t3", "elisa_index": "logs-solo-*"}
    MappingStore(lake).apply([solo], actor="test")
    line = {"index_pattern": "logs-solo-*", "service_name": "solo", "level": "ERROR"}
    logs = [
        line | {"environment": "Production", "hour": t(19, 9), "count": 4},
        line | {"environment": "production", "hour": t(19, 10), "count": 2},
    ]
    write(lake, "elasticsearch/log_counts_hourly", *logs)
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        day = one(mart(built, "mv_monitoring_app_day_summary", "app_id = 'solo' and day = $d", d=date(2026, 11, 19)))
    assert day["log_errors"] == 6


def test_an_incident_is_counted_as_its_version_at_as_of_left_it(tmp_path: Path) -> None:
    """Both read when the build of 10:00 on the 20th runs, ahead of it. INC13 on quiet-svc opened on the 19th at
    09:00 and was resolved at 11:00, then reopened at 10:30 on the 20th: at as_of it was restored, after 2 hours, so
    quiet's MTTR over 30 days counts it and no backlog holds it after the 19th. INC14, a P1 opened at 08:00 on the
    20th, was canceled at 10:30: at as_of it was open, so the 20th ends with it in the backlog and quiet is red."""
    lake, settings = estate_lake(tmp_path)
    resolved = incident("id" * 16, "INC13", CI_Q, t(19, 9), 3, 6, resolved=t(19, 11))
    reopened = resolved | {"state": 2, "sys_updated_on": AS_OF + timedelta(minutes=30)}
    opened = incident("ie" * 16, "INC14", CI_Q, t(20, 8), 1, 2)
    canceled = opened | {"state": 8, "sys_updated_on": AS_OF + timedelta(minutes=30)}
    write(lake, "servicenow/incidents", resolved, reopened, opened, canceled)
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        quiet = dora(built, "quiet")
        days = quiet_incident_days(built, 19, 20)
        risk = one(mart(built, "mv_monitoring_top_risks", "app_id = 'quiet'"))
    assert (quiet["mttr_sample"], quiet["mttr_median_hours"]) == (1, pytest.approx(2.0))
    assert (days[19]["restored"], days[19]["open_end_of_day"]) == (1, 0)
    assert (days[20]["open_end_of_day"], days[20]["open_p1_p2_end_of_day"]) == (1, 1)
    assert (risk["open_p1_p2"], risk["health"]) == (1, "red")


def test_a_change_under_way_past_its_planned_end_has_not_ended(tmp_path: Path) -> None:
    """CHG12 on quiet's CI was planned for the 19th 06:00-07:00; its work started at 08:00, after the planned end,
    and is still under way (Implement, no work end) when the build of the 20th 10:00 runs. quiet-prod deployed at
    09:30, during the work. The change runs from 08:00 and has not ended: its end is open, not 07:00 (before its
    start), so it covers the 09:30 deployment. The calendar counts it planned on the 19th, implemented on no day."""
    lake, settings = estate_lake(tmp_path)
    write(
        lake,
        "deploys/deployment_events",
        deployment("argocd:quiet-prod:1", "argocd", "quiet-prod", t(19, 9, 30), "succeeded", "q1"),
    )
    planned = (t(19, 6), t(19, 7))
    chg12 = change("c" * 32, "CHG12", CI_Q, (t(19, 8), t(19, 8)), "", t(18), t(19, 8), planned=planned)
    write(lake, "servicenow/changes", chg12 | {"state": -1, "work_end": None})
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        chg = one(mart(built, "mv_changes", "number = 'CHG12'"))
        where = "app_id = 'quiet' and environment = 'production' and day between $a and $b"
        days = {r["day"].day: r for r in mart(built, "mv_changes_app_day", where, a=t(18).date(), b=t(20).date())}
    assert (chg["change_start"], chg["change_end"]) == (t(19, 8), None)
    assert (chg["deployment_key"], chg["is_closed"]) == ("argocd:quiet-prod:1", False)
    assert [(days[d]["planned"], days[d]["implemented"]) for d in (18, 19, 20)] == [(0, 0), (1, 0), (0, 0)]


def test_a_change_closed_without_a_work_end_ends_no_earlier_than_its_work_started(tmp_path: Path) -> None:
    """CHG13 on quiet's CI was planned for the 5th 22:00-23:00; its work started on the 6th at 01:00 and it was
    closed successful without a work end. It ended when its work started (the later of its planned end and its
    work start), not at 23:00 on the 5th, before the work: implemented on the 6th, and it covers quiet-prod's
    deployment at 01:30 on the 6th (within its window's hour of slack)."""
    lake, settings = estate_lake(tmp_path)
    write(
        lake,
        "deploys/deployment_events",
        deployment("argocd:quiet-prod:1", "argocd", "quiet-prod", t(6, 1, 30), "succeeded", "q1"),
    )
    planned = (t(5, 22), t(5, 23))
    chg13 = change("d" * 32, "CHG13", CI_Q, (t(6, 1), t(6, 1)), "successful", t(4), t(6, 2), planned=planned)
    write(lake, "servicenow/changes", chg13 | {"work_end": None})
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        chg = one(mart(built, "mv_changes", "number = 'CHG13'"))
        where = "app_id = 'quiet' and environment = 'production' and day between $a and $b"
        days = {r["day"].day: r for r in mart(built, "mv_changes_app_day", where, a=t(5).date(), b=t(6).date())}
    assert (chg["change_start"], chg["change_end"], chg["is_closed"]) == (t(6, 1), t(6, 1), True)
    assert chg["deployment_key"] == "argocd:quiet-prod:1"
    assert [(days[d]["planned"], days[d]["implemented"], days[d]["successful"]) for d in (5, 6)] == [
        (1, 0, 0),
        (0, 1, 1),
    ]


def test_the_applications_own_ci_reaches_the_deployments_of_its_components(tmp_path: Path) -> None:
    """duo has components duo-a and duo-b, each deployed by its own ArgoCD app, and a ServiceNow CI of its own,
    mapped to the application itself. On the 5th duo-b deployed at 08:00 and duo-a at 09:00; CHG14, on duo's CI,
    worked 08:40-09:10 and closed unsuccessful; INC20 opened on duo's CI at 10:00, an hour after duo-a's deployment.
    On the 7th duo-b deployed at 09:00 and INC21 opened on duo's CI at 10:00, with no change.
    CHG14 is the application's change: it covers the application's attempt finished closest to its end, duo-a's
    (10 minutes before it; duo-b's was 70), which its close code fails. INC20 follows a change on its CI that ended
    50 minutes before it: linked to duo-a's deployment in full mode (0.70); in light mode to the application's last
    deployment, duo-a's too. INC21 is linked in light mode to duo-b's deployment, the application's last; in full
    mode it names no component, and the application has no deployment of its own: no link."""
    lake, settings = estate_lake(tmp_path)
    duo_ci = "f" * 32
    duo = [
        {"entity_id": "duo", "kind": "application", "team": "t3", "domain": "d3", "servicenow_ci_id": duo_ci},
        {"entity_id": "duo-a", "kind": "component", "application_id": "duo", "argocd_app_name": "duo-a-prod"},
        {"entity_id": "duo-b", "kind": "component", "application_id": "duo", "argocd_app_name": "duo-b-prod"},
    ]
    MappingStore(lake).apply([*mapping(), *duo], actor="test", replace=True)
    write(
        lake,
        "deploys/deployment_events",
        deployment("argocd:duo-b-prod:1", "argocd", "duo-b-prod", t(5, 8), "succeeded", "b1"),
        deployment("argocd:duo-a-prod:1", "argocd", "duo-a-prod", t(5, 9), "succeeded", "a1"),
        deployment("argocd:duo-b-prod:2", "argocd", "duo-b-prod", t(7, 9), "succeeded", "b2"),
    )
    chg14 = change("e" * 32, "CHG14", duo_ci, (t(5, 8, 40), t(5, 9, 10)), "unsuccessful", t(4), t(5, 9, 20))
    write(lake, "servicenow/changes", chg14)
    write(
        lake,
        "servicenow/incidents",
        incident("k1" * 16, "INC20", duo_ci, t(5, 10), 3, 6, t(5, 11)),
        incident("k2" * 16, "INC21", duo_ci, t(7, 10), 3, 6, t(7, 11)),
    )
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        chg = one(mart(built, "mv_changes", "number = 'CHG14'"))
        links = mart(built, "mv_incident_links", "app_id = 'duo' order by incident_number, correlation_mode")
        failed = {
            r["deployment_key"]: r["change_unsuccessful"] for r in mart(built, "mv_deployments", "app_id = 'duo'")
        }
    assert chg["deployment_key"] == "argocd:duo-a-prod:1"
    assert failed == {"argocd:duo-a-prod:1": True, "argocd:duo-b-prod:1": False, "argocd:duo-b-prod:2": False}
    assert [(r["incident_number"], r["correlation_mode"], r["rule"], r["deployment_key"]) for r in links] == [
        ("INC20", "full", "change_ci_window", "argocd:duo-a-prod:1"),
        ("INC20", "light", "same_app_window", "argocd:duo-a-prod:1"),
        ("INC21", "light", "same_app_window", "argocd:duo-b-prod:2"),
    ]


def test_a_change_is_counted_as_its_version_at_as_of_left_it(tmp_path: Path) -> None:
    """Read when the build of 10:00 on the 20th runs, ahead of it. CHG12 on quiet-svc was worked from 08:00 to 09:00
    on the 20th and closed successful at 09:10; at 10:10 its close code was corrected to unsuccessful. It covers
    quiet-prod's Q1, finished at 08:50. CHG13 was created at 10:05, planned for the 21st. At 10:00 CHG12 is closed
    successful: the 20th counts 1 successful implementation and no unsuccessful one, Q1 is no change failure and
    quiet has no failed change; CHG13 is not listed. At 11:00 CHG12 is unsuccessful: Q1 is a change failure, the
    20th counts 1 unsuccessful implementation, quiet 1 failed change (+10); CHG13 is listed, planned."""
    lake, settings = estate_lake(tmp_path)
    q1 = deployment("argocd:quiet-prod:1", "argocd", "quiet-prod", t(20, 8, 50), "succeeded", "q1")
    write(lake, "deploys/deployment_events", q1)
    successful = change("c" * 32, "CHG12", CI_Q, (t(20, 8), t(20, 9)), "successful", t(19), t(20, 9, 10))
    unsuccessful = successful | {"close_code": "unsuccessful", "sys_updated_on": AS_OF + timedelta(minutes=10)}
    created, window = AS_OF + timedelta(minutes=5), (t(21, 9), t(21, 10))
    planned = change("d" * 32, "CHG13", CI_Q, window, "", created, created, planned=window)
    planned |= {"state": -2, "work_start": None, "work_end": None}
    write(lake, "servicenow/changes", successful, unsuccessful, planned)
    found = {}
    for as_of in (AS_OF, AS_OF + timedelta(hours=1)):
        build(lake, settings, mode="full", as_of=as_of)
        with reading(lake, settings) as built:
            listed = {r["number"]: r for r in mart(built, "mv_changes", "app_id = 'quiet'")}
            day = one(mart(built, "mv_changes_app_day", "app_id = 'quiet' and day = $d", d=t(20).date()))
            first = one(mart(built, "mv_deployments", "deployment_key = 'argocd:quiet-prod:1'"))
            risk = one(mart(built, "mv_monitoring_top_risks", "app_id = 'quiet'"))
        chg12 = listed["CHG12"]
        found[as_of.hour] = (
            sorted(listed),
            (chg12["close_code"], chg12["is_closed"], chg12["is_failed"]),
            (day["successful"], day["unsuccessful"]),
            first["is_change_failure_full"],
            risk["failed_changes_7d"],
        )
    assert found[10] == (["CHG12"], ("successful", True, False), (1, 0), False, 0)
    assert found[11] == (["CHG12", "CHG13"], ("unsuccessful", True, True), (0, 1), True, 1)


def one_row_at_10_and_11(
    lake: Lake, settings: Settings, table: str, where: str, columns: tuple[str, ...]
) -> dict[int, tuple[Any, ...]]:
    """`columns` of the one row of `table` that `where` picks, as built at 10:00 (AS_OF) and at 11:00, by hour."""
    found = {}
    for as_of in (AS_OF, AS_OF + timedelta(hours=1)):
        build(lake, settings, mode="full", as_of=as_of)
        with reading(lake, settings) as built:
            listed = one(mart(built, table, where))
        found[as_of.hour] = tuple(listed[c] for c in columns)
    return found


def test_an_incident_open_at_as_of_shows_no_restoration_after_it(tmp_path: Path) -> None:
    """INC15, a P2 on quiet-svc opened on the 20th at 08:00, was first read resolved at 10:30, ahead of the build of
    10:00: its one version is after as_of, so it keeps it. At 10:00 it is open, 2 hours old, and has no resolution
    nor duration yet (they would end at 10:30, after as_of), nor a state: the one read, Resolved, came after as_of,
    and what it was at 10:00 was not read. At 11:00 it was resolved at 10:30, after 2.5 hours."""
    lake, settings = estate_lake(tmp_path)
    inc15 = incident("if" * 16, "INC15", CI_Q, t(20, 8), 2, 6, resolved=AS_OF + timedelta(minutes=30))
    write(lake, "servicenow/incidents", inc15 | {"state_label": "Resolved"})
    columns = ("is_open", "state", "state_label", "resolved_at", "restored_at", "duration_hours", "open_age_hours")
    found = one_row_at_10_and_11(lake, settings, "mv_incidents", "number = 'INC15'", columns)
    assert found[10] == (True, None, None, None, None, None, 2.0)
    resolved = AS_OF + timedelta(minutes=30)
    assert found[11] == (False, 6, "Resolved", resolved, resolved, 2.5, None)


def test_a_change_closed_after_as_of_shows_no_closed_state_at_as_of(tmp_path: Path) -> None:
    """CHG18 on quiet-svc was created on the 19th and worked on the 20th from 09:30 to 10:20; it was first read
    closed successful at 10:25, ahead of the build of 10:00. At 10:00 its work was under way: it is not closed, and
    its one version's state (Closed) and close code (successful) are not what it was then, which was not read: both
    are blank. At 11:00 it is closed successful, its state Closed."""
    lake, settings = estate_lake(tmp_path)
    chg18 = change("a1" * 16, "CHG18", CI_Q, (t(20, 9, 30), t(20, 10, 20)), "successful", t(19), t(20, 10, 25))
    write(lake, "servicenow/changes", chg18 | {"state_label": "Closed"})
    columns = ("is_closed", "state", "state_label", "close_code")
    found = one_row_at_10_and_11(lake, settings, "mv_changes", "number = 'CHG18'", columns)
    assert found[10] == (False, None, None, None)
    assert found[11] == (True, 3, "Closed", "successful")


def test_a_change_created_before_as_of_and_first_read_after_it_is_listed(tmp_path: Path) -> None:
    """CHG16 on quiet-svc was created at 09:58 on the 20th, planned for the 21st 09:00-10:00, and assessed at 10:05,
    before the next ingest read it: its one stored version is after as_of. It existed at 10:00, so the build of
    10:00 lists it, as that version (an incident first read after as_of is kept the same way); CHG17, created at
    10:05, did not exist yet."""
    lake, settings = estate_lake(tmp_path)
    window = (t(21, 9), t(21, 10))
    assessed = change("e" * 32, "CHG16", CI_Q, window, "", t(20, 9, 58), t(20, 10, 5), planned=window)
    assessed |= {"state": -4, "work_start": None, "work_end": None}
    later = change("f" * 32, "CHG17", CI_Q, window, "", t(20, 10, 5), t(20, 10, 5), planned=window)
    later |= {"state": -5, "work_start": None, "work_end": None}
    write(lake, "servicenow/changes", assessed, later)
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        listed = {r["number"]: r for r in mart(built, "mv_changes", "app_id = 'quiet'")}
    assert sorted(listed) == ["CHG16"]
    assert (listed["CHG16"]["state"], listed["CHG16"]["change_start"]) == (-4, t(21, 9))


def test_a_change_whose_work_ended_before_its_planned_start_starts_no_later_than_it_ended(tmp_path: Path) -> None:
    """CHG18 on quiet-svc was planned for the 19th 10:00-11:00, but its work was recorded as ended at 07:30 with no
    work start (closed successful). Its start was its planned start, 10:00, after its end: an inverted window. It
    now starts no later than its work ended: at 07:30, a window of no length, counted on the 19th."""
    lake, settings = estate_lake(tmp_path)
    chg18 = change(
        "18" * 16,
        "CHG18",
        CI_Q,
        (t(19, 7, 30), t(19, 7, 30)),
        "successful",
        t(18),
        t(19, 8),
        planned=(t(19, 10), t(19, 11)),
    )
    chg18 |= {"work_start": None}
    write(lake, "servicenow/changes", chg18)
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        listed = one(mart(built, "mv_changes", "number = 'CHG18'"))
        day = one(mart(built, "mv_changes_app_day", "app_id = 'quiet' and day = $d", d=t(19).date()))
    assert (listed["change_start"], listed["change_end"]) == (t(19, 7, 30), t(19, 7, 30))
    assert day["successful"] == 1


def test_a_root_cause_in_an_application_reaches_the_deployments_of_its_components(tmp_path: Path) -> None:
    """duo has components duo-a and duo-b, each deployed by its own ArgoCD app; duo itself (Dynatrace SERVICE-DUO)
    and duo-b (SERVICE-DUOB) each have a ServiceNow CI. On the 5th duo-b deployed at 08:00 and duo-a at 09:00.
    Two problems start at 10:00 and close at 12:00, one rooted in duo, one in duo-b; INC30 opens on duo's CI and
    INC31 on duo-b's, both at 10:30, while they are open.
    The problem rooted in the application follows the deployment of whichever of its components deployed last
    within 4 h: duo-a's, an hour before it, so INC30 is linked to it by the root cause (0.80), 1.5 h after it. The
    problem rooted in duo-b follows duo-b's deployments only: duo-b's, 2 h before it, not duo-a's, later, so INC31
    is linked to duo-b's (0.80), 2.5 h after it. In light mode both are linked to the application's last
    deployment, duo-a's."""
    lake, settings = estate_lake(tmp_path)
    duo_ci, duo_b_ci = "f" * 32, "9" * 32
    duo = [
        {
            "entity_id": "duo",
            "kind": "application",
            "team": "t3",
            "domain": "d3",
            "servicenow_ci_id": duo_ci,
            "dynatrace_entity_selector": 'entityId("SERVICE-DUO")',
        },
        {"entity_id": "duo-a", "kind": "component", "application_id": "duo", "argocd_app_name": "duo-a-prod"},
        {
            "entity_id": "duo-b",
            "kind": "component",
            "application_id": "duo",
            "argocd_app_name": "duo-b-prod",
            "servicenow_ci_id": duo_b_ci,
            "dynatrace_entity_selector": 'entityId("SERVICE-DUOB")',
        },
    ]
    MappingStore(lake).apply([*mapping(), *duo], actor="test", replace=True)
    write(
        lake,
        "deploys/deployment_events",
        deployment("argocd:duo-b-prod:1", "argocd", "duo-b-prod", t(5, 8), "succeeded", "b1"),
        deployment("argocd:duo-a-prod:1", "argocd", "duo-a-prod", t(5, 9), "succeeded", "a1"),
    )
    write(
        lake,
        "dynatrace/problems",
        problem("30", "SERVICE-DUO", t(5, 10), t(5, 12)),
        problem("31", "SERVICE-DUOB", t(5, 10), t(5, 12)),
    )
    write(
        lake,
        "servicenow/incidents",
        incident("k3" * 16, "INC30", duo_ci, t(5, 10, 30), 3, 6, t(5, 11)),
        incident("k4" * 16, "INC31", duo_b_ci, t(5, 10, 30), 3, 6, t(5, 11)),
    )
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        links = mart(built, "mv_incident_links", "app_id = 'duo' order by incident_number, correlation_mode")
    found = [
        (r["incident_number"], r["correlation_mode"], r["rule"], r["confidence"], r["deployment_key"]) for r in links
    ]
    assert found == [
        ("INC30", "full", "dynatrace_root_cause", 0.80, "argocd:duo-a-prod:1"),
        ("INC30", "light", "same_app_window", 0.50, "argocd:duo-a-prod:1"),
        ("INC31", "full", "dynatrace_root_cause", 0.80, "argocd:duo-b-prod:1"),
        ("INC31", "light", "same_app_window", 0.50, "argocd:duo-a-prod:1"),
    ]
    assert [r["hours_after_deployment"] for r in links if r["correlation_mode"] == "full"] == [1.5, 2.5]


def test_an_estate_whose_production_is_named_prod_is_judged_there(tmp_path: Path) -> None:
    """The hand-made estate with its production environment named `prod` (as its GitLab names it), and
    ROSETTA_PRODUCTION_ENVIRONMENT=prod. shop-api is also mapped in staging, on the same CI and Dynatrace service.
    The top risks are prod's: shop as in production (INC2 an open P1: +20; D2 and G1 failed: +20; red). INC1, on a
    CI both environments map, is prod's, and so are SERVICE-A's hours (24 x 1000 requests with shop-db's 20 x 500)."""
    settings = Settings(
        lake_url=str(tmp_path / "lake"), duckdb_temp_directory=tmp_path / "duckdb", production_environment="prod"
    )
    lake = Lake.from_settings(settings)
    staging = [
        {"entity_id": "shop", "kind": "application", "environment": "staging"},
        {
            "entity_id": "shop-api",
            "kind": "component",
            "application_id": "shop",
            "environment": "staging",
            "dynatrace_entity_selector": 'entityId("SERVICE-A")',
            "servicenow_ci_id": CI_API,
        },
    ]
    write_estate_in(lake, "prod", *staging)
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        shop = one(mart(built, "mv_monitoring_top_risks", "app_id = 'shop'"))
        inc1 = one(mart(built, "mv_incidents", "number = 'INC1'"))
        days = mart(built, "mv_monitoring_app_day_summary", "app_id = 'shop' and day = $d", d=date(2026, 11, 19))
    assert (shop["score_open_incidents"], shop["score_failed_changes"], shop["health"]) == (20, 20, "red")
    assert inc1["environment"] == "prod"
    assert {d["environment"]: d["requests"] for d in days} == {"prod": 24 * 1000 + 20 * 500, "staging": None}


def test_an_incident_resolved_before_it_opened_has_no_duration_and_leaves_mttr_alone(tmp_path: Path) -> None:
    """INC9's record says it was resolved on the 4th at 09:00 and opened on the 5th at 09:00 (an imported or edited
    record; ServiceNow lets both times be written); INC10 opened on the 3rd at 21:00 and was resolved on the 4th at
    09:00, 12 hours. INC9 was counted as restored after -24 hours: the 4th's mean time to restore read -6 hours
    ((12 - 24) / 2), and a median or a DORA recovery time could go below zero. By hand: INC9 has no duration; the
    4th has 2 restorations and a mean and median of 12 hours, INC10's; INC9 leaves the backlog the day it opened."""
    lake, settings = estate_lake(tmp_path)
    backwards = incident("i9" * 16, "INC9", CI_Q, t(5, 9), 3, 6, resolved=t(4, 9)) | {"sys_updated_on": t(5, 10)}
    twelve_hours = incident("ia" * 16, "INC10", CI_Q, t(3, 21), 3, 6, resolved=t(4, 9))
    write(lake, "servicenow/incidents", backwards, twelve_hours)
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        durations = {r["number"]: r["duration_hours"] for r in mart(built, "mv_incidents", "app_id = 'quiet'")}
        days = quiet_incident_days(built, 3, 6)
    assert (durations["INC9"], durations["INC10"]) == (None, 12.0)
    assert (days[4]["restored"], days[4]["mttr_mean_hours"], days[4]["mttr_median_hours"]) == (2, 12.0, 12.0)
    assert [days[d]["open_end_of_day"] for d in (3, 4, 5, 6)] == [1, 0, 0, 0]
