"""ServiceNow down for two days of scheduled runs, as the outage tests set it up: the estate's simulators serve six
days ending at END; ServiceNow is read up to three days before END (OUTAGE_START) and built, then its port answers
nothing for the runs of the next two days, while the hourly builds go on."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from lakehouse.aggregates.build import build
from lakehouse.ingest.config import IngestSettings
from lakehouse.ingest.run import RunOutcome
from lakehouse.ingest.sources import ingest
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from simulators.estate import Estate, generate_estate
from tests.integration.api.conftest import closed_port

END = datetime(2026, 11, 20, tzinfo=UTC)
OUTAGE_START = END - timedelta(days=3)
# The scheduled runs that find ServiceNow down, each followed by an hourly build: the last one's as-of is the mart's.
DOWN_RUNS = (END - timedelta(days=2), END - timedelta(days=1), END - timedelta(hours=1))
FAST_RETRIES = {"ROSETTA_HTTP_BACKOFF_BASE_S": "0.01", "ROSETTA_HTTP_BACKOFF_MAX_S": "0.05"}


def outage_estate(monkeypatch: pytest.MonkeyPatch) -> Estate:
    """The estate (two applications, six days) and the settings the runs read: quick retries, three days looked back
    on the first run."""
    for name, value in FAST_RETRIES.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ROSETTA_INITIAL_LOOKBACK_HOURS", "72")
    return generate_estate(seed=5, apps=2, days=6, end=END)


def read_then_down(lake: Lake, settings: Settings, outage: pytest.MonkeyPatch) -> list[RunOutcome]:
    """ServiceNow read up to OUTAGE_START and a full build then; then down for the DOWN_RUNS, each followed by an
    hourly build. The down runs' outcomes; ROSETTA_SERVICENOW_URL is left pointing at the closed port until
    `outage` is undone. `outage` is opened within the simulators' block: one opened before it would put the
    simulator's URL back once both ended, for every later test."""
    assert ingest("servicenow", lake, IngestSettings().resolved(), now=OUTAGE_START).failed == []
    build(lake, settings, mode="full", as_of=OUTAGE_START)
    outage.setenv("ROSETTA_SERVICENOW_URL", f"http://127.0.0.1:{closed_port()}")
    outcomes = []
    for at in DOWN_RUNS:
        outcomes.append(ingest("servicenow", lake, IngestSettings().resolved(), now=at))
        build(lake, settings, mode="hourly", as_of=at)
    return outcomes


def opened_per_day(estate: Estate, app: str, before: datetime) -> Counter[str]:
    """The simulator's own truth: the incidents of `app` it served before `before` (every update of theirs came
    before it: the simulator serves a record's last version), canceled ones left out, by the UTC day they opened."""
    return Counter(
        datetime.fromtimestamp(i.opened_s, UTC).date().isoformat()
        for i in estate.incidents
        if i.app == app and not i.canceled and max(i.update_times) < before.timestamp()
    )
