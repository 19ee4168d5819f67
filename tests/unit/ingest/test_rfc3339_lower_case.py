"""RFC 3339 instants written with a lower-case "t" and "z" (section 5.6: "this syntax may alternatively be lower
case") are read as the same UTC instants as their upper-case forms."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from functions.ingest_deploys import parse
from lakehouse.ingest.records import parse_instant
from tests.unit.ingest.test_deploys_parse import load


@pytest.mark.parametrize(
    ("text", "instant"),
    [
        ("2024-03-05t07:33:04z", datetime(2024, 3, 5, 7, 33, 4, tzinfo=UTC)),
        ("2024-03-05T07:33:04z", datetime(2024, 3, 5, 7, 33, 4, tzinfo=UTC)),
        ("2016-08-11t07:36:40.222z", datetime(2016, 8, 11, 7, 36, 40, 222_000, tzinfo=UTC)),
        # 09:36:01 at +02:00 is 07:36:01 UTC.
        ("2016-08-11t09:36:01.000+02:00", datetime(2016, 8, 11, 7, 36, 1, tzinfo=UTC)),
        # 23:30 at -01:00 on New Year's Eve is 00:30 UTC the next year.
        ("2024-12-31t23:30:00-01:00", datetime(2025, 1, 1, 0, 30, tzinfo=UTC)),
    ],
)
def test_a_lower_case_instant_is_the_utc_instant_it_writes(text: str, instant: datetime) -> None:
    assert parse_instant(text) == instant


def test_a_gitlab_deployment_written_in_lower_case_is_kept_not_rejected() -> None:
    """The fixture's deployment 42 with its times in lower case was a reject ("Invalid isoformat string"), so it was
    missing from deployment frequency. Created 2016-08-11T11:32:35.444Z, updated 11:34:01.123Z, its job finished
    11:32:35.145Z."""
    deployment = load("gitlab/deployment__single_docs.json")
    deployment["created_at"] = "2016-08-11t11:32:35.444z"
    deployment["updated_at"] = "2016-08-11t11:34:01.123z"
    deployment["deployable"]["finished_at"] = "2016-08-11t11:32:35.145z"
    result = parse.parse_deployments_page([deployment], {"project_id": 5})
    assert result.rejects == []
    (row,) = result.tables[parse.DEPLOYMENTS].to_pylist()
    assert row["deployment_id"] == 42
    assert row["created_at"] == datetime(2016, 8, 11, 11, 32, 35, 444_000, tzinfo=UTC)
    assert row["updated_at"] == datetime(2016, 8, 11, 11, 34, 1, 123_000, tzinfo=UTC)
    assert row["finished_at"] == datetime(2016, 8, 11, 11, 32, 35, 145_000, tzinfo=UTC)
