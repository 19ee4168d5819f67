"""Settings: secrets from the environment, or through Powertools from Secrets Manager / SSM (moto in-process)."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from lakehouse.errors import RosettaError, SettingsError
from lakehouse.ingest.config import IngestSettings


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Secrets Manager and SSM of a mocked account, for the secrets given by reference."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield


def test_secrets_from_the_environment_are_never_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROSETTA_DYNATRACE_URL", "https://abc.live.dynatrace.com")
    monkeypatch.setenv("ROSETTA_DYNATRACE_TOKEN", "dt0c01.PUBLIC.SECRETPART")
    settings = IngestSettings()
    assert settings.dynatrace_token is not None
    assert settings.dynatrace_token.get_secret_value() == "dt0c01.PUBLIC.SECRETPART"
    assert "SECRETPART" not in repr(settings) and "SECRETPART" not in str(settings.model_dump())


def test_secret_manager_and_ssm_references_are_resolved(monkeypatch: pytest.MonkeyPatch, aws: None) -> None:
    arn = boto3.client("secretsmanager").create_secret(Name="rosetta/gitlab", SecretString="glpat-123")["ARN"]
    boto3.client("ssm").put_parameter(Name="/rosetta/servicenow", Value="sn-pass", Type="SecureString")
    monkeypatch.setenv("ROSETTA_GITLAB_TOKEN_SECRET_ARN", arn)
    monkeypatch.setenv("ROSETTA_SERVICENOW_PASSWORD_PARAMETER", "/rosetta/servicenow")
    settings = IngestSettings().resolved()
    assert settings.gitlab_token is not None and settings.gitlab_token.get_secret_value() == "glpat-123"
    assert settings.servicenow_password is not None and settings.servicenow_password.get_secret_value() == "sn-pass"


def test_a_referenced_secret_loses_the_line_end_its_file_gave_it(monkeypatch: pytest.MonkeyPatch, aws: None) -> None:
    """`aws secretsmanager create-secret --secret-string file://token.txt` stores the file's last line end too. Sent
    in a header it is refused before any request leaves (h11: illegal header value), every run then failing as if
    the source could not be reached. The line end goes; anything else in the secret stays."""
    secrets = boto3.client("secretsmanager")
    arn = secrets.create_secret(Name="rosetta/dynatrace-eol", SecretString="dt0c01.A.B\n")["ARN"]
    boto3.client("ssm").put_parameter(Name="/rosetta/es-eol", Value=" es pass \r\n", Type="SecureString")
    monkeypatch.setenv("ROSETTA_DYNATRACE_TOKEN_SECRET_ARN", arn)
    monkeypatch.setenv("ROSETTA_ELASTICSEARCH_PASSWORD_PARAMETER", "/rosetta/es-eol")
    settings = IngestSettings().resolved()
    assert settings.dynatrace_token is not None and settings.dynatrace_token.get_secret_value() == "dt0c01.A.B"
    password = settings.elasticsearch_password
    assert password is not None and password.get_secret_value() == " es pass "


def test_a_missing_secret_fails_in_one_line_without_values(monkeypatch: pytest.MonkeyPatch, aws: None) -> None:
    monkeypatch.setenv("ROSETTA_ARGOCD_TOKEN_PARAMETER", "/nope")
    with pytest.raises(RosettaError, match="cannot read argocd_token from SSM"):
        IngestSettings().resolved()
    with pytest.raises(RosettaError, match="missing settings: ROSETTA_ELASTICSEARCH_URL"):
        IngestSettings(elasticsearch_url=None).require("elasticsearch_url")


@pytest.mark.parametrize(
    "variable",
    [
        "ROSETTA_DYNATRACE_URL",
        "ROSETTA_SERVICENOW_URL",
        "ROSETTA_ARGOCD_URL",
        "ROSETTA_GITLAB_URL",
        "ROSETTA_ELASTICSEARCH_URL",
    ],
)
def test_a_source_url_without_its_scheme_fails_at_start_up_naming_the_variable(
    variable: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`abc.live.dynatrace.com` instead of `https://abc.live.dynatrace.com` stops the function before any request
    (each run used to retry it six times and fail on an "unsupported protocol"), naming the variable to fix; a
    value carrying a password is never quoted."""
    monkeypatch.setenv(variable, "svc:Pa55-s3cr3t@source.example.org:9200")
    with pytest.raises(SettingsError, match=rf"^{variable}: .*https://") as err:
        IngestSettings()
    assert "s3cr3t" not in str(err.value)
    monkeypatch.setenv(variable, "https://source.example.org:9200/")
    assert IngestSettings()


