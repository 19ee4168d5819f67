"""One HTTP client for every source: timeouts, retries with backoff and jitter, a request budget, counters."""

from __future__ import annotations

import base64
import html
import json
import logging
import math
import random
import re
import time
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, NoReturn, Protocol
from urllib.parse import unquote, urlsplit

import httpcore
import httpx
from pydantic import SecretStr
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from lakehouse.ingest.errors import (
    BudgetExhausted,
    PageTooLarge,
    RateLimited,
    Retriable,
    SourceRefused,
    SourceUnavailable,
)
from lakehouse.redact import REDACTED, SLASHES, payload_without_credentials, text_without_credentials
from lakehouse.runlog import run_deadline

log = logging.getLogger("rosetta.ingest")

# httpx logs every request's whole URL at INFO, where a user and password written into a source's base URL (an
# Elasticsearch behind basic auth) would show as soon as a handler logs at INFO: its lines are kept to warnings.
for _library in ("httpx", "httpcore"):
    logging.getLogger(_library).setLevel(logging.WARNING)

# Anything above this is an epoch second, not a delay in seconds (GitLab's RateLimit-Reset is epoch).
_EPOCH_THRESHOLD = 1_000_000_000
# Past this an epoch is in milliseconds or microseconds (Dynatrace Managed's X-RateLimit-Reset): no second is.
_LATEST_EPOCH_SECOND = 100_000_000_000
MAX_TEXT_KEPT = 64_000
# The most characters an answer may write one character of a credential with (see _written): the four bytes of a
# character past U+FFFF, each URL-encoded with its % JSON-escaped (\u0025F0).
LONGEST_WRITTEN_CHAR = 32
# A URL at the end of a page's cut beginning, from its scheme's "://" on, without the @ that ends a user and password.
_CUT_USERINFO = re.compile(rf"(?P<slashes>{SLASHES})[^\s/?#\"<>@]*$")
# A credential shorter than this is not looked for in the answers: it would replace ordinary words.
MIN_SECRET = 8
# The shortest run of letters and digits of a credential that tells pages apart (see _echo_clues).
MIN_CLUE = 6
# What a writer puts before an escaped character (JSON's \\, a URL's %, HTML's &) and the + a URL writes for a space:
# a page holding none of them holds a credential as it is or not at all.
_ESCAPE_MARKS = "\\%&+"
# The largest answer read, once decompressed: a page costs some ten times its size in memory while it is parsed, and
# an ingestion function has 1,024 MB. ArgoCD's listing of every application is the largest page a source sends.
MAX_PAGE_BYTES = 64 * 2**20
# The longest an answer may take, from the request to its last byte: the timeout is per read, and a source sending
# a byte now and then held a run for as long as it liked.
TOTAL_TIMEOUT_S = 120.0
# Why a page nested deeper than Python's parser goes (some 1,000 levels; no source's page nests past a few tens) is
# not read.
TOO_DEEP = "page was JSON nested too deeply to read"
# The instant (time.monotonic) by which the answer to the request this thread is sending must have come whole.
_ANSWER_BY: ContextVar[float | None] = ContextVar("answer_by", default=None)


class Clock(Protocol):
    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to insist. Waits are full-jitter exponential unless the server names one."""

    attempts: int = 6
    backoff_base_s: float = 0.5
    backoff_max_s: float = 30.0
    # The longest wait a server may ask for (Retry-After, a rate-limit reset) that a run waits. ServiceNow's hourly
    # rules can ask for an hour: a scheduled run does not wait that long, it stops asking the source. GitLab
    # throttles per minute and its reset falls up to 61 s after its answer: that wait is waited.
    max_server_wait_s: float = 90.0


@dataclass
class Counters:
    """What a client did during a run; the run log and the metrics read these."""

    requests: int = 0
    retries: int = 0
    pages: int = 0
    rate_limited: int = 0
    set_aside: list[SetAside] = field(default_factory=list)
    # Unreadable answers to pages a later attempt read: nothing was lost, so they are no rejects (see send).
    read_again: list[SetAside] = field(default_factory=list)
    # Listings read again (a re-scan, a re-read, a second listing that may hand the same records), each counted before
    # the first page of the new read is handed on: a reject one read meets again counts once (run._MetRejects).
    reads_again: int = 0

    def snapshot(self) -> tuple[int, int, int]:
        return self.requests, self.retries, self.pages


@dataclass(frozen=True)
class SetAside:
    """An answer kept as a reject of the run: a page whose body stayed empty, not JSON or not the API's shape however
    often it was requested (one reject per page), a listing holding fewer records than it announced, or a refusal
    the run went on without (a project the mapping names that the source no longer serves)."""

    url: str
    reason: str
    text: str
    # The dataset whose reject it is; the stream's first dataset when not said.
    dataset: str | None = None


@dataclass(frozen=True)
class PageRequest:
    """One request a paginator asks for; `url` is a path under the base URL or an absolute URL."""

    url: str
    params: Mapping[str, Any] | None = None
    json: Any = None
    method: str = "GET"

    def with_params(self, params: Mapping[str, Any]) -> PageRequest:
        return PageRequest(self.url, params, self.json, self.method)

    def with_json(self, body: Any) -> PageRequest:
        return PageRequest(self.url, self.params, body, self.method)


@dataclass(frozen=True)
class ApiResponse:
    status: int
    headers: httpx.Headers
    body: Any
    request: PageRequest


class RequestBudget:
    """Requests a run may make, retries included; shared by the clients of one run."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def take(self, source: str) -> None:
        if self.used >= self.limit:
            # The stream fails: no row of its window is written nor its watermark moved, the next run starts it over.
            # A window that always needs more would fail every run the same way: the message says what to change.
            raise BudgetExhausted(
                source,
                f"request budget of {self.limit} used up; the next run reads the window again (if every run stops "
                "here, raise ROSETTA_REQUEST_BUDGET or lower ROSETTA_CATCH_UP_HOURS)",
            )
        self.used += 1


