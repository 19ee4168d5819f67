"""An instance that closes a rolled-back change 'rolled_back' lists that code among those meaning a failed change
(ROSETTA_FAILED_CLOSE_CODES): the change then failed, the deployment it covers is a change failure, and the change
calendar counts it as failed. An instance that lists nothing keeps ServiceNow's own meaning, 'unsuccessful' alone,
and counts the code apart, as before.

The hand-made estate (tests/unit/aggregates/estate.py, as_of the 20th at 10:00 UTC), plus two production attempts
of quiet on the 10th, at 12:00 and 18:00, each covered by a change on quiet's CI: CHG91, closed 'rolled_back', whose
work ended at 12:00, and CHG92, closed 'successful', whose work ended at 18:00. By hand, over the last 30 days in
full mode: 2 attempts; with rolled_back listed 1 change failure, a rate of 1/2, else none, 0/2. On the 10th: 2
implemented, 1 successful, 0 unsuccessful; listed, 2 closed with a code that says how it went, 1 failed, 0 other,
a rate of 1/2; not listed, 1 such, 0 failed, 1 other, a rate of 0/1."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from lakehouse.aggregates.build import build
from lakehouse.errors import SettingsError
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.integration.api.conftest import api_built_as_of, by_id, get_json
from tests.unit.aggregates.estate import AS_OF, CI_Q, change, deployment, estate_lake, t, write
from tests.unit.aggregates.test_kpis import mart, one, reading

CALENDAR = ("implemented", "successful", "unsuccessful", "closed_with_code", "other_close_code", "failed")


def quiet_lake(tmp_path: Path, **setting: Any) -> tuple[Lake, Settings]:
    """The estate with quiet's two attempts and their changes, and the settings with `setting`."""
    lake, settings = estate_lake(tmp_path)
    write(
        lake,
        "deploys/deployment_events",
        deployment("argocd:quiet-prod:1", "argocd", "quiet-prod", t(10, 12), "succeeded", "q1"),
        deployment("argocd:quiet-prod:2", "argocd", "quiet-prod", t(10, 18), "succeeded", "q2"),
    )
    write(
        lake,
        "servicenow/changes",
        change("f" * 31 + "1", "CHG91", CI_Q, (t(10, 11, 30), t(10, 12)), "rolled_back", t(9), t(10, 13)),
        change("f" * 31 + "2", "CHG92", CI_Q, (t(10, 17, 30), t(10, 18)), "successful", t(9), t(10, 19)),
    )
    return lake, settings.model_copy(update=setting)


def built_with(tmp_path: Path, **setting: Any) -> dict[str, Any]:
    """CHG91's row, its attempt's, quiet's DORA row over the last 30 days (full mode) and quiet's calendar day on the
    10th, after a full build with `setting`."""
    lake, settings = quiet_lake(tmp_path, **setting)
    build(lake, settings, mode="full", as_of=AS_OF)
    dora = (
        "app_id = 'quiet' and environment = 'production' and period = 'last_30d' and correlation_mode = 'full' "
        "and band_set = '2023'"
    )
    with reading(lake, settings) as built:
        return {
            "change": one(mart(built, "mv_changes", "number = 'CHG91'")),
            "attempt": one(mart(built, "mv_deployments", "deployment_key = 'argocd:quiet-prod:1'")),
            "dora": one(mart(built, "mv_dora_app_period", dora)),
            "day": one(mart(built, "mv_changes_app_day", "app_id = 'quiet' and day = $d", d=t(10).date())),
            "summary": one(
                mart(
                    built,
                    "mv_monitoring_app_day_summary",
                    "app_id = 'quiet' and environment = 'production' and day = $d",
                    d=t(10).date(),
                )
            ),
        }


def test_a_rolled_back_change_fails_when_the_instance_lists_its_code(tmp_path: Path) -> None:
    found = built_with(tmp_path, failed_close_codes=("unsuccessful", "rolled_back", "backed_out"))
    assert found["change"]["is_failed"] is True
    assert found["attempt"]["change_unsuccessful"] is True
    dora = found["dora"]
    assert (dora["change_failure_numerator"], dora["change_failure_denominator"]) == (1, 2)
    assert dora["change_failure_rate"] == pytest.approx(1 / 2)
    assert tuple(found["day"][c] for c in CALENDAR) == (2, 1, 0, 2, 0, 1)
    assert found["day"]["change_failure_rate"] == pytest.approx(1 / 2)
    # The day summary an analyst reads beside the signals: ServiceNow's unsuccessful count, and the failed one.
    summary = found["summary"]
    assert (summary["changes_implemented"], summary["changes_unsuccessful"], summary["changes_failed"]) == (2, 0, 1)


