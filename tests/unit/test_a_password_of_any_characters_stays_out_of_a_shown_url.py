"""A base URL shown to people (a record's link, a Discover link, an error naming the lake or the store) leaves out
the user and password written into it, whatever characters the password holds: a space, a quote or a backslash
ended the redaction of free text, and the rest of the password went into every listed record's link."""

from __future__ import annotations

import pytest

from functions.api.kibana import discover_url
from functions.api.source_links import argocd_application, servicenow_record
from lakehouse.settings import without_credentials

PASSWORDS = ['Sn0w"Secret', "Arg0 Secret", "tab\there", "back\\slash", "a<b>c", "colon:in:it"]


@pytest.mark.parametrize("password", PASSWORDS)
def test_a_base_url_is_shown_without_its_user_and_password(password: str) -> None:
    assert without_credentials(f"https://svc-rosetta:{password}@acme.example.org/sn/") == "https://acme.example.org/sn/"


@pytest.mark.parametrize("password", PASSWORDS)
def test_the_links_made_from_it_hold_neither(password: str) -> None:
    configured = f"https://svc-rosetta:{password}@acme.example.org:8443/sn/"
    incident = servicenow_record(configured, "incident", "abc123")
    application = argocd_application(configured, "shop-api-prod", "team-shop")
    discover = discover_url(configured, data_view_id="dv", query="q", time_from="now-1h", time_to="now")
    assert incident == "https://acme.example.org:8443/sn/nav_to.do?uri=incident.do%3Fsys_id%3Dabc123"
    assert application == "https://acme.example.org:8443/sn/applications/team-shop/shop-api-prod"
    assert discover.startswith("https://acme.example.org:8443/sn/app/discover#/?")
    for link in (incident, application, discover):
        assert "svc-rosetta" not in link and password.split()[0] not in link


def test_a_url_without_credentials_and_a_lake_path_are_shown_as_they_are() -> None:
    assert without_credentials("https://acme.example.org:8443/sn/") == "https://acme.example.org:8443/sn/"
    assert without_credentials("/var/lake") == "/var/lake"
    assert without_credentials("s3://bucket/prefix") == "s3://bucket/prefix"
