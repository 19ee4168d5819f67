"""The risk ranking and the health built on it: the estate's red and orange applications in rank order."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb

from lakehouse.aggregates.build import build
from lakehouse.mappings import MappingStore
from lakehouse.schemas import get_dataset
from tests.unit.aggregates.estate import AS_OF, dark, deployment, estate_lake, rows, t
from tests.unit.aggregates.test_kpis import mart, reading

SQL = Path(__file__).resolve().parents[3] / "lakehouse" / "sql"


def test_a_level_names_applications_tied_on_score_in_rank_order(tmp_path: Path) -> None:
    """quiet served 100 requests an hour for 100 hours of the week before (from the 6th at 10:00; 10,000), none in the
    last 7 days: traffic lost, +20 (100 / 168 hours is over the 50 % coverage); quiet-prod failed twice on the 19th,
    +20: 40, no open P1/P2 incident, orange. shop: INC2, an open P1, +20, and 2 failed changes, +20: 40, red (the P1).
    A tie at 40, which the ranking breaks by open P1/P2 incidents: shop 1 (1 open), quiet 2 (0), broken 3 (20).
    The estate and g1 (shop, quiet) name them in that order; by score then app_id, quiet came first, so the
    overview's ten riskiest could leave out a red application ranked above an orange one it named."""
    lake, settings = estate_lake(tmp_path)
    metrics = get_dataset("dynatrace/service_metrics_hourly")
    week_before = [
        {"entity_id": "SERVICE-Q", "hour": t(6, 10) + timedelta(hours=h), "request_count": 100.0, "error_count": 0.0}
        for h in range(100)
    ]
    lake.write_days(metrics, rows(metrics.id, *week_before))
    deploys = get_dataset("deploys/deployment_events")
    failed = [
        deployment(f"argocd:quiet-prod:op{n}", "argocd", "quiet-prod", t(19, hour), "failed", "q1")
        for n, hour in ((1, 9), (2, 11))
    ]
    lake.write_days(deploys, rows(deploys.id, *failed))
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        risks = {r["app_id"]: r for r in mart(built, "mv_monitoring_top_risks")}
        health = {(r["level"], r["level_id"]): r for r in mart(built, "mv_health")}
    ranked = sorted((r["rank"], app, r["risk_score"], r["open_p1_p2"], r["health"]) for app, r in risks.items())
    assert ranked == [(1, "shop", 40, 1, "red"), (2, "quiet", 40, 0, "orange"), (3, "broken", 20, 0, "orange")]
    assert risks["quiet"]["reasons"] == [
        "2 failed change(s) in 7 days",
        "no traffic measured in the last 7 days (10,000 requests the 7 days before)",
    ]
    assert health[("estate", "estate")]["reasons"] == ["shop is red", "quiet is orange", "broken is orange"]
    assert health[("group", "g1")]["reasons"] == ["shop is red", "quiet is orange"]


def test_a_latency_slo_breached_over_7_days_scores_as_an_slo_breach(tmp_path: Path) -> None:
    """As of the 20th at 10:00, the 7 days from the 13th at 10:00 (168 hours; coverage asked: 50 %, 84 hours).
    - quiet: 100 requests an hour over the last 100 hours (from the 16th at 06:00), no error; its p95 is 600 ms in the
      first 10 of them, 200 ms after, against the default 500 ms: 90 good hours of 100, 90 % < 95 %, with 100 / 168
      hours measured: +30, orange. Its p99, 300 ms, is within 1,500 ms every hour.
    - dark: the same hours, p95 200 ms throughout, p99 2,000 ms in 10 hours: p99 90 % < 95 %: +30, named p99.
    - shop: its p95 is over 500 ms in 2 of its 24 hours of the 19th (91.7 % < 95 %), but 24 / 168 hours is under the
      coverage asked: no latency score, shop stays at 40 (an open P1 and 2 failed changes) and its reasons are those.
    Before, a latency SLO breached all week scored nothing: quiet and dark were green with no reason."""
    lake, settings = estate_lake(tmp_path)
    MappingStore(lake).apply(dark(), actor="test")
    metrics = get_dataset("dynatrace/service_metrics_hourly")
    start = AS_OF - timedelta(hours=100)
    hours = [start + timedelta(hours=h) for h in range(100)]
    slow = set(hours[:10])
    week = [
        {"entity_id": service, "hour": hour, "request_count": 100.0, "error_count": 0.0} | latencies
        for hour in hours
        for service, latencies in (
            ("SERVICE-Q", {"latency_p95_ms": 600.0 if hour in slow else 200.0, "latency_p99_ms": 300.0}),
            ("SERVICE-D", {"latency_p95_ms": 200.0, "latency_p99_ms": 2000.0 if hour in slow else 300.0}),
        )
    ]
    lake.write_days(metrics, rows(metrics.id, *week))
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        risks = {r["app_id"]: r for r in mart(built, "mv_monitoring_top_risks")}
    quiet, dark_app, shop = risks["quiet"], risks["dark"], risks["shop"]
    assert (quiet["latency_p95_sli_7d"], quiet["latency_p99_sli_7d"]) == (0.9, 1.0)
    assert (quiet["score_latency_slo"], quiet["risk_score"], quiet["health"]) == (30, 30, "orange")
    assert quiet["reasons"] == [
        "p95 latency within 500 ms in 90.000% of the hours over 7 days is below the 95.000% target"
    ]
    assert (dark_app["latency_p95_sli_7d"], dark_app["latency_p99_sli_7d"]) == (1.0, 0.9)
    assert (dark_app["risk_score"], dark_app["health"]) == (30, "orange")
    assert dark_app["reasons"] == [
        "p99 latency within 1,500 ms in 90.000% of the hours over 7 days is below the 95.000% target"
    ]
    assert shop["latency_p95_sli_7d"] == 22 / 24
    assert (shop["score_latency_slo"], shop["risk_score"]) == (0, 40)
    assert shop["reasons"] == ["1 open P1/P2 incident(s)", "2 failed change(s) in 7 days"]


