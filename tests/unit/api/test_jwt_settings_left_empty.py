"""JWT settings given empty, as a `.env` line left without a value writes them. An empty issuer asked every token
for an empty `iss` claim and refused them all (the README says its default is unset, any issuer); an empty roles
claim made every caller a reader of no role (403 everywhere), and an empty list of algorithms refused every token
(401): both were taken at start-up without a word, and are now refused naming the variable."""

from __future__ import annotations

import pytest

from functions.api.settings import ApiSettings
from lakehouse.errors import SettingsError


def test_an_empty_issuer_is_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROSETTA_API_JWT_ISSUER", "")
    assert ApiSettings().jwt_issuer is None
    monkeypatch.setenv("ROSETTA_API_JWT_ISSUER", "https://idp.example.org/")
    assert ApiSettings().jwt_issuer == "https://idp.example.org/"


@pytest.mark.parametrize(
    ("variable", "value", "reason"),
    [
        ("ROSETTA_API_JWT_ROLES_CLAIM", "", "name the claim that holds the roles"),
        ("ROSETTA_API_JWT_ROLES_CLAIM", "  ", "name the claim that holds the roles"),
        ("ROSETTA_API_JWT_ALGORITHMS", "[]", "give one algorithm at least"),
    ],
)
def test_an_empty_roles_claim_or_algorithm_list_is_refused_naming_it(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, reason: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as refused:
        ApiSettings()
    assert str(refused.value).startswith(f"{variable}: ") and reason in str(refused.value)
