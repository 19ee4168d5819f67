"""An incident counts as its last version updated by the build's as-of hour: one cancelled after that hour, read
ahead of the build, was still open at it, as one resolved after it was."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from functions.api.main import create_app
from lakehouse.aggregates.build import build
from lakehouse.runlog import FirstReads
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.integration.api.conftest import api_settings, by_id, down_sources, get_json
from tests.unit.aggregates.estate import AS_OF, CI_Q, estate_lake, incident, t
from tests.unit.aggregates.test_build import ingest

# INCK: a P1 on quiet's CI (quiet has no other incident), opened on the 19th at 08:00 and cancelled on the 20th at
# 10:05, five minutes after the as-of hour of the build of 10:00. The ingest of 10:05 read it (its only version)
# before that build ran.
INCK = incident("k1" * 16, "INCK", CI_Q, t(19, 8), 1, 8) | {"closed_at": t(20, 10, 5), "sys_updated_on": t(20, 10, 5)}


def estate_with_inck(tmp_path: Path) -> tuple[Lake, Settings]:
    """The hand-made estate, its incidents read from the 1st on (so every day of last_7d is known), and INCK."""
    lake, settings = estate_lake(tmp_path)
    FirstReads(lake).record("servicenow", "incidents", t(1), run_id="first-read")
    ingest(lake, "servicenow/incidents", INCK)
    return lake, settings


def quiets_figures(tmp_path: Path, lake: Lake, settings: Settings) -> dict[str, object]:
    """What a reader sees of quiet: its summary's open incidents, its incident report over last_7d (the 13th to the
    20th), its open P1/P2 among the top risks, and INCK as its incident list shows it."""
    with TestClient(create_app(api_settings(tmp_path), settings, down_sources())) as client:
        summary = get_json(client, "/monitoring/applications/quiet/summary")["incidents"]
        report = by_id(get_json(client, "/monitoring/kpis/incidents?period=last_7d"))["quiet"]
        risks = {r["appId"]: r for r in get_json(client, "/monitoring/risk/top")["items"]}
        listed = get_json(client, "/monitoring/applications/quiet/incidents?status=all")["items"]
    opened_by_day = {d["day"]: d["opened"] for d in report["days"]}
    return {
        "summary": (summary["open"], summary["openP1P2"]),
        "report": (report["opened"], report["openedP1P2"], opened_by_day["2026-11-19"], report["openEndOfPeriod"]),
        "backlog P1/P2": report["openP1P2EndOfPeriod"],
        "risk open P1/P2": risks["quiet"]["openP1P2"],
        "INCK": [(i["number"], i["state"], i["isOpen"], i["isCanceled"]) for i in listed],
    }


def test_at_the_build_hour_the_cancelled_incident_is_still_open(tmp_path: Path) -> None:
    """At 10:00 INCK had not been cancelled: quiet has 1 open incident, a P1 (summary and top risks); its report
    counts 1 opened (a P1) on the 19th and 1 open, a P1, at the end of the period. Its list shows INCK open and not
    cancelled, its state at 10:00 unknown (only the Canceled version of 10:05 was read)."""
    lake, settings = estate_with_inck(tmp_path)
    build(lake, settings, mode="full", as_of=AS_OF)
    assert quiets_figures(tmp_path, lake, settings) == {
        "summary": (1, 1),
        "report": (1, 1, 1, 1),
        "backlog P1/P2": 1,
        "risk open P1/P2": 1,
        "INCK": [("INCK", None, True, False)],
    }


def test_the_next_build_counts_it_cancelled_in_no_figure(tmp_path: Path) -> None:
    """The hourly build of 11:00, with nothing ingested since 10:00, sees the cancellation of 10:05 pass: INCK is
    cancelled (state 8), out of every figure: nothing open, nothing opened on the 19th, no backlog, no open P1/P2."""
    lake, settings = estate_with_inck(tmp_path)
    build(lake, settings, mode="full", as_of=AS_OF)
    assert build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=1)).mode == "hourly"
    assert quiets_figures(tmp_path, lake, settings) == {
        "summary": (0, 0),
        "report": (0, 0, 0, 0),
        "backlog P1/P2": 0,
        "risk open P1/P2": 0,
        "INCK": [("INCK", 8, False, True)],
    }
