"""Kibana Discover links: the 7.10+/8.x hash form, rison state that decodes back, quoting and percent-encoding."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest
import rison

from functions.api.kibana import discover_url
from functions.api.settings import ApiSettings
from lakehouse.errors import SettingsError
from lakehouse.ingest.config import IngestSettings

FIXTURES = Path(__file__).resolve().parents[3].parent / "shared" / "fixtures" / "kibana"


def state(url: str) -> tuple[dict, dict]:
    fragment = url.split("#", 1)[1]
    assert fragment.startswith("/?")
    params = dict(p.split("=", 1) for p in fragment[2:].split("&"))
    return rison.loads(unquote(params["_g"])), rison.loads(unquote(params["_a"]))


def fixture_urls(name: str) -> list[str]:
    text = (FIXTURES / name).read_text()
    return re.findall(r"^(?:encoded: )?(\S*app/discover#/\?\S+)$", text, flags=re.M)


def test_link_decodes_to_the_state_we_meant() -> None:
    url = discover_url(
        "http://kibana:5601/",
        data_view_id="64419790-4218-11ea-b2d8-81bcbf78dfcb",
        query='service.name:"checkout" and message:"it\'s down!"',
        time_from="now-1h",
        time_to="now",
    )
    assert url.startswith("http://kibana:5601/app/discover#/?_g=")
    g, a = state(url)
    assert g == {"filters": [], "refreshInterval": {"pause": True, "value": 0}, "time": {"from": "now-1h", "to": "now"}}
    assert a["index"] == "64419790-4218-11ea-b2d8-81bcbf78dfcb"
    assert a["query"] == {"language": "kuery", "query": 'service.name:"checkout" and message:"it\'s down!"'}
    assert a["sort"] == [["@timestamp", "desc"]]
    raw_a = unquote(url.split("&_a=", 1)[1])
    # rison quoting: a data view id starting with a digit is quoted; ' becomes !' and ! becomes !! inside quotes.
    assert "index:'64419790-4218-11ea-b2d8-81bcbf78dfcb'" in raw_a
    assert "it!'s down!!" in raw_a
    # Fully percent-encoded: no raw quote, space, parenthesis or colon after the fragment marker.
    assert not re.search(r"[ '():!]", url.split("#/?", 1)[1])


@pytest.mark.parametrize("query", ["error\n and x", "error\r\nand x", "level:error\rand x"])
def test_a_query_written_on_several_lines_reads_back_with_spaces(query: str) -> None:
    """A mapping's Kibana query template may span lines (a YAML block). Its first line a bare word, the link's
    rison held the query unquoted up to the line break, and neither rison nor Kibana read the state back."""
    url = discover_url("http://kibana:5601", data_view_id="logs", query=query, time_from="now-1h", time_to="now")
    _, a = state(url)
    assert a["query"] == {
        "language": "kuery",
        "query": query.replace("\r\n", " ").replace("\r", " ").replace("\n", " "),
    }
    assert a["index"] == "logs"


def test_never_the_legacy_form_and_spaces_are_kept() -> None:
    url = discover_url(
        "https://kibana.example.org", data_view_id="logs-shop-*", query="x", time_from="a", time_to="b", space="ops"
    )
    assert url.startswith("https://kibana.example.org/s/ops/app/discover#/?_g=")
    assert "/app/kibana#" not in url and "mode:quick" not in unquote(url)


def test_same_structure_as_the_real_urls() -> None:
    ours_g, ours_a = state(discover_url("http://k", data_view_id="d", query="q", time_from="now-7d", time_to="now"))
    urls = fixture_urls("discover_urls__elastalert2_tests.txt")
    assert urls, "fixture file has no Discover URLs"
    for url in urls:
        g, a = state(url)
        assert set(g) <= set(ours_g) | {"query"} and set(g["time"]) == set(ours_g["time"])
        assert {"filters", "interval"} <= set(a) and {"filters", "interval"} <= set(ours_a)


def test_a_kibana_url_without_its_scheme_fails_at_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """`kibana.example.org` would make every logs link a path relative to Backstage's own page."""
    monkeypatch.setenv("ROSETTA_API_KIBANA_URL", "kibana.example.org")
    with pytest.raises(SettingsError, match=r"^ROSETTA_API_KIBANA_URL: .*https://"):
        ApiSettings()


@pytest.mark.parametrize("password", ["p#ss", "p/ss", "p?ss"])
def test_a_password_that_would_end_the_host_early_fails_at_start_up(
    password: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unencoded #, / or ? in the password ends the host before the @: the URL would be read as host `elastic`
    with the rest of it as its path, and handed whole, password included, to every reader in every logs link. It is
    refused at start-up, naming the variable and not the value; the source URLs are held to it too."""
    url = f"https://elastic:{password}@kibana.example.org:5601"
    monkeypatch.setenv("ROSETTA_API_KIBANA_URL", url)
    with pytest.raises(SettingsError, match=r"^ROSETTA_API_KIBANA_URL: .*percent-encoded") as err:
        ApiSettings()
    assert password not in str(err.value)
    monkeypatch.setenv("ROSETTA_ELASTICSEARCH_URL", url)
    with pytest.raises(SettingsError, match=r"^ROSETTA_ELASTICSEARCH_URL: "):
        IngestSettings()


def test_a_percent_encoded_password_stays_out_of_the_links() -> None:
    kibana = ApiSettings(kibana_url="https://elastic:p%23ss@kibana.example.org:5601").kibana_url
    assert kibana is not None
    link = discover_url(kibana, data_view_id="logs", query="q", time_from="now-1h", time_to="now")
    assert link.startswith("https://kibana.example.org:5601/app/discover#/?") and "p%23ss" not in link
