"""What an operator checks after `rosetta-monitoring forget <identifier>` when a source writes an accent as a character
of its own (`jdoé` as `jdoe` then U+0301, the combining acute accent, as macOS and some directories give names):
`jdoé` is another person than `jdoe`, whichever way either is written, and the person `jdoé` is found whether the
identifier given or the text holding it has the accent composed (`é`, U+00E9) or as its own character. Values not
naming the person stay as they were written, the decomposed ones included.

The lake is the one test_forget_a_person.py writes by hand, with these records added on the 20th of November 2026."""

from __future__ import annotations

import json

import pytest

from lakehouse.ingest.run import MAX_RAW_TEXT
from lakehouse.schemas import get_dataset
from lakehouse.storage import Lake
from tests.integration.lakehouse.test_forget_a_person import people, rows_of, run, t, table
from tests.integration.lakehouse.test_forget_matches_only_the_person import (
    DAY,
    add_page,
    add_rejects,
    locations,
    reject,
)

__all__ = ["people"]  # the hand-written lake, a fixture

COMPOSED = "jdo\u00e9"  # jdoé, the accent part of the letter
DECOMPOSED = "jdoe\u0301"  # jdoé, the accent a character after the e


def add_history(lake: Lake, by: dict[int, str]) -> None:
    """ArgoCD history entries on the 20th, by history id: who deployed each."""
    history = [
        {"app_name": "shop-api-prod", "history_id": number, "deployed_at": t(20, number), "initiated_by": who}
        for number, who in by.items()
    ]
    lake.write_days(get_dataset("argocd/deployment_history"), table("argocd/deployment_history", history))


def test_jdoe_with_a_combining_accent_is_not_jdoe(people: Lake, capsys: pytest.CaptureFixture[str]) -> None:
    """Forgetting `jdoe`: the records of `jdoé` written decomposed hold the letters j, d, o, e, but the accent after
    the e continues the name. By hand: only the records of `jdoe` himself go; `jdoé`'s stay, byte for byte."""
    add_rejects(
        people,
        [
            reject("jdoe", json.dumps({"user": "jdoe"})),
            reject("jdoé decomposed", json.dumps({"user": DECOMPOSED}, ensure_ascii=False)),
            reject("jdoé decomposed, escaped", json.dumps({"user": DECOMPOSED})),
            reject("jdoé decomposed, in a sentence", f"user {DECOMPOSED} logged in"),
            reject("jdoé composed", json.dumps({"user": COMPOSED}, ensure_ascii=False)),
        ],
    )
    page = {"items": [{"initiatedBy": {"username": DECOMPOSED}}, {"initiatedBy": {"username": "jdoe"}}]}
    key = add_page(people, "argocd", "app_status", 1, page)
    add_history(people, {5: "jdoe", 6: DECOMPOSED})

    code, _, err = run(capsys, "forget", "jdoe", "--free-text")
    assert code == 0, err
    assert sorted(locations(people)) == [
        "jdoé composed",
        "jdoé decomposed",
        "jdoé decomposed, escaped",
        "jdoé decomposed, in a sentence",
    ]
    assert people.read_landing(key) == {"items": [{"initiatedBy": {"username": DECOMPOSED}}, {"initiatedBy": None}]}
    history = {r["history_id"]: r["initiated_by"] for r in rows_of(people, "argocd/deployment_history")[DAY]}
    assert history == {5: None, 6: DECOMPOSED}  # kept as written, not recomposed


@pytest.mark.parametrize(("given", "held"), [(DECOMPOSED, COMPOSED), (COMPOSED, DECOMPOSED)])
def test_jdoe_with_an_accent_is_found_however_the_accent_is_written(
    people: Lake, capsys: pytest.CaptureFixture[str], given: str, held: str
) -> None:
    """The identifier given one way, the lake holding it the other: it is found as who deployed, in the rejects (as
    written and JSON-escaped) and in the landing pages, and `jdoe` (no accent) keeps his records."""
    add_rejects(
        people,
        [
            reject("theirs", json.dumps({"user": held}, ensure_ascii=False)),
            reject("theirs, escaped", json.dumps({"user": held})),
            reject("theirs, in a sentence", f"user {held.upper()} logged in"),
            reject("jdoe", json.dumps({"user": "jdoe"})),
        ],
    )
    page = {"items": [{"initiatedBy": {"username": held}}, {"initiatedBy": {"username": "jdoe"}}]}
    key = add_page(people, "argocd", "app_status", 1, page)
    add_history(people, {5: held, 6: "jdoe"})

    code, _, err = run(capsys, "forget", given)
    assert code == 0, err
    assert locations(people) == ["jdoe"]
    assert people.read_landing(key) == {"items": [{"initiatedBy": None}, {"initiatedBy": {"username": "jdoe"}}]}
    history = {r["history_id"]: r["initiated_by"] for r in rows_of(people, "argocd/deployment_history")[DAY]}
    assert history == {5: None, 6: "jdoe"}


def cut_between_letter_and_accent(username: str) -> str:
    """A large record holding `username` (its accent written apart, after the e), cut at MAX_RAW_TEXT characters as a
    reject keeps it, right after the e: the accent is cut off."""
    ending = json.dumps({"initiatedBy": {"username": username}}, ensure_ascii=False)
    start = ending.index(username) + username.index("\u0301")
    padding = MAX_RAW_TEXT - start - len('{"resources": "", "operation": ')
    record = {"resources": "r" * padding, "operation": {"initiatedBy": {"username": username}}}
    cut = json.dumps(record, ensure_ascii=False)[:MAX_RAW_TEXT]
    assert cut.endswith(f'"username": "{username[: username.index(chr(0x301))]}')  # the test's own premise, checked
    return cut


def test_a_reject_cut_between_a_letter_and_its_accent_is_forgotten(
    people: Lake, capsys: pytest.CaptureFixture[str]
) -> None:
    """A record cut inside `jane.doé` written decomposed may end with `jane.doe`, the accent cut off: the identifier's
    first characters as written, which name her as well as `jane.do` would. By hand: forgetting `jane.doé` (given
    composed) leaves out her cut record and keeps the one cut inside `jane.roé`."""
    add_rejects(
        people,
        [
            reject("cut inside jane.doé", cut_between_letter_and_accent("jane.doe\u0301")),
            reject("cut inside jane.roé", cut_between_letter_and_accent("jane.roe\u0301")),
        ],
    )
    code, _, err = run(capsys, "forget", "jane.do\u00e9")
    assert code == 0, err
    assert locations(people) == ["cut inside jane.roé"]
