"""Ingestion settings from ROSETTA_* variables; in AWS, secrets come from Secrets Manager or SSM via Powertools."""

from __future__ import annotations

import math
import re
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import SettingsConfigDict

from lakehouse.errors import RosettaError
from lakehouse.ingest.client import MAX_PAGE_BYTES, TOTAL_TIMEOUT_S, RequestBudget, RetryPolicy
from lakehouse.settings import EnvironmentSettings, base_url

# An AWS error code (ResourceNotFoundException): a word, never free text that could quote a request.
AWS_ERROR_CODE = re.compile(r"[A-Za-z][A-Za-z0-9_.]{0,99}")
# Each secret may come as a value, a Secrets Manager ARN/name (`*_SECRET_ARN`) or an SSM parameter (`*_PARAMETER`).
SECRET_FIELDS = (
    "dynatrace_token",
    "servicenow_password",
    "argocd_token",
    "gitlab_token",
    "elasticsearch_password",
    "elasticsearch_api_key",
)
# Tokens sent as they are in a request header (Authorization, PRIVATE-TOKEN), which httpx encodes as ASCII alone.
# Passwords go through Basic auth, which encodes them as UTF-8: any character of theirs can be sent.
HEADER_SECRETS = ("dynatrace_token", "argocd_token", "gitlab_token", "elasticsearch_api_key")
# An Elasticsearch field name as loggers write them (log.level, service.environment, @timestamp): it goes into the
# search and into Kibana's KQL, where anything else (a space, a quote, a colon) would change what is asked.
FIELD_NAME = re.compile(r"[A-Za-z0-9_@-]+(\.[A-Za-z0-9_@-]+)*")
DEFAULT_ENVIRONMENT_FIELD = "deployment.environment"
# Days a backfill fetches at once, at most: each is a client of the source of its own.
MAX_BACKFILL_CONCURRENCY = 16
# Longest span of the hours (and minutes) settings: ten years. Far longer ones reach before the year 1 (or past
# what a timedelta holds), and every run ended in an OverflowError traceback; long periods are for `backfill`.
MAX_HOURS = 10 * 8760
# Longest HTTP timeout, in seconds: a Lambda lives 15 minutes, and no answer is worth waiting an hour for.
MAX_TIMEOUT_S = 3600
# Largest page limit, in MB: a page costs about ten times its size while it is read, and a Lambda has 10 GB at most.
MAX_PAGE_MB = 1024
# Longest wait before a retry, in seconds: past a day, a later run would read the window anyway.
MAX_WAIT_S = 86_400