# Seconds as a header writes them: ASCII digits (str.isdigit also takes "²", which float refuses), few enough to
# stay a finite number.
_SECONDS = re.compile(r"[0-9]{1,20}(\.[0-9]{1,9})?")


def server_wait_seconds(headers: Mapping[str, str], now: float) -> float | None:
    """The wait a server asks for: Retry-After (seconds or HTTP date), else RateLimit-Reset, else X-RateLimit-Reset.
    A date or reset already past (the source's clock behind ours) asks for no wait the client can tell: None, so that
    it backs off as without one, rather than ask again at once on every attempt."""
    retry_after = headers.get("retry-after")
    if retry_after:
        value = retry_after.strip()
        if _SECONDS.fullmatch(value):
            return float(value)
        try:
            return _ahead(parsedate_to_datetime(value).timestamp() - now)
        except (TypeError, ValueError):
            pass
    for name in ("ratelimit-reset", "x-ratelimit-reset"):
        reset = headers.get(name)
        if reset and _SECONDS.fullmatch(reset.strip()):
            number = float(reset)
            if number <= _EPOCH_THRESHOLD:
                return number
            while number > _LATEST_EPOCH_SECOND:
                number /= 1000
            return _ahead(number - now)
    return None


def _ahead(seconds: float) -> float | None:
    return seconds if seconds > 0 else None


def backoff_seconds(attempt: int, policy: RetryPolicy, rng: random.Random) -> float:
    """Full jitter: uniform in [0, min(max, base * 2^(attempt-1))]."""
    ceiling = min(policy.backoff_max_s, policy.backoff_base_s * (2 ** max(0, attempt - 1)))
    return rng.uniform(0.0, ceiling)


def wait_for(error: BaseException | None, attempt: int, policy: RetryPolicy, rng: random.Random) -> float:
    """What the retry loop sleeps after a failed attempt: the server's wish or jittered backoff."""
    if isinstance(error, Retriable) and error.retry_after is not None:
        return min(error.retry_after, policy.max_server_wait_s)
    return backoff_seconds(attempt, policy, rng)


_JSON_KINDS: dict[type, str] = {
    dict: "object",
    list: "list",
    str: "string",
    int: "number",
    float: "number",
    bool: "boolean",
    type(None): "null",
}
_SHAPES: dict[type, str] = {dict: "an object", list: "a list"}


def _error_message(body: Any) -> str:
    """The sources' error shapes, read loosely: {"error":{"message"}}, {"message":...}, {"error":"..."}."""
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            for key in ("message", "reason", "detail"):
                if isinstance(error.get(key), str):
                    reason = str(error[key])
                    return (
                        reason
                        + _detail(error, reason)
                        + _violations(error.get("constraintViolations"))
                        + _root_causes(error, reason)
                    )
        if isinstance(error, str):
            return error
        message = body.get("message")
        if isinstance(message, str):
            return message
        if isinstance(message, dict):
            return str(message.get("error") or message)
    return ""


def _detail(error: dict[str, Any], reason: str) -> str:
    """ServiceNow's message names the refusal ("Insufficient rights to query records"); its detail says why."""
    detail = error.get("detail")
    return f" ({detail})" if isinstance(detail, str) and detail and detail != reason else ""


