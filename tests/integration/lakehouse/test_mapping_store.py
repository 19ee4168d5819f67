"""The mapping table in the lake: every change is a new version with who, when and why."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from lakehouse.duckdb_session import open_duckdb
from lakehouse.errors import MappingValidationError
from lakehouse.mappings import MappingStore
from lakehouse.settings import Settings
from lakehouse.storage import Lake

T1 = datetime(2026, 11, 1, 8, tzinfo=UTC)
T2 = datetime(2026, 11, 3, 17, tzinfo=UTC)
APP = {"entity_id": "payments", "kind": "application", "team": "pay"}
API = {"entity_id": "api", "kind": "component", "application_id": "payments", "argocd_app_name": "api-prod"}
DB = {"entity_id": "db", "kind": "component", "application_id": "payments", "argocd_app_name": "db-prod"}


def test_changes_make_versions_and_keep_who_and_when(lake: Lake) -> None:
    store = MappingStore(lake)
    assert store.current() is None
    first = store.apply([APP, API], actor="alice", note="initial", now=T1)
    second = store.apply([{**API, "argocd_app_name": "api-prd"}, DB], actor="bob", note="fix argo name", now=T2)
    assert store.versions() == [1, 2]
    assert (second.version, second.change_note, len(second.entries)) == (2, "fix argo name", 3)
    assert (first.version, first.changed_by, first.changed_at, first.change_note) == (1, "alice", T1, "initial")
    current = store.current()
    assert current is not None and current.version == 2 and current.changed_by == "bob"
    by_id = {e.entity_id: e for e in current.entries}
    assert sorted(by_id) == ["api", "db", "payments"]
    assert by_id["api"].argocd_app_name == "api-prd"
    # Row history: the untouched application keeps alice's stamp; corrected and new rows carry bob's.
    assert current.row_meta[("payments", "production")] == ("alice", T1)
    assert current.row_meta[("api", "production")] == ("bob", T2)
    # Version 1 is never rewritten.
    old = store.read(1)
    assert old is not None and {e.entity_id: e.argocd_app_name for e in old.entries}["api"] == "api-prod"


def test_a_change_that_changes_nothing_writes_no_version(lake: Lake) -> None:
    """A deployment pipeline imports its catalog on every run. The same entries again are no change: no version 2, so
    the next build is not made a full rebuild by a new mapping version that attributes nothing differently."""
    store = MappingStore(lake)
    store.apply([APP, API], actor="alice", note="initial", now=T1)
    again = store.apply([API, APP], actor="pipeline", note="nightly import", now=T2)
    assert store.versions() == [1]
    assert (again.version, again.changed_by, again.changed_at, again.change_note) == (1, "alice", T1, "initial")
    # Upserting one entry as it is, or replacing the whole set by the same set, is no change either.
    assert store.apply([APP], actor="bob", now=T2).version == 1
    assert store.apply([APP, API], actor="bob", replace=True, now=T2).version == 1
    # A real change still makes a version.
    assert store.apply([{**APP, "team": "payments-core"}], actor="bob", now=T2).version == 2
    assert store.versions() == [1, 2]


def test_a_rejected_change_writes_nothing(lake: Lake) -> None:
    store = MappingStore(lake)
    store.apply([APP, API], actor="alice")
    with pytest.raises(MappingValidationError) as caught:
        store.apply([{**DB, "argocd_app_name": "api-prod"}], actor="bob")
    assert caught.value.problems == ["db [production]: argocd_app_name 'api-prod' is already mapped to api"]
    with pytest.raises(MappingValidationError, match="unknown key"):
        store.apply([{**DB, "argo": "x"}], actor="bob")
    with pytest.raises(MappingValidationError, match="who makes it"):
        store.apply([DB], actor=" ")
    assert store.versions() == [1]


def test_every_problem_of_a_change_is_reported_at_once(lake: Lake) -> None:
    """A change of two entries: 'Web' is no id (upper case), and db claims ArgoCD's api-prod, which api holds. Both are
    reported in one answer; before, the admin saw the id alone, fixed it, and only then heard of the clash."""
    store = MappingStore(lake)
    store.apply([APP, API], actor="alice")
    web = {"entity_id": "Web", "kind": "component", "application_id": "payments"}
    with pytest.raises(MappingValidationError) as caught:
        store.apply([web, {**DB, "argocd_app_name": "api-prod"}], actor="bob")
    assert len(caught.value.problems) == 2
    assert caught.value.problems[0].startswith("entry 1 (Web): entity_id: ")
    assert caught.value.problems[1] == "db [production]: argocd_app_name 'api-prod' is already mapped to api"
    assert store.versions() == [1]


def test_a_clash_is_reported_on_the_entry_the_change_gives(lake: Lake) -> None:
    """api holds ArgoCD's api-prod and db holds db-prod. Bob corrects api to db-prod: his entry is the one refused,
    api's, not db's, which nobody touched (api sorts first, and was blamed on db)."""
    store = MappingStore(lake)
    store.apply([APP, API, DB], actor="alice")
    with pytest.raises(MappingValidationError) as caught:
        store.apply([{**API, "argocd_app_name": "db-prod"}], actor="bob")
    assert caught.value.problems == ["api [production]: argocd_app_name 'db-prod' is already mapped to db"]


def test_remove_and_replace(lake: Lake) -> None:
    store = MappingStore(lake)
    store.apply([APP, API, DB], actor="alice")
    after_remove = store.apply([], actor="alice", remove=[("db", "production")], note="db retired")
    assert sorted(e.entity_id for e in after_remove.entries) == ["api", "payments"]
    with pytest.raises(MappingValidationError, match="not in the current mapping"):
        store.apply([], actor="alice", remove=[("db", "production")])
    replaced = store.apply([APP], actor="carol", replace=True)
    assert [e.entity_id for e in replaced.entries] == ["payments"]


def test_a_version_that_removes_the_last_entry_keeps_who_when_and_why(lake: Lake) -> None:
    """Alice maps payments alone (version 1); bob retires it on 3 November at 17:00 (version 2, no entries). The
    history must say bob, T2, "payments retired": it said nobody, 1 January 1970, no note."""
    store = MappingStore(lake)
    store.apply([APP], actor="alice", now=T1)
    emptied = store.apply([], actor="bob", remove=[("payments", "production")], note="payments retired", now=T2)
    assert emptied.entries == ()
    assert (emptied.version, emptied.changed_by, emptied.changed_at, emptied.change_note) == (
        2,
        "bob",
        T2,
        "payments retired",
    )
    old = store.read(1)
    assert old is not None and (old.changed_by, old.changed_at) == ("alice", T1)


def test_a_replace_may_name_the_entries_it_drops(lake: Lake) -> None:
    """The mapping holds payments, api and db; a replace with payments and api that also names db to remove drops db.
    It was refused as "db: not in the current mapping", though db was in it; a key that is not still is refused."""
    store = MappingStore(lake)
    store.apply([APP, API, DB], actor="alice")
    replaced = store.apply([APP, API], actor="bob", replace=True, remove=[("db", "production")])
    assert sorted(e.entity_id for e in replaced.entries) == ["api", "payments"]
    with pytest.raises(
        MappingValidationError, match=r"^1 mapping problem\(s\): web \[production\]: not in the current"
    ):
        store.apply([APP], actor="bob", replace=True, remove=[("web", "production")])


def test_concurrent_admins_each_get_their_own_version(lake: Lake) -> None:
    store = MappingStore(lake)
    store.apply([APP], actor="alice")
    components = [
        {"entity_id": f"c{n}", "kind": "component", "application_id": "payments", "argocd_app_name": f"c{n}-prod"}
        for n in range(4)
    ]
    threads = [
        threading.Thread(target=lambda c=c: MappingStore(lake).apply([c], actor=f"admin-{c['entity_id']}"))
        for c in components
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    current = store.current()
    assert current is not None and current.version == 5
    assert sorted(e.entity_id for e in current.entries) == ["c0", "c1", "c2", "c3", "payments"]


def test_analysts_read_the_history_with_duckdb(lake: Lake, settings: Settings) -> None:
    store = MappingStore(lake)
    store.apply([APP, API], actor="alice", now=T1)
    store.apply([DB], actor="bob", now=T2)
    con = open_duckdb(settings, lake)
    rows = con.execute(
        "select version, changed_by, count(*) from read_parquet($glob) group by all order by version",
        {"glob": f"{lake.url}/ref/mappings/*/mappings.parquet"},
    ).fetchall()
    assert rows == [(1, "alice", 2), (2, "bob", 3)]
