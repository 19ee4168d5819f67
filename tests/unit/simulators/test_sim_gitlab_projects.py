"""The GitLab simulator lists the projects a token may see, as GitLab's `GET /projects` does."""

from datetime import datetime

from starlette.testclient import TestClient

from simulators.estate import Estate
from simulators.gitlab import GitLabSimulator


def test_the_projects_are_listed_newest_first_a_page_at_a_time(estate: Estate) -> None:
    """GitLab's default order is created_at, newest first; pages carry their count as other lists do."""
    client = TestClient(GitLabSimulator(estate, "t").app, headers={"PRIVATE-TOKEN": "t"})
    first = client.get("/api/v4/projects", params={"per_page": 2})
    assert first.status_code == 200
    assert first.headers["x-total"] == str(len(estate.components))
    listed = [
        p
        for page in range(1, len(estate.components) + 1)
        for p in client.get("/api/v4/projects", params={"per_page": 1, "page": page}).json()
    ]
    assert sorted(p["id"] for p in listed) == sorted(c.gitlab_project_id for c in estate.components)
    created = [datetime.fromisoformat(p["created_at"]) for p in listed]
    assert created == sorted(created, reverse=True)
    assert first.json() == listed[:2]
    by_id = client.get("/api/v4/projects", params={"order_by": "id", "sort": "asc", "per_page": 100}).json()
    assert [p["id"] for p in by_id] == sorted(c.gitlab_project_id for c in estate.components)[:100]
    assert client.get("/api/v4/projects", params={"order_by": "stars"}).status_code == 400
    assert TestClient(GitLabSimulator(estate, "t").app).get("/api/v4/projects").status_code == 401
