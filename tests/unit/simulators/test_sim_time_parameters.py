"""Time parameters the simulators cannot read are refused as the real APIs refuse them: 400, never a 500."""

from starlette.testclient import TestClient

from simulators.dynatrace import DynatraceSimulator
from simulators.estate import Estate
from simulators.gitlab import GitLabSimulator
from simulators.timeseries import Telemetry


def test_an_impossible_date_is_a_bad_request_not_a_server_error(estate: Estate) -> None:
    """2024-13-01 (no month 13) and 2024-02-30 matched the ISO pattern, then failed to become a date: the simulators
    answered 500, which a client retries as an outage, where GitLab and Dynatrace answer 400 (invalid parameter)."""
    gitlab = TestClient(GitLabSimulator(estate, "t").app, headers={"PRIVATE-TOKEN": "t"})
    project = next(c.gitlab_project_id for c in estate.components)
    dynatrace = TestClient(
        DynatraceSimulator(estate, Telemetry(estate), "t").app, headers={"Authorization": "Api-Token t"}
    )
    for impossible in ("2024-13-01T00:00:00Z", "2024-02-30T10:00:00Z", "2024-01-01T25:00:00Z"):
        listed = gitlab.get(f"/api/v4/projects/{project}/deployments", params={"updated_after": impossible})
        assert listed.status_code == 400 and listed.json() == {"error": "updated_after is invalid"}
        problems = dynatrace.get("/api/v2/problems", params={"from": impossible})
        assert problems.status_code == 400 and problems.json()["error"]["constraintViolations"][0]["path"] == "from"
