"""A secret the function cannot read fails the run before it starts, and the run log's record says why. It said only
the wrapper's name ("cannot read dynatrace_token from Secrets Manager: GetParameterError"), whatever AWS had
answered: an operator could not tell a secret without a value yet (as Terraform makes it) from a policy missing or an
endpoint out of reach. The reason is AWS's error code, never the error's text nor the secret's value."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from lakehouse.errors import RosettaError
from lakehouse.ingest.config import IngestSettings

SECRET_VALUE = "dt0c01.PUBLIC.SECRETPART"


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")


@pytest.fixture
def aws(aws_credentials: None) -> Iterator[None]:
    with mock_aws():
        yield


def why_unreadable() -> str:
    with pytest.raises(RosettaError) as caught:
        IngestSettings().resolved()
    return str(caught.value)


def test_a_secret_without_a_value_yet_says_resource_not_found(monkeypatch: pytest.MonkeyPatch, aws: None) -> None:
    """Terraform creates the secret, the value is put by hand later: until then Secrets Manager answers
    ResourceNotFoundException ("can't find the specified secret value for staging label: AWSCURRENT")."""
    arn = boto3.client("secretsmanager").create_secret(Name="rosetta/prod/dynatrace_token")["ARN"]
    monkeypatch.setenv("ROSETTA_DYNATRACE_TOKEN_SECRET_ARN", arn)
    said = why_unreadable()
    assert said == "cannot read dynatrace_token from Secrets Manager: ResourceNotFoundException"


def test_another_secret_value_is_never_quoted(monkeypatch: pytest.MonkeyPatch, aws: None) -> None:
    """A secret that exists beside one named wrongly: the reason names the code alone, not AWS's text (which names
    the secret asked for) and never a value."""
    secrets = boto3.client("secretsmanager")
    arn = secrets.create_secret(Name="rosetta/prod/gitlab_token", SecretString=SECRET_VALUE)["ARN"]
    monkeypatch.setenv("ROSETTA_GITLAB_TOKEN_SECRET_ARN", arn.replace("gitlab_token", "gitlab_tokn"))
    said = why_unreadable()
    assert said == "cannot read gitlab_token from Secrets Manager: ResourceNotFoundException"
    assert "SECRETPART" not in said and "can't find" not in said


def test_an_ssm_parameter_that_does_not_exist_says_parameter_not_found(
    monkeypatch: pytest.MonkeyPatch, aws: None
) -> None:
    monkeypatch.setenv("ROSETTA_SERVICENOW_PASSWORD_PARAMETER", "/rosetta/prod/servicenow_password")
    assert why_unreadable() == "cannot read servicenow_password from SSM: ParameterNotFound"


def test_secrets_manager_out_of_reach_says_the_connection_failed(
    monkeypatch: pytest.MonkeyPatch, aws_credentials: None
) -> None:
    """A function in a VPC without a route to Secrets Manager: no answer, so no code; the error botocore raised
    says what happened."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", closed)
    monkeypatch.setenv("ROSETTA_ARGOCD_TOKEN_SECRET_ARN", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x")
    assert why_unreadable() == "cannot read argocd_token from Secrets Manager: EndpointConnectionError"
