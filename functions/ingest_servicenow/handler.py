"""Scheduled Lambda: ServiceNow incidents, changes, problems, task SLAs and CIs into the lake, incrementally."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.deadline import stop_before_timeout
from functions.json_logs import plain_loggers_as_json
from lakehouse.ingest.lambda_entry import handle_scheduled_event

SOURCE = "servicenow"
logger = Logger(service="ingest_servicenow")
metrics = Metrics(namespace="RosettaMonitoring", service="ingest_servicenow")
tracer = Tracer(service="ingest_servicenow")
plain_loggers_as_json(logger)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(raise_on_empty_metrics=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    with stop_before_timeout(context):
        return handle_scheduled_event(SOURCE, event, logger=logger, metrics=metrics)
