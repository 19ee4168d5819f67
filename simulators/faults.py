"""Faults on demand: 429s, 5xx bursts, slowness, dropped connections, malformed pages, pages without their list of
records, pages sent a piece now and then; deterministic per seed."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import asdict, dataclass, field, fields
from email.utils import formatdate
from pathlib import Path
from typing import Any

from simulators import hashing

APIS = ("dynatrace", "servicenow", "argocd", "gitlab", "elasticsearch")
# Order matters: it is the order in which a request meets them.
FAULT_KINDS = (
    "slow",
    "drop",
    "server_error",
    "rate_limit",
    "truncate",
    "malformed",
    "wrong_type",
    "drift",
    "expired_page_key",
    # Last: the kinds before them keep the codes their seeded draws are made with.
    "unlisted",
    "trickle",
    # Elasticsearch's alone: a search answered by some of its shards, the others failed (no other API has shards).
    "partial",
)
# The key under which each API's pages list their records: what the unlisted fault takes out of a 200 (an answer
# whose shape changed, or an error sent as a 200). GitLab's pages are the list itself: left as they are.
LISTED_UNDER = {
    "dynatrace": ("result", "problems", "entities", "slo"),
    "servicenow": ("result",),
    "argocd": ("items",),
    "elasticsearch": ("aggregations",),
    "gitlab": (),
}

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
# (status, message) -> (body, extra headers) in the API's own error shape.
ErrorShaper = Callable[[int, str], tuple[bytes, dict[str, str]]]


@dataclass
class ApiFaults:
    """Fault settings of one API. Probabilities are per request; `schedule` forces faults on request numbers.

    `schedule` maps a 1-based request number (counted per API since start) to a fault kind or a list of kinds,
    e.g. {"3": "server_error", "5": ["slow", "rate_limit"]}.
    """

    rate_limit: float = 0.0
    retry_after: int | None = 1
    # Seconds until the rate-limit window resets (RateLimit-Reset, X-RateLimit-Reset) when there is no retry_after.
    reset_after: int = 60
    server_error: float = 0.0
    server_error_burst: int = 3
    server_error_status: int = 503
    slow: float = 0.0
    slow_seconds: float = 1.0
    drop: float = 0.0
    truncate: float = 0.0
    malformed: float = 0.0
    wrong_type: float = 0.0
    drift: float = 0.0
    expired_page_key: float = 0.0
    unlisted: float = 0.0
    # A trickled answer comes in TRICKLE_PIECES pieces spread over this many seconds: each within any read timeout,
    # the whole slower than a run should wait.
    trickle: float = 0.0
    trickle_seconds: float = 2.0
    partial: float = 0.0
    schedule: dict[int, list[str]] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ApiFaults:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown fault settings: {sorted(unknown)}")
        values = dict(data)
        schedule: dict[int, list[str]] = {}
        for number, kinds in dict(values.pop("schedule", {}) or {}).items():
            kind_list = [kinds] if isinstance(kinds, str) else list(kinds)
            for kind in kind_list:
                if kind not in FAULT_KINDS:
                    raise ValueError(f"unknown fault kind {kind!r}")
            schedule[int(number)] = kind_list
        return cls(**values, schedule=schedule)

    def is_active(self) -> bool:
        return bool(self.schedule) or any(getattr(self, kind) > 0 for kind in FAULT_KINDS)


@dataclass
class FaultConfig:
    """Faults per API; all off by default. Build from a profile name, a JSON file or a dict."""

    seed: int = 0
    dynatrace: ApiFaults = field(default_factory=ApiFaults)
    servicenow: ApiFaults = field(default_factory=ApiFaults)
    argocd: ApiFaults = field(default_factory=ApiFaults)
    gitlab: ApiFaults = field(default_factory=ApiFaults)
    elasticsearch: ApiFaults = field(default_factory=ApiFaults)

    def for_api(self, api: str) -> ApiFaults:
        faults: ApiFaults = getattr(self, api)
        return faults

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FaultConfig:
        unknown = set(data) - {"seed", "all", *APIS}
        if unknown:
            raise ValueError(f"unknown fault sections: {sorted(unknown)}")
        shared = dict(data.get("all", {}))
        config = cls(seed=int(data.get("seed", 0)))
        for api in APIS:
            setattr(config, api, ApiFaults.from_dict({**shared, **dict(data.get(api, {}))}))
        return config

    @classmethod
    def load(cls, spec: str) -> FaultConfig:
        """A profile name (see PROFILES), a path to a JSON file, or inline JSON."""
        if spec in PROFILES:
            return cls.from_dict(PROFILES[spec])
        text = spec
        if not spec.lstrip().startswith("{"):
            path = Path(spec)
            if not path.is_file():
                raise ValueError(f"{spec!r} is neither a fault profile ({', '.join(PROFILES)}) nor a JSON file")
            text = path.read_text()
        return cls.from_dict(json.loads(text))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


PROFILES: dict[str, dict[str, Any]] = {
    "none": {},
    # A realistic bad day: occasional throttling and hiccups everywhere.
    "flaky": {
        "seed": 7,
        "all": {
            "rate_limit": 0.03,
            "server_error": 0.02,
            "server_error_burst": 2,
            "slow": 0.02,
            "slow_seconds": 0.5,
            "drop": 0.01,
        },
        "servicenow": {"drift": 0.2},
        "gitlab": {"retry_after": None},
    },
    "rate-limited": {"seed": 1, "all": {"rate_limit": 0.3, "retry_after": 1}, "gitlab": {"retry_after": None}},
    # Everything at once, often: for resilience demos, not for KPI checks.
    "chaos": {
        "seed": 13,
        "all": {
            "rate_limit": 0.1,
            "server_error": 0.08,
            "server_error_burst": 3,
            "slow": 0.05,
            "slow_seconds": 1.0,
            "drop": 0.03,
            "truncate": 0.03,
            "malformed": 0.03,
            "wrong_type": 0.03,
        },
        "servicenow": {"drift": 0.5},
        "dynatrace": {"expired_page_key": 0.2},
        "elasticsearch": {"partial": 0.05},
    },
}

TRICKLE_PIECES = 20

_API_CODES = {api: i + 1 for i, api in enumerate(APIS)}
_KIND_CODES = {kind: i + 1 for i, kind in enumerate(FAULT_KINDS)}


class FaultInjector:
    """Decides, request by request, which faults hit one API: a pure function of (seed, api, request number)."""

    def __init__(self, api: str, faults: ApiFaults, seed: int) -> None:
        self.api = api
        self.faults = faults
        self.seed = seed
        self._lock = threading.Lock()
        self._count = 0
        self._burst_left = 0
        self.history: list[tuple[int, frozenset[str]]] = []

    def next_request(self) -> tuple[int, frozenset[str]]:
        with self._lock:
            self._count += 1
            number = self._count
            kinds = set(self.faults.schedule.get(number, ()))
            for kind in FAULT_KINDS:
                probability = getattr(self.faults, kind)
                if (
                    probability > 0
                    and hashing.unit(self.seed, _API_CODES[self.api], number, _KIND_CODES[kind]) < probability
                ):
                    kinds.add(kind)
            if self._burst_left > 0:
                self._burst_left -= 1
                kinds.add("server_error")
            elif "server_error" in kinds:
                self._burst_left = max(0, self.faults.server_error_burst - 1)
            decided = frozenset(kinds)
            if decided:
                self.history.append((number, decided))
            return number, decided

    @property
    def request_count(self) -> int:
        return self._count


def _abort_connection(send: Send) -> bool:
    """Close the socket under the response: uvicorn's send is a method of the cycle that owns the transport."""
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        return False
    transport.close()
    cycle.disconnected = True  # type: ignore[union-attr]
    return True


