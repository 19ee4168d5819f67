"""One typed settings object, read from ROSETTA_* environment variables when a process starts."""

from __future__ import annotations

import json
import os
import re
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import AliasChoices, Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from pydantic_settings import SettingsError as UnreadableSetting

from lakehouse.errors import SettingsError
from lakehouse.redact import text_without_credentials


class EnvironmentSettings(BaseSettings):
    """Settings read from environment variables: a value that cannot be read stops the process with one line naming
    the variable as it is set (not the field behind it), never quoting the value, which may be a misplaced secret."""

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:
            prefix = self.model_config.get("env_prefix", "")
            raise SettingsError(describe_invalid(exc, prefix, _aliases(type(self)))) from None
        except UnreadableSetting as exc:
            # A list or mapping setting is JSON, decoded before validation: pydantic-settings names the field in a
            # traceback of its own, its cause quoting nothing of the value.
            raise SettingsError(describe_unreadable(exc, self.model_config.get("env_prefix", ""))) from None


def blank_is_unset(value: Any) -> Any:
    """A setting given empty (a line left without a value in .env) is not set: its default applies."""
    return None if isinstance(value, str) and not value.strip() else value


def base_url(value: str | None) -> str | None:
    """A source's base URL: scheme and host, else a start-up error (never quoting it: it may carry a password).
    Empty is unset."""
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("give the whole base URL, with its scheme, like https://host[:port]")
    # An @ after the host is a user or password holding / ? or #, which ended the host early: read so, the URL's
    # "host" is the user and the password stays in the rest, where no redaction finds it (a logs link would carry it).
    if "@" in value[len(parts.scheme) + 3 + len(parts.netloc) :]:
        raise ValueError(
            "a user or password in the URL holds /, ? or # as it is, which ends the host before its @: write them "
            "percent-encoded (%2F, %3F, %23)"
        )
    # The clients join each API path to the base URL: a query string or fragment there sent every request to the
    # wrong path, and a token written into it (GitLab takes ?private_token=) was shown wherever the URL is shown.
    if parts.query or parts.fragment or value.endswith(("?", "#")):
        raise ValueError(
            "give the base URL without a query string or fragment (?... or #...): a token goes in its own setting"
        )
    return value


# S3's rule for a bucket's name: 3 to 63 lower-case letters, digits, dots and hyphens, a letter or digit at each end.
_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]")


def valid_bucket_name(name: str) -> bool:
    return _BUCKET_NAME.fullmatch(name) is not None


def without_credentials(url: str | None) -> str | None:
    """The URL less any user and password written into it (they are secrets), for showing it to people. A whole URL's
    are cut at its authority's last @ (base_url refuses an @ after the host), whatever characters they hold: the
    redaction of free text stops at a space or a quote, which a password written into a setting may hold."""
    if not url:
        return url
    parts = urlsplit(url)
    if parts.scheme and "@" in parts.netloc:
        url = urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
    return text_without_credentials(url)


def _aliases(model: type[BaseSettings]) -> dict[str, tuple[str, ...]]:
    """For a field read under several names (AliasChoices), the name pydantic reports, with all of them."""
    found = {}
    for info in model.model_fields.values():
        alias = info.validation_alias
        if isinstance(alias, AliasChoices):
            names = tuple(str(choice) for choice in alias.choices)
            found[names[0]] = names
    return found


def describe_invalid(exc: ValidationError, prefix: str, aliases: dict[str, tuple[str, ...]] | None = None) -> str:
    """`ROSETTA_DUCKDB_THREADS: Input should be a valid integer, ...`: pydantic's reasons without the input values. A
    field read under several names is named as it is set (pydantic reports the first of its names)."""
    problems = []
    for error in exc.errors(include_input=False, include_url=False):
        field, *inside = [str(part) for part in error["loc"]] or ["?"]
        variable = field if field.isupper() else f"{prefix}{field}".upper()
        names = (aliases or {}).get(variable, ())
        variable = next((name for name in names if name in os.environ), variable)
        where = f" ({'.'.join(inside)})" if inside else ""
        problems.append(f"{variable}{where}: {error['msg']}")
    return "; ".join(problems)


def describe_unreadable(exc: UnreadableSetting, prefix: str) -> str:
    """`ROSETTA_API_API_KEYS: not valid JSON (Expecting value: line 1 column 1 (char 0))`, never the value."""
    named = re.search(r'field "(\w+)"', str(exc))
    variable = f"{prefix}{named.group(1)}".upper() if named else "a setting"
    cause = exc.__cause__
    if isinstance(cause, json.JSONDecodeError):  # it says where the text went wrong (line, column), not what it holds
        return f"{variable}: not valid JSON ({cause})"
    return f"{variable}: cannot be read"


