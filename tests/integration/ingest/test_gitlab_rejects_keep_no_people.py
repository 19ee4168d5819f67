"""A GitLab record set aside as a reject keeps the fields its parser reads, not the people GitLab sends with it: the
deploying user's name and profile, the commit's author and e-mail address, a merge request's author, assignees and
merger. gitlab/deployments keeps the deploying user's username only, and the rejects used to keep everything else."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from functions.ingest_deploys import parse
from lakehouse.ingest.config import IngestSettings
from lakehouse.ingest.sources import ingest
from lakehouse.ingest.window import Window
from lakehouse.mappings import MappingStore
from lakehouse.runlog import RunRecord
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.integration.api.test_endpoints import QuietHandler, serving
from tests.integration.ingest.truth import rows
from tests.unit.ingest.test_deploys_parse import load

PROJECT = 5
# The people of the fixtures, as GitLab's documentation examples name them.
DEPLOYMENT_PEOPLE = ("admin@example.com", "Administrator", "gravatar.com", "author_name", "public_email")
REQUEST_PEOPLE = ("Douwe Maan", "DouweM", "Miss Monserrate Beier", "axel.block", "Administrator", "author")

Answers = dict[str, Any]


@pytest.fixture
def gitlab() -> Iterator[Callable[[Answers], str]]:
    """GitLab on loopback, answering each path with the text or JSON the test gives."""
    answers: list[Answers] = []

    class Project(QuietHandler):
        def do_GET(self) -> None:
            answer = answers[0][self.path.split("?")[0]]
            if not isinstance(answer, str):
                self.send_json(answer)
                return
            payload = answer.encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    with serving(Project) as url:

        def serve(given: Answers) -> str:
            answers.append(given)
            return url

        yield serve


def run(tmp_path: Path, url: str, datasets: list[str]) -> tuple[Lake, dict[str, RunRecord]]:
    """One ingestion of `datasets` for project 5, mapped; each dataset's run record."""
    lake = Lake.from_settings(Settings(lake_url=str(tmp_path / "lake")))
    entry = {"entity_id": "shop", "kind": "application", "gitlab_project_id": PROJECT}
    MappingStore(lake).apply([entry], actor="test", replace=True)
    settings = IngestSettings(gitlab_url=url, gitlab_token=SecretStr("glpat-reader-token-1"), http_attempts=1)
    now = datetime(2024, 3, 5, 8, tzinfo=UTC)
    outcome = ingest("deploys", lake, settings, window=Window(now - timedelta(hours=1), now), datasets=datasets)
    return lake, {o.dataset: o.record for o in outcome.outcomes}


def test_a_rejected_deployment_keeps_the_deploying_username_and_not_the_people_sent_with_it(
    tmp_path: Path, gitlab: Callable[[Answers], str]
) -> None:
    """Deployment 41 of GitLab's list example came with a creation time without a zone. By hand: deployment 42 is
    kept (deployed by root); 41 is one reject keeping what the parser read (its id, status, the time as sent, the
    deployment's and the job's username root, job 657, pipeline 36, the commit's time) and none of Administrator's
    name, avatar or profile, nor the commit's author and e-mail address."""
    deployments = load("gitlab/deployments__list_docs.json")
    deployments[0]["created_at"] = "2016-08-11 07:36:40"
    url = gitlab({f"/api/v4/projects/{PROJECT}/deployments": deployments})

    lake, records = run(tmp_path, url, [parse.DEPLOYMENTS])

    assert (records[parse.DEPLOYMENTS].status, records[parse.DEPLOYMENTS].rows_rejected) == ("partial", 1)
    assert [(r["deployment_id"], r["user_username"]) for r in rows(lake, parse.DEPLOYMENTS)] == [(42, "root")]
    (reject,) = rows(lake, "gitlab/rejects")
    assert not [person for person in DEPLOYMENT_PEOPLE if person in reject["raw_text"]]
    kept = json.loads(reject["raw_text"])
    assert (kept["id"], kept["status"], kept["created_at"]) == (41, "created", "2016-08-11 07:36:40")
    assert kept["user"] == {"username": "root"}
    job = kept["deployable"]
    assert (job["id"], job["user"], job["pipeline"]) == (657, {"username": "root"}, {"id": 36})
    assert job["commit"] == {"created_at": "2016-08-11T09:36:01.000+02:00"}


def test_a_rejected_merge_request_keeps_no_author_assignee_or_merger(
    tmp_path: Path, gitlab: Callable[[Answers], str]
) -> None:
    """The merged request of GitLab's list example came merged without merged_at. By hand: one reject of
    gitlab/merge_requests keeping its id 1, title test1 and state merged, and none of its author's, assignees' or
    merger's names and usernames."""
    (merged,) = load("gitlab/merge_requests__project_list_merged_docs.json")
    merged["merged_at"] = None
    url = gitlab(
        {
            f"/api/v4/projects/{PROJECT}": {"id": PROJECT, "default_branch": "master"},
            f"/api/v4/projects/{PROJECT}/merge_requests": [merged],
        }
    )

    lake, records = run(tmp_path, url, [parse.MERGE_REQUESTS])

    assert (records[parse.MERGE_REQUESTS].status, records[parse.MERGE_REQUESTS].rows_rejected) == ("partial", 1)
    (reject,) = rows(lake, "gitlab/rejects")
    assert not [person for person in REQUEST_PEOPLE if person in reject["raw_text"]]
    kept = json.loads(reject["raw_text"])
    assert (kept["id"], kept["title"], kept["state"], kept["merged_at"]) == (1, "test1", "merged", None)


def test_a_deployments_page_cut_short_is_not_kept_as_it_came(tmp_path: Path, gitlab: Callable[[Answers], str]) -> None:
    """The deployments page came cut after its first 1,500 characters (not JSON), on the one attempt allowed. By
    hand: the run fails with one reject, whose text says how many characters were left out (1,500) and holds none
    of the commit author's e-mail address or the deploying user's name that those characters hold."""
    page = json.dumps(load("gitlab/deployments__list_docs.json"))[:1500]
    assert "admin@example.com" in page and "Administrator" in page
    url = gitlab({f"/api/v4/projects/{PROJECT}/deployments": page})

    lake, records = run(tmp_path, url, [parse.DEPLOYMENTS])

    assert (records[parse.DEPLOYMENTS].status, records[parse.DEPLOYMENTS].rows_rejected) == ("failed", 1)
    (reject,) = rows(lake, "gitlab/rejects")
    assert "not valid JSON" in reject["reason"]
    assert not [person for person in DEPLOYMENT_PEOPLE if person in reject["raw_text"]]
    assert "1500 characters" in reject["raw_text"]
