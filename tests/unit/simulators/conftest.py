"""Shared estates for the simulator unit tests (small, fixed end so results never depend on the clock)."""

from datetime import UTC, datetime

import pytest

from simulators.estate import Estate, generate_estate

END = datetime(2024, 5, 1, tzinfo=UTC)


@pytest.fixture(scope="session")
def estate() -> Estate:
    return generate_estate(seed=11, apps=12, days=28, end=END)
