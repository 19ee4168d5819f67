"""What infra/terraform gives each function: the settings its code reads and none it does not, and room for what it
writes. Read from functions.tf as the deployment reads it, and from the code each function's handler loads."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[3]
TERRAFORM = ROOT / "infra" / "terraform"
FUNCTIONS_TF = (TERRAFORM / "functions.tf").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")

# The project modules a handler loads, run in a process of its own so that no other handler's imports count.
LOADED = """
import importlib, json, sys
importlib.import_module(sys.argv[1])
print(json.dumps(sorted(
    module.__file__ for name, module in list(sys.modules.items())
    if name.split(".")[0] in ("lakehouse", "functions") and getattr(module, "__file__", None)
)))
"""


def locals_map(name: str) -> str:
    """The body of a top-level local of functions.tf (`  name = ...`), up to the next one."""
    found = re.search(rf"^  {name} = (.*?)(?=^  \w+ = |^\}})", FUNCTIONS_TF, re.M | re.S)
    assert found is not None, f"functions.tf has no local.{name}"
    return found.group(1)


def blocks(body: str) -> dict[str, str]:
    """The per-function blocks of a map local (`    key = { ... }`), by function key."""
    found = dict(re.findall(r"^    (\w+) = \{\n(.*?)^    \}", body, re.M | re.S))
    return found | {key: "" for key in re.findall(r"^    (\w+) = \{\}$", body, re.M)}


def handlers() -> dict[str, str]:
    """Function key -> the module of its handler (local.function_specs)."""
    found = {
        key: re.search(r'handler\s*=\s*"([\w.]+)"', block)
        for key, block in blocks(locals_map("function_specs")).items()
    }
    assert found and all(found.values()), "a function in local.function_specs names no handler"
    return {key: handler.group(1).rpartition(".")[0] for key, handler in found.items() if handler}


def attribute(function: str, name: str) -> str | None:
    """An attribute of a function as functions.tf sizes it: its spec's value, else the default."""
    for body in (blocks(locals_map("function_specs")).get(function, ""), locals_map("function_defaults")):
        found = re.search(rf"^\s+{name}\s*=\s*(\S+)", body, re.M)
        if found:
            return found.group(1)
    return None


def given(variable: str) -> set[str]:
    """The functions Terraform sets `variable` for: everyone for a common setting or one made per function
    (unless the map makes it on a condition, `f.<flag> ? ...`), a function's own for its source_environment."""
    assigned = re.compile(rf"^\s+{variable}\s*=", re.M)
    functions: set[str] = set()
    for name in re.findall(r"^  (\w+_environment) = ", FUNCTIONS_TF, re.M):
        body = locals_map(name)
        if not assigned.search(body):
            continue
        if name == "source_environment":
            functions |= {key for key, block in blocks(body).items() if assigned.search(block)}
            continue
        flag = re.search(r"=> f\.(\w+) \?", body)
        functions |= {key for key in handlers() if flag is None or attribute(key, flag.group(1)) == "true"}
    return functions


@cache
def loaded_sources(module: str) -> tuple[str, ...]:
    """The text of every project module the handler's module loads."""
    run = subprocess.run(
        [sys.executable, "-c", LOADED, module],
        cwd=ROOT,
        env=os.environ | {"PYTHONPATH": str(ROOT), "POWERTOOLS_TRACE_DISABLED": "1"},
        capture_output=True,
        text=True,
        check=True,
    )
    return tuple(Path(path).read_text(encoding="utf-8") for path in json.loads(run.stdout))


def reading(pattern: str) -> set[str]:
    """The functions whose handler loads code matching `pattern`."""
    return {key for key, module in handlers().items() if any(re.search(pattern, s) for s in loaded_sources(module))}


def test_every_function_given_duckdb_settings_opens_duckdb() -> None:
    """The DuckDB settings (threads, memory limit, spill folder) went to every function, though only the build and
    the API open DuckDB; the ingestions write Parquet with pyarrow, so theirs were sized (60 % of their memory) for
    nothing, and an override of them changed nothing."""
    opens = reading(r"\ndef open_duckdb\(")
    assert opens, "no handler loads lakehouse/duckdb_session.py"
    for variable in ("ROSETTA_DUCKDB_THREADS", "ROSETTA_DUCKDB_MEMORY_LIMIT", "ROSETTA_DUCKDB_TEMP_DIRECTORY"):
        assert given(variable) == opens, variable


