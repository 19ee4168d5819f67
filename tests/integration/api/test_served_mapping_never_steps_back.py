"""The API's periodic check reads the mapping's versions, then loads what changed. An admin's change landing between
the two (its answer swaps the new version in at once) must not be undone by the check that read the list before it:
requests would see mappingVersion go 3, 2, 3, and an application just onboarded answer 404 in between."""

from __future__ import annotations

from pathlib import Path

import pytest

from functions.api.mart import ServingMart
from lakehouse.mappings import MappingStore
from tests.integration.api.conftest import ADMIN, get_json
from tests.integration.api.test_one_mapping_version_per_answer import SHOP2, _client, _lake_built_under_version_2


def _versions_read_before(monkeypatch: pytest.MonkeyPatch, stale: list[int]) -> None:
    """The check's read of the versions, as made just before the admin's change landed; reads after it are true."""
    versions = MappingStore.versions

    def read_before(self: MappingStore) -> list[int]:
        monkeypatch.setattr(MappingStore, "versions", versions)
        return stale

    monkeypatch.setattr(MappingStore, "versions", read_before)


def test_a_check_that_read_the_versions_before_an_admin_change_keeps_the_new_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, settings = _lake_built_under_version_2(tmp_path)
    with _client(tmp_path, settings) as client:
        serving: ServingMart = client.app.state.context.mart  # type: ignore[attr-defined]
        posted = client.post("/monitoring/admin/mappings", headers=ADMIN, json={"entries": [SHOP2]})
        assert posted.status_code == 201, posted.text
        assert serving.snapshot().directory.version == 3

        with monkeypatch.context() as stale:
            _versions_read_before(stale, [1, 2])
            serving.refresh(force=True)

        assert serving.snapshot().directory.version == 3
        shop2 = get_json(client, "/monitoring/applications/shop2/summary")
        assert shop2["freshness"]["mappingVersion"] == 3
