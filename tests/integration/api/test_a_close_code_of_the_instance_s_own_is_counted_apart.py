"""ServiceNow instances add close codes of their own to the three it ships (successful, successful_issues,
unsuccessful): a change closed 'rolled_back' says neither that it succeeded nor that it failed, so it is counted apart
and left out of the change failure rate, not counted as a change closed with a code that did not fail.

The hand-made estate (tests/unit/aggregates/estate.py, as_of the 20th at 10:00 UTC), whose changes are on the 18th and
19th, and three more on quiet's CI whose work ended on the 12th: CHG81 closed unsuccessful, CHG82 successful and
CHG83 rolled_back. By hand: 3 implemented, 1 successful, 1 unsuccessful, 2 closed with one of ServiceNow's codes, 1
with another, and a failure rate of 1/2 (1/3 when rolled_back counted as not failed)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.integration.api.conftest import api_built_as_of, by_id, get_json
from tests.unit.aggregates.estate import CI_Q, change, estate_lake, t, write
from tests.unit.aggregates.test_kpis import mart, one, reading


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Lake, Settings]:
    root = tmp_path_factory.mktemp("close-code-of-its-own")
    lake, settings = estate_lake(root)
    write(
        lake,
        "servicenow/changes",
        change("f" * 31 + "1", "CHG81", CI_Q, (t(12, 10), t(12, 11)), "unsuccessful", t(11), t(12, 12)),
        change("f" * 31 + "2", "CHG82", CI_Q, (t(12, 13), t(12, 14)), "successful", t(11), t(12, 15)),
        change("f" * 31 + "3", "CHG83", CI_Q, (t(12, 15), t(12, 16)), "rolled_back", t(11), t(12, 17)),
    )
    return root, lake, settings


@pytest.fixture(scope="module")
def client(estate: tuple[Path, Lake, Settings]) -> Iterator[TestClient]:
    with api_built_as_of(*estate) as c:
        yield c


def test_the_change_calendar_counts_it_apart(client: TestClient, estate: tuple[Path, Lake, Settings]) -> None:
    _, lake, settings = estate
    with reading(lake, settings) as built:
        day = one(mart(built, "mv_changes_app_day", "app_id = 'quiet' and day = $d", d=date(2026, 11, 12)))
    assert day["change_failure_rate"] == pytest.approx(1 / 2)
    counted = ("implemented", "successful", "unsuccessful", "closed_with_code", "other_close_code")
    assert tuple(day.get(c) for c in counted) == (3, 1, 1, 2, 1)


def test_the_changes_report_counts_it_apart(client: TestClient) -> None:
    body = get_json(client, "/monitoring/kpis/changes?from=2026-11-12T00:00:00Z&to=2026-11-13T00:00:00Z")
    quiet = by_id(body)["quiet"]
    assert quiet["changeFailureRate"] == pytest.approx(1 / 2)
    counted = ("implemented", "successful", "unsuccessful", "closedWithCode", "otherCloseCode")
    assert tuple(quiet.get(c) for c in counted) == (3, 1, 1, 2, 1)
