"""A proxy in front of a source answers 408 Request Timeout when one request was slow to reach it (nginx does). HTTP
allows sending the same request again, and the next one is answered: the run failed on that one answer instead."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler
from pathlib import Path

from pydantic import SecretStr

from lakehouse.ingest.config import IngestSettings
from lakehouse.ingest.sources import ingest
from lakehouse.ingest.window import Window
from lakehouse.mappings import MappingStore
from lakehouse.runlog import Watermarks
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.integration.api.test_endpoints import serving

from .test_gitlab_record_updated_while_paged_within_the_window import PER_PAGE, PROJECT, SINCE, UNTIL, FakeGitLab
from .test_gitlab_record_updated_while_paged_within_the_window import six_records as six_pipelines
from .truth import rows

PIPELINES = "gitlab/pipelines"
# nginx's own answer to a request it timed out.
TIMED_OUT = (
    b"<html>\r\n<head><title>408 Request Time-out</title></head>\r\n<body>\r\n"
    b"<center><h1>408 Request Time-out</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)


class GitLabBehindNginx(FakeGitLab):
    """GitLab's pages, the first request answered 408 by the proxy in front."""

    def __init__(self) -> None:
        super().__init__(six_pipelines())
        self.timed_out: list[str] = []

    def handler(self) -> type[BaseHTTPRequestHandler]:
        gitlab, listing = self, super().handler()

        class Nginx(listing):  # type: ignore[misc,valid-type]
            def do_GET(self) -> None:
                if gitlab.timed_out:
                    return super().do_GET()
                gitlab.timed_out.append(self.path)
                self.send_response(408)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(TIMED_OUT)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(TIMED_OUT)

        return Nginx


def test_a_408_from_a_proxy_is_asked_again_and_the_run_reads_everything(tmp_path: Path) -> None:
    """Six pipelines, two a page. By hand: page 1 answered 408, asked again, then pages 1 to 3: 4 requests, 1 retry,
    pipelines 1 to 6 written, the run succeeded and the watermark moved to the window's end."""
    lake = Lake.from_settings(Settings(lake_url=str(tmp_path / "lake")))
    MappingStore(lake).apply([{"entity_id": "shop", "kind": "application", "gitlab_project_id": PROJECT}], actor="test")
    gitlab = GitLabBehindNginx()
    with serving(gitlab.handler()) as url:
        settings = IngestSettings(
            gitlab_url=url, gitlab_token=SecretStr("glpat-reader"), gitlab_per_page=PER_PAGE, http_backoff_base_s=0.01
        )
        outcome = ingest("gitlab", lake, settings, window=Window(SINCE, UNTIL), datasets=[PIPELINES])
    (result,) = outcome.outcomes
    record = result.record
    assert len(gitlab.timed_out) == 1
    assert (record.status, record.requests, record.retries) == ("succeeded", 4, 1), record.error
    assert sorted(r["pipeline_id"] for r in rows(lake, PIPELINES)) == [1, 2, 3, 4, 5, 6]
    mark = Watermarks(lake).get("gitlab", "pipelines")
    assert mark is not None and mark.value == UNTIL
