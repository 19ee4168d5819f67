"""`backfill` and `ingest` on the command line read their secrets before the run started, so a secret that could not
be read stopped the command and left nothing in the run log; and a scheduled event with a window of its own whose
secret could not be read was recorded without that window. The README (Run log) says a run that cannot start is one
`failed` record for its source, a backfill's under the trigger `backfill` and its whole window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from functions.ingest_dynatrace import handler as dynatrace_handler
from lakehouse.errors import RosettaError
from lakehouse.mappings import MappingStore
from lakehouse.runlog import RunLog, RunRecord
from lakehouse.scheduler import function_output_to
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.integration.lakehouse.test_errors_and_cli import run_cli
from tests.lambda_context import LambdaContext

SECRET_NAME = "rosetta/prod/dynatrace_token"
# A token pasted with a non-breaking space: Secrets Manager gives it, but no request header can hold it.
UNSENDABLE_TOKEN = "dt0c01.PASTEDTOKEN\u00a0WITHASPACE"
EXPLICIT_WINDOW = {"since": "2024-03-05T10:00:00Z", "until": "2024-03-05T12:00:00Z"}


@pytest.fixture(autouse=True)
def aws_environment(local_settings: Settings, monkeypatch: pytest.MonkeyPatch, fake_aws_credentials: None) -> None:
    monkeypatch.setenv("ROSETTA_LAKE_URL", local_settings.lake_url)
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.delenv("ROSETTA_DYNATRACE_TOKEN", raising=False)
    monkeypatch.setenv("ROSETTA_DYNATRACE_URL", "https://abc123.live.dynatrace.com")


@pytest.fixture
def lake(local_settings: Settings) -> Lake:
    """A lake the commands accept: one with a mapping, as every ingestion needs first."""
    lake = Lake.from_settings(local_settings)
    MappingStore(lake).apply([{"entity_id": "shop", "kind": "application"}], actor="test", replace=True)
    return lake


def token_secret(monkeypatch: pytest.MonkeyPatch, value: str | None) -> None:
    """The Dynatrace token given by reference to a secret, without a value yet when `value` is None."""
    client = boto3.client("secretsmanager")
    arn = client.create_secret(Name=SECRET_NAME, **({"SecretString": value} if value is not None else {}))["ARN"]
    monkeypatch.setenv("ROSETTA_DYNATRACE_TOKEN_SECRET_ARN", arn)


def the_one_record(lake: Lake) -> RunRecord:
    (record,) = RunLog(lake).list()
    assert (record.function, record.source, record.dataset, record.status) == (
        "ingest_dynatrace",
        "dynatrace",
        None,
        "failed",
    )
    return record


def midnight(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def test_a_backfill_whose_token_secret_has_no_value_is_one_failed_backfill_record_over_its_days(
    lake: Lake, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """By hand: from midnight UTC two days before today to now (today's first hour at least), under `backfill`."""
    before = datetime.now(UTC)
    with mock_aws():
        token_secret(monkeypatch, None)
        code, _, err = run_cli(capsys, "--lake-url", lake.url, "backfill", "dynatrace", "--days", "2")
    after = datetime.now(UTC)

    reason = "cannot read dynatrace_token from Secrets Manager: ResourceNotFoundException"
    assert code == 2 and f"error: {reason}" in err
    record = the_one_record(lake)
    assert (record.trigger, record.error) == ("backfill", reason)
    # The command's moment lies between before and after (a midnight may pass in between).
    assert record.window_start in {midnight(before) - timedelta(days=2), midnight(after) - timedelta(days=2)}
    assert record.window_end is not None
    assert (
        midnight(before) + timedelta(hours=1) <= record.window_end <= max(after, midnight(after) + timedelta(hours=1))
    )


def test_an_ingest_whose_token_cannot_be_sent_is_one_failed_manual_record_never_quoting_it(
    lake: Lake, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """By hand: the window given, 10:00 to 12:00 on 5 March 2024, under the trigger `manual`; the error names the
    token, and neither the run log, the lake nor the terminal holds any of its value."""
    with mock_aws():
        token_secret(monkeypatch, UNSENDABLE_TOKEN)
        code, out, err = run_cli(
            capsys,
            "--lake-url",
            lake.url,
            "ingest",
            "dynatrace",
            "--since",
            "2024-03-05T10:00",
            "--until",
            "2024-03-05T12:00",
        )

    assert (
        code == 2 and "error: dynatrace_token: the referenced secret cannot be sent: character 19 is not ASCII" in err
    )
    record = the_one_record(lake)
    assert record.trigger == "manual"
    assert (record.window_start, record.window_end) == (
        datetime(2024, 3, 5, 10, tzinfo=UTC),
        datetime(2024, 3, 5, 12, tzinfo=UTC),
    )
    assert record.error is not None and record.error.startswith("dynatrace_token: the referenced secret cannot be sent")
    lake_text = b"".join(p.read_bytes() for p in (tmp_path / "lake").rglob("*") if p.is_file())
    for part in UNSENDABLE_TOKEN.split("\u00a0"):
        assert part not in record.error and part not in out + err
        assert part.encode() not in lake_text


def test_a_scheduled_window_whose_token_secret_has_no_value_is_recorded_with_that_window(
    lake: Lake, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """By hand: the event's window, 10:00 to 12:00 on 5 March 2024, under the trigger `schedule`."""
    with mock_aws():
        token_secret(monkeypatch, None)
        with function_output_to(tmp_path / "function.log"), pytest.raises(RosettaError):
            dynatrace_handler.handler({"window": EXPLICIT_WINDOW}, LambdaContext(function_name="ingest_dynatrace"))

    record = the_one_record(lake)
    assert (record.trigger, record.error) == (
        "schedule",
        "cannot read dynatrace_token from Secrets Manager: ResourceNotFoundException",
    )
    assert (record.window_start, record.window_end) == (
        datetime(2024, 3, 5, 10, tzinfo=UTC),
        datetime(2024, 3, 5, 12, tzinfo=UTC),
    )


def test_a_scheduled_window_that_cannot_be_read_is_refused_before_the_secret(
    lake: Lake, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A misspelt end is refused for what it is, as with a readable secret: no run was asked for, none is recorded."""
    with mock_aws():
        token_secret(monkeypatch, None)
        event = {"window": {"since": "2024-03-05T10:00:00Z", "untill": "2024-03-05T12:00:00Z"}}
        with function_output_to(tmp_path / "function.log"), pytest.raises(RosettaError, match="no key 'untill'"):
            dynatrace_handler.handler(event, LambdaContext(function_name="ingest_dynatrace"))

    assert RunLog(lake).list() == []
