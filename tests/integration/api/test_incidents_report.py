"""The incidents report (/monitoring/kpis/incidents): the day table's incidents summed by application, team, group or
domain, with the backlog at the end of the period and the heatmap of incidents opened per day.

The hand-made estate (tests/unit/aggregates/estate.py, as_of the 20th at 10:00 UTC), with one task SLA breached
and two more incidents, so that every application and rollup has something to sum:

    INC1  shop    P2  opened 19th 10:30, restored 19th 12:30 (2 h), its task SLA breached
    INC2  shop    P1  opened 18th 08:00, still open
    INC3  shop    P3  opened 10th 09:00, closed 10th 10:00 (1 h)
    INC4  quiet   P2  opened 19th 14:00, resolved 19th 18:00 (4 h)
    INC5  broken  P3  opened 20th 08:00, still open

shop ("Shop" in the mapping) is team t1, group g1, domain d1; quiet is t2, g1, d1; broken is t2, no group, d2.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from lakehouse.mappings import MappingStore
from lakehouse.runlog import FirstReads
from lakehouse.schemas import get_dataset
from tests.integration.api.conftest import READER, api_built_as_of, assert_parameter_refused, by_id, get_json
from tests.unit.aggregates.estate import CI_BROKEN, CI_Q, incident, rows, t, task_slas_read_from
from tests.unit.aggregates.estate import estate_lake as hand_made_lake

ROUTE = "/monitoring/kpis/incidents"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("incidents-report")
    lake, settings = hand_made_lake(root)
    # shop's entry with a display name, as a Backstage System's title gives one.
    shop = {"entity_id": "shop", "kind": "application", "name": "Shop", "team": "t1", "group": "g1", "domain": "d1"}
    MappingStore(lake).apply([shop], actor="test")
    incidents = get_dataset("servicenow/incidents")
    lake.write_days(
        incidents,
        rows(
            incidents.id,
            incident("i4" * 16, "INC4", CI_Q, t(19, 14), 2, 6, t(19, 18)),
            incident("i5" * 16, "INC5", CI_BROKEN, t(20, 8), 3, 2),
        ),
    )
    sla = {
        "sys_id": "s" * 32,
        "task_sys_id": "i1" * 16,
        "task_number": "INC1",
        "stage": "completed",
        "has_breached": True,
        "start_time": t(19, 10, 30),
        "sys_updated_on": t(19, 12, 30),
    }
    lake.write_days(get_dataset("servicenow/task_slas"), rows("servicenow/task_slas", sla))
    task_slas_read_from(lake)  # a lake of this release: its SLA breaches are known
    with api_built_as_of(root, lake, settings) as c:
        yield c


def get(client: TestClient, query: str) -> dict:
    return get_json(client, f"{ROUTE}?{query}")


def figures(row: dict) -> tuple:
    return (
        row["opened"],
        row["openedP1P2"],
        row["restored"],
        row["slaBreaches"],
        row["openEndOfPeriod"],
        row["openP1P2EndOfPeriod"],
        row["mttrMeanHours"],
    )


def opened_days(row: dict) -> dict[str, int]:
    return {d["day"]: d["opened"] for d in row["days"] if d["opened"]}


def test_an_application_over_a_named_period(client: TestClient) -> None:
    """last_7d ends at as_of (20th 10:00) and starts on the 13th at 10:00: summed from day rows, the 13th from
    midnight to as_of. shop: INC2 (P1, 18th) and INC1 (P2, 19th) opened, INC1 restored after 2 h with its SLA
    breached, INC2 still open at the end of the 20th; INC3 (the 10th) is before the period. quiet: INC4 opened and
    restored after 4 h. broken: INC5 (P3) opened on the 20th and open at its end."""
    body = get(client, "period=last_7d")
    assert body["groupBy"] == "app" and body["environment"] == "production"
    assert body["period"] == {"name": "last_7d", "start": "2026-11-13T00:00:00Z", "end": "2026-11-20T10:00:00Z"}
    rows_ = by_id(body)
    assert list(rows_) == ["broken", "quiet", "shop"]
    shop = rows_["shop"]
    assert (shop["team"], shop["applications"]) == ("t1", 1)
    #                       opened  P1/P2  restored  SLA  open at end  P1/P2 at end  mean hours to restore
    assert figures(shop) == (2, 2, 1, 1, 1, 1, 2.0)
    assert figures(rows_["quiet"]) == (1, 1, 1, 0, 0, 0, 4.0)
    assert figures(rows_["broken"]) == (1, 0, 0, 0, 1, 0, None)
    # INC3, restored on the 10th, is before the period: shop's median is INC1's 2 h alone; none without a restore.
    assert (shop["mttrMedianHours"], rows_["broken"]["mttrMedianHours"]) == (2.0, None)
    assert rows_["broken"]["team"] == "t2"
    # Application rows carry the mapping's name where it gives one, else the id.
    assert (shop["name"], rows_["quiet"]["name"]) == ("Shop", "quiet")


def test_a_team_sums_its_applications(client: TestClient) -> None:
    """Over last_30d (21 October to the 20th at 10:00). t1 is shop alone: INC3, INC2 and INC1 opened (two P1/P2),
    INC3 (1 h) and INC1 (2 h) restored: a mean of 1.5 h; INC2 open at the end. t2 is quiet and broken: INC4 and
    INC5 opened (INC4 a P2), INC4 restored after 4 h, INC5 (P3) open at the end. A team row names no team."""
    rows_ = by_id(get(client, "period=last_30d&groupBy=team"))
    assert list(rows_) == ["t1", "t2"]
    assert figures(rows_["t1"]) == (3, 2, 2, 1, 1, 1, 1.5)
    assert (rows_["t2"]["applications"], rows_["t2"]["team"], rows_["t2"]["name"]) == (2, None, None)
    assert figures(rows_["t2"]) == (2, 1, 1, 0, 1, 0, 4.0)
    # The median of 1 h and 2 h; of INC4's 4 h alone.
    assert (rows_["t1"]["mttrMedianHours"], rows_["t2"]["mttrMedianHours"]) == (1.5, 4.0)


def test_a_group_weights_each_mean_by_its_restores(client: TestClient) -> None:
    """g1 is shop and quiet (broken has no group): INC1-INC4 opened, INC1, INC2 and INC4 P1/P2; INC3 (1 h), INC1
    (2 h) and INC4 (4 h) restored: (1 + 2 + 4) / 3 = 7/3 h, not the mean of the applications' means (1.5 and 4:
    2.75). d2 is broken alone: INC5, open."""
    groups = by_id(get(client, "period=last_30d&groupBy=group"))
    assert list(groups) == ["g1"]
    assert figures(groups["g1"])[:6] == (4, 3, 3, 1, 1, 1)
    assert groups["g1"]["mttrMeanHours"] == pytest.approx(7 / 3)
    # The median is taken over the three incidents (1, 2 and 4 h): 2 h, neither the mean nor a median of medians.
    assert groups["g1"]["mttrMedianHours"] == 2.0
    domains = by_id(get(client, "period=last_30d&groupBy=domain"))
    assert list(domains) == ["d1", "d2"]
    assert figures(domains["d2"]) == (1, 0, 0, 0, 1, 0, None)


def test_the_heatmap_has_every_day_of_the_period_and_each_incident_on_its_day(client: TestClient) -> None:
    """last_7d is the 13th to the 20th: eight days, zero-filled. shop's INC2 on the 18th and INC1 on the 19th; t2's
    INC4 (quiet) on the 19th and INC5 (broken) on the 20th. Over last_30d, 21 October to 20 November (31 days),
    shop's INC3 on the 10th comes in."""
    shop = by_id(get(client, "period=last_7d"))["shop"]
    assert [d["day"] for d in shop["days"]] == [f"2026-11-{d}" for d in range(13, 21)]
    assert [d["opened"] for d in shop["days"]] == [0, 0, 0, 0, 0, 1, 1, 0]
    t2 = by_id(get(client, "period=last_7d&groupBy=team"))["t2"]
    assert opened_days(t2) == {"2026-11-19": 1, "2026-11-20": 1}
    shop_30d = by_id(get(client, "period=last_30d"))["shop"]
    assert len(shop_30d["days"]) == 31
    assert (shop_30d["days"][0]["day"], shop_30d["days"][-1]["day"]) == ("2026-10-21", "2026-11-20")
    assert opened_days(shop_30d) == {"2026-11-10": 1, "2026-11-18": 1, "2026-11-19": 1}


