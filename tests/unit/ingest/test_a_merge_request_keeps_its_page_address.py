"""A merged request keeps its page in GitLab (web_url), as GitLab gives it, from the project's merged list and from a
deployment's list of the requests it shipped: the lead-time list links to it. A value that is no http(s) address
(a script a browser would run, a relative path, no text) is left out, and the request kept without it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from functions.ingest_deploys import parse
from tests.conftest import FIXTURES


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def pages(result: parse.ParseResult, dataset: str) -> dict[int, str | None]:
    assert result.rejects == []
    return {row["mr_id"]: row["web_url"] for row in result.tables[dataset].to_pylist()}


def test_the_merged_list_keeps_each_requests_page() -> None:
    """GitLab's docs example: request 1 of my-group/my-project, its page without the /-/ newer GitLab writes."""
    listed = load("gitlab/merge_requests__project_list_merged_docs.json")
    result = parse.parse_merge_requests_page(listed, {"project_id": 3})
    assert pages(result, parse.MERGE_REQUESTS) == {1: "http://gitlab.example.com/my-group/my-project/merge_requests/1"}


def test_a_deployments_list_keeps_each_shipped_requests_page() -> None:
    """gitlab.com's real payload lists open requests: the first, as merged, keeps its page as given."""
    (first, *_) = load("gitlab/deployment_merge_requests__gitlab_com_real_go-gitlab.json")
    shipped = {**first, "state": "merged", "merged_at": "2019-08-20T12:01:49.849Z"}
    result = parse.parse_deployment_merge_requests_page([shipped], {"project_id": 278964, "deployment_id": 2})
    assert pages(result, parse.DEPLOYMENT_MRS) == {
        35385049: "https://gitlab.com/gitlab-org/gitlab-ee/merge_requests/15442"
    }


# A script a browser would run, a relative path, an address that cannot be read, no text.
NO_WEB_ADDRESS = [
    "javascript:alert(document.cookie)",
    "data:text/html,<script>x()</script>",
    "/my-group/my-project/-/merge_requests/1",
    "http://[::1/merge_requests/1",
    "",
    42,
    None,
]


@pytest.mark.parametrize("value", NO_WEB_ADDRESS)
def test_a_value_that_is_no_web_address_is_left_out_not_the_request(value: Any) -> None:
    (request,) = load("gitlab/merge_requests__project_list_merged_docs.json")
    listed = parse.parse_merge_requests_page([{**request, "web_url": value}], {"project_id": 3})
    assert pages(listed, parse.MERGE_REQUESTS) == {1: None}
    shipped = parse.parse_deployment_merge_requests_page(
        [{**request, "web_url": value}], {"project_id": 3, "deployment_id": 42}
    )
    assert pages(shipped, parse.DEPLOYMENT_MRS) == {1: None}
