"""A reject keeps its record as received up to MAX_RAW_TEXT characters (an ArgoCD application with many resources
passes that). Cut inside the person's identifier, it ended with `"username": "jdoe@exam`: neither the whole e-mail
address nor the username is in it, and forget kept it, though its first characters name the person."""

from __future__ import annotations

import json

import pytest

from lakehouse.ingest.run import MAX_RAW_TEXT
from lakehouse.storage import Lake
from tests.integration.lakehouse.test_forget_a_person import people, run
from tests.integration.lakehouse.test_forget_matches_only_the_person import add_rejects, locations, reject

__all__ = ["people"]  # the hand-written lake, a fixture


def cut_record(username: str) -> str:
    """A large record whose text, cut at MAX_RAW_TEXT characters as a reject keeps it, ends inside `username`: the
    padding is chosen so that the cut falls after its first 8 characters."""
    ending = json.dumps({"initiatedBy": {"username": username}})
    start = ending.index(username) + 8
    padding = MAX_RAW_TEXT - start - len('{"resources": "", "operation": ')
    text = json.dumps({"resources": "r" * padding, "operation": {"initiatedBy": {"username": username}}})
    cut = text[:MAX_RAW_TEXT]
    assert cut.endswith(f'"username": "{username[:8]}')  # the test's own premise, checked
    return cut


def test_a_reject_cut_inside_the_identifier_is_forgotten(people: Lake, capsys: pytest.CaptureFixture[str]) -> None:
    add_rejects(
        people,
        [
            reject("cut inside jdoe@example.com", cut_record("jdoe@example.com")),
            reject("cut inside someone else's", cut_record("jroe@example.com")),
            # Short, so not cut: it ends with the address's first characters as what it holds, another's name.
            reject("not cut", '{"note": "ends with jdoe@exam'),
            reject("whole", '{"user": {"username": "jdoe@example.com"}}'),
        ],
    )
    code, _, err = run(capsys, "forget", "jdoe@example.com")
    assert code == 0, err
    # By hand: the cut record beginning the address and the whole one go; the other person's cut record and the
    # short one (it was not cut: what it ends with is all it holds) stay.
    assert sorted(locations(people)) == ["cut inside someone else's", "not cut"]


def test_a_cut_inside_the_username_is_forgotten_by_the_username(
    people: Lake, capsys: pytest.CaptureFixture[str]
) -> None:
    """Forgetting the username: a record cut inside `jdoe.smith` ends with `jdoe.smi`, which begins that username and
    is not `jdoe` (a whole token ends at no full stop followed by a letter), so forgetting `jdoe` keeps it."""
    add_rejects(people, [reject("cut inside jdoe.smith", cut_record("jdoe.smith"))])
    assert run(capsys, "forget", "jdoe")[0] == 0
    assert locations(people) == ["cut inside jdoe.smith"]
    assert run(capsys, "forget", "jdoe.smith")[0] == 0
    assert locations(people) == []
