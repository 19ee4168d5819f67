"""An application deployed as a whole links its components' incidents, problems and changes to its own attempts.

mono is deployed by ArgoCD's mono-prod, mapped on the application; its component mono-x carries the ServiceNow CI
CI_X and the Dynatrace service SERVICE-X, with no ArgoCD application nor GitLab project of its own: its records
follow mono's attempts. mono-y, mapped with its own ArgoCD application mono-y-prod, follows its own. Over the
hand-made estate (estate.py): windows of 4 hours in full mode (counted from 0.70), 24 hours in light mode.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from lakehouse.aggregates.build import build
from lakehouse.mappings import MappingStore
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.unit.aggregates.estate import AS_OF, change, deployment, estate_lake, incident, mapping, t, write
from tests.unit.aggregates.test_build import assert_same_mart, d, ingest, links_of
from tests.unit.aggregates.test_kpis import dora, mart, problem, reading

CI_X, CI_Y = "5a" * 16, "5b" * 16
MONO = [
    {
        "entity_id": "mono",
        "kind": "application",
        "team": "t4",
        "group": "g1",
        "domain": "d1",
        "argocd_app_name": "mono-prod",
    },
    {
        "entity_id": "mono-x",
        "kind": "component",
        "application_id": "mono",
        "servicenow_ci_id": CI_X,
        "dynatrace_entity_selector": 'entityId("SERVICE-X")',
    },
    {
        "entity_id": "mono-y",
        "kind": "component",
        "application_id": "mono",
        "servicenow_ci_id": CI_Y,
        "argocd_app_name": "mono-y-prod",
    },
]


def mono_lake(path: Path) -> tuple[Lake, Settings]:
    lake, settings = estate_lake(path)
    MappingStore(lake).apply(mapping() + MONO, actor="test", replace=True)
    return lake, settings


def mono_deploys(*at_and_revision) -> list[dict]:
    return [
        deployment(f"argocd:mono-prod:{rev}", "argocd", "mono-prod", at, "succeeded", rev)
        for at, rev in at_and_revision
    ]


def sys_id(number: str) -> str:
    return number.lower().ljust(32, "0")


def full_links(lake: Lake, settings: Settings) -> dict[str, tuple]:
    """Each mono incident's full link: (rule, deployment, confidence, counted)."""
    with reading(lake, settings) as built:
        found = mart(built, "mv_incident_links", "app_id = 'mono' and correlation_mode = 'full'")
    return {
        r["incident_number"]: (r["rule"], r["deployment_key"], r["confidence"], r["counts_as_change_failure"])
        for r in found
    }


def test_a_components_incidents_link_to_the_applications_attempt_by_the_problem_and_the_change(tmp_path: Path) -> None:
    """On the 12th mono-prod deploys M1 at 08:00. CHGX, on mono-x's CI, worked 07:30-08:05 and covers M1. A problem
    rooted in SERVICE-X runs 08:30-10:00. At 09:00 INCX1 and INCX2 open on mono-x's CI, INCX2 naming CHGX, and INCY
    on mono-y's CI. Full mode: INCX1 by the problem (0.80, above the change on its CI's 0.70), INCX2 by the change it
    names (0.95), both on M1 and counted; INCY none, mono-y never deployed. Light mode links all three to M1. M1 is
    mono's one attempt and a change failure: 1 of 1 in both modes."""
    lake, settings = mono_lake(tmp_path)
    write(lake, "deploys/deployment_events", *mono_deploys((t(12, 8), "m1")))
    chgx = sys_id("CHGX")
    write(
        lake,
        "servicenow/changes",
        change(chgx, "CHGX", CI_X, (t(12, 7, 30), t(12, 8, 5)), "successful", t(11), t(12, 9)),
    )
    write(lake, "dynatrace/problems", problem("x", "SERVICE-X", t(12, 8, 30), t(12, 10)))
    write(
        lake,
        "servicenow/incidents",
        incident(sys_id("INCX1"), "INCX1", CI_X, t(12, 9), 2, 6, t(12, 11)),
        incident(sys_id("INCX2"), "INCX2", CI_X, t(12, 9), 2, 6, t(12, 11), caused_by=chgx),
        incident(sys_id("INCY"), "INCY", CI_Y, t(12, 9), 2, 6, t(12, 11)),
    )
    build(lake, settings, mode="full", as_of=AS_OF)

    m1 = "argocd:mono-prod:m1"
    assert full_links(lake, settings) == {
        "INCX1": ("dynatrace_root_cause", m1, 0.80, True),
        "INCX2": ("change_caused_by", m1, 0.95, True),
    }
    with reading(lake, settings) as built:
        light = mart(built, "mv_incident_links", "app_id = 'mono' and correlation_mode = 'light'")
        [attempt] = mart(built, "mv_deployments", "app_id = 'mono'")
        full, light_dora = dora(built, "mono", "full"), dora(built, "mono", "light")
    assert sorted((r["incident_number"], r["deployment_key"]) for r in light) == [
        ("INCX1", m1),
        ("INCX2", m1),
        ("INCY", m1),
    ]
    assert attempt["change_numbers"] == ["CHGX"] and attempt["incident_numbers_full"] == ["INCX1", "INCX2"]
    assert attempt["is_change_failure_full"]
    assert (full["change_failure_numerator"], full["change_failure_denominator"]) == (1, 1)
    assert (light_dora["change_failure_numerator"], light_dora["change_failure_denominator"]) == (1, 1)


