"""What an operator checks of `rosetta-monitoring forget` on a lake that other work writes: it refuses to start while
any ingestion is still running, not only each source's last one (a backfill started before a scheduled run of its
source that has ended since would write the person back into the days being rewritten), one started as it took the
lease included (an ingestion started later writes nothing: tests/integration/ingest); a long read of landing pages
that do not name the person keeps the build's lease, so no build starts meanwhile; and the identifier may be given on
standard input, out of the shell's history and the process list.

The lake is the one test_forget_a_person.py writes by hand."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from lakehouse.aggregates import lease
from lakehouse.errors import RosettaError
from lakehouse.runlog import RunLog
from lakehouse.storage import Lake
from tests.integration.lakehouse.test_forget_a_person import JANE, WHO_COLUMNS, people, rows_of, run, whole_lake

__all__ = ["people"]  # the hand-written lake, a fixture


def test_a_backfill_still_running_behind_a_later_scheduled_run_refuses_forget(
    people: Lake, capsys: pytest.CaptureFixture[str]
) -> None:
    runs = RunLog(people)
    backfill = runs.start("ingest_deploys", "argocd", "argocd/app_status", trigger="cli:backfill")
    scheduled = runs.start("ingest_deploys", "argocd", "argocd/app_status", trigger="schedule")
    runs.finish(scheduled, "succeeded")
    assert [r.run_id for r in runs.last_run("argocd") or []] == [scheduled.run_id]  # the backfill is not the last
    before = whole_lake(people)

    code, _, err = run(capsys, "forget", JANE)
    assert code == 2
    assert f"an ingestion of argocd is running (run {backfill.run_id}" in err
    assert whole_lake(people) == before  # nothing written, not even a run record

    runs.finish(backfill, "succeeded")
    code, _, err = run(capsys, "forget", JANE)
    assert code == 0, err


def test_an_ingestion_started_as_forget_takes_the_lease_refuses_forget_which_lets_go_of_it(
    people: Lake, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ingestion's run begins after forget looked at the run log and before it took the lease: it found the lake
    free and goes on. Forget, looking again once it holds the lease, refuses, rewrites nothing and lets go of the
    lake."""
    take = lease.take
    started = []

    def ingestion_starting_first(lake: Lake, trigger: str, lease_for: timedelta) -> lease.Lease:
        started.append(RunLog(lake).start("ingest_deploys", "argocd", "argocd/app_status", trigger="cli:ingest"))
        return take(lake, trigger, lease_for)

    monkeypatch.setattr(lease, "take", ingestion_starting_first)
    before = {key: data for key, data in whole_lake(people).items() if key.startswith(("raw/", "landing/"))}

    code, _, err = run(capsys, "forget", JANE)
    assert code == 2
    assert f"an ingestion of argocd is running (run {started[0].run_id}" in err
    assert {key: data for key, data in whole_lake(people).items() if key.startswith(("raw/", "landing/"))} == before
    found = people.get_json(lease.LEASE_KEY)
    assert found is not None and found[0]["holder"] is None  # let go of: a build may start
    assert not [r for r in RunLog(people).list() if r.function == "forget"]


def test_a_long_read_of_pages_not_naming_the_person_keeps_the_builds_out(
    people: Lake, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Six pages of the 1st of November, read before the pages naming Jane, each read taking a quarter of the lease:
    a build tried at every read never gets the lake while forget runs."""
    for number in range(1, 7):
        people.put_landing("argocd", "app_status", "run-1", number, {"items": [{"n": number}]}, date(2026, 11, 1))
    clock = [datetime.now(UTC)]
    monkeypatch.setattr(lease, "now", lambda: clock[0])
    monkeypatch.setattr("lakehouse.forget.READ_AT_ONCE", 1)  # one page at a time: the clock moves between them
    read = Lake.read_landing_text
    builds_started: list[str] = []

    def slow(self: Lake, key: str) -> Any:
        clock[0] += lease.BUILD_LEASE / 4
        try:
            lease.take(self, "schedule", timedelta(minutes=5))
            builds_started.append(key)
        except RosettaError:
            pass
        return read(self, key)

    monkeypatch.setattr(Lake, "read_landing_text", slow)
    code, _, err = run(capsys, "forget", JANE)
    assert code == 0, err
    assert builds_started == []


def test_the_identifier_given_on_standard_input_is_forgotten_and_never_printed(
    people: Lake, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{JANE}\n"))
    code, out, err = run(capsys, "forget", "-")
    assert code == 0, err
    dataset, column = "argocd/deployment_history", WHO_COLUMNS["argocd/deployment_history"]
    assert all(row[column] != JANE for rows in rows_of(people, dataset).values() for row in rows)
    assert any(row[column] is None for rows in rows_of(people, dataset).values() for row in rows)
    assert JANE not in out + err


def test_forget_dash_without_standard_input_says_so(
    people: Lake, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", None)  # started with standard input closed (`<&-`)
    before = whole_lake(people)
    code, _, err = run(capsys, "forget", "-")
    assert code == 2
    assert "reads the identifier from standard input, and there is none" in err
    assert whole_lake(people) == before
