"""Incident-to-deployment links (20_mv_incident_links) rule by rule, on the edges a user checks by hand, over the
hand-made lake in estate.py. Windows: 4 hours in full mode, 24 hours in light mode; full mode counts from 0.70."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from lakehouse.aggregates.build import build
from lakehouse.mappings import MappingStore
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.unit.aggregates.estate import (
    AS_OF,
    CI_API,
    CI_DB,
    CI_Q,
    change,
    deployment,
    estate_lake,
    incident,
    mapping,
    t,
    write,
)
from tests.unit.aggregates.test_build import BEFORE_THE_CUT, assert_same_mart, d, ingest, links_of
from tests.unit.aggregates.test_kpis import dora, mart, problem, reading


def links(lake: Lake, settings: Settings, where: str = "true") -> list[tuple]:
    """(incident, mode, rule, deployment) of the links a full build at AS_OF finds, in that order."""
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        found = mart(built, "mv_incident_links", f"{where} order by incident_number, correlation_mode")
    return [(r["incident_number"], r["correlation_mode"], r["rule"], r["deployment_key"]) for r in found]


def test_a_window_holds_its_opening_instant_and_its_far_edge(tmp_path: Path) -> None:
    """quiet-prod deploys Q1 on the 5th at 08:00. INC51 opens at that very instant, INC52 exactly 4 hours after,
    INC53 a minute later, INC54 exactly 24 hours after, INC55 a minute later, INC50 a minute before Q1.
    Full mode (4 h): INC51 and INC52. Light mode (24 h): INC51 to INC54. INC50 and INC55: nothing."""
    lake, settings = estate_lake(tmp_path)
    write(
        lake,
        "deploys/deployment_events",
        deployment("argocd:quiet-prod:1", "argocd", "quiet-prod", t(5, 8), "succeeded", "q1"),
    )
    opened = {"INC50": t(5, 7, 59), "INC51": t(5, 8), "INC52": t(5, 12), "INC53": t(5, 12, 1)}
    opened |= {"INC54": t(6, 8), "INC55": t(6, 8, 1)}
    write(
        lake,
        "servicenow/incidents",
        *(incident(n.lower().ljust(32, "0"), n, CI_Q, at, 3, 2) for n, at in opened.items()),
    )
    q1 = "argocd:quiet-prod:1"
    assert links(lake, settings, "app_id = 'quiet'") == [
        ("INC51", "full", "same_component_window", q1),
        ("INC51", "light", "same_app_window", q1),
        ("INC52", "full", "same_component_window", q1),
        ("INC52", "light", "same_app_window", q1),
        ("INC53", "light", "same_app_window", q1),
        ("INC54", "light", "same_app_window", q1),
    ]


def test_of_two_deployments_in_the_window_the_latest_success_is_linked_and_fails_once(tmp_path: Path) -> None:
    """On the 7th quiet-prod deploys Q1 at 08:00, fails F at 09:00 and deploys Q2 (F's revision again) at 09:30.
    INC56 opens at 10:00 (restored 12:00), INC57 at 11:00 (restored 13:00). Both are linked to Q2, the last success
    before them; Q1 is not blamed, and the failed F is no success to link.
    Light mode: change failures F (failed) and Q2 (two incidents, counted once) of 3 attempts; recovery: F at Q2,
    0.5 h; Q2 when both incidents are restored, 13:00 - 09:30 = 3.5 h; median 2 h.
    Full mode: the window links count 0.50, under 0.70: F alone, 1 of 3, recovered in 0.5 h."""
    lake, settings = estate_lake(tmp_path)
    write(
        lake,
        "deploys/deployment_events",
        deployment("argocd:quiet-prod:1", "argocd", "quiet-prod", t(7, 8), "succeeded", "q1"),
        deployment("argocd:quiet-prod:f", "argocd", "quiet-prod", t(7, 9), "failed", "q2"),
        deployment("argocd:quiet-prod:2", "argocd", "quiet-prod", t(7, 9, 30), "succeeded", "q2"),
    )
    write(
        lake,
        "servicenow/incidents",
        incident("n56" * 10 + "aa", "INC56", CI_Q, t(7, 10), 3, 6, t(7, 12)),
        incident("n57" * 10 + "aa", "INC57", CI_Q, t(7, 11), 3, 6, t(7, 13)),
    )
    q2 = "argocd:quiet-prod:2"
    assert links(lake, settings, "app_id = 'quiet'") == [
        ("INC56", "full", "same_component_window", q2),
        ("INC56", "light", "same_app_window", q2),
        ("INC57", "full", "same_component_window", q2),
        ("INC57", "light", "same_app_window", q2),
    ]
    with reading(lake, settings) as built:
        light, full = dora(built, "quiet", "light"), dora(built, "quiet", "full")
    assert (light["change_failure_numerator"], light["change_failure_denominator"]) == (2, 3)
    assert light["recovery_sample"] == 2 and light["recovery_median_hours"] == pytest.approx(2.0)
    assert (full["change_failure_numerator"], full["change_failure_denominator"]) == (1, 3)
    assert full["recovery_median_hours"] == pytest.approx(0.5)


def test_an_incident_linked_by_two_rules_to_two_deployments_keeps_the_most_confident_in_full_mode(
    tmp_path: Path,
) -> None:
    """CHG60 on quiet's CI worked 08:30-09:00 on the 8th and covers Q1 (09:00). Q2 deploys on the 9th at 09:00 and
    INC60 opens at 10:00 naming CHG60 as its cause. Full mode: the change named (0.95) beats Q2's window (0.50): Q1
    fails, 1 of 2 attempts. Light mode: the application window alone, Q2, 1 of 2."""
    lake, settings = estate_lake(tmp_path)
    write(
        lake,
        "deploys/deployment_events",
        deployment("argocd:quiet-prod:1", "argocd", "quiet-prod", t(8, 9), "succeeded", "q1"),
        deployment("argocd:quiet-prod:2", "argocd", "quiet-prod", t(9, 9), "succeeded", "q2"),
    )
    chg60 = "6" * 31 + "0"
    write(
        lake, "servicenow/changes", change(chg60, "CHG60", CI_Q, (t(8, 8, 30), t(8, 9)), "successful", t(7), t(8, 10))
    )
    write(lake, "servicenow/incidents", incident("n60" * 10 + "aa", "INC60", CI_Q, t(9, 10), 3, 2, caused_by=chg60))
    assert links(lake, settings, "app_id = 'quiet'") == [
        ("INC60", "full", "change_caused_by", "argocd:quiet-prod:1"),
        ("INC60", "light", "same_app_window", "argocd:quiet-prod:2"),
    ]
    with reading(lake, settings) as built:
        failed = {
            r["deployment_key"]: r["is_change_failure_full"] for r in mart(built, "mv_deployments", "app_id = 'quiet'")
        }
        assert failed == {"argocd:quiet-prod:1": True, "argocd:quiet-prod:2": False}
        assert dora(built, "quiet", "light")["change_failure_numerator"] == 1


def test_a_named_change_that_covers_no_deployment_leaves_the_window_rules(tmp_path: Path) -> None:
    """CHG61 on quiet's CI worked 09:00-10:00 on the 14th; quiet-prod deployed at 06:00, over an hour before it: the
    change covers no attempt. INC61 opens at 09:30 naming CHG61: no change links it; the component window does, Q1
    3.5 hours before (0.50, not counted)."""
    lake, settings = estate_lake(tmp_path)
    write(
        lake,
        "deploys/deployment_events",
        deployment("argocd:quiet-prod:1", "argocd", "quiet-prod", t(14, 6), "succeeded", "q1"),
    )
    chg61 = "6" * 31 + "1"
    write(
        lake, "servicenow/changes", change(chg61, "CHG61", CI_Q, (t(14, 9), t(14, 10)), "successful", t(13), t(14, 11))
    )
    write(lake, "servicenow/incidents", incident("n61" * 10 + "aa", "INC61", CI_Q, t(14, 9, 30), 3, 2, caused_by=chg61))
    assert links(lake, settings, "app_id = 'quiet' and correlation_mode = 'full'") == [
        ("INC61", "full", "same_component_window", "argocd:quiet-prod:1")
    ]


def test_a_dynatrace_problem_links_only_a_deployment_before_it_on_the_incidents_own_component(
    tmp_path: Path,
) -> None:
    """On the 12th quiet-prod deploys Q1 at 08:00 and shop-api-prod S1 at 08:00.
    P70, rooted in quiet-svc, started at 07:00 (before Q1) and closed at 09:00: INC70, opened at 08:30, has no root
    cause link, only Q1's window (0.50).
    P71, rooted in quiet-svc, 10:00-11:00: INC71, opened at 12:00 (exactly the hour after it closed), is linked to Q1
    by it (0.80); INC72, a minute later, is not (nor by Q1's window, which closed at 12:00): light mode only.
    P72, rooted in shop-api, 10:00-11:00: INC73, on shop-db's CI at 10:30, is not linked by a problem of another
    component, nor by a window (shop-db did not deploy): no full link; light mode takes shop's S1."""
    lake, settings = estate_lake(tmp_path)
    write(
        lake,
        "deploys/deployment_events",
        deployment("argocd:quiet-prod:1", "argocd", "quiet-prod", t(12, 8), "succeeded", "q1"),
        deployment("argocd:shop-api-prod:s1", "argocd", "shop-api-prod", t(12, 8), "succeeded", "r9"),
    )
    write(
        lake,
        "dynatrace/problems",
        problem("70", "SERVICE-Q", t(12, 7), t(12, 9)),
        problem("71", "SERVICE-Q", t(12, 10), t(12, 11)),
        problem("72", "SERVICE-A", t(12, 10), t(12, 11)),
    )
    write(
        lake,
        "servicenow/incidents",
        incident("n70" * 10 + "aa", "INC70", CI_Q, t(12, 8, 30), 3, 2),
        incident("n71" * 10 + "aa", "INC71", CI_Q, t(12, 12), 3, 2),
        incident("n72" * 10 + "aa", "INC72", CI_Q, t(12, 12, 1), 3, 2),
        incident("n73" * 10 + "aa", "INC73", CI_DB, t(12, 10, 30), 3, 2),
    )
    q1, s1 = "argocd:quiet-prod:1", "argocd:shop-api-prod:s1"
    assert links(lake, settings, "incident_number in ('INC70', 'INC71', 'INC72', 'INC73')") == [
        ("INC70", "full", "same_component_window", q1),
        ("INC70", "light", "same_app_window", q1),
        ("INC71", "full", "dynatrace_root_cause", q1),
        ("INC71", "light", "same_app_window", q1),
        ("INC72", "light", "same_app_window", q1),
        ("INC73", "light", "same_app_window", s1),
    ]


def an_outage_rolled_back(lake: Lake) -> None:
    """quiet-prod runs q1 since Q1 on the 1st; on the 10th it deploys q2 (Q2) at 10:00, INCA opens at 10:30, the
    rollback R puts q1 back at 11:00 and INCB, a second ticket about the same outage, opens at 11:15; both are
    restored at 11:30."""
    write(
        lake,
        "deploys/deployment_events",
        deployment("argocd:quiet-prod:1", "argocd", "quiet-prod", t(1, 12), "succeeded", "q1"),
        deployment("argocd:quiet-prod:2", "argocd", "quiet-prod", t(10, 10), "succeeded", "q2"),
        deployment("argocd:quiet-prod:r", "argocd", "quiet-prod", t(10, 11), "succeeded", "q1", rollback=True),
    )
    write(
        lake,
        "servicenow/incidents",
        incident("ia" * 16, "INCA", CI_Q, t(10, 10, 30), 2, 6, t(10, 11, 30)),
        incident("ib" * 16, "INCB", CI_Q, t(10, 11, 15), 2, 6, t(10, 11, 30)),
    )


def test_a_rollback_is_not_blamed_for_the_outage_it_fixed(tmp_path: Path) -> None:
    """quiet-prod runs q1 since Q1 on the 1st. On the 10th it deploys q2 (Q2) at 10:00; INCA opens at 10:30; the
    rollback R puts q1 back at 11:00; INCB, a second ticket about the same outage, opens at 11:15, during P80 (rooted
    in quiet-svc, started 11:10, closed 11:30). Both are restored at 11:30. R is the fix, not a cause: INCA and INCB
    are both linked to Q2, INCB in full mode by P80 (a problem started 1 h 10 min after Q2, 10 min after R), in light
    mode by the application's window (Q2, 1 h 15 min before it).
    By hand, 3 attempts: Q2 alone fails (rolled back, and the incidents), in both modes 1 of 3; R is rework, 1 of 3.
    Q2 recovers when both R has succeeded (11:00) and INCB, which counts in both modes, is restored (11:30): 1.5 h."""
    lake, settings = estate_lake(tmp_path)
    an_outage_rolled_back(lake)
    write(lake, "dynatrace/problems", problem("80", "SERVICE-Q", t(10, 11, 10), t(10, 11, 30)))
    q2 = "argocd:quiet-prod:2"
    assert links(lake, settings, "app_id = 'quiet'") == [
        ("INCA", "full", "same_component_window", q2),
        ("INCA", "light", "same_app_window", q2),
        ("INCB", "full", "dynatrace_root_cause", q2),
        ("INCB", "light", "same_app_window", q2),
    ]
    with reading(lake, settings) as built:
        for mode in ("full", "light"):
            quiet = dora(built, "quiet", mode)
            assert (quiet["change_failure_numerator"], quiet["change_failure_denominator"]) == (1, 3), mode
            assert (quiet["rework_numerator"], quiet["rework_denominator"]) == (1, 3), mode
            assert quiet["recovery_sample"] == 1, mode
            assert quiet["recovery_median_hours"] == pytest.approx(1.5), mode


def test_a_change_covering_a_rollback_is_not_blamed_for_the_outage_it_fixed(tmp_path: Path) -> None:
    """quiet-prod runs q1 since Q1 on the 1st. On the 10th it deploys q2 (Q2) at 10:00; INCA opens at 10:30; the
    emergency change CHG80 on quiet's CI (work 10:50-11:00) rolls back to q1 (R, 11:00); INCB, a second ticket about
    the same outage, opens at 11:15. CHG80 covers R, the fix: INCB is not linked through it (0.70), but, as INCA,
    to Q2 by its window (0.50, not counted in full mode).
    By hand, full mode, 3 attempts: Q2 alone fails (rolled back), 1 of 3, recovered by R after 1 h; R is rework."""
    lake, settings = estate_lake(tmp_path)
    an_outage_rolled_back(lake)
    write(
        lake,
        "servicenow/changes",
        change(
            "8" * 32, "CHG80", CI_Q, (t(10, 10, 50), t(10, 11)), "successful", t(10, 10, 45), t(10, 11, 5), "emergency"
        ),
    )
    q2 = "argocd:quiet-prod:2"
    assert links(lake, settings, "app_id = 'quiet' and correlation_mode = 'full'") == [
        ("INCA", "full", "same_component_window", q2),
        ("INCB", "full", "same_component_window", q2),
    ]
    with reading(lake, settings) as built:
        quiet = dora(built, "quiet", "full")
    assert (quiet["change_failure_numerator"], quiet["change_failure_denominator"]) == (1, 3)
    assert quiet["recovery_sample"] == 1 and quiet["recovery_median_hours"] == pytest.approx(1.0)
    assert (quiet["rework_numerator"], quiet["rework_denominator"]) == (1, 3)


def test_an_incident_is_linked_as_its_latest_version_stands_and_a_canceled_one_not_at_all(tmp_path: Path) -> None:
    """quiet-prod deploys on the 16th at 08:00. INC80 opens on quiet's CI at 09:00 and is moved to shop-db's CI by a
    version at 10:00: shop did not deploy within a day, so it has no link. INC81 opens on quiet's CI at 09:30 and is
    canceled: no link. INC82, opened on shop-api's CI at 09:00, is moved to quiet's: linked to Q1 in both modes."""
    lake, settings = estate_lake(tmp_path)
    write(
        lake,
        "deploys/deployment_events",
        deployment("argocd:quiet-prod:1", "argocd", "quiet-prod", t(16, 8), "succeeded", "q1"),
    )
    first = incident("n80" * 10 + "aa", "INC80", CI_Q, t(16, 9), 3, 2)
    moved = first | {"cmdb_ci_sys_id": CI_DB, "sys_updated_on": t(16, 10)}
    canceled = incident("n81" * 10 + "aa", "INC81", CI_Q, t(16, 9, 30), 3, 8, t(16, 10))
    elsewhere = incident("n82" * 10 + "aa", "INC82", CI_API, t(16, 9), 3, 2)
    to_quiet = elsewhere | {"cmdb_ci_sys_id": CI_Q, "sys_updated_on": t(16, 10)}
    write(lake, "servicenow/incidents", first, moved, canceled, elsewhere, to_quiet)
    assert links(lake, settings, "incident_number in ('INC80', 'INC81', 'INC82')") == [
        ("INC82", "full", "same_component_window", "argocd:quiet-prod:1"),
        ("INC82", "light", "same_app_window", "argocd:quiet-prod:1"),
    ]


def test_an_hourly_build_finds_again_the_link_of_an_old_incident_whose_problem_closed_since(tmp_path: Path) -> None:
    """shop-api deployed ArgoCD's 0b on 10 Sep at 12:00 (BEFORE_THE_CUT). P80, rooted in shop-api, started at 12:30
    and was open when INC80 opened on shop-api's CI at 14:00: the full build as of 20 Nov 10:00 links INC80 to 0b by
    it (0.80). On the 20th an ingest reads P80 closed at 12:50: INC80 opened 70 minutes after, past the hour's grace,
    so a full build links it by 0b's window alone (14:00 - 12:00 = 2 h, 0.50). The hourly build at 11:00 finds that
    link again, rather than carry the root cause's: its mart is a full rebuild's."""
    open_problem = problem("80", "SERVICE-A", d(9, 10, 12, 30), d(9, 10, 13)) | {"end_time": None, "status": "OPEN"}
    closed = problem("80", "SERVICE-A", d(9, 10, 12, 30), d(9, 10, 12, 50))
    inc80 = incident("n80" * 10 + "aa", "INC80", CI_API, d(9, 10, 14), 3, 2)

    def lake_with(path: Path, p80: dict) -> tuple[Lake, Settings]:
        lake, settings = estate_lake(path)
        write(lake, "deploys/deployment_events", *BEFORE_THE_CUT)
        write(lake, "servicenow/incidents", inc80)
        write(lake, "dynatrace/problems", p80)
        return lake, settings

    lake, settings = lake_with(tmp_path / "incremental", open_problem)
    build(lake, settings, mode="full", as_of=AS_OF)
    assert links_of(lake, "INC80")["full"]["rule"] == "dynatrace_root_cause"
    ingest(lake, "dynatrace/problems", closed)
    assert build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=1)).mode == "hourly"
    link = links_of(lake, "INC80")["full"]
    assert (link["rule"], link["deployment_key"]) == ("same_component_window", "argocd:shop-api-prod:0b")
    full_lake, full_settings = lake_with(tmp_path / "full", closed)
    build(full_lake, full_settings, mode="full", as_of=AS_OF + timedelta(hours=1))
    assert_same_mart(lake, full_lake, "hourly")


