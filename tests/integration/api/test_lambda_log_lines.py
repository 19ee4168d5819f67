"""The API's log lines as Lambda sends them to CloudWatch: JSON, with the level, the gateway's request id and the
fields an operator filters on, never the credential. Run in a process of its own set up as Lambda's Python runtime
sets one up: a handler on the root logger writing text lines of WARNING and above."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from functions.api.auth import key_digest
from tests.integration.api.conftest import READER_KEY
from tests.integration.api.test_lambda_and_inputs import http_api_v2

REPO = Path(__file__).resolve().parents[3]
# What Lambda's runtime installs before it imports the handler (awslambdaric's bootstrap, text log format).
INVOKE_AS_LAMBDA = """
import json, logging, sys
handler = logging.StreamHandler(sys.stdout)
handler.setFormatter(logging.Formatter("[%(levelname)s]\\t%(asctime)s\\t%(message)s"))
logging.getLogger().addHandler(handler)
logging.getLogger().setLevel(logging.WARNING)
from functions.api.main import handler as api
from tests.lambda_context import LambdaContext
answer = api(json.loads(sys.argv[1]), LambdaContext(function_name="rosetta-api"))
print("status", answer["statusCode"], file=sys.stderr)
"""


def invoke_as_lambda(event: dict[str, Any], tmp_path: Path) -> tuple[list[str], str]:
    """The function's stdout, a line each, and its stderr."""
    keys = [{"name": "backstage", "sha256": key_digest(READER_KEY), "roles": ["reader"]}]
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "AWS_LAMBDA_FUNCTION_NAME": "rosetta-api",
        "ROSETTA_LAKE_URL": str(tmp_path / "lake"),
        "ROSETTA_DUCKDB_TEMP_DIRECTORY": str(tmp_path / "duckdb"),
        "ROSETTA_API_LOCAL_DIR": str(tmp_path / "lambda"),
        "ROSETTA_API_API_KEYS": json.dumps(keys),
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    done = subprocess.run(
        [sys.executable, "-c", INVOKE_AS_LAMBDA, json.dumps(event)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout.splitlines(), done.stderr


def test_a_denied_admin_request_is_one_json_line_with_the_request_id_and_no_key(tmp_path: Path) -> None:
    event = http_api_v2("/monitoring/admin/batch-runs", headers={"x-api-key": READER_KEY})
    lines, err = invoke_as_lambda(event, tmp_path)
    assert "status 403" in err
    denied = [line for line in lines if "admin request denied" in line]
    assert len(denied) == 1, lines
    line = json.loads(denied[0])
    assert line["level"] == "WARNING"
    assert line["subject"] == "backstage" and line["status"] == 403
    # The id the gateway's access log line carries for the same request (requestContext.requestId).
    assert line["correlation_id"] == "JKJaXmPLvHcESHA="
    assert READER_KEY not in "\n".join(lines)
