"""Credentials: API keys (kept as SHA-256 digests) and JWT bearer tokens, or claims the API gateway verified."""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from typing import Any

import jwt
from fastapi import Request

from functions.api.gateway import ADMIN_PATH
from functions.api.problems import Problem, request_path
from functions.api.settings import ApiSettings

log = logging.getLogger("rosetta.api.auth")
ROLES = ("reader", "admin")


@dataclass(frozen=True)
class Principal:
    subject: str
    roles: frozenset[str]
    method: str  # api_key, jwt or gateway

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles


def key_digest(key: str) -> str:
    """What ROSETTA_API_API_KEYS stores for a key."""
    return hashlib.sha256(key.encode()).hexdigest()


def authenticate(request: Request, settings: ApiSettings) -> Principal:
    """The caller, or a 401 problem. Denials are logged with the reason and path, never with the credential."""
    try:
        return _authenticate(request, settings)
    except Problem as exc:
        log.warning(
            "request denied",
            extra={"status": exc.status, "reason": exc.detail, "path": request_path(request), "method": request.method},
        )
        raise


def _authenticate(request: Request, settings: ApiSettings) -> Principal:
    if settings.trust_gateway_authorizer:
        gateway = _gateway_principal(request, settings)
        if gateway is not None:
            return gateway
    key = request.headers.get(settings.api_key_header)
    if key is not None:
        return _api_key_principal(key, settings)
    authorization = request.headers.get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        try:
            return _jwt_principal(token.strip(), settings)
        except Problem as exc:
            # RFC 6750: a token sent and refused is named in the challenge, which tells a client to get a new one.
            exc.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
            raise
    raise Problem(401, f"send an API key in {settings.api_key_header} or a bearer token in Authorization")


def _api_key_principal(key: str, settings: ApiSettings) -> Principal:
    digest = key_digest(key)
    found = None
    # Compare against every key, in constant time each, so timing tells nothing about near matches.
    for candidate in settings.api_keys:
        if hmac.compare_digest(digest, candidate.sha256):
            found = candidate
    if found is None:
        raise Problem(401, "unknown API key")
    roles = set(found.roles) | ({"reader"} if "admin" in found.roles else set())
    return Principal(found.name, frozenset(roles), "api_key")


def _jwt_principal(token: str, settings: ApiSettings) -> Principal:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError:
        raise Problem(401, "the bearer token is not a JWT") from None
    algorithm = str(header.get("alg", ""))
    if algorithm not in settings.jwt_algorithms:
        raise Problem(401, f"token algorithm {algorithm[:10]!r} is not accepted")
    # The key type follows the algorithm family, so a public key is never used as an HMAC secret.
    if algorithm.startswith("HS"):
        key: Any = settings.jwt_secret.get_secret_value() if settings.jwt_secret else None
    else:
        key = settings.jwt_public_key
    # The settings refuse a key without an audience; settings built in code are held to it here too.
    if not key or not settings.jwt_audience:
        raise Problem(401, "bearer tokens are not configured for this algorithm")
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[algorithm],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            leeway=settings.jwt_leeway_s,
            options={"require": ["exp", "sub", "aud"]},
        )
    except jwt.ExpiredSignatureError:
        raise Problem(401, "the bearer token has expired") from None
    except jwt.InvalidAudienceError:
        raise Problem(401, "the bearer token is not meant for this API (audience)") from None
    except jwt.InvalidIssuerError:
        raise Problem(401, "the bearer token comes from an unknown issuer") from None
    except jwt.InvalidTokenError as exc:
        raise Problem(401, f"the bearer token is not valid ({type(exc).__name__})") from None
    except (jwt.InvalidKeyError, ValueError):
        # One public key serves the asymmetric algorithms: a token of another family (ES256 for an RSA key) or a
        # key that does not parse cannot be verified. The cause is the settings' or the caller's, never a 500.
        # (PyJWT says InvalidKeyError for an RSA key that does not parse, but lets an EC key's ValueError through.)
        log.warning("bearer token of algorithm %s does not fit the configured key", algorithm)
        raise Problem(401, f"the configured key cannot verify {algorithm} bearer tokens") from None
    # The subject is who reads and who changes the mapping: an empty one names nobody (the gateway's is refused too).
    if not str(claims["sub"]).strip():
        raise Problem(401, "the bearer token names no subject (sub)")
    return Principal(str(claims["sub"]), _roles(claims, settings.jwt_roles_claim), "jwt")


