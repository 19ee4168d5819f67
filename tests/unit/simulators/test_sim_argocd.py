"""The ArgoCD simulator's application endpoints read appNamespace as ArgoCD's API does."""

from starlette.testclient import TestClient

from simulators.argocd import NAMESPACE, ArgoCDSimulator
from simulators.estate import Estate


def test_app_namespace_names_the_namespace_an_application_is_read_in(estate: Estate) -> None:
    """Every simulated application lives in ArgoCD's own namespace (argocd). appNamespace was ignored: an
    application asked for in a team's namespace was answered with the one of argocd, so a client sending the wrong
    namespace (or none where one is needed) could not be caught against the simulator."""
    simulator = ArgoCDSimulator(estate, token="t", username="admin", password="p")
    name = next(iter(simulator.apps))
    client = TestClient(simulator.app, headers={"Authorization": "Bearer t"})
    assert client.get(f"/api/v1/applications/{name}").json()["metadata"]["namespace"] == NAMESPACE
    assert client.get(f"/api/v1/applications/{name}", params={"appNamespace": NAMESPACE}).status_code == 200
    # Not found there: ArgoCD's 403 without a project (as for any application it does not have), 404 with one.
    elsewhere = client.get(f"/api/v1/applications/{name}", params={"appNamespace": "team-b"})
    assert elsewhere.status_code == 403 and elsewhere.json()["code"] == 7
    project = simulator.application(name)["spec"]["project"]
    elsewhere = client.get(f"/api/v1/applications/{name}", params={"appNamespace": "team-b", "project": project})
    assert elsewhere.status_code == 404 and elsewhere.json()["code"] == 5
    listed = client.get("/api/v1/applications", params={"appNamespace": "team-b"}).json()
    assert listed["items"] is None  # ArgoCD writes an empty list as null
    own = client.get("/api/v1/applications", params={"appNamespace": NAMESPACE}).json()
    assert len(own["items"]) == len(simulator.apps)


def test_an_application_not_there_is_refused_as_argocd_refuses_it(estate: Estate) -> None:
    """ArgoCD 2.6.7 on answers 403 "permission denied" for an application that does not exist, so that a caller cannot
    tell which exist; with the project given, 404 for one that does not exist and 403 for one of another project. The
    simulator answered 404 always, so a client reading a 403 as a refused token could not be caught against it."""
    simulator = ArgoCDSimulator(estate, token="t", username="admin", password="p")
    name = next(iter(simulator.apps))
    project = simulator.application(name)["spec"]["project"]
    client = TestClient(simulator.app, headers={"Authorization": "Bearer t"})
    missing = client.get("/api/v1/applications/no-such-app")
    assert (missing.status_code, missing.json()["code"], missing.json()["message"]) == (403, 7, "permission denied")
    missing = client.get("/api/v1/applications/no-such-app", params={"project": project})
    assert (missing.status_code, missing.json()["code"]) == (404, 5)
    other = client.get(f"/api/v1/applications/{name}", params={"project": f"not-{project}"})
    assert (other.status_code, other.json()["code"]) == (403, 7)
    assert client.get(f"/api/v1/applications/{name}", params={"project": project}).status_code == 200
