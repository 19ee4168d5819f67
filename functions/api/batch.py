"""Batch triggers: run an ingestion or a build in a background thread (local), or invoke its Lambda (AWS)."""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from functions.api.problems import Problem, invalid
from functions.api.settings import ApiSettings
from lakehouse.errors import LakeAccessError, RosettaError
from lakehouse.runlog import RunRecord
from lakehouse.settings import Settings
from lakehouse.storage import Lake

log = logging.getLogger("rosetta.api.batch")
POLL_S = 0.05
# How long an answer waits on for a run whose records say it is under way (within trigger_wait_s).
UNDER_WAY_WAIT_S = 1.0
ERROR_CODE = re.compile(r"[A-Za-z0-9.]{1,64}")


@dataclass(frozen=True)
class Triggered:
    trigger_id: str
    kind: str
    target: str
    status: str
    run_ids: list[str]


class LambdaInvoker(Protocol):
    def invoke(self, **kwargs: Any) -> dict[str, Any]: ...


class Trigger:
    def __init__(
        self,
        api: ApiSettings,
        settings: Settings,
        lake: Lake,
        *,
        lambda_client: Callable[[], LambdaInvoker] | None = None,
    ) -> None:
        self.api = api
        self.settings = settings
        self.lake = lake
        self._lambda_client = lambda_client
        self._running: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()

    def start(self, kind: str, source: str | None, mode: str) -> Triggered:
        if kind == "ingest":
            from lakehouse.ingest.sources import ALIASES  # see _run: kept off the cold start

            if source is None:
                raise invalid("source", "an ingest trigger needs a source", location="body")
            target = f"ingest:{ALIASES.get(source, source)}"
        else:
            target = "build"
        trigger_id = uuid.uuid4().hex[:12]
        if self.api.trigger_mode == "lambda":
            return self._invoke(trigger_id, kind, target, mode)
        return self._local(trigger_id, kind, target, mode)

    # --- AWS ----------------------------------------------------------------------------------------------
    def _invoke(self, trigger_id: str, kind: str, target: str, mode: str) -> Triggered:
        # By target alone: an ingestion's function reads its own source, whatever the payload, so a function named
        # for "ingest" at large would run another source than the one asked for.
        function = self.api.trigger_functions.get(target)
        if not function:
            raise Problem(
                503, f"no Lambda configured for {target} (ROSETTA_API_TRIGGER_FUNCTIONS)", title="Not configured"
            )
        payload: dict[str, Any] = {"trigger": f"api:{trigger_id}"}
        if kind == "build":
            payload["mode"] = mode
        try:
            client = self._lambda_client() if self._lambda_client else _boto_lambda()
            answer = client.invoke(FunctionName=function, InvocationType="Event", Payload=json.dumps(payload).encode())
        except (BotoCoreError, ClientError) as exc:
            raise _invoke_failed(function, target, exc) from None
        if int(answer.get("StatusCode", 0)) != 202 or answer.get("FunctionError"):
            raise Problem(502, f"Lambda {function} did not accept the {target} run", title="Trigger failed")
        return Triggered(trigger_id, kind, target, "accepted", [])

    # --- local --------------------------------------------------------------------------------------------
    def _local(self, trigger_id: str, kind: str, target: str, mode: str) -> Triggered:
        if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
            # Lambda freezes the process once the answer is sent: a run started in a thread here would stop
            # mid-way and go on at some later invocation, if any, and a build would hold its lease meanwhile.
            raise Problem(
                503,
                f"this API runs in Lambda, where a {target} run cannot go on after the answer: set "
                "ROSETTA_API_TRIGGER_MODE=lambda and ROSETTA_API_TRIGGER_FUNCTIONS to invoke the run's function",
                title="Not configured",
            )
        failure: list[BaseException] = []
        with self._lock:
            running = self._running.get(target)
            if running is not None and running.is_alive():
                article = "an" if target.startswith("ingest") else "a"  # "an ingest:deploys run", "a build run"
                raise Problem(409, f"{article} {target} run started here is still running", title="Already running")
            started = datetime.now(UTC)
            thread = threading.Thread(
                target=self._run,
                args=(trigger_id, kind, target, mode, failure),
                name=f"trigger-{target}",
                daemon=True,
            )
            self._running[target] = thread
            thread.start()
        run_ids = self._wait_for_runs(f"api:{trigger_id}", started, thread)
        if failure and not thread.is_alive():
            raise _run_failed(target, failure[0], run_ids)
        return Triggered(trigger_id, kind, target, "started", run_ids)

    def _run(self, trigger_id: str, kind: str, target: str, mode: str, failure: list[BaseException]) -> None:
        # Imported here: a local run is rare, and the API's cold start should not pay for the build's modules.
        from lakehouse.aggregates.build import build
        from lakehouse.aggregates.lease import refuse_while_forgetting
        from lakehouse.ingest.config import IngestSettings
        from lakehouse.ingest.run import IngestionFailed
        from lakehouse.ingest.sources import ingest

        tag = f"api:{trigger_id}"
        try:
            if kind == "build":
                build(self.lake, self.settings, mode=mode, trigger=tag)  # type: ignore[arg-type]
            else:
                outcome = ingest(target.split(":", 1)[1], self.lake, IngestSettings().resolved(), trigger=tag)
                if outcome.failed:
                    # An ingestion records a dataset's failure and goes on: the run failed all the same. While
                    # forget holds the lake, that is why (the lake not ready, as a build is told).
                    refuse_while_forgetting(self.lake)
                    raise IngestionFailed(outcome)
        except Exception as exc:
            # Kept for the answer when the run fails before it is given; later failures are in the run log.
            failure.append(exc)
            log.warning("triggered run failed", extra={"target": target, "error": type(exc).__name__})

    def _wait_for_runs(self, tag: str, started: datetime, thread: threading.Thread) -> list[str]:
        """Run records carrying our trigger tag, once the run has written one or ended (or the wait ends)."""
        deadline = time.monotonic() + self.api.trigger_wait_s
        days = sorted({started.date(), (started + timedelta(seconds=self.api.trigger_wait_s + 1)).date()})
        # Run ids start with their start time (new_run_id): the day's records of runs started before ours (some
        # 1,300 by the evening on the default schedules, a GET each) are not listed.
        since = started.strftime("%Y%m%dT%H%M%S")
        seen: set[str] = set()
        found: list[str] = []
        failed = True  # every record found so far says failed
        while time.monotonic() < deadline:
            ended = not thread.is_alive()  # read before the scan: an ended run has written all its records
            for day in days:
                folder = f"runs/day={day.isoformat()}/"
                for key in self.lake.list_keys(folder, start_after=folder + since):
                    if key in seen:
                        continue
                    seen.add(key)
                    record = self.lake.get_json(key)
                    if record and record[0].get("trigger") == tag:
                        run = RunRecord.from_json(record[0])
                        found.append(run.run_id)
                        failed = failed and run.status == "failed"
            # A run that could not start writes its failed record, then raises: its answer waits for the raise.
            if ended:
                return sorted(found)
            if found and not failed:
                # Under way: a moment more tells a run whose datasets all fail at once (a source refusing the
                # token, forget holding the lake) from one going on, so that the first is answered as failed.
                deadline = min(deadline, time.monotonic() + UNDER_WAY_WAIT_S)
            time.sleep(POLL_S)
        return sorted(found)


