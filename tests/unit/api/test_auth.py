"""API keys (SHA-256 digests, constant-time compare) and JWT bearer tokens: valid, expired, wrong audience, roles."""

from __future__ import annotations

import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from starlette.requests import Request

from functions.api.auth import authenticate, key_digest, require_admin_role, require_reader
from functions.api.problems import Problem
from functions.api.settings import ApiKey, ApiSettings
from lakehouse.errors import SettingsError

PRIVATE = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PUBLIC_PEM = (
    PRIVATE.public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode()
)


def settings() -> ApiSettings:
    return ApiSettings(
        api_keys=[
            ApiKey(name="backstage", sha256=key_digest("reader-key"), roles=["reader"]),
            ApiKey(name="ops", sha256=key_digest("admin-key"), roles=["admin"]),
        ],
        jwt_public_key=PUBLIC_PEM,
        jwt_secret="hs-secret-for-tests-0123456789abcdef",  # type: ignore[arg-type]
        jwt_issuer="https://idp.example.org",
        jwt_audience="rosetta-monitoring",
    )


def request(headers: dict[str, str], event: dict[str, Any] | None = None) -> Request:
    scope: dict[str, Any] = {
        "type": "http",
        "method": "GET",
        "path": "/monitoring/overview",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "query_string": b"",
    }
    if event is not None:
        scope["aws.event"] = event
    return Request(scope)


def token(**overrides: Any) -> str:
    claims = {
        "sub": "alice",
        "iss": "https://idp.example.org",
        "aud": "rosetta-monitoring",
        "exp": int(time.time()) + 300,
        "roles": ["reader"],
    } | overrides
    return jwt.encode(claims, PRIVATE, algorithm="RS256")


def test_api_keys() -> None:
    reader = authenticate(request({"X-API-Key": "reader-key"}), settings())
    assert reader.subject == "backstage" and reader.roles == {"reader"}
    admin = authenticate(request({"X-API-Key": "admin-key"}), settings())
    assert admin.is_admin and "reader" in admin.roles
    with pytest.raises(Problem) as err:
        authenticate(request({"X-API-Key": "wrong"}), settings())
    assert err.value.status == 401
    with pytest.raises(Problem):
        authenticate(request({}), settings())


def test_jwt_valid_and_roles() -> None:
    who = authenticate(request({"Authorization": f"Bearer {token()}"}), settings())
    assert (who.subject, who.roles, who.method) == ("alice", {"reader"}, "jwt")
    nested = settings().model_copy(update={"jwt_roles_claim": "realm_access.roles"})
    admin = authenticate(request({"Authorization": f"Bearer {token(realm_access={'roles': ['admin']})}"}), nested)
    assert admin.is_admin
    with pytest.raises(Problem) as err:
        require_admin_role(who)
    assert err.value.status == 403


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"exp": int(time.time()) - 3600}, "expired"),
        ({"aud": "someone-else"}, "audience"),
        ({"iss": "https://evil.example.org"}, "issuer"),
    ],
)
def test_jwt_refused(claims: dict[str, Any], reason: str) -> None:
    with pytest.raises(Problem) as err:
        authenticate(request({"Authorization": f"Bearer {token(**claims)}"}), settings())
    assert err.value.status == 401 and reason in err.value.detail


@pytest.mark.parametrize("subject", ["", "   "])
def test_a_bearer_token_naming_no_subject_is_refused(subject: str) -> None:
    """The subject names who reads and who changes the mapping: a signed token whose sub is empty names nobody, so it
    is a 401 that says so, as the gateway's claims without a subject are refused, not a caller called ""."""
    with pytest.raises(Problem) as err:
        authenticate(request({"Authorization": f"Bearer {token(sub=subject, roles=['admin'])}"}), settings())
    assert err.value.status == 401 and "subject" in err.value.detail
    assert err.value.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


