"""An estate reorganised through the admin API, then built, then read: the hand-made estate
(tests/unit/aggregates/estate.py), production, last 30 days before its as-of.

Its history, worked out by hand: shop-api (CI aaa…, ArgoCD shop-api-prod, SERVICE-A) has INC1 and INC3, CHG1, the
three successful ArgoCD deployments and 24 hours of 1,000 requests; shop-db (CI bbb…, GitLab project 12, SERVICE-B)
has INC2 (still open), CHG2, the successful GitLab deployment 102 (and the failed 101) and 20 hours of 500 requests;
broken-svc (ArgoCD broken-prod) has two failed deployments; quiet has nothing. gitlab:103 went to staging, where
project 12 is not mapped. shop is team t1, group g1, domain d1; quiet and broken are team t2, in d1 and d2."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from functions.api.main import create_app
from lakehouse.aggregates.build import build
from lakehouse.storage import Lake
from tests.integration.api.conftest import ADMIN, READER, api_settings, by_id, down_sources, get_json
from tests.unit.aggregates.estate import AS_OF, estate_lake, mapping

SHOP_API = next(e for e in mapping() if e["entity_id"] == "shop-api")
LAST_30D = "period=last_30d"


class Estate:
    """The estate built once under mapping version 1, served by the API, for one test to reorganise."""

    def __init__(self, root: Path) -> None:
        self.lake, self.settings = estate_lake(root)
        build(self.lake, self.settings, mode="full", as_of=AS_OF)
        self.client = TestClient(
            create_app(api_settings(root), self.settings, down_sources()), raise_server_exceptions=False
        )

    def change(self, body: dict[str, Any]) -> None:
        response = self.client.post("/monitoring/admin/mappings", headers=ADMIN, json=body)
        assert response.status_code == 201, response.text

    def rebuild(self) -> None:
        """The next scheduled build (hourly), then the API serving it."""
        result = build(self.lake, self.settings, mode="hourly", as_of=AS_OF)
        assert result.full_because is not None  # a new mapping version rebuilds every day
        assert self.client.app.state.context.mart.refresh(force=True)  # type: ignore[attr-defined]

    def rows(self, report: str, group_by: str) -> dict[str, dict[str, Any]]:
        return by_id(get_json(self.client, f"/monitoring/kpis/{report}?groupBy={group_by}&{LAST_30D}"))


@pytest.fixture
def estate(tmp_path: Path) -> Iterator[Estate]:
    built = Estate(tmp_path)
    with built.client:
        yield built


def _figures(rows: dict[str, dict[str, Any]], name: str) -> dict[str, Any]:
    return {row_id: row[name] for row_id, row in rows.items()}


def _freshness(body: dict[str, Any]) -> tuple[int, int]:
    return body["freshness"]["mappingVersion"], body["freshness"]["buildMappingVersion"]


def test_a_component_moved_to_another_application_takes_its_history_along(estate: Estate) -> None:
    """shop-api moves to shop2 (team t9, group g9, domain d9). Until the next build the figures are version 1's, and
    say so; after it, shop-api's history is shop2's and shop keeps shop-db's: nothing counted twice, nothing lost."""
    estate.change(
        {
            "entries": [
                {"entity_id": "shop2", "kind": "application", "team": "t9", "group": "g9", "domain": "d9"},
                SHOP_API | {"application_id": "shop2"},
            ],
            "note": "shop-api to shop2",
        }
    )
    before = get_json(estate.client, f"/monitoring/kpis/incidents?groupBy=app&{LAST_30D}")
    assert _freshness(before) == (2, 1)
    assert _figures(by_id(before), "opened") == {"broken": 0, "quiet": 0, "shop": 3}

    estate.rebuild()
    incidents = estate.rows("incidents", "app")
    assert _figures(incidents, "opened") == {"broken": 0, "quiet": 0, "shop": 1, "shop2": 2}
    assert (incidents["shop2"]["restored"], incidents["shop"]["openEndOfPeriod"]) == (2, 1)
    assert _figures(estate.rows("incidents", "team"), "opened") == {"t1": 1, "t2": 0, "t9": 2}
    assert _figures(estate.rows("changes", "app"), "implemented") == {"broken": 0, "quiet": 0, "shop": 1, "shop2": 1}
    dora = estate.rows("dora", "app")
    assert _figures(dora, "deploymentFrequencyNumerator") == {"broken": 0, "quiet": 0, "shop": 1, "shop2": 3}
    assert _figures(estate.rows("dora", "domain"), "deploymentFrequencyNumerator") == {"d1": 1, "d2": 0, "d9": 3}
    slo = estate.rows("slo", "app")
    assert (slo["shop"]["availabilityDenominator"], slo["shop2"]["availabilityDenominator"]) == (10_000, 24_000)
    history = get_json(estate.client, "/monitoring/applications/shop2/deployments?mode=history")
    assert _freshness(history) == (2, 2)
    assert sorted(d["deploymentKey"] for d in history["items"]) == [f"argocd:shop-api-prod:{n}" for n in (1, 2, 3)]


