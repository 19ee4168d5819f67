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
    elsewhere = client.get(f"/api/v1/applications/{name}", params={"appNamespace": "team-b"})
    assert elsewhere.status_code == 404 and elsewhere.json()["code"] == 5
    listed = client.get("/api/v1/applications", params={"appNamespace": "team-b"}).json()
    assert listed["items"] is None  # ArgoCD writes an empty list as null
    own = client.get("/api/v1/applications", params={"appNamespace": NAMESPACE}).json()
    assert len(own["items"]) == len(simulator.apps)
