"""The API function's lake grants in infra/terraform cover what its routes read."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from lakehouse.objectstore import LocalStore
from tests.integration.api.conftest import ADMIN, READ_ROUTES

FUNCTIONS_TF = Path(__file__).resolve().parents[3] / "infra" / "terraform" / "functions.tf"
ADMIN_READS = [
    "/monitoring/admin/batch-runs",
    "/monitoring/admin/config/sources",
    "/monitoring/admin/mappings",
    "/monitoring/admin/mappings/coverage",
]


def api_grants() -> list[str]:
    """local.lake_access.api of functions.tf: the lake prefixes the API may read."""
    grant = re.search(r"^\s+api\s*=\s*\{\s*read\s*=\s*\[(.*?)\]", FUNCTIONS_TF.read_text(encoding="utf-8"), re.M | re.S)
    assert grant is not None
    return re.findall(r'"([^"]+)"', grant.group(1))


def test_every_key_the_api_reads_is_granted(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every read route and admin read, and the serving copy's loading, read only keys under the API's grants: on
    AWS anything else is an AccessDenied, and the route a 500 or a 503."""
    read: list[str] = []

    def recording(method: Any) -> Any:
        def call(self: Any, key: str, *args: Any, **kwargs: Any) -> Any:
            read.append(key)
            return method(self, key, *args, **kwargs)

        return call

    for name in ("get", "list", "versions", "folders"):
        monkeypatch.setattr(LocalStore, name, recording(getattr(LocalStore, name)))
    for url in [*READ_ROUTES, *ADMIN_READS]:
        assert client.get(url, headers=ADMIN).status_code == 200, url
    assert read
    grants = tuple(api_grants())
    assert sorted({key for key in read if not key.startswith(grants)}) == []
