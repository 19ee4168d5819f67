"""An operator reading a function's log group checks that Lambda's own lines (an invocation's start, end and report, a
timeout) are JSON as the functions' lines are, and that no log level Terraform accepts loses lines silently: Lambda
keeps application lines at the level Powertools logs at (Powertools takes Lambda's level over its own, and warns when
they differ), and none drops Powertools' metric lines (EMF), which carry no level and which Lambda reads as INFO: the
alarms read those metrics. Read from the Terraform as the deployment reads it."""

from __future__ import annotations

import logging
import re
import warnings

import pytest
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.shared.constants import LAMBDA_ADVANCED_LOGGING_LEVELS

from tests.unit.lakehouse.test_terraform_functions import TERRAFORM

MODULE = TERRAFORM / "modules" / "function"
MODULE_MAIN_TF = (MODULE / "main.tf").read_text(encoding="utf-8")
MODULE_VARIABLES_TF = (MODULE / "variables.tf").read_text(encoding="utf-8")
ROOT_MAIN_TF = (TERRAFORM / "main.tf").read_text(encoding="utf-8")
ROOT_VARIABLES_TF = (TERRAFORM / "variables.tf").read_text(encoding="utf-8")
# Lambda's application log levels, most detail first (AWS Lambda's log-level filtering): a level keeps itself and
# those after it.
LAMBDA_LEVELS = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"]
# The level Lambda gives a line without a "level" field.
LEVEL_OF_A_LINE_WITHOUT_ONE = "INFO"


def attributes(body: str) -> dict[str, str]:
    return {name: value.strip() for name, value in re.findall(r"^\s+(\w+)\s*=\s*(.+)$", body, re.M)}


def logging_config() -> dict[str, str]:
    """The attributes of the function's logging_config block."""
    found = re.search(r"^  logging_config \{\n(.*?)^  \}", MODULE_MAIN_TF, re.M | re.S)
    assert found is not None, "the function module sets no logging_config"
    return attributes(found.group(1))


def module_environment() -> dict[str, str]:
    """What the module adds to the environment it is given (merged last, so it wins)."""
    found = re.search(r"variables = merge\(var\.environment, \{ (.*?) \}\)", MODULE_MAIN_TF)
    assert found is not None, "the function module's environment is not merge(var.environment, { ... })"
    return dict(re.findall(r"(\w+) = ([^,]+)", found.group(1)))


def allowed_levels(variables_tf: str) -> list[str]:
    """The values the log_level variable accepts (its validation's list)."""
    variable = re.search(r'^variable "log_level" \{\n(.*?)^\}', variables_tf, re.M | re.S)
    assert variable is not None, "no log_level variable"
    listed = re.search(r"contains\(\[(.*?)\], var\.log_level\)", variable.group(1))
    assert listed is not None, "log_level accepts any text"
    return re.findall(r'"(\w+)"', listed.group(1))


def resolved(expression: str, log_level: str) -> str:
    """A Terraform expression's value when var.log_level is `log_level`: that variable, or a literal."""
    if expression == "var.log_level":
        return log_level
    assert re.fullmatch(r'"\w+"', expression), f"{expression} is neither var.log_level nor a literal"
    return expression.strip('"')


def test_lambdas_own_lines_are_json_and_keep_the_invocation_reports() -> None:
    config = logging_config()
    assert config["log_format"] == '"JSON"'
    # An invocation's start, end and report (its duration and memory, a timeout) are INFO system events.
    system = resolved(config["system_log_level"], "INFO")
    assert LAMBDA_LEVELS.index(system) <= LAMBDA_LEVELS.index("INFO")


def test_every_level_terraform_accepts_is_passed_to_each_function() -> None:
    assert re.search(r"^  log_level\s+= var\.log_level$", ROOT_MAIN_TF, re.M), "main.tf gives the functions no level"
    assert set(allowed_levels(ROOT_VARIABLES_TF)) <= set(allowed_levels(MODULE_VARIABLES_TF))


def test_lambda_and_powertools_keep_the_same_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    """At each level Terraform accepts, the function's environment as Lambda sets it up (AWS_LAMBDA_LOG_LEVEL is the
    application_log_level): the logger Powertools builds there logs at POWERTOOLS_LOG_LEVEL, without a warning."""
    for log_level in allowed_levels(ROOT_VARIABLES_TF):
        lambda_level = resolved(logging_config()["application_log_level"], log_level)
        powertools_level = resolved(module_environment()["POWERTOOLS_LOG_LEVEL"], log_level)
        assert LAMBDA_ADVANCED_LOGGING_LEVELS[lambda_level] == powertools_level
        monkeypatch.setenv("AWS_LAMBDA_LOG_LEVEL", lambda_level)
        monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", powertools_level)
        with warnings.catch_warnings(record=True) as warned:
            warnings.simplefilter("always")
            logger = Logger(service=f"log-level-check-{log_level.lower()}")
        assert not [w for w in warned if "Advanced Logging Controls" in str(w.message)], log_level
        assert logger.log_level == logging.getLevelName(powertools_level), log_level


def test_no_accepted_level_drops_the_metric_lines() -> None:
    metrics = Metrics(namespace="RosettaMonitoring", service="log-level-check")
    metrics.add_metric(name="Rejects", unit=MetricUnit.Count, value=1)
    try:
        line = metrics.serialize_metric_set()
    finally:
        metrics.clear_metrics()
    assert "_aws" in line and "level" not in line
    for log_level in allowed_levels(ROOT_VARIABLES_TF):
        kept_from = resolved(logging_config()["application_log_level"], log_level)
        assert LAMBDA_LEVELS.index(kept_from) <= LAMBDA_LEVELS.index(LEVEL_OF_A_LINE_WITHOUT_ONE), log_level