def test_jwt_tampered_or_algorithm_confusion() -> None:
    forged = jwt.encode({"sub": "x", "exp": int(time.time()) + 60, "roles": ["admin"]}, "guess", algorithm="HS256")
    with pytest.raises(Problem):
        authenticate(request({"Authorization": f"Bearer {forged}"}), settings())
    unsigned = jwt.encode({"sub": "x", "exp": int(time.time()) + 60}, None, algorithm="none")  # type: ignore[arg-type]
    with pytest.raises(Problem):
        authenticate(request({"Authorization": f"Bearer {unsigned}"}), settings())
    with pytest.raises(Problem):
        authenticate(request({"Authorization": "Bearer not.a.jwt"}), settings())


def test_jwt_of_an_accepted_algorithm_the_key_does_not_fit_is_a_401() -> None:
    """ES256 is accepted by default, and the configured public key is an RSA one: a token signed with an EC key is
    refused with a 401 problem, as any other token the API cannot verify, not answered with a 500."""
    claims = {"sub": "mallory", "iss": "https://idp.example.org", "aud": "rosetta-monitoring", "roles": ["admin"]}
    ec_token = jwt.encode(claims | {"exp": int(time.time()) + 300}, ec.generate_private_key(ec.SECP256R1()), "ES256")
    with pytest.raises(Problem) as err:
        authenticate(request({"Authorization": f"Bearer {ec_token}"}), settings())
    assert err.value.status == 401 and "ES256" in err.value.detail


def test_gateway_claims_only_when_trusted() -> None:
    event = {"requestContext": {"authorizer": {"jwt": {"claims": {"sub": "bob", "roles": "[admin]"}}}}}
    with pytest.raises(Problem):
        authenticate(request({}, event), settings())
    trusted = settings().model_copy(update={"trust_gateway_authorizer": True})
    who = authenticate(request({}, event), trusted)
    assert who.subject == "bob" and who.is_admin and who.method == "gateway"


def test_gateway_claims_use_the_configured_roles_claim() -> None:
    """With roles in a claim of the operator's choosing (Cognito groups), an admin is an admin behind API Gateway
    as with a bearer token the API verifies itself, instead of a 403 on every admin endpoint."""
    configured = settings().model_copy(update={"jwt_roles_claim": "cognito:groups", "trust_gateway_authorizer": True})
    direct = authenticate(request({"Authorization": f"Bearer {token(**{'cognito:groups': ['admin']})}"}), configured)
    assert direct.is_admin
    event = {"requestContext": {"authorizer": {"jwt": {"claims": {"sub": "alice", "cognito:groups": "[admin]"}}}}}
    behind_gateway = authenticate(request({}, event), configured)
    assert behind_gateway.subject == "alice" and behind_gateway.is_admin, behind_gateway.roles
    # The default claim no longer grants the admin role when the settings name another one.
    elsewhere = {"requestContext": {"authorizer": {"jwt": {"claims": {"sub": "eve", "roles": "[admin]"}}}}}
    assert authenticate(request({}, elsewhere), configured).roles == {"reader"}


def gateway_event(claims: dict[str, Any]) -> dict[str, Any]:
    """An HTTP API (v2) event as the JWT authorizer passes it on (infra/terraform/modules/api)."""
    return {"requestContext": {"authorizer": {"jwt": {"claims": claims, "scopes": None}}}}


def test_any_token_the_gateway_admits_may_read() -> None:
    """Behind the gateway, which admits any valid token of the issuer and audience on reader routes, a token with
    neither roles nor scopes reads the monitoring routes instead of getting 403 on every one of them."""
    trusted = settings().model_copy(update={"trust_gateway_authorizer": True})
    claims = {"sub": "backstage", "iss": "https://idp.example.org", "aud": "rosetta-monitoring"}
    who = authenticate(request({}, gateway_event(claims)), trusted)
    require_reader(who)
    assert who.subject == "backstage" and not who.is_admin
    with pytest.raises(Problem) as denied:
        require_admin_role(who)
    assert denied.value.status == 403


