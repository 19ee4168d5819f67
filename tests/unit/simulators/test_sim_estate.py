"""The synthetic estate: deterministic, internally consistent, and mapped the way the catalog says."""

import re
from datetime import UTC, datetime, timedelta

import yaml

from simulators.estate import Estate, generate_estate
from simulators.model import PRODUCTION

END = datetime(2024, 5, 1, tzinfo=UTC)


def test_same_arguments_give_the_same_world() -> None:
    first = generate_estate(seed=5, apps=6, days=14, end=END)
    second = generate_estate(seed=5, apps=6, days=14, end=END)
    assert first.truth.to_json() == second.truth.to_json()
    assert first.catalog_yaml() == second.catalog_yaml()


def test_another_seed_gives_another_world() -> None:
    first = generate_estate(seed=5, apps=6, days=14, end=END)
    other = generate_estate(seed=6, apps=6, days=14, end=END)
    assert first.truth.to_json() != other.truth.to_json()
    assert [a.id for a in first.applications] != [a.id for a in other.applications]


def test_end_defaults_to_the_current_hour_and_history_covers_the_days() -> None:
    before = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    world = generate_estate(seed=1, apps=2, days=3)
    assert world.end in (before, before + timedelta(hours=1))
    assert world.end - world.start == timedelta(days=3)
    assert all(world.start <= d.time < world.end for d in world.deployments)


def test_every_incident_caused_by_a_deployment_follows_a_real_failing_release(estate: Estate) -> None:
    deployments = {d.id: d for d in estate.truth.deployments}
    caused = [i for i in estate.truth.incidents if i.caused_by is not None]
    assert caused, "the estate should contain deployment-caused incidents"
    for incident in caused:
        deployment = deployments[incident.caused_by]
        assert deployment.time < incident.opened_at
        assert deployment.caused_incident == incident.number
        assert deployment.app == incident.app and not deployment.failed
    flagged = [d for d in estate.truth.deployments if d.caused_incident]
    assert len(flagged) == len(caused)


def test_incident_times_are_ordered_and_before_the_end(estate: Estate) -> None:
    for incident in estate.truth.incidents:
        assert estate.start <= incident.opened_at < estate.end
        if incident.resolved_at is not None:
            assert incident.resolved_at >= incident.opened_at
        if incident.closed_at is not None:
            assert incident.closed_at >= (incident.resolved_at or incident.opened_at)
            assert incident.closed_at <= estate.end
    assert any(i.closed_at is None for i in estate.truth.incidents), "some incidents are still open at the end"


def test_an_incident_canceled_after_the_end_is_open_at_the_end() -> None:
    """Seed 49, 3 applications, 5 days to 2 May 2024 13:00: INC0010008, opened at 10:41:40 and canceled after the end,
    was served Canceled (state 8, its SLAs "cancelled") with no update of it before the end, and the KPIs, which
    leave canceled incidents out, missed an incident open then. The table answers as of the end: it is open (1 or 2),
    its SLAs in progress; and no incident is canceled without its cancellation within the estate."""
    estate = generate_estate(seed=49, apps=3, days=5, end=datetime(2024, 5, 2, 13, tzinfo=UTC))
    (incident,) = [i for i in estate.incidents if i.number == "INC0010008"]
    assert datetime.fromtimestamp(incident.opened_s, UTC) == datetime(2024, 5, 2, 10, 41, 40, tzinfo=UTC)
    assert (incident.state, incident.closed_s, incident.resolved_s) in {(1, None, None), (2, None, None)}
    for seed in (49, 1, 2, 3):
        estate = generate_estate(seed=seed, apps=3, days=5, end=datetime(2024, 5, 2, 13, tzinfo=UTC))
        assert all(i.closed_s is not None and i.closed_s <= estate.end_s for i in estate.incidents if i.canceled)


def test_merge_requests_are_merged_before_the_deployment_that_ships_them(estate: Estate) -> None:
    merge_requests = {m.id: m for m in estate.merge_requests}
    checked = 0
    for deployment in estate.truth.deployments:
        for mr_id in deployment.merge_request_ids:
            assert merge_requests[mr_id].merged_at < deployment.time
            assert merge_requests[mr_id].created_s < merge_requests[mr_id].merged_s
            checked += 1
    assert checked > 20


