"""DORA while ServiceNow's incidents cannot be read: a period going past how far they were read says so on its rows,
as the change failure rate, the recovery time and the MTTR count only the incidents read before.

The hand-made estate, built as of the 20th at 10:00, its incidents read up to the 18th at 00:00 (ServiceNow down
since): the 18th, 19th and 20th were not read.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from fastapi.testclient import TestClient

from lakehouse.schemas import get_dataset
from tests.integration.api.conftest import DORA_TO_AS_OF, estate_read_until, get_json
from tests.unit.aggregates.estate import t

INCIDENTS = get_dataset("servicenow/incidents")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with estate_read_until(tmp_path_factory.mktemp("dora-incidents-not-read"), {INCIDENTS.id: t(18)}) as c:
        yield c


def incidents_read_until(client: TestClient, query: str) -> datetime | None:
    (row,) = get_json(client, f"/monitoring/kpis/dora?{query}")["items"]
    value = row["incidentsReadUntil"]
    return datetime.fromisoformat(value) if value else None


@pytest.mark.parametrize("query", DORA_TO_AS_OF)
def test_a_period_ending_after_the_incidents_watermark_says_how_far_they_were_read(
    client: TestClient, query: str
) -> None:
    assert incidents_read_until(client, query) == t(18)


@pytest.mark.parametrize(
    "query",
    [
        "groupBy=app&app=shop&from=2026-11-01&to=2026-11-18",  # ends at the watermark: the 17th, its last day, read
        "groupBy=app&app=shop&period=previous_month",  # October
    ],
)
def test_a_period_read_to_its_end_says_nothing_more(client: TestClient, query: str) -> None:
    assert incidents_read_until(client, query) is None
