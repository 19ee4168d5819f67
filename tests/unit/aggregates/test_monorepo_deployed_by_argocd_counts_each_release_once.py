"""A monorepo whose GitLab project is mapped on its application while ArgoCD deploys its component: GitLab's
production deployments of the project are the pipeline's hand-offs to ArgoCD, and each release counts once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from lakehouse.aggregates.build import build
from lakehouse.aggregates.build_types import BuildResult
from lakehouse.mappings import MappingStore
from lakehouse.schemas import get_dataset
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.unit.aggregates.estate import AS_OF, deployment, estate_lake, mapping, rows, t
from tests.unit.aggregates.test_build import ingest, mart_snapshot
from tests.unit.aggregates.test_kpis import dora, mart, merged_and_listed, reading

# mono: GitLab project 31 mapped on the application; its one component, mono-web, deployed by ArgoCD (mono-web-prod).
MONO: list[dict[str, Any]] = [
    {"entity_id": "mono", "kind": "application", "team": "t3", "domain": "d3", "gitlab_project_id": 31},
    {"entity_id": "mono-web", "kind": "component", "application_id": "mono", "argocd_app_name": "mono-web-prod"},
]

# Each release: GitLab's production deployment of the project (the hand-off) at 08:55, ArgoCD's sync at 09:00.
RELEASES = [
    deployment("gitlab:501", "gitlab", "31", t(5, 8, 55), "succeeded", "w1"),
    deployment("argocd:mono-web-prod:1", "argocd", "mono-web-prod", t(5, 9), "succeeded", "w1"),
    deployment("gitlab:502", "gitlab", "31", t(6, 8, 55), "succeeded", "w2"),
    deployment("argocd:mono-web-prod:2", "argocd", "mono-web-prod", t(6, 9), "succeeded", "w2"),
]


def mono_lake(path: Path, *deployments: dict[str, Any]) -> tuple[Lake, Settings]:
    """The estate with mono mapped beside it and `deployments` held."""
    lake, settings = estate_lake(path)
    MappingStore(lake).apply([*mapping(), *MONO], actor="test", replace=True)
    events = get_dataset("deploys/deployment_events")
    lake.write_days(events, rows(events.id, *deployments))
    return lake, settings


def deployments_of(lake: Lake, app: str) -> list[str]:
    return sorted(r["deployment_key"] for r in mart_snapshot(lake)["mv_deployments"] if r["app_id"] == app)


def mono_deployments(lake: Lake) -> list[str]:
    return deployments_of(lake, "mono")


def deployed_and_counted(lake: Lake, settings: Settings, app: str) -> tuple[list[str], tuple[int, int]]:
    """After a full build: the application's deployments, and the successful deployments and attempts its last 30
    days' DORA counts."""
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        figures = dora(built, app)
    counted = (figures["deployment_frequency_numerator"], figures["change_failure_denominator"])
    return deployments_of(lake, app), counted


def released_after_a_full_build(lake: Lake, settings: Settings, *release: dict[str, Any]) -> BuildResult:
    """A full build as of AS_OF, then the deployment events of `release` ingested, then the hourly build an hour
    later, whose result it gives."""
    build(lake, settings, mode="full", as_of=AS_OF)
    ingest(lake, "deploys/deployment_events", *release)
    return build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=1))


def test_each_release_of_a_monorepo_argocd_deploys_counts_once(tmp_path: Path) -> None:
    """Two releases, w1 on the 5th and w2 on the 6th, each handed off by GitLab at 08:55 and synced by ArgoCD at
    09:00: mono deployed twice in 2 attempts, not 4 in 4 (which would halve its change failure rate)."""
    lake, settings = mono_lake(tmp_path, *RELEASES)
    assert deployed_and_counted(lake, settings, "mono") == (
        ["argocd:mono-web-prod:1", "argocd:mono-web-prod:2"],
        (2, 2),
    )


def test_a_monorepo_request_ships_with_the_sync_after_its_hand_off(tmp_path: Path) -> None:
    """MR 61, merged on the 5th at 08:00 and listed in w1's hand-off (G501, 08:55), ships with w1's sync at 09:00:
    1 h. MR 62, merged at 08:50 after w1 was built, is listed in w2's hand-off (G502, the 6th at 08:55): it ships
    with w2's sync on the 6th at 09:00, 24 h 10 min, not with w1's sync 10 minutes after its merge, nor with G502,
    which ran nothing."""
    lake, settings = mono_lake(tmp_path, *RELEASES)
    merged_and_listed(lake, 31, {61: t(5, 8), 62: t(5, 8, 50)}, {501: [61], 502: [62]})
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        leads = {
            r["mr_id"]: (r["deployment_key"], r["lead_time_hours"], r["match_rule"])
            for r in mart(built, "mv_lead_times", "mr_id in (61, 62)")
        }
    assert leads == {
        61: ("argocd:mono-web-prod:1", pytest.approx(1.0), "gitops hand-off"),
        62: ("argocd:mono-web-prod:2", pytest.approx(24 + 10 / 60), "gitops hand-off"),
    }


def test_an_hourly_build_counts_each_monorepo_release_once_too(tmp_path: Path) -> None:
    """GitLab deployed mono itself on 20 Sep (G500, v0); ArgoCD took over on 1 Oct, syncing w0a, w0b and w0c on the
    1st, 2nd and 3rd at 09:00, each handed off at 08:55 (G490 to G492). A full build as of 20 Nov 10:00 settles the
    syncs whose next success finished before 15 Oct (w0a, w0b): the hourly build at 11:00 reads ArgoCD's deployments
    of mono-web from w0b on. A release handed off at 10:20 and synced at 10:25 on the 20th (w3) counts once, and
    G500 stays mono's own deployment: G500 and the six syncs."""
    before_the_cut = [
        deployment("gitlab:500", "gitlab", "31", datetime(2026, 9, 20, 12, tzinfo=UTC), "succeeded", "v0"),
    ]
    for day, (key, revision) in enumerate([("0a", "w0a"), ("0b", "w0b"), ("0c", "w0c")], start=1):
        synced = datetime(2026, 10, day, 9, tzinfo=UTC)
        before_the_cut += [
            deployment(f"gitlab:{489 + day}", "gitlab", "31", synced - timedelta(minutes=5), "succeeded", revision),
            deployment(f"argocd:mono-web-prod:{key}", "argocd", "mono-web-prod", synced, "succeeded", revision),
        ]
    lake, settings = mono_lake(tmp_path, *before_the_cut, *RELEASES)
    result = released_after_a_full_build(
        lake,
        settings,
        deployment("gitlab:503", "gitlab", "31", t(20, 10, 20), "succeeded", "w3"),
        deployment("argocd:mono-web-prod:3", "argocd", "mono-web-prod", t(20, 10, 25), "succeeded", "w3"),
    )
    assert result.mode == "hourly" and result.settled_rows["stg_deployments"] == 2
    assert mono_deployments(lake) == [
        "argocd:mono-web-prod:0a",
        "argocd:mono-web-prod:0b",
        "argocd:mono-web-prod:0c",
        "argocd:mono-web-prod:1",
        "argocd:mono-web-prod:2",
        "argocd:mono-web-prod:3",
        "gitlab:500",
    ]
