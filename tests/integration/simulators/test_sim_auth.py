"""Wrong or missing credentials get each real API's status and error body."""

import base64

import httpx
import pytest

from simulators.serve import RunningSimulators

pytestmark = pytest.mark.simulators


def _get(sims: RunningSimulators, source: str, path: str, **kwargs: object) -> httpx.Response:
    return httpx.get(sims.urls[source] + path, timeout=10, **kwargs)  # type: ignore[arg-type]


def test_dynatrace(sims: RunningSimulators) -> None:
    missing = _get(sims, "dynatrace", "/api/v2/problems")
    wrong = _get(sims, "dynatrace", "/api/v2/problems", headers={"Authorization": "Api-Token dt0c01.WRONG.TOKEN"})
    for response in (missing, wrong):
        assert response.status_code == 401
        assert response.json()["error"]["code"] == 401 and response.json()["error"]["message"]
    bearer = _get(
        sims,
        "dynatrace",
        "/api/v2/problems",
        headers={"Authorization": f"Bearer {sims.credentials['dynatrace']['api_token']}"},
    )
    assert bearer.status_code == 401


def test_servicenow(sims: RunningSimulators) -> None:
    response = _get(sims, "servicenow", "/api/now/table/incident", auth=("rosetta.integration", "nope"))
    assert response.status_code == 401
    assert response.json() == {
        "error": {"message": "User Not Authenticated", "detail": "Required to provide Auth information"},
        "status": "failure",
    }


def test_argocd(sims: RunningSimulators) -> None:
    missing = _get(sims, "argocd", "/api/v1/applications")
    wrong = _get(sims, "argocd", "/api/v1/applications", headers={"Authorization": "Bearer not-a-jwt"})
    for response in (missing, wrong):
        body = response.json()
        assert response.status_code == 401 and body["code"] == 16
        assert set(body) >= {"error", "code", "message"} and body["error"] == body["message"]
    session = httpx.post(
        sims.urls["argocd"] + "/api/v1/session",
        timeout=10,
        json={"username": "admin", "password": sims.credentials["argocd"]["password"]},
    )
    assert session.json() == {"token": sims.credentials["argocd"]["token"]}


def test_gitlab(sims: RunningSimulators) -> None:
    for headers in ({}, {"PRIVATE-TOKEN": "glpat-wrong"}, {"Authorization": "Bearer glpat-wrong"}):
        response = _get(sims, "gitlab", "/api/v4/projects/1000/deployments", headers=headers)
        assert response.status_code == 401 and response.json() == {"message": "401 Unauthorized"}
    ok = _get(
        sims,
        "gitlab",
        "/api/v4/projects/1000/deployments",
        headers={"Authorization": f"Bearer {sims.credentials['gitlab']['private_token']}"},
    )
    assert ok.status_code == 200


def test_elasticsearch(sims: RunningSimulators) -> None:
    missing = _get(sims, "elasticsearch", "/logs-*/_count")
    wrong = _get(sims, "elasticsearch", "/logs-*/_count", auth=("elastic", "wrong"))
    for response in (missing, wrong):
        body = response.json()
        assert response.status_code == 401 and body["status"] == 401
        assert body["error"]["type"] == "security_exception" and body["error"]["root_cause"][0]["reason"]
    assert "unable to authenticate user [elastic]" in wrong.json()["error"]["reason"]
    api_key = _get(
        sims,
        "elasticsearch",
        "/logs-*/_count",
        headers={"Authorization": f"ApiKey {sims.credentials['elasticsearch']['api_key']}"},
    )
    assert api_key.status_code == 200
    base64.b64decode(sims.credentials["elasticsearch"]["api_key"]).decode().index(":")


def test_kibana_and_catalog(sims: RunningSimulators) -> None:
    assert _get(sims, "kibana", "/api/status").status_code == 401
    status = _get(sims, "kibana", "/api/status", auth=("elastic", sims.credentials["kibana"]["password"]))
    assert status.json()["status"]["overall"]["level"] == "available"
    assert _get(sims, "kibana", "/app/discover").status_code == 200
    assert _get(sims, "catalog", "/catalog-info.yaml").text.startswith("apiVersion: backstage.io/v1alpha1")


def test_kibana_answers_in_its_spaces_as_in_the_default_one(sims: RunningSimulators) -> None:
    """Kibana serves each space under /s/{space}: Discover (a browser route, the app shell without credentials) and
    the space's data views, which the API reads for a link in a space. The simulator served the default space alone:
    a link in the space sre opened a 401 and the data views were a 404, so a link fell back to its index pattern.
    The estate's data views are shared to every space, as Kibana writes it (namespaces ["*"]): sre lists them all."""
    from functions.api.kibana import discover_url

    credentials = ("elastic", sims.credentials["kibana"]["password"])
    link = discover_url(
        sims.urls["kibana"], data_view_id="v", query="q", time_from="now-1h", time_to="now", space="sre"
    )
    page = httpx.get(link.split("#", 1)[0], timeout=10)
    assert page.status_code == 200 and "Discover" in page.text
    assert _get(sims, "kibana", "/s/sre/api/data_views").status_code == 401
    default = _get(sims, "kibana", "/api/data_views", auth=credentials).json()["data_view"]
    sre = _get(sims, "kibana", "/s/sre/api/data_views", auth=credentials)
    assert sre.status_code == 200 and sre.json()["data_view"] == default
    assert len(default) == len(sims.estate.applications) and {v["namespaces"][0] for v in default} == {"*"}
    status = _get(sims, "kibana", "/s/sre/api/status", auth=credentials)
    assert status.json()["status"]["overall"]["level"] == "available"
