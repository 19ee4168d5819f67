"""An SRE checks that a deployment whose schedules are off pages nobody about data lag. The README's deploy steps create
the stack with `schedules_enabled = false` and turn the schedules on steps later: meanwhile nothing runs, nothing
reports freshness, and each data-lag alarm (missing data counting as breaching) goes to ALARM. It notified the alarm
topics, saying a source was lagging or failing. Read from the Terraform as the deployment reads it: the variable's
default, which functions get a data-lag alarm and with what (functions.tf), what main.tf passes each function's
module, and the alarm itself (modules/function)."""

from __future__ import annotations

import re

import pytest

from tests.unit.lakehouse.test_failed_runs_alarm_holds_until_a_run_succeeds import (
    ALARMS_TF,
    MAIN_TF,
    SCHEDULE_OVERRIDES,
    attribute,
    block,
    scheduled,
)
from tests.unit.lakehouse.test_terraform_functions import TERRAFORM, locals_map

ROOT_VARIABLES_TF = (TERRAFORM / "variables.tf").read_text(encoding="utf-8")


def data_lag_alarm() -> str:
    return block(ALARMS_TF, 'resource "aws_cloudwatch_metric_alarm" "freshness"')


def flat(expression: str) -> str:
    return " ".join(expression.split())


def freshness_alarms() -> tuple[str, str]:
    """local.freshness_alarms, a for expression over the alarms made for each function: its value and its condition."""
    found = re.fullmatch(
        r"\{ for key, alarm in .+? : key => (.+?)(?: if (.+))? \}", flat(locals_map("freshness_alarms"))
    )
    assert found is not None, locals_map("freshness_alarms")
    return found.group(1), found.group(2) or "true"


def truth(expression: str, schedules_enabled: bool, given: dict[str, str] | None = None) -> bool:
    """A boolean expression of this Terraform: a literal, the schedules variable, or an attribute the alarm is given."""
    if expression in ("true", "false"):
        return expression == "true"
    if expression == "var.schedules_enabled":
        return schedules_enabled
    found = re.fullmatch(r"var\.freshness_alarm\.(\w+)", expression)
    if found and given is not None:
        assert found.group(1) in given, f"the data-lag alarm reads {expression}, which functions.tf does not give"
        return truth(given[found.group(1)], schedules_enabled)
    raise AssertionError(f"an expression this test does not read: {expression}")


def made(key: str, schedules_enabled: bool, overrides: dict[str, dict[str, str] | None]) -> bool:
    """Whether functions.tf makes `key` a data-lag alarm: its condition, term by term."""
    _, condition = freshness_alarms()
    for term in condition.split(" && "):
        if term == "contains(local.scheduled_functions, key)":
            holds = key in scheduled(overrides)
        else:
            holds = truth(term, schedules_enabled)
        if not holds:
            return False
    return True


def given_attributes() -> dict[str, str]:
    """What functions.tf adds to each alarm it makes (`merge(alarm, { name = value })`), beyond the alarm's own."""
    value, _ = freshness_alarms()
    if value == "alarm":
        return {}
    found = re.fullmatch(r"merge\(alarm, \{ (.+) \}\)", value)
    assert found is not None, value
    return dict(re.findall(r"(\w+) = ([\w.\"]+)", found.group(1)))


def notifying(schedules_enabled: bool, overrides: dict[str, dict[str, str] | None]) -> set[str]:
    """The functions whose data-lag alarm exists and sends its state changes to the alarm topics."""
    assert "freshness_alarm    = try(local.freshness_alarms[each.key], null)" in MAIN_TF
    assert attribute(block(MAIN_TF, 'module "functions"'), "alarm_actions") == "var.alarm_topic_arns"
    body = data_lag_alarm()
    assert attribute(body, "count") == "var.freshness_alarm == null ? 0 : 1"
    assert attribute(body, "alarm_actions") == "var.alarm_actions"
    # CloudWatch runs an alarm's actions unless actions_enabled is false.
    actions = attribute(body, "actions_enabled") or "true"
    keys = [*re.findall(r"^    (\w+)\s+= \{", locals_map("ingest"), re.M), "build_aggregates"]
    return {
        key
        for key in keys
        if made(key, schedules_enabled, overrides) and truth(actions, schedules_enabled, given_attributes())
    }


def test_a_new_deployment_starts_with_the_schedules_off() -> None:
    """The premise: the variable's default, which the README's deploy steps keep until step 6."""
    default = attribute(block(ROOT_VARIABLES_TF, 'variable "schedules_enabled"'), "default")
    assert default == "false"


@pytest.mark.parametrize("overrides", SCHEDULE_OVERRIDES)
def test_no_data_lag_alarm_notifies_while_the_schedules_are_off(overrides: dict[str, dict[str, str] | None]) -> None:
    assert notifying(False, overrides) == set()


@pytest.mark.parametrize("overrides", SCHEDULE_OVERRIDES)
def test_once_the_schedules_are_on_every_scheduled_function_has_a_data_lag_alarm_that_notifies(
    overrides: dict[str, dict[str, str] | None],
) -> None:
    """By hand: the default schedules run the four ingestions and the build; the README's platform without
    Elasticsearch switches off ingest-logs-hourly, and ingest_logs has none."""
    every = {"ingest_dynatrace", "ingest_servicenow", "ingest_deploys", "ingest_logs", "build_aggregates"}
    expected = every - {"ingest_logs"} if overrides else every
    assert notifying(True, overrides) == expected