def corrupt_first_record(payload: Any) -> Any:
    """Give one field of the first record a wrong JSON type (a number as a string, a string as a number)."""
    target = _first_record(payload)
    if target is None:
        return payload
    for key in sorted(target):
        value = target[key]
        if isinstance(value, bool):
            target[key] = "true" if value else "false"
            return payload
        if isinstance(value, int | float):
            target[key] = str(value)
            return payload
        if isinstance(value, str):
            target[key] = 12345
            return payload
    return payload


def one_shard_failed(answer: Any) -> Any:
    """A search answer as Elasticsearch gives it when one of the shards it searched failed: a 200 whose `_shards`
    counts the failure and says why. Its buckets hold what the other shards counted; an answer that searched no
    shard (a pattern matching no index) has none to fail, and is left as it is."""
    shards = answer.get("_shards") if isinstance(answer, dict) else None
    if not isinstance(shards, dict) or not shards.get("total"):
        return answer
    failure = {
        "shard": 0,
        "index": "logs-simulated",
        "node": "sim-node-1",
        "reason": {"type": "node_disconnected_exception", "reason": "[sim-node-1] disconnected"},
    }
    failed = {**shards, "successful": shards["total"] - 1, "failed": 1, "failures": [failure]}
    return {**answer, "_shards": failed}


def without_listing(payload: Any, api: str) -> Any:
    """The page with the key that lists its records taken out, the rest (paging keys, counts) kept."""
    if not isinstance(payload, dict):
        return payload
    return {k: v for k, v in payload.items() if k not in LISTED_UNDER[api]}


def _first_record(node: Any) -> dict[str, Any] | None:
    if isinstance(node, list):
        for item in node:
            if isinstance(item, dict):
                return item
            found = _first_record(item)
            if found is not None:
                return found
        return None
    if isinstance(node, dict):
        for value in node.values():
            if isinstance(value, list) and value:
                found = _first_record(value)
                if found is not None:
                    return found
        for value in node.values():
            if isinstance(value, dict):
                found = _first_record(value)
                if found is not None:
                    return found
        return node
    return None