def _violations(found: Any) -> str:
    """Dynatrace's 400 says only "Constraints violated." in its message; which parameter and why are listed here."""
    if not isinstance(found, list):
        return ""
    parts = [
        f"{v.get('path')}: {v.get('message')}" if v.get("path") else str(v.get("message"))
        for v in found
        if isinstance(v, dict) and v.get("message")
    ]
    return f" ({'; '.join(parts)})" if parts else ""


def _root_causes(error: dict[str, Any], reason: str) -> str:
    """Elasticsearch's reason can be only "all shards failed"; why each shard failed is in root_cause."""
    found = error.get("root_cause")
    if not isinstance(found, list):
        return ""
    parts = [
        f"{c.get('type')}: {c['reason']}"
        for c in found
        if isinstance(c, dict) and isinstance(c.get("reason"), str) and c["reason"] != reason
    ]
    return f" ({'; '.join(dict.fromkeys(parts))})" if parts else ""


class SourceClient:
    """Base of every source client. Subclasses give the auth headers; pages come through `pages()`."""

    source = "source"
    # The settings a refused credential (401, 403) is to be checked in, named in the error; never their values.
    credential_settings = ""
    # What every page of the source is: an object, or a list (GitLab's listings).
    page_shape: type = dict
    # The key under which every page lists its records, where the source always writes one (ServiceNow's result);
    # `listing_keys` says it per request where the endpoints differ.
    listed_under: str | None = None
    # Whether the source writes an empty list as null (ArgoCD's API does): then a null list is one of no records.
    null_list_is_empty = False

    def __init__(
        self,
        base_url: str,
        *,
        headers: Mapping[str, SecretStr | str] | None = None,
        auth: tuple[str, SecretStr] | None = None,
        timeout_s: float = 30.0,
        connect_timeout_s: float = 5.0,
        total_timeout_s: float = TOTAL_TIMEOUT_S,
        max_page_bytes: int = MAX_PAGE_BYTES,
        policy: RetryPolicy | None = None,
        budget: RequestBudget | None = None,
        clock: Clock | None = None,
        transport: httpx.BaseTransport | None = None,
        rng: random.Random | None = None,
        pool: httpx.Client | None = None,
    ) -> None:
        """`pool`: the connections of another client of the same source, URL and credentials, to share (live mode's,
        for the life of the API); it is left open when this client closes. The timeouts are this client's own."""
        self.base_url = base_url.rstrip("/")
        self.total_timeout_s = total_timeout_s
        self.max_page_bytes = max_page_bytes
        self.policy = policy or RetryPolicy()
        self.budget = budget or RequestBudget(100_000)
        self.clock = clock or SystemClock()
        self.counters = Counters()
        # Set when the source asked for a longer wait than a run waits: no request is sent to it until then.
        self._rate_limited: RateLimited | None = None
        # The unreadable answers to the request being sent, one per attempt (see send): a client sends one request
        # at a time (each run, and each live call, has clients of its own).
        self._unreadable: list[SetAside] = []
        self._rng = rng or random.Random()
        # What an answer may echo of the request (a proxy's error page, a wrong route to an echo service): it is
        # never kept in the rejects nor quoted in an error.
        self._secrets = _secret_forms(headers or {}, auth, self.base_url)
        self._echoes = _echo_pattern(self._secrets)
        self._echo_clues = _echo_clues(self._secrets)
        # The longest the client's credentials may be written in an answer: a page cut within one keeps none of it.
        self._cut_margin = LONGEST_WRITTEN_CHAR * max((len(secret) for secret in self._secrets), default=0)
        plain = {k: (v.get_secret_value() if isinstance(v, SecretStr) else v) for k, v in (headers or {}).items()}
        basic = httpx.BasicAuth(auth[0], auth[1].get_secret_value()) if auth else None
        self._owns_pool = pool is None
        # Given with each request: a client sharing another's connections keeps its own timeouts (live mode's calls
        # each have what is left of their page's budget).
        self._timeout = httpx.Timeout(timeout_s, connect=connect_timeout_s)
        self._http = pool or httpx.Client(
            base_url=self.base_url,
            headers={"Accept": "application/json", **plain},
            auth=basic,
            timeout=self._timeout,
            transport=transport or _AnswerTimeTransport(_environment_proxy(self.base_url)),
            follow_redirects=False,
        )

    @property
    def pool(self) -> httpx.Client:
        """This client's connections, which another client of the same source and settings may share."""
        return self._http

    def close(self) -> None:
        if self._owns_pool:
            self._http.close()

    def __enter__(self) -> SourceClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- one request, with retries ----------------------------------------------------------------------
    def send(self, request: PageRequest) -> ApiResponse:
        """Send with retries on 408/429/5xx/timeouts/connection errors/empty, non-JSON or wrongly shaped bodies;
        raise a clear error otherwise."""
        retrying = Retrying(
            stop=stop_after_attempt(self.policy.attempts),
            wait=self._wait,
            retry=retry_if_exception_type(Retriable),
            sleep=self.clock.sleep,
            before_sleep=self._count_retry,
            reraise=True,
        )
        self._unreadable = []
        made = 0
        try:
            for attempt in retrying:
                with attempt:
                    made += 1
                    response = self._attempt(request)
                    if self._unreadable:
                        # Read in the end: the page's records are all there, the retries count the attempts.
                        log.warning(
                            "page read after unreadable answers",
                            extra={"source": self.source, "page": self._where(request), "attempts": made},
                        )
                        self.counters.read_again += self._unreadable
                        self._unreadable = []
                    return response
        except Retriable as exc:
            raise SourceUnavailable(
                self.source, f"{exc.reason} on {self._where(request)}, still after {self.policy.attempts} attempts"
            ) from None
        finally:
            if self._unreadable:
                # The page was never read, whatever ended the tries: one reject for it, not one per attempt.
                self.counters.set_aside.append(_one_reject(self._unreadable, made))
                self._unreadable = []
        raise AssertionError("unreachable")  # pragma: no cover

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        return wait_for(error, state.attempt_number, self.policy, self._rng)

    def _count_retry(self, state: RetryCallState) -> None:
        self.counters.retries += 1

    def _attempt(self, request: PageRequest) -> ApiResponse:
        if "://" in request.url and _origin(request.url) != _origin(self.base_url):
            # A next link to another host (or from https to http) would carry the credentials there.
            raise SourceRefused(
                self.source, f"a page links to {_origin(request.url)}, not {_origin(self.base_url)}: not followed", 0
            )
        if self._rate_limited is not None and self.clock.now() < self._rate_limited.until:
            raise self._rate_limited
        self.budget.take(self.source)
        self.counters.requests += 1
        started = self.clock.now()
        answer_by, late = self._answer_by()
        waiting = _ANSWER_BY.set(answer_by)
        try:
            response = self._http.send(
                self._http.build_request(
                    request.method, request.url, params=request.params, json=request.json, timeout=self._timeout
                ),
                stream=True,
            )
            try:
                status = response.status_code
                # A refusal or a 3xx is not read: only the words of a 4xx are, for its error.
                content = self._read(request, response, started) if status < 300 or 400 <= status < 500 else b""
            finally:
                response.close()
        except httpx.TimeoutException as exc:
            raise Retriable(late if time.monotonic() >= answer_by else f"timeout ({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            raise Retriable(f"connection failed ({type(exc).__name__})") from None
        except httpx.DecodingError as exc:
            # A body whose Content-Encoding (gzip, deflate) does not decompress: a cut or garbled answer.
            reason = f"page could not be decompressed ({exc})"
            self._unreadable.append(SetAside(self._where(request), reason, ""))
            raise Retriable(reason) from None
        finally:
            _ANSWER_BY.reset(waiting)
        # A 408 (a proxy timing out one slow request) may be sent again as it was, as HTTP allows.
        if status in (408, 429) or status >= 500:
            if status == 429:
                self.counters.rate_limited += 1
            wait = server_wait_seconds(response.headers, self.clock.now()) if status in (429, 503) else None
            if wait is not None and wait > self.policy.max_server_wait_s:
                self._rate_limited = self._too_long_a_wait(request, status, wait)
                raise self._rate_limited
            raise Retriable(f"HTTP {status}", retry_after=wait, status=status)
        if 300 <= status < 400:
            # Redirects are not followed (they could carry the credentials elsewhere): a wrong URL, said once.
            raise SourceRefused(
                self.source, f"HTTP {status} on {self._where(request)}: redirected; check the source's URL", status
            )
        if status >= 400:
            # The source's words go into the error, the run record and the logs: a URL in them loses its password.
            words = _error_message(_json_or_none(self._unechoed(_text(response, content))))
            detail = text_without_credentials(words)[:400]
            check = (
                f"; check {self.credential_settings} and what its account may read"
                if status in (401, 403) and self.credential_settings
                else ""
            )
            raise SourceRefused(
                self.source,
                f"HTTP {status} on {self._where(request)}" + (f": {detail}" if detail else "") + check,
                status,
            )
        if not content:
            # Every page the sources answer is JSON, an empty list at least: an empty body (a 204 too) is a cut
            # answer, never the end of the records.
            reason = "page was empty" + (f" (HTTP {status})" if status != 200 else "")
            self._unreadable.append(SetAside(self._where(request), reason, ""))
            raise Retriable(reason)
        try:
            # A page echoing the request's credentials (an error quoting its Authorization header) loses them
            # here, before its records go to landing/, raw/ or the rejects.
            body = json.loads(self._unechoed(_text(response, content)) if self._echoed(content) else content)
        except ValueError as exc:
            self._set_aside(request, f"page was not valid JSON ({exc})", _text(response, content))
            raise Retriable("page was not valid JSON") from None
        except RecursionError:
            self._too_deep(request, _text(response, content))
        shape = self.shape_of(request)
        if not isinstance(body, shape):
            # The JSON of another answer than the API's (a proxy's, a gateway's): as good as unreadable.
            reason = f"page was a JSON {_JSON_KINDS.get(type(body), 'value')}, not {_SHAPES[shape]}"
            self._set_aside(request, reason, _text(response, content))
            raise Retriable(reason)
        keys = self.listing_keys(request, body)
        if keys and not self._lists_records(body, keys):
            # An error or another answer sent with a 200: reading it as no records would lose the page's.
            reason = f"page has no {'.'.join(keys)} list"
            self._set_aside(request, reason, _text(response, content))
            raise Retriable(reason)
        try:
            cleaned = self.redacted(_without_credentials(content, body))
        except RecursionError:
            self._too_deep(request, _text(response, content))
        return ApiResponse(status, response.headers, cleaned, request)

    def _answer_by(self) -> tuple[float, str]:
        """When the answer to a request sent now must have come whole (a time.monotonic instant): `total_timeout_s`
        from now, or the run's deadline when that comes sooner; and what a timeout then says."""
        seconds, late = self.total_timeout_s, f"timeout (the answer took over {self.total_timeout_s:g} s)"
        deadline = run_deadline()
        left = (deadline - datetime.now(UTC)).total_seconds() if deadline is not None else math.inf
        if left < seconds:
            seconds, late = left, "timeout (no answer by the run's deadline)"
        return time.monotonic() + seconds, late

    def _read(self, request: PageRequest, response: httpx.Response, started: float) -> bytes:
        """The answer's body, decompressed, as long as it stays within `max_page_bytes` and comes within
        `total_timeout_s` of the request."""
        # The length announced is the page's own only when it comes uncompressed: a gzip can be longer than its page.
        identity = response.headers.get("content-encoding", "identity").strip().lower() == "identity"
        declared = response.headers.get("content-length", "") if identity else ""
        if declared.isascii() and declared.isdigit() and int(declared) > self.max_page_bytes:
            self._too_large(request, f"{int(declared):,} bytes announced", b"")
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            chunks.append(chunk)
            size += len(chunk)
            if size > self.max_page_bytes:
                self._too_large(request, f"{size:,} bytes read so far", _head(chunks, MAX_TEXT_KEPT + self._cut_margin))
            if self.clock.now() - started > self.total_timeout_s:
                raise Retriable(f"timeout (the answer took over {self.total_timeout_s:g} s)")
        return b"".join(chunks)

    def _too_large(self, request: PageRequest, size: str, start: bytes) -> NoReturn:
        """A page over the limit is the same page when asked again: the read fails, its beginning kept aside."""
        reason = f"page was over {self.max_page_bytes / 2**20:g} MB ({size})"
        self._set_aside(request, reason, self._without_cut_credential(start.decode(errors="replace")))
        raise PageTooLarge(
            self.source,
            f"{reason} on {self._where(request)}, more than a run reads: raise ROSETTA_HTTP_MAX_PAGE_MB with the "
            "function's memory, or lower the source's page size where it has one",
        )

    def _without_cut_credential(self, head: str) -> str:
        """What the rejects keep of a page's beginning (read `_cut_margin` past MAX_TEXT_KEPT), without what a
        credential cut at its end leaves: whole, one of the client's own or a URL's user and password is found and
        taken out; cut, not. So the credentials are taken out of the whole beginning, which is then cut at
        MAX_TEXT_KEPT or the margin before its end, past any part of the client's own; and a URL whose user and
        password a cut leaves without their @ loses what follows its scheme."""
        whole = text_without_credentials(self._unechoed(head))
        kept = whole[: max(0, min(MAX_TEXT_KEPT, len(whole) - self._cut_margin))]
        return _CUT_USERINFO.sub(lambda found: found["slashes"], kept)

    def _too_deep(self, request: PageRequest, text: str) -> NoReturn:
        """A page nested deeper than the parser or the credential walk goes is unreadable, as one that is not JSON:
        asked again, then set aside, rather than a RecursionError stopping the run."""
        self._set_aside(request, TOO_DEEP, text)
        raise Retriable(TOO_DEEP)

    def _too_long_a_wait(self, request: PageRequest, status: int, wait: float) -> RateLimited:
        """Retrying sooner than the server asked is refused again, and waiting longer than a run can afford would
        hold every other source's run: the source stops here, saying what wait it asked for."""
        what = "rate limit" if status == 429 else f"HTTP {status}"
        return RateLimited(
            self.source,
            f"{what} on {self._where(request)}: retry after {math.ceil(wait)} s, longer than a run waits "
            f"({self.policy.max_server_wait_s:g} s, ROSETTA_HTTP_MAX_SERVER_WAIT_S); the next run reads the window "
            "again",
            self.clock.now() + wait,
        )

    def _lists_records(self, body: Any, keys: tuple[str, ...]) -> bool:
        holder = _dig(body, keys[:-1])
        if not isinstance(holder, dict) or keys[-1] not in holder:
            return False
        listed = holder[keys[-1]]
        return isinstance(listed, list) or (listed is None and self.null_list_is_empty)

    def _set_aside(self, request: PageRequest, reason: str, text: str) -> None:
        """Keep an unreadable answer to the request being sent; send makes the page's reject of them."""
        self._unreadable.append(SetAside(self._where(request), reason, self.kept_text(self._unechoed(text))))

    def _echoed(self, content: bytes) -> bool:
        """Whether a page holds one of the client's credentials (any of its forms, see _secret_forms), as it is or
        escaped (see _written)."""
        if any(secret.encode() in content for secret in self._secrets):
            return True
        if self._echoes is None or not any(mark.encode() in content for mark in _ESCAPE_MARKS):
            return False
        # JSON, URL and HTML writers escape punctuation, not ASCII letters and digits: a page holding no long
        # alphanumeric run of any credential cannot hold it escaped, and is not searched (the search costs twice the
        # page's parse).
        if self._echo_clues is not None and not any(clue in content for clue in self._echo_clues):
            return False
        return self._echoes.search(content.decode(errors="replace")) is not None

    def _unechoed(self, text: str) -> str:
        """`text` with the client's own credentials, where the answer echoes them, replaced by REDACTED."""
        if self._echoes and any(mark in text for mark in _ESCAPE_MARKS):
            return self._echoes.sub(REDACTED, text)
        # Nothing escaped: plain replacing is the same, and much faster on a large page.
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text

    def kept_text(self, text: str) -> str:
        """What the rejects keep of a page set aside: its text without the credentials of its URLs, cut at
        MAX_TEXT_KEPT (after: a URL cut before its @ would keep its password)."""
        return text_without_credentials(text)[:MAX_TEXT_KEPT]

    def redacted(self, body: Any) -> Any:
        """The answer without what a source's records may hold that the project keeps nowhere (ArgoCD's tools'
        values): taken out here, where an answer too deep to walk is set aside as unreadable."""
        return body

    def shape_of(self, request: PageRequest) -> type:
        """What the answer to `request` is: the source's page shape, unless one endpoint answers otherwise."""
        return self.page_shape

    def listing_keys(self, request: PageRequest, body: Any) -> tuple[str, ...]:
        """The keys down to the list of records the answer to `request` always holds; () when none is checked."""
        return (self.listed_under,) if self.listed_under else ()

    def _where(self, request: PageRequest) -> str:
        # Path only: query strings can be long and are not needed to act on the error.
        path = urlsplit(request.url).path if "://" in request.url else request.url
        return f"{request.method} {path}"

    # --- pages ------------------------------------------------------------------------------------------
    def pages(self, first: PageRequest, paginator: Paginator) -> Iterator[ApiResponse]:
        """Follow a paginator from its first request; each yielded response is one page."""
        request: PageRequest | None = paginator.start(first)
        while request is not None:
            response = self.send(request)
            self.counters.pages += 1
            yield response
            request = paginator.next_request(response)


class _AnswerTimeStream(httpcore.NetworkStream):
    """A connection whose every wait (connecting, sending, each read of the status line, the headers and the body)
    ends by the answer's time (_ANSWER_BY): the timeouts httpx gives are per wait, and a source answering a byte
    now and then held one request for as long as it liked."""

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _time_left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _time_left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None) -> Any:
        tls = self._stream.start_tls(ssl_context, server_hostname, _time_left(timeout, httpcore.ConnectTimeout))
        return _AnswerTimeStream(tls)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _AnswerTimeBackend(httpcore.NetworkBackend):
    """httpcore's own sockets, as _AnswerTimeStream."""

    def __init__(self) -> None:
        self._backend = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        left = _time_left(timeout, httpcore.ConnectTimeout)
        return _AnswerTimeStream(self._backend.connect_tcp(host, port, left, local_address, socket_options))

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        left = _time_left(timeout, httpcore.ConnectTimeout)
        return _AnswerTimeStream(self._backend.connect_unix_socket(path, left, socket_options))

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


