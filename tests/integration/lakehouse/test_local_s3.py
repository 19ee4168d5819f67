"""The embedded S3 store: its handle, as pytest and logs show it, and its life beside the program that started it."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path
from urllib.parse import urlsplit

from lakehouse.local_s3 import EmbeddedS3, S3Endpoint


def test_an_endpoint_s_repr_never_shows_its_secret_key(s3_endpoint: S3Endpoint) -> None:
    """pytest prints a failing test's fixtures and a log line may print the handle: its repr names the store, the
    bucket and the access key id, never the secret key the embedded server issued. The child process hands the
    handle over as JSON, so asdict still carries the secret."""
    shown = repr(s3_endpoint)
    assert s3_endpoint.secret_access_key not in shown
    assert s3_endpoint.endpoint_url in shown and "'rosetta-test'" in shown and s3_endpoint.access_key_id in shown
    assert asdict(s3_endpoint)["secret_access_key"] == s3_endpoint.secret_access_key


# A program that starts the embedded store as the tests and the demo do, says where it is, and waits to be killed.
STARTS_THE_STORE = """
import json, time
from lakehouse.local_s3 import EmbeddedS3

store = EmbeddedS3(bucket="orphan")
endpoint = store.start()
print(json.dumps({"url": endpoint.endpoint_url, "server_pid": store._process.pid}), flush=True)
time.sleep(600)
"""


def _answers(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=1):
            return True
    except OSError:
        return False


def test_the_store_stops_when_the_program_that_started_it_is_killed() -> None:
    """A test run or a demo stopped from outside (SIGKILL, a CI job's time limit) runs no clean-up of its own; the
    store it started, in a session of its own, used to keep its port and memory until someone found it. It now
    stops once the program that started it is gone: its port no longer answers (30 s allowed for a loaded
    machine)."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])}
    program = subprocess.Popen([sys.executable, "-c", STARTS_THE_STORE], stdout=subprocess.PIPE, text=True, env=env)
    server_pid = None
    try:
        assert program.stdout is not None
        started = json.loads(program.stdout.readline())
        server_pid = started["server_pid"]
        assert _answers(started["url"])
        program.kill()
        program.wait(timeout=30)
        deadline = time.monotonic() + 30
        while _answers(started["url"]) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _answers(started["url"])
    finally:
        program.kill()
        if server_pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(server_pid, signal.SIGKILL)


def test_a_stopped_store_leaves_none_of_its_pipes_open() -> None:
    """The store's output pipe, read once for its address, was left to the garbage collector after a stop: one
    "unclosed file" warning per store, and a file descriptor held until then in a long test session or demo."""
    store = EmbeddedS3(bucket="stopped")
    endpoint = store.start()
    process = store._process
    assert process is not None and process.stdin is not None and process.stdout is not None
    store.stop()
    assert process.stdin.closed and process.stdout.closed
    assert process.returncode is not None and not _answers(endpoint.endpoint_url)


def test_a_store_that_cannot_be_served_is_refused_in_one_line() -> None:
    """On an address this machine does not have, with port 0, the store waited for ever for a server that had given
    up; a bucket name S3 refuses stopped on botocore's traceback. Both are now one line, exit 2."""
    for options, said in (
        (["--host", "192.0.2.1", "--port", "0"], "cannot serve the embedded S3 store on 192.0.2.1:0: "),
        (["--bucket", "Bad_Bucket!", "--port", "0"], "'Bad_Bucket!' is no S3 bucket name: "),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "lakehouse.cli", "local-s3", *options],
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])},
        )
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith(f"error: {said}"), done.stderr
