"""Caching: a historized answer may be kept a minute by the caller's own cache and revalidated by its ETag (the serving
copy's build and mapping version); admin, live and error answers are never stored."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from functions.api import deps
from functions.api.main import create_app
from lakehouse.aggregates.build import build
from tests.integration.api.conftest import ADMIN, READ_ROUTES, READER, api_settings, down_sources
from tests.unit.aggregates.estate import AS_OF
from tests.unit.aggregates.estate import estate_lake as hand_made_lake

HISTORIZED = "private, max-age=60"
# The read routes whose answer is the mart's alone: a logs link's range ends now, and live deployments are read now.
HISTORIZED_ROUTES = [r for r in READ_ROUTES if not r.endswith("/logs/link")]


def test_a_historized_answer_may_be_kept_a_minute_and_revalidated_by_its_etag(client: TestClient) -> None:
    """Each historized read answers with the private Cache-Control and a weak ETag (its body's generatedAt differs
    from one answer to the next). Asked again with that ETag, the route answers 304 with no body and the same
    headers; with another ETag, or none, the whole answer."""
    for route in HISTORIZED_ROUTES:
        first = client.get(route, headers=READER)
        assert first.status_code == 200, (route, first.text[:200])
        assert first.headers["cache-control"] == HISTORIZED, route
        tag = first.headers["etag"]
        assert tag.startswith('W/"') and tag.endswith('"'), (route, tag)
        again = client.get(route, headers=READER | {"If-None-Match": tag})
        assert (again.status_code, again.content) == (304, b""), route
        assert (again.headers["etag"], again.headers["cache-control"]) == (tag, HISTORIZED), route
        # A list of tags holding it, and the tag compared weakly (a cache may send it without W/), match too.
        listed = client.get(route, headers=READER | {"If-None-Match": f'"other", {tag.removeprefix("W/")}'})
        assert listed.status_code == 304, route
        other = client.get(route, headers=READER | {"If-None-Match": 'W/"other"'})
        assert other.status_code == 200 and other.headers["etag"] == tag, route


def test_answers_read_now_admin_answers_and_errors_are_never_stored(client: TestClient) -> None:
    """no-store, and no ETag: a logs link (its range ends now), live deployments (read from the sources now), the
    health check and every admin answer, even asked with the historized answers' ETag (the mapping's answer has its
    version's, for If-Match); and every error (a 401, a 404, a 405, a 422)."""
    tag = client.get("/monitoring/overview", headers=READER).headers["etag"]
    for route, headers in [
        ("/monitoring/applications/shop/logs/link", READER),
        ("/monitoring/components/shop-api/logs/link", READER),
        ("/monitoring/applications/shop/deployments?mode=live", READER),
        ("/monitoring/components/shop-api/deployments?mode=live", READER),
        ("/monitoring/health", {}),
        ("/monitoring/admin/batch-runs", ADMIN),
        ("/monitoring/admin/mappings", ADMIN),
        ("/monitoring/admin/config/sources", ADMIN),
    ]:
        r = client.get(route, headers=headers | {"If-None-Match": tag})
        assert r.status_code == 200, (route, r.text[:200])
        assert r.headers["cache-control"] == "no-store", route
        # The mapping's ETag is its version, for a change's If-Match: no validator of a cached copy.
        etag = f'"{r.json()["version"]}"' if route == "/monitoring/admin/mappings" else None
        assert r.headers.get("etag") == etag, route
    for method, route, headers, status in [
        ("GET", "/monitoring/overview", {}, 401),
        ("GET", "/monitoring/overview", {"X-API-Key": "wrong-key-0123456789"}, 401),
        ("GET", "/monitoring/admin/mappings", READER, 403),
        ("GET", "/monitoring/applications/ghost/summary", READER, 404),
        ("GET", "/monitoring/nowhere", READER, 404),
        ("PUT", "/monitoring/overview", READER, 405),
        ("GET", "/monitoring/overview?period=last_1d", READER, 422),
        ("GET", "/monitoring/kpis/dora?groupBy=planet", READER, 422),
    ]:
        r = client.request(method, route, headers=headers)
        assert r.status_code == status, (route, r.status_code)
        assert r.headers["cache-control"] == "no-store" and "etag" not in r.headers, route


def test_an_etag_revalidates_only_the_answer_it_came_with(client: TestClient) -> None:
    """`If-None-Match: *` matches any answer there is, not one a route refuses: an unknown application gets its
    404, not a 304."""
    r = client.get("/monitoring/applications/ghost/summary", headers=READER | {"If-None-Match": "*"})
    assert r.status_code == 404 and r.headers["cache-control"] == "no-store"


def test_a_caller_without_a_credential_gets_its_401_whatever_etag_it_sends(client: TestClient) -> None:
    tag = client.get("/monitoring/kpis/slo", headers=READER).headers["etag"]
    assert client.get("/monitoring/kpis/slo", headers={"If-None-Match": tag}).status_code == 401


