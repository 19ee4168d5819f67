"""A source that starts sending records the parsers set aside makes its figures shrink without a failed run: each
ingestion function has an alarm on the rejects it reports. The alarm must watch the metric the handlers really emit
(Powertools' EMF lines: name, namespace and dimensions), or it would never fire."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest

from functions.ingest_deploys import handler as deploys_handler
from functions.ingest_dynatrace import handler as dynatrace_handler
from functions.ingest_logs import handler as logs_handler
from functions.ingest_servicenow import handler as servicenow_handler
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from simulators.estate import generate_estate
from simulators.model import PRODUCTION
from simulators.serve import start_simulators
from simulators.timeseries import ERROR_TYPES
from tests.unit.lakehouse.test_terraform_functions import TERRAFORM, locals_map

from .conftest import END, import_catalog, invoke, scheduled_event
from .test_ingest_handlers import HandCountedLogs, Point

pytestmark = pytest.mark.simulators
# Function key (as functions.tf names it) -> its handler.
HANDLERS = {
    "ingest_dynatrace": dynatrace_handler,
    "ingest_servicenow": servicenow_handler,
    "ingest_deploys": deploys_handler,
    "ingest_logs": logs_handler,
}


def emitted(output: str, metric: str) -> list[dict[str, Any]]:
    """Each EMF record of `output` carrying `metric`: its namespace, its dimensions with their values, its value."""
    found = []
    for line in output.splitlines():
        record = json.loads(line) if line.startswith("{") else {}
        for directive in record.get("_aws", {}).get("CloudWatchMetrics", []):
            if any(m["Name"] == metric for m in directive["Metrics"]):
                names = [name for group in directive["Dimensions"] for name in group]
                found.append(
                    {
                        "namespace": directive["Namespace"],
                        "dimensions": {name: record[name] for name in names},
                        # Powertools writes a metric's values as a list (one per add_metric).
                        "value": sum(record[metric]) if isinstance(record[metric], list) else record[metric],
                    }
                )
    return found


def terraform_attribute(body: str, name: str) -> str:
    found = re.search(rf"^\s+{name}\s*=\s*(.+)$", body, re.M)
    assert found is not None, f"no {name}"
    return found.group(1).strip()


def test_each_ingest_function_has_a_rejects_alarm_on_the_metric_it_emits(
    local_settings: Settings, point: Point, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every handler run once over the 4 hours before the estate's end. The logs are those of an Elastic Common
    Schema logger (environment in service.environment, never in deployment.environment, which is read): by hand, 3
    ERROR lines in one hour and 2 WARN lines in the next, 2 buckets set aside as 2 rejects. The other sources send
    well-formed records: 0 rejects."""
    estate = generate_estate(seed=16, apps=1, days=1, end=END)
    service = estate.components[0].name
    first = estate.end_s - 3 * 3600
    counts = {
        (service, PRODUCTION, "ERROR", ERROR_TYPES[0], first): 3,
        (service, PRODUCTION, "WARN", None, first + 3600): 2,
    }
    logs = HandCountedLogs(estate, counts)
    window = {"since": (END - timedelta(hours=4)).isoformat(), "until": END.isoformat()}
    reported: dict[str, list[dict[str, Any]]] = {}
    with start_simulators(estate, telemetry=logs, log_environment_fields=("service.environment",)) as running:
        point(running, local_settings)
        import_catalog(Lake.from_settings(local_settings), estate)
        for key, module in HANDLERS.items():
            capsys.readouterr()
            invoke(module, scheduled_event(str(module.__file__), window))
            reported[key] = emitted(capsys.readouterr().out, "Rejects")

    alarm = locals_map("rejects_alarms")
    ingest_keys = re.findall(r"^    (\w+)\s+= \{", locals_map("ingest"), re.M)
    assert sorted(ingest_keys) == sorted(HANDLERS)
    assert "for key in keys(local.ingest)" in alarm
    assert terraform_attribute(alarm, "metric_name") == '"Rejects"'
    namespace = terraform_attribute(alarm, "namespace").strip('"')
    assert terraform_attribute(alarm, "dimensions") == "{ service = key }"
    for key in HANDLERS:
        assert [(r["namespace"], r["dimensions"]) for r in reported[key]] == [(namespace, {"service": key})], key
    assert {key: r[0]["value"] for key, r in reported.items()} == {
        "ingest_dynatrace": 0,
        "ingest_servicenow": 0,
        "ingest_deploys": 0,
        "ingest_logs": 2,
    }

    # Wired to every ingest function, summed, and firing at the default threshold of 1: on the 2, not on a 0.
    main = (TERRAFORM / "main.tf").read_text(encoding="utf-8")
    assert "rejects_alarm      = try(local.rejects_alarms[each.key], null)" in main
    resource = (TERRAFORM / "modules" / "function" / "alarms.tf").read_text(encoding="utf-8")
    rejects = resource.split('resource "aws_cloudwatch_metric_alarm" "rejects" {', 1)[1].split("\n}", 1)[0]
    assert terraform_attribute(rejects, "metric_name") == "var.rejects_alarm.metric_name"
    assert terraform_attribute(rejects, "statistic") == '"Sum"'
    assert terraform_attribute(rejects, "comparison_operator") == '"GreaterThanOrEqualToThreshold"'
    assert terraform_attribute(locals_map("function_defaults"), "rejects_threshold") == "1"
