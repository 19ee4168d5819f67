"""A source answering JSON nested deeper than Python's parser goes (or its credential walk): the page is unreadable,
retried and set aside as one reject like any page that does not parse, and a refusal keeps its status. It stopped
the run with a RecursionError before, the page kept nowhere and a 404 read as no refusal at all."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from pydantic import SecretStr

from functions.ingest_deploys.client import ArgoCDClient, GitLabClient
from lakehouse.ingest.client import PageRequest, RetryPolicy
from lakehouse.ingest.config import IngestSettings
from lakehouse.ingest.errors import SourceRefused, SourceUnavailable
from lakehouse.ingest.sources import ingest
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from simulators.estate import generate_estate
from tests.integration.api.test_endpoints import QuietHandler, serving
from tests.integration.ingest.conftest import END, import_catalog
from tests.integration.ingest.truth import rows

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


def argocd_listing(status_summary: bytes) -> bytes:
    """An ArgoCD listing of one application whose status.summary is `status_summary`."""
    return (
        b'{"metadata":{"resourceVersion":"1"},"items":[{"metadata":{"name":"x","creationTimestamp":'
        b'"2024-03-01T00:00:00Z"},"spec":{"project":"default"},"status":{"summary":' + status_summary + b"}}]}"
    )


def test_an_argocd_listing_the_parser_reads_but_too_deep_to_redact_is_set_aside(tmp_path: Path) -> None:
    """600 objects deep: the parser reads it (some 1,000 levels) and the credential walk too, but not the redaction of
    the tools' values, done after the client. The deploys run stopped its three ArgoCD datasets on a bare
    RecursionError, no reject kept. The listing is now unreadable as any page too deep: asked again, then set aside
    once, without its text (counted on the status dataset: one listing feeds the three), and the run fails
    naming it."""
    body = argocd_listing(nested(600))
    with source_answering(200, body) as url, ArgoCDClient(url, SecretStr("argo"), policy=TWO_ATTEMPTS) as argo:
        with pytest.raises(SourceUnavailable) as failed:
            argo.applications()
        (reject,) = argo.counters.set_aside
    assert (
        str(failed.value) == "argocd: page was JSON nested too deeply to read on GET /api/v1/applications, "
        "still after 2 attempts"
    )
    assert reject.text.startswith("<not kept: ")

    lake = Lake.from_settings(Settings(lake_url=str(tmp_path / "lake")))
    import_catalog(lake, generate_estate(seed=16, apps=2, days=2, end=END))
    with source_answering(200, body) as url:
        sources = IngestSettings(argocd_url=url, argocd_token=SecretStr("argo-token-123456"))
        outcome = ingest("deploys", lake, sources, datasets=["argocd/app_status"], now=END)
    datasets = outcome.summary()["datasets"]
    assert {d: (v["status"], v["rows_rejected"]) for d, v in datasets.items() if d.startswith("argocd/")} == {
        "argocd/app_status": ("failed", 1),
        "argocd/sync_operations": ("failed", 0),
        "argocd/deployment_history": ("failed", 0),
    }
    assert "nested too deeply" in datasets["argocd/app_status"]["error"]
    assert len(rows(lake, "argocd/rejects")) == 1