def test_an_unsuccessful_change_on_a_component_fails_the_applications_attempt(tmp_path: Path) -> None:
    """On the 14th mono-prod deploys M2 at 08:00; CHGZ, on mono-x's CI, worked 07:40-08:10 and closed unsuccessful:
    it covers M2, which fails in both modes. On the 16th mono-prod deploys M3 at 08:00 and INCX3 opens on mono-x's
    CI at 10:00, naming nothing: the component window links it to M3 (2 hours, 0.50), not counted in full mode.
    mono's change failures over the last 30 days: full mode M2 alone, 1 of 2; light mode M2 and M3 (INCX3 within a
    day of it), 2 of 2."""
    lake, settings = mono_lake(tmp_path)
    write(lake, "deploys/deployment_events", *mono_deploys((t(14, 8), "m2"), (t(16, 8), "m3")))
    chgz = sys_id("CHGZ")
    write(
        lake,
        "servicenow/changes",
        change(chgz, "CHGZ", CI_X, (t(14, 7, 40), t(14, 8, 10)), "unsuccessful", t(13), t(14, 9)),
    )
    write(lake, "servicenow/incidents", incident(sys_id("INCX3"), "INCX3", CI_X, t(16, 10), 3, 6, t(16, 12)))
    build(lake, settings, mode="full", as_of=AS_OF)

    m2, m3 = "argocd:mono-prod:m2", "argocd:mono-prod:m3"
    assert full_links(lake, settings) == {"INCX3": ("same_component_window", m3, 0.50, False)}
    with reading(lake, settings) as built:
        attempts = {r["deployment_key"]: r for r in mart(built, "mv_deployments", "app_id = 'mono'")}
        full, light = dora(built, "mono", "full"), dora(built, "mono", "light")
    assert attempts[m2]["change_numbers"] == ["CHGZ"] and attempts[m2]["change_unsuccessful"]
    assert attempts[m2]["is_change_failure_full"] and attempts[m2]["is_change_failure_light"]
    assert not attempts[m3]["is_change_failure_full"] and attempts[m3]["is_change_failure_light"]
    assert (full["change_failure_numerator"], full["change_failure_denominator"]) == (1, 2)
    assert full["change_failure_rate"] == pytest.approx(0.5)
    assert (light["change_failure_numerator"], light["change_failure_denominator"]) == (2, 2)


def test_an_hourly_build_links_them_as_a_full_rebuild_does(tmp_path: Path) -> None:
    """mono-prod deployed M1 on 20 Sep at 08:00 and M1b on 1 Oct at 12:00. CHGX, on mono-x's CI, worked 20 Sep
    07:30-08:05 and covers M1: the full build as of 20 Nov 10:00 settles both (M1's next success came before 15 Oct).
    A problem rooted in SERVICE-X ran 08:30-10:00; INCX1 and INCX2 (naming CHGX) opened on mono-x's CI at 09:00.
    On the 20th INCX2 is restored at 08:00, writing its opening day again, M2 deploys at 08:00 and INCX3 opens on
    mono-x's CI at 09:00. The hourly build at 11:00 takes CHGX and the attempt it covers as they were, finds the
    links of the incidents from 20 Sep on again: INCX1 by the problem (M1), INCX2 by the settled change (M1), INCX3
    by the window (M2, 0.50); its mart is a full rebuild's."""
    chgx = sys_id("CHGX")
    old = {
        "deploys/deployment_events": mono_deploys((d(9, 20, 8), "m1"), (d(10, 1, 12), "m1b")),
        "servicenow/changes": [
            change(chgx, "CHGX", CI_X, (d(9, 20, 7, 30), d(9, 20, 8, 5)), "successful", d(9, 19, 0), d(9, 20, 9))
        ],
        "dynatrace/problems": [problem("x", "SERVICE-X", d(9, 20, 8, 30), d(9, 20, 10))],
        "servicenow/incidents": [
            incident(sys_id("INCX1"), "INCX1", CI_X, d(9, 20, 9), 2, 6, d(9, 20, 11)),
            incident(sys_id("INCX2"), "INCX2", CI_X, d(9, 20, 9), 2, 2, caused_by=chgx),
        ],
    }
    today = {
        "deploys/deployment_events": mono_deploys((t(20, 8), "m2")),
        "servicenow/incidents": [
            incident(sys_id("INCX2"), "INCX2", CI_X, d(9, 20, 9), 2, 6, t(20, 8), caused_by=chgx),
            incident(sys_id("INCX3"), "INCX3", CI_X, t(20, 9), 3, 2),
        ],
    }

    lake, settings = mono_lake(tmp_path / "incremental")
    for dataset_id, records in old.items():
        write(lake, dataset_id, *records)
    build(lake, settings, mode="full", as_of=AS_OF)
    for dataset_id, records in today.items():
        ingest(lake, dataset_id, *records)
    eleven = AS_OF + timedelta(hours=1)
    result = build(lake, settings, mode="hourly", as_of=eleven)
    assert result.mode == "hourly" and result.settled_rows["stg_change_deployments"] == 1
    m1 = "argocd:mono-prod:m1"
    found = {n: links_of(lake, n)["full"] for n in ("INCX1", "INCX2", "INCX3")}
    assert {n: (r["rule"], r["deployment_key"]) for n, r in found.items()} == {
        "INCX1": ("dynatrace_root_cause", m1),
        "INCX2": ("change_caused_by", m1),
        "INCX3": ("same_component_window", "argocd:mono-prod:m2"),
    }

    full_lake, full_settings = mono_lake(tmp_path / "full")
    for dataset_id, records in [*old.items(), *today.items()]:
        write(full_lake, dataset_id, *records)
    build(full_lake, full_settings, mode="full", as_of=eleven)
    assert_same_mart(lake, full_lake, "hourly")
