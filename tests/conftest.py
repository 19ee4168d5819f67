"""Shared test fixtures: lakes on a local folder and on the embedded S3 server (real S3 protocol on loopback)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from lakehouse.local_s3 import EmbeddedS3, S3Endpoint
from lakehouse.settings import Settings
from lakehouse.storage import Lake

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = REPO_ROOT.parent / "shared" / "fixtures"


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[S3Endpoint]:
    """One embedded S3 server for the whole session; each test gets its own prefix."""
    with EmbeddedS3(bucket="rosetta-test") as endpoint:
        yield endpoint


@pytest.fixture
def local_settings(tmp_path: Path) -> Settings:
    return Settings(lake_url=str(tmp_path / "lake"), duckdb_temp_directory=tmp_path / "duckdb")


@pytest.fixture
def s3_settings(s3_endpoint: S3Endpoint, tmp_path: Path) -> Settings:
    return s3_endpoint.settings(f"t-{uuid.uuid4().hex[:12]}", duckdb_temp_directory=tmp_path / "duckdb")


@pytest.fixture(params=["local", "s3"])
def settings(request: pytest.FixtureRequest) -> Settings:
    """The same test against a local folder and against S3 on loopback."""
    if request.param == "s3":
        request.applymarker(pytest.mark.s3)
        return request.getfixturevalue("s3_settings")
    return request.getfixturevalue("local_settings")


@pytest.fixture
def lake(settings: Settings) -> Lake:
    lake = Lake.from_settings(settings)
    lake.check()
    return lake
