"""The merge requests behind a DORA lead time: an application's or a component's lead-times list gives each request
shipped in the period, when it was merged, which deployment shipped it when and by which rule, and its page in
GitLab. Its rows are the DORA report's lead-time sample, so their count and median are the report's.

The hand-made estate (tests/unit/aggregates/estate.py), built as of the 20th at 10:00, with beside its own:
  MR4   shop-db (project 12), iid 40, merged on the 17th at 12:00, which GitLab lists, with MR3, among the requests
        gitlab:102 shipped, with its page;
  MR6   shop-api (project 11), iid 60, merged on the 19th at 08:00, with its page.
By hand, production:
  MR6   merged 19th 08:00, shipped by argocd:shop-api-prod:2 (19th 10:00, the first sync after it): 2 h
  MR1   merged 19th 06:00, shipped by argocd:shop-api-prod:2: 4 h
  MR3   merged 18th 06:00, shipped by gitlab:102 (18th 08:30), which lists it: 2.5 h
  MR4   merged 17th 12:00, shipped by gitlab:102, which lists it: 20.5 h
  MR2   merged 1st 10:00, shipped by argocd:shop-api-prod:1 (1st 12:00): 2 h
The last 30 days hold all five: median of 2, 2, 2.5, 4, 20.5 is 2.5 h. From the 18th to the 20th (by the shipping
deployment's finish, not the merge): MR6, MR1, MR3 and MR4, median of 2, 2.5, 4, 20.5 = 3.25 h.
"""

from __future__ import annotations

import base64
import json
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from statistics import median

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from functions.api.main import create_app
from lakehouse.aggregates.build import build
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.integration.api.conftest import READER, api_settings, by_id, down_sources, get_json
from tests.unit.aggregates import estate as hand_made
from tests.unit.aggregates.estate import AS_OF, t

MR4_PAGE = "https://gitlab.example.org/shop/shop-db/-/merge_requests/40"
MR6_PAGE = "https://gitlab.example.org/shop/shop-api/-/merge_requests/60"
# The digest an earlier release's SQL files gave (the build state's sql_version): not this release's.
EARLIER_SQL_VERSION = "0123456789abcdef"
SHOP = "/monitoring/applications/shop/lead-times"

# (iid, project, component, merged at, deployed at, lead time in hours, deployment, rule, page), newest merge first.
LAST_30D = [
    (60, 11, "shop-api", t(19, 8), t(19, 10), 2.0, "argocd:shop-api-prod:2", "first deployment after merge", MR6_PAGE),
    (None, 11, "shop-api", t(19, 6), t(19, 10), 4.0, "argocd:shop-api-prod:2", "first deployment after merge", None),
    (None, 12, "shop-db", t(18, 6), t(18, 8, 30), 2.5, "gitlab:102", "deployment link", None),
    (40, 12, "shop-db", t(17, 12), t(18, 8, 30), 20.5, "gitlab:102", "deployment link", MR4_PAGE),
    (None, 11, "shop-api", t(1, 10), t(1, 12), 2.0, "argocd:shop-api-prod:1", "first deployment after merge", None),
]


def with_merge_request_pages(lake: Lake) -> None:
    """MR4 and MR6 with their pages; gitlab:102 lists MR3 and MR4 as shipped."""
    merged = {"state": "merged"}
    mr4 = {"mr_id": 4, "project_id": 12, "mr_iid": 40, "title": "Index orders by day", "merged_at": t(17, 12)}
    mr6 = {"mr_id": 6, "project_id": 11, "mr_iid": 60, "title": "Cache the catalogue", "merged_at": t(19, 8)}
    hand_made.write(
        lake,
        "gitlab/merge_requests",
        merged | mr4 | {"updated_at": t(17, 12), "web_url": MR4_PAGE},
        merged | mr6 | {"updated_at": t(19, 8), "web_url": MR6_PAGE},
    )
    hand_made.write(
        lake,
        "gitlab/deployment_merge_requests",
        {"deployment_id": 102, "project_id": 12, "mr_id": 3, "merged_at": t(18, 6)},
        {"deployment_id": 102, **mr4, "web_url": MR4_PAGE},
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Path]:
    root = tmp_path_factory.mktemp("lead-times")
    lake, settings = hand_made.estate_lake(root)
    with_merge_request_pages(lake)
    build(lake, settings, mode="full", as_of=AS_OF)
    return settings, root


