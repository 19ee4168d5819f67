"""An incident whose CI no mapping claims, naming the change that caused it, fails the attempt that change covers.

The incident has no application: it stays out of every incident list and MTTR by application. Yet it names its
change, and the change is attributed: the attempt of the change's entity is a change failure by the change_caused_by
rule (0.95), recovered when the incident was restored. Over the hand-made estate (estate.py): quiet-svc is deployed by
ArgoCD's quiet-prod, its CI is CI_Q; full mode counts links from 0.70, light mode links an incident to its
application's last success within 24 hours (an incident without an application has none).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from lakehouse.aggregates.build import build
from tests.unit.aggregates.estate import AS_OF, CI_Q, change, deployment, estate_lake, incident, t, write
from tests.unit.aggregates.test_build import assert_same_mart, d, ingest, links_of
from tests.unit.aggregates.test_kpis import dora, mart, one, reading

# A CI no entity of the estate is mapped on.
CI_UNMAPPED = "9f" * 16
Q1 = "argocd:quiet-prod:1"


def sys_id(number: str) -> str:
    return number.lower().ljust(32, "0")


def test_the_attempt_its_change_covers_is_a_change_failure_recovered_when_it_was_restored(tmp_path: Path) -> None:
    """On the 12th quiet-prod deploys Q1 at 08:30; CHG80 on quiet's CI worked 08:00-09:00 and covers it. INC80, on a
    CI no mapping claims, opens at 09:30 naming CHG80 and is restored at 11:30. Full mode: change_caused_by, Q1, 0.95,
    counted; Q1 is quiet's one attempt and a change failure, 1 of 1, recovered 3 hours after it finished (11:30 -
    08:30). Light mode links nothing: 0 of 1. INC80 is in no incident list and no MTTR of quiet's (no incident
    restored)."""
    lake, settings = estate_lake(tmp_path)
    write(lake, "deploys/deployment_events", deployment(Q1, "argocd", "quiet-prod", t(12, 8, 30), "succeeded", "q1"))
    chg80 = sys_id("CHG80")
    write(lake, "servicenow/changes", change(chg80, "CHG80", CI_Q, (t(12, 8), t(12, 9)), "successful", t(11), t(12, 9)))
    write(
        lake,
        "servicenow/incidents",
        incident(sys_id("INC80"), "INC80", CI_UNMAPPED, t(12, 9, 30), 2, 6, t(12, 11, 30), chg80),
    )
    build(lake, settings, mode="full", as_of=AS_OF)

    with reading(lake, settings) as built:
        found = mart(built, "mv_incident_links", "incident_number = 'INC80'")
        attempt = one(mart(built, "mv_deployments", "app_id = 'quiet'"))
        listed = mart(built, "mv_incidents", "number = 'INC80'")
        full, light = dora(built, "quiet", "full"), dora(built, "quiet", "light")
    link = one(found)
    assert (link["correlation_mode"], link["rule"], link["deployment_key"], link["change_sys_id"]) == (
        "full",
        "change_caused_by",
        Q1,
        chg80,
    )
    assert (link["confidence"], link["counts_as_change_failure"]) == (0.95, True)
    assert (link["app_id"], link["hours_after_deployment"]) == (None, pytest.approx(1.0))
    assert attempt["incident_numbers_full"] == ["INC80"] and attempt["is_change_failure_full"]
    assert attempt["recovered_at_full"] == t(12, 11, 30)
    assert not attempt["is_change_failure_light"]
    assert (full["change_failure_numerator"], full["change_failure_denominator"]) == (1, 1)
    assert (full["recovery_sample"], full["recovery_median_hours"]) == (1, pytest.approx(3.0))
    assert (light["change_failure_numerator"], light["change_failure_denominator"]) == (0, 1)
    assert listed == []
    assert (full["mttr_sample"], full["mttr_state"]) == (0, "no incidents restored")


def test_an_hourly_build_carries_its_link_as_a_full_rebuild_finds_it(tmp_path: Path) -> None:
    """quiet-prod deployed Q0 on 1 Sep at 12:00 and Q0b on 1 Oct; CHG81 on quiet's CI worked 11:30-12:10 on 1 Sep and
    covers Q0. INC81, on a CI no mapping claims, opened at 13:00 naming CHG81, restored at 15:00. The full build as of
    20 Nov 10:00 links it to Q0 by the change and settles Q0 (its next success came before 15 Oct). On the 20th
    quiet-prod deploys Q1 at 08:00: the hourly build at 11:00 carries INC81's link, which nothing since can have
    changed, and its mart is a full rebuild's."""
    chg81 = sys_id("CHG81")
    q0 = "argocd:quiet-prod:0"
    old = {
        "deploys/deployment_events": [
            deployment(q0, "argocd", "quiet-prod", d(9, 1, 12), "succeeded", "q0"),
            deployment("argocd:quiet-prod:0b", "argocd", "quiet-prod", d(10, 1, 12), "succeeded", "q0b"),
        ],
        "servicenow/changes": [
            change(chg81, "CHG81", CI_Q, (d(9, 1, 11, 30), d(9, 1, 12, 10)), "successful", d(8, 31), d(9, 1, 13))
        ],
        "servicenow/incidents": [
            incident(sys_id("INC81"), "INC81", CI_UNMAPPED, d(9, 1, 13), 2, 6, d(9, 1, 15), chg81)
        ],
    }
    today = {"deploys/deployment_events": [deployment(Q1, "argocd", "quiet-prod", t(20, 8), "succeeded", "q1")]}

    lake, settings = estate_lake(tmp_path / "incremental")
    for dataset_id, records in old.items():
        write(lake, dataset_id, *records)
    build(lake, settings, mode="full", as_of=AS_OF)
    assert links_of(lake, "INC81")["full"]["deployment_key"] == q0
    for dataset_id, records in today.items():
        ingest(lake, dataset_id, *records)
    eleven = AS_OF + timedelta(hours=1)
    result = build(lake, settings, mode="hourly", as_of=eleven)
    assert result.mode == "hourly" and result.settled_rows["mv_incident_links"] == 1
    link = links_of(lake, "INC81")["full"]
    assert (link["rule"], link["deployment_key"], link["counts_as_change_failure"]) == ("change_caused_by", q0, True)

    full_lake, full_settings = estate_lake(tmp_path / "full")
    for dataset_id, records in [*old.items(), *today.items()]:
        write(full_lake, dataset_id, *records)
    build(full_lake, full_settings, mode="full", as_of=eleven)
    assert_same_mart(lake, full_lake, "hourly")