class _AnswerTimeTransport(httpx.HTTPTransport):
    """httpx's transport, through `proxy` when one is given, with its connections made by _AnswerTimeBackend (httpx
    takes no network backend itself)."""

    def __init__(self, proxy: str | None) -> None:
        super().__init__(proxy=proxy)
        self._pool._network_backend = _AnswerTimeBackend()


def answer_time_transport(base_url: str) -> httpx.HTTPTransport:
    """The transport of a plain client (live mode's probes): its requests sent under `calls_answered_by` end by
    then."""
    return _AnswerTimeTransport(_environment_proxy(base_url))


@contextmanager
def calls_answered_by(instant: float) -> Iterator[None]:
    """Every wait of the requests this thread sends in the block, on an `answer_time_transport`, ends by `instant`
    (time.monotonic)."""
    token = _ANSWER_BY.set(instant)
    try:
        yield
    finally:
        _ANSWER_BY.reset(token)


def _environment_proxy(base_url: str) -> str | None:
    """The proxy the environment names for the source's URL (HTTPS_PROXY, HTTP_PROXY or ALL_PROXY, unless NO_PROXY
    names its host), which httpx would have taken itself had the client not been given a transport. A client asks
    one origin only (a page linking elsewhere is not followed), so one proxy serves all its requests."""
    parts = urlsplit(base_url)
    proxies = urllib.request.getproxies()
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    if not proxy or urllib.request.proxy_bypass(parts.hostname or ""):
        return None
    return proxy


