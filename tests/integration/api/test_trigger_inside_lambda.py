"""The admin batch trigger in local mode starts a run in a thread of the API's process. Inside Lambda that thread is
frozen as soon as the answer is sent, so the run would stop mid-way with no end and no deadline in its record (it
would read "running" for ever) and a build would hold its lease. Through the Lambda handler with a real HTTP API
event, local mode is refused with a 503 naming the settings, and no run is started."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lakehouse.runlog import RunLog
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.integration.api.test_lambda_and_inputs import CONTEXT, http_api_v2, lambda_handler  # noqa: F401


def admin_trigger(body: dict[str, Any]) -> dict[str, Any]:
    event = http_api_v2("/monitoring/admin/batch/trigger", headers={"content-type": "application/json"})
    event["requestContext"]["http"]["method"] = "POST"
    event["requestContext"]["authorizer"] = {
        "jwt": {"claims": {"sub": "bob", "scope": "openid rosetta/admin"}, "scopes": ["openid", "rosetta/admin"]}
    }
    return event | {"body": json.dumps(body)}


def test_a_local_trigger_inside_lambda_is_refused_and_starts_no_run(
    lambda_handler: Any,  # noqa: F811
    estate_lake: tuple[Settings, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings, _ = estate_lake
    monkeypatch.setenv("ROSETTA_API_TRUST_GATEWAY_AUTHORIZER", "true")
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "rosetta-api")
    monkeypatch.delenv("ROSETTA_API_TRIGGER_MODE", raising=False)
    runs_before = len(RunLog(Lake.from_settings(settings)).list(limit=1000))

    answer = lambda_handler(admin_trigger({"kind": "build", "mode": "hourly"}), CONTEXT)

    assert answer["statusCode"] == 503, answer["body"][:300]
    assert answer["headers"]["content-type"] == "application/problem+json"
    problem = json.loads(answer["body"])
    assert "ROSETTA_API_TRIGGER_MODE=lambda" in problem["detail"]
    assert "ROSETTA_API_TRIGGER_FUNCTIONS" in problem["detail"]
    assert len(RunLog(Lake.from_settings(settings)).list(limit=1000)) == runs_before
