"""An umbrella ArgoCD application mapped on the application, over components each with a GitLab project of its own:
the components' GitLab production deployments are the pipelines' hand-offs to that application, whose syncs roll
the components out. Each release counts once, its requests ship with the sync, and the components' incidents follow
the syncs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lakehouse.aggregates.build import build
from lakehouse.mappings import MappingStore
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.unit.aggregates.estate import AS_OF, deployment, estate_lake, incident, mapping, t, write
from tests.unit.aggregates.test_kpis import dora, mart, merged_and_listed, reading
from tests.unit.aggregates.test_monorepo_deployed_by_argocd_counts_each_release_once import (
    deployed_and_counted,
    deployments_of,
    released_after_a_full_build,
)

CI_WEB = "f" * 32

# suite: ArgoCD's suite-prod mapped on the application; its components suite-web and suite-api each built by a
# GitLab project of its own (41 and 42), which commits the new image to the repository suite-prod syncs from.
SUITE: list[dict[str, Any]] = [
    {"entity_id": "suite", "kind": "application", "team": "t3", "domain": "d3", "argocd_app_name": "suite-prod"},
    {
        "entity_id": "suite-web",
        "kind": "component",
        "application_id": "suite",
        "gitlab_project_id": 41,
        "servicenow_ci_id": CI_WEB,
    },
    {"entity_id": "suite-api", "kind": "component", "application_id": "suite", "gitlab_project_id": 42},
]

# Release u1 on the 5th: web's hand-off (G601) at 08:50, api's (G602) at 08:55, the sync at 09:00. Release u2 on the
# 6th: web's hand-off (G603) at 08:55, the sync at 09:00.
RELEASES = [
    deployment("gitlab:601", "gitlab", "41", t(5, 8, 50), "succeeded", "web-1"),
    deployment("gitlab:602", "gitlab", "42", t(5, 8, 55), "succeeded", "api-1"),
    deployment("argocd:suite-prod:1", "argocd", "suite-prod", t(5, 9), "succeeded", "u1"),
    deployment("gitlab:603", "gitlab", "41", t(6, 8, 55), "succeeded", "web-2"),
    deployment("argocd:suite-prod:2", "argocd", "suite-prod", t(6, 9), "succeeded", "u2"),
]


def suite_lake(path: Path) -> tuple[Lake, Settings]:
    """The estate with suite mapped beside it and its two releases held."""
    lake, settings = estate_lake(path)
    MappingStore(lake).apply([*mapping(), *SUITE], actor="test", replace=True)
    write(lake, "deploys/deployment_events", *RELEASES)
    return lake, settings


def test_each_release_of_an_umbrella_application_counts_once(tmp_path: Path) -> None:
    """Two releases, each synced once: suite deployed twice in 2 attempts, not 5 in 5 (three hand-offs counted as
    rollouts of suite-web and suite-api)."""
    lake, settings = suite_lake(tmp_path)
    assert deployed_and_counted(lake, settings, "suite") == (["argocd:suite-prod:1", "argocd:suite-prod:2"], (2, 2))


def test_an_hourly_build_counts_each_release_of_an_umbrella_application_once_too(tmp_path: Path) -> None:
    """After a full build as of the 20th at 10:00, release u3 arrives: api's hand-off (G604) at 10:20 and the sync at
    10:25. The hourly build at 11:00 adds the sync alone."""
    lake, settings = suite_lake(tmp_path)
    result = released_after_a_full_build(
        lake,
        settings,
        deployment("gitlab:604", "gitlab", "42", t(20, 10, 20), "succeeded", "api-2"),
        deployment("argocd:suite-prod:3", "argocd", "suite-prod", t(20, 10, 25), "succeeded", "u3"),
    )
    assert result.mode == "hourly"
    assert deployments_of(lake, "suite") == ["argocd:suite-prod:1", "argocd:suite-prod:2", "argocd:suite-prod:3"]


def test_a_components_request_ships_with_the_sync_after_its_hand_off(tmp_path: Path) -> None:
    """MR 71 (web, merged on the 5th at 08:00, listed in G601) and MR 72 (api, merged at 07:00, listed in G602) ship
    with u1's sync at 09:00: 1 h and 2 h, not 50 minutes at web's hand-off. MR 73 (web, merged at 08:52, after G601
    was built, listed in G603) ships with u2's sync on the 6th at 09:00: 24 h 8 min."""
    lake, settings = suite_lake(tmp_path)
    merged_and_listed(lake, 41, {71: t(5, 8), 73: t(5, 8, 52)}, {601: [71], 603: [73]})
    merged_and_listed(lake, 42, {72: t(5, 7)}, {602: [72]})
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        leads = {
            r["mr_id"]: (r["component_id"], r["deployment_key"], r["lead_time_hours"], r["match_rule"])
            for r in mart(built, "mv_lead_times", "mr_id in (71, 72, 73)")
        }
    assert leads == {
        71: ("suite-web", "argocd:suite-prod:1", pytest.approx(1.0), "gitops hand-off"),
        72: ("suite-api", "argocd:suite-prod:1", pytest.approx(2.0), "gitops hand-off"),
        73: ("suite-web", "argocd:suite-prod:2", pytest.approx(24 + 8 / 60), "gitops hand-off"),
    }


def test_an_incident_on_a_component_follows_the_sync_that_rolled_it_out(tmp_path: Path) -> None:
    """INC71, on suite-web's CI, opened on the 6th at 10:00, an hour after u2's sync, and restored at 11:00. In full
    mode it is linked to the sync by the component window (suite-web is rolled out by suite's syncs), at 0.50, under
    the 0.70 a change failure needs; in light mode by the application window, which counts: 1 of suite's 2
    deployments failed, recovered in 2 h (not 1 of 5, linked to web's hand-off G603)."""
    lake, settings = suite_lake(tmp_path)
    write(
        lake,
        "servicenow/incidents",
        incident("i" + "7" * 31, "INC71", CI_WEB, t(6, 10), 2, 6, resolved=t(6, 11)),
    )
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        links = mart(built, "mv_incident_links", "incident_number = 'INC71' order by correlation_mode")
        figures = dora(built, "suite", mode="light")
    assert [(r["correlation_mode"], r["rule"], r["deployment_key"], r["counts_as_change_failure"]) for r in links] == [
        ("full", "same_component_window", "argocd:suite-prod:2", False),
        ("light", "same_app_window", "argocd:suite-prod:2", True),
    ]
    assert (links[0]["app_id"], links[0]["component_id"]) == ("suite", "suite-web")
    assert (figures["change_failure_numerator"], figures["change_failure_denominator"]) == (1, 2)
    assert figures["recovery_sample"] == 1 and figures["recovery_median_hours"] == pytest.approx(2.0)