def test_a_retired_application_is_a_404_and_its_records_are_unmapped(estate: Estate) -> None:
    """broken and broken-svc are removed. Their routes are a 404 naming them at once; after the next build broken's
    two failed deployments count in no team or domain and are listed as what the mapping leaves out."""
    assert _figures(estate.rows("dora", "team"), "changeFailureDenominator") == {"t1": 5, "t2": 2}
    estate.change({"remove": [{"entity_id": "broken"}, {"entity_id": "broken-svc"}], "note": "broken retired"})
    for url, named in [
        ("/monitoring/applications/broken/summary", "no application 'broken' in the mapping"),
        ("/monitoring/applications/broken/deployments?mode=history", "no application 'broken' in the mapping"),
        ("/monitoring/components/broken-svc/incidents", "no component 'broken-svc' in the mapping"),
        (f"/monitoring/kpis/dora?app=broken&{LAST_30D}", "no application 'broken' in the mapping"),
    ]:
        gone = estate.client.get(url, headers=READER)
        assert gone.status_code == 404, url
        assert gone.headers["content-type"].startswith("application/problem+json")
        assert gone.json()["detail"] == named

    estate.rebuild()
    dora_by_team = estate.rows("dora", "team")
    assert _figures(dora_by_team, "applications") == {"t1": 1, "t2": 1}
    assert _figures(dora_by_team, "changeFailureDenominator") == {"t1": 5, "t2": 0}
    assert set(estate.rows("dora", "domain")) == {"d1"}
    answer = estate.client.get("/monitoring/admin/mappings/coverage?recordKind=deployment", headers=ADMIN)
    assert answer.status_code == 200, answer.text
    coverage = answer.json()
    deployments = next(k for k in coverage["kinds"] if k["recordKind"] == "deployment")
    assert (deployments["records"], deployments["attributed"]) == (8, 5)
    assert [(u["keyKind"], u["key"], u["records"], u["latestRecord"]) for u in coverage["unmapped"]] == [
        ("argocd_app", "broken-prod", 2, "argocd:broken-prod:op2"),
        ("gitlab_project", "12", 1, "gitlab:103"),
    ]


def test_a_team_moving_domain_takes_its_whole_history_along(estate: Estate) -> None:
    """Team t1 (shop) moves from d1 to d9: every incident, deployment and request of shop is d9's after the next build,
    in every report by domain alike, and group g1 is as it was."""
    estate.change(
        {"entries": [{"entity_id": "shop", "kind": "application", "team": "t1", "group": "g1", "domain": "d9"}]}
    )
    estate.rebuild()
    assert _figures(estate.rows("incidents", "domain"), "opened") == {"d1": 0, "d2": 0, "d9": 3}
    assert _figures(estate.rows("changes", "domain"), "implemented") == {"d1": 0, "d2": 0, "d9": 2}
    assert _figures(estate.rows("dora", "domain"), "deploymentFrequencyNumerator") == {"d1": 0, "d2": 0, "d9": 4}
    assert estate.rows("slo", "domain")["d9"]["availabilityDenominator"] == 34_000
    assert _figures(estate.rows("incidents", "group"), "opened") == {"g1": 3}
    overview = get_json(estate.client, "/monitoring/overview")
    domains = {h["levelId"]: h["applications"] for h in overview["health"] if h["level"] == "domain"}
    assert domains == {"d1": 1, "d2": 1, "d9": 1}


