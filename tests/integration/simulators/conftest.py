"""Simulators on loopback for the integration tests: one small estate, real HTTP, httpx clients."""

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from simulators.estate import Estate, generate_estate
from simulators.faults import FaultConfig
from simulators.serve import RunningSimulators, start_simulators

REPO = Path(__file__).resolve().parents[3]
FIXTURES = REPO / ".." / "shared" / "fixtures"
END = datetime(2024, 5, 1, tzinfo=UTC)
DYNATRACE_PAGE_SIZE = 4


@pytest.fixture(scope="session")
def estate() -> Estate:
    return generate_estate(seed=22, apps=8, days=21, end=END)


@pytest.fixture(scope="session")
def sims(estate: Estate) -> Iterator[RunningSimulators]:
    with start_simulators(estate, dynatrace_page_size=DYNATRACE_PAGE_SIZE) as running:
        yield running


def make_client(running: RunningSimulators, source: str, **kwargs: object) -> httpx.Client:
    """An authenticated client for one source, the way a connector would build it."""
    credentials = running.credentials[source]
    options: dict[str, object] = {"base_url": running.urls[source], "timeout": 10.0}
    if source == "dynatrace":
        options["headers"] = {"Authorization": f"Api-Token {credentials['api_token']}"}
    elif source == "servicenow":
        options["auth"] = (credentials["user"], credentials["password"])
        options["headers"] = {"Accept": "application/json"}
    elif source == "argocd":
        options["headers"] = {"Authorization": f"Bearer {credentials['token']}"}
    elif source == "gitlab":
        options["headers"] = {"PRIVATE-TOKEN": credentials["private_token"]}
    elif source in ("elasticsearch", "kibana"):
        options["auth"] = (credentials["user"], credentials["password"])
    options.update(kwargs)
    return httpx.Client(**options)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def connect() -> Callable[[RunningSimulators, str], httpx.Client]:
    """The client factory, for tests that start their own simulators."""
    return make_client


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def client(sims: RunningSimulators) -> Iterator[Callable[[str], httpx.Client]]:
    opened: dict[str, httpx.Client] = {}

    def get(source: str) -> httpx.Client:
        if source not in opened:
            opened[source] = make_client(sims, source)
        return opened[source]

    yield get
    for c in opened.values():
        c.close()


@pytest.fixture
def faulty(estate: Estate) -> Iterator[Callable[[dict[str, object]], RunningSimulators]]:
    """Start a separate set of simulators with the given fault configuration (stopped after the test)."""
    started: list[RunningSimulators] = []

    def start(config: dict[str, object]) -> RunningSimulators:
        running = start_simulators(
            estate, faults=FaultConfig.from_dict(config), dynatrace_page_size=DYNATRACE_PAGE_SIZE
        )
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()