def test_the_functions_that_read_the_production_environment_are_given_one() -> None:
    """The build judges health and top risks in the production environment, and the API reads it when a request
    names none: both must have the same one. Terraform gave neither: a deployer whose estate calls it `prod` had to
    set it in extra_environment for each function, and one set for the API alone served an environment the build
    had not judged."""
    readers = reading(r"\w\.production_environment\b")
    assert readers, "no handler reads settings.production_environment"
    assert given("ROSETTA_PRODUCTION_ENVIRONMENT") == readers
    values = set(re.findall(r"^\s+ROSETTA_PRODUCTION_ENVIRONMENT\s*=\s*(\S+)", FUNCTIONS_TF, re.M))
    assert values == {"var.production_environment"}
    # And the mapping import, which puts an entry without an environment in the importer's production environment.
    output = re.search(
        r'^output "production_environment" \{(.*?)^\}', (TERRAFORM / "outputs.tf").read_text(), re.M | re.S
    )
    assert output is not None and "var.production_environment" in output.group(1)
    steps = README.split("\n## Deploy to AWS\n", 1)[1].split("\n## ", 1)[0]
    import_step = next(step for step in re.split(r"\n(?=\d\. )", steps) if " mappings import " in step)
    assert "`ROSETTA_PRODUCTION_ENVIRONMENT`" in import_step
    assert "`terraform -chdir=infra/terraform output -raw production_environment`" in import_step


def test_the_example_gives_a_bigger_build_a_bigger_tmp() -> None:
    """The build copies its inputs, writes every mart object to /tmp before putting any, and DuckDB spills there:
    the README says a larger estate gives it more ephemeral storage, as the example shows, but the example's bigger
    build kept the default's."""
    example = (TERRAFORM / "terraform.tfvars.example").read_text(encoding="utf-8")
    override = re.search(r"^\s+build_aggregates\s*=\s*\{([^}]*)\}", example, re.M)
    assert override is not None
    given_sizes = dict(re.findall(r"(\w+)\s*=\s*(\d+)", override.group(1)))
    default_memory, default_storage = (
        int(attribute("build_aggregates", n) or 0) for n in ("memory_size", "ephemeral_storage_mb")
    )
    assert int(given_sizes["memory_size"]) > default_memory
    assert int(given_sizes.get("ephemeral_storage_mb", default_storage)) > default_storage


def validation_names(variable: str) -> list[list[str]]:
    """The quoted names in each validation of a root variable (variables.tf), in order."""
    text = (TERRAFORM / "variables.tf").read_text(encoding="utf-8")
    body = re.search(rf'^variable "{variable}" \{{(.*?)^\}}', text, re.M | re.S)
    assert body is not None, f"variables.tf has no variable {variable}"
    conditions = re.findall(r"^  validation \{\s*condition\s*=(.*?)^\s+error_message", body.group(1), re.M | re.S)
    return [re.findall(r'"([A-Za-z0-9_]+)"', condition) for condition in conditions]


def secret_variables() -> set[str]:
    """Every variable whose value the code holds as a secret (a SecretStr field of a settings class)."""
    from pydantic import SecretStr

    from functions.api.settings import ApiSettings
    from lakehouse.ingest.config import IngestSettings
    from lakehouse.settings import Settings

    return {
        f"{settings.model_config.get('env_prefix', '')}{name}".upper()
        for settings in (Settings, IngestSettings, ApiSettings)
        for name, field in settings.model_fields.items()
        if SecretStr in (field.annotation, *getattr(field.annotation, "__args__", ()))
    }


def test_extra_environment_refuses_a_secret_value() -> None:
    """extra_environment took any setting, a token included, which then sat in clear in the Terraform state and the
    function's configuration; the README promises that secret values never pass through Terraform."""
    refused = [set(names) for names in validation_names("extra_environment")]
    assert secret_variables() in refused


def test_source_secrets_name_settings_and_functions_the_code_reads() -> None:
    """A source secret named otherwise than a setting (gitlab_api_token) or given to a function key that does not
    exist (ingest_deploy) was accepted, and the function failed on the setting it lacked, the plan having said
    nothing."""
    from lakehouse.ingest.config import SECRET_FIELDS

    names = [set(found) for found in validation_names("source_secrets")]
    assert set(SECRET_FIELDS) in names
    assert reading(r"\nclass IngestSettings\(") in names


def api_reads() -> list[str]:
    """The lake prefixes local.lake_access.api of functions.tf lets the API read."""
    grant = re.search(r"^\s+api\s*=\s*\{\s*read\s*=\s*\[(.*?)\]", locals_map("lake_access"), re.M | re.S)
    assert grant is not None
    return re.findall(r'"([^"]+)"', grant.group(1))