def test_swapped_entity_selectors_move_the_signals_between_applications(estate: Estate) -> None:
    """SERVICE-B was mapped to shop-db by mistake and SERVICE-Q to quiet-svc: the two selectors are corrected in one
    change (either alone would give one service to two entities). After the next build quiet has SERVICE-B's 10,000
    requests, shop SERVICE-A's 24,000: the 34,000 of before, attributed again."""
    entries = {e["entity_id"]: e for e in mapping()}
    estate.change(
        {
            "entries": [
                entries["shop-db"] | {"dynatrace_entity_selector": 'entityId("SERVICE-Q")'},
                entries["quiet-svc"] | {"dynatrace_entity_selector": 'entityId("SERVICE-B")'},
            ]
        }
    )
    estate.rebuild()
    requests = _figures(estate.rows("slo", "app"), "availabilityDenominator")
    assert requests == {"broken": None, "quiet": 10_000, "shop": 24_000}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Lake]]:
    """The estate's mapping (version 1) served, for changes that are all refused."""
    root = tmp_path_factory.mktemp("refused-changes")
    lake, settings = estate_lake(root)
    with TestClient(create_app(api_settings(root), settings, down_sources()), raise_server_exceptions=False) as client:
        yield client, lake


@pytest.mark.parametrize(
    ("change", "refused"),
    [
        ({"entries": [SHOP_API, SHOP_API]}, ("entries", "shop-api [production]: given twice in one change")),
        (
            {
                "entries": [
                    {"entity_id": "shop-api", "kind": "component", "application_id": "quiet", "environment": "staging"}
                ]
            },
            (
                "entries",
                "shop-api [staging]: application_id 'quiet', but shop-api belongs to 'shop' in production: "
                "a component belongs to one application in every environment",
            ),
        ),
        (
            {"entries": [{"entity_id": "shop", "kind": "application", "application_id": "quiet", "team": "t1"}]},
            ("entries", "shop [production]: an application cannot belong to another application"),
        ),
        (
            {"entries": [{"entity_id": "shop-cache", "kind": "component", "application_id": "shop-db"}]},
            ("entries", "shop-cache [production]: application_id 'shop-db' is not a known application"),
        ),
        (
            {"remove": [{"entity_id": "shop", "environment": "prodution"}]},
            ("remove", "shop [prodution]: not in the current mapping"),
        ),
        # broken retired without its component: the reason is the removal's, though it names the component left.
        (
            {"remove": [{"entity_id": "broken"}]},
            ("remove", "broken-svc [production]: application_id 'broken' is not a known application"),
        ),
        # quiet made a component leaves quiet-svc under no application: the entry's doing, not the removal's beside
        # it, which was blamed whenever a change removed anything.
        (
            {
                "entries": [{"entity_id": "quiet", "kind": "component", "application_id": "shop"}],
                "remove": [{"entity_id": "broken-svc"}],
            },
            ("entries", "quiet-svc [production]: application_id 'quiet' is not a known application"),
        ),
        # `env` is no field of a key: dropped, the key fell back to production and removed broken-svc there.
        (
            {"remove": [{"entity_id": "broken-svc", "env": "staging"}]},
            ("remove.0.env", "Extra inputs are not permitted"),
        ),
        # Spaces around a key's id are dropped, as around an entry's.
        ({"remove": [{"entity_id": " ghost "}]}, ("remove", "ghost [production]: not in the current mapping")),
    ],
    ids=[
        "pair-given-twice",
        "component-under-two-applications",
        "application-under-an-application",
        "component-under-a-component",
        "unknown-environment-removed",
        "application-retired-without-its-component",
        "component-left-by-an-entry-beside-a-removal",
        "key-with-an-unknown-field",
        "key-with-spaces",
    ],
)
def test_a_refused_change_names_its_row_and_writes_nothing(
    served: tuple[TestClient, Lake], change: dict[str, Any], refused: tuple[str, str]
) -> None:
    client, lake = served
    response = client.post("/monitoring/admin/mappings", headers=ADMIN, json=change)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    parameter, detail = refused
    assert response.json()["errors"] == [{"parameter": parameter, "in": "body", "detail": detail}]
    current = client.get("/monitoring/admin/mappings", headers=ADMIN).json()
    assert (current["version"], current["versions"]) == (1, [1])
    assert [k for k in lake.list_keys("ref/mappings/") if k.endswith(".parquet")] == [lake.mapping_version_key(1)]
