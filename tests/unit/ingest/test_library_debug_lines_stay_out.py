"""With the functions' log level at DEBUG (Terraform's log_level), Lambda's runtime puts the root logger at DEBUG too,
and botocore logs each answer's body there: a Secrets Manager answer holds the source's token. An operator turning
DEBUG on to follow an ingestion checks that no library's DEBUG line reaches the log group, while the project's own
DEBUG lines do. Run in a process of its own set up as Lambda's Python runtime sets one up with
AWS_LAMBDA_LOG_LEVEL=DEBUG (functions.json_logs acts in Lambda only)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
TOKEN = "dt0c01.SECRET-TOKEN-VALUE"
# Lambda's runtime with application_log_level DEBUG: a handler on the root logger, the root at DEBUG; then the
# handler's module imported, and a line from botocore (its answer body, as botocore.parsers logs it) and one from
# the project's own logger.
RUNTIME = f"""
import logging, sys
handler = logging.StreamHandler(sys.stdout)
logging.getLogger().addHandler(handler)
logging.getLogger().setLevel(logging.DEBUG)
import functions.ingest_dynatrace.handler
logging.getLogger("botocore.parsers").debug("Response body: b'{{\\"SecretString\\": \\"{TOKEN}\\"}}'")
logging.getLogger("urllib3.connectionpool").debug("https://secretsmanager:443 \\"POST / HTTP/1.1\\" 200")
logging.getLogger("rosetta.ingest").debug("page read")
"""


def test_a_library_debug_line_never_reaches_the_log_while_the_projects_does(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "AWS_LAMBDA_FUNCTION_NAME": "ingest_dynatrace",
        "AWS_LAMBDA_LOG_LEVEL": "DEBUG",
        "POWERTOOLS_LOG_LEVEL": "DEBUG",
        "ROSETTA_LAKE_URL": str(tmp_path / "lake"),
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    run = subprocess.run([sys.executable, "-c", RUNTIME], env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    logged = run.stdout + run.stderr
    assert TOKEN not in logged
    assert "secretsmanager" not in logged
    assert "page read" in logged
