"""`rosetta-monitoring serve` (the API under uvicorn) and `rosetta-monitoring openapi` (its contract as JSON)."""

from __future__ import annotations

import argparse
import socket
from typing import Any

from lakehouse.cli import command, tcp_port
from lakehouse.errors import RosettaError

# How long the server keeps an idle connection open. Longer than its clients keep one for reuse (Node's HTTP agent,
# under the Backstage backend's proxy, 5 s; a load balancer, 60 s): a client reusing a connection just as the server
# closes it gets a reset, and the page a "socket hang up". uvicorn's own default is 5 s.
KEEP_ALIVE_SECONDS = 75


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = command(subparsers, "serve", "serve the monitoring API over HTTP (uvicorn) until Ctrl-C")
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: %(default)s)")
    parser.add_argument("--port", type=tcp_port, default=8000, help="port (default: %(default)s)")
    parser.add_argument(
        "--log-level",
        default="info",
        choices=["critical", "error", "warning", "info", "debug"],
        help="the server's log level (default: %(default)s)",
    )
    parser.set_defaults(func=serve)

    openapi = command(subparsers, "openapi", "print the API's OpenAPI document (JSON), as docs/openapi.json")
    openapi.set_defaults(func=print_openapi)


def server_config(app: Any, *, log_level: str, host: str = "127.0.0.1", port: int = 8000) -> Any:
    """The API's uvicorn settings, for `serve` and the demo alike."""
    import uvicorn

    return uvicorn.Config(
        app, host=host, port=port, log_level=log_level, access_log=False, timeout_keep_alive=KEEP_ALIVE_SECONDS
    )


def listening_socket(host: str, port: int) -> socket.socket:
    """The API's socket, bound before the server starts: a port taken or a host that is none is one clear error
    (exit 2), where uvicorn logs it and exits 3, the code of an ingestion done in part."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise RosettaError(f"cannot serve the API on {host}:{port}: {exc.strerror}; check --host") from None
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise RosettaError(
            f"cannot serve the API on {host}:{port}: {exc.strerror}; give another --port (0 picks a free one)"
        ) from None
    return sock


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from functions.api.main import create_app
    from lakehouse.settings import Settings
    from lakehouse.storage import Lake

    # A mistyped lake folder is refused, as every command reading the lake refuses it: served, it was made empty, and
    # the API answered "No data yet" for as long as it ran.
    Lake.from_settings(Settings(), create=False)
    with listening_socket(args.host, args.port) as sock:
        config = server_config(create_app(), log_level=args.log_level, host=args.host, port=args.port)
        uvicorn.Server(config).run(sockets=[sock])
    return 0


def openapi_document() -> str:
    """The served OpenAPI document, rendered stably (sorted keys) so the committed copy diffs cleanly."""
    import json

    from functions.api.main import create_app
    from functions.api.settings import ApiSettings

    app = create_app(ApiSettings())
    return json.dumps(app.openapi(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def print_openapi(args: argparse.Namespace) -> int:
    import sys

    sys.stdout.write(openapi_document())
    return 0


def main(argv: list[str] | None = None) -> int:
    """Standalone entry: `python -m functions.api.cli serve --port 8000`."""
    parser = argparse.ArgumentParser(prog="rosetta-monitoring")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
