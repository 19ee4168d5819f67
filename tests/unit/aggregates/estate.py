"""A tiny hand-made lake: three applications whose KPIs are worked out by hand in the tests beside it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from lakehouse.aggregates.build import build
from lakehouse.mappings import MappingStore
from lakehouse.runlog import FirstReads
from lakehouse.schemas import get_dataset
from lakehouse.settings import Settings
from lakehouse.storage import Lake

AS_OF = datetime(2026, 11, 20, 10, tzinfo=UTC)
CI_API, CI_DB, CI_Q, CI_BROKEN, CI_WRONG = ("a" * 32, "b" * 32, "c" * 32, "d" * 32, "e" * 32)
CHG1, CHG2 = "1" * 32, "2" * 32


# shop's hours with traffic in the 7 days before AS_OF are the 19th's 24 (SERVICE-A served every hour of it), under
# the 84 (half of the 168) its SLOs need: a green shop says its SLOs were not judged.
SHOP_SLOS_NOT_JUDGED = (
    "SLOs not judged: traffic measured in 24 of the 168 hours of the last 7 days, fewer than the 84 they need"
)

# quiet's one service, SERVICE-Q, is watched and served no request: no hour with traffic.
QUIET_SLOS_NOT_JUDGED = "SLOs not judged: no traffic measured in the last 7 days"


def t(day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def mapping(db_ci: str = CI_DB) -> list[dict[str, Any]]:
    return [
        {"entity_id": "shop", "kind": "application", "team": "t1", "group": "g1", "domain": "d1"},
        {
            "entity_id": "shop-api",
            "kind": "component",
            "application_id": "shop",
            "dynatrace_entity_selector": 'entityId("SERVICE-A")',
            "servicenow_ci_id": CI_API,
            "argocd_app_name": "shop-api-prod",
            "gitlab_project_id": 11,
        },
        {
            "entity_id": "shop-db",
            "kind": "component",
            "application_id": "shop",
            "dynatrace_entity_selector": 'entityId("SERVICE-B")',
            "servicenow_ci_id": db_ci,
            "gitlab_project_id": 12,
        },
        {"entity_id": "quiet", "kind": "application", "team": "t2", "group": "g1", "domain": "d1"},
        {
            "entity_id": "quiet-svc",
            "kind": "component",
            "application_id": "quiet",
            "dynatrace_entity_selector": 'entityId("SERVICE-Q")',
            "servicenow_ci_id": CI_Q,
            "argocd_app_name": "quiet-prod",
        },
        {"entity_id": "broken", "kind": "application", "team": "t2", "domain": "d2"},
        {
            "entity_id": "broken-svc",
            "kind": "component",
            "application_id": "broken",
            "servicenow_ci_id": CI_BROKEN,
            "argocd_app_name": "broken-prod",
        },
    ]


# solo, an application of t3 (domain d3) mapped directly, no component: ArgoCD's solo-prod and GitLab's project 21.
SOLO = {
    "entity_id": "solo",
    "kind": "application",
    "team": "t3",
    "domain": "d3",
    "argocd_app_name": "solo-prod",
    "gitlab_project_id": 21,
}


def dark(team: str = "t2") -> list[dict[str, Any]]:
    """dark, an application of `team` (group g1, domain d1) watched by Dynatrace alone (SERVICE-D on its component
    dark-svc): no ServiceNow CI, ArgoCD application nor GitLab project on it or its component."""
    return [
        {"entity_id": "dark", "kind": "application", "team": team, "group": "g1", "domain": "d1"},
        {
            "entity_id": "dark-svc",
            "kind": "component",
            "application_id": "dark",
            "dynatrace_entity_selector": 'entityId("SERVICE-D")',
        },
    ]


def write(lake: Lake, dataset_id: str, *items: dict[str, Any]) -> None:
    """Records of a dataset, each a dict of its columns (the others null), into their day partitions."""
    lake.write_days(get_dataset(dataset_id), rows(dataset_id, *items))


def rows(dataset_id: str, *items: dict[str, Any]) -> pa.Table:
    dataset = get_dataset(dataset_id)
    return pa.Table.from_pylist(
        [{c.name: item.get(c.name) for c in dataset.columns} for item in items], schema=dataset.schema
    )


def metrics() -> pa.Table:
    items = []
    for hour in range(24):
        at = t(19, hour)
        items.append(
            {
                "entity_id": "SERVICE-A",
                "hour": at,
                "request_count": 1000.0,
                "error_count": 101.0 if hour == 10 else 1.0,
                "latency_p95_ms": 800.0 if hour in (12, 13) else 200.0,
                "latency_p99_ms": 900.0,
            }
        )
        items.append(
            {
                "entity_id": "SERVICE-B",
                "hour": at,
                "request_count": 0.0 if hour < 4 else 500.0,
                "error_count": 0.0,
                "latency_p95_ms": 600.0 if hour == 12 else 100.0,
                "latency_p99_ms": 300.0,
            }
        )
        items.append({"entity_id": "SERVICE-Q", "hour": at, "request_count": 0.0, "error_count": 0.0})
    return rows("dynatrace/service_metrics_hourly", *items)


def incident(
    sys_id: str,
    number: str,
    ci: str,
    opened: datetime,
    priority: int,
    state: int,
    resolved: datetime | None = None,
    caused_by: str | None = None,
) -> dict[str, Any]:
    return {
        "sys_id": sys_id,
        "number": number,
        "cmdb_ci_sys_id": ci,
        "opened_at": opened,
        "priority": priority,
        "state": state,
        "resolved_at": resolved,
        "caused_by_change_sys_id": caused_by,
        "sys_updated_on": resolved or opened,
    }


def change(
    sys_id: str,
    number: str,
    ci: str,
    work: tuple[datetime, datetime],
    close_code: str,
    created: datetime,
    updated: datetime,
    change_type: str = "normal",
    planned: tuple[datetime, datetime] | None = None,
) -> dict[str, Any]:
    """A closed change request (state 3) on a CI, with its work window (and planned one, when given)."""
    return {
        "sys_id": sys_id,
        "number": number,
        "type": change_type,
        "state": 3,
        "cmdb_ci_sys_id": ci,
        "planned_start": planned[0] if planned else None,
        "planned_end": planned[1] if planned else None,
        "work_start": work[0],
        "work_end": work[1],
        "close_code": close_code,
        "sys_created_on": created,
        "sys_updated_on": updated,
    }


def deployment(
    key: str,
    origin: str,
    ref: str,
    finished: datetime,
    status: str,
    revision: str,
    rollback: bool = False,
    environment: str = "production",
) -> dict[str, Any]:
    return {
        "deployment_key": key,
        "origin": origin,
        "source_ref": ref,
        "environment": environment,
        "revision": revision,
        "started_at": finished - timedelta(minutes=2),
        "finished_at": finished,
        "status": status,
        "is_rollback": rollback,
    }


def breached_sla(task: dict[str, Any], at: datetime, sys_id: str | None = None) -> dict[str, Any]:
    """A task SLA of the incident `task` that breached at `at`; its sys_id the task's with an s first, unless given."""
    return {
        "sys_id": sys_id or "s" + task["sys_id"][1:],
        "task_sys_id": task["sys_id"],
        "task_number": task["number"],
        "stage": "in_progress",
        "has_breached": True,
        "start_time": task["opened_at"],
        "planned_end_time": at,
        "sys_updated_on": at,
    }


