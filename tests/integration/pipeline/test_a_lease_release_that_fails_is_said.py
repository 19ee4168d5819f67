"""A build lets go of the lake's lease once its tables and state have landed: one put of the lease record. A put S3
refused on every try was swallowed: the build said it succeeded, and the lake stayed held until the lease ran out,
while the next build was refused and a new API instance answered 503, and nothing said why. The put is retried as
every write to the store is; past the retries the build still succeeds (its tables landed), and a warning names the
lease, why it was not let go and until when it holds, without the store's secret."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from lakehouse.aggregates.build import STATE_KEY, BuildError, build
from lakehouse.aggregates.lease import LEASE_KEY
from lakehouse.errors import RosettaError
from lakehouse.runlog import RunLog
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.integration.store_faults import SLOW_DOWN, FaultyStore, Request, method_on
from tests.unit.aggregates.estate import AS_OF, write_estate

pytestmark = pytest.mark.s3


def after_the_first(matches: Callable[[Request], bool]) -> Callable[[Request], bool]:
    """The requests `matches` takes but the first: the build's put taking the lease goes through."""
    seen = 0

    def later(request: Request) -> bool:
        nonlocal seen
        if not matches(request):
            return False
        seen += 1
        return seen > 1

    return later


RELEASES = after_the_first(method_on("PUT", LEASE_KEY))


@pytest.fixture
def settings(faulty_s3: FaultyStore, tmp_path: Path) -> Settings:
    return faulty_s3.endpoint.settings(f"t-{uuid.uuid4().hex[:12]}", duckdb_temp_directory=tmp_path / "duckdb")


@pytest.fixture
def lake(settings: Settings) -> Lake:
    lake = Lake.from_settings(settings)
    write_estate(lake)
    return lake


def warnings_of_the_build(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "rosetta.build" and r.levelno == logging.WARNING]


def build_runs(lake: Lake) -> list[tuple[str, str, str | None]]:
    return [(r.run_id, r.status, r.error) for r in RunLog(lake).list(limit=10) if r.function == "build_aggregates"]


@pytest.mark.usefixtures("one_retry")
def test_a_release_refused_on_every_try_is_a_warning_naming_the_lease_and_until_when_it_holds(
    faulty_s3: FaultyStore, settings: Settings, lake: Lake, caplog: pytest.LogCaptureFixture
) -> None:
    """S3 answers SlowDown to the put letting go of the lease and to its retry. The build succeeded: its run and the
    build state say so. The lease record still names a holder, and the warning says until when, as the record does."""
    refused = faulty_s3.fail(RELEASES, SLOW_DOWN)
    with caplog.at_level(logging.WARNING, logger="rosetta.build"):
        result = build(lake, settings, mode="full", as_of=AS_OF)
    assert refused.hit == 1 + 1
    faulty_s3.clear()

    assert build_runs(lake) == [(result.run_id, "succeeded", None)]
    state = lake.get_json(STATE_KEY)
    assert state is not None and state[0]["run_id"] == result.run_id
    held = lake.get_json(LEASE_KEY)
    assert held is not None and held[0]["holder"]
    until = held[0]["expires_at"]

    (warning,) = warnings_of_the_build(caplog)
    where = f"s3://{faulty_s3.endpoint.bucket} at {faulty_s3.endpoint.endpoint_url}"
    why = f"S3 error SlowDown on {where} putting {LEASE_KEY}: Please reduce your request rate."
    assert warning.getMessage() == (
        f"the lake's lease {LEASE_KEY} could not be let go ({why}): it holds until {until}, and no build starts and "
        "no API instance loads the mart before then (a new one answers 503)"
    )
    assert (warning.lease, warning.holds_until, warning.error) == (LEASE_KEY, until, why)  # type: ignore[attr-defined]
    assert faulty_s3.endpoint.secret_access_key not in warning.getMessage()

    # What the warning explains: the next build does not start before then.
    with pytest.raises(BuildError, match=r"^another build \(schedule, started .*\) is running on this lake"):
        build(lake, settings, mode="hourly", as_of=AS_OF)


@pytest.mark.usefixtures("one_retry")
def test_a_release_refused_once_is_retried_and_lets_go_of_the_lake(
    faulty_s3: FaultyStore, settings: Settings, lake: Lake, caplog: pytest.LogCaptureFixture
) -> None:
    """S3 answers SlowDown to the put letting go of the lease once: its retry lets go of the lake (the record names
    no holder, so the next build starts at once), and nothing is said."""
    refused = faulty_s3.fail(RELEASES, SLOW_DOWN, times=1)
    with caplog.at_level(logging.WARNING, logger="rosetta.build"):
        result = build(lake, settings, mode="full", as_of=AS_OF)
    assert refused.hit == 1
    assert build_runs(lake) == [(result.run_id, "succeeded", None)]
    held = lake.get_json(LEASE_KEY)
    assert held is not None and held[0]["holder"] is None and held[0]["released_by"]
    assert warnings_of_the_build(caplog) == []


def the_read_back_of_the_lease() -> Callable[[Request], bool]:
    """The second read of the lease, and its retry: the build's read back of the lease it has just put (the first is
    its look for one held)."""
    reads = 0

    def read_back(request: Request) -> bool:
        nonlocal reads
        if not method_on("GET", LEASE_KEY)(request):
            return False
        reads += 1
        return reads in (2, 3)

    return read_back


@pytest.mark.usefixtures("one_retry")
def test_a_build_failing_right_after_it_put_its_lease_lets_go_of_the_lake(
    faulty_s3: FaultyStore, settings: Settings, lake: Lake
) -> None:
    """S3 takes the build's lease and then answers SlowDown to the read back of it, on both tries: the build fails
    before it starts, with the store's error. The lease it put was left in its name, and every build was refused for
    30 minutes after a build that never ran; it now lets go, and the next build runs at once."""
    faulty_s3.fail(the_read_back_of_the_lease(), SLOW_DOWN)
    with pytest.raises(RosettaError, match="SlowDown"):
        build(lake, settings, mode="full", as_of=AS_OF)
    faulty_s3.clear()
    held = lake.get_json(LEASE_KEY)
    assert held is not None and held[0]["holder"] is None and held[0]["released_by"]
    assert build(lake, settings, mode="full", as_of=AS_OF).mode == "full"