@pytest.mark.parametrize(
    "scopes",
    [
        {"scope": "openid rosetta/admin"},
        {"scp": ["openid", "rosetta/admin"]},
        {"scp": "[openid rosetta/admin]"},  # a list claim as the HTTP API authorizer flattens it
    ],
)
def test_gateway_admin_scope_makes_an_admin(scopes: dict[str, Any]) -> None:
    """A token with the admin scope, which the gateway lets through to /monitoring/admin/*, is admin there instead
    of getting 403; another scope is not."""
    trusted = settings().model_copy(update={"trust_gateway_authorizer": True})
    who = authenticate(request({}, gateway_event({"sub": "ops"} | scopes)), trusted)
    require_admin_role(who)
    require_reader(who)
    assert who.method == "gateway"
    other = authenticate(request({}, gateway_event({"sub": "ops", "scope": "openid rosetta/read"})), trusted)
    assert not other.is_admin
    renamed = trusted.model_copy(update={"admin_scope": "monitoring.admin"})
    assert not authenticate(request({}, gateway_event({"sub": "ops"} | scopes)), renamed).is_admin
    assert authenticate(request({}, gateway_event({"sub": "ops", "scope": "monitoring.admin"})), renamed).is_admin


def test_direct_bearer_tokens_still_need_roles() -> None:
    """Without the gateway, the API checks bearer tokens itself: the roles claim decides, not the scopes."""
    trusted = settings().model_copy(update={"trust_gateway_authorizer": True})
    scoped = token(roles=[], scope="openid rosetta/admin")
    who = authenticate(request({"Authorization": f"Bearer {scoped}"}), trusted)
    assert who.method == "jwt" and not who.roles
    with pytest.raises(Problem):
        require_reader(who)


def test_rest_api_lambda_authorizer_context_is_read() -> None:
    """Behind a REST API (v1) with a Lambda authorizer, whose context sits straight under requestContext.authorizer,
    the caller is the authorizer's principal with its roles, instead of a 401."""
    trusted = settings().model_copy(update={"trust_gateway_authorizer": True})
    event = {"requestContext": {"authorizer": {"principalId": "bob", "roles": "admin", "integrationLatency": 12}}}
    who = authenticate(request({}, event), trusted)
    assert who.subject == "bob" and who.is_admin and who.method == "gateway"
    with_sub = {"requestContext": {"authorizer": {"principalId": "user|42", "sub": "carol", "roles": "reader"}}}
    who = authenticate(request({}, with_sub), trusted)
    assert who.subject == "carol" and who.roles == {"reader"}


def test_denials_are_logged_without_the_secret(caplog: pytest.LogCaptureFixture) -> None:
    secret = "sk-live-very-secret-value"
    with caplog.at_level("WARNING"), pytest.raises(Problem):
        authenticate(request({"X-API-Key": secret}), settings())
    bad_token = token(aud="other")
    with caplog.at_level("WARNING"), pytest.raises(Problem):
        authenticate(request({"Authorization": f"Bearer {bad_token}"}), settings())
    text = " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "request denied" in text
    assert secret not in text and bad_token not in text