def _run_failed(target: str, exc: BaseException, run_ids: list[str]) -> Problem:
    """A run that failed before the answer: its kind, and a detail only where it is written for people."""
    kind = type(exc).__name__
    if isinstance(exc, LakeAccessError):
        status = 503  # the lake is unreachable: try again later
    elif kind == "IngestionFailed":
        status = 502  # a source (or the store) failed some datasets: their records say why, the others were written
    elif isinstance(exc, RosettaError):
        status = 409  # the lake or the settings are not ready for this run (no mapping, source not configured)
    else:
        status = 500
    # Other errors may quote what they were given (a URL, a header): only their kind is sent.
    reason = str(exc) if isinstance(exc, RosettaError) else "see the API log"
    return Problem(
        status, f"the {target} run failed ({kind}): {reason}", title="Run failed", errorKind=kind, runIds=run_ids
    )


def _invoke_failed(function: str, target: str, exc: BotoCoreError | ClientError) -> Problem:
    """Why Lambda did not take the run, by the error's code or kind only: AWS messages quote ARNs and account ids,
    and a connection error its endpoint. A throttled invoke is worth retrying (503), anything else is Lambda's (502)."""
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code") or "")
        # AWS's codes are names (ResourceNotFoundException); anything else a proxy made up is not passed on.
        kind = code if ERROR_CODE.fullmatch(code) else "ClientError"
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    else:
        kind, status = type(exc).__name__, 0
    log.warning("trigger invoke failed", extra={"function": function, "target": target, "error": kind})
    if kind == "TooManyRequestsException" or status == 429:
        wait = _retry_after(exc)
        return Problem(
            503,
            f"Lambda {function} is throttled and did not start the {target} run; try again later",
            title="Trigger throttled",
            errorKind=kind,
            headers={"Retry-After": wait} if wait else None,
        )
    return Problem(
        502, f"Lambda {function} could not start the {target} run ({kind})", title="Trigger failed", errorKind=kind
    )


def _retry_after(exc: BotoCoreError | ClientError) -> str | None:
    """Lambda's Retry-After for a throttled invoke, when it gave a plain number of seconds."""
    if not isinstance(exc, ClientError):
        return None
    headers = exc.response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
    wait = str(exc.response.get("retryAfterSeconds") or headers.get("retry-after") or "")
    return wait if wait.isascii() and wait.isdigit() and int(wait) <= 3600 else None


def _boto_lambda() -> LambdaInvoker:
    import boto3
    from botocore.config import Config

    # An Event invoke is queued and answered at once. Its waits stay well within the 29 s API Gateway waits for the
    # function (two attempts of at most 2 + 5 s, and the backoff between them), so an endpoint that cannot be reached
    # (a function in a VPC without a route to Lambda) is the 502 naming the function: botocore's defaults wait 60 s to
    # connect and to read, three attempts, and the admin got the gateway's bare 503.
    config = Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "total_max_attempts": 2})
    client: LambdaInvoker = boto3.client("lambda", config=config)
    return client
