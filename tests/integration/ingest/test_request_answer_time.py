"""A source answering its status line and headers a byte at a time: each byte comes well within the read timeout, so
only a total time per request, from the request to the answer's last byte, keeps one request from holding the run."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr

from functions.ingest_dynatrace.client import DynatraceClient
from lakehouse.deadline import note_deadline
from lakehouse.ingest.client import PageRequest, RetryPolicy
from lakehouse.ingest.errors import SourceUnavailable
from tests.integration.api.test_endpoints import QuietHandler, serving

BODY = b'{"totalCount": 0, "problems": []}'
# 83 bytes before the body, one every 0.1 s: some 8 s for the headers alone, every byte within a 1 s read timeout.
ANSWER = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
    + str(len(BODY)).encode()
    + b"\r\n\r\n"
    + BODY
)
BYTE_EVERY_S = 0.1
PROBLEMS = PageRequest("/api/v2/problems", {"pageSize": 10})


@contextmanager
def source_dribbling_its_headers(every_s: float = BYTE_EVERY_S) -> Iterator[str]:
    """A source answering every GET a byte at a time, one every `every_s`, status line and headers included; its
    URL."""
    stop = threading.Event()

    class Dribbling(QuietHandler):
        def do_GET(self) -> None:
            try:
                for byte in ANSWER:
                    if stop.wait(every_s):
                        return
                    self.wfile.write(bytes([byte]))
            except OSError:
                pass  # the client gave up and closed the connection

    with serving(Dribbling) as url:
        try:
            yield url
        finally:
            stop.set()


def _dynatrace(url: str, total_timeout_s: float) -> DynatraceClient:
    policy = RetryPolicy(attempts=2, backoff_base_s=0.01, backoff_max_s=0.01)
    return DynatraceClient(
        url, SecretStr("dt0c01.token"), timeout_s=1.0, total_timeout_s=total_timeout_s, policy=policy
    )


def test_headers_sent_a_byte_at_a_time_end_the_attempt_at_the_total_time_and_it_is_asked_again() -> None:
    """Given 1 s per request, each of the two attempts ends after 1 s, as after a timeout, and the source fails
    saying so: about 2 s, where reading the headers byte by byte takes 8 s an attempt."""
    with source_dribbling_its_headers() as url:
        client = _dynatrace(url, total_timeout_s=1.0)
        started = time.monotonic()
        with pytest.raises(SourceUnavailable) as failed:
            client.send(PROBLEMS)
        took = time.monotonic() - started
    assert str(failed.value).endswith(
        "timeout (the answer took over 1 s) on GET /api/v2/problems, still after 2 attempts"
    )
    assert client.counters.requests == 2 and client.counters.retries == 1
    assert 2.0 <= took < 4.0


def test_a_request_ends_by_the_runs_deadline_when_that_comes_before_its_own_total_time() -> None:
    """A run whose function is stopped in 1.5 s: the request, allowed 120 s, ends with the run's deadline."""
    with source_dribbling_its_headers() as url:
        client = _dynatrace(url, total_timeout_s=120.0)
        note_deadline(datetime.now(UTC) + timedelta(seconds=1.5))
        started = time.monotonic()
        try:
            with pytest.raises(SourceUnavailable) as failed:
                client.send(PROBLEMS)
        finally:
            note_deadline(None)
        took = time.monotonic() - started
    assert str(failed.value).endswith(
        "timeout (no answer by the run's deadline) on GET /api/v2/problems, still after 2 attempts"
    )
    assert 1.5 <= took < 3.0


def test_an_answer_coming_whole_within_its_time_is_read() -> None:
    """The same answer a byte every 10 ms (some 1.2 s), given 30 s: read whole, once."""
    with source_dribbling_its_headers(every_s=0.01) as url:
        client = _dynatrace(url, total_timeout_s=30.0)
        page = client.send(PROBLEMS)
    assert page.body == {"totalCount": 0, "problems": []} and client.counters.retries == 0


def test_a_source_is_reached_through_the_proxy_the_environment_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """Behind a corporate proxy (HTTP_PROXY), the request goes to the proxy with the source's absolute URL, as httpx
    sends it when it reads the environment itself; a host NO_PROXY names is asked directly."""
    asked: list[str] = []

    class Proxy(QuietHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            self.send_json({"totalCount": 0, "problems": []})

    with serving(Proxy) as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy)
        monkeypatch.setenv("NO_PROXY", "direct.example.invalid")
        page = _dynatrace("http://dynatrace.example.invalid", total_timeout_s=5.0).send(PROBLEMS)
        with pytest.raises(SourceUnavailable, match="connection failed"):
            _dynatrace("http://direct.example.invalid", total_timeout_s=5.0).send(PROBLEMS)
    assert page.body == {"totalCount": 0, "problems": []}
    assert asked == ["http://dynatrace.example.invalid/api/v2/problems?pageSize=10"]
