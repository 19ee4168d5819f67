"""DORA while ServiceNow's change requests cannot be read, its incidents still read: a period going past how far the
changes were read says so on its rows (a deployment whose change closed unsuccessful, and rework under an emergency
change, are found through them), and says nothing of the incidents, which were read.

The hand-made estate, built as of the 20th at 10:00, its change requests read up to the 17th at 00:00 (ServiceNow's
change table down since): the 17th to the 20th were not read.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from fastapi.testclient import TestClient

from lakehouse.schemas import get_dataset
from tests.integration.api.conftest import DORA_TO_AS_OF, estate_read_until, get_json
from tests.unit.aggregates.estate import t

CHANGES = get_dataset("servicenow/changes")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with estate_read_until(tmp_path_factory.mktemp("dora-changes-not-read"), {CHANGES.id: t(17)}) as c:
        yield c


def read_until(client: TestClient, query: str) -> dict[str, datetime | None]:
    (row,) = get_json(client, f"/monitoring/kpis/dora?{query}")["items"]
    return {
        key: datetime.fromisoformat(row[key]) if row[key] else None
        for key in ("changesReadUntil", "incidentsReadUntil")
    }


@pytest.mark.parametrize(
    "query",
    [*DORA_TO_AS_OF, "groupBy=app&app=shop&from=2026-11-01&to=2026-11-18"],  # the last: its last day, the 17th
)
def test_a_period_ending_after_the_changes_watermark_says_how_far_they_were_read(
    client: TestClient, query: str
) -> None:
    assert read_until(client, query) == {"changesReadUntil": t(17), "incidentsReadUntil": None}


@pytest.mark.parametrize(
    "query",
    [
        "groupBy=app&app=shop&from=2026-11-01&to=2026-11-17",  # ends at the watermark: the 16th, its last day, read
        "groupBy=app&app=shop&period=previous_month",  # October
    ],
)
def test_a_period_read_to_its_end_says_nothing_more(client: TestClient, query: str) -> None:
    assert read_until(client, query) == {"changesReadUntil": None, "incidentsReadUntil": None}
