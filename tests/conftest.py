"""Shared test fixtures: lakes on a local folder and on the embedded S3 server (real S3 protocol on loopback)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from aws_lambda_powertools import Metrics

from lakehouse.local_s3 import EmbeddedS3, S3Endpoint
from lakehouse.settings import Settings
from lakehouse.storage import Lake

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = REPO_ROOT.parent / "shared" / "fixtures"
# The variables the project's settings and Powertools read: a test that leaves one behind changes what every later
# test on its worker reads (IngestSettings() then sees a GitLab that nobody configured).
SETTINGS_PREFIXES = ("ROSETTA_", "POWERTOOLS_", "AWS_")
_settings_at_start: dict[str, str] = {}


def _settings_in_environment() -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if name.startswith(SETTINGS_PREFIXES)}


def pytest_sessionstart(session: pytest.Session) -> None:
    if not FIXTURES.is_dir():
        # Many tests read them; without this line each would fail on its own missing file.
        raise pytest.UsageError(
            f"the sources' real payloads are read in place from {FIXTURES}, which is missing: run the tests from a "
            "clone beside the shared folder (its fixtures/ directory), as CI does"
        )
    _settings_at_start.update(_settings_in_environment())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """Once a module's tests are done and its fixtures torn down, the settings in the environment are those the
    session started with. A leak fails the module's last test, naming the variables, and is put right so that the
    tests after it read what they would have read alone. (A session-scoped fixture may therefore not set them.)"""
    try:
        return (yield)
    finally:  # also when a fixture's teardown failed: both are then reported, the leak on its own module
        if nextitem is None or nextitem.path != item.path:
            _check_settings_put_back(item)


def _check_settings_put_back(item: pytest.Item) -> None:
    now = _settings_in_environment()
    left = sorted(name for name in {*now, *_settings_at_start} if now.get(name) != _settings_at_start.get(name))
    if left:
        os.environ.update(_settings_at_start)
        for name in set(now) - set(_settings_at_start):
            del os.environ[name]
        raise AssertionError(f"{item.path.name} left these settings changed in the environment: {', '.join(left)}")


@pytest.fixture(autouse=True)
def metrics_start_empty() -> None:
    """Powertools keeps metrics in one process-wide set, which a handler's flush leaves as it is while metrics are
    disabled, as the pipeline tests run the functions: a later test reading a handler's metric lines would read
    theirs too. Each test starts from an empty set, as a Lambda invocation does."""
    Metrics().clear_metrics()


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