def estate_lake(tmp_path: Path, **estate: Any) -> tuple[Lake, Settings]:
    """A lake of its own holding the hand-made estate, for a test that adds to it."""
    settings = Settings(lake_url=str(tmp_path / "lake"), duckdb_temp_directory=tmp_path / "duckdb")
    lake = Lake.from_settings(settings)
    write_estate(lake, **estate)
    return lake, settings


def task_slas_read_from(lake: Lake, since: datetime | None = None) -> None:
    """The lake read task SLAs from `since` (the 1st, before anything of the estate, by default), as a run of this
    release records it: without a first read, the lake is one an older release wrote, and every day's SLA breaches
    are unknown."""
    FirstReads(lake).record("servicenow", "task_slas", since or t(1), run_id="first-read")


def write_estate(lake: Lake, *, db_ci: str = CI_DB) -> None:
    MappingStore(lake).apply(mapping(db_ci), actor="test", replace=True)
    lake.write_days(get_dataset("dynatrace/service_metrics_hourly"), metrics())
    lake.write_days(
        get_dataset("servicenow/incidents"),
        rows(
            "servicenow/incidents",
            # INC1: caused by CHG1's deployment D2, restored after 2 hours.
            incident("i1" * 16, "INC1", CI_API, t(19, 10, 30), 2, 6, t(19, 12, 30), CHG1),
            # INC2: P1 on the database, opened before as_of and still open.
            incident("i2" * 16, "INC2", CI_DB, t(18, 8), 1, 2),
            # INC3: nine days after the last deployment: must not be blamed on it.
            incident("i3" * 16, "INC3", CI_API, t(10, 9), 3, 7, t(10, 10)),
        ),
    )
    lake.write_days(
        get_dataset("servicenow/changes"),
        rows(
            "servicenow/changes",
            change(
                CHG1,
                "CHG1",
                CI_API,
                (t(19, 9, 58), t(19, 10)),
                "successful_issues",
                t(18),
                t(19, 14),
                change_type="standard",
                planned=(t(19, 9, 30), t(19, 11)),
            ),
            change(
                CHG2,
                "CHG2",
                CI_DB,
                (t(18, 6, 58), t(18, 7)),
                "unsuccessful",
                t(17),
                t(18, 9),
                planned=(t(18, 6, 30), t(18, 8)),
            ),
        ),
    )
    lake.write_days(
        get_dataset("deploys/deployment_events"),
        rows(
            "deploys/deployment_events",
            deployment("argocd:shop-api-prod:1", "argocd", "shop-api-prod", t(1, 12), "succeeded", "r1"),
            deployment("argocd:shop-api-prod:2", "argocd", "shop-api-prod", t(19, 10), "succeeded", "r2"),
            deployment(
                "argocd:shop-api-prod:3", "argocd", "shop-api-prod", t(19, 13), "succeeded", "r1", rollback=True
            ),
            deployment("gitlab:101", "gitlab", "12", t(18, 7), "failed", "s1"),
            deployment("gitlab:102", "gitlab", "12", t(18, 8, 30), "succeeded", "s1"),
            deployment("gitlab:103", "gitlab", "12", t(18, 6), "succeeded", "s1", environment="staging"),
            deployment("argocd:broken-prod:op1", "argocd", "broken-prod", t(15, 9), "failed", "b1"),
            deployment("argocd:broken-prod:op2", "argocd", "broken-prod", t(16, 9), "failed", "b1"),
        ),
    )
    lake.write_days(
        get_dataset("gitlab/merge_requests"),
        rows(
            "gitlab/merge_requests",
            {"mr_id": 1, "project_id": 11, "merged_at": t(19, 6), "updated_at": t(19, 6), "state": "merged"},
            {"mr_id": 2, "project_id": 11, "merged_at": t(1, 10), "updated_at": t(1, 10), "state": "merged"},
            {"mr_id": 3, "project_id": 12, "merged_at": t(18, 6), "updated_at": t(18, 6), "state": "merged"},
        ),
    )
    # A green scheduled pipeline is not a deployment.
    lake.write_days(
        get_dataset("gitlab/pipelines"),
        rows(
            "gitlab/pipelines",
            {
                "pipeline_id": 900,
                "project_id": 11,
                "status": "success",
                "source": "schedule",
                "ref": "main",
                "created_at": t(19, 2),
                "updated_at": t(19, 3),
            },
        ),
    )


