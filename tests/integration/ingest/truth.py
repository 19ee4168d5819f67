"""What the lake must hold after ingesting the estate, computed from the estate itself (not from the APIs)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from lakehouse.schemas import get_dataset
from lakehouse.storage import Lake
from simulators.estate import Estate
from simulators.model import PRODUCTION
from simulators.serve import RunningSimulators
from simulators.timeseries import ERROR_TYPES, Telemetry

SN_TABLES = {
    "servicenow/incidents": "incident",
    "servicenow/changes": "change_request",
    "servicenow/problems": "problem",
    "servicenow/task_slas": "task_sla",
    "servicenow/cmdb_ci": "cmdb_ci",
}


def rows(lake: Lake, dataset_id: str) -> list[dict[str, Any]]:
    dataset = get_dataset(dataset_id)
    out: list[dict[str, Any]] = []
    for day in lake.list_partitions(dataset):
        table = lake.read_partition(dataset, day)
        assert table is not None
        out.extend(table.to_pylist())
    return out


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def check_dynatrace(lake: Lake, estate: Estate) -> None:
    telemetry = Telemetry(estate)
    expected = {}
    for comp in estate.components:
        for hour in range(estate.start_s, estate.end_s, 3600):
            stats = telemetry.hour_stats(comp, PRODUCTION, hour)
            if stats is not None:
                expected[(comp.service_id, hour)] = stats
    got = {(r["entity_id"], epoch(r["hour"])): r for r in rows(lake, "dynatrace/service_metrics_hourly")}
    assert set(got) == set(expected)
    for key, stats in expected.items():
        row = got[key]
        assert row["request_count"] == pytest.approx(stats.requests)
        assert row["error_count"] == pytest.approx(stats.errors)
        assert row["latency_p50_ms"] == pytest.approx(stats.response_p50_us / 1000)
        assert row["latency_p95_ms"] == pytest.approx(stats.response_p95_us / 1000)
        assert row["latency_p99_ms"] == pytest.approx(stats.response_p99_us / 1000)
        assert row["cpu_usage_pct"] == pytest.approx(stats.cpu_percent)
        assert row["memory_usage_pct"] == pytest.approx(stats.memory_percent)
    problems = {r["problem_id"]: r for r in rows(lake, "dynatrace/problems")}
    assert set(problems) == {p.problem_id for p in estate.dynatrace_problems}
    for p in estate.dynatrace_problems:
        row = problems[p.problem_id]
        assert epoch(row["start_time"]) * 1000 == p.start_ms
        assert (row["end_time"] is None) == (p.end_ms == -1)
        assert row["affected_entity_ids"] == [p.service_id]


def check_servicenow(lake: Lake, clean: RunningSimulators) -> int:
    """Every record the clean simulator serves is in the lake. Each stored version is the one the estate holds
    or, under the drift fault, a later one (after the estate's end); a version superseded before anyone could read
    it no longer exists at the source and is not expected. Returns how many drift versions were stored."""
    tables = clean.apis["servicenow"].tables
    end = clean.estate.end
    drift = 0
    for dataset, name in SN_TABLES.items():
        table = tables[name]
        # A record without sys_updated_on cannot match an incremental query; none exists in a real instance.
        expected = {table.sys_id(r): table.value(r, "sys_updated_on") for r in table.rows}
        expected = {k: v for k, v in expected.items() if v}
        found = [(r["sys_id"], r["sys_updated_on"].strftime("%Y-%m-%d %H:%M:%S")) for r in rows(lake, dataset)]
        assert len(found) == len(set(found)), f"{dataset}: a version stored twice"
        assert {sys_id for sys_id, _ in found} == set(expected), f"{dataset}: records missing or unknown"
        for sys_id, version in found:
            if version != expected[sys_id]:
                assert datetime.fromisoformat(version).replace(tzinfo=UTC) >= end, f"{dataset}: {version}"
                drift += 1
    incidents = {r["number"]: r for r in rows(lake, "servicenow/incidents")}
    for incident in clean.estate.incidents:
        row = incidents[incident.number]
        assert row["priority"] == incident.priority and row["opened_at"] == incident.opened_at
        assert row["cmdb_ci_sys_id"] == incident.ci_sys_id and row["cmdb_ci_name"]
    return drift


def check_deploys(lake: Lake, estate: Estate) -> None:
    # GitLab lists the hand-offs to ArgoCD among its deployments: ingestion keeps them as they are (the build tells
    # them apart by the mapping).
    assert estate.handoffs
    gitlab = {d.id: d for d in [*estate.deployments, *estate.handoffs] if d.origin == "gitlab"}
    stored = rows(lake, "gitlab/deployments")
    assert sorted(r["deployment_id"] for r in stored) == sorted(gitlab)
    events = {e["deployment_key"]: e for e in rows(lake, "deploys/deployment_events")}
    production = [d for d in [*estate.truth.deployments, *estate.handoffs] if d.origin == "gitlab"]
    for d in production:
        event = events[f"gitlab:{d.id}"]
        assert event["status"] == ("failed" if d.failed else "succeeded")
        assert event["is_rollback"] == d.rollback
        assert event["finished_at"] == d.time.replace(microsecond=event["finished_at"].microsecond)
    assert sum(1 for k in events if k.startswith("gitlab:")) == len(production)
    merged = {r["mr_id"]: r for r in rows(lake, "gitlab/merge_requests")}
    gitlab_projects = {c.gitlab_project_id for c in estate.components}
    assert set(merged) == {m.id for m in estate.merge_requests if m.project_id in gitlab_projects}
    for m in estate.merge_requests:
        stored = merged[m.id]["merged_at"]
        assert stored == m.merged_at.replace(microsecond=stored.microsecond)  # the API adds milliseconds
        assert merged[m.id]["merge_commit_sha"] == m.merge_sha
    history = {(r["app_name"], r["history_id"]) for r in rows(lake, "argocd/deployment_history")}
    by_app: dict[str, list[Any]] = {}
    for d in estate.truth.deployments:
        if d.origin == "argocd" and not d.failed:
            by_app.setdefault(estate.component(d.component).argo_app, []).append(d)
    for app, deployments in by_app.items():
        visible = deployments[-10:]  # revisionHistoryLimit
        assert {(app, d.history_id) for d in visible} <= history
        for i, d in enumerate(visible):
            event = events[f"argocd:{app}:{d.history_id}"]
            if i >= 2:  # the revision it returns to must be in sight
                assert event["is_rollback"] == d.rollback


def check_deployment_links(lake: Lake, estate: Estate) -> None:
    """GitLab's per-deployment lists, when asked for: each successful production deployment (hand-offs to ArgoCD
    included) and what it shipped."""
    production = [d for d in [*estate.truth.deployments, *estate.handoffs] if d.origin == "gitlab"]
    shipped: dict[int, set[int]] = {}
    for r in rows(lake, "gitlab/deployment_merge_requests"):
        shipped.setdefault(r["deployment_id"], set()).add(r["mr_id"])
    assert shipped == {d.id: set(d.merge_request_ids) for d in production if not d.failed and d.merge_request_ids}


def check_logs(lake: Lake, estate: Estate) -> None:
    telemetry = Telemetry(estate)
    expected: dict[tuple[str, str, str, str, int], int] = {}
    for comp in estate.components:
        pattern = f"logs-{comp.app}-*"
        for env in comp.environments():
            for hour in range(estate.start_s, estate.end_s, 3600):
                errors = sum(telemetry.hour_log_count(comp, env, "ERROR", t, hour) for t in ERROR_TYPES)
                warns = telemetry.hour_log_count(comp, env, "WARN", None, hour)
                for level, count in (("ERROR", errors), ("WARN", warns), ("EXCEPTION", errors)):
                    if count:
                        expected[(pattern, comp.name, env, level, hour)] = count
    got = {
        (r["index_pattern"], r["service_name"], r["environment"], r["level"], epoch(r["hour"])): r["count"]
        for r in rows(lake, "elasticsearch/log_counts_hourly")
    }
    assert got == expected
