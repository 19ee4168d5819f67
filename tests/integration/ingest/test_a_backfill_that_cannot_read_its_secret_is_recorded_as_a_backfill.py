"""A backfill event whose secret cannot be read was recorded in the run log under the trigger `schedule` and without a
window, as if a scheduled run had failed. The README (Run log) says a backfill that cannot start is recorded under the
trigger `backfill` with its whole window: the last days asked for and today so far."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from functions.ingest_dynatrace import handler as dynatrace_handler
from lakehouse.errors import RosettaError
from lakehouse.runlog import RunLog
from lakehouse.scheduler import function_output_to
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.lambda_context import LambdaContext


@pytest.fixture(autouse=True)
def function_environment(local_settings: Settings, monkeypatch: pytest.MonkeyPatch, fake_aws_credentials: None) -> None:
    monkeypatch.setenv("ROSETTA_LAKE_URL", local_settings.lake_url)
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.delenv("ROSETTA_DYNATRACE_TOKEN", raising=False)
    monkeypatch.setenv("ROSETTA_DYNATRACE_URL", "https://abc123.live.dynatrace.com")


def midnight(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def test_a_backfill_whose_token_secret_has_no_value_is_one_failed_backfill_record_over_its_days(
    local_settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Backfill 2 days; the token's secret exists without a value yet. By hand: one failed record for Dynatrace,
    without a dataset, trigger `backfill`, from midnight UTC two days before today to now (today's first hour at
    least), saying what Secrets Manager answered."""
    before = datetime.now(UTC)
    with mock_aws():
        arn = boto3.client("secretsmanager").create_secret(Name="rosetta/prod/dynatrace_token")["ARN"]
        monkeypatch.setenv("ROSETTA_DYNATRACE_TOKEN_SECRET_ARN", arn)
        with function_output_to(tmp_path / "function.log"), pytest.raises(RosettaError):
            dynatrace_handler.handler({"backfill_days": 2}, LambdaContext(function_name="ingest_dynatrace"))
    after = datetime.now(UTC)

    (record,) = RunLog(Lake.from_settings(local_settings)).list()
    assert (record.source, record.dataset, record.status, record.trigger) == ("dynatrace", None, "failed", "backfill")
    assert record.error == "cannot read dynatrace_token from Secrets Manager: ResourceNotFoundException"
    # The invocation's moment lies between before and after (a midnight may pass in between).
    assert record.window_start in {midnight(before) - timedelta(days=2), midnight(after) - timedelta(days=2)}
    assert record.window_end is not None
    assert record.window_end >= midnight(before) + timedelta(hours=1)
    assert record.window_end <= max(after, midnight(after) + timedelta(hours=1))