def _time_left(timeout: float | None, late: type[Exception]) -> float | None:
    """The wait httpx asks for, cut to what is left of the answer's time; `late` raised when none is."""
    answer_by = _ANSWER_BY.get()
    if answer_by is None:
        return timeout
    left = answer_by - time.monotonic()
    if left <= 0:
        raise late("the answer's time is up")
    return left if timeout is None else min(timeout, left)


class Paginator(Protocol):
    """A small state machine: shape the first request, then read each response and shape the next."""

    def start(self, first: PageRequest) -> PageRequest: ...

    def next_request(self, response: ApiResponse) -> PageRequest | None: ...


def _one_reject(unreadable: list[SetAside], attempts: int) -> SetAside:
    """The reject of a page never read: the last unreadable answer that had a body (what the source answers now; a
    body cut at another place each time would otherwise be kept once per attempt), the reason saying on how many of
    the attempts the answer was unreadable and any other way it was."""
    kept = next((a for a in reversed(unreadable) if a.text), unreadable[-1])
    if attempts == 1:
        return kept
    share = f"all {attempts}" if len(unreadable) == attempts else f"{len(unreadable)} of {attempts}"
    kinds = dict.fromkeys(a.reason.split(" (")[0] for a in unreadable)
    kinds.pop(kept.reason.split(" (")[0], None)
    others = f"; also {', '.join(kinds)}" if kinds else ""
    return SetAside(kept.url, f"{kept.reason}, on {share} attempts{others}", kept.text, kept.dataset)


