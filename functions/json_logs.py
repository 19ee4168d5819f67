"""The project's plain loggers (`rosetta.*`, `lakehouse.*`) as JSON lines beside a function's Powertools logger.

In Lambda, a record of a plain logger goes to the runtime's own handler: a line of the message alone, the fields
given in `extra` dropped (the subject of a denied admin request, the source of a failed page). Sent through the
function's Powertools handler instead, each is one JSON line with its level, logger name, request and correlation ids
and fields, at the function's POWERTOOLS_LOG_LEVEL.

Every other library's logger (botocore, urllib3, ...) stays at WARNING: with Lambda's JSON log format the runtime puts
the root logger at the function's application_log_level, and at DEBUG botocore logs each answer's body, a secret's
value read from Secrets Manager among them, and each signed request.
"""

from __future__ import annotations

import logging
import os

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

PLAIN_LOGGERS = frozenset({"rosetta", "lakehouse"})


def in_lambda() -> bool:
    return bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))


def plain_loggers_as_json(logger: Logger) -> None:
    """In Lambda only: elsewhere (the command line, the demo, tests) the process decides where plain loggers go.

    The copy adds the `name` key to the function's logger once, here at import: a handler clearing the logger's state
    on each invocation (inject_lambda_context(clear_state=True)) would drop it from every line. The handlers set their
    invocation's own keys (the correlation id) anew on each call instead."""
    if not in_lambda():
        return
    logging.getLogger().setLevel(logging.WARNING)
    for name in PLAIN_LOGGERS:
        logging.getLogger(name)  # registered, so that the copy finds it before any child logs
    copy_config_to_registered_loggers(source_logger=logger, include=set(PLAIN_LOGGERS))
