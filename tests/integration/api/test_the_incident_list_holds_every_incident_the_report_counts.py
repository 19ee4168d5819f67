"""The incident lists behind kpis/incidents: an SRE reading "3 opened, 4 restored" for quiet over last_7d opens quiet's
incidents and finds those 3 and those 4. The report adds up the whole UTC days of the period (the 13th 00:00 to the
as-of, the 20th 10:00), not the named period's hours (from the 13th 10:00); the lists hold every incident it counts.

The hand-made estate (tests/unit/aggregates/estate.py, no incident on quiet) and these incidents on quiet's CI:

    INC40  opened 13th 03:00, resolved 13th 05:00: opened and restored on the first day, before 10:00
    INC41  opened 10th 09:00, resolved 13th 03:00: restored on the first day, before 10:00
    INC42  opened 16th 08:00, resolved 16th 12:00
    INC43  opened 18th 09:00, still open
    INC44  opened 11th 08:00, resolved 14th 09:00: opened before the period, restored in it
    INC45  opened 12th 10:00, resolved 12th 22:00: before the period, in no count nor list of it

By hand: opened INC40, INC42, INC43 (3); restored INC40, INC41, INC42, INC44 (4).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from fastapi.testclient import TestClient

from lakehouse.schemas import get_dataset
from tests.integration.api.conftest import api_built_as_of, by_id, get_json
from tests.unit.aggregates.estate import CI_Q, incident, rows, t
from tests.unit.aggregates.estate import estate_lake as hand_made_lake

LIST = "/monitoring/applications/quiet/incidents"
RESOLVED, IN_PROGRESS = 6, 2


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("incident-list")
    lake, settings = hand_made_lake(root)
    incidents = [
        incident("5" * 31 + "0", "INC40", CI_Q, t(13, 3), 3, RESOLVED, t(13, 5)),
        incident("5" * 31 + "1", "INC41", CI_Q, t(10, 9), 3, RESOLVED, t(13, 3)),
        incident("5" * 31 + "2", "INC42", CI_Q, t(16, 8), 3, RESOLVED, t(16, 12)),
        incident("5" * 31 + "3", "INC43", CI_Q, t(18, 9), 3, IN_PROGRESS),
        incident("5" * 31 + "4", "INC44", CI_Q, t(11, 8), 3, RESOLVED, t(14, 9)),
        incident("5" * 31 + "5", "INC45", CI_Q, t(12, 10), 3, RESOLVED, t(12, 22)),
    ]
    lake.write_days(get_dataset("servicenow/incidents"), rows("servicenow/incidents", *incidents))
    with api_built_as_of(root, lake, settings) as c:
        yield c


def numbers(items: list[dict]) -> list[str]:
    return [i["number"] for i in items]


def at(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def within(moment: str | None, period: dict) -> bool:
    instant = at(moment)
    return instant is not None and at(period["start"]) <= instant < at(period["end"])


def test_every_incident_lists_those_the_report_counts_opened_and_restored(client: TestClient) -> None:
    report = get_json(client, "/monitoring/kpis/incidents?period=last_7d&app=quiet")
    quiet = by_id(report)["quiet"]
    assert (quiet["opened"], quiet["restored"]) == (3, 4)
    every = get_json(client, f"{LIST}?status=all&period=last_7d")
    assert every["period"] == report["period"]
    assert (every["period"]["start"], every["period"]["end"]) == ("2026-11-13T00:00:00Z", "2026-11-20T10:00:00Z")
    # Latest opened first; INC45 was restored before the 13th.
    assert numbers(every["items"]) == ["INC43", "INC42", "INC40", "INC44", "INC41"]
    opened = [i["number"] for i in every["items"] if within(i["openedAt"], every["period"])]
    restored = [i["number"] for i in every["items"] if within(i["restoredAt"], every["period"])]
    assert (len(opened), len(restored)) == (quiet["opened"], quiet["restored"])
    assert sorted(opened) == ["INC40", "INC42", "INC43"]
    assert sorted(restored) == ["INC40", "INC41", "INC42", "INC44"]


def test_the_closed_list_holds_every_incident_the_report_counts_restored(client: TestClient) -> None:
    quiet = by_id(get_json(client, "/monitoring/kpis/incidents?period=last_7d&app=quiet"))["quiet"]
    closed = get_json(client, f"{LIST}?status=closed&period=last_7d")
    # INC43 is still open; INC44 and INC41 were opened before the period and restored in it.
    assert numbers(closed["items"]) == ["INC42", "INC40", "INC44", "INC41"]
    restored = [i for i in closed["items"] if within(i["restoredAt"], closed["period"])]
    assert len(restored) == quiet["restored"] == 4


@pytest.mark.parametrize(
    ("status", "listed"),
    [("all", ["INC43", "INC42", "INC40", "INC44", "INC41"]), ("closed", ["INC42", "INC40", "INC44", "INC41"])],
)
def test_two_at_a_time_gives_the_same_list(client: TestClient, status: str, listed: list[str]) -> None:
    paged, cursor = [], ""
    for _ in range(10):
        page = get_json(client, f"{LIST}?status={status}&period=last_7d&limit=2{cursor}")
        paged += numbers(page["items"])
        if not page["page"]["nextCursor"]:
            break
        cursor = f"&cursor={page['page']['nextCursor']}"
    assert paged == listed