def test_a_change_on_the_applications_ci_covers_one_components_attempt_and_links_through_it(tmp_path: Path) -> None:
    """shop gets a CI of its own. On the 6th shop-db deploys G at 09:30 and shop-api S at 09:50; CHG62, on shop's CI,
    worked 09:00-10:00 and covers S alone, the attempt closest to its end (10 minutes; G's is 30). At 11:00 three
    incidents open: INC62 on shop-db's CI naming CHG62, linked to S, another component's attempt, by the change it
    names (0.95); INC63 on shop's CI, linked to S by the change on its CI (0.70); INC64 on shop-db's CI, naming
    nothing, linked to its own component's G by the window (0.50). Light mode links all three to shop's last, S."""
    lake, settings = estate_lake(tmp_path)
    shop_ci, chg62 = "9" * 32, "6" * 31 + "2"
    entries = [e | {"servicenow_ci_id": shop_ci} if e["entity_id"] == "shop" else e for e in mapping()]
    MappingStore(lake).apply(entries, actor="test", replace=True)
    write(
        lake,
        "deploys/deployment_events",
        deployment("gitlab:620", "gitlab", "12", t(6, 9, 30), "succeeded", "s2"),
        deployment("argocd:shop-api-prod:62", "argocd", "shop-api-prod", t(6, 9, 50), "succeeded", "r6"),
    )
    write(
        lake, "servicenow/changes", change(chg62, "CHG62", shop_ci, (t(6, 9), t(6, 10)), "successful", t(5), t(6, 10))
    )
    write(
        lake,
        "servicenow/incidents",
        incident("n62" * 10 + "aa", "INC62", CI_DB, t(6, 11), 3, 2, caused_by=chg62),
        incident("n63" * 10 + "aa", "INC63", shop_ci, t(6, 11), 3, 2),
        incident("n64" * 10 + "aa", "INC64", CI_DB, t(6, 11), 3, 2),
    )
    s, g = "argocd:shop-api-prod:62", "gitlab:620"
    assert links(lake, settings, "incident_number in ('INC62', 'INC63', 'INC64')") == [
        ("INC62", "full", "change_caused_by", s),
        ("INC62", "light", "same_app_window", s),
        ("INC63", "full", "change_ci_window", s),
        ("INC63", "light", "same_app_window", s),
        ("INC64", "full", "same_component_window", g),
        ("INC64", "light", "same_app_window", s),
    ]
