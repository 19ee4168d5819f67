"""A user and password written into a source's base URL are credentials like its token: httpx sends them as a Basic
Authorization header, and an answer echoing that header keeps it out of the errors, the run records and the lake."""

from __future__ import annotations

import base64
import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from functions.ingest_deploys import source as deploys
from lakehouse.ingest.config import IngestSettings
from lakehouse.ingest.sources import ingest
from lakehouse.ingest.window import Window
from tests.unit.ingest.test_credentials_in_text import kept, lake_at, serve

# GitLab behind a proxy asking for its own basic auth, given in the URL; GitLab itself takes the PRIVATE-TOKEN.
PROXY_PASSWORD = "Pr0xy-gate-77"
GITLAB_URL = f"https://proxy:{PROXY_PASSWORD}@gitlab.example"
# base64("proxy:Pr0xy-gate-77"), as httpx writes the header it builds from the URL.
BASIC = base64.b64encode(f"proxy:{PROXY_PASSWORD}".encode()).decode()
DEPLOYMENTS = "/api/v4/projects/11/deployments"
WINDOW = Window(datetime(2016, 8, 11, tzinfo=UTC), datetime(2016, 8, 12, tzinfo=UTC))


def gitlab_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, answer: httpx.MockTransport) -> tuple[str, str]:
    """One GitLab deployments run of the shop application, its source answering `answer`: the run's status and
    error, as its run record says them."""
    serve(monkeypatch, deploys, "GitLabClient", answer.handle_request)
    lake = lake_at(tmp_path, [{"entity_id": "shop", "kind": "application", "gitlab_project_id": 11}])
    settings = IngestSettings(gitlab_url=GITLAB_URL, gitlab_token=SecretStr("glpat-Zx81kQe7"), http_backoff_base_s=0)
    outcome = ingest("deploys", lake, settings, window=WINDOW, datasets=["gitlab/deployments"])
    (run,) = outcome.outcomes
    return run.record.status, run.record.error or ""


def test_a_refusal_quoting_the_basic_header_the_base_url_made_does_not_quote_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The proxy refuses with a GitLab-shaped message quoting the Authorization header it was sent: the run fails
    saying so, and neither its error, its log lines nor anything the lake keeps holds the header's base64 or the
    password."""

    def proxy(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"message": f"401 proxy refused {request.headers['authorization']}"})

    with caplog.at_level(logging.INFO):
        status, error = gitlab_run(tmp_path, monkeypatch, httpx.MockTransport(proxy))
    assert (status, error) == (
        "failed",
        f"gitlab: HTTP 401 on GET {DEPLOYMENTS}: 401 proxy refused Basic <redacted>; check ROSETTA_GITLAB_TOKEN and "
        "what its account may read",
    )
    logged = " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "proxy refused Basic <redacted>" in logged
    for text in (logged, kept(tmp_path, "")):
        assert BASIC not in text and PROXY_PASSWORD not in text


def test_an_answer_echoing_the_basic_header_the_base_url_made_keeps_it_out_of_the_rejects() -> None:
    """A wrong proxy route answers with the request itself (an echo service): no list, so the page is set aside as
    a reject, which keeps the echo with the header's base64 replaced."""
    from functions.ingest_deploys.client import GitLabClient
    from lakehouse.ingest.client import PageRequest, RetryPolicy
    from lakehouse.ingest.errors import SourceUnavailable

    echo = httpx.MockTransport(lambda request: httpx.Response(200, json={"headers": dict(request.headers)}))
    client = GitLabClient(GITLAB_URL, SecretStr("glpat-Zx81kQe7"), transport=echo, policy=RetryPolicy(1))
    with pytest.raises(SourceUnavailable):
        client.send(PageRequest(DEPLOYMENTS))
    (reject,) = client.counters.set_aside
    headers = json.loads(reject.text)["headers"]
    assert (headers["authorization"], headers["private-token"]) == ("Basic <redacted>", "<redacted>")


@pytest.mark.parametrize(
    ("variable", "url"),
    [
        ("ROSETTA_GITLAB_URL", "https://gitlab.example/?private_token=glpat-Zx81kQe7"),
        ("ROSETTA_ELASTICSEARCH_URL", "https://es.example:9200/#glpat-Zx81kQe7"),
    ],
)
def test_a_base_url_with_a_query_string_or_fragment_fails_at_start_up_without_quoting_it(
    variable: str, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GitLab takes its token as ?private_token= too: written into the base URL, it was accepted, every request went
    to / (httpx replaces the base URL's query with the request's, path and all), and the admin view of the sources
    showed the URL, token included. It stops the function at start-up instead, naming the variable, not the token."""
    from lakehouse.errors import SettingsError

    monkeypatch.setenv(variable, url)
    with pytest.raises(SettingsError, match=rf"^{variable}: .*without a query string or fragment") as err:
        IngestSettings()
    assert "Zx81kQe7" not in str(err.value)
