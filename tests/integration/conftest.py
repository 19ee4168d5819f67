"""Fixtures shared by the integration tests of every folder."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from lakehouse import objectstore
from lakehouse.local_s3 import S3Endpoint
from tests.integration.store_faults import FaultyStore, faulty_store


@pytest.fixture
def faulty_s3(s3_endpoint: S3Endpoint) -> Iterator[FaultyStore]:
    """The embedded S3 server behind a proxy that misbehaves as told (tests/integration/store_faults.py)."""
    with faulty_store(s3_endpoint) as faulty:
        yield faulty


@pytest.fixture
def one_retry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each S3 request retried once, not five times: a test of what comes past the retries waits a second for them,
    not a minute of backoff."""
    monkeypatch.setattr(objectstore, "RETRIES", 1)
