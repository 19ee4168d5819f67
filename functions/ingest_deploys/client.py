"""The ArgoCD and GitLab APIs: bearer/private tokens, one ArgoCD listing, GitLab offset pages (x-next-page)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from pydantic import SecretStr

from lakehouse.ingest.client import ApiResponse, PageRequest, SourceClient
from lakehouse.ingest.paginators import NextPagePaginator


class ArgoCDClient(SourceClient):
    source = "argocd"

    def __init__(self, base_url: str, token: SecretStr, **options: Any) -> None:
        header = SecretStr(f"Bearer {token.get_secret_value()}")
        super().__init__(base_url, headers={"Authorization": header}, **options)

    def applications(self) -> ApiResponse:
        """Every application in one answer (ArgoCD does not page). No `fields`: its whitelist drops history, and
        never `refresh`: a collector must not trigger reconciliation."""
        response = self.send(PageRequest("/api/v1/applications"))
        self.counters.pages += 1
        return response


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


class GitLabClient(SourceClient):
    source = "gitlab"

    def __init__(self, base_url: str, token: SecretStr, **options: Any) -> None:
        super().__init__(base_url, headers={"PRIVATE-TOKEN": token}, **options)

    def _listing(self, path: str, params: dict[str, Any]) -> Iterator[ApiResponse]:
        return self.pages(PageRequest(path, params), NextPagePaginator(self.source))

    def deployments(self, project_id: int, since: datetime, until: datetime, per_page: int) -> Iterator[ApiResponse]:
        """Deployments updated in [since, until): GitLab's bounds are exclusive, hence the millisecond."""
        return self._listing(
            f"/api/v4/projects/{project_id}/deployments",
            {
                "updated_after": _iso(since - timedelta(milliseconds=1)),
                "updated_before": _iso(until),
                "order_by": "updated_at",
                "sort": "asc",
                "per_page": per_page,
            },
        )

    def deployment_merge_requests(self, project_id: int, deployment_id: int, per_page: int) -> Iterator[ApiResponse]:
        return self._listing(
            f"/api/v4/projects/{project_id}/deployments/{deployment_id}/merge_requests", {"per_page": per_page}
        )

    def merged_requests(
        self, project_id: int, since: datetime, until: datetime, per_page: int
    ) -> Iterator[ApiResponse]:
        """Merged requests updated in [since, until): lead time for deployments that list none (ArgoCD)."""
        return self._listing(
            f"/api/v4/projects/{project_id}/merge_requests",
            {
                "state": "merged",
                "updated_after": _iso(since - timedelta(milliseconds=1)),
                "updated_before": _iso(until),
                "order_by": "updated_at",
                "sort": "asc",
                "per_page": per_page,
            },
        )

    def pipelines(self, project_id: int, since: datetime, until: datetime, per_page: int) -> Iterator[ApiResponse]:
        return self._listing(
            f"/api/v4/projects/{project_id}/pipelines",
            {
                "updated_after": _iso(since - timedelta(milliseconds=1)),
                "updated_before": _iso(until),
                "order_by": "updated_at",
                "sort": "asc",
                "per_page": per_page,
            },
        )