class FaultMiddleware:
    """ASGI middleware that applies an injector's decisions around an API application."""

    def __init__(self, app: ASGIApp, injector: FaultInjector, shape_error: ErrorShaper) -> None:
        self.app = app
        self.injector = injector
        self.shape_error = shape_error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        number, kinds = self.injector.next_request()
        state = scope.setdefault("state", {})
        state["faults"] = kinds
        state["request_number"] = number
        faults = self.injector.faults
        if "slow" in kinds:
            await asyncio.sleep(faults.slow_seconds)
        if "drop" in kinds and _abort_connection(send):
            return
        if "server_error" in kinds:
            await self._send_error(send, faults.server_error_status, "Service temporarily unavailable", {})
            return
        if "rate_limit" in kinds:
            await self._send_error(send, 429, "Rate limit exceeded", self._rate_limit_headers(faults))
            return
        if kinds & {"truncate", "malformed", "wrong_type", "unlisted", "trickle", "partial"}:
            await self._rewrite(scope, receive, send, kinds)
            return
        await self.app(scope, receive, send)

    def _rate_limit_headers(self, faults: ApiFaults) -> dict[str, str]:
        if self.injector.api in {"elasticsearch", "dynatrace", "argocd"}:
            # These answer a 429 without Retry-After or any rate-limit header: Elasticsearch its overload
            # (es_rejected_execution_exception), Dynatrace since API 1.210 took its X-RateLimit-* away, ArgoCD's
            # grpc-gateway always. The client backs off on its own, whatever retry_after says.
            return {}
        headers: dict[str, str] = {}
        if faults.retry_after is not None:
            headers["Retry-After"] = str(faults.retry_after)
        reset = int(time.time()) + (faults.retry_after if faults.retry_after is not None else faults.reset_after)
        if self.injector.api == "gitlab":
            headers.update(
                {
                    "RateLimit-Limit": "600",
                    "RateLimit-Observed": "600",
                    "RateLimit-Remaining": "0",
                    "RateLimit-Reset": str(reset),
                    "RateLimit-ResetTime": formatdate(reset, usegmt=True),
                }
            )
        elif self.injector.api == "servicenow":
            headers.update(
                {
                    "X-RateLimit-Limit": "10",
                    "X-RateLimit-Reset": str(reset),
                    "X-RateLimit-Rule": hashing.sys_id("rate-limit-rule"),
                }
            )
        return headers

    async def _send_error(self, send: Send, status: int, message: str, headers: dict[str, str]) -> None:
        body, extra = self.shape_error(status, message)
        all_headers = {"content-type": "application/json", **extra, **headers, "content-length": str(len(body))}
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(k.lower().encode(), v.encode()) for k, v in all_headers.items()],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def _rewrite(self, scope: Scope, receive: Receive, send: Send, kinds: frozenset[str]) -> None:
        start: Message = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        body = b"".join(chunks)
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        status = int(start.get("status", 200))
        if status == 200 and "unlisted" in kinds:
            with contextlib.suppress(ValueError):
                body = json.dumps(without_listing(json.loads(body), self.injector.api), separators=(",", ":")).encode()
        if status == 200 and "wrong_type" in kinds:
            with contextlib.suppress(ValueError):
                body = json.dumps(corrupt_first_record(json.loads(body)), separators=(",", ":")).encode()
        if status == 200 and "partial" in kinds and self.injector.api == "elasticsearch":
            with contextlib.suppress(ValueError):
                body = json.dumps(one_shard_failed(json.loads(body)), separators=(",", ":")).encode()
        if status == 200 and "malformed" in kinds:
            # The HTTP framing is right; the JSON inside is cut short.
            body = body[: max(1, len(body) // 2)]
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [*headers, (b"content-length", str(len(body)).encode())],
            }
        )
        if "truncate" in kinds:
            await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
            if _abort_connection(send):
                return
            await send({"type": "http.response.body", "body": body[len(body) // 2 :]})
            return
        if "trickle" in kinds:
            await self._trickle(send, body)
            return
        await send({"type": "http.response.body", "body": body})

    async def _trickle(self, send: Send, body: bytes) -> None:
        size = max(1, -(-len(body) // TRICKLE_PIECES))
        for start in range(0, len(body), size):
            await asyncio.sleep(self.injector.faults.trickle_seconds / TRICKLE_PIECES)
            await send({"type": "http.response.body", "body": body[start : start + size], "more_body": True})
        await send({"type": "http.response.body", "body": b""})


def request_faults(scope_state: Any) -> frozenset[str]:
    """The faults decided for the current request (handlers read API-specific ones such as drift)."""
    faults = getattr(scope_state, "faults", None)
    return faults if isinstance(faults, frozenset) else frozenset()
