"""The change list behind kpis/changes: an SRE reading "3 unsuccessful" for quiet over last_7d opens quiet's recent
changes and finds those 3. The report counts a change on the day its work ended, over the whole UTC days of the
period (the 13th 00:00 to the as-of, the 20th 10:00); the list holds every change whose time overlaps them.

The hand-made estate (tests/unit/aggregates/estate.py, no change on quiet) and these changes on quiet's CI:

    CHG30  work 12th 23:00 - 13th 00:30, closed unsuccessful: ended on the period's first day
    CHG31  work 12th 09:00 - 14th 09:00, closed unsuccessful: started before the period, ended in it
    CHG32  work 16th 10:00 - 11:00,      closed unsuccessful
    CHG33  work 18th 10:00 - 11:00,      closed successful
    CHG34  work started 10th 08:00 (planned to end 10th 12:00), still under way: in the period until the as-of
    CHG35  work 11th 10:00 - 12th 22:00, closed unsuccessful: ended before the period, in no count nor list of it
    CHG36  planned 25th 09:00 - 10:00, scheduled: upcoming
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from lakehouse.schemas import get_dataset
from tests.integration.api.conftest import api_built_as_of, by_id, get_json
from tests.unit.aggregates.estate import CI_Q, change, rows, t
from tests.unit.aggregates.estate import estate_lake as hand_made_lake

LIST = "/monitoring/applications/quiet/changes"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("change-list")
    lake, settings = hand_made_lake(root)
    under_way = change("4" * 31 + "3", "CHG34", CI_Q, (t(10, 8), None), None, t(9), t(10, 8))
    under_way |= {"state": -1, "planned_start": t(10, 8), "planned_end": t(10, 12)}
    upcoming = change("4" * 31 + "5", "CHG36", CI_Q, (None, None), None, t(19), t(19), planned=(t(25, 9), t(25, 10)))
    upcoming |= {"state": -2}
    changes = [
        change("4" * 31 + "0", "CHG30", CI_Q, (t(12, 23), t(13, 0, 30)), "unsuccessful", t(11), t(13, 1)),
        change("4" * 31 + "1", "CHG31", CI_Q, (t(12, 9), t(14, 9)), "unsuccessful", t(11), t(14, 10)),
        change("4" * 31 + "2", "CHG32", CI_Q, (t(16, 10), t(16, 11)), "unsuccessful", t(15), t(16, 12)),
        change("4" * 31 + "6", "CHG33", CI_Q, (t(18, 10), t(18, 11)), "successful", t(17), t(18, 12)),
        under_way,
        change("4" * 31 + "4", "CHG35", CI_Q, (t(11, 10), t(12, 22)), "unsuccessful", t(10), t(12, 23)),
        upcoming,
    ]
    lake.write_days(get_dataset("servicenow/changes"), rows("servicenow/changes", *changes))
    with api_built_as_of(root, lake, settings) as c:
        yield c


def numbers(items: list[dict]) -> list[str]:
    return [c["number"] for c in items]


def test_the_recent_changes_are_those_whose_time_overlaps_the_period(client: TestClient) -> None:
    recent = get_json(client, f"{LIST}?status=recent&period=last_7d")
    # Latest start first; CHG35 ended before the 13th, CHG36 has not started.
    assert numbers(recent["items"]) == ["CHG33", "CHG32", "CHG30", "CHG31", "CHG34"]
    assert (recent["period"]["start"], recent["period"]["end"]) == ("2026-11-13T00:00:00Z", "2026-11-20T10:00:00Z")
    every = get_json(client, f"{LIST}?status=all&period=last_7d")
    assert numbers(every["items"]) == ["CHG36", "CHG33", "CHG32", "CHG30", "CHG31", "CHG34"]


def test_the_lists_unsuccessful_changes_are_those_the_report_counts(client: TestClient) -> None:
    quiet = by_id(get_json(client, "/monitoring/kpis/changes?period=last_7d"))["quiet"]
    # By hand: CHG30, CHG31, CHG32 and CHG33 ended in the period; three of them unsuccessful.
    assert (quiet["implemented"], quiet["unsuccessful"]) == (4, 3)
    recent = get_json(client, f"{LIST}?status=recent&period=last_7d")["items"]
    assert sorted(c["number"] for c in recent if c["isFailed"]) == ["CHG30", "CHG31", "CHG32"]
    assert sorted(c["number"] for c in recent if c["isClosed"]) == ["CHG30", "CHG31", "CHG32", "CHG33"]


def test_a_page_at_a_time_gives_the_same_list(client: TestClient) -> None:
    listed, cursor = [], ""
    for _ in range(10):
        page = get_json(client, f"{LIST}?status=recent&period=last_7d&limit=2{cursor}")
        listed += numbers(page["items"])
        if not page["page"]["nextCursor"]:
            break
        cursor = f"&cursor={page['page']['nextCursor']}"
    assert listed == ["CHG33", "CHG32", "CHG30", "CHG31", "CHG34"]
