"""A logs link's `timeRange` (`now-<n><unit>`) goes into Kibana's URL as written: Kibana reads its digits as ASCII,
as the README says every number in the query is written, so another script's digits are a 422 naming the parameter,
not a link whose time range Kibana cannot read."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.integration.api.conftest import READER, assert_parameter_refused, get_json


@pytest.mark.parametrize(
    "written",
    [
        "now-%D9%A3h",  # Arabic-Indic three
        "now-%EF%BC%91d",  # full-width one
        "now-%E0%A5%A8w",  # Devanagari two
    ],
)
def test_a_relative_range_in_other_digits_is_refused(client: TestClient, written: str) -> None:
    response = client.get(f"/monitoring/components/shop-api/logs/link?timeRange={written}", headers=READER)
    assert_parameter_refused(response, "timeRange")


def test_the_same_range_in_ascii_digits_is_a_link(client: TestClient) -> None:
    body = get_json(client, "/monitoring/components/shop-api/logs/link?timeRange=now-3h")
    assert body["timeFrom"] == "now-3h"