def test_the_etag_changes_with_the_build_and_the_mapping(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The hand-made estate built at its as-of, then again an hour later: the answer of the new build has another
    ETag, so the previous one no longer revalidates (200, not 304); a mapping change does the same."""
    root = tmp_path_factory.mktemp("caching")
    lake, settings = hand_made_lake(root)
    build(lake, settings, mode="full", as_of=AS_OF)
    route = "/monitoring/applications/shop/summary"
    with TestClient(create_app(api_settings(root), settings, down_sources()), raise_server_exceptions=False) as c:
        first = c.get(route, headers=READER).headers["etag"]
        build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=1))
        assert c.app.state.context.mart.refresh(force=True)  # type: ignore[attr-defined]
        rebuilt = c.get(route, headers=READER | {"If-None-Match": first})
        assert rebuilt.status_code == 200 and rebuilt.headers["etag"] != first
        change = {"entries": [{"entity_id": "newapp", "kind": "application", "team": "t9"}]}
        assert c.post("/monitoring/admin/mappings", headers=ADMIN, json=change).status_code == 201
        remapped = c.get(route, headers=READER | {"If-None-Match": rebuilt.headers["etag"]})
        assert remapped.status_code == 200
        assert remapped.headers["etag"] not in (first, rebuilt.headers["etag"])


def test_the_etag_changes_with_the_apis_code(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """A release may change an answer of the same build (a new field, a fix): a browser holding the answer of the code
    before gets the new one (200), not a 304 until the next build. The ETag holds the digest of the API's source."""
    route = "/monitoring/applications/shop/summary"
    before = client.get(route, headers=READER).headers["etag"]
    monkeypatch.setattr(deps, "CODE_VERSION", "the next release")
    released = client.get(route, headers=READER | {"If-None-Match": before})
    assert released.status_code == 200 and released.headers["etag"] != before


def test_the_etag_changes_with_the_production_environment(client: TestClient) -> None:
    """A request naming no environment reads production: an API restarted with another ROSETTA_PRODUCTION_ENVIRONMENT
    answers the same URL from other rows before any new build, so the copy's ETag must not revalidate it."""
    snap = client.app.state.context.mart.snapshot()  # type: ignore[attr-defined]
    renamed = dataclasses.replace(snap, directory=dataclasses.replace(snap.directory, production="prod"))
    assert deps.copy_etag(renamed) != deps.copy_etag(snap)
    assert deps.copy_etag(dataclasses.replace(snap)) == deps.copy_etag(snap)


def test_the_apis_code_version_is_a_digest_of_its_source(tmp_path: Path) -> None:
    """Two copies of the API's source have one version; a line changed in one file gives another."""
    source = Path(deps.__file__).parent
    for copy in ("a", "b"):
        shutil.copytree(source, tmp_path / copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert deps.code_version(tmp_path / "a") == deps.code_version(tmp_path / "b") == deps.code_version(source)
    queries = tmp_path / "b" / "queries.py"
    queries.write_text(queries.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    assert deps.code_version(tmp_path / "b") != deps.code_version(tmp_path / "a")


def _code_version_of(root: Path) -> str:
    """The code version the API imported from `root` (a copy of the repository's packages) answers with."""
    run = [sys.executable, "-c", "from functions.api import deps; print(deps.CODE_VERSION)"]
    found = subprocess.run(run, cwd=root, env={"PYTHONPATH": str(root)}, capture_output=True, text=True, check=True)
    return found.stdout.strip()


def test_the_code_version_changes_with_the_sql_the_api_runs(tmp_path: Path) -> None:
    """A report over from/to runs the build's own SQL (lakehouse/sql) at request time, and ids and logs queries go
    through the lakehouse's mapping code: a release changing either changes such answers of the same build. The
    version named the API's folder only, so a browser kept a 304 for the answer of the SQL before until the next
    build; a changed SQL file gives another version."""
    repo = Path(deps.__file__).parents[2]
    for copy in ("a", "b"):
        for package in ("functions", "lakehouse"):
            shutil.copytree(repo / package, tmp_path / copy / package, ignore=shutil.ignore_patterns("__pycache__"))
    slo = tmp_path / "b" / "lakehouse" / "sql" / "40_mv_slo_app_period.sql"
    slo.write_text(slo.read_text(encoding="utf-8") + "\n-- changed\n", encoding="utf-8")
    assert _code_version_of(tmp_path / "a") == deps.CODE_VERSION
    assert _code_version_of(tmp_path / "b") != deps.CODE_VERSION


def test_a_browser_page_of_another_origin_may_revalidate_by_the_etag(client: TestClient) -> None:
    """A page of an allowed origin calling the API itself reads the ETag an answer gave (exposed to its script) and
    sends it back in If-None-Match, which its preflight is allowed to ask for: the answer is a 304, as same-origin."""
    origin = {"Origin": "https://backstage.example.org"}
    preflight = client.options(
        "/monitoring/overview",
        headers=origin | {"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "if-none-match"},
    )
    assert preflight.status_code == 200, preflight.text
    first = client.get("/monitoring/overview", headers=READER | origin)
    exposed = {h.strip().lower() for h in first.headers.get("access-control-expose-headers", "").split(",")}
    assert "etag" in exposed
    again = client.get("/monitoring/overview", headers=READER | origin | {"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.headers["access-control-allow-origin"] == origin["Origin"]