class IngestSettings(EnvironmentSettings):
    """Where the sources are, how to authenticate, and how patient to be with them."""

    model_config = SettingsConfigDict(env_prefix="ROSETTA_", extra="ignore")

    dynatrace_url: str | None = Field(default=None, description="e.g. https://abc123.live.dynatrace.com")
    dynatrace_token: SecretStr | None = None
    dynatrace_token_secret_arn: str | None = None
    dynatrace_token_parameter: str | None = None
    dynatrace_entities_enabled: bool = Field(
        default=False,
        description="Also keep the service entities each run lists (kept anyway when the mapping finds services by "
        "tag or management zone).",
    )

    servicenow_url: str | None = Field(default=None, description="e.g. https://acme.service-now.com")
    servicenow_user: str | None = None
    servicenow_password: SecretStr | None = None
    servicenow_password_secret_arn: str | None = None
    servicenow_password_parameter: str | None = None
    servicenow_overlap_minutes: int = Field(
        default=15, ge=0, le=MAX_HOURS * 60, description="Re-scan this much before the watermark."
    )
    servicenow_page_size: int = Field(default=1000, ge=1, le=10000)
    servicenow_cmdb_snapshot_hours: int = Field(
        default=24,
        ge=0,
        le=MAX_HOURS,
        description="Read every CI again when the last full read is older than this (0: only incremental). CIs "
        "that never change would otherwise never reach the lake.",
    )

    argocd_url: str | None = None
    argocd_token: SecretStr | None = None
    argocd_token_secret_arn: str | None = None
    argocd_token_parameter: str | None = None

    gitlab_url: str | None = None
    gitlab_token: SecretStr | None = None
    gitlab_token_secret_arn: str | None = None
    gitlab_token_parameter: str | None = None
    gitlab_per_page: int = Field(default=100, ge=1, le=100)

    elasticsearch_url: str | None = None
    elasticsearch_user: str | None = None
    elasticsearch_password: SecretStr | None = None
    elasticsearch_password_secret_arn: str | None = None
    elasticsearch_password_parameter: str | None = None
    elasticsearch_api_key: SecretStr | None = None
    elasticsearch_api_key_secret_arn: str | None = None
    elasticsearch_api_key_parameter: str | None = None
    elasticsearch_page_size: int = Field(default=1000, ge=1, le=10000)
    elasticsearch_environment_field: str = Field(
        default=DEFAULT_ENVIRONMENT_FIELD,
        description="The field of a log line that names its environment: deployment.environment (the "
        "OpenTelemetry resource attribute), or service.environment for loggers following Elastic Common Schema. "
        "Lines without it are set aside as rejects; the API's logs links filter on it too.",
    )

    dynatrace_page_size: int = Field(
        default=500, ge=1, le=5000, description="Problems (at most 500, the API's maximum) and entities per page."
    )
    dynatrace_entities_per_query: int = Field(
        default=100,
        ge=1,
        le=5000,
        description="Entity ids named in one entitySelector; fewer when they would pass the 2,000 characters "
        "Dynatrace takes (73 services, 46 process instances).",
    )
    # At most an hour: the socket takes no timeout past about 10^10 s (inf included), and every request failed
    # on an OverflowError naming no setting.
    http_timeout_s: float = Field(default=30.0, gt=0, le=MAX_TIMEOUT_S)
    http_connect_timeout_s: float = Field(default=5.0, gt=0, le=MAX_TIMEOUT_S)
    http_total_timeout_s: float | None = Field(
        default=None,
        gt=0,
        le=MAX_TIMEOUT_S,
        description="Longest an answer may take from the request to its last byte (the timeout above is per "
        "read): a source sending its page a byte now and then is asked again, as after a timeout. Unset: 120 s, or "
        "four read timeouts where that is longer, so that a read timeout raised for slow queries is not cut short.",
    )
    http_max_page_mb: float = Field(
        default=MAX_PAGE_BYTES / 2**20,
        gt=0,
        le=MAX_PAGE_MB,
        description="Largest answer read, once decompressed; a larger one fails the source's run, its beginning "
        "kept among the rejects. A page costs about ten times its size in memory while it is read: raise the "
        "function's memory with it (ArgoCD's listing of every application is the largest page).",
    )
    http_attempts: int = Field(default=6, ge=1, le=20)
    http_backoff_base_s: float = Field(default=0.5, ge=0)
    # The waits are a day at most: a retry slept years (until the function's timeout), or past about 9 * 10^9 s
    # (inf included) failed the run on an OverflowError naming no setting.
    http_backoff_max_s: float = Field(default=30.0, ge=0, le=MAX_WAIT_S)
    http_max_server_wait_s: float = Field(
        default=90.0,
        ge=0,
        le=MAX_WAIT_S,
        description="Longest Retry-After or rate-limit reset a run waits (GitLab's per-minute throttle asks up to "
        "61 s); a source asking for more (ServiceNow's hourly limits) is not asked again in that run, which fails "
        "for it saying the wait.",
    )
    request_budget: int = Field(default=50_000, ge=1, description="Requests one run may make, retries included.")
    overlap_hours: int = Field(
        default=2, ge=0, le=MAX_HOURS, description="Re-read this much before the watermark (not ServiceNow)."
    )
    initial_lookback_hours: int = Field(
        default=24, ge=1, le=MAX_HOURS, description="Window of a first run without a watermark."
    )
    catch_up_hours: int = Field(
        default=48,
        ge=0,
        le=MAX_HOURS,
        description="Longest window of a run that starts at the watermark (0: no limit). Far behind, each "
        "scheduled run catches up this much; `backfill` is the way to load long periods.",
    )
    backfill_concurrency: int = Field(default=2, ge=1, le=MAX_BACKFILL_CONCURRENCY)

    # A URL without its scheme would fail every request of every run ("unsupported protocol"), after retries.
    _base_urls = field_validator(
        "dynatrace_url", "servicenow_url", "argocd_url", "gitlab_url", "elasticsearch_url", mode="before"
    )(base_url)

    @field_validator("dynatrace_url", "argocd_url")
    @classmethod
    def _no_user_beside_a_token(cls, value: str | None) -> str | None:
        # httpx turns a URL's user and password into a Basic Authorization header, which replaces the token's:
        # every request would be refused (401) for a reason the run could not name.
        parts = urlsplit(value or "")
        if parts.username or parts.password:
            raise ValueError("this source takes its token alone: leave the user and password out of the URL")
        return value

    @field_validator("elasticsearch_api_key", "elasticsearch_api_key_secret_arn", "elasticsearch_api_key_parameter")
    @classmethod
    def _no_user_beside_an_api_key(cls, key: Any, info: ValidationInfo) -> Any:
        # The same header clash with an API key: the URL's user and password would replace its ApiKey header.
        parts = urlsplit(info.data.get("elasticsearch_url") or "")
        if key is not None and (parts.username or parts.password):
            raise ValueError("an API key is given: leave the user and password out of ROSETTA_ELASTICSEARCH_URL")
        return key

    @field_validator(*HEADER_SECRETS)
    @classmethod
    def _sendable_in_a_header(cls, token: SecretStr | None) -> SecretStr | None:
        problem = header_value_problem(token.get_secret_value()) if token is not None else None
        if problem:
            raise ValueError(problem)
        return token

    @field_validator("http_total_timeout_s")
    @classmethod
    def _no_shorter_than_a_read(cls, total: float | None, info: ValidationInfo) -> float | None:
        # Cut before its first byte could come, an answer the read timeout waits for would be asked for again and again.
        read = info.data.get("http_timeout_s")
        if total is not None and read is not None and total < read:
            raise ValueError(
                f"{total:g} s is shorter than ROSETTA_HTTP_TIMEOUT_S ({read:g} s), the wait for a single read: give "
                "at least that, or leave it unset"
            )
        return total

    @field_validator("elasticsearch_environment_field", mode="before")
    @classmethod
    def _field_name(cls, value: Any) -> Any:
        if value is None or value == "":
            return DEFAULT_ENVIRONMENT_FIELD
        if isinstance(value, str) and not FIELD_NAME.fullmatch(value):
            raise ValueError("give a field name of letters, digits and _ - @ joined by dots, like service.environment")
        return value

    def policy(self) -> RetryPolicy:
        return RetryPolicy(
            attempts=self.http_attempts,
            backoff_base_s=self.http_backoff_base_s,
            backoff_max_s=self.http_backoff_max_s,
            max_server_wait_s=self.http_max_server_wait_s,
        )

    def budget(self) -> RequestBudget:
        return RequestBudget(self.request_budget)

    def client_options(self) -> dict[str, Any]:
        return {
            "timeout_s": self.http_timeout_s,
            "connect_timeout_s": self.http_connect_timeout_s,
            "total_timeout_s": self.http_total_timeout_s or max(TOTAL_TIMEOUT_S, 4 * self.http_timeout_s),
            "max_page_bytes": math.ceil(self.http_max_page_mb * 2**20),
            "policy": self.policy(),
            "budget": self.budget(),
        }

    def resolved(self) -> IngestSettings:
        """A copy where every secret given by reference is fetched (Powertools parameters, with short timeouts)."""
        updates: dict[str, SecretStr] = {}
        for name in SECRET_FIELDS:
            arn = getattr(self, f"{name}_secret_arn")
            parameter = getattr(self, f"{name}_parameter")
            if arn or parameter:
                updates[name] = SecretStr(_fetch_secret(name, arn, parameter))
        return self.model_copy(update=updates) if updates else self

    def require(self, *names: str) -> None:
        """Fail with one line naming the missing variables (never their values)."""
        missing = [f"ROSETTA_{n.upper()}" for n in names if not getattr(self, n)]
        if missing:
            raise RosettaError(f"missing settings: {', '.join(missing)}")