def test_a_from_to_range_sums_the_whole_days_it_touches(client: TestClient) -> None:
    """12:00 to 13:00 on the 19th is summed as the whole 19th: shop's INC1 opened, restored after 2 h, its SLA
    breached; INC2 (opened the 18th) is the backlog at the end of the 19th. The 10th alone: INC3 (P3) opened and
    restored after 1 h, nothing open at the end of the day (INC2 is not opened yet)."""
    body = get(client, "from=2026-11-19T12:00:00Z&to=2026-11-19T13:00:00Z")
    assert body["period"] == {"name": None, "start": "2026-11-19T00:00:00Z", "end": "2026-11-20T00:00:00Z"}
    shop = by_id(body)["shop"]
    assert figures(shop) == (1, 1, 1, 1, 1, 1, 2.0)
    assert shop["days"] == [{"day": "2026-11-19", "opened": 1}]
    tenth = by_id(get(client, "from=2026-11-10&to=2026-11-11"))["shop"]
    assert figures(tenth) == (1, 0, 1, 0, 0, 0, 1.0)


def test_pages_follow_the_ids(client: TestClient) -> None:
    """Three applications, two a page: broken and quiet, then shop with its figures and heatmap, and no next page."""
    first = get(client, "period=last_7d&limit=2")
    assert [r["id"] for r in first["items"]] == ["broken", "quiet"]
    assert first["page"]["limit"] == 2 and first["page"]["nextCursor"]
    second = get(client, f"period=last_7d&limit=2&cursor={first['page']['nextCursor']}")
    assert [r["id"] for r in second["items"]] == ["shop"]
    assert second["page"]["nextCursor"] is None
    assert figures(second["items"][0]) == (2, 2, 1, 1, 1, 1, 2.0)
    assert opened_days(second["items"][0]) == {"2026-11-18": 1, "2026-11-19": 1}