def test_per_app_truth_matches_the_event_lists(estate: Estate) -> None:
    for app in estate.applications:
        stats = estate.truth.per_app[app.id]
        deployments = estate.truth.deployments_of(app.id)
        assert stats.production_deployments == len(deployments)
        assert stats.failed_deployments == sum(d.failed for d in deployments)
        assert stats.incidents_caused_by_deployments == sum(
            1 for i in estate.truth.incidents_of(app.id) if i.caused_by is not None
        )
    assert all(d.environment == PRODUCTION for d in estate.truth.deployments)
    assert any(d.failed for d in estate.truth.deployments)
    assert any(d.rollback for d in estate.truth.deployments)


def test_changes_record_deployments_and_their_outcome(estate: Estate) -> None:
    by_number = {c.number: c for c in estate.truth.changes}
    for deployment in estate.truth.deployments:
        change = by_number[deployment.change_number or ""]
        assert change.deployment_id == deployment.id
        assert change.planned_start < change.planned_end
        if deployment.failed and change.close_code:
            assert change.close_code == "unsuccessful"
    codes = {c.close_code for c in estate.truth.changes}
    assert {"successful", "unsuccessful"} <= codes
    assert any(c.planned_start > estate.end and c.state == -2 for c in estate.truth.changes)


def test_truth_dumps_as_json_with_plain_values(estate: Estate) -> None:
    dumped = estate.truth.as_dict()
    assert len(dumped["deployments"]) == len(estate.truth.deployments)
    first = dumped["incidents"][0]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", first["opened_at"])
    assert set(dumped["per_app"]) == {a.id for a in estate.applications}


def test_catalog_follows_the_mapping_conventions(estate: Estate) -> None:
    documents = list(yaml.safe_load_all(estate.catalog_yaml()))
    kinds = {d["kind"] for d in documents}
    assert kinds == {"Group", "Domain", "System", "Component"}
    groups = {d["metadata"]["name"]: d for d in documents if d["kind"] == "Group"}
    systems = {d["metadata"]["name"]: d for d in documents if d["kind"] == "System"}
    components = [d for d in documents if d["kind"] == "Component"]
    assert len(systems) == len(estate.applications) and len(components) == len(estate.components)
    for team in (g for g in groups.values() if g["spec"]["type"] == "team"):
        assert groups[team["spec"]["parent"]]["spec"]["type"] == "group"
    for system in systems.values():
        assert re.fullmatch(r"[a-z0-9-]+", system["metadata"]["name"])
        assert system["spec"]["owner"].removeprefix("group:default/") in groups
        assert re.fullmatch(r"[0-9a-f]{32}", system["metadata"]["annotations"]["rosetta.io/servicenow-ci-id"])
    for component in components:
        notes = component["metadata"]["annotations"]
        app = component["spec"]["system"]
        assert component["spec"]["type"] == "service" and component["spec"]["lifecycle"] == "production"
        assert re.fullmatch(r"SERVICE-[0-9A-F]{16}", notes["dynatrace.com/dynatrace-entity-id"])
        assert notes["rosetta.io/dynatrace-tag"] == f"app:{app}"
        assert re.fullmatch(r"[0-9a-f]{32}", notes["rosetta.io/servicenow-ci-id"])
        # An ArgoCD application only where ArgoCD deploys the component (GitLab-deployed ones have none).
        if "argocd" in component["metadata"]["tags"]:
            assert notes["argocd/app-name"] == f"{component['metadata']['name']}-prod"
        else:
            assert "argocd/app-name" not in notes
        assert isinstance(notes["gitlab.com/project-id"], str) and notes["gitlab.com/project-id"].isdigit()
        assert notes["rosetta.io/elisa-index"] == f"logs-{app}-*"
        assert notes["rosetta.io/environment"] == "production"
        assert "{component}" in notes["rosetta.io/kibana-query-template"]
    assert any(c.has_staging for c in estate.components)
