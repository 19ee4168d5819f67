"""A Dynatrace problem rooted in an application links the incidents on its components, not only those on its own CI.

quiet has a Dynatrace service of its own, SERVICE-QA, beside its components: quiet-svc (CI_Q, SERVICE-Q, ArgoCD's
quiet-prod) and quiet-b (CI_QB, ArgoCD's quiet-b-prod). A problem rooted in SERVICE-QA follows the deployments of
whichever of quiet's components deployed before it; the incidents opened on either component's CI while it was open
are the same outage as one on quiet's own CI would be. Over the hand-made estate (estate.py): windows of 4 hours in
full mode, counted from 0.70.
"""

from __future__ import annotations

from pathlib import Path

from lakehouse.aggregates.build import build
from lakehouse.mappings import MappingStore
from tests.unit.aggregates.estate import AS_OF, CI_Q, deployment, estate_lake, incident, mapping, t, write
from tests.unit.aggregates.test_kpis import dora, mart, problem, reading

CI_QB = "5c" * 16
Q1 = "argocd:quiet-prod:1"


def quiet_with_its_own_service() -> list[dict]:
    entities = [
        e | {"dynatrace_entity_selector": 'entityId("SERVICE-QA")'} if e["entity_id"] == "quiet" else e
        for e in mapping()
    ]
    quiet_b = {
        "entity_id": "quiet-b",
        "kind": "component",
        "application_id": "quiet",
        "servicenow_ci_id": CI_QB,
        "argocd_app_name": "quiet-b-prod",
    }
    return [*entities, quiet_b]


def sys_id(number: str) -> str:
    return number.lower().ljust(32, "0")


def test_the_incidents_on_its_components_open_during_it_fail_the_deployment_before_it(tmp_path: Path) -> None:
    """On the 12th quiet-prod deploys Q1 at 08:00; a problem rooted in SERVICE-QA runs 08:30-10:00. INC90 opens on
    quiet-svc's CI at 09:00, INC91 on quiet-b's at 09:00 (quiet-b never deployed), INC92 on quiet-svc's at 11:30, an
    hour and a half after the problem closed. Full mode: INC90 and INC91 by the problem, on Q1 (it finished 30 minutes
    before the problem started), 0.80, counted; INC92 by quiet-svc's window alone (3.5 hours after Q1), 0.50, not
    counted. Q1 is quiet's one attempt and a change failure: 1 of 1."""
    lake, settings = estate_lake(tmp_path)
    MappingStore(lake).apply(quiet_with_its_own_service(), actor="test", replace=True)
    write(lake, "deploys/deployment_events", deployment(Q1, "argocd", "quiet-prod", t(12, 8), "succeeded", "q1"))
    write(lake, "dynatrace/problems", problem("qa", "SERVICE-QA", t(12, 8, 30), t(12, 10)))
    write(
        lake,
        "servicenow/incidents",
        incident(sys_id("INC90"), "INC90", CI_Q, t(12, 9), 2, 6, t(12, 11)),
        incident(sys_id("INC91"), "INC91", CI_QB, t(12, 9), 2, 6, t(12, 11)),
        incident(sys_id("INC92"), "INC92", CI_Q, t(12, 11, 30), 3, 6, t(12, 12)),
    )
    build(lake, settings, mode="full", as_of=AS_OF)

    with reading(lake, settings) as built:
        found = mart(built, "mv_incident_links", "app_id = 'quiet' and correlation_mode = 'full'")
        full = dora(built, "quiet", "full")
    assert {
        r["incident_number"]: (r["rule"], r["deployment_key"], r["confidence"], r["counts_as_change_failure"])
        for r in found
    } == {
        "INC90": ("dynatrace_root_cause", Q1, 0.80, True),
        "INC91": ("dynatrace_root_cause", Q1, 0.80, True),
        "INC92": ("same_component_window", Q1, 0.50, False),
    }
    assert (full["change_failure_numerator"], full["change_failure_denominator"]) == (1, 1)