def _dig(body: Any, keys: tuple[str, ...]) -> Any:
    """body[k1][k2]..., or None where a level is missing or not an object."""
    for key in keys:
        if not isinstance(body, dict):
            return None
        body = body.get(key)
    return body


def _secret_forms(
    headers: Mapping[str, SecretStr | str], auth: tuple[str, SecretStr] | None, base_url: str = ""
) -> tuple[str, ...]:
    """The client's credentials as an answer echoing its request would write them: each secret header's value and
    its last word (the token of "Bearer <token>"), the basic auth password and its header's base64, and those of a
    user and password written into the base URL (a GitLab behind a proxy's basic auth), which httpx sends as a Basic
    Authorization header where the client has no auth of its own. Longest first (a value before the token inside
    it); none from a credential shorter than MIN_SECRET, which would mask ordinary words. An answer writing one
    escaped (URL-encoded, HTML-escaped, JSON-escaped) is found by _echo_pattern."""
    forms: set[str] = set()
    for value in headers.values():
        if isinstance(value, SecretStr):
            secret = value.get_secret_value()
            forms |= {secret, secret.rsplit(" ", 1)[-1]}
    if auth:
        password = auth[1].get_secret_value()
        forms |= {password, base64.b64encode(f"{auth[0]}:{password}".encode()).decode()}
    written = urlsplit(base_url)
    if written.username or written.password:
        # httpx decodes them (%40 is @) before encoding the header.
        user, password = unquote(written.username or ""), unquote(written.password or "")
        forms |= {password, written.password or "", base64.b64encode(f"{user}:{password}".encode()).decode()}
    kept = {f for f in forms if len(f) >= MIN_SECRET}
    return tuple(sorted(kept, key=len, reverse=True))


