"""Start every simulator on its own loopback HTTP server; `python -m simulators` runs them until Ctrl-C."""

from __future__ import annotations

import argparse
import base64
import logging
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn

from simulators import hashing
from simulators.argocd import ArgoCDSimulator
from simulators.argocd import shape_error as argocd_error
from simulators.catalog import CatalogSimulator
from simulators.dynatrace import DynatraceSimulator
from simulators.dynatrace import shape_error as dynatrace_error
from simulators.elasticsearch import ENVIRONMENT_FIELDS, ElasticsearchSimulator
from simulators.elasticsearch import shape_error as elasticsearch_error
from simulators.estate import Estate, generate_estate
from simulators.faults import ASGIApp, ErrorShaper, FaultConfig, FaultInjector, FaultMiddleware
from simulators.gitlab import GitLabSimulator
from simulators.gitlab import shape_error as gitlab_error
from simulators.history import MAX_DAYS, history_refused
from simulators.kibana import KibanaSimulator
from simulators.servicenow import ServiceNowSimulator
from simulators.servicenow import shape_error as servicenow_error
from simulators.timeseries import Telemetry

SOURCES = ("dynatrace", "servicenow", "argocd", "gitlab", "elasticsearch", "kibana", "catalog")


def make_credentials(seed: int) -> dict[str, dict[str, str]]:
    """Credentials of the simulated sources, stable for a seed and shaped like the real ones."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

    def token(length: int, *parts: object) -> str:
        digest = hashing.hex_id(length * 2, "token", seed, *parts)
        return "".join(alphabet[int(digest[i : i + 2], 16) % 32] for i in range(0, length * 2, 2))

    api_key_id, api_key = token(20, "es-id"), token(22, "es-key")
    header = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').decode().rstrip("=")
    claims = base64.urlsafe_b64encode(b'{"iss":"argocd","sub":"rosetta:apiKey"}').decode().rstrip("=")
    return {
        "dynatrace": {"api_token": f"dt0c01.{token(24, 'dt-public')}.{token(64, 'dt-secret')}"},
        "servicenow": {"user": "rosetta.integration", "password": token(16, "sn")},
        "argocd": {
            "token": f"{header}.{claims}.{token(43, 'argo-signature')}",
            "username": "admin",
            "password": token(16, "argo-password"),
        },
        "gitlab": {"private_token": f"glpat-{token(20, 'gitlab')}"},
        "elasticsearch": {
            "user": "elastic",
            "password": token(16, "es"),
            "api_key": base64.b64encode(f"{api_key_id}:{api_key}".encode()).decode(),
        },
        "kibana": {"user": "elastic", "password": token(16, "es")},
        "catalog": {},
    }


@dataclass
class _Server:
    name: str
    server: uvicorn.Server
    thread: threading.Thread
    url: str


@dataclass
class RunningSimulators:
    """Handles on the running servers: their base URLs, the credentials they accept, and a way to stop."""

    estate: Estate
    urls: dict[str, str]
    credentials: dict[str, dict[str, str]]
    faults: FaultConfig
    injectors: dict[str, FaultInjector]
    apis: dict[str, Any] = field(default_factory=dict)
    _servers: list[_Server] = field(default_factory=list, repr=False)

    def env(self) -> dict[str, str]:
        """The environment variables a connector reads to reach these simulators."""
        c = self.credentials
        return {
            "ROSETTA_DYNATRACE_URL": self.urls["dynatrace"],
            "ROSETTA_DYNATRACE_TOKEN": c["dynatrace"]["api_token"],
            "ROSETTA_SERVICENOW_URL": self.urls["servicenow"],
            "ROSETTA_SERVICENOW_USER": c["servicenow"]["user"],
            "ROSETTA_SERVICENOW_PASSWORD": c["servicenow"]["password"],
            "ROSETTA_ARGOCD_URL": self.urls["argocd"],
            "ROSETTA_ARGOCD_TOKEN": c["argocd"]["token"],
            "ROSETTA_GITLAB_URL": self.urls["gitlab"],
            "ROSETTA_GITLAB_TOKEN": c["gitlab"]["private_token"],
            "ROSETTA_ELASTICSEARCH_URL": self.urls["elasticsearch"],
            "ROSETTA_ELASTICSEARCH_USER": c["elasticsearch"]["user"],
            "ROSETTA_ELASTICSEARCH_PASSWORD": c["elasticsearch"]["password"],
            "ROSETTA_ELASTICSEARCH_API_KEY": c["elasticsearch"]["api_key"],
            "ROSETTA_KIBANA_URL": self.urls["kibana"],
            "ROSETTA_CATALOG_URL": self.urls["catalog"] + "/catalog-info.yaml",
        }

    def set_argocd_clock(self, moment: datetime) -> None:
        """Make ArgoCD answer as it would have at `moment` (its history only ever shows the last syncs)."""
        self.apis["argocd"].now_s = min(int(moment.timestamp()), self.estate.end_s)

    def stop(self) -> None:
        for running in self._servers:
            running.server.should_exit = True
        for running in self._servers:
            running.thread.join(timeout=5)
        self._servers.clear()

    def __enter__(self) -> RunningSimulators:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _serve(name: str, app: ASGIApp, host: str) -> _Server:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="off",
        http="h11",
        proxy_headers=False,
        server_header=False,
        date_header=True,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=f"sim-{name}", daemon=True)
    thread.start()
    return _Server(name, server, thread, f"http://{host if ':' not in host else f'[{host}]'}:{port}")


def start_simulators(
    estate: Estate,
    *,
    host: str = "127.0.0.1",
    faults: FaultConfig | None = None,
    dynatrace_page_size: int = 100,
    telemetry: Telemetry | None = None,
    log_environment_fields: tuple[str, ...] = ENVIRONMENT_FIELDS,
    log_level_field: str = "log.level",
) -> RunningSimulators:
    """Start each API as its own HTTP server on a free port; returns once all accept connections. The log
    documents carry their environment in `log_environment_fields` (deployment.environment, service.environment)
    and their level in `log_level_field` (log.level as ECS loggers write it, severity_text as an OpenTelemetry
    exporter does)."""
    faults = faults or FaultConfig()
    credentials = make_credentials(estate.seed)
    telemetry = telemetry or Telemetry(estate)
    es = credentials["elasticsearch"]
    apis: dict[str, Any] = {
        "dynatrace": DynatraceSimulator(
            estate, telemetry, credentials["dynatrace"]["api_token"], metrics_page_size=dynatrace_page_size
        ),
        "servicenow": ServiceNowSimulator(
            estate, credentials["servicenow"]["user"], credentials["servicenow"]["password"]
        ),
        "argocd": ArgoCDSimulator(
            estate, credentials["argocd"]["token"], credentials["argocd"]["username"], credentials["argocd"]["password"]
        ),
        "gitlab": GitLabSimulator(estate, credentials["gitlab"]["private_token"]),
        "elasticsearch": ElasticsearchSimulator(
            estate, telemetry, es["user"], es["password"], es["api_key"], log_environment_fields, log_level_field
        ),
        "kibana": KibanaSimulator(estate, es["user"], es["password"], es["api_key"]),
        "catalog": CatalogSimulator(estate),
    }
    shapers: dict[str, ErrorShaper] = {
        "dynatrace": dynatrace_error,
        "servicenow": servicenow_error,
        "argocd": argocd_error,
        "gitlab": gitlab_error,
        "elasticsearch": elasticsearch_error,
    }
    injectors: dict[str, FaultInjector] = {}
    servers: list[_Server] = []
    for name in SOURCES:
        app: ASGIApp = apis[name].app
        if name in shapers:
            injector = FaultInjector(name, faults.for_api(name), faults.seed)
            injectors[name] = injector
            app = FaultMiddleware(app, injector, shapers[name])
        servers.append(_serve(name, app, host))
    deadline = time.monotonic() + 15
    while not all(s.server.started for s in servers):
        if time.monotonic() > deadline or any(not s.thread.is_alive() for s in servers):
            for s in servers:
                s.server.should_exit = True
            raise RuntimeError("simulators failed to start")
        time.sleep(0.01)
    return RunningSimulators(estate, {s.name: s.url for s in servers}, credentials, faults, injectors, apis, servers)


def _parse_end(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _positive(text: str) -> int:
    """A count of 1 or more: an estate's applications or days."""
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a whole number of 1 or more")
    return number


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="rosetta-monitoring simulators", description="Serve the source simulators on loopback until Ctrl-C."
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--apps", type=_positive, default=10)
    parser.add_argument("--days", type=_positive, default=30, help=f"days of history, at most {MAX_DAYS}")
    parser.add_argument("--end", type=_parse_end, default=None, help="UTC end of history (default: this hour)")
    parser.add_argument("--faults", default="none", help="profile (none, flaky, rate-limited, chaos) or JSON file")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--truth", type=Path, default=None, help="write the estate's truth as JSON to this file")
    parser.add_argument(
        "--log-environment-field",
        choices=(*ENVIRONMENT_FIELDS, "both"),
        default="both",
        help="the field log documents name their environment in: deployment.environment (OpenTelemetry), "
        "service.environment (Elastic Common Schema loggers), or both (default)",
    )
    args = parser.parse_args(argv)
    try:
        faults = FaultConfig.load(args.faults)
    except ValueError as exc:
        parser.error(str(exc))
    refused = history_refused(args.days, args.end)
    if refused:
        parser.error(refused)
    logging.basicConfig(level=logging.WARNING)
    started = time.monotonic()
    estate = generate_estate(seed=args.seed, apps=args.apps, days=args.days, end=args.end)
    if args.truth:
        try:
            args.truth.write_text(estate.truth.to_json(indent=2))
        except OSError as exc:
            parser.error(f"cannot write the truth to {args.truth}: {exc.strerror}")
    fields = ENVIRONMENT_FIELDS if args.log_environment_field == "both" else (args.log_environment_field,)
    try:
        running = start_simulators(estate, host=args.host, faults=faults, log_environment_fields=fields)
    except OSError as exc:  # an address this machine does not have, or no name
        parser.error(f"cannot serve the simulators on {args.host}: {exc.strerror or exc}")
    out = sys.stdout
    print(
        f"Estate: seed {estate.seed}, {len(estate.applications)} applications, {len(estate.components)} "
        f"components, {estate.start:%Y-%m-%d %H:%M} to {estate.end:%Y-%m-%d %H:%M} UTC "
        f"({len(estate.truth.deployments)} production deployments, {len(estate.incidents)} incidents); "
        f"ready in {time.monotonic() - started:.1f} s",
        file=out,
    )
    print(f"Faults: {args.faults}", file=out)
    for name in SOURCES:
        secrets = ", ".join(f"{k}={v}" for k, v in running.credentials[name].items()) or "no authentication"
        print(f"  {name:<14} {running.urls[name]:<28} {secrets}", file=out)
    print("\nEnvironment for the connectors:", file=out)
    for key, value in running.env().items():
        print(f"export {key}='{value}'", file=out)
    print("\nServing until Ctrl-C.", file=out, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        running.stop()
    return 0
