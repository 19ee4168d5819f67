"""Odd but lawful requests, answered as the contract says.

The hand-made estate built at its as-of (the 20th at 10:00), with shop's Kibana index, plus lone, a component of
team t5 mapped without an application, and these incidents of quiet placed by hand around the range of the 12th to the
15th (from=2026-11-12&to=2026-11-15, the 15th excluded):

    INQ1  opened 11th 08:00, resolved 11th 20:00  restored before the range: not listed
    INQ2  opened 11th 08:00, resolved 13th 08:00  restored within it: listed
    INQ3  opened 11th 08:00, still open           open across it: listed
    INQ4  opened 13th 08:00, resolved 13th 10:00  opened and restored within it: listed
    INQ5  opened 10th 08:00, resolved 12th 00:00  restored at its start, so still open then: listed
    INQ6  opened 15th 00:00, still open           opened at its end, which is excluded: not listed
    INQ7  opened 16th 08:00, still open           opened after it, though open at as-of: not listed
    INQ8  opened 16th 08:00, resolved 16th 10:00  opened and restored after it: not listed
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from functions.api.main import create_app
from lakehouse.aggregates.build import build
from lakehouse.mappings import MappingStore
from tests.integration.api.conftest import READER, api_settings, by_id, down_sources, get_json
from tests.unit.aggregates.estate import AS_OF, CI_Q, CI_WRONG, estate_lake, incident, mapping, t, write

LONE = {"entity_id": "lone", "kind": "component", "team": "t5", "servicenow_ci_id": CI_WRONG}
SHOP_LOGS = {"elisa_index": "logs-shop-*", "kibana_query_template": 'labels.application:"{application}"'}
RANGE = "from=2026-11-12&to=2026-11-15"


def with_shop_logs(entry: dict) -> dict:
    return entry | SHOP_LOGS if entry["entity_id"] == "shop" else entry


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("odd-requests")
    lake, settings = estate_lake(root)
    MappingStore(lake).apply([*map(with_shop_logs, mapping()), LONE], actor="test", replace=True)
    write(
        lake,
        "servicenow/incidents",
        incident("q1" * 16, "INQ1", CI_Q, t(11, 8), 3, 6, t(11, 20)),
        incident("q2" * 16, "INQ2", CI_Q, t(11, 8), 3, 6, t(13, 8)),
        incident("q3" * 16, "INQ3", CI_Q, t(11, 8), 3, 2),
        incident("q4" * 16, "INQ4", CI_Q, t(13, 8), 3, 6, t(13, 10)),
        incident("q5" * 16, "INQ5", CI_Q, t(10, 8), 3, 6, t(12)),
        incident("q6" * 16, "INQ6", CI_Q, t(15), 3, 2),
        incident("q7" * 16, "INQ7", CI_Q, t(16, 8), 3, 2),
        incident("q8" * 16, "INQ8", CI_Q, t(16, 8), 3, 6, t(16, 10)),
        incident("l9" * 16, "INC9", CI_WRONG, t(19, 8), 2, 2),
    )
    build(lake, settings, mode="full", as_of=AS_OF)
    with TestClient(create_app(api_settings(root), settings, down_sources()), raise_server_exceptions=False) as c:
        yield c


def test_every_incident_of_a_range_is_one_open_at_some_time_within_it(client: TestClient) -> None:
    """INQ6 and INQ7, opened after the range and still open at as-of, were listed as if open in it, and INQ2 and
    INQ5, opened before it and restored within it, were not."""
    body = get_json(client, f"/monitoring/applications/quiet/incidents?status=all&{RANGE}")
    assert sorted(i["number"] for i in body["items"]) == ["INQ2", "INQ3", "INQ4", "INQ5"]


def etag_of(client: TestClient, route: str) -> str:
    """The ETag of a route's 200 answer."""
    first = client.get(route, headers=READER)
    assert first.status_code == 200, first.text
    return first.headers["etag"]


def test_if_none_match_star_revalidates_any_answer(client: TestClient) -> None:
    """RFC 9110 13.1.2: `*` matches any current answer, so a GET with it is a 304 carrying the answer's ETag."""
    route = "/monitoring/applications/shop/summary"
    tag = etag_of(client, route)
    again = client.get(route, headers=READER | {"If-None-Match": "*"})
    assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", tag)


def test_period_and_time_range_take_a_name_with_spaces_around_it_alike(client: TestClient) -> None:
    """`timeRange= last_7d ` gave the week's logs link where `period= last_7d ` was a 422: both read the name."""
    padded, plain = "%20last_7d%20", "last_7d"
    overview = "/monitoring/overview?period="
    assert get_json(client, overview + padded)["period"] == get_json(client, overview + plain)["period"]
    link = "/monitoring/applications/shop/logs/link?timeRange="
    assert get_json(client, link + padded)["url"] == get_json(client, link + plain)["url"]


@pytest.mark.parametrize(
    ("route", "parameter", "least"),
    [
        ("/monitoring/risk/top?metric=error_rate&minRequests=-1", "minRequests", 0),
        ("/monitoring/applications/shop/incidents?limit=-1", "limit", 1),
    ],
)
def test_a_negative_number_is_refused_for_its_bound(client: TestClient, route: str, parameter: str, least: int) -> None:
    """-1 is a number, out of range: the problem says the least the parameter takes, not that it could not be read."""
    r = client.get(route, headers=READER)
    assert (r.status_code, r.headers["content-type"]) == (422, "application/problem+json")
    (error,) = r.json()["errors"]
    assert error["parameter"] == parameter
    assert error["detail"] == f"Input should be greater than or equal to {least}"


@pytest.mark.parametrize("app", ["lone", "component:default/lone"])
def test_a_component_without_an_application_is_its_own_app_in_the_incident_report(client: TestClient, app: str) -> None:
    """lone has a row of its own in the report by application: asked for with app=lone, that row, not a 404."""
    every = by_id(get_json(client, "/monitoring/kpis/incidents?groupBy=app&period=last_30d"))
    own = get_json(client, f"/monitoring/kpis/incidents?groupBy=app&period=last_30d&app={app}")
    assert [r["id"] for r in own["items"]] == ["lone"]
    assert own["items"][0] == every["lone"]
    assert (every["lone"]["opened"], every["lone"]["openEndOfPeriod"]) == (1, 1)