def _echo_clues(forms: tuple[str, ...]) -> tuple[bytes, ...] | None:
    """The longest run of letters and digits of each credential, which an escaped echo still holds as it is; None
    when a credential has no run long enough to tell a page apart (every page with an escape is then searched)."""
    runs = [max(re.findall(r"[A-Za-z0-9]+", form) or [""], key=len) for form in forms]
    if not runs or any(len(run) < MIN_CLUE for run in runs):
        return None
    return tuple(run.encode() for run in runs)


def _echo_pattern(forms: tuple[str, ...]) -> re.Pattern[str] | None:
    """The credentials as an answer may write them: each character as _written says, each in its own way (a proxy
    page may write one & as &amp; and the next as &#38;), so that an escaped base64 or password is found too."""
    if not forms:
        return None
    return re.compile("|".join("".join(_written(c) for c in form) for form in forms))


def _written(char: str) -> str:
    """A pattern of `char` as an answer quoting the request may write it: as it is or JSON-escaped; URL-encoded (%XX
    for each of its UTF-8 bytes, + for a space); or HTML-escaped (the entity html.escape writes, &#NN; or &#xHH;).
    Hex digits in either case (some servers and proxies write %2f); the % & + of those also JSON-escaped (Go's and
    .NET's JSON writers write & as \\u0026, .NET's + as \\u002B). An ASCII letter or digit is as it is or JSON-escaped
    only: no URL or HTML writer escapes it (which _echo_clues relies on)."""
    if char.isascii() and char.isalnum():
        return _json_written(char)
    amp = _json_written("&")
    ways = [
        _json_written(char),
        "".join(_json_written("%") + _hex(byte, 2) for byte in char.encode()),
        # Leading zeros too: WordPress writes & as &#038;.
        f"{amp}#0*{ord(char)};",
        f"{amp}#[xX]0*{_hex(ord(char), 1)};",
    ]
    if char == " ":
        ways.append(_json_written("+"))
    named = html.escape(char)
    if named != char and not named.startswith("&#"):  # &#x27; for ' is one of the numeric entities above
        ways.append(amp + re.escape(named[1:]))
    return f"(?:{'|'.join(ways)})"