def make_folder(variable: str, folder: Path) -> None:
    """The folder a setting names, made if missing; one that cannot be (a file in its way, a read-only disk) is named
    as the setting to fix, not left to a traceback or to failures of every later request."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SettingsError(
            f"{variable}: cannot make the folder {folder}: {exc.strerror or type(exc).__name__}"
        ) from None


@lru_cache(maxsize=8)
def duckdb_reads_memory_limit(value: str) -> bool:
    """Asked of DuckDB itself, which alone knows its units (KB, MiB, "none"...); once per value in a warm process."""
    import duckdb  # not at import: most users of the settings have not loaded it yet

    try:
        duckdb.connect(config={"memory_limit": value}).close()
    except duckdb.Error:  # its reason may quote the value, which may be a misplaced secret
        return False
    return True


# ServiceNow's own close code for a change that failed: the only one an instance that adds none has.
SERVICENOW_FAILED_CLOSE_CODES = ("unsuccessful",)

# An environment's name, as the mapping's (lakehouse.mappings.SLUG).
ENVIRONMENT = r"^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$"


class Settings(EnvironmentSettings):
    """Where the lake is and how to reach it. Build it with `Settings()` at start-up, never at import."""

    model_config = SettingsConfigDict(env_prefix="ROSETTA_", extra="ignore")

    lake_url: str = Field(
        default=".rosetta/lake",
        description="s3://bucket/prefix for any S3-compatible store, or a local folder.",
    )
    s3_endpoint_url: str | None = Field(
        default=None, description="Custom S3 endpoint (MinIO, the embedded server); unset for AWS S3."
    )
    s3_region: str = "us-east-1"
    s3_url_style: Literal["path", "vhost"] | None = Field(
        default=None, description="Addressing style; defaults to path with a custom endpoint, vhost on AWS."
    )
    # Explicit keys are for MinIO and the embedded store; on AWS leave them unset so the usual
    # credential chain (environment, profile, role) applies.
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None
    s3_conditional_writes: bool = Field(
        default=True,
        description="Use If-Match/If-None-Match on PUT so concurrent merges never drop rows.",
    )
    # Each bounds one socket operation, not a whole transfer: a body is sent block by block, each within the connect
    # timeout, and an answer read block by block, each within the read timeout (botocore's timeouts, through urllib3).
    s3_connect_timeout_s: float = Field(
        default=5.0, gt=0, le=3600, description="Longest wait to connect to the store, and to send it each block."
    )
    s3_read_timeout_s: float = Field(
        default=20.0,
        gt=0,
        le=3600,
        description=(
            "Longest wait for the store's answer to start, and for each block of it: S3 answers a put once it has "
            "the whole body, so this needs no time for the transfer itself."
        ),
    )

    production_environment: str = Field(
        default="production",
        pattern=ENVIRONMENT,
        description=(
            "The mapping environment that is the estate's production (as its sources name it, e.g. prod): the one "
            "DORA and the API read by default, and health and top risks are judged in."
        ),
    )

    environments: list[Annotated[str, Field(pattern=ENVIRONMENT)]] = Field(
        default_factory=list,
        description=(
            'The estate\'s environments, a JSON list (e.g. ["production", "staging"]): when given, a mapping change '
            "naming another is refused, since a typo (prodution) would make an environment of its own, which no page "
            "reads. Empty: any environment is accepted."
        ),
    )

    failed_close_codes: Annotated[tuple[str, ...], NoDecode] = Field(
        default=SERVICENOW_FAILED_CLOSE_CODES,
        description=(
            "The change close codes that mean a failed change, separated by commas, in any case: ServiceNow's "
            "unsuccessful, which the list must hold, and those the instance added for a failure "
            "(unsuccessful,rolled_back,backed_out)."
        ),
    )

    duckdb_threads: int = Field(default=2, ge=1, le=64)
    duckdb_memory_limit: str = "1GB"
    duckdb_temp_directory: Path = Field(default=Path(tempfile.gettempdir()) / "rosetta-duckdb")

    # `ROSETTA_S3_ENDPOINT_URL=` (a line left empty in .env, for AWS S3) reached botocore as "", which it refuses with
    # a traceback, while the rest of the code read it as no endpoint.
    _empty_endpoint_is_unset = field_validator("s3_endpoint_url", mode="before")(blank_is_unset)

    @field_validator("environments")
    @classmethod
    def _production_among_them(cls, environments: list[str], info: ValidationInfo) -> list[str]:
        # Declared after production_environment, which is in info.data once it is valid.
        production = info.data.get("production_environment")
        if environments and production and production not in environments:
            raise ValueError(
                f"give the production environment among them ({production!r}, ROSETTA_PRODUCTION_ENVIRONMENT)"
            )
        return environments

    @field_validator("failed_close_codes", mode="before")
    @classmethod
    def _close_codes(cls, value: Any) -> Any:
        # Read as ServiceNow's choice values are compared (lower case, trimmed); a blank value is unset, as in .env.
        if isinstance(value, str):
            if not value.strip():
                return SERVICENOW_FAILED_CLOSE_CODES
            value = value.split(",")
        codes = tuple(str(code).strip().lower() for code in value)
        if not all(codes):
            # An empty code (two commas, or one at the end) would match no change: a typo, not a choice.
            raise ValueError(
                "a close code is empty: give them separated by single commas, like unsuccessful,rolled_back"
            )
        # A list of the instance's own codes alone (rolled_back,backed_out) would silently stop counting the changes
        # closed with ServiceNow's as failed; an instance that retired that code loses nothing by listing it.
        missing = [code for code in SERVICENOW_FAILED_CLOSE_CODES if code not in codes]
        if missing:
            raise ValueError(
                f"give ServiceNow's own {', '.join(missing)} among them, like {','.join((*missing, *codes))}: "
                "without it, a change closed so would not count as failed"
            )
        return codes

    @field_validator("duckdb_memory_limit")
    @classmethod
    def _a_size_duckdb_reads(cls, value: str) -> str:
        # Read only when DuckDB opens: the build ended in DuckDB's traceback, and the API answered every request
        # "the mart copy could not be loaded; retrying shortly", for ever.
        if not duckdb_reads_memory_limit(value):
            raise ValueError("give a size DuckDB reads, like 1400MB or 2GiB")
        return value

    @property
    def url_style(self) -> Literal["path", "vhost"]:
        if self.s3_url_style:
            return self.s3_url_style
        return "path" if self.s3_endpoint_url else "vhost"