def test_a_rolled_back_change_is_counted_apart_when_the_instance_lists_nothing(tmp_path: Path) -> None:
    found = built_with(tmp_path)
    assert found["change"]["is_failed"] is False
    assert found["attempt"]["change_unsuccessful"] is False
    dora = found["dora"]
    assert (dora["change_failure_numerator"], dora["change_failure_denominator"]) == (0, 2)
    assert tuple(found["day"][c] for c in CALENDAR) == (2, 1, 0, 1, 1, 0)
    assert found["day"]["change_failure_rate"] == 0
    summary = found["summary"]
    assert (summary["changes_implemented"], summary["changes_unsuccessful"], summary["changes_failed"]) == (2, 0, 0)


def test_the_changes_report_counts_the_rolled_back_change_as_failed(tmp_path: Path) -> None:
    lake, settings = quiet_lake(tmp_path, failed_close_codes=("unsuccessful", "rolled_back"))
    with api_built_as_of(tmp_path, lake, settings) as client:
        body = get_json(client, "/monitoring/kpis/changes?from=2026-11-10T00:00:00Z&to=2026-11-11T00:00:00Z")
    quiet = by_id(body)["quiet"]
    counted = ("implemented", "successful", "unsuccessful", "closedWithCode", "otherCloseCode", "failed")
    assert tuple(quiet[c] for c in counted) == (2, 1, 0, 2, 0, 1)
    assert quiet["changeFailureRate"] == pytest.approx(1 / 2)
    assert [(d["day"], d["failed"]) for d in quiet["days"]] == [("2026-11-10", 1)]


def test_the_setting_is_read_trimmed_and_in_any_case(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROSETTA_FAILED_CLOSE_CODES", " Unsuccessful, ROLLED_BACK ,backed_out")
    assert Settings().failed_close_codes == ("unsuccessful", "rolled_back", "backed_out")
    monkeypatch.delenv("ROSETTA_FAILED_CLOSE_CODES")
    assert Settings().failed_close_codes == ("unsuccessful",)
    monkeypatch.setenv("ROSETTA_FAILED_CLOSE_CODES", " ")  # a line of .env left empty: ServiceNow's own
    assert Settings().failed_close_codes == ("unsuccessful",)


@pytest.mark.parametrize("value", [",", "unsuccessful,,rolled_back", "unsuccessful, "])
def test_a_list_with_an_empty_code_is_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("ROSETTA_FAILED_CLOSE_CODES", value)
    with pytest.raises(SettingsError) as refused:
        Settings()
    assert str(refused.value).startswith("ROSETTA_FAILED_CLOSE_CODES: ")
    assert "a close code is empty" in str(refused.value)


@pytest.mark.parametrize("value", ["rolled_back", "ROLLED_BACK, backed_out"])
def test_a_list_without_servicenows_own_code_is_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    """An instance's own codes alone would stop counting a change closed 'unsuccessful' as failed, silently."""
    monkeypatch.setenv("ROSETTA_FAILED_CLOSE_CODES", value)
    with pytest.raises(SettingsError) as refused:
        Settings()
    codes = ",".join(code.strip().lower() for code in value.split(","))
    assert str(refused.value).startswith(
        "ROSETTA_FAILED_CLOSE_CODES: Value error, give ServiceNow's own unsuccessful among them, "
        f"like unsuccessful,{codes}: "
    )


def test_listing_another_code_makes_the_next_build_a_full_rebuild(tmp_path: Path) -> None:
    """Every day since the rolled-back change counts it failed now: an hourly build rewriting today alone would leave
    the 10th counting it apart."""
    lake, settings = quiet_lake(tmp_path)
    build(lake, settings, mode="full", as_of=AS_OF)
    listed = settings.model_copy(update={"failed_close_codes": ("unsuccessful", "rolled_back")})
    result = build(lake, listed, mode="hourly", as_of=AS_OF + timedelta(hours=1))
    assert result.mode == "full"
    assert result.full_because == "the close codes of a failed change are unsuccessful,rolled_back (were unsuccessful)"
    assert build(lake, listed, mode="hourly", as_of=AS_OF + timedelta(hours=2)).mode == "hourly"