def _json_written(char: str) -> str:
    """A pattern of `char` as it is, as \\uXXXX (hex digits in either case), or as \\/, \\" and \\\\ for those three."""
    escapes = [re.escape(char), rf"\\u{_hex(ord(char), 4)}"] + ([r"\\" + re.escape(char)] if char in '/"\\' else [])
    return f"(?:{'|'.join(escapes)})"


def _hex(number: int, width: int) -> str:
    """A pattern of `number` in hex, at least `width` digits, each letter in either case."""
    return "".join(f"[{d.lower()}{d.upper()}]" if d.isalpha() else d for d in f"{number:0{width}x}")


def _without_credentials(content: bytes, body: Any) -> Any:
    """The page without the user and password of any URL in its text (an environment's external URL, an error
    message quoting a repository): every page goes to landing/, and its records to raw/ or the rejects. A page with
    no @ at all (most metric pages) is not walked."""
    if b"@" not in content and b"\\u0040" not in content:
        return body
    return payload_without_credentials(body)


def _head(chunks: list[bytes], size: int) -> bytes:
    """The first `size` bytes of the chunks, without joining them all."""
    head = bytearray()
    for chunk in chunks:
        if len(head) >= size:
            break
        head += chunk
    return bytes(head[:size])


def _text(response: httpx.Response, content: bytes) -> str:
    """The body read as text, as httpx would: only where it is quoted or cleaned (a page is parsed from its bytes)."""
    return content.decode(response.encoding or "utf-8", errors="replace")


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # a refusal's words past the parser are dropped, its status kept
        return None


PaginatorFactory = Callable[[], Paginator]


def _origin(url: str) -> str:
    """scheme://host[:port] of a URL, without its user and password."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme.lower()}://{(parts.hostname or '').lower()}{port}"
