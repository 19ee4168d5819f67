"""Static checks of infra/: Terraform parses, named handlers exist, module conventions hold, the API function gets
what it reads, the gateway's open routes are the app's, the image build gives Lambda one manifest, functions wait for
their role's policies, the API's URL has no trailing slash, the Athena analyst policy covers the console and the
drivers, source secrets and schedules merge over their defaults, landing/ and runs/ expire (and move to IA only when
kept longer), data-lag alarms watch scheduled functions only, the example's bigger functions give DuckDB more, the
API's /tmp holds two mart copies, the README names existing Terraform variables and outputs, the gateway's CORS allows
and exposes the app's headers, the plugin's proxy entry sends what the gateway admits, Glue tables are current."""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TERRAFORM = ROOT / "infra" / "terraform"
DOCKERFILE = ROOT / "infra" / "docker" / "Dockerfile"
GLUE_SCRIPT = ROOT / "infra" / "glue_tables.py"
README = ROOT / "README.md"
OPENAPI = ROOT / "docs" / "openapi.json"
API_MODULE = TERRAFORM / "modules" / "api"
# A Terraform name as the README writes it: `image_tag`, `schedules_enabled = true`, `sources.kibana_url`.
README_NAME = re.compile(r"(sources\.)?([a-z][a-z0-9]*(?:_[a-z0-9]+)+)(?: = \S+)?")
HANDLER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")
# Top-level keys of the function map and every key that names a handler.
HANDLER_KEYS = ("handler",)


class Report:
    """Collects failures so one run shows all of them."""

    def __init__(self) -> None:
        self.failures: list[str] = []
        self.notes: list[str] = []

    def fail(self, message: str) -> None:
        self.failures.append(message)

    def note(self, message: str) -> None:
        self.notes.append(message)


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def parse_terraform(report: Report) -> dict[Path, dict[str, Any]]:
    """Every .tf file through the hcl2 module (bc-python-hcl2, the parser checkov uses) and every .tf.json file
    through json."""
    import hcl2

    parsed: dict[Path, dict[str, Any]] = {}
    for path in sorted(TERRAFORM.rglob("*.tf")):
        if ".terraform" in path.parts:
            continue
        try:
            with path.open(encoding="utf-8") as handle:
                parsed[path] = hcl2.load(handle)
        except Exception as exc:  # the parser raises lark errors of several types
            report.fail(f"{rel(path)}: does not parse: {str(exc).splitlines()[0]}")
    for path in sorted(TERRAFORM.rglob("*.tf.json")):
        try:
            parsed[path] = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            report.fail(f"{rel(path)}: invalid JSON: {exc}")
    if not parsed:
        report.fail(f"no Terraform files under {rel(TERRAFORM)}")
    report.note(f"parsed {len(parsed)} Terraform files")
    return parsed


def walk(node: Any, key: str | None = None) -> Iterator[tuple[str | None, Any]]:
    """Every (key, value) pair in a parsed document, depth first."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield k, v
            yield from walk(v, k)
    elif isinstance(node, list):
        for item in node:
            yield key, item
            yield from walk(item, key)


def handler_strings(parsed: dict[Path, dict[str, Any]]) -> dict[str, list[str]]:
    """Handler paths named in Terraform (`handler = "pkg.module.attr"`), with the files naming them."""
    found: dict[str, list[str]] = {}
    for path, document in parsed.items():
        for key, value in walk(document):
            if key in HANDLER_KEYS and isinstance(value, str) and not value.startswith("${"):
                found.setdefault(value, []).append(rel(path))
    return found


def dockerfile_handler(report: Report) -> str | None:
    """The default handler in the Dockerfile's CMD (exec form)."""
    if not DOCKERFILE.exists():
        report.fail(f"{rel(DOCKERFILE)} is missing")
        return None
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        if line.startswith("CMD "):
            try:
                command = json.loads(line[4:])
            except json.JSONDecodeError:
                report.fail(f'{rel(DOCKERFILE)}: CMD must use the exec form, e.g. CMD ["pkg.module.handler"]')
                return None
            return str(command[0]) if command else None
    report.fail(f"{rel(DOCKERFILE)}: no CMD naming a default handler")
    return None


def module_file(module: str) -> Path | None:
    base = ROOT.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def defines_callable(tree: ast.Module, name: str) -> str | None:
    """How the module binds `name` at top level (def, assignment, import), or None."""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and node.name == name:
            return "def"
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return "assignment"
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == name:
            return "assignment" if node.value is not None else None
        if isinstance(node, ast.ImportFrom | ast.Import) and any((a.asname or a.name) == name for a in node.names):
            return "import"
    return None