def scored(apps: list[tuple[str, str]], facts: str) -> dict[tuple[str, str], dict[str, Any]]:
    """The top risks' and health's SQL over hand-made inputs, as of 2026-11-20 10:00 UTC in production, coverage 50 %:
    `apps` are (application, team) pairs at the default 99.5 % target, `facts` inserts into the tables the top risks
    read. Gives mv_health's rows by (level, level_id), the application rows with their risk score beside."""
    con = duckdb.connect()
    con.execute((SQL / "macros.sql").read_text(encoding="utf-8"))
    con.execute(
        """
        create table build_params as
            select timestamptz '2026-11-20 10:00:00+00' as as_of, 0.5 as min_coverage,
                'production' as production_environment, null as incidents_read_until, null as changes_read_until,
                null as signals_read_until, null as incidents_read_from, null as deployments_read_from,
                null as changes_read_from, date '2026-11-20' as day_from;
        create table stg_apps (app_id varchar, app_name varchar, team varchar, group_id varchar, domain varchar,
            availability_target double, environment varchar, latency_target double, latency_p95_threshold_ms double,
            latency_p99_threshold_ms double);
        create table stg_app_signals_windows (app_id varchar, environment varchar, window_name varchar,
            requests double, errors double, measured_hours bigint);
        create table stg_app_signals_daily (app_id varchar, environment varchar, day date, measured_hours bigint);
        create table stored_app_traffic_days (app_id varchar, environment varchar, day date, measured_hours bigint);
        create table mv_slo_burn_rates (app_id varchar, environment varchar, burn_rate_1h double,
            burn_rate_6h double, signals_read_until timestamptz);
        create table stg_dynatrace_entity_map (app_id varchar, environment varchar);
        create table mv_incidents (app_id varchar, environment varchar, priority integer, opened_at timestamptz,
            restored_at timestamptz, is_canceled boolean);
        create table mv_deployments (deployment_key varchar, app_id varchar, environment varchar,
            finished_at timestamptz, is_change_failure_full boolean);
        create table mv_changes (sys_id varchar, app_id varchar, environment varchar, is_failed boolean,
            is_canceled boolean, change_end timestamptz, covers_deployment boolean, deployment_key varchar);
        """
    )
    for app, team in apps:
        con.execute(
            "insert into stg_apps values ($a, $a, $t, null, null, 0.995, 'production', 0.95, 500, 1500)",
            {"a": app, "t": team},
        )
    con.execute(facts)
    # No latency measured in these hours: the latency rule has nothing to judge.
    for column in (
        "latency_measured_hours",
        "latency_p95_good_hours",
        "latency_p99_measured_hours",
        "latency_p99_good_hours",
    ):
        con.execute(f"alter table stg_app_signals_windows add column {column} bigint default 0")
    for table in ("mv_monitoring_top_risks", "mv_health"):
        sql = next(SQL.glob(f"*_{table}.sql")).read_text(encoding="utf-8")
        con.execute(f"create table {table} as {sql}")
    scores = dict(con.execute("select app_id, risk_score from mv_monitoring_top_risks").fetchall())
    found = con.execute("select * from mv_health").to_arrow_table().to_pylist()
    return {(r["level"], r["level_id"]): r | {"risk_score": scores.get(r["level_id"])} for r in found}