def _fetch_secret(name: str, arn: str | None, parameter: str | None) -> str:
    from aws_lambda_powertools.utilities import parameters
    from botocore.config import Config

    # Secrets Manager and SSM answer in milliseconds. An endpoint that cannot be reached (a function in a VPC without a
    # route to it) fails the read within seconds, two attempts of at most 2 + 5 s: botocore's defaults wait 60 s to
    # connect and to read, three attempts, so the API's cold start ran past API Gateway's 29 s and the function's own
    # timeout on every request, where a secret it cannot read is to leave live mode off.
    config = Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "total_max_attempts": 2})
    try:
        if arn:
            value = parameters.SecretsProvider(boto_config=config).get(arn)
        else:
            value = parameters.SSMProvider(boto_config=config).get(parameter or "", decrypt=True)
    except Exception as exc:  # the parameters utility wraps boto errors in its own types
        where = "Secrets Manager" if arn else "SSM"
        raise RosettaError(f"cannot read {name} from {where}: {_aws_reason(exc)}") from None
    # A secret stored from a file keeps the file's last line end, which no header or password holds.
    value = value.rstrip("\r\n") if isinstance(value, str) else value
    if not isinstance(value, str) or not value:
        raise RosettaError(f"{name}: the referenced secret is empty or not a string")
    problem = header_value_problem(value) if name in HEADER_SECRETS else None
    if problem:
        raise RosettaError(f"{name}: the referenced secret cannot be sent: {problem}")
    return value


