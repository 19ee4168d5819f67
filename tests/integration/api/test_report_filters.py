"""The KPI reports restricted to the applications under a team, group or domain (`team`, `group`, `domain`), as a
Backstage team's or domain's page asks for them, or to one application (`app`), as an application's page does.

The hand-made estate (tests/unit/aggregates/estate.py, as_of the 20th at 10:00 UTC) maps three applications:

    shop    team t1, group g1, domain d1   34,000 requests on the 19th, 124 failed; INC1-INC3; CHG1, CHG2
    quiet   team t2, group g1, domain d1   no traffic, no incident, no change, no deployment
    broken  team t2, no group, domain d2   two failed deployments (15th, 16th)

So t1 is shop; t2 is quiet and broken; g1 is shop and quiet; d1 is shop and quiet; d2 is broken. A report keeps the
rows that hold an application under the filter, each row whole: a team spanning two domains (t2) is the same row
under either, its applications in the other domain included.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.integration.api.conftest import READER, READER_KEY, by_id, get_json
from tests.integration.api.test_lambda_and_inputs import CONTEXT, http_api_v2, lambda_handler  # noqa: F401

REPORTS = ["/monitoring/kpis/slo", "/monitoring/kpis/dora", "/monitoring/kpis/incidents", "/monitoring/kpis/changes"]
# The routes that take the filters: the reports, and the ranking of the riskiest applications.
FILTERED = [*REPORTS, "/monitoring/risk/top"]
# The rows each filter keeps, by groupBy, worked out from the mapping above.
KEPT = {
    "team=t1": {"app": ["shop"], "team": ["t1"], "group": ["g1"], "domain": ["d1"]},
    "team=t2": {"app": ["broken", "quiet"], "team": ["t2"], "group": ["g1"], "domain": ["d1", "d2"]},
    "group=g1": {"app": ["quiet", "shop"], "team": ["t1", "t2"], "group": ["g1"], "domain": ["d1"]},
    "domain=d1": {"app": ["quiet", "shop"], "team": ["t1", "t2"], "group": ["g1"], "domain": ["d1"]},
    # broken has no group: d2 has no group row.
    "domain=d2": {"app": ["broken"], "team": ["t2"], "group": [], "domain": ["d2"]},
    # Both at once: the applications of t2 in d1.
    "team=t2&domain=d1": {"app": ["quiet"], "team": ["t2"], "group": ["g1"], "domain": ["d1"]},
    # One application: its own row, and the rows of its team, group and domain, each whole.
    "app=shop": {"app": ["shop"], "team": ["t1"], "group": ["g1"], "domain": ["d1"]},
    "app=broken": {"app": ["broken"], "team": ["t2"], "group": [], "domain": ["d2"]},
    # An application outside the team named: nothing.
    "app=shop&team=t2": {"app": [], "team": [], "group": [], "domain": []},
}
# A named period (each report's default) and a from/to range: the SLO and DORA reports compute a range themselves.
WHEN = ["", "from=2026-11-18&to=2026-11-20&"]


@pytest.mark.parametrize("when", WHEN)
@pytest.mark.parametrize("report", REPORTS)
def test_a_filter_keeps_the_rows_under_it_each_as_unfiltered(client: TestClient, report: str, when: str) -> None:
    """For each filter and groupBy: the rows kept, their total, and each row equal to the unfiltered report's (a
    team's figures are its applications' events summed, whichever of them the filter names)."""
    for group_by in ("app", "team", "group", "domain"):
        whole = by_id(get_json(client, f"{report}?{when}groupBy={group_by}"))
        for query, kept in KEPT.items():
            body = get_json(client, f"{report}?{when}groupBy={group_by}&{query}")
            expected = kept[group_by]
            assert [r["id"] for r in body["items"]] == expected, (group_by, query)
            assert body["page"]["total"] == len(expected), (group_by, query)
            assert body["items"] == [whole[i] for i in expected], (group_by, query)


def test_a_team_page_shows_its_applications_slos(client: TestClient) -> None:
    """t1's page: shop alone, 34,000 requests, 124 failed (shop-api 24 hours of 1,000, 23 with one error and one with
    101; shop-db 20 busy hours of 500, none failed)."""
    body = get_json(client, "/monitoring/kpis/slo?groupBy=app&team=t1")
    assert [r["id"] for r in body["items"]] == ["shop"]
    shop = body["items"][0]
    assert (shop["availabilityDenominator"], shop["badRequests"]) == (34_000, 124)
    assert shop["availability"] == pytest.approx(1 - 124 / 34_000)


def test_a_domain_page_shows_its_teams_summed_over_their_events(client: TestClient) -> None:
    """d2's teams: t2, summed over quiet (d1) and broken (d2), as unfiltered: 2 applications; DORA over last_30d,
    broken's two deployments both failed: a change failure rate of 2 of 2. d1's teams: t1 and t2; the changes of t1
    (shop) over last_30d: CHG2 closed unsuccessful, CHG1 successful with issues: 1 failed of 2 closed with a code."""
    dora = get_json(client, "/monitoring/kpis/dora?period=last_30d&groupBy=team&domain=d2")
    t2 = by_id(dora)["t2"]
    assert list(by_id(dora)) == ["t2"] and t2["applications"] == 2
    assert (t2["changeFailureNumerator"], t2["changeFailureDenominator"]) == (2, 2)
    changes = by_id(get_json(client, "/monitoring/kpis/changes?groupBy=team&domain=d1"))
    assert list(changes) == ["t1", "t2"]
    assert (changes["t1"]["closedWithCode"], changes["t1"]["unsuccessful"]) == (2, 1)
    assert changes["t1"]["changeFailureRate"] == pytest.approx(0.5)
    assert (changes["t2"]["applications"], changes["t2"]["closedWithCode"]) == (2, 0)


def test_a_domain_row_under_a_team_is_the_whole_domain(client: TestClient) -> None:
    """groupBy=domain&team=t1 is d1, shop's domain, with all of d1: shop and quiet, 2 applications; availability over
    both, 124 failed of 34,000 (quiet had no traffic), and over last_30d INC3, INC2 and INC1 opened, all shop's."""
    slo = get_json(client, "/monitoring/kpis/slo?groupBy=domain&team=t1")["items"]
    assert [(r["id"], r["applications"]) for r in slo] == [("d1", 2)]
    assert slo[0]["availability"] == pytest.approx(1 - 124 / 34_000)
    incidents = get_json(client, "/monitoring/kpis/incidents?groupBy=domain&team=t1")["items"]
    assert [(r["id"], r["applications"], r["opened"]) for r in incidents] == [("d1", 2, 3)]