def test_health_colours_at_their_edges_and_teams_at_a_third_of_their_applications() -> None:
    """As of the 20th at 10:00 (the 7 days from the 13th at 10:00):
    - at-50: 990 good of 1,000 requests over 100 hours (99.0 % < 99.5 %, 100 / 168 >= 50 %: +30) and 2 failed
      deployments on the 19th (+20): 50, red without any P1;
    - at-45: the same breach (+30) and 3 P3 incidents opened and restored on the 19th (+15): 45, orange;
    - at-20: 2 failed deployments (+20): 20, orange;
    - at-15: 3 P3 incidents (+15): 15, green;
    - p1-at-20: a P1 opened on the 18th, still open (+20): 20, red for its P1;
    - calm-a, calm-b: 1,000 requests over 100 hours, no error: 0, green;
    - idle: nothing in 14 days: 'no data', and no score (null: nothing was there to score).
    Team one-in-three (at-50 red, at-45 orange, at-15 green, idle without data): 1 red x 3 >= 3 applications with
    data, red (idle counted, 1 x 3 < 4 would be orange). Team one-in-four (p1-at-20 red, at-20 orange, calm-a,
    calm-b): 1 x 3 < 4, orange. Team idle-only: 'no data'."""
    apps = [
        ("at-50", "one-in-three"),
        ("at-45", "one-in-three"),
        ("at-15", "one-in-three"),
        ("idle", "one-in-three"),
        ("p1-at-20", "one-in-four"),
        ("at-20", "one-in-four"),
        ("calm-a", "one-in-four"),
        ("calm-b", "one-in-four"),
        ("idle-too", "idle-only"),
    ]
    breach = [("at-50", 10), ("at-45", 10), ("calm-a", 0), ("calm-b", 0)]
    traffic = ", ".join(
        f"('{app}', 'production', '{window}', 1000, {errors}, 100)"
        for app, errors in breach
        for window in ("last_7d", "last_14d")
    )
    failed = ", ".join(
        f"('{app}:{n}', '{app}', 'production', timestamptz '2026-11-19 09:00:00+00', true)"
        for app in ("at-50", "at-20")
        for n in (1, 2)
    )
    recurring = ", ".join(
        f"('{app}', 'production', 3, timestamptz '2026-11-19 08:00:00+00', timestamptz '2026-11-19 09:00:00+00', false)"
        for app in ("at-45", "at-15")
        for _ in range(3)
    )
    health = scored(
        apps,
        f"""
        insert into stg_app_signals_windows values {traffic};
        insert into mv_deployments values {failed};
        insert into mv_incidents values {recurring},
            ('p1-at-20', 'production', 1, timestamptz '2026-11-18 08:00:00+00', null, false);
        """,
    )
    colours = {
        app: (health[("application", app)]["risk_score"], health[("application", app)]["health"]) for app, _ in apps
    }
    assert colours == {
        "at-50": (50, "red"),
        "at-45": (45, "orange"),
        "at-15": (15, "green"),
        "idle": (None, "no data"),
        "p1-at-20": (20, "red"),
        "at-20": (20, "orange"),
        "calm-a": (0, "green"),
        "calm-b": (0, "green"),
        "idle-too": (None, "no data"),
    }
    teams = {
        team: tuple(health[("team", team)][k] for k in ("red", "orange", "green", "no_data", "health"))
        for team in ("one-in-three", "one-in-four", "idle-only")
    }
    assert teams == {
        "one-in-three": (1, 1, 1, 1, "red"),
        "one-in-four": (1, 1, 2, 0, "orange"),
        "idle-only": (0, 0, 0, 1, "no data"),
    }


def test_an_application_with_no_data_has_no_risk_score_and_ranks_after_every_one_scored(tmp_path: Path) -> None:
    """The estate as of the 20th at 10:00: quiet has neither traffic nor an incident, a deployment or a change in the
    14 days: 'no data'. Its score is unknown (null), every score_* too, not 0, which read as a clean bill of health
    beside a green application's; it ranks last, after broken (20, orange) and shop (40, red). Its application row
    in mv_health has no highest score either; its team t2 (quiet and broken) has broken's 20."""
    lake, settings = estate_lake(tmp_path)
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        risks = {r["app_id"]: r for r in mart(built, "mv_monitoring_top_risks")}
        health = {(r["level"], r["level_id"]): r for r in mart(built, "mv_health")}
    quiet = risks["quiet"]
    assert (quiet["rank"], quiet["health"], quiet["risk_score"]) == (3, "no data", None)
    rules = ("slo", "latency_slo", "burn", "open_incidents", "recurring", "failed_changes", "trend", "traffic_lost")
    assert [quiet[f"score_{rule}"] for rule in rules] == [None] * 8
    assert [(risks[a]["rank"], risks[a]["risk_score"]) for a in ("shop", "broken")] == [(1, 40), (2, 20)]
    assert health[("application", "quiet")]["max_risk_score"] is None
    assert (health[("team", "t2")]["max_risk_score"], health[("team", "t2")]["no_data"]) == (20, 1)
