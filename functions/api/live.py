"""Live calls to the sources: a short timeout, one attempt, a small TTL cache; failures are returned, not raised."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import quote, urlsplit

import httpx
from pydantic import AfterValidator, BaseModel, BeforeValidator, SecretStr

from functions.api.settings import ApiSettings
from functions.ingest_deploys.client import ArgoCDClient, GitLabClient
from functions.ingest_deploys.parse import revision_of
from lakehouse.ingest.client import PageRequest, RetryPolicy, SourceClient, answer_time_transport, calls_answered_by
from lakehouse.ingest.config import IngestSettings
from lakehouse.ingest.errors import PageTooLarge, RateLimited, SourceError, SourceRefused
from lakehouse.text import valid_text

C = TypeVar("C", bound=SourceClient)
# A failure is remembered for less time than a success, so a recovered source is seen again quickly.
FAILURE_TTL_CAP_S = 10.0
# Live calls one page makes at once, on threads of its own; more wait for a free one of them, and one not started
# when the page's timeout is up is not made: a page waits one timeout whatever its number of components.
SIDE_BY_SIDE = 32
# Why a source is not asked once the app has stopped: its connections are closed, and new ones would stay open.
STOPPING = "not asked: the API is stopping"
# The largest answer a live call reads. The API function has 2048 MB, 60% of it DuckDB's: a page's 32 calls at
# ingestion's 64 MB each could hold 2 GB. An ArgoCD application is some 20 KB (the fixture), a few hundred KB with
# thousands of resources, and GitLab's last pipeline under 1 KB; 32 calls x 2 MB = 64 MB at most.
LIVE_MAX_ANSWER_BYTES = 2 * 2**20
# The longest a source's Retry-After keeps live mode from asking it: a wait of hours would leave the page stale
# long after the source recovered (a new instance asks at once anyway).
LONGEST_WAIT_S = 600.0
# The setting holding the credential each live source is asked with, named when the source refuses it.
CREDENTIAL = {"argocd": "ROSETTA_ARGOCD_TOKEN", "gitlab": "ROSETTA_GITLAB_TOKEN"}


class ApplicationRefused(SourceRefused):
    """ArgoCD's 403 for one application: since 2.6.7 it answers so both for an application the token may not read and
    for one that does not exist (renamed or deleted while the mapping still names it), not to tell which exist."""

    def __init__(self, refused: SourceRefused, name: str) -> None:
        self.name = name
        super().__init__(refused.source, f"HTTP {refused.status} for application {name}", refused.status)

    def reason(self, setting: str) -> str:
        return (
            f"application {self.name} refused (HTTP {self.status}): ArgoCD answers so for an application that does "
            f"not exist as for one the token may not read; check the mapping's ArgoCD application and {setting}"
        )


def _in_utc(moment: datetime) -> datetime:
    """An instant as the API gives every one, in UTC: a GitLab instance whose time zone is set writes its times with
    that offset (11:30+02:00 is 09:30Z); one without an offset is read as UTC. One UTC cannot hold (year 9999 west of
    Greenwich) is an answer not read, as ingestion rejects it, not the page's failure."""
    if not moment.tzinfo:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{moment.isoformat()} is outside the dates UTC can hold") from None


# An instant's text starts with its date: digits alone ("12345") are a number written as text.
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _written_as_text(value: Any) -> Any:
    """The sources write their times as RFC 3339 text, and ingestion rejects any other (parse_instant): a number is
    not read as seconds since 1970, which would show a pipeline of 1970 as live."""
    if value is not None and not isinstance(value, str):
        raise ValueError(f"expected an ISO 8601 string, got {type(value).__name__}")
    if isinstance(value, str) and not ISO_DATE.match(value):
        raise ValueError(f"expected an ISO 8601 string, got {value[:40]!r}")
    return value


Instant = Annotated[datetime, BeforeValidator(_written_as_text), AfterValidator(_in_utc)]