def test_pages_under_a_filter_follow_its_rows(client: TestClient) -> None:
    """g1's applications one a page: quiet, then shop, each page saying there are 2."""
    first = get_json(client, "/monitoring/kpis/incidents?groupBy=app&group=g1&limit=1")
    second = get_json(
        client, f"/monitoring/kpis/incidents?groupBy=app&group=g1&limit=1&cursor={first['page']['nextCursor']}"
    )
    assert [r["id"] for r in first["items"] + second["items"]] == ["quiet", "shop"]
    assert (first["page"]["total"], second["page"]["total"], second["page"]["nextCursor"]) == (2, 2, None)


def test_ids_are_compared_ignoring_case(client: TestClient) -> None:
    """A Backstage group named T2 is the mapping's t2; an application named Shop is shop."""
    body = get_json(client, "/monitoring/kpis/slo?groupBy=app&team=T2")
    assert [r["id"] for r in body["items"]] == ["broken", "quiet"]
    body = get_json(client, "/monitoring/kpis/dora?groupBy=app&app=Shop")
    assert [r["id"] for r in body["items"]] == ["shop"]


@pytest.mark.parametrize("report", FILTERED)
def test_an_application_is_named_by_its_backstage_ref_as_on_its_routes(client: TestClient, report: str) -> None:
    """/applications/system:default/shop/... serves shop: the app filter takes the same ref, and gives what app=shop
    gives."""
    by_ref = get_json(client, f"{report}?app=system:default/shop")
    assert by_ref["items"] == get_json(client, f"{report}?app=shop")["items"] and by_ref["items"]


@pytest.mark.parametrize("report", FILTERED)
@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("team=nobody", "team 'nobody'"),
        ("group=nobody", "group 'nobody'"),
        ("domain=nobody", "domain 'nobody'"),
        # t1 is a team, not a group.
        ("group=t1", "group 't1'"),
        ("app=nobody", "application 'nobody'"),
        # shop-api is a component of shop, not an application, nor is its ref one.
        ("app=shop-api", "application 'shop-api'"),
        ("app=component:default/shop-api", "application 'shop-api'"),
    ],
)
def test_an_unknown_id_is_a_404_naming_it(client: TestClient, report: str, query: str, named: str) -> None:
    response = client.get(f"{report}?{query}", headers=READER)
    assert response.status_code == 404, response.text[:300]
    assert response.headers["content-type"] == "application/problem+json"
    assert named in response.json()["detail"]


