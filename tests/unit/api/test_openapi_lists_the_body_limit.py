"""The OpenAPI document tells a caller that a request body over ROSETTA_API_MAX_BODY_MB is refused: every operation
that takes a body lists the 413 problem+json the API answers then, and no operation without a body does."""

from __future__ import annotations

import json
from typing import Any

from functions.api.cli import openapi_document
from functions.api.settings import ApiSettings

PROBLEM = {"$ref": "#/components/schemas/ProblemDetail"}
LIMIT_SETTING = f"{ApiSettings.model_config['env_prefix']}max_body_mb".upper()


def operations() -> dict[str, dict[str, Any]]:
    """Every operation of the served document, by "METHOD path"."""
    paths = json.loads(openapi_document())["paths"]
    return {f"{method.upper()} {path}": op for path, ops in paths.items() for method, op in ops.items()}


def test_the_operations_listing_the_413_are_those_taking_a_body() -> None:
    taking_a_body = {name for name, op in operations().items() if "requestBody" in op}
    listing_413 = {name for name, op in operations().items() if "413" in op["responses"]}
    assert taking_a_body, "no operation takes a body: nothing to check"
    assert listing_413 == taking_a_body


def test_the_413_is_a_problem_naming_the_limit_setting() -> None:
    too_large = {name: op["responses"]["413"] for name, op in operations().items() if "413" in op["responses"]}
    assert too_large, "no operation lists the 413"
    for name, response in too_large.items():
        assert response["content"]["application/problem+json"]["schema"] == PROBLEM, name
        assert LIMIT_SETTING in response["description"], name
