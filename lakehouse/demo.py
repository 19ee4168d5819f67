"""The demo: simulators -> ingestion Lambdas -> aggregate build -> API on localhost, all on one machine.

Steps: start the embedded S3 store (or use the given lake), generate a seeded estate and serve it behind the
five source simulators, load the mapping from the estate's Backstage catalog, run every ingestion function
through its Lambda handler with a scheduled event, build the aggregates through the build handler, print a
summary, then serve the API until Ctrl-C while a local scheduler fires the events EventBridge would.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

import httpx

from lakehouse.duckdb_session import open_duckdb
from lakehouse.errors import MappingValidationError, RosettaError
from lakehouse.local_s3 import EmbeddedS3
from lakehouse.mappings import MappingEntry, MappingStore, MappingVersion, from_catalog, same_entries
from lakehouse.runlog import RunLog, RunRecord
from lakehouse.scheduler import INGESTION, NO_TIMEOUT, LambdaContext, function_output_to, invoke, run_schedule
from lakehouse.settings import Settings, without_credentials
from lakehouse.storage import Lake

ENV_FILE = Path(".rosetta/demo.env")
# The functions' own output (Powertools JSON log lines, metric blobs): the terminal gets a line a run.
LOG_FILE = Path(".rosetta/demo.log")
READER_KEY = "ROSETTA_DEMO_READER_API_KEY"
ADMIN_KEY = "ROSETTA_DEMO_ADMIN_API_KEY"
# The estate the first demo on a lake made (seed, applications, days, the hour it ends): run again, the demo makes it
# again, so that ingestion reads the same events rather than adding a copy of each at another time.
ESTATE_KEY = Lake.state_key("demo", "estate")


@dataclass(frozen=True)
class DemoOptions:
    apps: int = 10
    days: int = 30
    seed: int = 42
    lake_url: str | None = None
    s3_endpoint: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    serve: bool = True
    schedule_minutes: float = 15.0


@dataclass(frozen=True)
class EstateWindow:
    """Which estate a lake holds: the seed, the applications and the days of history up to the hour it ends."""

    seed: int
    apps: int
    days: int
    end: datetime

    def as_record(self) -> dict[str, Any]:
        return {"seed": self.seed, "apps": self.apps, "days": self.days, "end": self.end.isoformat()}


def recorded_estate(lake: Lake) -> EstateWindow | None:
    """The estate recorded by the first demo on this lake; None on a new lake, or one a demo of an earlier release
    wrote, which recorded none (see `estate_of_an_earlier_demo`)."""
    found = lake.get_json(ESTATE_KEY)
    if found is None:
        return None
    record = found[0]
    try:
        end = datetime.fromisoformat(record["end"]).astimezone(UTC)
        return EstateWindow(seed=int(record["seed"]), apps=int(record["apps"]), days=int(record["days"]), end=end)
    except (KeyError, TypeError, ValueError) as exc:  # a record edited by hand: say which, not a traceback
        raise RosettaError(
            f"{without_credentials(lake.url)}: {ESTATE_KEY} cannot be read ({type(exc).__name__}: {exc}); it should "
            'hold {"seed", "apps", "days", "end"} as the first demo on this lake wrote them'
        ) from None


def estate_of_an_earlier_demo(lake: Lake, options: DemoOptions) -> EstateWindow | None:
    """The estate a demo of an earlier release made on this lake, which recorded none, found from its run log; None
    when the run log does not tell (its records expired, after 400 days on AWS, or it holds no demo's window).

    Every demo gave each source the window since = end - days, until = end, on the hour, and its first ingestion is
    the earliest in the lake (later runs read on from the watermarks, to the minute they start): the earliest
    ingestion records holding such a window name both the hour the estate ends and its days. Nothing else does: the
    first full build's as_of is the end alone, and the mapping's note the seed and applications alone, which the
    mapping check compares (so these are this run's)."""
    runs = RunLog(lake)
    for day in runs.days():
        ingestions = [r for r in runs.of_day(day) if r.function.startswith("ingest_")]
        if not ingestions:
            continue  # a day of other runs only (builds, a removal)
        windows = [w for r in ingestions if (w := demo_window(r)) is not None]
        if not windows:
            return None
        days, end = windows[0]
        return EstateWindow(seed=options.seed, apps=options.apps, days=days, end=end)
    return None


def demo_window(record: RunRecord) -> tuple[int, datetime] | None:
    """The days and end of the window a run read when it is one a demo gives: whole days up to an hour."""
    since, until = record.window_start, record.window_end
    if since is None or until is None or until != until.replace(minute=0, second=0, microsecond=0):
        return None
    length = until - since
    if length <= timedelta(0) or length % timedelta(days=1):
        return None
    return length.days, until.astimezone(UTC)


def run_demo(options: DemoOptions, *, say: Callable[[str], None] = print) -> int:
    with contextlib.ExitStack() as stack:
        stack.enter_context(_environment())
        os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
        os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
        os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "INFO")  # into LOG_FILE, not the terminal
        # The demo's estate is in `production`, as its catalog maps it: a shell set up for an estate that calls it
        # otherwise (the deploy steps export ROSETTA_PRODUCTION_ENVIRONMENT) would have its build and API judge an
        # environment the demo has none of, and the demo show no application.
        os.environ["ROSETTA_PRODUCTION_ENVIRONMENT"] = "production"
        os.environ.pop("ROSETTA_ENVIRONMENTS", None)
        # The API's port is taken before anything starts: a port in use is told at once, not after the build.
        from functions.api.cli import listening_socket

        sock = stack.enter_context(listening_socket(options.host, options.port)) if options.serve else None

        if options.lake_url:
            os.environ["ROSETTA_LAKE_URL"] = options.lake_url
            if options.s3_endpoint:
                os.environ["ROSETTA_S3_ENDPOINT_URL"] = options.s3_endpoint
            say(f"[1/6] lake at {without_credentials(options.lake_url)}")
        else:
            endpoint = stack.enter_context(EmbeddedS3())
            os.environ.update(endpoint.environment("demo"))
            say(f"[1/6] embedded S3 store on {endpoint.endpoint_url}, bucket {endpoint.bucket!r}")
        settings = Settings()
        lake = Lake.from_settings(settings)
        lake.check()
        store = MappingStore(lake)
        mapped = store.current()
        recorded = recorded_estate(lake)
        # A lake an earlier release's demo wrote holds its mapping but no record: its estate is found in its run log.
        held = recorded or (estate_of_an_earlier_demo(lake, options) if mapped else None)
        # On a lake holding an estate, the same hour again: a later one would move every event of the estate.
        end = held.end if held else datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        window = EstateWindow(seed=options.seed, apps=options.apps, days=options.days, end=end)

        from simulators.estate import generate_estate
        from simulators.serve import start_simulators

        started = time.monotonic()
        estate = generate_estate(seed=options.seed, apps=options.apps, days=options.days, end=end)
        sims = stack.enter_context(start_simulators(estate))
        os.environ.update(sims.env())
        made_in = time.monotonic() - started

        # The sources' settings the simulators leave as they are (timeouts, retries) are read by every ingestion, and
        # the API's by the server: a value that cannot be read is refused here, naming the variable, before the
        # mapping is written.
        from functions.api.settings import ApiSettings
        from lakehouse.ingest.config import IngestSettings

        IngestSettings()
        if options.serve:
            ApiSettings()  # the API's too (its keys, its tokens' secret), rather than after the whole build
        catalog = httpx.get(f"{sims.urls['catalog']}/catalog-info.yaml", timeout=30).text
        import yaml

        entries, problems = from_catalog(list(yaml.safe_load_all(catalog)))
        _refuse_another_estate(lake, store, entries, options)
        _refuse_an_unknown_window(lake, mapped, held)
        _refuse_another_window(lake, held, window)
        # Said once the lake is known to take this estate: a refused run announces no estate it does not make.
        whose = "the lake's estate" if held else "estate"
        say(
            f"[2/6] {whose} of {options.apps} applications over {options.days} days to {end:%Y-%m-%d %H:%M} UTC "
            f"(seed {options.seed}) behind "
            f"the simulators: {', '.join(f'{k} {v}' for k, v in sorted(sims.urls.items()))} ({made_in:.1f} s)"
        )
        note = f"demo estate of seed {options.seed} with {options.apps} applications, from its Backstage catalog"
        version = store.apply(entries, actor="demo", note=note)
        if recorded is None:
            lake.put_json(ESTATE_KEY, window.as_record())
        say(
            f"[3/6] mapping version {version.version}: {len(entries)} entities from the catalog, "
            f"{len(problems)} rejected"
        )

        log = stack.enter_context(function_output_to(LOG_FILE))
        say(f"      the functions' own logs (Powertools JSON lines) go to {LOG_FILE}")
        read = {"since": (end - timedelta(days=options.days)).isoformat(), "until": end.isoformat()}
        for source in INGESTION:
            started = time.monotonic()
            context = LambdaContext(f"ingest_{source}", time_left=NO_TIMEOUT, has_timeout=False)
            summary = invoke(f"ingest_{source}", {"window": read}, context, log)
            for line in ingested_lines(source, summary, time.monotonic() - started):
                say(line)

        started = time.monotonic()
        built = invoke("build_aggregates", {"mode": "full", "as_of": end.isoformat()}, LambdaContext("build"), log)
        say(f"[5/6] built {len(built['tables'])} tables as of {built['as_of']} ({time.monotonic() - started:.1f} s)")
        for line in summary_lines(lake, settings):
            say("      " + line)

        if sock is None:
            return 0
        keys = new_api_keys()
        os.environ["ROSETTA_API_API_KEYS"] = api_keys_setting(keys)
        server, port = _serve_api(sock)
        stack.callback(_stopper(server))
        base = f"http://{options.host}:{port}"
        app_id = sorted(e.entity_id for e in entries if e.kind == "application")[0]
        left_out = _write_env(keys, base)
        say(
            f"[6/6] API on {base} (OpenAPI page: {base}/docs); a reader API key ({READER_KEY}, the one for "
            f"Backstage's proxy entry) and an admin one ({ADMIN_KEY}) in {ENV_FILE} (mode 600). Try:"
        )
        for line in try_lines(base, app_id):
            say("      " + line)
        if left_out:
            say(
                f"      not in {ENV_FILE}: {', '.join(left_out)}, whose values hold ${{...}}, or a quote or backslash "
                "beside $ or `, which sh and python-dotenv would read differently"
            )
        say(f"READY {base}")
        _schedule(options.schedule_minutes, say, log)
    return 0


def _refuse_another_estate(lake: Lake, store: MappingStore, entries: list[MappingEntry], options: DemoOptions) -> None:
    """Before anything is written: a lake whose mapping this estate's catalog would change (an earlier demo of another
    --seed or --apps, or a lake mapped by hand) is refused. Merged, two estates would make figures of neither;
    started over, the lake would lose what it holds. The same estate again goes on, if over the same days."""
    try:
        # Compared as the whole mapping: merged, a smaller estate of the same seed (fewer --apps) changes nothing.
        current, after = store.check(entries, replace=True)
    except MappingValidationError:
        current, after = store.current(), None
    if current is None or (after is not None and same_entries(after, current.entries)):
        return
    note = f", {current.change_note!r}" if current.change_note else ""
    raise RosettaError(
        f"{without_credentials(lake.url)} already holds a mapping that is not this demo's estate (seed {options.seed}, "
        f"{options.apps} applications): version {current.version} by {current.changed_by}{note}. One lake holds one "
        "estate: give --lake-url a folder of its own, or the --seed and --apps of the estate it holds; to start over, "
        "remove that lake first. Nothing was written"
    )


def _refuse_an_unknown_window(lake: Lake, mapped: MappingVersion | None, held: EstateWindow | None) -> None:
    """Before anything is written: a lake holding this estate's mapping, by an earlier demo that recorded no estate,
    whose run log does not tell the hour that estate ends, is refused. Made to this hour, the estate's events would
    be added beside the lake's, each moved, counted twice. A lake holding no event (that demo stopped before its
    first ingestion) has none to count twice: it goes on, and the estate made to this hour is recorded as its own."""
    if mapped is None or held is not None or holds_no_events(lake):
        return
    raise RosettaError(
        f"{without_credentials(lake.url)} holds the mapping of an earlier demo (version {mapped.version} by "
        f"{mapped.changed_by}) but no record of its estate ({ESTATE_KEY}), and its run log does not tell the hour that "
        f"estate ends nor its days: give --lake-url a folder of its own, or write {ESTATE_KEY} as "
        '{"seed": S, "apps": N, "days": D, "end": "<the hour it ends, ISO 8601>"} for the estate the lake holds; '
        "to start over, remove that lake first. Nothing was written"
    )


def holds_no_events(lake: Lake) -> bool:
    """No object in raw/, of any dataset (their rejects too): no ingestion ever wrote to this lake."""
    return not lake.list_keys("raw/")


def _refuse_another_window(lake: Lake, recorded: EstateWindow | None, window: EstateWindow) -> None:
    """Before anything is written: the lake's estate over other days is another estate (its events drawn at other
    times), whose events ingestion would add beside the lake's, each moved, counted twice."""
    if recorded is None or recorded == window:
        return
    raise RosettaError(
        f"{without_credentials(lake.url)} already holds the demo estate of seed {recorded.seed} with {recorded.apps} "
        f"applications over {recorded.days} days to {recorded.end:%Y-%m-%d %H:%M} UTC, which the demo run again "
        f"refreshes: give --days {recorded.days} (with --seed {recorded.seed} --apps {recorded.apps}), or --lake-url "
        "a folder of its own; to start over, remove that lake first. Nothing was written"
    )


@dataclass(frozen=True)
class DemoKey:
    """An API key the demo makes: its variable in demo.env, its holder's name in the API, its roles."""

    variable: str
    name: str
    roles: tuple[str, ...]
    value: str


def new_api_keys() -> list[DemoKey]:
    """Two keys: Backstage's proxy forwards any GET for every signed-in user, so the key it holds must be a reader's
    only (with the admin role they would all read the run log, the mapping table and the connectors' state)."""
    return [
        DemoKey(READER_KEY, "demo-reader", ("reader",), secrets.token_urlsafe(24)),
        DemoKey(ADMIN_KEY, "demo-admin", ("reader", "admin"), secrets.token_urlsafe(24)),
    ]


def api_keys_setting(keys: list[DemoKey]) -> str:
    """ROSETTA_API_API_KEYS for these keys: their digests, never the keys."""
    from functions.api.auth import key_digest

    return json.dumps([{"name": k.name, "sha256": key_digest(k.value), "roles": list(k.roles)} for k in keys])


def try_lines(base: str, app_id: str) -> list[str]:
    """The curl lines printed to try the API: the reader key on read routes, the admin key on an admin route only."""
    reader, admin = f'-H "X-API-Key: ${READER_KEY}"', f'-H "X-API-Key: ${ADMIN_KEY}"'
    return [
        f". {ENV_FILE}; curl -s {reader} {base}/monitoring/overview",
        f"curl -s {reader} {base}/monitoring/applications/{app_id}/summary",
        f'curl -s {reader} "{base}/monitoring/kpis/dora?period=last_30d"',
        f"curl -s {admin} {base}/monitoring/admin/batch-runs",
    ]


def summary_lines(lake: Lake, settings: Settings) -> list[str]:
    """A short text summary of the mart: applications, health counts, worst risks, DORA levels."""
    con = open_duckdb(settings, lake)
    try:

        def rows(table: str, sql: str) -> list[dict[str, Any]]:
            keys = lake.list_keys(f"mart/{table}/")
            if not keys:
                return []
            con.execute("set variable files = $files", {"files": [lake.url_of(k) for k in keys]})
            return con.execute(sql).to_arrow_table().to_pylist()

        health = rows(
            "mv_health",
            "select health, count(*) as n from read_parquet(getvariable('files')) "
            "where level = 'application' group by health order by health",
        )
        risks = rows(
            "mv_monitoring_top_risks",
            "select rank, app_id, health, risk_score, reasons "
            "from read_parquet(getvariable('files')) order by rank limit 3",
        )
        dora = rows(
            "mv_dora_app_period",
            "select deployment_frequency_level as df, change_failure_level as cfr, "
            "count(*) as n from read_parquet(getvariable('files')) where period = 'last_30d' and "
            "environment = 'production' and correlation_mode = 'full' and band_set = '2023' "
            "group by all order by all",
        )
    finally:
        con.close()
    lines = [
        f"applications: {sum(r['n'] for r in health)}; health: " + ", ".join(f"{r['n']} {r['health']}" for r in health)
    ]
    for r in risks:
        lines.append(
            f"risk #{r['rank']}: {r['app_id']} ({r['health']}, score {r['risk_score']}): "
            + ("; ".join(r["reasons"]) or "no reason")
        )
    levels = ", ".join(f"{r['n']} at {r['df'] or 'n/a'}/{r['cfr'] or 'n/a'}" for r in dora)
    lines.append(f"DORA last 30 days, production (deployment frequency/change failure rate level): {levels}")
    return lines


@contextlib.contextmanager
def _environment() -> Iterator[None]:
    """The demo sets ROSETTA_* variables for the handlers; put the caller's environment back afterwards."""
    saved = dict(os.environ)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _serve_api(sock: socket.socket) -> tuple[Any, int]:
    import uvicorn

    from functions.api.cli import server_config
    from functions.api.main import create_app

    server = uvicorn.Server(server_config(create_app(), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    if not server.started:
        # Never READY for an API that is not there: the server stopped (its error is in the log above), or hangs.
        server.should_exit = True
        raise RosettaError("the API did not start (see the server's error above); the pipeline's lake is kept")
    return server, sock.getsockname()[1]


def _stopper(server: Any) -> Callable[[], None]:
    def stop() -> None:
        server.should_exit = True

    return stop


def _write_env(keys: list[DemoKey], base: str) -> list[str]:
    values = {k.variable: k.value for k in keys} | {"ROSETTA_DEMO_API_URL": base}
    values |= {k: v for k, v in sorted(os.environ.items()) if k.startswith("ROSETTA_") and "API_KEYS" not in k}
    return write_env_file(ENV_FILE, values)


def write_env_file(path: Path, values: dict[str, str]) -> list[str]:
    """`values` as quoted NAME=value lines in `path` (mode 600), which sh's `.` and python-dotenv read alike; the
    names of the values no quoting gives both, left out (never their values: they may be secrets)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    lines = {name: env_line(name, value) for name, value in values.items()}
    path.write_text("".join(f"{line}\n" for line in lines.values() if line), encoding="utf-8")
    return sorted(name for name, line in lines.items() if line is None)


def env_line(name: str, value: str) -> str | None:
    r"""NAME='value', read alike by sh and python-dotenv, or None when no quoting is.

    In single quotes sh takes everything as it is, but dotenv reads \\ and \' as escapes: a value with a quote or a
    backslash goes in double quotes, \\ and \" escaped, which both read alike, unless it holds $ or ` (sh expands
    them there, and the backslash that stops it stays in dotenv's reading). dotenv expands ${...} in any quotes."""
    if "${" in value:
        return None
    if "'" not in value and "\\" not in value:
        return f"{name}='{value}'"
    if "$" in value or "`" in value:
        return None
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'{name}="{escaped}"'


def _schedule(minutes: float, say: Callable[[str], None], log: TextIO) -> None:
    if minutes <= 0:
        say("Serving until Ctrl-C (local scheduler off).")
        threading.Event().wait()  # until Ctrl-C, which ends the demo with 130 as it ends any command
        return
    say(
        f"Serving until Ctrl-C; the local scheduler runs ingestion and a build every {minutes:g} minutes, a line a run "
        f"here (the functions' logs in {LOG_FILE})."
    )
    run_schedule(minutes, say, last_daily=datetime.now(UTC).date(), log=log)


def ingested_lines(source: str, summary: dict[str, Any], seconds: float) -> list[str]:
    """What the demo says of one source's ingestion: its totals, then a line per dataset that did not succeed, so a
    source that failed does not read as one that had nothing to say (0 rows)."""
    datasets = {name: d for run in summary["runs"] for name, d in run["datasets"].items()}
    rows = sum(d["rows_out"] for d in datasets.values())
    rejected = sum(d["rows_rejected"] for d in datasets.values())
    requests = sum(d["requests"] for d in datasets.values())
    lines = [f"[4/6] ingested {source}: {rows} rows, {rejected} rejected, {requests} requests ({seconds:.1f} s)"]
    for name, d in sorted(datasets.items()):
        if d["status"] == "failed":
            lines.append(f"      {name} FAILED: {d['error']}")
        elif d["status"] == "partial":
            lines.append(f"      {name} partial: {d['rows_rejected']} record(s) set aside as rejects")
    return lines