class ArgoCDStatus(BaseModel):
    """What live mode reads of an ArgoCD application, its types checked where it is fetched: a value of another type
    is the source's failure (the page falls back to history), not the page's."""

    sync_status: str | None
    health_status: str | None
    revision: str | None
    last_deployed_at: Instant | None
    operation_phase: str | None


class GitLabPipeline(BaseModel):
    """What live mode reads of a GitLab pipeline, its types checked as ArgoCDStatus's."""

    status: str | None = None
    ref: str | None = None
    updated_at: Instant | None = None
    created_at: Instant | None = None
    web_url: str | None = None


@dataclass(frozen=True)
class LiveResult:
    value: Any
    error: str | None
    fetched_at: datetime


@dataclass(frozen=True)
class Answered:
    """A live call's value and when it came: a page awaiting a slower source does not make this one's answer newer."""

    value: Any
    at: datetime


class OutOfTime(Exception):
    """A call whose page's live budget was spent before a thread was free to make it."""


@dataclass(frozen=True)
class DataView:
    """The Kibana data view a logs link opens, how it was found, and why not in Kibana when it was not."""

    id: str
    found_by: Literal["configured", "kibana", "index pattern"]
    reason: str | None = None


@dataclass(frozen=True)
class Ask:
    """One live call to a source, under the key its result is cached by; or its result known without calling (the
    source is not configured). The call is given the seconds left of its page's live budget."""

    key: str
    call: Callable[[float], Any] | None = None
    known: LiveResult | None = None


