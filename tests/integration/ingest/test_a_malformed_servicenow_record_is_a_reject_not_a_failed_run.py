"""A record ServiceNow sends malformed is a reject; the run keeps the others. A change without a readable
`sys_updated_on` or `sys_id`, or an entry that is no object at all, was counted in X-Total-Count but held by no
re-scan: the table was read eight times, the run failed with "records kept moving while being paged" and wrote
nothing, and so did every later run. A CI without a sys_id in the CMDB snapshot failed the whole snapshot with
"records do not come in sys_id order".

By hand: the lake read changes up to 12:00 UTC; with 15 minutes of overlap the run at 12:30 reads 11:45 to 12:30,
which holds 10 changes (12:01 to 12:10), two pages of 5. A partial run writes what it could read and moves the
watermark to the run's end, 12:30 (README, exit code 3)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from lakehouse.ingest.config import IngestSettings
from lakehouse.ingest.sources import ingest
from lakehouse.runlog import Watermarks
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.integration.api.test_endpoints import serving

from .servicenow_table_api import FakeTableApi
from .truth import rows

WATERMARK = datetime(2024, 3, 1, 12, tzinfo=UTC)
NOW = datetime(2024, 3, 1, 12, 30, tzinfo=UTC)
CHANGES = "servicenow/changes"
CIS = "servicenow/cmdb_ci"
REJECTS = "servicenow/rejects"
PAGE_SIZE = 5

Garble = Callable[[dict[str, Any]], Any]


class GarblingTableApi(FakeTableApi):
    """The fake Table API, answering the records named by sys_id garbled as `garble` makes them (the source counts
    and orders them as stored)."""

    def __init__(self, table: str, records: list[dict[str, str]], garbled: set[str], garble: Garble) -> None:
        super().__init__(table, records)
        self.garbled = garbled
        self.garble = garble

    def listing(self, params: dict[str, str]) -> tuple[dict[str, Any], dict[str, str], str]:
        body, headers, following = super().listing(params)
        body["result"] = [self.garble(r) if _sys_id(r) in self.garbled else r for r in body["result"]]
        return body, headers, following


def _sys_id(record: dict[str, Any]) -> Any:
    cell = record.get("sys_id")
    return cell.get("value") if isinstance(cell, dict) else cell


def without(field: str) -> Garble:
    return lambda record: {k: v for k, v in record.items() if k != field}


def with_cell(field: str, value: Any) -> Garble:
    return lambda record: {**record, field: {"display_value": value, "value": value}}


def change(number: int) -> dict[str, str]:
    return {
        "sys_id": f"{number:032x}",
        "number": f"CHG{number:07d}",
        "type": "normal",
        "state": "3",
        "risk": "4",
        "short_description": "rotate certificates",
        "start_date": "2024-03-01 11:00:00",
        "end_date": "2024-03-01 11:30:00",
        "close_code": "successful",
        "cmdb_ci": "c" * 32,
        "sys_created_on": "2024-02-28 09:00:00",
        "sys_updated_on": f"2024-03-01 12:{number:02d}:00",
    }


def ci(number: int) -> dict[str, str]:
    return {
        "sys_id": f"{number:032x}",
        "name": f"srv-{number:02d}",
        "sys_class_name": "cmdb_ci_server",
        "operational_status": "1",
        "sys_updated_on": f"2023-06-01 08:{number:02d}:00",
    }


TEN_CHANGES = [change(n) for n in range(1, 11)]


def run(api: FakeTableApi, lake: Lake, dataset: str) -> dict[str, Any]:
    with serving(api.handler()) as url:
        settings = IngestSettings(
            servicenow_url=url,
            servicenow_user="svc-rosetta",
            servicenow_password=SecretStr("s3cret-Pw-4711"),
            servicenow_page_size=PAGE_SIZE,
        )
        outcome = ingest("servicenow", lake, settings, datasets=[dataset], now=NOW)
    summary: dict[str, Any] = outcome.summary()["datasets"][dataset]
    return summary


def watermark(lake: Lake, name: str) -> datetime | None:
    mark = Watermarks(lake).get("servicenow", name)
    return mark.value if mark else None


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    lake = Lake.from_settings(Settings(lake_url=str(tmp_path / "lake")))
    Watermarks(lake).advance("servicenow", "changes", WATERMARK, run_id="earlier")
    return lake


@pytest.mark.parametrize(
    "garble",
    [without("sys_updated_on"), with_cell("sys_updated_on", 1_709_294_580_000)],
    ids=["sys_updated_on missing", "sys_updated_on in epoch milliseconds"],
)
def test_a_change_without_a_readable_update_time_is_one_reject(lake: Lake, garble: Garble) -> None:
    api = GarblingTableApi("change_request", TEN_CHANGES, {change(3)["sys_id"]}, garble)
    result = run(api, lake, CHANGES)
    assert result["status"] == "partial", result["error"]
    assert sorted(r["number"] for r in rows(lake, CHANGES)) == [f"CHG{n:07d}" for n in (1, 2, 4, 5, 6, 7, 8, 9, 10)]
    rejects = rows(lake, REJECTS)
    assert len(rejects) == 1 and "sys_updated_on" in rejects[0]["reason"]
    assert "CHG0000003" in rejects[0]["raw_text"]
    # Read once: two pages and the count check.
    assert result["requests"] == 3
    assert watermark(lake, "changes") == NOW


def test_a_null_record_is_one_reject(lake: Lake) -> None:
    api = GarblingTableApi("change_request", TEN_CHANGES, {change(7)["sys_id"]}, lambda record: None)
    result = run(api, lake, CHANGES)
    assert result["status"] == "partial", result["error"]
    assert sorted(r["number"] for r in rows(lake, CHANGES)) == [f"CHG{n:07d}" for n in (1, 2, 3, 4, 5, 6, 8, 9, 10)]
    rejects = rows(lake, REJECTS)
    assert [r["reason"] for r in rejects] == ["record is not an object"]
    assert result["requests"] == 3
    assert watermark(lake, "changes") == NOW


def test_two_changes_without_a_sys_id_are_two_rejects(lake: Lake) -> None:
    """One has no sys_id at all, the other an empty one; one on each page."""
    missing, empty = change(2)["sys_id"], change(8)["sys_id"]

    def garble(record: dict[str, Any]) -> Any:
        return without("sys_id")(record) if _sys_id(record) == missing else with_cell("sys_id", "")(record)

    api = GarblingTableApi("change_request", TEN_CHANGES, {missing, empty}, garble)
    result = run(api, lake, CHANGES)
    assert result["status"] == "partial", result["error"]
    assert sorted(r["number"] for r in rows(lake, CHANGES)) == [f"CHG{n:07d}" for n in (1, 3, 4, 5, 6, 7, 9, 10)]
    rejects = rows(lake, REJECTS)
    assert sorted(r["reason"] for r in rejects) == ["sys_id is empty", "sys_id is empty"]
    assert sorted(n for n in ("CHG0000002", "CHG0000008") for r in rejects if n in r["raw_text"]) == [
        "CHG0000002",
        "CHG0000008",
    ]
    assert result["requests"] == 3
    assert watermark(lake, "changes") == NOW


def test_a_ci_without_a_sys_id_is_a_reject_and_the_snapshot_keeps_the_others(tmp_path: Path) -> None:
    """Seven CIs read by sys_id, 5 a page: the second CI comes without its sys_id. By hand: a page of 5 read after
    no sys_id, a page of 2 after the fifth CI's, and an empty page after the seventh's that ends the read."""
    lake = Lake.from_settings(Settings(lake_url=str(tmp_path / "lake")))
    started = datetime.now(UTC)
    api = GarblingTableApi("cmdb_ci", [ci(n) for n in range(1, 8)], {ci(2)["sys_id"]}, without("sys_id"))
    result = run(api, lake, CIS)
    assert result["status"] == "partial", result["error"]
    assert sorted(r["name"] for r in rows(lake, CIS)) == ["srv-01", "srv-03", "srv-04", "srv-05", "srv-06", "srv-07"]
    rejects = rows(lake, REJECTS)
    assert len(rejects) == 1 and rejects[0]["reason"] == "sys_id is empty" and "srv-02" in rejects[0]["raw_text"]
    assert [q["sysparm_query"] for q in api.queries] == [
        "ORDERBYsys_id",
        f"sys_id>{ci(5)['sys_id']}^ORDERBYsys_id",
        f"sys_id>{ci(7)['sys_id']}^ORDERBYsys_id",
    ]
    # Written, partial: the CIs' watermark moves, and the snapshot is remembered (at the wall-clock time it was
    # taken) until it is due again.
    assert watermark(lake, "cmdb_ci") == NOW
    snapshot = watermark(lake, "cmdb_ci_full_read")
    assert snapshot is not None and snapshot >= started


def test_a_change_that_moves_while_paged_is_still_read_again_beside_a_malformed_one(lake: Lake) -> None:
    """Change 2 is updated at 12:20 once the first page (changes 1 to 5) is served: it moves to the end, change 6
    slides onto the first page and the second page brings 7 to 10 and 2 again. Change 2 met with a newer time has
    the changes from 12:02 read again, which brings change 6: two pages, one re-read and the count check."""
    api = GarblingTableApi("change_request", TEN_CHANGES, {change(3)["sys_id"]}, without("sys_updated_on"))

    def update_change_2(served: int) -> None:
        if served == 1:
            api.records[1]["sys_updated_on"] = "2024-03-01 12:20:00"

    api.after_page = update_change_2
    result = run(api, lake, CHANGES)
    assert result["status"] == "partial", result["error"]
    assert {r["number"] for r in rows(lake, CHANGES)} == {f"CHG{n:07d}" for n in (1, 2, 4, 5, 6, 7, 8, 9, 10)}
    assert result["requests"] == 4
    assert {r["reason"] for r in rows(lake, REJECTS)} == {"sys_updated_on is empty"}
    assert watermark(lake, "changes") == NOW


def test_a_snapshot_page_of_cis_all_without_a_sys_id_is_passed_by_offset(tmp_path: Path) -> None:
    """The first five CIs come without their sys_id: no sys_id to go on from, the next page is asked past them at
    offset 5, which brings CIs 6 and 7; an empty page after the seventh's ends the read."""
    lake = Lake.from_settings(Settings(lake_url=str(tmp_path / "lake")))
    first_five = {ci(n)["sys_id"] for n in range(1, 6)}
    api = GarblingTableApi("cmdb_ci", [ci(n) for n in range(1, 8)], first_five, without("sys_id"))
    result = run(api, lake, CIS)
    assert result["status"] == "partial", result["error"]
    assert sorted(r["name"] for r in rows(lake, CIS)) == ["srv-06", "srv-07"]
    assert [r["reason"] for r in rows(lake, REJECTS)] == ["sys_id is empty"] * 5
    assert [(q["sysparm_query"], q["sysparm_offset"]) for q in api.queries] == [
        ("ORDERBYsys_id", "0"),
        ("ORDERBYsys_id", "5"),
        (f"sys_id>{ci(7)['sys_id']}^ORDERBYsys_id", "0"),
    ]