def test_an_environment_nothing_is_mapped_in_is_a_404_not_an_empty_report(client: TestClient) -> None:
    """This estate maps production only: staging names no application, which an empty report would hide."""
    response = client.get(f"{ROUTE}?period=last_7d&environment=staging", headers=READER)
    assert response.status_code == 404, response.text
    assert "the mapping's environments are production" in response.json()["detail"]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("groupBy=product", "groupBy"),
        ("period=last_24h", "period"),  # the day tables are summed by whole days: no 24-hour period
        ("period=yesterday", "period"),
        ("period=last_7d&from=2026-11-19", "period"),
        ("from=2026-11-19&to=2026-11-18", "to"),
        ("cursor=bm90IGEgY3Vyc29y", "cursor"),
    ],
)
def test_bad_parameters_are_422_problems(client: TestClient, query: str, parameter: str) -> None:
    assert_parameter_refused(client.get(f"{ROUTE}?{query}", headers=READER), parameter)


def test_days_before_the_lake_first_read_incidents_are_unknown_not_none(tmp_path: Path) -> None:
    """ServiceNow's incidents were first read from the 17th at 06:00. Over last_7d (the 13th to the 20th) shop's
    days from the 13th to the 16th are unknown (null), not days without incidents; the 17th, read from 06:00, is a
    day with none; INC2 opened on the 18th and INC1 on the 19th."""
    lake, settings = hand_made_lake(tmp_path)
    FirstReads(lake).record("servicenow", "incidents", t(17, 6), run_id="first-run")
    with api_built_as_of(tmp_path, lake, settings) as c:
        shop = by_id(get(c, "period=last_7d"))["shop"]
    assert [d["opened"] for d in shop["days"]] == [None, None, None, None, 0, 1, 1, 0]


def test_an_incident_restored_before_it_opened_counts_as_restored_but_has_no_time_to_restore(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """quiet's incidents over last_30d: INC10 restored after 12 h on the 4th, INC9 whose record says it was restored
    on the 4th a day before it opened, INC11 after 3 h on the 10th and INC12 after 1 h on the 11th, beside the
    estate's INC4 (4 h, the 19th). By hand: 5 restored; the mean and median over the four with a duration,
    (12 + 3 + 1 + 4) / 4 = 5 h and 3.5 h. Before, INC9 counted -24 h; and with it left out of the 4th's mean alone,
    the days' means weighted by their restores would give (12 x 2 + 3 + 1 + 4) / 5 = 6.4 h."""
    root = tmp_path_factory.mktemp("restored-before-opened")
    lake, settings = hand_made_lake(root)
    incidents = get_dataset("servicenow/incidents")
    backwards = incident("i9" * 16, "INC9", CI_Q, t(5, 9), 3, 6, t(4, 9)) | {"sys_updated_on": t(5, 10)}
    lake.write_days(
        incidents,
        rows(
            incidents.id,
            incident("i4" * 16, "INC4", CI_Q, t(19, 14), 2, 6, t(19, 18)),
            backwards,
            incident("ia" * 16, "INC10", CI_Q, t(3, 21), 3, 6, t(4, 9)),
            incident("ib" * 16, "INC11", CI_Q, t(10, 7), 3, 6, t(10, 10)),
            incident("ic" * 16, "INC12", CI_Q, t(11, 8), 3, 6, t(11, 9)),
        ),
    )
    with api_built_as_of(root, lake, settings) as c:
        quiet = by_id(get(c, "period=last_30d"))["quiet"]
    assert (quiet["restored"], quiet["mttrMeanHours"], quiet["mttrMedianHours"]) == (5, 5.0, 3.5)