def _aws_reason(exc: BaseException) -> str:
    """Why AWS did not give the secret, in a word: the error code of its answer (ResourceNotFoundException for a
    secret without a value yet, AccessDeniedException, ParameterNotFound), else the type of the error under the
    parameters utility's wrapper (EndpointConnectionError). Never an error's text: it may quote what was sent."""
    inner = exc.__cause__ or exc.__context__ or exc  # the wrapper is raised while boto's error is handled
    for error in (exc, inner):
        response = getattr(error, "response", None)
        code = (response.get("Error") or {}).get("Code") if isinstance(response, dict) else None
        if isinstance(code, str) and AWS_ERROR_CODE.fullmatch(code):
            return code
    return type(inner).__name__


def header_value_problem(value: str) -> str | None:
    """Why a request header cannot hold this token, without quoting any of it (not even the character); None if
    it can. Every request would otherwise fail before any left: on the encoding, with a traceback, or refused by
    the HTTP library and retried as if the source could not be reached."""
    position = next((i for i, char in enumerate(value, 1) if not char.isascii()), None)
    if position is not None:
        return (
            f"character {position} is not ASCII, and a token goes into an HTTP header, which holds ASCII alone "
            "(a non-breaking space or an accented letter pasted with it?)"
        )
    if value != value.strip():
        return "it begins or ends with a space or a line end, which an HTTP header cannot hold"
    position = next((i for i, char in enumerate(value, 1) if char != "\t" and not char.isprintable()), None)
    if position is not None:
        return f"character {position} is a control character (a line end?), which an HTTP header cannot hold"
    return None
