"""What the mapping leaves out (mv_mapping_coverage, mv_unmapped_keys) on the hand-made estate of estate.py, with
records no entry claims added, each count worked out by hand below."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from lakehouse.aggregates.build import build
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.unit.aggregates.estate import (
    AS_OF,
    CI_DB,
    CI_Q,
    CI_WRONG,
    change,
    deployment,
    estate_lake,
    incident,
    t,
    write,
)
from tests.unit.aggregates.test_kpis import mart, one, reading

WINDOW_START = datetime(2026, 10, 21, 10, tzinfo=UTC)  # AS_OF, 20 Nov 10:00, less 30 days


def legacy_db(**fields: Any) -> dict[str, Any]:
    return {"cmdb_ci_name": "legacy-db"} | fields


def add_records_no_entry_claims(lake: Lake) -> None:
    """Beside the estate's 3 incidents, 2 changes and 8 deployments (all attributed but gitlab:103, project 12
    deployed to staging, where the project is not mapped):
    - INC4 (5 Nov) and INC5 (12 Nov, the CI renamed legacy-db-2) on CI_WRONG, which no entry names;
    - INC6 (13 Nov) naming no CI at all;
    - INC7 on CI_WRONG, canceled: left out, as of every KPI; INC8 on it, opened 1 Oct: before the window;
      INC9 on it, opened 20 Nov 11:00: after as_of (10:00), not yet;
    - INC10 (15 Nov) on CI_WRONG but in the business service CI_Q, which quiet-svc claims: attributed;
    - CHG3 (created 16 Nov) on CI_WRONG;
    - legacy-prod's ArgoCD sync (17 Nov), an application no entry names;
    - GitLab's deployments 501 (14 Nov, succeeded) and 502 (15 Nov, failed) of project 12 to "Production-EU", where
      it is not mapped: they never became deployment events. Not counted: 503, project 11's to "Production"
      (production, compared without case), 102, which is the event gitlab:102 already, 504, canceled, and 505,
      finished after as_of."""
    write(
        lake,
        "servicenow/incidents",
        incident("i4" * 16, "INC4", CI_WRONG, t(5, 9), 3, 6, t(5, 10)) | legacy_db(),
        incident("i5" * 16, "INC5", CI_WRONG, t(12, 9), 3, 6, t(12, 10)) | legacy_db(cmdb_ci_name="legacy-db-2"),
        incident("i6" * 16, "INC6", None, t(13, 9), 4, 2),  # type: ignore[arg-type]
        incident("i7" * 16, "INC7", CI_WRONG, t(14, 9), 3, 8) | legacy_db(),
        incident("i8" * 16, "INC8", CI_WRONG, datetime(2026, 10, 1, 9, tzinfo=UTC), 3, 2) | legacy_db(),
        incident("i9" * 16, "INC9", CI_WRONG, t(20, 11), 3, 2) | legacy_db(),
        incident("ia" * 16, "INC10", CI_WRONG, t(15, 9), 3, 2) | legacy_db(business_service_sys_id=CI_Q),
    )
    write(
        lake,
        "servicenow/changes",
        change("3" * 32, "CHG3", CI_WRONG, (t(16, 9), t(16, 10)), "successful", t(16), t(16, 10)),
    )
    write(
        lake,
        "deploys/deployment_events",
        deployment("argocd:legacy-prod:1", "argocd", "legacy-prod", t(17, 9), "succeeded", "l1"),
    )
    write(
        lake,
        "gitlab/deployments",
        gitlab_deployment(501, 12, "Production-EU", "success", t(14, 9)),
        gitlab_deployment(502, 12, "Production-EU", "failed", t(15, 9)),
        gitlab_deployment(503, 11, "Production", "success", t(16, 9)),
        gitlab_deployment(102, 12, "production", "success", t(18, 8, 30)),
        gitlab_deployment(504, 12, "canary", "canceled", t(19, 9)),
        gitlab_deployment(505, 12, "Production-EU", "success", t(20, 12)),
    )


def gitlab_deployment(deployment_id: int, project_id: int, environment: str, status: str, finished: datetime) -> dict:
    return {
        "deployment_id": deployment_id,
        "project_id": project_id,
        "environment": environment,
        "status": status,
        "created_at": finished - timedelta(minutes=5),
        "finished_at": finished,
        "updated_at": finished,
    }


def built(tmp_path: Path, db_ci: str = CI_DB) -> tuple[Lake, Settings]:
    lake, settings = estate_lake(tmp_path, db_ci=db_ci)
    add_records_no_entry_claims(lake)
    build(lake, settings, mode="full", as_of=AS_OF)
    return lake, settings


def coverage(lake: Lake, settings: Settings) -> dict[str, dict]:
    with reading(lake, settings) as at:
        return {r["record_kind"]: r for r in mart(at, "mv_mapping_coverage")}


def unmapped(lake: Lake, settings: Settings) -> dict[tuple, dict]:
    with reading(lake, settings) as at:
        return {(r["record_kind"], r["key"], r["environment"]): r for r in mart(at, "mv_unmapped_keys")}


def test_the_coverage_counts_what_the_mapping_attributes_in_the_30_days_before_as_of(tmp_path: Path) -> None:
    lake, settings = built(tmp_path)
    kinds = coverage(lake, settings)
    # Incidents: INC1-3, INC10 attributed; INC4, INC5, INC6 not; INC7-9 left out: 4 of 7.
    assert {k: (r["records"], r["attributed"], r["unattributed"]) for k, r in kinds.items()} == {
        "incident": (7, 4, 3),
        "change": (3, 2, 1),  # CHG1, CHG2 attributed; CHG3 not
        # The estate's 8 events and legacy-prod's, and GitLab's 501 and 502: 11, of which gitlab:103 (staging),
        # legacy-prod's, 501 and 502 are not attributed.
        "deployment": (11, 7, 4),
        "log_line": (0, 0, 0),  # the estate reads no log line
    }
    assert kinds["incident"]["attributed_share"] == 4 / 7
    assert kinds["change"]["attributed_share"] == 2 / 3
    assert kinds["deployment"]["attributed_share"] == 7 / 11
    assert {(r["window_start"], r["window_end"]) for r in kinds.values()} == {(WINDOW_START, AS_OF)}


def test_the_unmapped_keys_say_what_an_entry_would_need_to_claim_them(tmp_path: Path) -> None:
    lake, settings = built(tmp_path)
    keys = unmapped(lake, settings)
    assert set(keys) == {
        ("incident", CI_WRONG, None),
        ("incident", None, None),
        ("change", CI_WRONG, None),
        ("deployment", "12", "staging"),
        ("deployment", "legacy-prod", None),
        ("deployment", "12", "Production-EU"),
    }
    wrong = keys[("incident", CI_WRONG, None)]
    # INC4 and INC5; the name on the latest, INC5.
    assert (wrong["key_kind"], wrong["records"], wrong["label"], wrong["latest_record"]) == (
        "servicenow_ci",
        2,
        "legacy-db-2",
        "INC5",
    )
    assert (wrong["first_seen"], wrong["last_seen"]) == (t(5, 9), t(12, 9))
    assert one([keys[("incident", None, None)]])["latest_record"] == "INC6"
    assert keys[("change", CI_WRONG, None)]["latest_record"] == "CHG3"
    assert keys[("deployment", "12", "staging")]["key_kind"] == "gitlab_project"
    assert keys[("deployment", "12", "staging")]["latest_record"] == "gitlab:103"
    assert keys[("deployment", "legacy-prod", None)]["key_kind"] == "argocd_app"
    eu = keys[("deployment", "12", "Production-EU")]
    assert (eu["records"], eu["first_seen"], eu["last_seen"], eu["latest_record"]) == (
        2,
        t(14, 9),
        t(15, 9),
        "gitlab:502",
    )


def test_a_corrected_mapping_claims_what_it_left_out(tmp_path: Path) -> None:
    """shop-db's CI given as CI_WRONG (the estate's mapping correction): INC4, INC5, CHG3 are now attributed, and the
    records on CI_DB, which no entry names any more, are left out: INC2 and CHG2."""
    lake, settings = built(tmp_path, db_ci=CI_WRONG)
    kinds = coverage(lake, settings)
    assert (kinds["incident"]["attributed"], kinds["incident"]["unattributed"]) == (5, 2)  # INC1, 3, 4, 5, 10
    assert (kinds["change"]["attributed"], kinds["change"]["unattributed"]) == (2, 1)  # CHG1, CHG3
    keys = unmapped(lake, settings)
    assert ("incident", CI_WRONG, None) not in keys
    assert keys[("incident", CI_DB, None)]["latest_record"] == "INC2"
    assert keys[("change", CI_DB, None)]["latest_record"] == "CHG2"


def test_an_unmapped_deployment_event_is_named_by_gitlab_s_environment(tmp_path: Path) -> None:
    """gitlab:104, project 12 deployed to GitLab's Staging/eu (staging's folder), read as a deployment event when an
    entry claimed project 12 in staging, which none does now: its key names the environment as GitLab does,
    Staging/eu, as the deployments that never became events are named (Production-EU), not as the mapping did."""
    lake, settings = estate_lake(tmp_path)
    event = deployment("gitlab:104", "gitlab", "12", t(16, 9), "succeeded", "s4", environment="staging")
    write(lake, "deploys/deployment_events", event | {"source_environment": "Staging/eu"})
    build(lake, settings, mode="full", as_of=AS_OF)
    keys = unmapped(lake, settings)
    eu = keys[("deployment", "12", "Staging/eu")]
    assert (eu["key_kind"], eu["records"], eu["latest_record"]) == ("gitlab_project", 1, "gitlab:104")
    # The estate's gitlab:103, read without GitLab's name for its environment, keeps the mapping's.
    assert keys[("deployment", "12", "staging")]["latest_record"] == "gitlab:103"