def _gateway_principal(request: Request, settings: ApiSettings) -> Principal | None:
    """Claims from API Gateway's authorizer (HTTP API v2 `jwt.claims` or `lambda`; REST v1 `claims` or context).

    The gateway admits a caller only with a valid token, and lets it through to admin routes only with the admin
    scope: so an admitted caller may read, and the admin scope (`scope`, space-separated, or `scp`) or the admin
    role in the claim the settings name makes it admin."""
    event = request.scope.get("aws.event")
    if not isinstance(event, dict):
        return None
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    claims = _gateway_claims(authorizer) if isinstance(authorizer, dict) else None
    if not isinstance(claims, dict) or not str(claims.get("sub") or "").strip():
        return None
    roles = {"reader"} | _roles(claims, settings.jwt_roles_claim)
    if settings.admin_scope and settings.admin_scope in _scopes(claims):
        roles.add("admin")
    if not _admin_route_matched(event):
        # The gateway asks for the admin scope on its admin routes alone: a request it matched to a reader route, an
        # admin path written so that the gateway did not read it as one (/monitoring/%61dmin/...), was never checked.
        roles.discard("admin")
    return Principal(str(claims["sub"]), frozenset(roles), "gateway")


def _admin_route_matched(event: dict[str, Any]) -> bool:
    """Whether the gateway matched the request to an admin route (HTTP API `routeKey`, REST API `resource`). A route
    it does not name (`$default`, a proxy of everything) says nothing: the path decides, as without a gateway."""
    matched = event.get("routeKey") or (event.get("requestContext") or {}).get("routeKey") or event.get("resource")
    route = matched.split(" ")[-1] if isinstance(matched, str) else None
    if route is None or route in ("$default", "/{proxy+}"):
        return True
    return route == ADMIN_PATH or route.startswith(ADMIN_PATH + "/")


def _gateway_claims(authorizer: dict[str, Any]) -> Any:
    # A REST API Lambda authorizer's context holds strings only, under any names, jwt and claims included: only an
    # object is an authorizer's claims.
    jwt_authorizer = authorizer.get("jwt")
    found = [jwt_authorizer.get("claims") if isinstance(jwt_authorizer, dict) else None]
    found += [authorizer.get("claims"), authorizer.get("lambda")]
    claims = next((c for c in found if isinstance(c, dict) and c), None)
    if claims is None and authorizer.get("principalId"):
        # REST API v1 puts a Lambda authorizer's context beside its principalId, straight under the authorizer.
        claims = {**authorizer, "sub": authorizer.get("sub") or authorizer["principalId"]}
    return claims


def _scopes(claims: dict[str, Any]) -> set[str]:
    """OAuth scopes of the token: `scope` (RFC 8693, space-separated) and `scp` (a list or a string)."""
    return set(_items(claims.get("scope"))) | set(_items(claims.get("scp")))


def _items(value: Any) -> list[str]:
    if isinstance(value, str):
        # Gateways flatten arrays to "[a b]" or "a,b".
        return value.strip("[]").replace(",", " ").split()
    if isinstance(value, list):
        return [str(v) for v in value]
    return []


def _roles(claims: dict[str, Any], path: str) -> frozenset[str]:
    # A claim named by a URL (Auth0's namespaced https://host/roles) holds dots of its own: the whole name first.
    value: Any = claims.get(path)
    if value is None:
        value = claims
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
    roles = {r for r in _items(value) if r in ROLES}
    if "admin" in roles:
        roles.add("reader")
    return frozenset(roles)


def require_reader(principal: Principal) -> None:
    if "reader" not in principal.roles:
        raise Problem(403, f"{principal.subject} has no reader role")


def require_admin_role(principal: Principal) -> None:
    if not principal.is_admin:
        log.warning("admin request denied", extra={"subject": principal.subject, "status": 403})
        raise Problem(403, "this endpoint needs the admin role")
