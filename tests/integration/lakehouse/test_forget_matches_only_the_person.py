"""What an operator checks after `rosetta-monitoring forget <identifier>`: it forgets that person and no one else. The
identifier is found as a whole token (`jdoe` and `@jdoe`, not `jdoe2`, `ajdoe`, `feature/jdoe-fix`, `jdoe@example.com`
nor `ops@jdoe`), as a source may spell it (`JDoe`, ` jdoe `, JSON-escaped); a landing page naming the person keeps
everyone else's values; a run failing part-way records the days it rewrote and says a full build is due; and a run
longer than the build's lease keeps it, so no build starts meanwhile.

The lake is the one test_forget_a_person.py writes by hand, with a few more records on the 20th of November 2026."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from lakehouse.aggregates import lease
from lakehouse.errors import ConcurrentWriteError, RosettaError
from lakehouse.runlog import RunLog
from lakehouse.schemas import get_dataset
from lakehouse.storage import Lake
from tests.integration.lakehouse.test_forget_a_person import JANE, JOHN, people, rows_of, run, t, table

__all__ = ["people"]  # the hand-written lake, a fixture

DAY = date(2026, 11, 20)


def reject(location: str, raw_text: str) -> dict[str, Any]:
    return {
        "dataset": "gitlab/deployments",
        "run_id": "run-20",
        "location": location,
        "raw_text": raw_text,
        "reason": "missing field created_at",
        "rejected_at": t(20),
    }


def add_rejects(lake: Lake, rejects: list[dict[str, Any]]) -> None:
    lake.write_days(get_dataset("gitlab/rejects"), table("gitlab/rejects", rejects))


def add_page(lake: Lake, source: str, dataset: str, page: int, payload: Any) -> str:
    return lake.put_landing(source, dataset, "run-20", page, payload, DAY)


def locations(lake: Lake) -> list[str]:
    return [r["location"] for r in rows_of(lake, "gitlab/rejects")[DAY]]


def test_only_the_whole_identifier_is_forgotten(people: Lake, capsys: pytest.CaptureFixture[str]) -> None:
    add_rejects(
        people,
        [
            reject("jdoe", '{"user": {"username": "jdoe"}}'),
            reject("JDoe", '{"user": {"username": "JDoe"}}'),
            reject("in a sentence", "user jdoe logged in"),
            reject("jdoe2", '{"user": {"username": "jdoe2"}}'),
            reject("ajdoe", '{"user": {"username": "ajdoe"}}'),
            reject("branch", '{"ref": "feature/jdoe-fix"}'),
            reject("e-mail", '{"user": {"username": "jdoe@example.com"}}'),
            reject("mention", "reverted, as @jdoe asked"),
            reject("at a host", '{"user": {"username": "ops@jdoe"}}'),
        ],
    )
    others = {
        add_page(people, "gitlab", "deployments", 1, [{"id": 201, "user": {"username": "jdoe2"}}]),
        add_page(people, "gitlab", "deployments", 2, [{"id": 202, "ref": "feature/jdoe-fix"}]),
        add_page(people, "gitlab", "deployments", 3, [{"id": 203, "user": {"username": "jdoe@example.com"}}]),
    }
    before = {key: people.store.get(key).data for key in others}  # type: ignore[union-attr]

    code, _, err = run(capsys, "forget", "jdoe", "--free-text")
    assert code == 0, err
    # By hand: the four naming jdoe itself (GitLab's mention `@jdoe` one) go, the five naming someone else stay.
    assert sorted(locations(people)) == sorted(["jdoe2", "ajdoe", "branch", "e-mail", "at a host"])
    assert {key: people.store.get(key).data for key in others} == before  # type: ignore[union-attr]


def test_a_word_holding_the_identifier_is_not_the_person(people: Lake, capsys: pytest.CaptureFixture[str]) -> None:
    listing = {"items": [{"metadata": {"annotations": {"team": "shop"}}, "spec": {"project": "default"}}]}
    key = add_page(people, "argocd", "app_status", 1, listing)
    before = {k: people.store.get(k).data for k in people.list_keys("landing/")}  # type: ignore[union-attr]
    code, out, err = run(capsys, "forget", "ann", "--free-text")
    assert code == 0, err
    assert people.read_landing(key) == listing
    assert {k: people.store.get(k).data for k in people.list_keys("landing/")} == before  # type: ignore[union-attr]
    assert "0 landing page(s) redacted" in out


def test_an_identifier_with_a_backslash_is_found_json_escaped(people: Lake, capsys: pytest.CaptureFixture[str]) -> None:
    person = "CORP\\jdoe"  # a Windows domain account, one backslash
    add_rejects(people, [reject("escaped", '{"user": "CORP\\\\jdoe"}'), reject("other", '{"user": "CORP\\\\jroe"}')])
    key = add_page(people, "argocd", "app_status", 1, {"items": [{"initiatedBy": {"username": person}}]})
    code, _, err = run(capsys, "forget", person)
    assert code == 0, err
    assert locations(people) == ["other"]
    assert people.read_landing(key) == {"items": [{"initiatedBy": None}]}  # her object, whole


def test_a_landing_page_keeps_everyone_else(people: Lake, capsys: pytest.CaptureFixture[str]) -> None:
    def app(name: str, by: str) -> dict[str, Any]:
        return {"metadata": {"name": name}, "status": {"history": [{"id": 1, "initiatedBy": {"username": by}}]}}

    key = add_page(people, "argocd", "app_status", 1, {"items": [app("shop-api-prod", JANE), app("cart", JOHN)]})
    code, out, err = run(capsys, "forget", JANE)
    assert code == 0, err
    kept = people.read_landing(key)
    # Her initiatedBy object goes whole (it is hers); John's stays as sent.
    jane_gone = app("shop-api-prod", JANE)
    jane_gone["status"]["history"][0]["initiatedBy"] = None
    assert kept == {"items": [jane_gone, app("cart", JOHN)]}  # type: ignore[arg-type]
    assert "landing argocd/app_status" in out and "2026-11-20  1 page naming it redacted" in out


def test_a_gitlab_user_naming_the_person_goes_whole(people: Lake, capsys: pytest.CaptureFixture[str]) -> None:
    """GitLab's deployment gives its user as an object: her name, avatar and profile go with her username, even
    without --free-text; John's deployment keeps his."""

    def user(username: str, name: str) -> dict[str, Any]:
        return {"id": 7, "username": username, "name": name, "avatar_url": f"https://g/{username}.png"}

    page = [{"id": 301, "user": user("jdoe", "Jane Doe")}, {"id": 302, "user": user("jsmith", "John Smith")}]
    key = add_page(people, "gitlab", "deployments", 4, page)
    code, _, err = run(capsys, "forget", "jdoe")
    assert code == 0, err
    assert people.read_landing(key) == [{"id": 301, "user": None}, {"id": 302, "user": user("jsmith", "John Smith")}]


