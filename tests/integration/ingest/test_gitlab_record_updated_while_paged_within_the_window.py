"""GitLab's deployments, pipelines and merged requests are read by offset, by update time, over the run's window. A
record updated while the listing is paged moves to the end of the order, and the one after its old place slides
back over the page boundary. When the window ends after GitLab's now (`--until` tomorrow, an event's window ahead of
now, GitLab's clock behind the collector's), the updated record stays in the window: GitLab's count (x-total) stays
the same, and only the record coming back under an id already read tells that one was skipped."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from pydantic import SecretStr

from functions.ingest_deploys.client import GitLabClient
from lakehouse.ingest.config import IngestSettings
from lakehouse.ingest.sources import ingest
from lakehouse.ingest.window import Window
from lakehouse.mappings import MappingStore
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.integration.api.test_endpoints import serving

from .truth import rows

PROJECT = 7
PER_PAGE = 2
# Six records updated one minute apart from 10:01; the window runs from 10:00 to 10:00 the next day.
SINCE = datetime(2026, 12, 4, 10, tzinfo=UTC)
UNTIL = SINCE + timedelta(days=1)
# GitLab's now when deployment 1 is updated: within the window, after every other record's update.
LATER = SINCE + timedelta(hours=3)
LISTINGS = {
    "deployments": GitLabClient.deployments,
    "pipelines": GitLabClient.pipelines,
    "merged requests": GitLabClient.merged_requests,
}


def stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def record(number: int, updated: datetime, created: datetime | None = None) -> dict[str, Any]:
    """A deployment, a pipeline or a merged request alike: the fields the parsers read. An update keeps its creation
    (and merge) time: rows are kept on their creation day."""
    created = created or updated
    return {
        "id": number,
        "iid": number,
        "project_id": PROJECT,
        "status": "success",
        "state": "merged",
        "ref": "main",
        "sha": f"{number:040x}",
        "created_at": stamp(created),
        "merged_at": stamp(created),
        "updated_at": stamp(updated),
        "environment": {"name": "production"},
        "deployable": None,
        "user": {"username": "deployer"},
    }


class FakeGitLab:
    """GitLab's listings over HTTP: what was updated in [updated_after, updated_before], both bounds included, by
    update time then id, counted (x-total), paged by offset (page, per_page, x-next-page). `after_page` is called with
    the number of pages served as each is sent: what changes in GitLab while the collector reads."""

    def __init__(self, records: list[Any]) -> None:
        self.records = records
        self.served = 0
        self.after_page: Callable[[int], None] = lambda served: None

    def page(self, query: dict[str, str]) -> tuple[list[Any], dict[str, str]]:
        after, before = datetime.fromisoformat(query["updated_after"]), datetime.fromisoformat(query["updated_before"])
        listed = sorted(
            (r for r in self.records if after <= datetime.fromisoformat(r["updated_at"]) <= before),
            key=lambda r: (r["updated_at"], str(r.get("id"))),
        )
        number, size = int(query.get("page", "1")), int(query["per_page"])
        more = number * size < len(listed)
        headers = {"x-total": str(len(listed)), "x-next-page": str(number + 1) if more else ""}
        return listed[(number - 1) * size : number * size], headers

    def handler(self) -> type[BaseHTTPRequestHandler]:
        gitlab = self

        class Listing(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                query = {k: v[-1] for k, v in parse_qs(urlsplit(self.path).query).items()}
                body, headers = gitlab.page(query)
                # Counted, and GitLab changed, before the page reaches the collector: its next request, or the
                # test's count once the read ends, never comes before them.
                gitlab.served += 1
                gitlab.after_page(gitlab.served)
                payload = json.dumps(body).encode()
                self.send_response(200)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        return Listing


def six_records() -> list[dict[str, Any]]:
    return [record(n, SINCE + timedelta(minutes=n)) for n in range(1, 7)]


def update_the_first_after_page_one(gitlab: FakeGitLab) -> None:
    def update(served: int) -> None:
        if served == 1:
            gitlab.records[0] = record(1, LATER, SINCE + timedelta(minutes=1))

    gitlab.after_page = update


@pytest.fixture
def gitlab() -> Iterator[tuple[FakeGitLab, str]]:
    fake = FakeGitLab(six_records())
    with serving(fake.handler()) as url:
        yield fake, url


def read(url: str, listing: str) -> tuple[list[Any], GitLabClient]:
    client = GitLabClient(url, SecretStr("glpat-reader"))
    pages = LISTINGS[listing](client, PROJECT, SINCE, UNTIL, PER_PAGE)
    return [entry for page in pages for entry in page.body], client


@pytest.mark.parametrize("listing", LISTINGS)
def test_a_record_updated_within_the_window_after_page_one_hides_no_other(
    gitlab: tuple[FakeGitLab, str], listing: str
) -> None:
    """By hand: page 1 brings 1 and 2; 1 is then updated to 13:00, still in the window, and the order is 2 3 4 5 6 1
    (six records, as before). Page 2 (places 3 and 4) brings 4 and 5, page 3 brings 6 and 1: 3 was never read, and 1
    came back. The listing is read again once (1 2, 3 4, 5 6 became 2 3, 4 5, 6 1): every record is read, 1 at 13:00
    last, and nothing is set aside."""
    fake, url = gitlab
    update_the_first_after_page_one(fake)
    entries, client = read(url, listing)
    ids = [e["id"] for e in entries]
    assert ids[:6] == [1, 2, 4, 5, 6, 1]  # the first read, 3 skipped
    assert ids[6:] == [2, 3, 4, 5, 6, 1]  # the read again
    assert {e["id"] for e in entries} == {1, 2, 3, 4, 5, 6}
    assert entries[-1]["updated_at"] == "2026-12-04T13:00:00.000Z"
    assert client.rereads == 1
    assert client.counters.set_aside == []
    assert fake.served == 3 + 3


@pytest.mark.parametrize("listing", LISTINGS)
def test_a_listing_where_nothing_moves_is_read_once(gitlab: tuple[FakeGitLab, str], listing: str) -> None:
    fake, url = gitlab
    entries, client = read(url, listing)
    assert [e["id"] for e in entries] == [1, 2, 3, 4, 5, 6]
    assert client.rereads == 0
    assert fake.served == 3


def listing_with_ties(repeating: Callable[[int], bool]) -> FakeGitLab:
    """Deployments 2, 3 and 4 updated in the same instant, after 1: GitLab may order them either way from one page
    to the next, and page 2 then repeats 2, as it was, in place of 3, on the reads `repeating` says (by the number
    of pages served so far)."""
    same = SINCE + timedelta(minutes=2)
    fake = FakeGitLab([record(1, SINCE + timedelta(minutes=1)), record(2, same), record(3, same), record(4, same)])
    page = fake.page

    def unstable(query: dict[str, str]) -> tuple[list[Any], dict[str, str]]:
        body, headers = page(query)
        if query.get("page") == "2" and repeating(fake.served):
            body = [record(2, same), *body[1:]]
        return body, headers

    fake.page = unstable  # type: ignore[method-assign]
    return fake


def test_a_record_repeated_in_place_of_another_is_read_again_until_every_record_is_read() -> None:
    """The first read brings 1 2, 2 4: four entries, three records of the four GitLab counts (3 took no place). It
    did not move, so a re-read at once would not be for a move: the listing is read again because it holds fewer
    records than its count, and the second read (1 2, 3 4) brings 3. Reads: 2 pages each."""
    fake = listing_with_ties(lambda served: served < 2)
    with serving(fake.handler()) as url:
        entries, client = read(url, "deployments")
    assert [e["id"] for e in entries] == [1, 2, 2, 4, 1, 2, 3, 4]
    assert (client.rereads, fake.served, client.counters.set_aside) == (1, 4, [])


def test_a_record_repeated_in_place_of_another_on_every_read_is_a_reject_naming_the_figures() -> None:
    """When every read repeats 2 in place of 3, the listing is read four times, then set aside as a reject of the
    deployments naming GitLab's count (4) and the records read (3): counted and kept, not lost without a word, nor a
    failed run."""
    fake = listing_with_ties(lambda served: True)
    with serving(fake.handler()) as url:
        entries, client = read(url, "deployments")
    assert {e["id"] for e in entries} == {1, 2, 4} and client.rereads == 3 and fake.served == 8
    (reject,) = client.counters.set_aside
    assert reject.reason == "the listing announced 4 records (x-total) and 3 were read"
    assert reject.dataset == "gitlab/deployments"


def test_entries_without_an_integer_id_are_passed_on_and_read_once() -> None:
    """Entries that are no object, or have no id, or an id that is no integer (a list, which no set holds), are no
    move: the listing is read once and every entry reaches the parser, which sets them aside."""
    odd: list[Any] = [
        {"updated_at": stamp(SINCE + timedelta(minutes=2))},
        {"id": [3], "updated_at": stamp(SINCE + timedelta(minutes=3))},
        {"id": True, "updated_at": stamp(SINCE + timedelta(minutes=3, seconds=30))},
        {"id": "1", "updated_at": stamp(SINCE + timedelta(minutes=4))},
    ]
    fake = FakeGitLab([record(1, SINCE + timedelta(minutes=1)), *odd, record(5, SINCE + timedelta(minutes=5))])
    page = fake.page

    def with_a_string(query: dict[str, str]) -> tuple[list[Any], dict[str, str]]:
        body, headers = page(query)
        return (["not a record", *body] if query.get("page", "1") == "1" else body), headers

    fake.page = with_a_string  # type: ignore[method-assign]
    with serving(fake.handler()) as url:
        entries, client = read(url, "deployments")
    assert entries[0] == "not a record" and [e.get("id") for e in entries[1:]] == [1, None, [3], True, "1", 5]
    assert client.rereads == 0 and fake.served == 3


def test_the_lake_holds_every_deployment_once_at_its_latest_update(tmp_path: Path) -> None:
    """A run over a window ending tomorrow, deployment 1 updated within it once page 1 is read: the lake holds the
    six deployments, one row each (those read more than once, all but 3, merged on their id), 1 at its update."""
    since = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=8)
    records = [record(n, since + timedelta(minutes=n)) for n in range(1, 7)]
    fake = FakeGitLab(records)
    updated = since + timedelta(hours=3)

    def update(served: int) -> None:
        if served == 1:
            fake.records[0] = record(1, updated, since + timedelta(minutes=1))

    fake.after_page = update
    lake = Lake.from_settings(Settings(lake_url=str(tmp_path / "lake")))
    MappingStore(lake).apply([{"entity_id": "shop", "kind": "application", "gitlab_project_id": PROJECT}], actor="test")
    with serving(fake.handler()) as url:
        settings = IngestSettings(gitlab_url=url, gitlab_token=SecretStr("glpat-reader"), gitlab_per_page=PER_PAGE)
        run = ingest(
            "gitlab", lake, settings, window=Window(since, since + timedelta(days=1)), datasets=["gitlab/deployments"]
        )
    assert not run.failed
    stored = sorted((r["deployment_id"], r["updated_at"]) for r in rows(lake, "gitlab/deployments"))
    assert stored == [(1, updated)] + [(n, since + timedelta(minutes=n)) for n in range(2, 7)]


@pytest.mark.parametrize("listing", LISTINGS)
def test_a_window_gitlab_does_not_count_is_read_in_parts_it_counts(listing: str) -> None:
    """GitLab stops counting past 10,000 records (no x-total); this one past 10, to keep the listing short. Fifteen
    records from 10:01, a minute apart. When the collector asks a second page, having read the first (1 and 2), 1 is
    updated past the window's end and leaves it. Read uncounted, that page (places 3 and 4) brings 4 and 5: 3 was
    never read, and nothing told, the count being what shows a record leaving. The window is now halved until each
    part is counted (its first page, uncounted, is not read): the part holding 1 to 5 is read again when its count
    falls, and every record is read."""
    fake = FakeGitLab([record(n, SINCE + timedelta(minutes=n)) for n in range(1, 16)])
    page = fake.page
    moved: list[bool] = []

    def counting_up_to_ten(query: dict[str, str]) -> tuple[list[Any], dict[str, str]]:
        if query.get("page") == "2" and not moved:
            moved.append(True)
            fake.records[0] = record(1, UNTIL + timedelta(hours=1), SINCE + timedelta(minutes=1))
        body, headers = page(query)
        if int(headers["x-total"]) > 10:
            del headers["x-total"]
        return body, headers

    fake.page = counting_up_to_ten  # type: ignore[method-assign]
    with serving(fake.handler()) as url:
        entries, client = read(url, listing)
    assert moved
    assert {e["id"] for e in entries} == set(range(1, 16))
    assert client.counters.set_aside == []
    assert client.rereads == 1
