"""What an operator checks after `rosetta-monitoring forget <identifier>`, beyond plain usernames: a user of the same
Windows domain whose name ends with the identifier keeps their records (`CORP\\njdoe` is user njdoe, not a line
ending before jdoe); an identifier beyond ASCII (`Émile`, `Strauß`) is found in the landing pages and rejects, which
keep it JSON-escaped; a GitLab commit whose author or committer is the person by address loses their name too; and
an identifier ending a sentence, a full stop after it, is found.

The lake is the one test_forget_a_person.py writes by hand, with these records added on the 20th of November 2026."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lakehouse.storage import Lake
from tests.integration.lakehouse.test_forget_a_person import JANE, JOHN, people, run
from tests.integration.lakehouse.test_forget_matches_only_the_person import add_page, add_rejects, locations, reject

__all__ = ["people"]  # the hand-written lake, a fixture


def test_a_user_of_the_same_domain_ending_with_the_identifier_keeps_their_records(
    people: Lake, capsys: pytest.CaptureFixture[str]
) -> None:
    """`CORP\\njdoe` and `CORP\\tjdoe` (a backslash, then users njdoe and tjdoe) are kept as JSON as `CORP\\\\njdoe`:
    the backslash before the n is escaped, so no line ends before jdoe. A line that does end before jdoe names him."""
    add_rejects(
        people,
        [
            reject("njdoe", json.dumps({"user": "CORP\\njdoe"})),
            reject("tjdoe", json.dumps({"user": "CORP\\tjdoe"})),
            reject("a line ending before him", json.dumps({"message": "synced\njdoe logged in"})),
        ],
    )
    listing = {"items": [{"status": {"operationState": {"message": "synced by CORP\\njdoe"}}}]}
    key = add_page(people, "argocd", "app_status", 1, listing)

    code, _, err = run(capsys, "forget", "jdoe", "--free-text")
    assert code == 0, err
    assert sorted(locations(people)) == ["njdoe", "tjdoe"]
    assert people.read_landing(key) == listing


def test_a_record_kept_as_plain_text_is_read_as_written_too(people: Lake, capsys: pytest.CaptureFixture[str]) -> None:
    """A reject of a page that was not JSON (an error page) keeps its text as sent, where a backslash is a backslash:
    `CORP\nancy` there is user nancy of the domain CORP. In JSON text, `\n` ends a line: `line\nancy` is `ancy`."""
    add_rejects(
        people,
        [
            reject("error page", "<html>Access denied for CORP\\nancy</html>"),
            reject("json", json.dumps({"message": "line\nancy"})),
        ],
    )
    code, _, err = run(capsys, "forget", "nancy")
    assert code == 0, err
    assert locations(people) == ["json"]


@pytest.mark.parametrize(
    ("given", "held"),
    [
        ("émile", "Émile"),
        ("jan.strauß@example.de", "Jan.Strauß@example.de"),
        ("JAN.STRAUSS@example.de", "jan.strauß@example.de"),
    ],
)
def test_an_identifier_beyond_ascii_is_found_in_the_landing_pages_and_rejects(
    people: Lake, capsys: pytest.CaptureFixture[str], given: str, held: str
) -> None:
    """The landing pages keep every character beyond ASCII escaped (`\\u00c9`), and a reject may too: the identifier is
    found in them whatever its case (ß is ss), and the other person (Emile, without the accent) keeps theirs."""
    other = "Emile" if "mile" in held else "jan.strauss@example.org"
    page = {"items": [{"initiatedBy": {"username": held}}, {"initiatedBy": {"username": other}}]}
    key = add_page(people, "argocd", "app_status", 1, page)
    add_rejects(
        people,
        [reject("theirs", json.dumps({"user": held})), reject("another's", json.dumps({"user": other}))],
    )
    assert held not in (people.read_landing_text(key) or "")  # kept escaped: the case this test is about

    code, _, err = run(capsys, "forget", given)
    assert code == 0, err
    assert people.read_landing(key) == {"items": [{"initiatedBy": None}, {"initiatedBy": {"username": other}}]}
    assert locations(people) == ["another's"]


def test_a_commit_authored_by_the_person_loses_their_name_with_their_address(
    people: Lake, capsys: pytest.CaptureFixture[str]
) -> None:
    """GitLab's deployment gives its commit's author and committer as names beside addresses
    (`deployable.commit`): Jane's name goes with her address, John's commit stays as sent."""

    def deployment(number: int, author: tuple[str, str], committer: tuple[str, str]) -> dict[str, Any]:
        commit = {
            "id": f"c{number}",
            "message": "Fix the cart total",
            "author_name": author[0],
            "author_email": author[1],
            "committer_name": committer[0],
            "committer_email": committer[1],
            "author_notes_count": 2,  # beginning as the author's keys, and not the person: it stays
        }
        return {"id": number, "deployable": {"commit": commit}}

    jane, john = ("Jane Doe", JANE), ("John Roe", JOHN)
    key = add_page(people, "gitlab", "deployments", 5, [deployment(401, jane, john), deployment(402, john, john)])

    code, _, err = run(capsys, "forget", JANE)
    assert code == 0, err
    first, second = people.read_landing(key)
    assert first["deployable"]["commit"] == {
        "id": "c401",
        "message": "Fix the cart total",
        "author_name": None,
        "author_email": None,
        "committer_name": "John Roe",
        "committer_email": JOHN,
        "author_notes_count": 2,
    }
    assert second == deployment(402, john, john)


def test_an_identifier_ending_a_sentence_is_found(people: Lake, capsys: pytest.CaptureFixture[str]) -> None:
    """Free text puts a full stop after a name at a sentence's end (`paged jdoe@example.com.`): no address ends with
    one, so the person is found there. An address going on after the stop (`.au`, `.smith`) is someone else's."""
    person = "jdoe@example.com"
    add_rejects(
        people,
        [
            reject("sentence", json.dumps({"message": f"Rolled back, paged {person}."})),
            reject("ellipsis", f"<html>Access denied for {person}...</html>"),
            reject("another domain", json.dumps({"message": f"paged {person}.au"})),
            reject("another name", json.dumps({"message": "paged jdoe@example.com.smith today"})),
        ],
    )
    page = {"items": [{"status": {"operationState": {"message": f"Synced by {person}."}}}]}
    key = add_page(people, "argocd", "app_status", 1, page)

    code, _, err = run(capsys, "forget", person, "--free-text")
    assert code == 0, err
    assert sorted(locations(people)) == ["another domain", "another name"]
    assert people.read_landing(key) == {"items": [{"status": {"operationState": {"message": None}}}]}