def leave_day_twice(lake: Lake, table: str, day: date) -> None:
    """What a build stopped between putting a month object and deleting the day objects it took in leaves: the
    day's own object, its rows as the month object holds them, beside that month object."""
    month = lake.get_table(lake.mart_month_key(table, day.year, day.month))
    assert month is not None and day in month.column("day").to_pylist()
    lake.put_table(lake.mart_day_key(table, day), month.filter(pc.equal(month["day"], day)))


def build_stopped_before_its_deletes(lake: Lake, settings: Settings) -> None:
    """The estate with its day of signals also on the 20th, built at AS_OF: November's month objects hold the 1st to
    the 19th, the 20th is an object of its own. Then what a build stopped before its deletes leaves: the 19th's day
    objects of the day summary, the incidents per day and the hourly signals beside their month objects."""
    write_estate(lake)
    signals = get_dataset("dynatrace/service_metrics_hourly")
    next_day = [row | {"hour": row["hour"] + timedelta(days=1)} for row in metrics().to_pylist()]
    lake.write_days(signals, rows(signals.id, *next_day))
    build(lake, settings, mode="full", as_of=AS_OF)
    for table in ("mv_monitoring_app_day_summary", "mv_incidents_app_day", "mv_golden_signals_hourly"):
        leave_day_twice(lake, table, t(19).date())


def write_estate_in(lake: Lake, environment: str, *extra: dict[str, Any]) -> None:
    """The estate with its production environment named `environment` (prod, as its GitLab names it): every entry of
    the mapping in it, beside the `extra` entries, and GitLab's production deployments G1 and G2 deployed to it
    (ArgoCD's are in the environment their application is mapped in)."""
    write_estate(lake)
    in_it = [entry | {"environment": environment} for entry in mapping()]
    MappingStore(lake).apply([*in_it, *extra], actor="test", replace=True)
    deploys = get_dataset("deploys/deployment_events")
    lake.write_days(
        deploys,
        rows(
            deploys.id,
            deployment("gitlab:101", "gitlab", "12", t(18, 7), "failed", "s1", environment=environment),
            deployment("gitlab:102", "gitlab", "12", t(18, 8, 30), "succeeded", "s1", environment=environment),
        ),
    )