class TtlCache:
    def __init__(self, ttl_s: float, max_items: int = 2048) -> None:
        self.ttl_s = ttl_s
        self.max_items = max_items
        self._items: dict[str, tuple[float, LiveResult]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> LiveResult | None:
        with self._lock:
            found = self._items.get(key)
            if found is None or found[0] < time.monotonic():
                return None
            return found[1]

    def put(self, key: str, result: LiveResult) -> None:
        ttl = self.ttl_s if result.error is None else min(self.ttl_s, FAILURE_TTL_CAP_S)
        with self._lock:
            if len(self._items) >= self.max_items:
                now = time.monotonic()
                self._items = {k: v for k, v in self._items.items() if v[0] >= now}
                if len(self._items) >= self.max_items:
                    self._items.clear()
            self._items[key] = (time.monotonic() + ttl, result)


class LiveSources:
    """ArgoCD, GitLab and Kibana on the fly, and a reachability probe for every source."""

    def __init__(self, api: ApiSettings, sources: IngestSettings) -> None:
        self.api = api
        self.sources = sources
        self.cache = TtlCache(api.live_cache_ttl_s)
        # One client per source for the life of the API: building one loads the TLS certificates, some 75 ms of CPU,
        # most of a live page's. httpx's clients are thread-safe; each call's source client keeps its own state.
        self._pools: dict[str, SourceClient] = {}
        self._plain: dict[str, httpx.Client] = {}
        self._pools_lock = threading.Lock()
        # The calls under way, by key: a page asking what another page is already asking waits for that call, so
        # many pages opened at once during an outage make one call to the dead source, not one each.
        self._asking: dict[str, Future[Any]] = {}
        self._asking_lock = threading.Lock()
        # Open from the start: on Lambda the app has no lifespan, so nothing would open it.
        self._closed = False
        # The sources that asked to be left alone (a 429 or 503 with Retry-After), until when (epoch seconds): every
        # application or project of theirs is left unasked till then, not asked again each time a cached failure ends.
        self._waiting: dict[str, float] = {}

    def open(self) -> None:
        """Let live calls open connections again (when the same app starts again), asking every source anew."""
        with self._pools_lock:
            self._closed = False
        self.cache = TtlCache(self.api.live_cache_ttl_s)
        self._waiting.clear()

    def close(self) -> None:
        """Close the connections kept to the sources (when the API stops); a live call after it is the source's
        failure, answered from history, rather than a connection nothing would close."""
        with self._pools_lock:
            self._closed = True
            for client in self._pools.values():
                client.close()
            for plain in self._plain.values():
                plain.close()
            self._pools.clear()
            self._plain.clear()

    def _client(self, source: str, make: Callable[..., C]) -> C:
        """A client of `source` for one call, on the connections the source's first client opened."""
        with self._pools_lock:
            if self._closed:
                raise SourceError(source, STOPPING)
            first = self._pools.get(source)
            if first is None:
                first = self._pools[source] = make()
        return make(pool=first.pool)

    def _http(self, name: str, url: str) -> httpx.Client:
        """The client of the plain calls to `name` at `url` (probes, Kibana's data views), kept as the sources' are.
        A call sent under `calls_answered_by` ends by then: httpx's timeouts are per wait, and a source answering its
        headers a piece at a time held a call past its page's live budget."""
        with self._pools_lock:
            if self._closed:
                raise SourceError(name, STOPPING)
            client = self._plain.get(name)
            if client is None:
                transport = answer_time_transport(url)
                client = self._plain[name] = httpx.Client(timeout=self.api.live_timeout_s, transport=transport)
            return client

    # --- generic ----------------------------------------------------------------------------------
    def side_by_side(self, asks: list[Ask]) -> list[LiveResult]:
        """The results of live calls, in their order, those not cached made side by side: one after the other, a
        source that hangs would cost each call its timeout, and a page of a few components would outlast the API
        gateway's 29 s. The calls run on threads of this page's own, never on a pool other pages share: there a page's
        calls would queue behind the others' (a hanging source holding each thread its whole timeout), and under load
        a source answering at once would be "no answer". They are awaited together for the live timeout and half a
        second more; one still running then is left to end on its own timeout, unawaited. A call another page has under
        way is not made again: its result is awaited."""
        results: dict[int, LiveResult] = {}
        pending: list[tuple[int, str, Callable[[float], Any]]] = []
        for i, ask in enumerate(asks):
            found = ask.known or self.cache.get(ask.key)
            if found is not None:
                results[i] = found
            elif ask.call is not None:
                pending.append((i, ask.key, ask.call))
        if pending:
            deadline = time.monotonic() + self.api.live_timeout_s
            pool = ThreadPoolExecutor(max_workers=min(len(pending), SIDE_BY_SIDE), thread_name_prefix="live")
            try:
                futures = {i: self._asked(pool, key, partial(_answered, call, deadline)) for i, key, call in pending}
                wait(futures.values(), timeout=self.api.live_timeout_s + 0.5)
            finally:
                # Calls not started yet are dropped; those running end on their own timeouts, awaited by nobody.
                pool.shutdown(wait=False, cancel_futures=True)
            for i, key, _ in pending:
                results[i] = self._result(futures[i])
                self.cache.put(key, results[i])
        return [results[i] for i in range(len(asks))]

    def _asked(self, pool: ThreadPoolExecutor, key: str, call: Callable[[], Answered]) -> Future[Answered]:
        """The call under way for `key`, else `call` started on `pool`."""
        with self._asking_lock:
            found = self._asking.get(key)
            if found is not None and not found.done():
                return found
            future = self._asking[key] = pool.submit(call)
        future.add_done_callback(partial(self._asked_done, key))
        return future

    def _asked_done(self, key: str, future: Future[Answered]) -> None:
        with self._asking_lock:
            if self._asking.get(key) is future:
                del self._asking[key]

    def _result(self, future: Future[Answered]) -> LiveResult:
        """A call's value stamped when it came, or its failure as one line."""
        out_of_time = f"no answer within {self.api.live_timeout_s:g} s"
        if future.cancelled() or not future.done():
            return LiveResult(None, out_of_time, _now())
        try:
            answered = future.result()
            return LiveResult(answered.value, None, answered.at)
        except OutOfTime:
            return LiveResult(None, out_of_time, _now())
        except SourceRefused as exc:
            if exc.status not in (401, 403):
                return LiveResult(None, str(exc).removeprefix(f"{exc.source}: "), _now())
            # The source's words are left out: an error page may quote the credential in a form not recognised.
            setting = CREDENTIAL.get(exc.source, "its credential")
            if isinstance(exc, ApplicationRefused):
                return LiveResult(None, exc.reason(setting), _now())
            return LiveResult(None, f"the credential was refused (HTTP {exc.status}); check {setting}", _now())
        except RateLimited as exc:
            until = min(exc.until, time.time() + LONGEST_WAIT_S)
            self._waiting[exc.source] = until
            return LiveResult(None, _wait_reason(until), _now())
        except PageTooLarge:
            reason = f"an answer over {LIVE_MAX_ANSWER_BYTES / 2**20:g} MB, more than live mode reads"
            return LiveResult(None, reason, _now())
        except SourceError as exc:
            # The caller names the source: its error says what went wrong.
            return LiveResult(None, str(exc).removeprefix(f"{exc.source}: "), _now())
        except httpx.TimeoutException:
            # A plain call (a probe, Kibana's data views) times out when its page's live budget is spent.
            return LiveResult(None, out_of_time, _now())
        except httpx.TransportError as exc:
            # Refused or cut off: nothing was answered.
            return LiveResult(None, f"no answer ({type(exc).__name__})", _now())
        except (httpx.HTTPError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError) as exc:
            # An answer of another shape than read (a list for an object, a string for a status, JSON nested deeper
            # than the parser goes): the source has not given what the page needs, as if it were down. A
            # ValidationError is a ValueError.
            return LiveResult(None, f"{type(exc).__name__}: unexpected answer", _now())

    def _options(self, left_s: float) -> dict[str, Any]:
        """A call's client options: what is left of its page's live budget bounds its connect (a source slow to accept
        may take all of it, as the page waits that long anyway), each read, and the whole answer (a source sending a
        byte now and then would hold a call's thread and connection for minutes after its page had answered)."""
        return {
            "timeout_s": left_s,
            "connect_timeout_s": left_s,
            "total_timeout_s": left_s,
            "max_page_bytes": LIVE_MAX_ANSWER_BYTES,
            # Any wait a source asks for is a RateLimited failure, remembered for the source (self._waiting).
            "policy": RetryPolicy(attempts=1, max_server_wait_s=0),
        }

    def _waited_for(self, source: str, key: str) -> Ask | None:
        """The failure of a call to `source` while it asked to be left alone, made without calling it."""
        until = self._waiting.get(source)
        if until is None or until <= time.time():
            return None
        return _known(key, _wait_reason(until))

    # --- ArgoCD and GitLab ------------------------------------------------------------------------
    def can_ask(self, source: str) -> bool:
        """Whether the API holds the URL and the credential live calls to `source` (argocd, gitlab) need."""
        return bool(getattr(self.sources, f"{source}_url", None) and getattr(self.sources, f"{source}_token", None))

    def argocd_app(self, name: str, namespace: str | None = None) -> LiveResult:
        return self.side_by_side([self.ask_argocd_app(name, namespace)])[0]

    def ask_argocd_app(self, name: str, namespace: str | None = None) -> Ask:
        """The application `name` of `namespace`; without one, ArgoCD reads the name in its own namespace."""
        key = f"argocd:{namespace or ''}/{name}"
        url, token = self.sources.argocd_url, self.sources.argocd_token
        if not url or not token:
            return _known(key, "ArgoCD is not configured (ROSETTA_ARGOCD_URL/ROSETTA_ARGOCD_TOKEN)")
        if waited := self._waited_for("argocd", key):
            return waited
        params = {"appNamespace": namespace} if namespace else {}

        def call(left_s: float) -> dict[str, Any]:
            with self._client("argocd", partial(ArgoCDClient, url, token, **self._options(left_s))) as client:
                try:
                    body = client.send(PageRequest(f"/api/v1/applications/{name}", params)).body
                except SourceRefused as exc:
                    if exc.status != 403:
                        raise
                    raise ApplicationRefused(exc, name) from exc
            _check_same_application(body, name, namespace)
            # The checked values, typed: an instant read as text is a datetime from here on.
            # Half a character (a lone surrogate, which no answer can hold) is a broken character, not a 500.
            return ArgoCDStatus.model_validate(valid_text(_argocd_status(body))).model_dump()

        return Ask(key, call)

    def ask_gitlab_last_pipeline(self, project: int | str) -> Ask:
        """The last pipeline of a project given by its id or its path with namespace (sent URL-encoded, as GitLab
        takes a path in place of the id)."""
        key = f"gitlab:{project}"
        url, token = self.sources.gitlab_url, self.sources.gitlab_token
        if not url or not token:
            return _known(key, "GitLab is not configured (ROSETTA_GITLAB_URL/ROSETTA_GITLAB_TOKEN)")
        if waited := self._waited_for("gitlab", key):
            return waited

        def call(left_s: float) -> dict[str, Any] | None:
            params = {"per_page": 1, "order_by": "id", "sort": "desc"}
            with self._client("gitlab", partial(GitLabClient, url, token, **self._options(left_s))) as client:
                encoded = quote(str(project), safe="")
                body = client.send(PageRequest(f"/api/v4/projects/{encoded}/pipelines", params)).body
            pipeline = body[0] if isinstance(body, list) and body else None
            if pipeline is None:
                return None
            _check_same_project(pipeline, project)
            return GitLabPipeline.model_validate(valid_text(pipeline)).model_dump()

        return Ask(key, call)

    # --- Kibana data views ------------------------------------------------------------------------
    def data_view(self, index_pattern: str) -> DataView:
        """The configured id, else Kibana's own list (cached), else the pattern itself (an id equal to its title),
        saying why: a link opening the pattern finds its lines only if Kibana has a data view of that id."""
        if index_pattern in self.api.kibana_data_views:
            return DataView(self.api.kibana_data_views[index_pattern], "configured")
        if not self.api.kibana_url:
            return DataView(index_pattern, "index pattern", "no Kibana URL is configured (ROSETTA_API_KIBANA_URL)")
        views = self.side_by_side([Ask("kibana:data_views", self._kibana_views)])[0]
        if views.error is not None:
            return DataView(index_pattern, "index pattern", f"Kibana's data views could not be read: {views.error}")
        if isinstance(views.value, dict) and index_pattern in views.value:
            return DataView(str(views.value[index_pattern]), "kibana")
        space = self.api.kibana_space or "default"
        reason = f"Kibana lists no data view titled {index_pattern} in space {space}"
        return DataView(index_pattern, "index pattern", reason)

    def _kibana_views(self, left_s: float) -> dict[str, str]:
        assert self.api.kibana_url
        deadline = time.monotonic() + left_s
        headers = {"kbn-xsrf": "true"}
        if self.sources.elasticsearch_api_key:
            headers["Authorization"] = f"ApiKey {self.sources.elasticsearch_api_key.get_secret_value()}"
        auth = None
        if self.sources.elasticsearch_user and self.sources.elasticsearch_password:
            auth = (self.sources.elasticsearch_user, self.sources.elasticsearch_password.get_secret_value())
        # Data views belong to a space: the default space's list does not hold those of the space the links open in.
        space = self.api.kibana_space
        prefix = f"/s/{quote(space, safe='')}" if space and space != "default" else ""
        url = f"{self.api.kibana_url.rstrip('/')}{prefix}/api/data_views"
        client = self._http("kibana", url)  # built by the first call (some 75 ms): out of the same budget
        with (
            calls_answered_by(deadline),
            client.stream("GET", url, headers=headers, auth=auth, timeout=_left_of(deadline)) as response,
        ):
            response.raise_for_status()
            body = json.loads(self._capped_body("kibana", response))
        views = body.get("data_view") if isinstance(body, dict) else None
        if not isinstance(views, list):
            # Read as an unreachable Kibana: the link opens the index pattern itself.
            raise ValueError("Kibana's data views answer is not {data_view: [...]}")
        return {str(v["title"]): str(v["id"]) for v in views if isinstance(v, dict) and "title" in v and "id" in v}

    # --- reachability ---------------------------------------------------------------------------
    def ask_probe(self, source: str) -> Ask:
        """Any HTTP answer means reachable. The credentials are accepted by a success in JSON, which every probed API
        answers; refused by 401/403, a redirect (a single sign-on proxy sends a request it does not take to its login
        page: not followed, as ingestion follows none) or a success that is not JSON (that proxy serving its login
        page itself); unknown after any other answer (a 5xx, a 429: the source could not say)."""
        key = f"probe:{source}"
        target = self._probe_target(source)
        if target is None:
            return _known(key, "not configured")
        url, path, headers, auth = target

        def call(left_s: float) -> dict[str, Any]:
            deadline = time.monotonic() + left_s
            client = self._http(source, url)  # built by the first call (some 75 ms): out of the same budget
            # The status and the headers say all a probe needs: its body is never read (a login page or an error
            # page may be of any size, or never end).
            target = url.rstrip("/") + path
            with (
                calls_answered_by(deadline),
                client.stream("GET", target, headers=headers, auth=auth, timeout=_left_of(deadline)) as response,
            ):
                pass
            login_page = response.is_success and "json" not in response.headers.get("content-type", "").lower()
            if response.status_code in (401, 403) or response.is_redirect or login_page:
                return {"status": response.status_code, "authenticated": False}
            return {"status": response.status_code, "authenticated": True if response.is_success else None}

        return Ask(key, call)

    def _capped_body(self, name: str, response: httpx.Response) -> bytes:
        """The answer's body as live calls read theirs: up to LIVE_MAX_ANSWER_BYTES (each read ends by the page's live
        deadline: see _http)."""
        body = bytearray()
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > LIVE_MAX_ANSWER_BYTES:
                raise PageTooLarge(name, f"over {LIVE_MAX_ANSWER_BYTES:,} bytes")
        return bytes(body)

    def can_probe(self, source: str) -> bool:
        """Whether the API holds what a probe of the source needs: its URL and its credentials."""
        return self._probe_target(source) is not None

    def _probe_target(self, source: str) -> tuple[str, str, dict[str, str], tuple[str, str] | None] | None:
        s = self.sources
        if source == "dynatrace" and s.dynatrace_url and s.dynatrace_token:
            return s.dynatrace_url, "/api/v2/problems?pageSize=1", _bearer("Api-Token", s.dynatrace_token), None
        if source == "servicenow" and s.servicenow_url and s.servicenow_user and s.servicenow_password:
            auth = (s.servicenow_user, s.servicenow_password.get_secret_value())
            # Versioned: on an instance whose default is v1, an empty incident table answers 404.
            return s.servicenow_url, "/api/now/v2/table/incident?sysparm_limit=1", {}, auth
        if source == "argocd" and s.argocd_url and s.argocd_token:
            return s.argocd_url, "/api/v1/applications?name=rosetta-probe", _bearer("Bearer", s.argocd_token), None
        if source == "gitlab" and s.gitlab_url and s.gitlab_token:
            return (
                s.gitlab_url,
                "/api/v4/projects?per_page=1",
                {"PRIVATE-TOKEN": s.gitlab_token.get_secret_value()},
                None,
            )
        if source == "elasticsearch" and s.elasticsearch_url:
            # Any credential may ask who it is; the root needs the monitor privilege, which a key reading logs lacks.
            path = "/_security/_authenticate"
            if s.elasticsearch_api_key:
                return s.elasticsearch_url, path, _bearer("ApiKey", s.elasticsearch_api_key), None
            if s.elasticsearch_user and s.elasticsearch_password:
                return (
                    s.elasticsearch_url,
                    path,
                    {},
                    (s.elasticsearch_user, s.elasticsearch_password.get_secret_value()),
                )
        return None


def configured(sources: IngestSettings, source: str) -> tuple[bool, str | None]:
    url = getattr(sources, f"{source}_url", None)
    return bool(url), url


def _bearer(scheme: str, token: SecretStr) -> dict[str, str]:
    return {"Authorization": f"{scheme} {token.get_secret_value()}"}


def _now() -> datetime:
    return datetime.now(UTC)


def _answered(call: Callable[[float], Any], deadline: float) -> Answered:
    """`call` made with what is left of its page's live budget (to `deadline`, monotonic), and when its answer came."""
    return Answered(call(_left_of(deadline)), _now())


def _left_of(deadline: float) -> float:
    """The seconds left before `deadline` (time.monotonic); OutOfTime once none are."""
    left_s = deadline - time.monotonic()
    if left_s <= 0:
        raise OutOfTime
    return left_s


def _known(key: str, error: str) -> Ask:
    return Ask(key, known=LiveResult(None, error, _now()))


def _wait_reason(until: float) -> str:
    at = datetime.fromtimestamp(until, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"asked not to be called before {at} (its Retry-After or rate-limit reset): not asked till then"


def _check_same_application(body: Any, name: str, namespace: str | None) -> None:
    """An answer naming another application (a proxy or cache in front of ArgoCD answering the wrong request) is
    ArgoCD's failure: its status shown as this application's would be another's, shown live."""
    metadata = body.get("metadata") if isinstance(body, dict) else None
    if not isinstance(metadata, dict):
        return
    found_name, found_namespace = metadata.get("name"), metadata.get("namespace")
    if found_name not in (None, name) or (namespace and found_namespace not in (None, namespace)):
        # Written as ArgoCD's UI writes them: namespace/name.
        found = "/".join(str(part) for part in (found_namespace, found_name) if part)
        asked = f"{namespace}/{name}" if namespace else name
        raise SourceError("argocd", f"answered for application {found}, not {asked}")


def _check_same_project(pipeline: Any, project: int | str) -> None:
    """A pipeline of another project is GitLab's failure, as _check_same_application's: compared by id when the
    project is asked for by its id, by the path its link holds when by its path."""
    if not isinstance(pipeline, dict):
        return
    found, link = pipeline.get("project_id"), pipeline.get("web_url")
    if str(project).isdigit():
        if found is not None and str(found) != str(project):
            raise SourceError("gitlab", f"answered a pipeline of project {found}, not {project}")
    elif isinstance(link, str) and f"/{str(project).lower()}/" not in urlsplit(link).path.lower():
        raise SourceError("gitlab", f"answered a pipeline at {urlsplit(link).path}, not of project {project}")


def _argocd_status(body: Any) -> dict[str, Any]:
    status = body.get("status") or {}
    history = status.get("history") or []
    last = history[-1] if history else {}
    operation = status.get("operationState") or {}
    sync = status.get("sync") or {}
    # The revision the application runs: synced, the one ArgoCD compares with (a commit that changed none of its
    # manifests included); out of sync or syncing, that one is not deployed yet (the sync status says so), and the
    # history's last, beside its time, is the one running; without a history (never synced), none is known to run.
    # A multi-source application lists one revision per source (`revisions`), as the history does.
    revision = revision_of(last)
    if sync.get("status") == "Synced":
        revision = revision_of(sync) or revision
    return {
        "sync_status": sync.get("status"),
        "health_status": (status.get("health") or {}).get("status"),
        "revision": revision or None,
        "last_deployed_at": last.get("deployedAt"),
        "operation_phase": operation.get("phase"),
    }