@pytest.mark.parametrize("source", ["SERVICENOW", "GITLAB", "ELASTICSEARCH"])
def test_a_user_in_the_url_of_a_source_that_may_take_it_is_kept(source: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(f"ROSETTA_{source}_URL", "https://svc@source.example.org:9200/")
    assert getattr(IngestSettings(), f"{source.lower()}_url") == "https://svc@source.example.org:9200/"


@pytest.mark.parametrize("source", ["DYNATRACE", "ARGOCD"])
def test_a_user_in_the_url_of_a_source_that_takes_a_token_fails_at_start_up(
    source: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Dynatrace and ArgoCD read a token from the Authorization header; a user and password in the URL became a
    Basic header in its place, and every request was refused (401 "Token Authentication failed")."""
    monkeypatch.setenv(f"ROSETTA_{source}_URL", "https://svc:Pa55-s3cr3t@source.example.org/")
    with pytest.raises(SettingsError, match=rf"^ROSETTA_{source}_URL: .*token alone") as err:
        IngestSettings()
    assert "s3cr3t" not in str(err.value)


@pytest.mark.parametrize("key", ["API_KEY", "API_KEY_SECRET_ARN", "API_KEY_PARAMETER"])
def test_a_user_in_the_elasticsearch_url_beside_an_api_key_fails_at_start_up(
    key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Elasticsearch takes a user and password or an API key; with both, the URL's Basic header replaced the
    `ApiKey` one and every request was refused (401) for a reason no run could name."""
    monkeypatch.setenv("ROSETTA_ELASTICSEARCH_URL", "https://svc:Pa55-s3cr3t@logs.example.org:9200/")
    monkeypatch.setenv(f"ROSETTA_ELASTICSEARCH_{key}", "arn-or-key-value")
    with pytest.raises(SettingsError, match=rf"^ROSETTA_ELASTICSEARCH_{key}: .*leave the user and password out") as err:
        IngestSettings()
    assert "s3cr3t" not in str(err.value)
    monkeypatch.delenv(f"ROSETTA_ELASTICSEARCH_{key}")
    assert IngestSettings().elasticsearch_url == "https://svc:Pa55-s3cr3t@logs.example.org:9200/"


def test_an_empty_source_url_is_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    """`ROSETTA_GITLAB_URL=` (a line left empty in .env) means no GitLab, as before."""
    monkeypatch.setenv("ROSETTA_GITLAB_URL", "")
    with pytest.raises(RosettaError, match="missing settings: ROSETTA_GITLAB_URL"):
        IngestSettings().require("gitlab_url")


@pytest.mark.parametrize(
    ("value", "read"),
    [
        ("service.environment", "service.environment"),
        ("labels.deploy-env", "labels.deploy-env"),
        ("", "deployment.environment"),  # a line left empty in .env: the default
    ],
)
def test_the_log_environment_field_is_a_plain_field_name(
    value: str, read: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROSETTA_ELASTICSEARCH_ENVIRONMENT_FIELD", value)
    assert IngestSettings().elasticsearch_environment_field == read


@pytest.mark.parametrize(
    "value", ['env" or *', "service.environment:production", "service environment", "service..environment", "."]
)
def test_a_log_environment_field_that_is_not_a_field_name_fails_at_start_up(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It is written into the search and into the logs links' KQL: quotes, colons or spaces would ask for
    something else than a field."""
    monkeypatch.setenv("ROSETTA_ELASTICSEARCH_ENVIRONMENT_FIELD", value)
    with pytest.raises(SettingsError, match=r"^ROSETTA_ELASTICSEARCH_ENVIRONMENT_FIELD: .*service\.environment"):
        IngestSettings()


@pytest.mark.parametrize(
    "variable",
    ["ROSETTA_DYNATRACE_TOKEN", "ROSETTA_ARGOCD_TOKEN", "ROSETTA_GITLAB_TOKEN", "ROSETTA_ELASTICSEARCH_API_KEY"],
)
@pytest.mark.parametrize("pasted", ["\u00e9", "\u00a0"])  # an accented letter, a non-breaking space from a wiki
def test_a_token_a_header_cannot_hold_fails_at_start_up_naming_the_variable(
    variable: str, pasted: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """httpx encodes a header as ASCII: such a token crashed every run with a UnicodeEncodeError traceback. It
    stops the start naming the variable and where the character is; the token is never quoted."""
    monkeypatch.setenv(variable, f"glpat-Zq8{pasted}Tok3n")
    with pytest.raises(SettingsError, match=rf"^{variable}: .*character 10 is not ASCII") as err:  # "glpat-Zq8" is 9
        IngestSettings()
    assert "Zq8" not in str(err.value) and "Tok3n" not in str(err.value) and pasted not in str(err.value)


def test_a_password_keeps_any_character(monkeypatch: pytest.MonkeyPatch) -> None:
    """Basic auth sends a password as UTF-8: an accented one is sent as it is."""
    monkeypatch.setenv("ROSETTA_SERVICENOW_PASSWORD", "mot-de-passe-\u00e9t\u00e9")
    password = IngestSettings().servicenow_password
    assert password is not None and password.get_secret_value() == "mot-de-passe-\u00e9t\u00e9"


def test_a_referenced_token_a_header_cannot_hold_is_refused_without_its_value(
    monkeypatch: pytest.MonkeyPatch, aws: None
) -> None:
    boto3.client("ssm").put_parameter(Name="/rosetta/gitlab-nbsp", Value="\u00a0glpat-Zq8", Type="SecureString")
    monkeypatch.setenv("ROSETTA_GITLAB_TOKEN_PARAMETER", "/rosetta/gitlab-nbsp")
    with pytest.raises(RosettaError, match=r"^gitlab_token: .*character 1 is not ASCII") as err:
        IngestSettings().resolved()
    assert "Zq8" not in str(err.value)


@pytest.mark.parametrize(
    ("token", "problem"),
    [
        ("glpat-Zq8sec7Tok3n\n", "begins or ends with a space or a line end"),  # an .env line's end kept
        (" glpat-Zq8sec7Tok3n", "begins or ends with a space or a line end"),
        ("glpat-Zq8\rsec7Tok3n", "character 10 is a control character"),  # "glpat-Zq8" is 9 characters
    ],
)
def test_a_token_with_a_line_end_or_surrounding_space_fails_at_start_up(
    token: str, problem: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The HTTP library refused such a header before each request left, and the run retried it six times as a
    "connection failed", as if the source were down."""
    monkeypatch.setenv("ROSETTA_GITLAB_TOKEN", token)
    with pytest.raises(SettingsError, match=rf"^ROSETTA_GITLAB_TOKEN: Value error, .*{problem}") as err:
        IngestSettings()
    assert "Zq8" not in str(err.value)


@pytest.mark.parametrize("variable", ["ROSETTA_HTTP_TIMEOUT_S", "ROSETTA_HTTP_CONNECT_TIMEOUT_S"])
@pytest.mark.parametrize("value", ["inf", "1e400", "1e10"])  # 1e400 is past a float's range: read as infinity
def test_a_timeout_the_socket_cannot_take_fails_at_start_up(
    variable: str, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every request failed with "OverflowError: timestamp out of range for platform time_t", naming no setting."""
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=rf"^{variable}: Input should be less than or equal to 3600$"):
        IngestSettings()
    monkeypatch.setenv(variable, "3600")  # an hour, the longest
    assert IngestSettings()


@pytest.mark.parametrize("variable", ["ROSETTA_HTTP_BACKOFF_MAX_S", "ROSETTA_HTTP_MAX_SERVER_WAIT_S"])
def test_a_retry_wait_the_clock_cannot_take_fails_at_start_up(variable: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """With the backoff's base as large, a retry slept a random time up to 1e10 s: years, or past about 9.2e9 s
    (int64 nanoseconds) "OverflowError: timestamp out of range for platform time_t", naming no setting. A day
    (86400 s) is the longest wait."""
    monkeypatch.setenv("ROSETTA_HTTP_BACKOFF_BASE_S", "1e10")
    monkeypatch.setenv(variable, "1e10")
    with pytest.raises(SettingsError, match=rf"^{variable}: Input should be less than or equal to 86400$"):
        IngestSettings()
    monkeypatch.setenv(variable, "86400")
    assert IngestSettings()


@pytest.mark.parametrize(
    ("variable", "most"),
    [
        ("ROSETTA_OVERLAP_HOURS", 87600),  # ten years of 8760 hours
        ("ROSETTA_INITIAL_LOOKBACK_HOURS", 87600),
        ("ROSETTA_CATCH_UP_HOURS", 87600),
        ("ROSETTA_SERVICENOW_CMDB_SNAPSHOT_HOURS", 87600),
        ("ROSETTA_SERVICENOW_OVERLAP_MINUTES", 5256000),  # 87600 * 60
    ],
)
def test_a_span_reaching_past_the_calendar_fails_at_start_up(
    variable: str, most: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """100000000 hours back from now is before the year 1 ("date value out of range"); 99999999999 is more than a
    timedelta holds ("Python int too large to convert to C int"): each ended the run in a traceback."""
    for value in ("100000000", "99999999999", "10000000000000"):
        monkeypatch.setenv(variable, value)
        with pytest.raises(SettingsError, match=rf"^{variable}: Input should be less than or equal to {most}$"):
            IngestSettings()
    monkeypatch.setenv(variable, str(most))
    assert IngestSettings()


@pytest.mark.parametrize(("read", "total"), [(None, 120.0), ("10", 120.0), ("30", 120.0), ("300", 1200.0)])
def test_the_total_time_of_an_answer_follows_a_read_timeout_raised_for_slow_queries(
    read: str | None, total: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An answer has 120 s from its request to its last byte. A read timeout raised to 300 s, for a source whose
    queries take minutes to answer, was cut at 120 s before its first byte could come, and asked again in vain:
    unset, the total is four read timeouts where that is longer."""
    monkeypatch.delenv("ROSETTA_HTTP_TOTAL_TIMEOUT_S", raising=False)
    if read is None:
        monkeypatch.delenv("ROSETTA_HTTP_TIMEOUT_S", raising=False)
    else:
        monkeypatch.setenv("ROSETTA_HTTP_TIMEOUT_S", read)
    assert IngestSettings().client_options()["total_timeout_s"] == total
    monkeypatch.setenv("ROSETTA_HTTP_TOTAL_TIMEOUT_S", "900")
    assert IngestSettings().client_options()["total_timeout_s"] == 900.0


def test_a_total_time_shorter_than_one_read_fails_at_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROSETTA_HTTP_TIMEOUT_S", "90")
    monkeypatch.setenv("ROSETTA_HTTP_TOTAL_TIMEOUT_S", "60")
    with pytest.raises(
        SettingsError, match=r"^ROSETTA_HTTP_TOTAL_TIMEOUT_S: .*60 s is shorter than ROSETTA_HTTP_TIMEOUT_S \(90 s\)"
    ):
        IngestSettings()
    monkeypatch.setenv("ROSETTA_HTTP_TOTAL_TIMEOUT_S", "90")
    assert IngestSettings().client_options()["total_timeout_s"] == 90.0
