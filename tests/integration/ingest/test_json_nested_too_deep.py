"""A source answering JSON nested deeper than Python's parser goes (or its credential walk): the page is unreadable,
retried and set aside as one reject like any page that does not parse, and a refusal keeps its status. It stopped
the run with a RecursionError before, the page kept nowhere and a 404 read as no refusal at all."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from pydantic import SecretStr

from functions.ingest_deploys.client import ArgoCDClient, GitLabClient
from lakehouse.ingest.client import PageRequest, RetryPolicy
from lakehouse.ingest.errors import SourceRefused, SourceUnavailable
from tests.integration.api.test_endpoints import QuietHandler, serving

TWO_ATTEMPTS = RetryPolicy(attempts=2, backoff_base_s=0.01, backoff_max_s=0.01)


def nested(depth: int, inner: bytes = b"1") -> bytes:
    """`{"a":{"a":...inner...}}`, `depth` objects deep."""
    return b'{"a":' * depth + inner + b"}" * depth


@contextmanager
def source_answering(status: int, body: bytes) -> Iterator[str]:
    """A source answering every GET with `status` and `body` as JSON; its URL."""

    class Answering(QuietHandler):
        def do_GET(self) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    with serving(Answering) as url:
        yield url


@pytest.mark.parametrize(
    "body",
    [
        b"[" + nested(5000) + b"]",  # past the parser
        b"[" + nested(600, b'"https://deploy:hunter2-secret@git.example.org/r.git"') + b"]",  # past the credential walk
    ],
    ids=["past-the-parser", "past-the-credential-walk"],
)
def test_a_page_nested_too_deep_is_unreadable_and_set_aside_once(body: bytes) -> None:
    with source_answering(200, body) as url, GitLabClient(url, SecretStr("glpat-token"), policy=TWO_ATTEMPTS) as gitlab:
        with pytest.raises(SourceUnavailable) as failed:
            gitlab.send(PageRequest("/api/v4/projects/7/deployments"))
        assert str(failed.value) == (
            "gitlab: page was JSON nested too deeply to read on GET /api/v4/projects/7/deployments, "
            "still after 2 attempts"
        )
        (reject,) = gitlab.counters.set_aside
    assert "nested too deeply" in reject.reason and "2 attempts" in reject.reason
    assert "hunter2-secret" not in reject.text


def test_a_refusal_nested_too_deep_keeps_its_status() -> None:
    """A GitLab project gone answers 404: its words past the parser are dropped, the refusal is a 404 still."""
    with (
        source_answering(404, nested(5000)) as url,
        GitLabClient(url, SecretStr("glpat-token")) as gitlab,
        pytest.raises(SourceRefused) as refused,
    ):
        gitlab.send(PageRequest("/api/v4/projects/7/deployments"))
    assert refused.value.status == 404
    assert str(refused.value) == "gitlab: HTTP 404 on GET /api/v4/projects/7/deployments"


def test_an_argocd_listing_nested_too_deep_is_set_aside_without_its_text() -> None:
    """ArgoCD's listing keeps a reject's text only once its tools' values are redacted, which a page past the parser
    cannot be."""
    with source_answering(200, nested(5000)) as url, ArgoCDClient(url, SecretStr("argo"), policy=TWO_ATTEMPTS) as argo:
        with pytest.raises(SourceUnavailable):
            argo.applications()
        (reject,) = argo.counters.set_aside
    assert reject.text.startswith("<not kept: ")