def check_handlers_exist(report: Report, handlers: dict[str, list[str]]) -> list[str]:
    """Each handler's module file exists and binds the attribute; returns the ones that passed."""
    good = []
    for handler, files in sorted(handlers.items()):
        where = ", ".join(sorted(set(files)))
        if not HANDLER.match(handler):
            report.fail(f"{where}: handler {handler!r} is not a dotted module.attribute path")
            continue
        module, _, attribute = handler.rpartition(".")
        path = module_file(module)
        if path is None:
            report.fail(f"{where}: handler {handler}: no module {module} ({module.replace('.', '/')}.py)")
            continue
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        except SyntaxError as exc:
            report.fail(f"{where}: handler {handler}: {rel(path)} line {exc.lineno}: {exc.msg}")
            continue
        if defines_callable(tree, attribute) is None:
            report.fail(f"{where}: handler {handler}: {rel(path)} defines no top-level {attribute!r}")
            continue
        good.append(handler)
    return good


IMPORT_PROBE = """
import importlib, json, sys
result = {}
for handler in sys.argv[1:]:
    module, _, attribute = handler.rpartition(".")
    try:
        value = getattr(importlib.import_module(module), attribute)
        result[handler] = None if callable(value) else f"{attribute} is a {type(value).__name__}, not callable"
    except Exception as exc:
        result[handler] = f"{type(exc).__name__}: {exc}"
print(json.dumps(result))
"""


