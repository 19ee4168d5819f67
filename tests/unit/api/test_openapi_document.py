"""The committed OpenAPI document (read by the Backstage API entity and the plugin types) is the one served."""

from __future__ import annotations

import json
import re
from pathlib import Path

from functions.api.cli import openapi_document

DOC = Path(__file__).resolve().parents[3] / "docs" / "openapi.json"


def test_committed_openapi_document_is_the_served_one() -> None:
    assert DOC.read_text(encoding="utf-8") == openapi_document(), (
        "docs/openapi.json is stale: run `rosetta-monitoring openapi > docs/openapi.json`"
    )


def test_document_names_every_route_of_the_contract_with_a_response_schema() -> None:
    doc = json.loads(DOC.read_text(encoding="utf-8"))
    expected = {
        "/monitoring/overview",
        "/monitoring/applications/{app_id}/summary",
        "/monitoring/applications/{app_id}/timeseries",
        "/monitoring/applications/{app_id}/incidents",
        "/monitoring/applications/{app_id}/changes",
        "/monitoring/applications/{app_id}/deployments",
        "/monitoring/applications/{app_id}/logs/link",
        "/monitoring/kpis/slo",
        "/monitoring/kpis/dora",
        "/monitoring/kpis/incidents",
        "/monitoring/kpis/changes",
        "/monitoring/risk/top",
        "/monitoring/admin/batch-runs",
        "/monitoring/admin/mappings",
        "/monitoring/admin/batch/trigger",
        "/monitoring/admin/config/sources",
    }
    assert expected <= set(doc["paths"])
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            ok = next((r for code, r in operation["responses"].items() if code.startswith("2")), None)
            assert ok is not None, f"{method.upper()} {path} has no success response"
            assert "$ref" in json.dumps(ok["content"]["application/json"]["schema"]), f"{method.upper()} {path}"


def readme_routes() -> set[str]:
    """The routes the README's Monitoring API section lists, as paths under /monitoring with `{id}` for ids:
    "`overview`, `applications/{id}/…` and `components/{id}/…` (`summary`, ...), ..., and admin `batch-runs`, ..."."""
    readme = (DOC.parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Monitoring API\n", 1)[1].split("\n## ", 1)[0]
    listing = section.split("Routes under `/monitoring`: ", 1)[1].split(". ", 1)[0]
    public, _, admin = listing.partition(" and admin ")
    entity_routes = public[public.index("(") + 1 : public.index(")")]
    routes = {"health"} if "`/monitoring/health`" in section else set()
    prefixes = []
    for name in re.findall(r"`([^`]+)`", public.replace(entity_routes, "")):
        if name.endswith("/{id}/…"):
            prefixes.append(name.removesuffix("/…"))
        else:
            routes.add(name)
    routes |= {f"{p}/{name.split('?')[0]}" for p in prefixes for name in re.findall(r"`([^`]+)`", entity_routes)}
    routes |= {f"admin/{name}" for name in re.findall(r"`([^`]+)`", admin)}
    return routes


def test_readme_lists_exactly_the_documented_routes() -> None:
    doc = json.loads(DOC.read_text(encoding="utf-8"))
    documented = {re.sub(r"\{[a-z_]+\}", "{id}", path.removeprefix("/monitoring/")) for path in doc["paths"]}
    assert readme_routes() == documented


def test_every_from_and_to_says_which_end_of_the_range_is_in_it() -> None:
    """Ranges are half-open: from=2026-11-01&to=2026-11-30 is November without its 30th. A caller reads that
    in the document, on every route that takes the range, with how a date and an offset are read."""
    doc = json.loads(DOC.read_text(encoding="utf-8"))
    seen = 0
    for path, operations in doc["paths"].items():
        for operation in operations.values():
            for param in operation.get("parameters", []):
                if param["name"] == "from":
                    assert "included" in param["description"] and "offset" in param["description"], path
                    seen += 1
                if param["name"] == "to":
                    assert "excluded" in param["description"] and "2026-12-01" in param["description"], path
    # overview, the 12 application and component routes that take a period, 4 KPI reports, risk/top
    assert seen == 18


def test_the_timeseries_says_what_an_hour_without_data_gives() -> None:
    """From the 1st to the 20th, shop's series has the 19th's 24 hours only, and shop-db's error rate is null in the
    hours it had no request: a chart must tell a gap from a null, and reads which is which in the document."""
    doc = json.loads(DOC.read_text(encoding="utf-8"))
    points = doc["components"]["schemas"]["Timeseries"]["properties"]["points"]["description"]
    assert "no point" in points and "null" in points and "hour's start" in points


def test_an_answers_period_says_its_end_is_excluded() -> None:
    """previous_month on 2026-11-20 answers end 2026-11-01T00:00:00Z: October, without November's first day, which
    the document says of every answer's period."""
    doc = json.loads(DOC.read_text(encoding="utf-8"))
    period = doc["components"]["schemas"]["PeriodOut"]["properties"]
    assert "included" in period["start"]["description"] and "excluded" in period["end"]["description"]


def test_a_problems_reasons_are_documented_as_objects_naming_the_parameter() -> None:
    """Every 422 lists its reasons as objects (parameter, in, detail): a typed client reads them from the document."""
    schemas = json.loads(DOC.read_text(encoding="utf-8"))["components"]["schemas"]
    items = schemas["ProblemDetail"]["properties"]["errors"]["anyOf"][0]["items"]
    reason = schemas[items["$ref"].rsplit("/", 1)[1]]
    assert {"parameter", "in", "detail"} <= set(reason["required"])
