"""API settings from ROSETTA_API_* variables: credentials, CORS, live-mode limits, the serving copy, batch triggers."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, AliasChoices, BaseModel, Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import SettingsConfigDict

from lakehouse.settings import EnvironmentSettings, base_url, blank_is_unset

Role = Literal["reader", "admin"]
MIN_SECRET_BYTES = 32
# An HTTP field name (RFC 9110 5.1, "token"): a name with a space, an accent or nothing at all is one no client can
# send, and every API key was refused, the 401 asking for the key in that very header.
HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def origin(value: str) -> str:
    """A CORS origin as browsers send it in Origin, the form it is compared in as it is: with a path, a trailing /,
    capitals or no scheme it never matched, and every cross-origin call was refused for an origin that looked set."""
    if value == "*" or _browser_origin(value):
        return value
    raise ValueError(
        "give an origin as browsers send it: scheme://host[:port] in lower case, no default port, path nor trailing /"
    )


def _browser_origin(value: str) -> bool:
    parts = urlsplit(value)
    try:
        port = parts.port
    except ValueError:  # not a number, or out of range
        return False
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return (
        default is not None
        and bool(parts.hostname)
        and "@" not in parts.netloc
        and port != default  # browsers leave the default port out
        and value == f"{parts.scheme}://{parts.netloc}".lower()
    )


class ApiKey(BaseModel):
    """One accepted API key, stored as the SHA-256 hex digest of the key: the key itself is never configured."""

    name: str = Field(description="Who holds the key; used as the subject (and as the actor of mapping changes).")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    roles: list[Role] = Field(default_factory=lambda: list[Role](["reader"]))


class ApiSettings(EnvironmentSettings):
    """Build with `ApiSettings()` when the app starts, never at import."""

    # Values stay out of validation errors: a key written where its digest belongs would be quoted in the start-up
    # error the runtime logs.
    model_config = SettingsConfigDict(
        env_prefix="ROSETTA_API_", extra="ignore", populate_by_name=True, hide_input_in_errors=True
    )

    # --- credentials ------------------------------------------------------------------------------
    api_keys: list[ApiKey] = Field(default_factory=list, description="JSON list of {name, sha256, roles}.")
    api_key_header: str = "X-API-Key"
    jwt_secret: SecretStr | None = Field(default=None, description="Shared secret for HS256 tokens.")
    jwt_public_key: str | None = Field(default=None, description="PEM public key for RS256/ES256 tokens.")
    jwt_algorithms: list[str] = Field(default_factory=lambda: ["RS256", "ES256", "HS256"])
    jwt_issuer: str | None = None
    jwt_audience: str | None = Field(
        default=None,
        validate_default=True,
        description="The audience (aud claim) bearer tokens must be issued for; required with a JWT secret or key.",
    )
    jwt_roles_claim: str = Field(
        default="roles",
        description="Claim holding the roles (in a bearer token or gateway claims); dots walk nested claims, unless a "
        "claim has the whole name (a namespaced https://host/roles).",
    )
    jwt_leeway_s: int = Field(default=30, ge=0, le=300)
    trust_gateway_authorizer: bool = Field(
        default=False,
        description="In AWS, accept the claims API Gateway's JWT/Lambda authorizer already verified: a caller it "
        "admitted may read, and the admin scope or the admin role makes it admin.",
    )
    admin_scope: str | None = Field(
        default="rosetta/admin",
        description="Behind a trusted gateway, the OAuth scope (scope/scp claim) that makes a caller admin, as the "
        "gateway requires it on admin routes.",
    )
    cors_origins: list[Annotated[str, AfterValidator(origin)]] = Field(
        default_factory=list, description='e.g. ["https://backstage.example.org"]'
    )

    # `ROSETTA_API_JWT_ISSUER=` (a line left empty in .env) asked every token for an empty iss: all refused.
    _empty_issuer_is_unset = field_validator("jwt_issuer", mode="before")(blank_is_unset)

    @field_validator("jwt_roles_claim")
    @classmethod
    def _a_roles_claim(cls, claim: str) -> str:
        if not claim.strip():
            raise ValueError("name the claim that holds the roles, e.g. roles: without one, every token reads no role")
        return claim

    @field_validator("jwt_algorithms")
    @classmethod
    def _some_algorithm(cls, algorithms: list[str]) -> list[str]:
        if not algorithms:
            raise ValueError('give one algorithm at least, e.g. ["RS256"]: without one, every token is refused')
        return algorithms

    @field_validator("api_key_header")
    @classmethod
    def _a_header_name(cls, name: str) -> str:
        if not HEADER_NAME.fullmatch(name):
            raise ValueError("give a header name a client can send: letters, digits and dashes, like X-API-Key")
        return name

    @field_validator("jwt_secret")
    @classmethod
    def _long_enough(cls, secret: SecretStr | None) -> SecretStr | None:
        # RFC 7518 3.2: an HS256 key is 256 bits at least. A shorter one is found offline from any token it signed.
        if secret is not None and 0 < len(secret.get_secret_value().encode()) < MIN_SECRET_BYTES:
            raise ValueError(f"the HS256 shared secret must be {MIN_SECRET_BYTES} bytes or longer (RFC 7518 3.2)")
        return secret

    @field_validator("jwt_audience")
    @classmethod
    def _audience_with_tokens(cls, audience: str | None, info: ValidationInfo) -> str | None:
        # Without one, a token the identity provider issued for any of its services would be taken here.
        secret, public_key = info.data.get("jwt_secret"), info.data.get("jwt_public_key")
        keys = [
            name
            for name, given in (
                ("ROSETTA_API_JWT_SECRET", secret and secret.get_secret_value()),
                ("ROSETTA_API_JWT_PUBLIC_KEY", public_key),
            )
            if given
        ]
        if keys and not audience:
            verb = "are" if len(keys) > 1 else "is"
            raise ValueError(
                f"set the audience (aud claim) bearer tokens must be issued for: {' and '.join(keys)} {verb} set"
            )
        return audience or None

    # --- serving copy of the mart -----------------------------------------------------------------
    # Finite: it is the Retry-After of a 503 too, and inf made that answer a 500 (OverflowError).
    mart_check_interval_s: float = Field(
        default=30.0, ge=0, allow_inf_nan=False, description="How often to look for a new build."
    )
    local_dir: Path = Field(default=Path(tempfile.gettempdir()) / "rosetta-api")

    # --- live mode --------------------------------------------------------------------------------
    # API Gateway answers 504 after 29 s: a live call is bounded at this and half a second more, then the page reads
    # the mart, so 25 s is the longest that leaves the page time to fall back to history.
    live_timeout_s: float = Field(default=2.0, gt=0, le=25)
    live_cache_ttl_s: float = Field(default=30.0, ge=0, le=3600)
    kibana_url: str | None = Field(
        default=None, validation_alias=AliasChoices("ROSETTA_API_KIBANA_URL", "ROSETTA_KIBANA_URL")
    )
    # Without its scheme, every logs link would be a path relative to the page showing it.
    _kibana_url = field_validator("kibana_url", mode="before")(base_url)
    kibana_space: str | None = None
    kibana_data_views: dict[str, str] = Field(
        default_factory=dict, description="Index pattern -> data view id, when Kibana's own list is not reachable."
    )

    # --- links to the records in their source -----------------------------------------------------
    # By default the ingestion's own URLs, which the API function is given already (ArgoCD's API and UI are one
    # server). Checked as Kibana's: without its scheme, a link would be a path relative to the page showing it.
    servicenow_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("ROSETTA_API_SERVICENOW_URL", "ROSETTA_SERVICENOW_URL"),
        description="ServiceNow instance the incidents' and changes' links open; unset, they are null.",
    )
    argocd_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("ROSETTA_API_ARGOCD_URL", "ROSETTA_ARGOCD_URL"),
        description="ArgoCD UI the ArgoCD deployments' links open; unset, they are null.",
    )
    _record_urls = field_validator("servicenow_url", "argocd_url", mode="before")(base_url)

    # --- limits and batch triggers ----------------------------------------------------------------
    max_period_days: int = Field(default=400, ge=1, le=3660)
    # The largest legitimate body is a whole mapping: 20,000 entries (MappingChange's most) of some 600 bytes each
    # with every pivot set, and keys to remove. On AWS no body over 6 MB reaches the function (Lambda's invocation
    # payload, below API Gateway's 10 MB); this bounds what uvicorn, or a direct invocation, would read.
    max_body_mb: int = Field(default=16, ge=1, le=1024, description="Largest request body read, in MiB; over it, 413.")
    trigger_mode: Literal["local", "lambda"] = "local"
    trigger_functions: dict[str, str] = Field(
        default_factory=dict,
        description='Lambda names per kind/source, e.g. {"build": "rosetta-build", "ingest:dynatrace": "..."}.',
    )
    trigger_wait_s: float = Field(default=5.0, ge=0, le=30, description="Local runs: wait this long for run ids.")
