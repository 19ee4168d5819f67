"""A scheduled ingestion runs many times in one warm Lambda process. An operator searching its log group checks that
every invocation's JSON lines carry the same keys as the first one's: `name`, telling the project's own lines (the
HTTP client's retries, `rosetta.ingest`) from the function's, and the invocation's own request and correlation ids.
Run in a process of its own set up as Lambda's Python runtime sets one up (functions.json_logs acts in Lambda only)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[3]
PLAIN_LOGGER = "rosetta.ingest"
FUNCTION = "ingest_logs"
REQUESTS = ("request-1", "request-2")
# Lambda's runtime: a text handler on the root logger, then the handler's module imported once and invoked twice.
# The runs stand in for the sources: one line from the project's plain logger each, as a retried request logs.
WARM_PROCESS = f"""
import logging, sys
handler = logging.StreamHandler(sys.stdout)
handler.setFormatter(logging.Formatter("[%(levelname)s]\\t%(asctime)s\\t%(message)s"))
logging.getLogger().addHandler(handler)
logging.getLogger().setLevel(logging.WARNING)
from lakehouse.ingest import lambda_entry

def one_run(*args):
    logging.getLogger({PLAIN_LOGGER!r}).warning("request retried", extra={{"attempt": 2}})
    return [], "schedule"

lambda_entry._run = one_run
from functions.ingest_logs.handler import handler as ingest
from tests.lambda_context import LambdaContext
for request in {REQUESTS!r}:
    ingest({{}}, LambdaContext(function_name={FUNCTION!r}, aws_request_id=request))
"""


def lines_by_invocation(tmp_path: Path) -> dict[str, dict[str, dict[str, Any]]]:
    """request id -> message -> the JSON line, from the warm process's stdout."""
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "AWS_LAMBDA_FUNCTION_NAME": FUNCTION,
        "ROSETTA_LAKE_URL": str(tmp_path / "lake"),
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    done = subprocess.run(
        [sys.executable, "-c", WARM_PROCESS], env=env, cwd=tmp_path, capture_output=True, text=True, check=True
    )
    found: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for text in done.stdout.splitlines():
        line = json.loads(text) if text.startswith("{") else {}
        if "message" in line:
            found[line.get("function_request_id", "none")][line["message"]] = line
    return found


def test_every_invocation_of_a_warm_function_logs_the_keys_of_the_first(tmp_path: Path) -> None:
    found = lines_by_invocation(tmp_path)
    assert sorted(found) == sorted(REQUESTS), found
    first, second = (found[r] for r in REQUESTS)
    assert sorted(first) == sorted(second) == ["ingestion finished", "ingestion started", "request retried"]
    for lines in (first, second):
        # The project's line says which logger wrote it; the function's lines name the function's own logger.
        assert lines["request retried"]["name"] == PLAIN_LOGGER
        assert lines["ingestion started"]["name"] == lines["ingestion finished"]["name"] == FUNCTION
    for message, line in second.items():
        assert sorted(line) == sorted(first[message]), message
    # Each invocation's own ids, none left over from the one before.
    assert {line["correlation_id"] for line in first.values()}.isdisjoint(
        line["correlation_id"] for line in second.values()
    )