@pytest.mark.parametrize("report", FILTERED)
@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("team=t1/x", "team"),
        ("group=-g1", "group"),
        ("domain=", "domain"),
        ("domain=" + "d" * 64, "domain"),
        ("app=shop%20x", "app"),
    ],
)
def test_a_malformed_id_is_a_422_naming_its_parameter(
    client: TestClient, report: str, query: str, parameter: str
) -> None:
    response = client.get(f"{report}?{query}", headers=READER)
    assert response.status_code == 422, response.text[:300]
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["parameter"] for e in response.json()["errors"]] == [parameter]


def test_the_riskiest_applications_of_a_team(client: TestClient) -> None:
    """The risk score over the last 7 days (the 13th 10:00 to the 20th 10:00): shop 40 (INC2, an open P1: +20; G1
    failed and D2 caused INC1: two change failures, +20), broken 20 (its two failed deployments), quiet none (no
    data, no score). t2's are broken and quiet, with their ranks in the estate, 2 and 3; d1's first is shop."""
    t2 = get_json(client, "/monitoring/risk/top?team=t2")["items"]
    assert [(r["appId"], r["rank"], r["riskScore"]) for r in t2] == [("broken", 2, 20), ("quiet", 3, None)]
    assert [r["appId"] for r in get_json(client, "/monitoring/risk/top?domain=d1&limit=1")["items"]] == ["shop"]
    # One application's own rank in the estate.
    quiet = get_json(client, "/monitoring/risk/top?app=quiet")["items"]
    assert [(r["appId"], r["rank"], r["riskScore"]) for r in quiet] == [("quiet", 3, None)]


def test_a_ranking_over_a_period_of_a_team_or_domain(client: TestClient) -> None:
    """Over last_30d: t1 is shop, INC3, INC2 and INC1 opened; d2 is broken, none. By error rate, d1 is shop alone,
    124 failed of 34,000: quiet, without a request, is under the 100 requests a rate needs."""
    t1 = get_json(client, "/monitoring/risk/top?metric=incidents&period=last_30d&team=t1")["items"]
    assert [(r["appId"], r["incidents"]) for r in t1] == [("shop", 3)]
    d2 = get_json(client, "/monitoring/risk/top?metric=incidents&period=last_30d&domain=d2")["items"]
    assert [(r["appId"], r["incidents"]) for r in d2] == [("broken", 0)]
    # Each row carries its risk rank in the estate, as the risk ranking's rows do: shop 1, broken 2.
    assert (t1[0]["rank"], t1[0]["riskScore"], d2[0]["rank"], d2[0]["riskScore"]) == (1, 40, 2, 20)
    d1 = get_json(client, "/monitoring/risk/top?metric=error_rate&period=last_30d&domain=d1")["items"]
    assert [r["appId"] for r in d1] == ["shop"] and d1[0]["errorRate"] == pytest.approx(124 / 34_000)
    # The burn rate ranking is production's at the last hour: g1's applications are shop and quiet.
    g1 = get_json(client, "/monitoring/risk/top?metric=burn_rate&group=g1")["items"]
    assert sorted(r["appId"] for r in g1) == ["quiet", "shop"]


def test_one_team_at_a_time(client: TestClient) -> None:
    response = client.get("/monitoring/kpis/slo?team=t1&team=t2", headers=READER)
    assert response.status_code == 422 and response.json()["errors"][0]["parameter"] == "team"


def test_a_domain_page_through_api_gateway(lambda_handler: Any) -> None:  # noqa: F811
    """Backstage behind API Gateway (HTTP API v2): d1's teams are t1 and t2; an unknown domain is a 404 naming it."""
    event = http_api_v2("/monitoring/kpis/slo", "groupBy=team&domain=d1", {"x-api-key": READER_KEY})
    answer = lambda_handler(event, CONTEXT)
    assert answer["statusCode"] == 200, answer["body"][:300]
    body = json.loads(answer["body"])
    assert [r["id"] for r in body["items"]] == ["t1", "t2"] and body["page"]["total"] == 2
    unknown = lambda_handler(http_api_v2("/monitoring/kpis/dora", "domain=d9", {"x-api-key": READER_KEY}), CONTEXT)
    assert unknown["statusCode"] == 404 and "domain 'd9'" in json.loads(unknown["body"])["detail"]