def test_the_api_reads_no_state_but_the_build_record_and_the_watermarks() -> None:
    """The API was granted all of state/: besides the build's state record and lease (whether a build is putting its
    tables) and the sources' watermarks and first reads, which it reads, the build's copies of the raw event datasets
    (state/build/history/), while raw/ itself is closed to it."""
    from functions.api.routers.admin import SOURCES
    from lakehouse.aggregates.build import EVENT_DAYS_KEY, STATE_KEY
    from lakehouse.aggregates.history import HISTORY_PREFIX
    from lakehouse.aggregates.lease import LEASE_KEY
    from lakehouse.aggregates.settled_deployments import SETTLED_PREFIX
    from lakehouse.schemas import REGISTRY
    from lakehouse.storage import Lake

    grants = api_reads()
    read = [STATE_KEY, LEASE_KEY] + [
        key
        for ds in REGISTRY.values()
        if ds.source in SOURCES
        for key in (Lake.state_key(ds.source, ds.name), Lake.read_from_key(ds.source, ds.name))
    ]
    assert [key for key in read if not key.startswith(tuple(grants))] == []
    # The build's own state, which the API never reads.
    build_only = [EVENT_DAYS_KEY, f"{HISTORY_PREFIX}/", f"{SETTLED_PREFIX}/"]
    assert [key for key in build_only if key.startswith(tuple(grants))] == []
    assert "raw/" not in grants


def validation_conditions(variable: str) -> list[str]:
    """The condition of each validation of a root variable (variables.tf), in order."""
    text = (TERRAFORM / "variables.tf").read_text(encoding="utf-8")
    body = re.search(rf'^variable "{variable}" \{{(.*?)^\}}', text, re.M | re.S)
    assert body is not None, f"variables.tf has no variable {variable}"
    return re.findall(r"^  validation \{\s*condition\s*=(.*?)^\s+error_message", body.group(1), re.M | re.S)


def test_per_function_maps_refuse_a_key_no_function_has() -> None:
    """function_overrides and extra_environment are read by functions.tf with the function's own key: a misspelt
    key (build_aggregate, ingest_deploy) planned without a word, and the build kept its default memory, the
    ingestion its default settings."""
    for variable in ("function_overrides", "extra_environment"):
        keyed = [
            set(names)
            for condition in validation_conditions(variable)
            if f"keys(var.{variable})" in condition
            for names in [re.findall(r'"(\w+)"', condition)]
        ]
        assert keyed == [set(handlers())], variable


def test_extra_environment_refuses_a_secret_named_in_any_case(monkeypatch: pytest.MonkeyPatch) -> None:
    """The settings are read whatever the case of their names (rosetta_gitlab_token is the token): the refusal
    compared names as written, so a lower-case secret passed into the Terraform state."""
    from lakehouse.ingest.config import IngestSettings

    monkeypatch.setenv("rosetta_gitlab_token", "glpat-0123456789")
    assert IngestSettings().gitlab_token is not None  # the function reads the lower-case name
    secret_check = [c for c in validation_conditions("extra_environment") if "ROSETTA_GITLAB_TOKEN" in c]
    assert len(secret_check) == 1
    assert re.search(r"setintersection\(\s*\[\s*for (\w+) in keys\(settings\)\s*:\s*upper\(\1\)\s*\]", secret_check[0])


def test_source_urls_carry_no_user_or_password() -> None:
    """sources is the non-secret part of the configuration; a URL written https://user:password@host was accepted
    (the code reads it for GitLab, ServiceNow and Elasticsearch) and its password kept in the Terraform state and in
    the configuration of every function given the URL, the API's included."""
    (condition,) = [c for c in validation_conditions("sources") if "var.sources :" in c]
    assert re.search(r"for (\w+), (\w+) in var\.sources\s*:.*if endswith\(\1, \"_url\"\)", condition, re.S)
    pattern = re.search(r'regex\("(.*?)", \w+\)', condition)
    assert pattern is not None
    refused = re.compile(pattern.group(1).encode().decode("unicode_escape"))
    for url in (
        "https://deploy:glpat-secret@gitlab.example.org",
        "https://elastic@es.example.org:9243",
        "https://user:pa%40ss@instance.service-now.com/",
        "https://gitlab.example.org",
        "https://gitlab.example.org/group@team",
        "https://es.example.org/?owner=a@b.org",
        "https://es.example.org#a@b",
    ):
        parts = urlsplit(url)
        assert bool(refused.search(url)) == bool(parts.username or parts.password), url
