"""Two admins read the mapping at the same version and each changes an entry from that read. The GET gives the
version as an ETag; a change sent with it in If-Match is refused (412, nothing written) when an entry it writes has
changed since, so it cannot silently undo the other admin's change. A change to other entries meanwhile is no
conflict, and a change sent without If-Match is made as before.

The lake starts at version 1: shop (team t1) and pay (team t2), both in production."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from functions.api.main import create_app
from lakehouse.mappings import MappingStore
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.integration.api.conftest import ADMIN, api_settings, down_sources

URL = "/monitoring/admin/mappings"
SHOP = {"entity_id": "shop", "kind": "application", "team": "t1"}
PAY = {"entity_id": "pay", "kind": "application", "team": "t2"}


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    lake = Lake.from_settings(Settings(lake_url=str(tmp_path / "lake")))
    MappingStore(lake).apply([SHOP, PAY], actor="setup")
    return lake


@pytest.fixture
def client(tmp_path: Path, lake: Lake) -> Iterator[TestClient]:
    settings = Settings(lake_url=str(tmp_path / "lake"))
    with TestClient(create_app(api_settings(tmp_path), settings, down_sources()), raise_server_exceptions=False) as c:
        yield c


def post(client: TestClient, entries: list[dict[str, Any]], if_match: str | None = None, **more: Any) -> Any:
    headers = ADMIN | ({"If-Match": if_match} if if_match is not None else {})
    return client.post(URL, headers=headers, json={"entries": entries, **more})


def entry(client: TestClient, entity_id: str) -> dict[str, Any]:
    entries = client.get(URL, headers=ADMIN).json()["entries"]
    return next(e for e in entries if e["entity_id"] == entity_id)


def test_the_mapping_read_and_each_change_give_the_version_as_etag(client: TestClient) -> None:
    read = client.get(URL, headers=ADMIN)
    assert read.status_code == 200
    assert read.json()["version"] == 1
    assert read.headers["etag"] == '"1"'

    changed = post(client, [SHOP | {"team": "t-new"}], read.headers["etag"])
    assert changed.status_code == 201, changed.text
    assert changed.headers["etag"] == '"2"'
    assert post(client, [SHOP | {"team": "t-new"}]).headers["etag"] == '"2"'  # nothing changed: 200, the same
    assert client.get(f"{URL}?version=1", headers=ADMIN).headers["etag"] == '"1"'


def test_a_change_from_a_read_before_another_admins_change_to_the_same_entry_is_a_412(
    client: TestClient, lake: Lake
) -> None:
    etag = client.get(URL, headers=ADMIN).headers["etag"]
    a = post(client, [SHOP | {"team": "t-new"}], etag, note="A: new team")
    assert a.status_code == 201, a.text

    b = post(client, [SHOP | {"elisa_index": "logs-shop-*"}], etag, note="B: index, from the same read")

    assert b.status_code == 412, b.text
    assert b.headers["content-type"] == "application/problem+json"
    assert b.headers["etag"] == '"2"'
    problem = b.json()
    assert problem["currentVersion"] == 2
    assert problem["changedEntries"] == [{"entityId": "shop", "environment": "production"}]
    assert "since version 1" in problem["detail"]
    assert MappingStore(lake).versions() == [1, 2]
    shop = entry(client, "shop")
    assert shop["team"] == "t-new"
    assert "elisa_index" not in shop


def test_the_change_redone_from_the_current_etag_is_made(client: TestClient) -> None:
    stale = client.get(URL, headers=ADMIN).headers["etag"]
    assert post(client, [SHOP | {"team": "t-new"}], stale).status_code == 201
    assert post(client, [SHOP | {"elisa_index": "logs-shop-*"}], stale).status_code == 412

    read = client.get(URL, headers=ADMIN)
    shop = next(e for e in read.json()["entries"] if e["entity_id"] == "shop")
    redone = post(client, [shop | {"elisa_index": "logs-shop-*"}], read.headers["etag"])

    assert redone.status_code == 201, redone.text
    assert redone.json()["version"] == 3
    assert {k: v for k, v in entry(client, "shop").items() if k in ("team", "elisa_index")} == {
        "team": "t-new",
        "elisa_index": "logs-shop-*",
    }


def test_without_if_match_the_change_is_made_as_before(client: TestClient) -> None:
    assert post(client, [SHOP | {"team": "t-new"}]).status_code == 201

    b = post(client, [SHOP | {"elisa_index": "logs-shop-*"}])

    assert b.status_code == 201, b.text
    assert entry(client, "shop")["team"] == "t1"  # the entry as sent: what If-Match is there to prevent


def test_a_change_to_another_entry_since_the_read_is_no_conflict(client: TestClient) -> None:
    etag = client.get(URL, headers=ADMIN).headers["etag"]
    assert post(client, [PAY | {"team": "t-pay"}], etag).status_code == 201

    b = post(client, [SHOP | {"elisa_index": "logs-shop-*"}], etag)

    assert b.status_code == 201, b.text
    assert b.json()["version"] == 3
    assert entry(client, "pay")["team"] == "t-pay"
    assert entry(client, "shop")["elisa_index"] == "logs-shop-*"


def test_a_removal_of_an_entry_changed_since_the_read_is_a_412(client: TestClient, lake: Lake) -> None:
    etag = client.get(URL, headers=ADMIN).headers["etag"]
    assert post(client, [PAY | {"team": "t-pay"}], etag).status_code == 201

    removal = client.post(URL, headers=ADMIN | {"If-Match": etag}, json={"remove": [{"entity_id": "pay"}]})

    assert removal.status_code == 412, removal.text
    assert removal.json()["changedEntries"] == [{"entityId": "pay", "environment": "production"}]
    assert MappingStore(lake).versions() == [1, 2]


def test_a_replace_from_a_read_before_any_change_is_a_412(client: TestClient, lake: Lake) -> None:
    etag = client.get(URL, headers=ADMIN).headers["etag"]
    assert post(client, [PAY | {"team": "t-pay"}], etag).status_code == 201

    # The replace gives shop alone: it would remove pay, which changed since the read.
    replaced = post(client, [SHOP | {"team": "t-new"}], etag, replace=True)

    assert replaced.status_code == 412, replaced.text
    assert replaced.json()["changedEntries"] == [{"entityId": "pay", "environment": "production"}]
    assert MappingStore(lake).versions() == [1, 2]


def test_a_change_sent_again_after_its_answer_was_lost_is_a_200(client: TestClient) -> None:
    etag = client.get(URL, headers=ADMIN).headers["etag"]
    assert post(client, [SHOP | {"team": "t-new"}], etag).status_code == 201

    again = post(client, [SHOP | {"team": "t-new"}], etag)

    assert again.status_code == 200, again.text
    assert again.json()["version"] == 2


def test_if_match_star_asks_for_an_existing_mapping(client: TestClient, tmp_path: Path) -> None:
    assert post(client, [SHOP | {"team": "t-new"}], "*").status_code == 201

    empty = Settings(lake_url=str(tmp_path / "empty-lake"))
    with TestClient(create_app(api_settings(tmp_path), empty, down_sources()), raise_server_exceptions=False) as other:
        assert "etag" not in other.get(URL, headers=ADMIN).headers
        refused = post(other, [SHOP], "*")
        assert refused.status_code == 412, refused.text
        assert refused.json()["currentVersion"] == 0
        assert MappingStore(Lake.from_settings(empty)).versions() == []


def test_if_match_of_a_version_the_mapping_never_had_is_a_412(client: TestClient, lake: Lake) -> None:
    refused = post(client, [SHOP | {"team": "t-new"}], '"99"')

    assert refused.status_code == 412, refused.text
    assert refused.json()["currentVersion"] == 1
    assert MappingStore(lake).versions() == [1]


@pytest.mark.parametrize("if_match", ['W/"1"', '"1", "2"', "abc", '"v1"', ""])
def test_a_malformed_if_match_is_a_422_naming_it(client: TestClient, lake: Lake, if_match: str) -> None:
    refused = post(client, [SHOP | {"team": "t-new"}], if_match)

    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    (error,) = refused.json()["errors"]
    assert (error["parameter"], error["in"]) == ("If-Match", "header")
    assert MappingStore(lake).versions() == [1]


def test_a_change_landing_between_the_read_and_the_write_is_not_undone(
    client: TestClient, lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A's change takes version 2 after B's POST has read version 1 as current, just before B writes: B's write of
    version 2 fails, B reads A's version and is refused, rather than checked once against the version it first read."""
    api_lake: Lake = client.app.state.context.lake  # type: ignore[attr-defined]
    put_table = api_lake.put_table
    raced: list[str] = []

    def put_after_admin_a(key: str, table: Any, **kwargs: Any) -> None:
        if key == api_lake.mapping_version_key(2) and not raced:
            raced.append(key)
            MappingStore(lake).apply([SHOP | {"team": "t-new"}], actor="admin-a")
        put_table(key, table, **kwargs)

    monkeypatch.setattr(api_lake, "put_table", put_after_admin_a)
    b = post(client, [SHOP | {"elisa_index": "logs-shop-*"}], '"1"')

    assert raced
    assert b.status_code == 412, b.text
    assert b.json()["currentVersion"] == 2
    assert MappingStore(lake).versions() == [1, 2]
    assert entry(client, "shop")["team"] == "t-new"