def test_who_deployed_is_found_whatever_its_case_and_blanks(people: Lake, capsys: pytest.CaptureFixture[str]) -> None:
    history = [
        {"app_name": "shop-api-prod", "history_id": 5, "deployed_at": t(20, 9), "initiated_by": " JDoe "},
        {"app_name": "shop-api-prod", "history_id": 6, "deployed_at": t(20, 10), "initiated_by": "jdoe2"},
    ]
    people.write_days(get_dataset("argocd/deployment_history"), table("argocd/deployment_history", history))
    code, _, err = run(capsys, "forget", "jdoe")
    assert code == 0, err
    rows = rows_of(people, "argocd/deployment_history")[DAY]
    assert {r["history_id"]: r["initiated_by"] for r in rows} == {5: None, 6: "jdoe2"}


def test_a_failed_run_records_the_days_it_rewrote(
    people: Lake, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    rewrite = Lake.rewrite_partition

    def failing(self: Lake, dataset: Any, day: date, *args: Any, **kwargs: Any) -> Any:
        if (dataset.id, day) == ("argocd/deployment_history", date(2026, 11, 17)):
            time.sleep(0.5)  # the later days of the dataset are rewritten meanwhile
            raise ConcurrentWriteError("replaced by other writers")
        return rewrite(self, dataset, day, *args, **kwargs)

    monkeypatch.setattr(Lake, "rewrite_partition", failing)
    code, out, err = run(capsys, "forget", JANE)
    assert code == 2 and "replaced by other writers" in err
    [record] = RunLog(people).list(since=datetime.now(UTC).date() - timedelta(days=1))
    # By hand, in the registry's order: sync_operations' 18th (her failed sync), then deployment_history's 19th
    # (rewritten while the 17th failed); nothing after deployment_history was read.
    assert (record.status, record.days_written) == ("failed", ["2026-11-18", "2026-11-19"])
    by = {r["history_id"]: r["initiated_by"] for r in rows_of(people, "argocd/deployment_history")[date(2026, 11, 19)]}
    assert by == {3: None, 4: ""}
    assert "next: rosetta-monitoring build --mode full" in out


def test_a_run_longer_than_the_lease_keeps_the_builds_out(
    people: Lake, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [datetime.now(UTC)]
    monkeypatch.setattr(lease, "now", lambda: clock[0])
    monkeypatch.setattr("lakehouse.forget.READ_AT_ONCE", 1)  # one day at a time: the clock moves between them
    rewrite = Lake.rewrite_partition
    builds_started: list[datetime] = []

    def slow(self: Lake, *args: Any, **kwargs: Any) -> Any:
        clock[0] += lease.BUILD_LEASE * 2 / 3  # two days take longer than the lease
        try:
            lease.take(self, "schedule", timedelta(minutes=5))
            builds_started.append(clock[0])
        except RosettaError:
            pass
        return rewrite(self, *args, **kwargs)

    monkeypatch.setattr(Lake, "rewrite_partition", slow)
    code, _, err = run(capsys, "forget", JANE)
    assert code == 0, err
    assert builds_started == []
