"""An SRE paged by a scheduled function's failed-runs alarm checks that it stays in ALARM until a later run succeeds:
between two runs Lambda publishes no Errors datapoint, and an alarm counting that as "not breaching" went back to OK
five minutes after the failure, with an OK notification, while the source still failed. The API's errors are single
requests': its alarm returns to OK once a period passes without one. Read from the Terraform as the deployment reads
it: the schedules (locals.tf), what main.tf passes each function's module, and the alarm (modules/function)."""

from __future__ import annotations

import re

import pytest

from tests.unit.lakehouse.test_terraform_functions import TERRAFORM, handlers

LOCALS_TF = (TERRAFORM / "locals.tf").read_text(encoding="utf-8")
FUNCTIONS_TF = (TERRAFORM / "functions.tf").read_text(encoding="utf-8")
MAIN_TF = (TERRAFORM / "main.tf").read_text(encoding="utf-8")
MODULE = TERRAFORM / "modules" / "function"
ALARMS_TF = (MODULE / "alarms.tf").read_text(encoding="utf-8")
VARIABLES_TF = (MODULE / "variables.tf").read_text(encoding="utf-8")
# What a deployment sets in `schedules`: nothing, or the README's platform without Elasticsearch.
SCHEDULE_OVERRIDES: list[dict[str, dict[str, str] | None]] = [{}, {"ingest-logs-hourly": None}]


def block(text: str, header: str) -> str:
    """The body of a top-level Terraform block (`header {` ... `}`)."""
    found = re.search(rf"^{re.escape(header)} \{{\n(.*?)^\}}", text, re.M | re.S)
    assert found is not None, f"no {header}"
    return found.group(1)


def attribute(body: str, name: str) -> str | None:
    found = re.search(rf"^\s+{name}\s*=\s*(.+)$", body, re.M)
    return found.group(1).strip() if found else None


def failed_runs_alarm() -> str:
    return block(ALARMS_TF, 'resource "aws_cloudwatch_metric_alarm" "errors"')


def scheduled(overrides: dict[str, dict[str, str] | None]) -> set[str]:
    """The functions some schedule runs: the defaults of locals.tf with the deployment's entries merged over them by
    name, a null one switching its default off."""
    defaults = re.search(r"^  schedule_defaults = \{\n(.*?)^  \}", LOCALS_TF, re.M | re.S)
    assert defaults is not None, "locals.tf has no local.schedule_defaults"
    schedules: dict[str, dict[str, str] | None] = {
        name: {"function": str(attribute(body, "function")).strip('"')}
        for name, body in re.findall(r"^    ([\w-]+) = \{\n(.*?)^    \}", defaults.group(1), re.M | re.S)
    }
    assert "merge(local.schedule_defaults, var.schedules) : name => s if s != null" in LOCALS_TF
    return {s["function"] for s in (schedules | overrides).values() if s is not None}


def scheduled_input(function: str, scheduled_functions: set[str]) -> bool:
    """The module's `scheduled` as main.tf sets it for `function` (its default when main.tf sets none)."""
    passed = attribute(block(MAIN_TF, 'module "functions"'), "scheduled")
    if passed is None:
        default = attribute(block(VARIABLES_TF, 'variable "scheduled"'), "default")
        return default == "true"
    assert passed == "contains(local.scheduled_functions, each.key)", passed
    assert "scheduled_functions = toset([for s in values(local.schedules) : s.function])" in FUNCTIONS_TF
    return function in scheduled_functions


def missing_data(is_scheduled: bool) -> str:
    """The failed-runs alarm's treat_missing_data for a function scheduled or not: a literal, or a choice on it."""
    expression = str(attribute(failed_runs_alarm(), "treat_missing_data"))
    choice = re.fullmatch(r'var\.scheduled \? "(\w+)" : "(\w+)"', expression)
    if choice:
        return choice.group(1) if is_scheduled else choice.group(2)
    assert re.fullmatch(r'"\w+"', expression), expression
    return expression.strip('"')


def states(datapoints: list[int | None], treat_missing_data: str) -> list[str]:
    """CloudWatch's state after each period of an alarm on Sum(Errors) >= 1 over one period: a period without a
    datapoint is ignored (the state stays), not breaching (OK) or breaching (ALARM)."""
    state = "INSUFFICIENT_DATA"
    seen = []
    for errors in datapoints:
        if errors is not None:
            state = "ALARM" if errors >= 1 else "OK"
        elif treat_missing_data != "ignore":
            state = "ALARM" if treat_missing_data == "breaching" else "OK"
        seen.append(state)
    return seen


def notifications(seen: list[str]) -> list[tuple[int, str]]:
    """(period, state) of each change the alarm notifies (alarm_actions and ok_actions)."""
    return [(i, state) for i, state in enumerate(seen) if state != (seen[i - 1] if i else "INSUFFICIENT_DATA")]


@pytest.mark.parametrize("overrides", SCHEDULE_OVERRIDES)
def test_a_scheduled_functions_alarm_keeps_its_state_between_runs(overrides: dict[str, dict[str, str] | None]) -> None:
    """Every function of functions.tf: one a schedule runs ignores missing data, any other (the API, a function
    whose schedule is switched off) counts it as not breaching."""
    functions = set(handlers())
    runs = scheduled(overrides)
    assert runs and runs < functions, "no function is scheduled, or every one is: nothing here tells them apart"
    given = {key: missing_data(scheduled_input(key, runs)) for key in functions}
    assert given == {key: "ignore" if key in runs else "notBreaching" for key in functions}


def test_an_hourly_run_that_fails_pages_once_and_clears_when_a_run_succeeds() -> None:
    """A scheduled function run hourly fails twice in a row, then succeeds: with the five-minute periods the module
    defaults to, each run is one datapoint (1 error, then 0) and the eleven periods between runs have none. The SRE
    gets one ALARM, at the first failure, and one OK, at the success; the API's alarm, after a failed request and one
    that succeeded two periods later, returns to OK the period after the error."""
    body = failed_runs_alarm()
    assert attribute(body, "statistic") == '"Sum"'
    assert attribute(body, "evaluation_periods") == "1"
    assert attribute(body, "threshold") == "1"
    assert attribute(body, "comparison_operator") == '"GreaterThanOrEqualToThreshold"'
    assert attribute(body, "period") == "var.error_alarm_period_seconds"
    period = int(str(attribute(block(VARIABLES_TF, 'variable "error_alarm_period_seconds"'), "default")))
    quiet: list[int | None] = [None] * (3600 // period - 1)

    runs = scheduled({})
    # Any scheduled function: they share the alarm's settings.
    function = sorted(runs)[0]
    hours = states([1, *quiet, 1, *quiet, 0, *quiet], missing_data(scheduled_input(function, runs)))
    success = 2 * (len(quiet) + 1)
    assert notifications(hours) == [(0, "ALARM"), (success, "OK")]

    api = next(key for key in handlers() if key not in runs)
    assert notifications(states([1, None, 0, None], missing_data(scheduled_input(api, runs)))) == [
        (0, "ALARM"),
        (1, "OK"),
    ]