@pytest.mark.parametrize(
    "value",
    [
        "sk-live-raw-key-in-place-of-its-digest",  # the key itself where its SHA-256 belongs
        key_digest("reader-key").upper(),  # a digest in capitals, as some tools print it
    ],
)
def test_a_misconfigured_key_is_named_without_its_value(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """An API key written where its digest belongs stops the API at start-up with an error naming the entry, which
    the Lambda runtime logs: the key (or the digest) itself is never in it."""
    monkeypatch.setenv("ROSETTA_API_API_KEYS", json.dumps([{"name": "backstage", "sha256": value}]))
    with pytest.raises(SettingsError) as err:
        ApiSettings()
    assert str(err.value).startswith("ROSETTA_API_API_KEYS (0.sha256): String should match pattern")
    # Not even its first characters (a long value is shortened in such messages).
    assert value[:12].lower() not in str(err.value).lower()


@pytest.mark.parametrize(
    ("origins", "at"),
    [
        ('["https://backstage.example.org/"]', 0),  # a trailing /
        ('["https://backstage.example.org", "backstage.example.org"]', 1),  # no scheme
        ('["https://Backstage.example.org"]', 0),  # capitals: browsers send the host in lower case
        ('["https://backstage.example.org:443"]', 0),  # the default port, which browsers leave out
        ('["https://backstage.example.org/catalog"]', 0),  # a page's address
    ],
)
def test_a_cors_origin_no_browser_sends_stops_the_start(origins: str, at: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Origins are compared as they are written with the Origin header: such a one never matched, and every call
    of the plugin's page was refused "Disallowed CORS origin", its origin looking set."""
    monkeypatch.setenv("ROSETTA_API_CORS_ORIGINS", origins)
    with pytest.raises(SettingsError) as err:
        ApiSettings()
    assert str(err.value) == (
        f"ROSETTA_API_CORS_ORIGINS ({at}): Value error, give an origin as browsers send it: scheme://host[:port] in "
        "lower case, no default port, path nor trailing /"
    )


@pytest.mark.parametrize("origin", ["https://backstage.example.org", "http://localhost:3000", "http://[::1]:7007", "*"])
def test_a_cors_origin_as_browsers_send_it_is_kept(origin: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROSETTA_API_CORS_ORIGINS", json.dumps([origin]))
    assert ApiSettings().cors_origins == [origin]


@pytest.mark.parametrize("name", ["", "X API Key", "X-Cl\u00e9", "X-API-Key:"])
def test_an_api_key_header_no_client_can_send_stops_the_start(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """No request carries a header of such a name: every API key was refused, the 401 asking for it there."""
    monkeypatch.setenv("ROSETTA_API_API_KEY_HEADER", name)
    with pytest.raises(SettingsError) as err:
        ApiSettings()
    assert str(err.value) == (
        "ROSETTA_API_API_KEY_HEADER: Value error, give a header name a client can send: letters, digits and dashes, "
        "like X-API-Key"
    )


@pytest.mark.parametrize(
    ("value", "where"),
    [
        # Cut after the key's name: the value it expects would start at the 10th character.
        ('[{"name":', "line 1 column 10 (char 9)"),
        ("sk-live-Zq8sec7Tok3n", "line 1 column 1 (char 0)"),  # a key itself, where JSON belongs
        ("", "line 1 column 1 (char 0)"),  # a line left empty in .env
    ],
)
def test_api_keys_that_are_not_json_stop_the_start_in_one_line_without_the_value(
    value: str, where: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """They ended the start with pydantic-settings' own traceback instead of the settings error every other bad
    value gives."""
    monkeypatch.setenv("ROSETTA_API_API_KEYS", value)
    with pytest.raises(SettingsError) as err:
        ApiSettings()
    assert str(err.value) == f"ROSETTA_API_API_KEYS: not valid JSON (Expecting value: {where})"
    assert "Zq8sec" not in str(err.value)


@pytest.mark.parametrize("variable", ["ROSETTA_API_CORS_ORIGINS", "ROSETTA_API_TRIGGER_FUNCTIONS"])
def test_any_list_or_mapping_setting_that_is_not_json_is_named(variable: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(variable, "https://backstage.example.org")
    with pytest.raises(SettingsError, match=rf"^{variable}: not valid JSON \("):
        ApiSettings()


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("ROSETTA_API_JWT_PUBLIC_KEY", PUBLIC_PEM),
        ("ROSETTA_API_JWT_SECRET", "hs-secret-for-tests-0123456789abcdef"),
    ],
)
@pytest.mark.parametrize("audience", [None, ""])
def test_bearer_tokens_without_an_audience_stop_the_start(
    variable: str, value: str, audience: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A key to verify tokens with and no audience would take a token the identity provider issued for any of its
    services (one minted for billing, replayed here): the API does not start, and says which variable to set
    without quoting the key."""
    monkeypatch.setenv(variable, value)
    if audience is not None:
        monkeypatch.setenv("ROSETTA_API_JWT_AUDIENCE", audience)
    with pytest.raises(SettingsError) as err:
        ApiSettings()
    message = str(err.value)
    assert message.startswith("ROSETTA_API_JWT_AUDIENCE: ") and variable in message and "\n" not in message
    assert value not in message and value[30:50] not in message


def test_an_audience_is_needed_only_with_bearer_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    """API keys alone need no audience; with one, a token issued for it is taken and one for billing refused."""
    assert ApiSettings().jwt_audience is None
    monkeypatch.setenv("ROSETTA_API_JWT_PUBLIC_KEY", PUBLIC_PEM)
    monkeypatch.setenv("ROSETTA_API_JWT_AUDIENCE", "rosetta-monitoring")
    configured = ApiSettings()
    assert authenticate(request({"Authorization": f"Bearer {token()}"}), configured).subject == "alice"
    with pytest.raises(Problem) as err:
        authenticate(request({"Authorization": f"Bearer {token(aud='billing')}"}), configured)
    assert err.value.status == 401 and "audience" in err.value.detail
    # Settings built in code without the check are held to it when a token comes.
    unchecked = configured.model_copy(update={"jwt_audience": None})
    with pytest.raises(Problem) as err:
        authenticate(request({"Authorization": f"Bearer {token(aud='billing')}"}), unchecked)
    assert err.value.status == 401


def test_a_shared_secret_shorter_than_the_hash_stops_the_start(monkeypatch: pytest.MonkeyPatch) -> None:
    """RFC 7518 3.2: an HS256 key must be 256 bits at least. A shorter secret can be found offline from any token it
    signed, and with it admin tokens forged: the API does not start, naming the variable, never the secret. One of
    32 bytes is taken."""
    monkeypatch.setenv("ROSETTA_API_JWT_AUDIENCE", "rosetta-monitoring")
    monkeypatch.setenv("ROSETTA_API_JWT_SECRET", "s3cr3t-of-31-characters-exactly")
    with pytest.raises(SettingsError) as err:
        ApiSettings()
    assert str(err.value).startswith("ROSETTA_API_JWT_SECRET: ") and "32 bytes" in str(err.value)
    assert "s3cr3t" not in str(err.value)
    monkeypatch.setenv("ROSETTA_API_JWT_SECRET", "s3cr3t-of-32-characters-exactly!")
    secret = ApiSettings().jwt_secret
    assert secret is not None and len(secret.get_secret_value()) == 32


def test_a_namespaced_roles_claim_is_read_whole() -> None:
    """Auth0 and others require custom claims named by a URL (https://rosetta.example.org/roles), whose dots are part
    of the name: read as a walk into nested claims it found nothing, and every caller was refused with a 403."""
    claim = "https://rosetta.example.org/roles"
    namespaced = settings().model_copy(update={"jwt_roles_claim": claim})
    who = authenticate(request({"Authorization": f"Bearer {token(roles=[], **{claim: ['admin']})}"}), namespaced)
    assert who.roles == {"admin", "reader"}


def test_gateway_claims_naming_no_subject_are_not_a_caller() -> None:
    """A subject of blanks names nobody, as an empty one does: the gateway's claims are not taken, and without another
    credential the request is a 401."""
    trusted = settings().model_copy(update={"trust_gateway_authorizer": True})
    with pytest.raises(Problem) as err:
        authenticate(request({}, gateway_event({"sub": "  ", "roles": ["admin"]})), trusted)
    assert err.value.status == 401


@pytest.mark.parametrize("value", ["inf", "1e400"])  # 1e400 is past a float's range: read as infinity
def test_an_infinite_mart_check_interval_stops_the_start(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """It is also the Retry-After of the 503 answered while a copy cannot be loaded: ceil(inf) made that a 500."""
    monkeypatch.setenv("ROSETTA_API_MART_CHECK_INTERVAL_S", value)
    with pytest.raises(SettingsError) as err:
        ApiSettings()
    assert str(err.value) == "ROSETTA_API_MART_CHECK_INTERVAL_S: Input should be a finite number"
