"""The whole pipeline on a simulator estate: KPIs computed from the APIs against what the estate knows happened.

Simulators -> the four ingestion Lambda handlers -> the build handler -> mart, then compared per application
with `estate.truth`. ArgoCD only ever shows its last syncs (revisionHistoryLimit) and its last operation, so
the deployments a collector can know are those some poll saw: ArgoCD is polled daily here, as a schedule
would, and the expectation is the union of what each poll could see (GitLab keeps everything). Counts must
match that exactly; the change failure rate may differ only where the stated correlation rules
legitimately link a spontaneous incident (see TOLERANCE).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from simulators.estate import Estate, generate_estate
from tests.integration.pipeline.simulated import handler_of, simulated_lake
from tests.lambda_context import LambdaContext

END = datetime(2026, 11, 20, tzinfo=UTC)
DAYS = 21
START = END - timedelta(days=DAYS)
POLLS = [START + timedelta(days=d) for d in range(1, DAYS + 1)]
ARGOCD_DATASETS = ("argocd/app_status", "argocd/sync_operations", "argocd/deployment_history")
HISTORY_LIMIT = 10
# Full-mode links from a Dynatrace root cause (0.80) can tie a spontaneous incident to a deployment made
# shortly before it; the estate does not call that deployment-caused. At most this share of an
# application's attempts may differ.
TOLERANCE = 0.10


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Estate, duckdb.DuckDBPyConnection, str]]:
    root = tmp_path_factory.mktemp("truth")
    estate = generate_estate(seed=7, apps=8, days=DAYS, end=END)
    with simulated_lake(root, estate) as (sims, _, lake):
        window = {"window": {"since": START.isoformat(), "until": END.isoformat()}}
        for name in ("ingest_dynatrace", "ingest_servicenow", "ingest_logs"):
            handler_of(name)(window, LambdaContext(name))
        for poll in POLLS[:-1]:
            sims.set_argocd_clock(poll)
            since = (poll - timedelta(days=1)).isoformat()
            event = {"window": {"since": since, "until": poll.isoformat()}, "datasets": list(ARGOCD_DATASETS)}
            handler_of("ingest_deploys")(event, LambdaContext("ingest_deploys"))
        sims.set_argocd_clock(END)
        handler_of("ingest_deploys")(window, LambdaContext("ingest_deploys"))
        from functions.build_aggregates.handler import handler as build_handler

        build_handler({"mode": "full", "as_of": END.isoformat()}, LambdaContext("build_aggregates"))
        con = duckdb.connect()
        yield estate, con, lake.url
        con.close()


def knowable(estate: Estate) -> list[Any]:
    """Production deployments a collector can know: every GitLab one; ArgoCD ones some daily poll showed."""
    seen: set[int] = set()
    argocd = [d for d in estate.truth.deployments if d.origin == "argocd"]
    for poll in POLLS:
        by_component: dict[str, list[Any]] = {}
        for d in argocd:
            if d.time <= poll:
                by_component.setdefault(d.component, []).append(d)
        for syncs in by_component.values():
            syncs.sort(key=lambda d: d.time)
            seen |= {d.id for d in [d for d in syncs if not d.failed][-HISTORY_LIMIT:]}
            if syncs[-1].failed:
                seen.add(syncs[-1].id)
    return [d for d in estate.truth.deployments if d.origin == "gitlab" or d.id in seen]


def mart(pipeline: tuple[Estate, duckdb.DuckDBPyConnection, str], table: str, where: str) -> list[dict[str, Any]]:
    _, con, url = pipeline
    files = [str(p) for p in Path(url, "mart", table).rglob("*.parquet")]
    con.execute("set variable files = $files", {"files": files})
    return con.execute(f"select * from read_parquet(getvariable('files')) where {where}").to_arrow_table().to_pylist()


def apps(estate: Estate) -> list[str]:
    return sorted(estate.truth.per_app)


def test_every_knowable_production_deployment_is_counted_once(pipeline) -> None:
    estate = pipeline[0]
    rows = mart(pipeline, "mv_deployments", "environment = 'production'")
    expected = knowable(estate)
    for app in apps(estate):
        truth = [d for d in expected if d.app == app]
        mine = [r for r in rows if r["app_id"] == app]
        assert len(mine) == len(truth), app
        assert sum(r["status"] == "succeeded" for r in mine) == sum(not d.failed for d in truth), app
        assert sum(r["is_rollback"] for r in mine) == sum(d.rollback for d in truth), app
    assert len(rows) == len(expected) > 0
    # Daily polls keep every successful ArgoCD sync beyond the history limit; only failed syncs that a
    # retry overwrote within the day are out of reach.
    missed = [d for d in estate.truth.deployments if d not in expected]
    assert all(d.failed for d in missed)


def test_incidents_and_mttr_match_the_estate(pipeline) -> None:
    estate = pipeline[0]
    rows = mart(pipeline, "mv_incidents", "not is_canceled")
    for app in apps(estate):
        truth = [i for i in estate.truth.incidents_of(app) if not i.canceled]
        mine = [r for r in rows if r["app_id"] == app]
        assert sorted(r["number"] for r in mine) == sorted(i.number for i in truth), app
        truth_hours = [
            ((i.resolved_at or i.closed_at) - i.opened_at).total_seconds() / 3600
            for i in truth
            if (i.resolved_at or i.closed_at) is not None
        ]
        mine_hours = [r["duration_hours"] for r in mine if r["duration_hours"] is not None]
        if truth_hours:
            assert statistics.median(mine_hours) == pytest.approx(statistics.median(truth_hours), abs=1e-6), app


def test_change_failures_match_the_estate_within_tolerance(pipeline) -> None:
    estate = pipeline[0]
    rows = mart(pipeline, "mv_deployments", "environment = 'production'")
    expected_deployments = knowable(estate)
    total_diff = 0
    for app in apps(estate):
        truth = [d for d in expected_deployments if d.app == app]
        expected = sum(d.failed or d.caused_incident is not None for d in truth)
        found = sum(r["is_change_failure_full"] for r in rows if r["app_id"] == app)
        # Every deployment the estate says failed or caused an incident is found...
        caused = {d.caused_incident for d in truth if d.caused_incident}
        linked = {n for r in rows if r["app_id"] == app for n in (r["incident_numbers_full"] or [])}
        assert caused <= linked, app
        # ...and the extra ones stay within the stated tolerance.
        assert found >= expected and found - expected <= max(1, TOLERANCE * len(truth)), app
        total_diff += found - expected
    assert total_diff <= TOLERANCE * len(expected_deployments)


def test_lead_times_match_merge_to_production(pipeline) -> None:
    estate = pipeline[0]
    deployed = {d.id: d for d in estate.truth.deployments if not d.failed and not d.rollback}

    def shipped_by(mr: Any) -> Any:
        # The estate records the deployment of each release; a request whose release failed for good ships
        # with the component's next successful release, since main contains it.
        if mr.deployment_id in deployed:
            return deployed[mr.deployment_id]
        later = [d for d in deployed.values() if d.component == mr.component and d.time >= mr.merged_at]
        return min(later, key=lambda d: d.time) if later else None

    expected = sorted(
        (shipped_by(mr).time - mr.merged_at).total_seconds() / 3600
        for mr in estate.merge_requests
        if shipped_by(mr) is not None and mr.merged_at >= START
    )
    rows = mart(pipeline, "mv_lead_times", "environment = 'production'")
    # GitLab adds milliseconds to its instants; the estate counts whole seconds.
    assert sorted(r["lead_time_hours"] for r in rows) == pytest.approx(expected, abs=0.001)
    assert expected
