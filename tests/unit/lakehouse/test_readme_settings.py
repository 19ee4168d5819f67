"""The README's and .env.example's ROSETTA_* variables are settings the code reads, with the defaults the README
states, and every setting is either in the README's Configuration tables or left to its settings file on purpose."""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import Any

from pydantic import AliasChoices

from functions.api.settings import ApiSettings
from lakehouse.ingest.config import SECRET_FIELDS, IngestSettings
from lakehouse.settings import Settings

ROOT = Path(__file__).resolve().parents[3]
README = (ROOT / "README.md").read_text(encoding="utf-8")
# A whole variable name: not the start of a family like ROSETTA_HTTP_* or ROSETTA_<SECRET>_PARAMETER.
VARIABLE = re.compile(r"\bROSETTA_[A-Z0-9_]*[A-Z0-9](?!_?\*)(?![A-Z0-9_])")
# Settings with working defaults that the README leaves to the description in their settings file.
LEFT_TO_THE_SETTINGS_FILE = {
    "ROSETTA_HTTP_TIMEOUT_S",
    "ROSETTA_HTTP_CONNECT_TIMEOUT_S",
    "ROSETTA_HTTP_TOTAL_TIMEOUT_S",
    "ROSETTA_HTTP_ATTEMPTS",
    "ROSETTA_HTTP_BACKOFF_BASE_S",
    "ROSETTA_HTTP_BACKOFF_MAX_S",
    "ROSETTA_HTTP_MAX_SERVER_WAIT_S",
    "ROSETTA_SERVICENOW_PAGE_SIZE",
    "ROSETTA_ELASTICSEARCH_PAGE_SIZE",
    "ROSETTA_DYNATRACE_PAGE_SIZE",
    "ROSETTA_GITLAB_PER_PAGE",
    "ROSETTA_DYNATRACE_ENTITIES_PER_QUERY",
    "ROSETTA_API_LIVE_TIMEOUT_S",
    "ROSETTA_API_LIVE_CACHE_TTL_S",
    "ROSETTA_API_API_KEY_HEADER",
    "ROSETTA_API_JWT_ALGORITHMS",
    "ROSETTA_API_JWT_LEEWAY_S",
    "ROSETTA_API_TRIGGER_WAIT_S",
}
# docker-compose reads it to fill in the scheduler's command; no settings object does.
COMPOSE_ONLY = {"ROSETTA_SCHEDULE_MINUTES"}
# The simulators print it for fetching their estate's catalog; no settings object reads it.
SIMULATORS_ONLY = {"ROSETTA_CATALOG_URL"}
# The demo writes its API keys to .rosetta/demo.env under these names, for the user to source; nothing reads them.
DEMO_ONLY = {"ROSETTA_DEMO_READER_API_KEY", "ROSETTA_DEMO_ADMIN_API_KEY"}


def settings_variables() -> dict[str, Any]:
    """Every variable a settings object reads, with its field's default."""
    variables: dict[str, Any] = {}
    for settings in (Settings, IngestSettings, ApiSettings):
        prefix = settings.model_config.get("env_prefix", "")
        for name, field in settings.model_fields.items():
            alias = field.validation_alias
            names = [str(c) for c in alias.choices] if isinstance(alias, AliasChoices) else [f"{prefix}{name}"]
            for variable in names:
                variables[variable.upper()] = field.get_default(call_default_factory=True)
    return variables


def configuration_section() -> str:
    return README.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]


def configuration_rows() -> list[tuple[list[str], str]]:
    """(variables, default cell) of each row of the README's Configuration tables."""
    rows = []
    for line in configuration_section().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("| `ROSETTA_") and len(cells) >= 3:
            rows.append((VARIABLE.findall(cells[0]), cells[1]))
    return rows


def stated(default: Any, cell: str) -> bool:
    """Whether the README's default cell says the field's default: one literal, or unset."""
    if cell.startswith("unset"):
        return not default
    literal = re.fullmatch(r"`([^`]*)`", cell)
    if literal is None:  # a default described in words, e.g. `path` with an endpoint, else `vhost`
        return True
    text = literal.group(1)
    if isinstance(default, bool):
        return text == str(default).lower()
    if isinstance(default, int | float):
        return float(text) == default
    if isinstance(default, list | dict):
        return json.loads(text) == default
    if isinstance(default, tuple):  # a comma-separated list
        return tuple(text.split(",")) == default
    if isinstance(default, Path):
        return Path(text.replace("$TMPDIR", tempfile.gettempdir())) == default
    return text == default


def test_every_variable_the_readme_names_is_a_setting() -> None:
    known = settings_variables()
    simulators = (ROOT / "simulators" / "serve.py").read_text(encoding="utf-8")
    assert all(variable in simulators for variable in SIMULATORS_ONLY)
    demo = (ROOT / "lakehouse" / "demo.py").read_text(encoding="utf-8")
    assert all(variable in demo for variable in DEMO_ONLY)
    unknown = sorted({v for v in VARIABLE.findall(README) if v not in known} - SIMULATORS_ONLY - DEMO_ONLY)
    assert unknown == [], f"the README names variables no settings object reads: {unknown}"


def test_the_readme_states_each_setting_s_default() -> None:
    known = settings_variables()
    wrong = [
        (variable, cell)
        for variables, cell in configuration_rows()
        for variable in variables
        if variable in known and not stated(known[variable], cell)
    ]
    assert configuration_rows(), "the README's Configuration section has no table rows"
    assert wrong == [], f"defaults the README states differently from the settings: {wrong}"


def test_every_setting_is_in_the_readme_or_left_to_its_file_on_purpose() -> None:
    listed = set(VARIABLE.findall(configuration_section()))
    by_reference = {f"ROSETTA_{s.upper()}_{kind}" for s in SECRET_FIELDS for kind in ("SECRET_ARN", "PARAMETER")}
    assert "`ROSETTA_<SECRET>_SECRET_ARN`, `ROSETTA_<SECRET>_PARAMETER`" in README
    missing = sorted(set(settings_variables()) - listed - by_reference - LEFT_TO_THE_SETTINGS_FILE)
    assert missing == [], f"settings missing from the README's Configuration tables: {missing}"


def test_env_example_names_only_settings() -> None:
    lines = (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
    named = {line.split("=", 1)[0] for line in lines if line.startswith("ROSETTA_")}
    compose = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    assert all(variable in compose for variable in COMPOSE_ONLY)
    assert sorted(named - set(settings_variables()) - COMPOSE_ONLY) == []
