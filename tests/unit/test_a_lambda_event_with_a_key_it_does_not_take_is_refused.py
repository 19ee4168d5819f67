"""A scheduled function's event is refused, before anything is read, when it holds a key the function does not take:
a misspelt key ("Mode", "backfill_day") or another service's event (the Lambda console's test event, an SQS batch)
used to run what a schedule runs (an hourly build, an ingestion since the watermark), so a full rebuild or a backfill
asked for did not happen and nothing said so."""

from __future__ import annotations

import importlib
import json

import pytest

from functions.build_aggregates.handler import handler as build_handler
from lakehouse.ingest import lambda_entry
from tests.lambda_context import LambdaContext

CONSOLE_TEST_EVENT = {"key1": "value1", "key2": "value2", "key3": "value3"}
SQS_BATCH = {"Records": [{"messageId": "1", "eventSource": "aws:sqs", "body": json.dumps({"mode": "daily"})}]}


@pytest.fixture(autouse=True)
def unreadable_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    # Settings that cannot be read: the event must be refused before they are.
    monkeypatch.setenv("ROSETTA_DUCKDB_THREADS", "many")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")


@pytest.mark.parametrize(
    ("event", "named"),
    [
        ({"Mode": "full"}, "'Mode'"),
        ({"mode": "full", "asof": "2026-11-30T00:00:00Z"}, "'asof'"),
        (CONSOLE_TEST_EVENT, "'key1', 'key2', 'key3'"),
        (SQS_BATCH, "'Records'"),
    ],
)
def test_the_build_refuses_a_key_it_does_not_take(event: dict, named: str) -> None:
    expected = f'the event has no key {named}: it takes mode, as_of, trigger, e.g. {{"mode": "hourly"}}'
    with pytest.raises(ValueError) as refused:
        build_handler(event, LambdaContext())
    assert str(refused.value) == expected


@pytest.mark.parametrize("function", ["ingest_dynatrace", "ingest_servicenow", "ingest_deploys", "ingest_logs"])
@pytest.mark.parametrize(
    ("event", "named"), [({"backfill_day": 3}, "'backfill_day'"), (CONSOLE_TEST_EVENT, "'key1', 'key2', 'key3'")]
)
def test_an_ingestion_refuses_a_key_it_does_not_take(
    function: str, event: dict, named: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[object] = []
    monkeypatch.setattr(lambda_entry, "ingest", lambda *args, **kwargs: ran.append(args))
    monkeypatch.setattr(lambda_entry, "run_backfill", lambda *args, **kwargs: ran.append(args))
    handler = importlib.import_module(f"functions.{function}.handler").handler
    expected = (
        f"the event has no key {named}: it takes window, backfill_days, datasets, trigger, "
        'e.g. {} or {"backfill_days": 3}'
    )
    with pytest.raises(ValueError) as refused:
        handler(event, LambdaContext(function_name=function))
    assert str(refused.value) == expected
    assert ran == []