@pytest.fixture(scope="module")
def client(built: tuple[Settings, Path]) -> Iterator[TestClient]:
    settings, root = built
    with TestClient(create_app(api_settings(root), settings, down_sources())) as client:
        yield client


def listed(item: dict) -> tuple:
    merged, deployed = (datetime.fromisoformat(item[k]) for k in ("mergedAt", "deployedAt"))
    return (
        item["mergeRequestIid"],
        item["projectId"],
        item["componentId"],
        merged,
        deployed,
        pytest.approx(item["leadTimeHours"]),
        item["deploymentKey"],
        item["matchRule"],
        item["url"],
    )


def every_page(client: TestClient, route: str) -> list[dict]:
    """The list's items, read two at a time by its cursor."""
    items: list[dict] = []
    cursor = ""
    while True:
        body = get_json(client, f"{route}&limit=2{cursor}")
        items += body["items"]
        if not body["page"]["nextCursor"]:
            return items
        cursor = f"&cursor={body['page']['nextCursor']}"


def dora_shop(client: TestClient, query: str) -> dict:
    return by_id(get_json(client, f"/monitoring/kpis/dora?groupBy=app&app=shop&{query}"))["shop"]


def test_an_application_lists_its_requests_and_its_components_newest_merge_first(client: TestClient) -> None:
    body = get_json(client, f"{SHOP}?period=last_30d")
    assert (body["entityId"], body["state"], body["period"]["name"]) == ("shop", "ok", "last_30d")
    assert [listed(item) for item in body["items"]] == LAST_30D
    mr4 = body["items"][3]
    assert mr4["title"] == "Index orders by day"
    # Read a page at a time, the same rows in the same order.
    assert [listed(item) for item in every_page(client, f"{SHOP}?period=last_30d")] == LAST_30D


def test_the_list_is_the_dora_reports_sample_and_gives_its_median(client: TestClient) -> None:
    for query, expected in (("period=last_30d", 2.5), ("from=2026-11-18&to=2026-11-20", 3.25)):
        hours = [item["leadTimeHours"] for item in every_page(client, f"{SHOP}?{query}")]
        report = dora_shop(client, query)
        assert len(hours) == report["leadTimeSample"], query
        assert median(hours) == pytest.approx(report["leadTimeMedianHours"]) == pytest.approx(expected), query


def test_a_range_selects_by_the_shipping_deployments_finish(client: TestClient) -> None:
    """MR4, merged on the 17th, is shipped on the 18th: in the range from the 18th; MR2, shipped on the 1st, is not."""
    body = get_json(client, f"{SHOP}?from=2026-11-18&to=2026-11-20")
    assert [item["mergeRequestIid"] for item in body["items"]] == [60, None, None, 40]
    assert [item["mergedAt"][:10] for item in body["items"]] == ["2026-11-19", "2026-11-19", "2026-11-18", "2026-11-17"]


def test_a_component_lists_its_own_requests(client: TestClient) -> None:
    body = get_json(client, "/monitoring/components/shop-db/lead-times?period=last_30d")
    assert (body["entityId"], body["state"]) == ("shop-db", "ok")
    assert [listed(item) for item in body["items"]] == [row for row in LAST_30D if row[2] == "shop-db"]


def test_an_application_without_a_gitlab_project_is_not_mapped(client: TestClient) -> None:
    """quiet is deployed by ArgoCD alone: none of its requests can be known, and the report says the same."""
    body = get_json(client, "/monitoring/applications/quiet/lead-times?period=last_30d")
    assert (body["state"], body["items"]) == ("not mapped", [])
    report = by_id(get_json(client, "/monitoring/kpis/dora?groupBy=app&app=quiet&period=last_30d"))["quiet"]
    assert report["leadTimeState"] == "not mapped"


