"""GitLab orders records updated in the same instant either way from one page to the next, so one record can be read
twice and another never. A listing is complete when the records read make GitLab's count (x-total), each counted
once. A record without an id (a malformed one, a reject) was counted each time it was met: read twice in place of a
deployment, it stood in for the one lost, the listing was taken as whole, and the lost deployment never reached the
lake, without a word."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from lakehouse.ingest.config import IngestSettings
from lakehouse.ingest.sources import ingest
from lakehouse.ingest.window import Window
from lakehouse.mappings import MappingStore
from lakehouse.runlog import RunRecord
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.integration.api.test_endpoints import serving

from .test_gitlab_record_updated_while_paged_within_the_window import (
    PER_PAGE,
    PROJECT,
    SINCE,
    FakeGitLab,
    read,
    record,
)
from .truth import rows

DEPLOYMENTS = "gitlab/deployments"


def without_id(number: int, updated: datetime) -> dict[str, Any]:
    """A deployment GitLab sent without its id: `number` still tells one from another by its other fields."""
    fields = record(number, updated)
    del fields["id"]
    return fields


def listing_with_ties(since: datetime, repeating: Callable[[int], bool]) -> FakeGitLab:
    """Deployment 1, then 2, 3 and one without an id (A) updated in the same instant, two a page. Page 1, in the order
    1 A 2 3, brings 1 A. Page 2, on the reads `repeating` says (by the number of pages served so far), comes in the
    order 1 2 A 3 and brings A 3: A again, 2 never; else it brings 2 3. GitLab counts 4 records (x-total) throughout."""
    first, same = since + timedelta(minutes=1), since + timedelta(minutes=2)
    one, two, three, unkeyed = record(1, first), record(2, same), record(3, same), without_id(9, same)
    fake = FakeGitLab([one, two, three, unkeyed])
    page = fake.page

    def unstable(query: dict[str, str]) -> tuple[list[Any], dict[str, str]]:
        _, headers = page(query)  # x-total and x-next-page, as GitLab counts the listing
        if query.get("page", "1") == "1":
            return [one, unkeyed], headers
        return ([unkeyed, three] if repeating(fake.served) else [two, three]), headers

    fake.page = unstable  # type: ignore[method-assign]
    return fake


def first_read_only(served: int) -> bool:
    return served < 2


def test_a_record_without_an_id_read_twice_in_place_of_a_deployment_makes_the_listing_read_again() -> None:
    """By hand: the first read brings 1 A, A 3: three records of the four GitLab counts (A once, however often met),
    so the listing is read again, and the second read (1 A, 2 3) brings 2. Nothing is set aside. Reads: 2 pages each."""
    fake = listing_with_ties(SINCE, first_read_only)
    with serving(fake.handler()) as url:
        entries, client = read(url, "deployments")
    assert [e.get("id") for e in entries] == [1, None, None, 3, 1, None, 2, 3]
    assert {e.get("id") for e in entries} == {1, 2, 3, None}
    assert (client.rereads, fake.served, client.counters.set_aside) == (1, 4, [])


def test_a_record_without_an_id_read_twice_on_every_read_is_a_reject_naming_the_figures() -> None:
    """When every read repeats A in place of 2, the listing is read four times, then set aside as a reject of the
    deployments naming GitLab's count (4) and the records read (1, A, 3: 3), rather than taken as whole."""
    fake = listing_with_ties(SINCE, lambda served: True)
    with serving(fake.handler()) as url:
        entries, client = read(url, "deployments")
    assert {e.get("id") for e in entries} == {1, 3, None}
    assert (client.rereads, fake.served) == (3, 8)
    (reject,) = client.counters.set_aside
    assert reject.reason == "the listing announced 4 records (x-total) and 3 were read"
    assert reject.dataset == DEPLOYMENTS


def test_two_different_records_without_an_id_are_two_records() -> None:
    """Deployments 1 and 2, and two without an id that differ in their other fields (9 and 10): four records, as
    GitLab counts them. The listing is read once (two pages), and nothing is set aside."""
    listing = [record(1, SINCE + timedelta(minutes=1)), record(2, SINCE + timedelta(minutes=2))]
    listing += [without_id(9, SINCE + timedelta(minutes=3)), without_id(10, SINCE + timedelta(minutes=4))]
    fake = FakeGitLab(listing)
    with serving(fake.handler()) as url:
        entries, client = read(url, "deployments")
    assert [e.get("iid") for e in entries] == [1, 2, 9, 10]
    assert (client.rereads, fake.served, client.counters.set_aside) == (0, 2, [])


def run_deployments(tmp_path: Path, gitlab: FakeGitLab, since: datetime) -> tuple[Lake, RunRecord]:
    lake = Lake.from_settings(Settings(lake_url=str(tmp_path / "lake")))
    MappingStore(lake).apply([{"entity_id": "shop", "kind": "application", "gitlab_project_id": PROJECT}], actor="test")
    with serving(gitlab.handler()) as url:
        settings = IngestSettings(gitlab_url=url, gitlab_token=SecretStr("glpat-reader"), gitlab_per_page=PER_PAGE)
        run = ingest("gitlab", lake, settings, window=Window(since, since + timedelta(hours=1)), datasets=[DEPLOYMENTS])
    (outcome,) = run.outcomes
    return lake, outcome.record


def test_the_lake_holds_the_deployment_the_first_read_missed(tmp_path: Path) -> None:
    """A run over the listing above: the lake holds deployments 1, 2 and 3, and the deployment without an id is one
    reject (met three times over two reads), so the run is partial."""
    since = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=8)
    fake = listing_with_ties(since, first_read_only)
    lake, run = run_deployments(tmp_path, fake, since)
    assert sorted(r["deployment_id"] for r in rows(lake, DEPLOYMENTS)) == [1, 2, 3]
    assert len(rows(lake, "gitlab/rejects")) == 1
    assert (run.status, run.rows_rejected, fake.served) == ("partial", 1, 4)
