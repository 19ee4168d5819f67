"""The risk ranking and the health built on it: the estate's red and orange applications in rank order."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb

from lakehouse.aggregates.build import build
from lakehouse.schemas import get_dataset
from tests.unit.aggregates.estate import AS_OF, deployment, estate_lake, rows, t
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
                'production' as production_environment;
        create table stg_apps (app_id varchar, app_name varchar, team varchar, group_id varchar, domain varchar,
            availability_target double, environment varchar);
        create table stg_app_signals_windows (app_id varchar, environment varchar, window_name varchar,
            requests double, errors double, measured_hours bigint);
        create table mv_slo_burn_rates (app_id varchar, environment varchar, burn_rate_1h double,
            burn_rate_6h double);
        create table mv_incidents (app_id varchar, environment varchar, priority integer, opened_at timestamptz,
            restored_at timestamptz, is_canceled boolean);
        create table mv_deployments (deployment_key varchar, app_id varchar, environment varchar,
            finished_at timestamptz, is_change_failure_full boolean);
        create table mv_changes (app_id varchar, environment varchar, is_failed boolean, is_canceled boolean,
            change_end timestamptz, covers_deployment boolean, deployment_key varchar);
        """
    )
    for app, team in apps:
        con.execute("insert into stg_apps values ($a, $a, $t, null, null, 0.995, 'production')", {"a": app, "t": team})
    con.execute(facts)
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
    - idle: nothing in 14 days: 'no data', though its score, 0, is green's.
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
        "idle": (0, "no data"),
        "p1-at-20": (20, "red"),
        "at-20": (20, "orange"),
        "calm-a": (0, "green"),
        "calm-b": (0, "green"),
        "idle-too": (0, "no data"),
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