@pytest.mark.parametrize(
    ("query", "parameter"),
    [("period=last_24h", "period"), ("period=fortnight", "period"), ("from=2026-11-18&to=2026-11-17", "to")],
)
def test_a_bad_period_is_a_problem(client: TestClient, query: str, parameter: str) -> None:
    """last_24h is no DORA period: the report has no lead time over it."""
    response = client.get(f"{SHOP}?{query}", headers=READER)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["parameter"] for e in response.json()["errors"]] == [parameter]


@pytest.mark.parametrize("mr_id", [2**63, -(2**63) - 1, 2**200])
def test_a_cursor_whose_merge_request_id_was_written_by_hand_past_a_bigint_is_a_problem(
    client: TestClient, mr_id: int
) -> None:
    """The page's cursor with its last request's id (a BIGINT in the mart) replaced by one no request can have: a
    422 naming the cursor, as for any cursor the API did not give; one past 128 bits was a 500 (DuckDB cannot bind
    it)."""
    given = get_json(client, f"{SHOP}?period=last_30d&limit=1")["page"]["nextCursor"]
    values = json.loads(base64.urlsafe_b64decode(given + "=" * (-len(given) % 4)))
    assert isinstance(values[-1], int)  # the id of the page's last request
    written = json.dumps([*values[:-1], mr_id], separators=(",", ":")).encode()
    cursor = base64.urlsafe_b64encode(written).decode().rstrip("=")
    response = client.get(f"{SHOP}?period=last_30d&limit=1&cursor={cursor}", headers=READER)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["parameter"] for e in response.json()["errors"]] == ["cursor"]


def drop_columns(folder: Path, *columns: str) -> None:
    """Every Parquet object under `folder` as an earlier release wrote it: without `columns`."""
    paths = list(folder.rglob("*.parquet"))
    assert paths
    for path in paths:
        pq.write_table(pq.read_table(path).drop_columns(list(columns)), path)


def urls(root: Path, settings: Settings) -> dict[int, str | None]:
    with TestClient(create_app(api_settings(root), settings, down_sources())) as client:
        items = get_json(client, f"{SHOP}?period=last_30d")["items"]
    return {item["mergeRequestIid"]: item["url"] for item in items if item["mergeRequestIid"]}


def test_a_lake_whose_requests_an_earlier_release_wrote_lists_them_without_a_page(tmp_path: Path) -> None:
    """Every day of GitLab's merge requests written before the page was kept (the first build after the upgrade): the
    requests are listed, each without its page."""
    lake, settings = hand_made.estate_lake(tmp_path)
    with_merge_request_pages(lake)
    for dataset in ("merge_requests", "deployment_merge_requests"):
        drop_columns(tmp_path / "lake" / "raw" / "gitlab" / dataset, "web_url")
    build(lake, settings, mode="full", as_of=AS_OF)

    assert urls(tmp_path, settings) == {40: None, 60: None}


def test_a_mart_an_earlier_release_built_lists_the_requests_without_a_page(
    built: tuple[Settings, Path], tmp_path: Path
) -> None:
    """The API of this release over the mart of the one before, which has no iid, title nor page: the lead times are
    listed all the same (until the next build), each without them."""
    _, root = built
    copied = tmp_path / "lake"
    shutil.copytree(root / "lake", copied)
    drop_columns(copied / "mart" / "mv_lead_times", "mr_iid", "title", "mr_url")
    state = copied / "state" / "build" / "aggregates.json"
    state.write_text(json.dumps(json.loads(state.read_text()) | {"sql_version": EARLIER_SQL_VERSION}))
    earlier = Settings(lake_url=str(copied), duckdb_temp_directory=tmp_path / "duckdb")

    with TestClient(create_app(api_settings(tmp_path), earlier, down_sources())) as client:
        items = get_json(client, f"{SHOP}?period=last_30d")["items"]
    assert [(item["mergeRequestIid"], item["title"], item["url"]) for item in items] == [(None, None, None)] * 5
    assert [item["leadTimeHours"] for item in items] == pytest.approx([row[5] for row in LAST_30D])
