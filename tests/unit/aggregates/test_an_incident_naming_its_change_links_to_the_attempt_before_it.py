"""An incident naming the change that caused it is linked to that change's attempt finished before it opened.

A change covers one attempt, the one closest to its end (or, while under way, the last so far): that attempt may
finish after the incident opened. The incident is then linked, at 0.95, to the last attempt of the change's entity in
the change's window (its work, an hour either side) finished by its opening, however the change's attempts come.
Over the hand-made estate (estate.py): quiet-svc is deployed by ArgoCD's quiet-prod, its CI is CI_Q; full mode counts
links from 0.70, light mode links an incident to its application's last success within 24 hours and counts it.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from lakehouse.aggregates.build import build
from tests.unit.aggregates.estate import AS_OF, CI_Q, change, deployment, estate_lake, incident, t, write
from tests.unit.aggregates.test_build import assert_same_mart, d, ingest, links_of
from tests.unit.aggregates.test_kpis import dora, mart, one, reading

Q1, Q2 = "argocd:quiet-prod:1", "argocd:quiet-prod:2"


def quiet_deploys(first_at, second_at) -> list[dict]:
    return [
        deployment(Q1, "argocd", "quiet-prod", first_at, "succeeded", "q1"),
        deployment(Q2, "argocd", "quiet-prod", second_at, "succeeded", "q2"),
    ]


def test_an_incident_opened_between_two_attempts_of_its_change_counts_against_the_first(tmp_path: Path) -> None:
    """CHG70 on quiet's CI worked 08:00-10:00 on the 12th; quiet-prod deployed Q1 at 08:30 and Q2 at 09:50. CHG70
    covers Q2, the closest to its end (10 minutes; Q1's 90). INC70 opened at 09:00 naming CHG70: Q2 had not
    deployed yet, Q1 had, 30 minutes before, inside the change's window (07:00-11:00). Full mode: change_caused_by,
    Q1, 0.95, counted. Q1 is a change failure, Q2 is not: quiet's change failure rate over the last 30 days is 1 of
    2 attempts in full mode, as in light mode (Q1 is quiet's last success before INC70)."""
    lake, settings = estate_lake(tmp_path)
    write(lake, "deploys/deployment_events", *quiet_deploys(t(12, 8, 30), t(12, 9, 50)))
    chg70 = "7" * 31 + "0"
    write(
        lake, "servicenow/changes", change(chg70, "CHG70", CI_Q, (t(12, 8), t(12, 10)), "successful", t(11), t(12, 10))
    )
    write(lake, "servicenow/incidents", incident("n70" * 10 + "aa", "INC70", CI_Q, t(12, 9), 3, 6, t(12, 10), chg70))
    build(lake, settings, mode="full", as_of=AS_OF)

    with reading(lake, settings) as built:
        link = one(mart(built, "mv_incident_links", "incident_number = 'INC70' and correlation_mode = 'full'"))
        covered = one(mart(built, "mv_changes", "number = 'CHG70'"))["deployment_key"]
        failed = {
            r["deployment_key"]: r["is_change_failure_full"] for r in mart(built, "mv_deployments", "app_id = 'quiet'")
        }
        full, light = dora(built, "quiet", "full"), dora(built, "quiet", "light")
    assert (link["rule"], link["deployment_key"], link["change_sys_id"]) == ("change_caused_by", Q1, chg70)
    assert (link["confidence"], link["counts_as_change_failure"]) == (0.95, True)
    assert link["hours_after_deployment"] == pytest.approx(0.5)
    # The change still covers one attempt, its closest: what its own calendar and close code speak for.
    assert covered == Q2
    assert failed == {Q1: True, Q2: False}
    assert (full["change_failure_numerator"], full["change_failure_denominator"]) == (1, 2)
    assert full["change_failure_rate"] == pytest.approx(0.5)
    assert (light["change_failure_numerator"], light["change_failure_denominator"]) == (1, 2)


def test_the_link_stays_when_the_change_under_way_deploys_again_after_the_incident(tmp_path: Path) -> None:
    """CHG73 on quiet's CI started its work on the 20th at 08:00 and is still under way (no work end). quiet-prod
    deployed Q1 at 08:30; INC73 opened at 09:00 naming CHG73. The full build at 10:00 links INC73 to Q1 by the
    change (0.95): Q1 is the change's last attempt so far. Q2 deploys at 10:30: the hourly build at 11:00 finds the
    change covering Q2 now, the last so far, yet INC73 stays linked to Q1 at 0.95, finished 30 minutes before it, and
    Q1 stays a change failure, Q2 not: a figure once reported does not move. Its mart is a full rebuild's at 11:00."""
    chg73 = "7" * 31 + "3"
    under_way = change(chg73, "CHG73", CI_Q, (t(20, 8), t(20, 8)), "", t(19), t(20, 8)) | {
        "state": -1,
        "work_end": None,
        "close_code": None,
        "planned_start": t(20, 8),
        "planned_end": t(20, 9),
    }
    inc73 = incident("n73" * 10 + "aa", "INC73", CI_Q, t(20, 9), 2, 2, caused_by=chg73)
    q1, q2 = quiet_deploys(t(20, 8, 30), t(20, 10, 30))

    lake, settings = estate_lake(tmp_path / "incremental")
    write(lake, "deploys/deployment_events", q1)
    write(lake, "servicenow/changes", under_way)
    write(lake, "servicenow/incidents", inc73)
    build(lake, settings, mode="full", as_of=AS_OF)
    assert (links_of(lake, "INC73")["full"]["rule"], links_of(lake, "INC73")["full"]["deployment_key"]) == (
        "change_caused_by",
        Q1,
    )

    ingest(lake, "deploys/deployment_events", q2)
    eleven = AS_OF + timedelta(hours=1)
    assert build(lake, settings, mode="hourly", as_of=eleven).mode == "hourly"
    link = links_of(lake, "INC73")["full"]
    assert (link["rule"], link["deployment_key"], link["confidence"]) == ("change_caused_by", Q1, 0.95)
    with reading(lake, settings) as built:
        assert one(mart(built, "mv_changes", "number = 'CHG73'"))["deployment_key"] == Q2
        failed = {
            r["deployment_key"]: r["is_change_failure_full"] for r in mart(built, "mv_deployments", "app_id = 'quiet'")
        }
    assert failed == {Q1: True, Q2: False}

    full_lake, full_settings = estate_lake(tmp_path / "full")
    write(full_lake, "deploys/deployment_events", q1, q2)
    write(full_lake, "servicenow/changes", under_way)
    write(full_lake, "servicenow/incidents", inc73)
    build(full_lake, full_settings, mode="full", as_of=eleven)
    assert_same_mart(lake, full_lake, "hourly")


def test_an_old_incident_naming_a_change_read_today_is_linked_again_by_an_hourly_build(tmp_path: Path) -> None:
    """quiet-prod deployed Q0 on 1 Sep at 12:00, Q1 on 20 Sep at 08:30 and Q2 at 09:50. INC72 opened on 1 Sep at
    13:00 (linked by Q0's window), INC71 on 20 Sep at 09:00 naming CHG71, which no ingest has read yet: the full
    build as of 20 Nov 10:00 links INC71 by Q1's window alone (0.50). On the 20th an ingest reads CHG71 (created that
    day): its work on 20 Sep 08:00-10:00 covers Q2, after INC71 opened, and Q1 lies in its window before it. The
    hourly build at 11:00 finds INC71's links again (a change read again names it, its window opened before it) and
    links it to Q1 by the change (0.95); INC72's two links, which nothing since can change, are carried. Its mart is
    a full rebuild's."""
    chg71 = "7" * 31 + "1"
    read_today = change(chg71, "CHG71", CI_Q, (d(9, 20, 8), d(9, 20, 10)), "successful", t(20, 9), t(20, 9))
    q0 = deployment("argocd:quiet-prod:0", "argocd", "quiet-prod", d(9, 1, 12), "succeeded", "q0")
    inc71 = incident("n71" * 10 + "aa", "INC71", CI_Q, d(9, 20, 9), 3, 6, d(9, 20, 11), chg71)
    inc72 = incident("n72" * 10 + "aa", "INC72", CI_Q, d(9, 1, 13), 3, 6, d(9, 1, 14))

    def lake_with(path: Path, *changes: dict):
        lake, settings = estate_lake(path)
        write(lake, "deploys/deployment_events", q0, *quiet_deploys(d(9, 20, 8, 30), d(9, 20, 9, 50)))
        write(lake, "servicenow/incidents", inc71, inc72)
        if changes:
            write(lake, "servicenow/changes", *changes)
        return lake, settings

    lake, settings = lake_with(tmp_path / "incremental")
    build(lake, settings, mode="full", as_of=AS_OF)
    assert links_of(lake, "INC71")["full"]["rule"] == "same_component_window"
    ingest(lake, "servicenow/changes", read_today)
    eleven = AS_OF + timedelta(hours=1)
    result = build(lake, settings, mode="hourly", as_of=eleven)
    assert result.mode == "hourly" and result.settled_rows["mv_incident_links"] == 2
    link = links_of(lake, "INC71")["full"]
    assert (link["rule"], link["deployment_key"], link["counts_as_change_failure"]) == ("change_caused_by", Q1, True)

    full_lake, full_settings = lake_with(tmp_path / "full", read_today)
    build(full_lake, full_settings, mode="full", as_of=eleven)
    assert_same_mart(lake, full_lake, "hourly")