def check_handlers_import(report: Report, handlers: list[str], python: Path | None) -> None:
    """Import each handler with the project's interpreter and check that the attribute is callable."""
    if not handlers:
        return
    if python is None:
        report.note("handlers checked by parsing only (no project interpreter; pass --project-python)")
        return
    env = os.environ | {
        "POWERTOOLS_TRACE_DISABLED": "1",
        "POWERTOOLS_METRICS_NAMESPACE": "RosettaMonitoring",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    run = subprocess.run(
        [str(python), "-c", IMPORT_PROBE, *handlers], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if run.returncode != 0:
        report.fail(f"importing the handlers failed: {run.stderr.strip().splitlines()[-1:]}")
        return
    for handler, problem in json.loads(run.stdout.strip().splitlines()[-1]).items():
        if problem:
            report.fail(f"handler {handler}: {problem}")
    report.note(f"imported {len(handlers)} handlers with {python}")


def blocks(document: dict[str, Any], kind: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for block in document.get(kind, []):
        if isinstance(block, dict):
            yield from block.items()


def check_conventions(report: Report, parsed: dict[Path, dict[str, Any]]) -> None:
    """Variables carry description, type and default; outputs a description; module sources exist."""
    for path, document in parsed.items():
        if path.suffix == ".json":
            continue
        for name, body in blocks(document, "variable"):
            missing = [k for k in ("description", "type", "default") if k not in body]
            if missing:
                report.fail(f"{rel(path)}: variable {name} lacks {', '.join(missing)}")
        for name, body in blocks(document, "output"):
            if "description" not in body:
                report.fail(f"{rel(path)}: output {name} lacks a description")
        for name, body in blocks(document, "module"):
            source = str(body.get("source", ""))
            if source.startswith("./") and not (path.parent / source).resolve().is_dir():
                report.fail(f"{rel(path)}: module {name}: source {source} does not exist")


def root_variables(parsed: dict[Path, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        name: body
        for path, document in parsed.items()
        if path.parent == TERRAFORM and path.suffix == ".tf"
        for name, body in blocks(document, "variable")
    }


def unwrap(value: Any) -> Any:
    """python-hcl2 wraps some object values in a one-element list."""
    while isinstance(value, list) and len(value) == 1:
        value = value[0]
    return value


def function_keys(parsed: dict[Path, dict[str, Any]]) -> set[str]:
    return set(root_local(parsed, "function_specs"))


def root_locals(parsed: dict[Path, dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Each locals block of the root module, as parsed."""
    for path, document in parsed.items():
        if path.parent == TERRAFORM:
            yield from document.get("locals", [])


def root_local(parsed: dict[Path, dict[str, Any]], name: str) -> dict[str, Any]:
    """A map in the root module's locals (source_secret_defaults, schedule_defaults), or {}."""
    for block in root_locals(parsed):
        found = unwrap(block.get(name))
        if isinstance(found, dict):
            return found
    return {}


def source_secret_defaults(parsed: dict[Path, dict[str, Any]]) -> dict[str, Any]:
    """locals.source_secret_defaults of the root module: the source secrets a deployment has unless told otherwise."""
    return root_local(parsed, "source_secret_defaults")


def check_references(report: Report, parsed: dict[Path, dict[str, Any]]) -> None:
    """Default schedules and secrets name known functions; the example tfvars sets declared variables only."""
    variables = root_variables(parsed)
    functions = function_keys(parsed)
    if not functions:
        report.fail(f"{rel(TERRAFORM)}: no locals.function_specs found")
        return
    for name, schedule in root_local(parsed, "schedule_defaults").items():
        target = unwrap(schedule).get("function")
        if target not in functions:
            report.fail(f"locals.tf: schedule_defaults: {name} targets unknown function {target!r}")
    for name, secret in source_secret_defaults(parsed).items():
        unknown = [f for f in unwrap(secret).get("functions", []) if f not in functions]
        if unknown:
            report.fail(f"locals.tf: source_secret_defaults: {name} names unknown function {unknown[0]!r}")
    example = TERRAFORM / "terraform.tfvars.example"
    if example.exists():
        import hcl2

        with example.open(encoding="utf-8") as handle:
            values = hcl2.load(handle)
        for name in values:
            if name not in variables:
                report.fail(f"{rel(example)}: sets undeclared variable {name}")
    else:
        report.fail(f"{rel(example)} is missing")


# What the API function must be given (functions.tf, local.source_environment.api), and why.
API_ENVIRONMENT = {
    "ROSETTA_API_TRUST_GATEWAY_AUTHORIZER": "callers are authenticated by the API Gateway JWT authorizer",
    "ROSETTA_API_ADMIN_SCOPE": "the scope the gateway requires on admin routes makes a caller admin",
    "ROSETTA_ARGOCD_URL": "live deployments and config/sources call ArgoCD",
    "ROSETTA_GITLAB_URL": "live deployments and config/sources call GitLab",
    "ROSETTA_API_KIBANA_URL": "logs/link answers 503 without a Kibana URL",
    "ROSETTA_DYNATRACE_URL": "config/sources reports Dynatrace not configured without it",
    "ROSETTA_SERVICENOW_URL": "config/sources reports ServiceNow not configured without it",
    "ROSETTA_ELASTICSEARCH_URL": "config/sources reports Elasticsearch not configured without it",
    "ROSETTA_ELASTICSEARCH_ENVIRONMENT_FIELD": "logs/link filters on the environment field the log counts come from",
    "ROSETTA_PRODUCTION_ENVIRONMENT": "requests naming no environment read the one the build judged health in",
}


# What the API reads only to check a credential itself (auth.py): behind the gateway's JWT authorizer it takes the
# claims the gateway verified, and the gateway admits no other credential, so a value given there is read for nothing.
API_SELF_CHECK_ONLY = (
    "ROSETTA_API_JWT_ISSUER",
    "ROSETTA_API_JWT_AUDIENCE",
    "ROSETTA_API_JWT_SECRET",
    "ROSETTA_API_JWT_PUBLIC_KEY",
    "ROSETTA_API_API_KEYS",
)


def source_environments(parsed: dict[Path, dict[str, Any]]) -> dict[str, Any] | None:
    """locals.source_environment of the root module, or None."""
    for block in root_locals(parsed):
        environments = unwrap(block.get("source_environment"))
        if isinstance(environments, dict):
            return environments
    return None


def source_environment(parsed: dict[Path, dict[str, Any]], function: str) -> dict[str, Any] | None:
    """locals.source_environment[function] of the root module, or None."""
    found = unwrap((source_environments(parsed) or {}).get(function))
    return found if isinstance(found, dict) else None


def module_argument(parsed: dict[Path, dict[str, Any]], module: str, argument: str) -> Any:
    for path, document in parsed.items():
        if path.parent == TERRAFORM:
            for name, body in blocks(document, "module"):
                if name == module:
                    return unwrap(body.get(argument))
    return None


def check_api_environment(report: Report, parsed: dict[Path, dict[str, Any]]) -> None:
    """The API function gets the settings its routes read and the admin scope the gateway checks; every source
    setting a function is given is declared."""
    environment = source_environment(parsed, "api")
    if environment is None:
        report.fail("functions.tf: no local.source_environment.api")
        return
    for name, why in API_ENVIRONMENT.items():
        if name not in environment:
            report.fail(f"functions.tf: the api function is not given {name} ({why})")
    if unwrap(environment.get("ROSETTA_API_TRUST_GATEWAY_AUTHORIZER")) == "true":
        for name in API_SELF_CHECK_ONLY:
            if name in environment:
                report.fail(
                    f"functions.tf: the api function is given {name}, which it reads only to check a credential "
                    "itself; behind the gateway's authorizer it checks none"
                )
    # Every var.sources.<field> a function is given is declared in the variable's object type.
    declared = set(re.findall(r"'(\w+)': '\$\{optional", str(root_variables(parsed).get("sources", {}).get("type"))))
    for function, body in (source_environments(parsed) or {}).items():
        for name, value in (unwrap(body) or {}).items():
            for field in re.findall(r"var\.sources\.(\w+)", str(value)):
                if field not in declared:
                    report.fail(
                        f"functions.tf: {function} {name} reads var.sources.{field}, not declared in variables.tf"
                    )
    gateway_scope = module_argument(parsed, "api", "admin_scope")
    function_scope = environment.get("ROSETTA_API_ADMIN_SCOPE")
    if function_scope is not None and function_scope != gateway_scope:
        report.fail(
            f"functions.tf: ROSETTA_API_ADMIN_SCOPE is {function_scope!r}, "
            f"but module.api checks the admin scope {gateway_scope!r}"
        )


def public_operations() -> set[str]:
    """Route keys ("GET /monitoring/health") of the operations the app serves without a credential, with HEAD beside
    each GET, which the app answers too (uptime checks ask with it)."""
    document = json.loads(OPENAPI.read_text(encoding="utf-8"))
    return {
        f"{verb} {path}"
        for path, operations in document.get("paths", {}).items()
        for method, operation in operations.items()
        if isinstance(operation, dict) and not operation.get("security")
        for verb in ([method.upper(), "HEAD"] if method.upper() == "GET" else [method.upper()])
    }


def check_public_routes(report: Report, parsed: dict[Path, dict[str, Any]]) -> None:
    """The gateway lets through without a token exactly the routes the app serves without a credential (the health
    check uptime monitors call), and those routes have no authorizer."""
    variables = {
        name: body
        for path, document in parsed.items()
        if path.parent == API_MODULE
        for name, body in blocks(document, "variable")
    }
    given = module_argument(parsed, "api", "public_routes")
    routes = given if given is not None else unwrap(variables.get("public_routes", {}).get("default"))
    public = set(routes if isinstance(routes, list) else [routes] if isinstance(routes, str) else [])
    wanted = public_operations()
    for route in sorted(wanted - public):
        report.fail(f"modules/api: {route} needs no credential in the app, but the gateway asks a token for it")
    for route in sorted(public - wanted):
        report.fail(f"modules/api: {route} is open at the gateway, but the app asks a credential for it")
    open_routes = [
        body
        for path, document in parsed.items()
        if path.parent == API_MODULE
        for resources in document.get("resource", [])
        for name, body in (resources.get("aws_apigatewayv2_route") or {}).items()
        if "var.public_routes" in str(body.get("for_each"))
    ]
    if wanted and not any(unwrap(body.get("authorization_type")) == "NONE" for body in open_routes):
        report.fail("modules/api: no route over var.public_routes with authorization_type NONE")


# Docker's platform name for each Lambda architecture.
DOCKER_PLATFORMS = {"x86_64": "linux/amd64", "arm64": "linux/arm64"}


def option(words: list[str], name: str) -> str | None:
    """The value of `name value` or `name=value` in a command's words."""
    for i, word in enumerate(words):
        if word == name and i + 1 < len(words):
            return words[i + 1]
        if word.startswith(f"{name}="):
            return word.split("=", 1)[1]
    return None


def check_image_build(report: Report, parsed: dict[Path, dict[str, Any]]) -> None:
    """The image build the README and the Dockerfile give makes an image Lambda takes: one manifest for the
    functions' architecture. BuildKit (docker build's default) otherwise adds a provenance attestation, which turns
    the pushed tag into an image index that Lambda refuses, and builds for the machine's own platform (arm64 on an
    Apple laptop)."""
    architecture = unwrap(root_variables(parsed).get("architecture", {}).get("default"))
    platform = DOCKER_PLATFORMS.get(str(architecture))
    if platform is None:
        report.fail(f"variables.tf: architecture default {architecture!r} is not one of {sorted(DOCKER_PLATFORMS)}")
        return
    section = README.read_text(encoding="utf-8").split("\n## Deploy to AWS\n", 1)[1].split("\n## ", 1)[0]
    commands = [(rel(README), c) for c in re.findall(r"`(docker build [^`]*)`", section)]
    if DOCKERFILE.exists():
        text = DOCKERFILE.read_text(encoding="utf-8")
        commands += [(rel(DOCKERFILE), c.strip()) for c in re.findall(r"^#\s+(docker build .*)$", text, re.M)]
    if not any(where == rel(README) for where, _ in commands):
        report.fail("README.md, Deploy to AWS: no `docker build` command for the function image")
    for where, command in commands:
        words = command.split()
        if "--provenance=false" not in words:
            report.fail(f"{where}: `{command}` lacks --provenance=false (Lambda refuses the image index it pushes)")
        if option(words, "--platform") != platform:
            report.fail(f"{where}: `{command}` lacks --platform {platform} (the functions' default architecture)")
    report.note(f"{len(commands)} image build commands make one {platform} manifest")


def check_function_waits_for_its_role(report: Report, parsed: dict[Path, dict[str, Any]]) -> None:
    """Every Lambda function depends on each policy of its module's role. Lambda checks the role when the function is
    created (SendMessage on its dead-letter queue; the network interfaces in a VPC): a policy Terraform attaches in
    parallel fails the first apply."""
    functions: dict[Path, list[tuple[str, str]]] = {}
    policies: dict[Path, list[str]] = {}
    for path, document in parsed.items():
        for resources in document.get("resource", []):
            for kind, bodies in resources.items():
                for name, body in bodies.items():
                    if kind == "aws_lambda_function":
                        where = f"{rel(path)}: {kind}.{name}"
                        functions.setdefault(path.parent, []).append((where, str(body.get("depends_on"))))
                    elif kind in ("aws_iam_role_policy", "aws_iam_role_policy_attachment"):
                        policies.setdefault(path.parent, []).append(f"{kind}.{name}")
    for module, found in functions.items():
        for where, depends_on in found:
            for policy in policies.get(module, []):
                if f"${{{policy}}}" not in depends_on:
                    report.fail(f"{where} does not depend on {policy}, which Lambda checks when it creates it")


def check_api_url(report: Report, parsed: dict[Path, dict[str, Any]]) -> None:
    """The API's URL output takes `/monitoring/...` as the README writes it. Terraform gives the $default stage's
    invoke_url with a trailing slash (https://host/), which would make https://host//monitoring/..."""
    for path, document in parsed.items():
        if path.parent != API_MODULE:
            continue
        for name, body in blocks(document, "output"):
            value = str(unwrap(body.get("value")))
            if "invoke_url" in value and not re.fullmatch(r'\$\{trimsuffix\([^,]*invoke_url,\s*"/"\)\}', value):
                report.fail(f"{rel(path)}: output {name} is {value}, with the stage's trailing slash")


# What an analyst given the Athena policy calls, beyond running a query: the console picks the workgroup from the list
# (else it runs in `primary`, which the policy does not open) and browses the catalog; the JDBC/ODBC drivers stream
# results and read table metadata through Athena.
ANALYST_ACTIONS = {
    "athena:ListWorkGroups": "the console's workgroup list",
    "athena:ListDataCatalogs": "the console's data source list",
    "athena:GetDataCatalog": "the console and the drivers read AwsDataCatalog",
    "athena:ListDatabases": "the console's database list",
    "athena:GetDatabase": "the console and the drivers read the database",
    "athena:ListTableMetadata": "the console's table list and the drivers' getTables",
    "athena:GetTableMetadata": "the console's and the drivers' column lists",
    "athena:GetQueryResultsStream": "the JDBC/ODBC drivers fetch results by streaming",
    "athena:ListQueryExecutions": "the console's recent queries",
    "athena:BatchGetQueryExecution": "the console's recent queries",
    "glue:GetDatabases": "Athena's database list reads the Glue catalog",
}


def check_analyst_policy(report: Report, parsed: dict[Path, dict[str, Any]]) -> None:
    """The Athena analyst policy lets an analyst use the workgroup from the console and the drivers, not only run a
    query through the API."""
    granted: set[str] = set()
    for document in parsed.values():
        for data in document.get("data", []):
            body = (data.get("aws_iam_policy_document") or {}).get("analyst")
            for statement in (body or {}).get("statement", []):
                actions = unwrap(statement.get("actions")) or []
                granted |= {actions} if isinstance(actions, str) else {str(a) for a in actions}
    if not granted:
        report.fail("modules/catalog: no aws_iam_policy_document.analyst")
        return
    for action, why in ANALYST_ACTIONS.items():
        if action not in granted:
            report.fail(f"modules/catalog: the analyst policy lacks {action} ({why})")


def check_merged_over_defaults(
    report: Report, parsed: dict[Path, dict[str, Any]], variable: str, defaults: str
) -> None:
    """The variable is merged over a map of defaults in locals.tf: a tfvars naming one entry keeps the others. A
    variable whose default is the map would be replaced whole by any tfvars that sets it."""
    if not root_local(parsed, defaults):
        report.fail(f"locals.tf: no {defaults} for {variable} to be merged over")
    if unwrap(root_variables(parsed).get(variable, {}).get("default")):
        report.fail(f"variables.tf: {variable} has a default map, which a tfvars naming one entry replaces whole")
    for path in sorted(TERRAFORM.glob("*.tf")):
        # The variable's own validations read it as given, which is no use of it.
        text = re.sub(rf'^variable "{variable}" \{{.*?^\}}', "", path.read_text(encoding="utf-8"), flags=re.M | re.S)
        uses = len(re.findall(rf"var\.{variable}\b", text))
        merged = len(re.findall(rf"merge\(\s*local\.{defaults}\s*,\s*var\.{variable}\s*\)", text))
        if uses > merged:
            report.fail(f"{rel(path)}: reads var.{variable} without merging it over local.{defaults}")


def check_source_secrets_merge(report: Report, parsed: dict[Path, dict[str, Any]]) -> None:
    """A tfvars naming one source secret (the README adds "api" to argocd_token and gitlab_token) keeps the others,
    which would otherwise be left without credentials."""
    check_merged_over_defaults(report, parsed, "source_secrets", "source_secret_defaults")


def check_schedules_merge(report: Report, parsed: dict[Path, dict[str, Any]]) -> None:
    """A tfvars naming one schedule (to run the build more often, or to switch one default off) keeps the others:
    without them, the ingestions and builds not named would never run again."""
    check_merged_over_defaults(report, parsed, "schedules", "schedule_defaults")


# Lake prefixes that grow with every run and are read only for a while: each expires after a number of days that a
# root variable sets (the run log: some 400,000 records a year, which every listing of it would read).
EXPIRING_PREFIXES = ("landing/", "runs/")
LAKE_MODULE = TERRAFORM / "modules" / "lake"
VAR_REFERENCE = re.compile(r"\$\{var\.([a-z0-9_]+)\}")


def check_lake_expiry(report: Report, parsed: dict[Path, dict[str, Any]]) -> None:
    """The lake bucket's lifecycle expires landing/ and runs/, each after the days a root variable with a default
    gives the lake module: without it they grow for ever."""
    rules = [
        unwrap(rule)
        for path, document in parsed.items()
        if path.parent == LAKE_MODULE
        for resources in document.get("resource", [])
        for body in (resources.get("aws_s3_bucket_lifecycle_configuration") or {}).values()
        for rule in body.get("rule", [])
    ]
    passed: dict[str, Any] = {}
    for path, document in parsed.items():
        if path.parent == TERRAFORM:
            for name, body in blocks(document, "module"):
                if name == "lake":
                    passed = {k: unwrap(v) for k, v in body.items()}
    variables = root_variables(parsed)
    for prefix in EXPIRING_PREFIXES:
        expiring = [
            rule
            for rule in rules
            if unwrap(rule.get("status")) == "Enabled"
            and unwrap((unwrap(rule.get("filter")) or {}).get("prefix")) == f"${{var.lake_root}}{prefix}"
            and rule.get("expiration")
        ]
        if not expiring:
            report.fail(f"modules/lake: no enabled lifecycle rule expires {prefix}, which grows with every run")
            continue
        days = str(unwrap((unwrap(expiring[0]["expiration"]) or {}).get("days")))
        module_var = VAR_REFERENCE.fullmatch(days)
        root_var = VAR_REFERENCE.fullmatch(str(passed.get(module_var.group(1)))) if module_var else None
        default = unwrap(variables.get(root_var.group(1), {}).get("default")) if root_var else None
        if not isinstance(default, int) or default <= 0:
            report.fail(f"modules/lake: {prefix} expires after {days} days, not a root variable with a default")


def root_local_expression(parsed: dict[Path, dict[str, Any]], name: str) -> str | None:
    """The expression of a root module local as python-hcl2 gives it (`${...}`), or None."""
    for block in root_locals(parsed):
        if name in block:
            return str(unwrap(block[name]))
    return None


def check_freshness_alarms_scheduled(report: Report, parsed: dict[Path, dict[str, Any]]) -> None:
    """A data-lag alarm watches only a function some schedule runs. A default schedule set to null is switched off on
    purpose (the README's ingest-logs-hourly on a platform without Elasticsearch): that function then reports no
    freshness, and an alarm on it, missing data counting as breaching, would stay in ALARM for good."""
    alarms = root_local_expression(parsed, "freshness_alarms")
    if alarms is None:
        report.fail("functions.tf: no local.freshness_alarms")
        return
    # local.schedules (the schedules left once the nulls are dropped), or a local made from it.
    names = {n for block in root_locals(parsed) for n in block}
    from_schedules = {"schedules"} | {n for n in names if "local.schedules" in str(root_local_expression(parsed, n))}
    condition = alarms.rpartition(" if ")[2] if " if " in alarms else ""
    if not any(re.search(rf"local\.{name}\b", condition) for name in from_schedules):
        report.fail(
            "functions.tf: local.freshness_alarms gives a data-lag alarm to every function, also to one no schedule "
            "runs (a default schedule set to null), whose alarm would stay in ALARM for good"
        )


def check_lake_transition_before_expiry(report: Report, parsed: dict[Path, dict[str, Any]]) -> None:
    """A lifecycle rule moves objects to another storage class only when they are kept longer than that: S3 refuses a
    rule whose expiration is not later than its transition, so a shorter replay window (landing_expiration_days 30,
    with landing_transition_days at its 30) failed the apply."""
    for path, document in parsed.items():
        if path.parent != LAKE_MODULE:
            continue
        for resources in document.get("resource", []):
            for body in (resources.get("aws_s3_bucket_lifecycle_configuration") or {}).values():
                for rule in map(unwrap, body.get("rule", [])):
                    expiry = VAR_REFERENCE.fullmatch(str(unwrap((unwrap(rule.get("expiration")) or {}).get("days"))))
                    if not expiry:
                        continue
                    # A transition block as it is, or a dynamic one with the condition its for_each holds.
                    transitions = [(unwrap(t), "") for t in rule.get("transition", [])] + [
                        (unwrap(block.get("content")), str(unwrap(block.get("for_each"))))
                        for dynamic in rule.get("dynamic", [])
                        for name, block in dynamic.items()
                        if name == "transition"
                    ]
                    for transition, condition in transitions:
                        # The variable giving the days, in the block or (through the dynamic's value) its for_each.
                        given = [
                            v for v in re.findall(r"var\.(\w+)", f"{transition} {condition}") if v != expiry.group(1)
                        ]
                        if given and f"var.{expiry.group(1)} > var.{given[0]}" not in condition:
                            report.fail(
                                f"{rel(path)}: rule {unwrap(rule.get('id'))} moves objects after var.{given[0]} days "
                                f"even when var.{expiry.group(1)} deletes them first, which S3 refuses"
                            )


def duckdb_memory_mb(function: dict[str, Any]) -> int:
    """The DuckDB limit Terraform gives a function (functions.tf, sizing_environment): its own, else 60 % of memory."""
    given = function.get("duckdb_memory_mb")
    return int(given) if given is not None else int(function["memory_size"] * 0.6)


def check_example_sizing(report: Report, parsed: dict[Path, dict[str, Any]]) -> None:
    """An override in the example tfvars that gives a function more memory gives DuckDB more too: a DuckDB limit set
    for the function's default memory (the build's 1100 MB) would leave the memory added unused, and with more threads,
    less of it for each."""
    specs, defaults = root_local(parsed, "function_specs"), root_local(parsed, "function_defaults")
    example = TERRAFORM / "terraform.tfvars.example"
    if not specs or not defaults or not example.exists():
        return
    import hcl2

    with example.open(encoding="utf-8") as handle:
        overrides = unwrap(hcl2.load(handle).get("function_overrides")) or {}
    for key, override in overrides.items():
        base = {**defaults, **(unwrap(specs.get(key)) or {})}
        given = {**base, **{k: v for k, v in unwrap(override).items() if v is not None}}
        if given["memory_size"] > base["memory_size"] and duckdb_memory_mb(given) <= duckdb_memory_mb(base):
            report.fail(
                f"{rel(example)}: {key} gets {given['memory_size']} MB instead of {base['memory_size']} MB, but DuckDB "
                f"keeps {duckdb_memory_mb(given)} MB of it (set duckdb_memory_mb too)"
            )


# The mart of the lake bench/RESULTS.md measures the API on (1,000 applications x 365 days): 651.6 MB, 537 MB of it
# the hourly months.
MEASURED_MART_MB = 652


def check_api_storage(report: Report, parsed: dict[Path, dict[str, Any]]) -> None:
    """The API function's /tmp holds two copies of the mart and room for DuckDB to spill: a build's new copy is loaded
    while the previous one serves, which is removed a minute after (functions/api/mart.py, RETIRE_AFTER_S), and a
    copy keeps every month of hourly signals a request asked for. Out of room, the new copy fails to load and the
    routes answer 503."""
    specs, defaults = root_local(parsed, "function_specs"), root_local(parsed, "function_defaults")
    if "api" not in specs or not defaults:
        report.fail("functions.tf: no function_specs.api and function_defaults to size the API's /tmp by")
        return
    api = {**defaults, **unwrap(specs["api"])}
    # Two copies of the measured mart, and as much again as DuckDB may hold in memory for what it spills.
    needed = 2 * MEASURED_MART_MB + duckdb_memory_mb(api)
    if api["ephemeral_storage_mb"] < needed:
        report.fail(
            f"functions.tf: the api function has {api['ephemeral_storage_mb']} MB of /tmp, less than two copies of the "
            f"measured mart ({MEASURED_MART_MB} MB, bench/RESULTS.md) and DuckDB's {duckdb_memory_mb(api)} MB: "
            f"{needed} MB"
        )


def check_readme_names(report: Report, parsed: dict[Path, dict[str, Any]]) -> None:
    """Every variable, `sources.` attribute, secret, function and output the README's deployment section names
    exists."""
    section = README.read_text(encoding="utf-8").split("\n## Deploy to AWS\n", 1)[1].split("\n## ", 1)[0]
    variables = root_variables(parsed)
    outputs = {
        name
        for path, document in parsed.items()
        if path.parent == TERRAFORM and path.suffix == ".tf"
        for name, _ in blocks(document, "output")
    }
    source_type = str(variables.get("sources", {}).get("type", ""))
    source_attributes = set(re.findall(r"'([a-z_]+)': '\$\{optional", source_type))
    secrets = set(source_secret_defaults(parsed))
    functions = function_keys(parsed)
    names = [m for m in map(README_NAME.fullmatch, re.findall(r"`([^`]+)`", section)) if m]
    unknown = sorted(
        {
            match.group(0)
            for match in names
            if (match.group(2) not in source_attributes if match.group(1) else match.group(2) not in variables)
            and (match.group(1) or match.group(2) not in outputs | secrets | functions)
        }
    )
    for name in re.findall(r"terraform output (?:-raw )?([a-z_]+)", section):
        if name not in outputs:
            unknown.append(f"terraform output {name}")
    if unknown:
        report.fail(
            f"README.md, Deploy to AWS: no such Terraform variable, source, secret, function or output: {unknown}"
        )
    else:
        report.note(f"README's deployment section names {len(names)} existing Terraform names")


API_APP = ROOT / "functions" / "api" / "main.py"


def app_constant(name: str) -> Any:
    """A literal the API app binds at top level (functions/api/main.py), or None."""
    for node in ast.parse(API_APP.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return ast.literal_eval(node.value)
    return None


def check_gateway_cors(report: Report, parsed: dict[Path, dict[str, Any]]) -> None:
    """The gateway's CORS allows and exposes the headers the app's does: an HTTP API with a CORS configuration
    answers preflights itself and puts its own CORS headers on every answer, the function's ignored."""
    configurations = [
        unwrap(body.get("cors_configuration")) or {}
        for path, document in parsed.items()
        if path.parent == API_MODULE
        for resources in document.get("resource", [])
        for body in (resources.get("aws_apigatewayv2_api") or {}).values()
    ]
    if not configurations:
        return
    cors = configurations[0]
    for setting, constant in (("allow_headers", "CORS_ALLOW_HEADERS"), ("expose_headers", "CORS_EXPOSE_HEADERS")):
        wanted = app_constant(constant)
        if wanted is None:
            report.fail(f"{rel(API_APP)}: no {constant} to check the gateway's CORS {setting} against")
            continue
        given = {str(h).lower() for h in unwrap(cors.get(setting)) or []}
        missing = [h for h in wanted if h.lower() not in given]
        if missing:
            report.fail(
                f"modules/api: the gateway's CORS {setting} lacks {', '.join(missing)}, which the app's has "
                f"({constant}): on AWS the gateway's CORS answers in the app's stead"
            )


PLUGIN_README = ROOT / "plugins" / "rosetta-monitoring" / "README.md"


def check_plugin_proxy(report: Report, parsed: dict[Path, dict[str, Any]]) -> None:
    """The plugin's README gives a Backstage proxy entry that the deployed gateway admits: its JWT authorizer reads
    the token from Authorization and answers 401 to anything else (an X-API-Key included) before the API sees it."""
    sources = [
        str(unwrap(body.get("identity_sources")))
        for path, document in parsed.items()
        if path.parent == API_MODULE
        for resources in document.get("resource", [])
        for body in (resources.get("aws_apigatewayv2_authorizer") or {}).values()
        if unwrap(body.get("authorizer_type")) == "JWT"
    ]
    if not sources or not PLUGIN_README.exists():
        return
    if "$request.header.Authorization" not in sources[0]:
        report.fail(f"modules/api: the JWT authorizer reads {sources[0]}; check the plugin's proxy entry against it")
    elif not re.search(r"^\s+Authorization: Bearer \$\{[A-Z_]+\}$", PLUGIN_README.read_text(encoding="utf-8"), re.M):
        report.fail(f"{rel(PLUGIN_README)}: no proxy entry sends the gateway's JWT (Authorization: Bearer ...)")


def check_glue_tables(report: Report, python: Path | None) -> None:
    """The committed Glue table file equals what infra/glue_tables.py generates now."""
    if python is None:
        report.fail("cannot check the Glue tables: no project interpreter with pyarrow (pass --project-python)")
        return
    run = subprocess.run(
        [str(python), str(GLUE_SCRIPT), "--check"],
        cwd=ROOT,
        env=os.environ | {"PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        check=False,
    )
    if run.returncode != 0:
        report.fail((run.stderr or run.stdout).strip())
    else:
        report.note(run.stdout.strip())


def project_python(given: str | None) -> Path | None:
    if given:
        return Path(given)
    candidate = ROOT / ".venv" / "bin" / "python"
    return candidate if candidate.exists() else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--project-python",
        help="interpreter with the project installed (default: .venv/bin/python); imports handlers, runs glue_tables",
    )
    args = parser.parse_args(argv)
    python = project_python(args.project_python)
    report = Report()

    parsed = parse_terraform(report)
    handlers = handler_strings(parsed)
    if not handlers:
        report.fail('Terraform names no handler (expected `handler = "pkg.module.attr"` in locals.function_specs)')
    default = dockerfile_handler(report)
    if default:
        handlers.setdefault(default, []).append(rel(DOCKERFILE))
    passed = check_handlers_exist(report, handlers)
    check_handlers_import(report, passed, python)
    report.note(f"handlers named: {', '.join(sorted(handlers))}")
    check_conventions(report, parsed)
    check_references(report, parsed)
    check_api_environment(report, parsed)
    check_public_routes(report, parsed)
    check_image_build(report, parsed)
    check_function_waits_for_its_role(report, parsed)
    check_api_url(report, parsed)
    check_analyst_policy(report, parsed)
    check_source_secrets_merge(report, parsed)
    check_schedules_merge(report, parsed)
    check_lake_expiry(report, parsed)
    check_lake_transition_before_expiry(report, parsed)
    check_freshness_alarms_scheduled(report, parsed)
    check_example_sizing(report, parsed)
    check_api_storage(report, parsed)
    check_readme_names(report, parsed)
    check_gateway_cors(report, parsed)
    check_plugin_proxy(report, parsed)
    check_glue_tables(report, python)

    for note in report.notes:
        print(f"ok: {note}")
    for failure in report.failures:
        print(f"FAIL: {failure}", file=sys.stderr)
    if report.failures:
        print(f"{len(report.failures)} problem(s) in infra/", file=sys.stderr)
        return 1
    print("infra checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
