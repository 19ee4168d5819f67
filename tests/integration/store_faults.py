"""A misbehaving S3 store for tests: a reverse proxy on loopback in front of the embedded S3 server that answers
chosen requests itself (a 503 SlowDown, a 500, a 403 AccessDenied), resets their connection, or never answers.

Every other request goes to the real server as it came: the Host header stays the proxy's, which the client signed.
"""

from __future__ import annotations

import http.client
import socket
import socketserver
import struct
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from lakehouse.local_s3 import S3Endpoint

# What a rule does to a request it matches: answer with an S3 error, reset the connection, or hold it unanswered.
SLOW_DOWN = (503, "SlowDown", "Please reduce your request rate.")
INTERNAL_ERROR = (500, "InternalError", "We encountered an internal error. Please try again.")
ACCESS_DENIED = (403, "AccessDenied", "Access Denied")
RESET = "reset"
HANG = "hang"


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # /bucket/key, without the query
    query: str


@dataclass
class Rule:
    matches: Callable[[Request], bool]
    action: Any
    times: int  # how many matching requests it answers; -1 for all
    hit: int = 0


@dataclass
class FaultyStore:
    """The proxy's endpoint, and the rules it follows: `fail(...)` adds one, `clear()` lets everything through."""

    endpoint: S3Endpoint
    rules: list[Rule] = field(default_factory=list)
    seen: list[Request] = field(default_factory=list)
    released: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fail(self, matches: Callable[[Request], bool], action: Any, *, times: int = -1) -> Rule:
        rule = Rule(matches, action, times)
        with self.lock:
            self.rules.append(rule)
        return rule

    def clear(self) -> None:
        with self.lock:
            self.rules.clear()
        self.released.set()

    def _action_for(self, request: Request) -> Any:
        with self.lock:
            self.seen.append(request)
            for rule in self.rules:
                if rule.times != 0 and rule.matches(request):
                    rule.times -= 1 if rule.times > 0 else 0
                    rule.hit += 1
                    return rule.action
        return None


def method_on(method: str, key_part: str) -> Callable[[Request], bool]:
    """Requests of `method` whose path (or listing prefix) holds `key_part`."""
    return lambda r: r.method == method and (key_part in r.path or key_part in r.query)


def listing_of(prefix_part: str) -> Callable[[Request], bool]:
    """A LIST whose prefix holds `prefix_part` (URL-encoded as the client sends it: '/' is %2F)."""
    encoded = prefix_part.replace("/", "%2F")
    return lambda r: r.method == "GET" and "list-type=2" in r.query and encoded in r.query


def every_request(request: Request) -> bool:
    return True


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def handle(self) -> None:
        while True:
            head = self._read_head()
            if head is None:
                return
            method, target, headers, raw_head = head
            body = self._read_body(headers)
            parts = urlsplit(target)
            request = Request(method, parts.path, parts.query)
            action = self.server.faults._action_for(request)
            if action == RESET:
                # SO_LINGER 0: close() sends a TCP reset, as a load balancer dropping the connection does.
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                return
            if action == HANG:
                self.server.faults.released.wait()
                return
            if action is not None:
                self._answer_error(*action)
                continue
            self._forward(method, target, raw_head, body)

    def _read_head(self) -> tuple[str, str, dict[str, str], list[tuple[str, str]]] | None:
        line = self.rfile.readline()
        if not line:
            return None
        method, target, _ = line.decode("latin-1").split(" ", 2)
        headers: dict[str, str] = {}
        raw: list[tuple[str, str]] = []
        while (line := self.rfile.readline()) not in (b"\r\n", b"\n", b""):
            name, value = line.decode("latin-1").split(":", 1)
            headers[name.strip().lower()] = value.strip()
            raw.append((name.strip(), value.strip()))
        return method, target, headers, raw

    def _read_body(self, headers: dict[str, str]) -> bytes:
        if "content-length" in headers:
            return self.rfile.read(int(headers["content-length"]))
        if headers.get("transfer-encoding", "").lower() == "chunked":
            # Kept as it came (chunk sizes and trailers too): forwarded with the same Transfer-Encoding.
            body = b""
            while True:
                size_line = self.rfile.readline()
                body += size_line
                size = int(size_line.split(b";")[0].strip(), 16)
                if size == 0:
                    while (trailer := self.rfile.readline()) not in (b"\r\n", b"\n", b""):
                        body += trailer
                    return body + b"\r\n"
                body += self.rfile.read(size + 2)
        return b""

    def _answer_error(self, status: int, code: str, message: str) -> None:
        body = f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code><Message>{message}</Message></Error>"
        payload = body.encode()
        head = f"HTTP/1.1 {status} {code}\r\nContent-Type: application/xml\r\nContent-Length: {len(payload)}\r\n\r\n"
        self.wfile.write(head.encode() + payload)
        self.wfile.flush()

    def _forward(self, method: str, target: str, raw_head: list[tuple[str, str]], body: bytes) -> None:
        upstream = http.client.HTTPConnection(self.server.upstream_host, self.server.upstream_port, timeout=60)
        try:
            upstream.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
            for name, value in raw_head:
                upstream.putheader(name, value)
            upstream.endheaders()
            if body:
                upstream.send(body)
            response = upstream.getresponse()
            payload = response.read()
            lines = [f"HTTP/1.1 {response.status} {response.reason}"]
            for name, value in response.getheaders():
                if name.lower() not in ("transfer-encoding", "content-length", "connection"):
                    lines.append(f"{name}: {value}")
            lines.append(f"Content-Length: {len(payload)}")
            self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload)
            self.wfile.flush()
        finally:
            upstream.close()


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, upstream: S3Endpoint, faults: FaultyStore) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        parts = urlsplit(upstream.endpoint_url)
        self.upstream_host, self.upstream_port = parts.hostname or "127.0.0.1", parts.port or 80
        self.faults = faults


@contextmanager
def faulty_store(upstream: S3Endpoint) -> Iterator[FaultyStore]:
    """A proxy in front of `upstream` for the duration of the block; its endpoint signs as the same user."""
    placeholder = FaultyStore(upstream)
    server = _Server(upstream, placeholder)
    port = server.server_address[1]
    placeholder.endpoint = S3Endpoint(
        endpoint_url=f"http://127.0.0.1:{port}",
        bucket=upstream.bucket,
        access_key_id=upstream.access_key_id,
        secret_access_key=upstream.secret_access_key,
        region=upstream.region,
    )
    thread = threading.Thread(target=server.serve_forever, name="faulty-s3", daemon=True)
    thread.start()
    try:
        yield placeholder
    finally:
        placeholder.clear()
        server.shutdown()
        server.server_close()
