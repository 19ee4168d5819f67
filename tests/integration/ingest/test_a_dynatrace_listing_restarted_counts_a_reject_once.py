"""A Dynatrace listing whose nextPageKey expired (400 "The nextPageKey is invalid or expired") is read again from its
first page. A malformed problem on that page was met by both reads and counted twice: two rejects for one record,
where the README says a reject counts as many times as the read that met it most often met it, a read again adding
none."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pydantic import SecretStr

from lakehouse.ingest.config import IngestSettings
from lakehouse.ingest.sources import ingest
from lakehouse.ingest.window import Window
from lakehouse.mappings import MappingStore
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.conftest import FIXTURES
from tests.integration.api.test_endpoints import QuietHandler, serving

from .truth import rows

SINCE = datetime(2022, 9, 28, tzinfo=UTC)
UNTIL = SINCE + timedelta(hours=2)
PROBLEMS = "dynatrace/problems"
# Dynatrace's own answer to a key it no longer holds.
EXPIRED = {
    "error": {
        "code": 400,
        "message": "Constraints violated.",
        "constraintViolations": [{"path": "nextPageKey", "message": "The nextPageKey is invalid or expired."}],
    }
}


def problem(number: int, title: Any) -> dict[str, Any]:
    """The documentation's closed problem, numbered, started and ended within the window."""
    listed = json.loads((FIXTURES / "dynatrace" / "problems_v2__list_one_closed.json").read_text())
    start = int((SINCE + timedelta(minutes=10 * number)).timestamp() * 1000)
    return {
        **listed["problems"][0],
        "problemId": f"{number}_1664323200000V2",
        "displayId": f"P-{number}",
        "title": title,
        "startTime": start,
        "endTime": start + 60_000,
    }


def expiring_problems(keys_handed: list[str]) -> type[QuietHandler]:
    """The window's problems in two pages: page 1 holds problem 1 (its title a number, which the parser rejects) and
    problem 2, page 2 problem 3. The first key handed out (each is added to `keys_handed`) has expired when it is
    sent back; the open problems' listing holds none."""
    refused: list[str] = []

    class ExpiringProblems(QuietHandler):
        def do_GET(self) -> None:
            query = {k: v[-1] for k, v in parse_qs(urlsplit(self.path).query).items()}
            if "problemSelector" in query:
                return self.send_json({"totalCount": 0, "pageSize": 50, "problems": []})
            key = query.get("nextPageKey")
            if key is None:
                keys_handed.append(f"key-{len(keys_handed) + 1}")
                page = [problem(1, 12345), problem(2, "High failure rate")]
                return self.send_json(
                    {"totalCount": 3, "pageSize": 2, "nextPageKey": keys_handed[-1], "problems": page}
                )
            if not refused:
                refused.append(key)
                return self.send_json(EXPIRED, status=400)
            self.send_json({"totalCount": 3, "pageSize": 2, "problems": [problem(3, "Response time degradation")]})

    return ExpiringProblems


def problems_run(tmp_path: Path, source: type[QuietHandler]) -> tuple[Lake, Any]:
    lake = Lake.from_settings(Settings(lake_url=str(tmp_path / "lake")))
    selector = 'type(SERVICE),entityId("SERVICE-504937D81F10F081")'
    MappingStore(lake).apply(
        [{"entity_id": "shop", "kind": "application", "dynatrace_entity_selector": selector}], actor="test"
    )
    with serving(source) as url:
        settings = IngestSettings(dynatrace_url=url, dynatrace_token=SecretStr("dt0c01.READER.SECRET"))
        outcome = ingest("dynatrace", lake, settings, window=Window(SINCE, UNTIL), datasets=[PROBLEMS])
    (result,) = outcome.outcomes
    return lake, result.record


def test_a_listing_restarted_after_its_key_expired_counts_its_malformed_problem_once(tmp_path: Path) -> None:
    """By hand: page 1 (problems 1 and 2), the key refused, page 1 again, page 2 (problem 3), then the open problems'
    empty listing: 5 requests. Problems 2 and 3 are kept, problem 1 is one reject, where the first read met it:
    3 read, 2 kept, 1 rejected."""
    keys_handed: list[str] = []
    lake, record = problems_run(tmp_path, expiring_problems(keys_handed))
    assert keys_handed == ["key-1", "key-2"]
    assert (record.status, record.requests) == ("partial", 5)
    assert (record.rows_in, record.rows_out, record.rows_rejected) == (3, 2, 1)
    assert sorted(r["display_id"] for r in rows(lake, PROBLEMS)) == ["P-2", "P-3"]
    (reject,) = rows(lake, "dynatrace/rejects")
    assert reject["location"] == "page 1 record 0"
    assert '"P-1"' in reject["raw_text"] and "title" in reject["reason"]
