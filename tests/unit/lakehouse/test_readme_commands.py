"""What a newcomer following the README runs exists: the environment its commands need is named before the first
one, and the make targets, files and API routes it names are there."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
README = (ROOT / "README.md").read_text(encoding="utf-8")
MAKEFILE = (ROOT / "Makefile").read_text(encoding="utf-8")
# Folders the e2e run writes; not in a fresh clone.
GENERATED = {"plugins/rosetta-monitoring/e2e/screenshots/"}
# Top-level folders and files of the repository, as the README starts a path it names.
REPOSITORY_PATH = re.compile(
    r"`((?:lakehouse|functions|simulators|infra|plugins|bench|docs|tests|\.ci)/[^`\s*<>…]*"
    r"|catalog-info\.yaml|docker-compose\.yml|constraints\.txt|pyproject\.toml|\.env\.example)`"
)


def makefile_venv() -> str:
    found = re.search(r"^VENV \?= (\S+)$", MAKEFILE, re.MULTILINE)
    assert found, "the Makefile sets no VENV"
    return found.group(1)


def test_the_environment_the_readme_s_commands_run_in_is_named_before_the_first_of_them() -> None:
    """`make demo` installs `rosetta-monitoring` in the Makefile's venv, not on PATH: a newcomer typing the README's
    next command in a fresh shell gets "command not found" unless the README says to activate it first."""
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    assert "rosetta-monitoring" in scripts
    activate = f". {makefile_venv()}/bin/activate"
    assert f"`{activate}`" in README, f"the README never says to run `{activate}`"
    first_command = re.search(r"`rosetta-monitoring (--|[a-z])", README)
    assert first_command, "the README shows no rosetta-monitoring command"
    assert README.index(activate) < first_command.start(), "the README shows a command before saying where it runs"


def test_every_make_target_the_readme_names_exists() -> None:
    named = set(re.findall(r"(?:`|^)make ([a-z][a-z-]*)(?=[` ])", README, re.MULTILINE))
    targets = set(re.findall(r"^([a-z][a-z-]*):", MAKEFILE, re.MULTILINE))
    assert {"demo", "test", "dictionary", "openapi", "iac", "plugin", "plugin-deps"} <= named
    assert sorted(named - targets) == []


def test_every_file_and_folder_the_readme_names_exists() -> None:
    named = set(REPOSITORY_PATH.findall(README)) | set(re.findall(r"\]\(([^)#:]+)\)", README))
    named = {path.split(" ")[0] for path in named} - GENERATED
    assert {"lakehouse/settings.py", "lakehouse/sql/", "bench/RESULTS.md", "infra/terraform/locals.tf"} <= named
    assert sorted(path for path in named if not (ROOT / path).exists()) == []


def readme_routes() -> set[str]:
    """The routes the Monitoring API section lists after "Routes under `/monitoring`:"."""
    start = README.index("Routes under `/monitoring`:")
    sentence = README[start : README.index("`config/sources`.", start) + len("`config/sources`")]
    return {route.split("?")[0] for route in re.findall(r"`([^`]+)`", sentence)} - {"/monitoring"}


def openapi_routes() -> set[str]:
    """The document's paths as the README names them: without `/monitoring/` and `admin/`, an entity's routes by
    their last part."""
    paths = json.loads((ROOT / "docs" / "openapi.json").read_text(encoding="utf-8"))["paths"]
    routes = set()
    for path in paths:
        route = path.removeprefix("/monitoring/").removeprefix("admin/")
        routes.add(re.sub(r"^(applications|components)/\{[a-z_]+\}/", "", route))
    return routes


def test_the_routes_the_readme_lists_are_the_api_s() -> None:
    listed = readme_routes()
    entity_routes = {"applications/{id}/…", "components/{id}/…"}
    assert entity_routes <= listed
    assert "`/monitoring/health`" in README  # named on its own: the one route needing no credential
    assert sorted(openapi_routes() - listed - {"health"}) == []
    assert sorted(listed - openapi_routes() - entity_routes) == []


def test_every_period_the_api_takes_is_named_in_the_readme() -> None:
    paths = json.loads((ROOT / "docs" / "openapi.json").read_text(encoding="utf-8"))["paths"]
    periods = {
        name
        for operations in paths.values()
        for operation in operations.values()
        for parameter in operation.get("parameters", [])
        if parameter["name"] == "period"
        for name in parameter["schema"]["anyOf"][0]["enum"]
    }
    assert {"last_24h", "last_7d", "previous_quarter"} <= periods
    assert sorted(name for name in periods if f"`{name}`" not in README) == []
