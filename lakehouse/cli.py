"""The `rosetta-monitoring` command: the demo, the local stack, the mapping table and lake inspection."""

from __future__ import annotations

import argparse
import atexit
import contextlib
import csv
import getpass
import json
import math
import os
import shutil
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import urlparse

from lakehouse.aggregates.as_of import AS_OF_EXAMPLE, outside_years
from lakehouse.errors import LakeConfigError, MappingValidationError, RosettaError
from lakehouse.settings import Settings, without_credentials
from lakehouse.storage import Lake
from simulators.history import MAX_DAYS

if TYPE_CHECKING:
    import duckdb

# The ingestion functions the scheduler fires (lakehouse.scheduler.INGESTION, which imports the build).
SCHEDULED_SOURCES = ("dynatrace", "servicenow", "deploys", "logs")
# DuckDB types a query may give that Python rows cannot hold as they are: written as DuckDB writes them.
AS_TEXT = ("INTERVAL", "TIMESTAMP_NS")
# A scheduler's longest period: a longer one would never fire while the process lives, and a far longer one (10**12
# minutes) overflows the clock its wait is counted on.
MAX_PERIOD_MINUTES = 365 * 24 * 60
# What a scheduler (cron, systemd, a CI job) reads of a command's end; the README's "Exit codes" says the same.
EXIT_OK, EXIT_FAILED, EXIT_REFUSED, EXIT_PARTIAL = 0, 1, 2, 3
EXIT_CODES = (
    "exit codes: 0 done; 1 an ingestion run failed for a source or a dataset (the others written, the run log says "
    "why); 2 stopped on an error named in one line (a wrong option or setting, a lake that cannot be used, no mapping, "
    "a build that failed or found another running); 3 an ingestion done but partial (records set aside as rejects); "
    "130 stopped by Ctrl-C, 143 by SIGTERM (the run ends failed, the lake keeps its last good partitions); "
    "141 its output closed (| head)"
)


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    lake_options, command = _lake_options_before_the_command(words)
    if words[command : command + 1] == ["simulators"]:
        from simulators.serve import main as simulators_main

        if lake_options:
            verb = "does" if len(lake_options) == 1 else "do"
            note = f"note: {' and '.join(lake_options)} {verb} not apply to the simulators, which keep no lake"
            print(note, file=sys.stderr)
        return simulators_main(words[command + 1 :])
    parser = _parser()
    args = parser.parse_args(words)
    handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None) or getattr(args, "func", None)
    if handler is None:
        parser.print_help()
        return EXIT_REFUSED
    try:
        _refuse_an_endpoint_without_an_s3_lake(args, handler)
        with _terminated_as_exit(), _lake_options_in_environment(args):
            code = handler(args)
        sys.stdout.flush()  # here, not at exit: a reader that stopped (`| head`) is then told apart below
        return code
    except BrokenPipeError:
        # The reader took what it wanted and left: no traceback, and nothing more to write. Its end of the pipe is
        # gone, so what is still buffered goes nowhere; 141 is what a shell reports for a command stopped that way.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except MappingValidationError as exc:
        print(f"error: {len(exc.problems)} mapping problem(s), nothing written:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        return EXIT_REFUSED
    except RosettaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except KeyboardInterrupt:
        return 130
    except RuntimeError as exc:
        # DuckDB's "Query interrupted" on Ctrl-C or SIGTERM: 1.5 chains it to the stop, 2.0 keeps no link to it.
        if isinstance(exc.__cause__, KeyboardInterrupt | SystemExit) or str(exc) == "Query interrupted":
            return 143 if _terminated.is_set() else 130
        raise


def _refuse_an_endpoint_without_an_s3_lake(args: argparse.Namespace, handler: Callable[..., int]) -> None:
    """--s3-endpoint is where an s3:// lake lives: beside a folder lake it would be ignored, the folder read or
    written while another store was meant. (The demo without --lake-url says so itself: it uses its own store.)"""
    if not args.s3_endpoint or (handler is _demo and not args.lake_url):
        return
    url = (args.lake_url or os.environ.get("ROSETTA_LAKE_URL") or Settings.model_fields["lake_url"].default).strip()
    if urlparse(url).scheme in ("", "file"):  # other schemes are refused with the lake URL itself
        raise LakeConfigError(
            f"--s3-endpoint names the store of an s3:// lake, and the lake is the folder {url}: "
            "give --lake-url s3://bucket/prefix, or no --s3-endpoint"
        )


# Set by SIGTERM: a stop DuckDB turned into "Query interrupted" then exits 143, not Ctrl-C's 130.
_terminated = threading.Event()


def _exit_terminated(*_: object) -> None:
    # Stopping once is enough: a second SIGTERM (a process group's, then make passing it on) would break into the
    # clean-up this one starts, and leave a lease held or a server running.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _terminated.set()
    sys.exit(143)  # what a shell reports for a command stopped by SIGTERM


@contextlib.contextmanager
def _terminated_as_exit() -> Iterator[None]:
    """SIGTERM (`docker compose stop`, systemd, kill) stops the command as Ctrl-C does, through its clean-up: a run
    ends `failed` in the run log, a build lets go of the lake's lease, the demo stops the servers it started. Left to
    its default, the process would end where it stood (and a container's first process would ignore it)."""
    if threading.current_thread() is not threading.main_thread():  # only the main thread may set a handler
        yield
        return
    _terminated.clear()  # a command run before in the same process was stopped, not this one
    previous = signal.signal(signal.SIGTERM, _exit_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


@contextlib.contextmanager
def _lake_options_in_environment(args: argparse.Namespace) -> Iterator[None]:
    """--lake-url and --s3-endpoint as ROSETTA_* variables while the command runs: the scheduler's handlers and the
    API read their settings from the environment, as in Lambda. The caller's environment comes back afterwards."""
    given = {"ROSETTA_LAKE_URL": args.lake_url, "ROSETTA_S3_ENDPOINT_URL": args.s3_endpoint}
    saved = {name: os.environ.get(name) for name in given}
    os.environ.update({name: value for name, value in given.items() if value})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


LAKE_OPTIONS = ("--lake-url", "--s3-endpoint")


def _lake_options_before_the_command(words: list[str]) -> tuple[list[str], int]:
    """The lake options given before the command (their names), and where the command's word is."""
    named, at = [], 0
    while at < len(words):
        name = words[at].split("=", 1)[0]
        if name not in LAKE_OPTIONS:
            break
        named.append(name)
        at += 1 if "=" in words[at] else 2
    return named, at


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rosetta-monitoring", description=__doc__, epilog=EXIT_CODES)
    parser.add_argument(
        "--lake-url",
        type=_given,
        help="s3://bucket/prefix or a folder (default: $ROSETTA_LAKE_URL, .rosetta/lake)",
    )
    parser.add_argument(
        "--s3-endpoint",
        type=_given,
        help="S3 endpoint URL for MinIO or another store (default: $ROSETTA_S3_ENDPOINT_URL, AWS)",
    )
    sub = parser.add_subparsers(title="commands")

    demo = command(sub, "demo", "simulators -> ingestion -> aggregates -> API on localhost, on the embedded S3 store")
    demo.add_argument(
        "--apps", type=at_least_one, default=10, help="applications in the synthetic estate (default: %(default)s)"
    )
    demo.add_argument(
        "--days", type=_history_days, default=30, help=f"days of history, at most {MAX_DAYS} (default: %(default)s)"
    )
    demo.add_argument(
        "--seed", type=int, default=42, help="the estate's seed, same seed same world (default: %(default)s)"
    )
    demo.add_argument("--host", default="127.0.0.1", help="interface the API listens on (default: %(default)s)")
    demo.add_argument("--port", type=tcp_port, default=8000, help="API port, 0 picks a free one (default: %(default)s)")
    demo.add_argument("--no-serve", action="store_true", help="stop after the build and the summary")
    demo.add_argument(
        "--schedule-minutes",
        type=_schedule_minutes,
        default=15.0,
        help="minutes between the local scheduler's rounds while serving, 0 turns it off (default: %(default)g)",
    )
    demo.set_defaults(handler=_demo)

    local = command(sub, "local-s3", "run the embedded S3-compatible server in the foreground")
    local.add_argument("--bucket", default="rosetta-lake", help="bucket it creates (default: %(default)s)")
    local.add_argument("--host", default="127.0.0.1", help="interface it listens on (default: %(default)s)")
    local.add_argument("--port", type=tcp_port, default=9000, help="0 picks a free one (default: %(default)s)")
    local.set_defaults(handler=_local_s3)

    build_cmd = command(sub, "build", "build the aggregate tables (mart/) from raw/ and the mapping", epilog=EXIT_CODES)
    build_cmd.add_argument(
        "--mode",
        choices=["hourly", "daily", "full"],
        default="full",
        help="full rebuilds every day; hourly the days touched since the last build; daily also the period tables "
        "(default: %(default)s)",
    )
    build_cmd.add_argument(
        "--as-of", type=_as_of, help="UTC instant to build as of (default: now, truncated to the hour)"
    )
    build_cmd.set_defaults(handler=_build)

    # Listed for --help; main() hands everything after the word to the simulators' own parser.
    sub.add_parser("simulators", help="start the five source simulators on loopback (see: simulators --help)")

    scheduler = command(
        sub, "scheduler", "fire the scheduled ingestion and build events locally (what EventBridge does in AWS)"
    )
    scheduler.add_argument(
        "--minutes", type=_minutes, default=60.0, help="minutes between rounds (default: %(default)g)"
    )
    scheduler.add_argument(
        "--source",
        action="append",
        choices=SCHEDULED_SOURCES,
        help="only these ingestion functions (repeatable; default: all; deploys reads ArgoCD and GitLab, logs "
        "Elasticsearch)",
    )
    scheduler.add_argument("--now", action="store_true", help="run a round at once, then every period")
    scheduler.set_defaults(handler=_scheduler)

    check = command(sub, "check", "check that the lake is reachable and writable")
    check.set_defaults(handler=_check)

    mappings = command(sub, "mappings", "the mapping table: list, validate, import, history")
    # Required: `mappings` alone is a command left unsaid, refused with its own usage.
    msub = mappings.add_subparsers(title="mapping commands", metavar="{list,validate,import,history}", required=True)
    m_list = command(msub, "list", "print the current mapping as JSON lines")
    m_list.set_defaults(handler=_mappings_list)
    m_validate = command(
        msub, "validate", "check that importing a YAML/CSV/catalog-info.yaml file would succeed, without writing"
    )
    m_validate.add_argument("file", type=Path, help="a YAML or CSV mapping, or a Backstage catalog-info.yaml")
    m_validate.add_argument("--replace", action="store_true", help="check the file as the whole mapping, as import's")
    m_validate.set_defaults(handler=_mappings_validate)
    m_import = command(msub, "import", "upsert the entries of a file as a new mapping version")
    m_import.add_argument("file", type=Path, help="a YAML or CSV mapping, or a Backstage catalog-info.yaml")
    m_import.add_argument(
        "--actor", default=os.environ.get("USER") or "cli", help="who makes the change (default: $USER)"
    )
    m_import.add_argument("--note", help="why")
    m_import.add_argument("--replace", action="store_true", help="the file becomes the whole mapping")
    m_import.set_defaults(handler=_mappings_import)
    m_history = command(msub, "history", "list mapping versions: who, when, why, how many entries")
    m_history.set_defaults(handler=_mappings_history)

    runs = command(sub, "runs", "list recent batch runs from the run log")
    runs.add_argument(
        "--days",
        type=at_least_one,
        default=7,
        help="the UTC days before today to list, and today: 1 lists yesterday and today (default: %(default)s)",
    )
    runs.add_argument("--limit", type=at_least_one, default=50, help="runs listed at most (default: %(default)s)")
    runs.set_defaults(handler=_runs)

    partitions = command(sub, "partitions", "list the day partitions (UTC days) of a dataset")
    partitions.add_argument("dataset", help="e.g. servicenow/incidents")
    partitions.set_defaults(handler=_partitions)

    views = command(sub, "views", "print DuckDB views over this lake for analysts (SQL)")
    views.set_defaults(handler=_views)

    query = command(
        sub, "query", "run SQL over this lake's named views (those `views` prints) with DuckDB and print the rows"
    )
    query.add_argument("sql", help="one query, e.g. \"select * from mv_health where level = 'team'\"")
    query.add_argument(
        "--format",
        choices=["table", "csv", "json"],
        default="table",
        help="table: DuckDB's rendering, long results elided in the middle; csv, json (an object a line): every row "
        "(default: %(default)s)",
    )
    query.set_defaults(handler=_query)

    dictionary = command(sub, "dictionary", "print the data dictionary (Markdown)")
    dictionary.set_defaults(handler=_dictionary)

    forget = command(
        sub,
        "forget",
        "forget a person on request: their username set to null in raw/, the rejects and landing pages naming them "
        "removed (stop the schedules first)",
        epilog=EXIT_CODES,
    )
    forget.add_argument(
        "identifier",
        help="their username or e-mail address, as ArgoCD and GitLab give it (3 characters or more); - reads it from "
        "the first line of standard input, so that the shell's history and the process list do not keep it",
    )
    forget.add_argument("--dry-run", action="store_true", help="list what would change, write nothing")
    forget.add_argument(
        "--free-text",
        action="store_true",
        help="also change the free text naming them (descriptions, titles and messages set to null, the tags naming "
        "them dropped from their lists), otherwise only listed",
    )
    forget.add_argument(
        "--actor",
        default=os.environ.get("USER") or "cli",
        help="who makes the change, kept in the run log (default: $USER)",
    )
    forget.set_defaults(handler=_forget)

    from functions.api.cli import register as register_api
    from lakehouse.ingest.cli import register as register_ingest

    register_ingest(sub)
    register_api(sub)
    return parser


def command(subparsers: Any, name: str, summary: str, **options: Any) -> argparse.ArgumentParser:
    """A subcommand whose own --help says what it does, as the list of commands does."""
    parser: argparse.ArgumentParser = subparsers.add_parser(name, help=summary, description=summary, **options)
    return parser


def _number(text: str, kind: Callable[[str], float], ok: Callable[[float], bool], wanted: str) -> float:
    """`text` as a number of `kind` that passes `ok`, else argparse's refusal saying what was `wanted`."""
    try:
        number: float | None = kind(text)
    except ValueError:
        number = None
    if number is None or not ok(number):
        raise argparse.ArgumentTypeError(f"{text} is not {wanted}")
    return number


def _given(text: str) -> str:
    """A lake URL or endpoint as given on one line. An empty one (a command substitution that printed nothing) would
    otherwise fall back to the default, and a mapping be imported into a local folder rather than the lake meant; one
    holding a line break or a control character is a command's message, not a value (`terraform output` run outside
    its folder prints a coloured warning box in place of the output)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("is empty: give it a value, or leave the option out for the default")
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise argparse.ArgumentTypeError(
            "holds a line break or a control character: it is no URL or folder (the output of a command that failed?)"
        )
    return text


def at_least_one(text: str) -> int:
    """A count that means nothing at zero: an estate's applications or days, the run log's days or runs listed."""
    return int(_number(text, int, lambda n: n >= 1, "a whole number of 1 or more"))


def _history_days(text: str) -> int:
    """The demo estate's days of history: ten years at most, as the simulators generate."""
    return int(_number(text, int, lambda n: 1 <= n <= MAX_DAYS, f"a whole number of 1 to {MAX_DAYS}"))


def _minutes(text: str) -> float:
    """The scheduler's period: with none, rounds would follow each other with no pause."""
    return _number(
        text,
        float,
        lambda n: 0 < n <= MAX_PERIOD_MINUTES,
        f"a number of minutes above 0, up to a year ({MAX_PERIOD_MINUTES})",
    )


def _schedule_minutes(text: str) -> float:
    """The demo's scheduler period, 0 turning it off: below 0 is no period, and would turn it off unsaid."""
    return _number(
        text,
        float,
        lambda n: 0 <= n <= MAX_PERIOD_MINUTES,
        f"a number of minutes of 0 (off) or more, up to a year ({MAX_PERIOD_MINUTES})",
    )


def _as_of(text: str) -> datetime:
    """The build's instant, refused before anything runs: text that is no instant, one without a zone (local time
    would be UTC on Lambda and another hour elsewhere), or one whose periods no date holds."""
    try:
        as_of = datetime.fromisoformat(text)
    except ValueError as exc:
        # Python says "Invalid isoformat string: '...'" for text that is no instant, else what is out of range.
        reason = "is not an ISO 8601 instant" if str(exc).startswith("Invalid isoformat") else str(exc)
        raise argparse.ArgumentTypeError(f"{text!r} {reason}: give e.g. {AS_OF_EXAMPLE}") from None
    if as_of.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text} needs a time zone, e.g. {AS_OF_EXAMPLE}")
    outside = outside_years(as_of)
    if outside:
        raise argparse.ArgumentTypeError(f"{text} {outside}")
    return as_of


def tcp_port(text: str) -> int:
    """A TCP port; beyond 65535 the socket would fail late (or the embedded store pick another one)."""
    return int(_number(text, int, lambda n: 0 <= n <= 65535, "a port (0 to 65535)"))


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {}
    if args.lake_url:
        overrides["lake_url"] = args.lake_url
    if args.s3_endpoint:
        overrides["s3_endpoint_url"] = args.s3_endpoint
    return Settings(**overrides)


def _lake(args: argparse.Namespace, *, create: bool = False, missing_is_empty: bool = False) -> Lake:
    """The lake of the command line. Only a command that writes (`create`) makes a missing local folder; one that
    tells what a write would do reads it as an empty lake (`missing_is_empty`)."""
    lake = Lake.from_settings(_settings(args), create=create, missing_is_empty=missing_is_empty)
    lake.check()
    return lake


def _demo(args: argparse.Namespace) -> int:
    from lakehouse.demo import DemoOptions, run_demo

    if args.s3_endpoint and not args.lake_url:
        raise LakeConfigError(
            "--s3-endpoint names the store of an s3:// --lake-url; give both, or neither for the embedded store"
        )
    options = DemoOptions(
        apps=args.apps,
        days=args.days,
        seed=args.seed,
        lake_url=args.lake_url,
        s3_endpoint=args.s3_endpoint,
        host=args.host,
        port=args.port,
        serve=not args.no_serve,
        schedule_minutes=args.schedule_minutes,
    )
    return run_demo(options, say=lambda line: print(line, flush=True))


def _build(args: argparse.Namespace) -> int:
    from lakehouse.aggregates.build import build

    settings = _settings(args)
    lake = _lake(args)  # not made when missing: a build needs a mapping, which a new folder never holds
    result = build(lake, settings, mode=args.mode, as_of=args.as_of, trigger="cli")
    print(
        f"{result.mode} build as of {result.as_of.isoformat()}: days {result.day_from} to {result.day_to}, "
        f"{len(result.tables)} tables, {result.objects_written} mart objects written, run {result.run_id}"
    )
    if result.full_because:
        print(f"every day rebuilt: {result.full_because}")
    if result.daily_because:
        print(f"period tables refreshed: {result.daily_because}")
    slowest = result.slowest_steps().items()
    print("slowest steps: " + ", ".join(f"{step} {seconds:.1f} s" for step, seconds in slowest))
    if result.mode == "hourly":
        kept = ", ".join(f"{table} {rows:,} rows" for table, rows in result.settled_rows.items())
        print(f"kept from earlier builds: {kept or 'nothing, every event table computed whole'}")
    return 0


def _scheduler(args: argparse.Namespace) -> int:
    from lakehouse.scheduler import INGESTION, run_schedule, tick

    def say(line: str) -> None:
        print(line, flush=True)

    # Its rounds need the lake's mapping, as `ingest` and `build` do: a mistyped folder is refused before the first, not
    # made and fired into every period. An S3 lake is not reached here: the service may start before its store does.
    Lake.from_settings(_settings(args), create=False)
    # The sources' settings are read by every round: a value that cannot be read (a word for a number) is refused
    # now, naming the variable, rather than failing each round of a service that looks up. Secrets are fetched later.
    from lakehouse.ingest.config import IngestSettings

    IngestSettings()
    sources = tuple(dict.fromkeys(args.source or INGESTION))  # a source named twice runs once a round
    last_daily = tick(sources, None, say) if args.now else None
    run_schedule(args.minutes, say, sources=sources, last_daily=last_daily)
    return 0


def _local_s3(args: argparse.Namespace) -> int:
    from lakehouse.local_s3 import main as local_main

    return local_main(["--bucket", args.bucket, "--host", args.host, "--port", str(args.port)])


def _check(args: argparse.Namespace) -> int:
    lake = _lake(args, create=True)
    key = "state/_check.json"
    lake.put_json(key, {"checked_at": datetime.now(UTC).isoformat()})
    lake.store.delete(key)
    print(f"ok: {lake.url} is reachable and writable")
    return 0


def _mappings_list(args: argparse.Namespace) -> int:
    from lakehouse.mappings import MappingStore

    current = MappingStore(_lake(args)).current()
    if current is None:
        print("no mapping yet: import one with `rosetta-monitoring mappings import FILE`", file=sys.stderr)
        return EXIT_REFUSED
    for entry in current.entries:
        print(json.dumps(entry.model_dump(exclude_none=True), sort_keys=True))
    return 0


def _mappings_validate(args: argparse.Namespace) -> int:
    from lakehouse.mappings import MappingStore, same_entries

    # What import would answer: the file merged with the stored mapping (alone with --replace), written nowhere; a
    # folder not made yet is the empty lake the import would start there, and stays unmade.
    lake = _lake(args, missing_is_empty=True)
    try:
        entries = _file_entries(args.file)
        settings = _settings(args)
        store = MappingStore(lake, settings.production_environment, settings.environments)
        current, after = store.check(entries, replace=args.replace)
    except MappingValidationError as exc:
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        print(f"{len(exc.problems)} problem(s): importing this file would write nothing")
        return 2
    valid = f"{len(entries)} valid entr{'y' if len(entries) == 1 else 'ies'}"
    if current is not None and same_entries(after, current.entries):
        print(f"{valid}: importing this file would change nothing (mapping version {current.version} stays)")
        return 0
    version = (current.version if current else 0) + 1
    print(f"{valid}: importing this file would write mapping version {version} of {len(after)} entries")
    if not lake.is_s3 and not Path(lake.url).exists():
        print(f"no lake at {lake.url} yet: importing this file would start one there")
    return 0


def _mappings_import(args: argparse.Namespace) -> int:
    from lakehouse.mappings import MappingStore

    entries = _file_entries(args.file)
    settings = _settings(args)
    environments = (settings.production_environment, settings.environments)
    # Checked before the lake is opened to write: a refused import makes no folder (one not made yet reads as the
    # empty lake the import would start there, as for validate).
    MappingStore(_lake(args, missing_is_empty=True), *environments).check(entries, replace=args.replace)
    # Validated again by the store merged with the current mapping (alone with --replace), as the API's changes are:
    # another import may have landed in between.
    store = MappingStore(_lake(args, create=True), *environments)
    version, written = store.change(entries, actor=args.actor, note=args.note, replace=args.replace)
    if not written:
        print(f"mapping unchanged: version {version.version} kept, {len(version.entries)} entries")
    else:
        print(f"mapping version {version.version}: {len(version.entries)} entries, by {version.changed_by}")
    return 0


def _file_entries(path: Path) -> list[Any]:
    """The raw entries of a file to import; MappingValidationError when the file holds none to import."""
    from lakehouse.mappings import read_file

    entries, problems = read_file(path)
    if not entries and not problems:
        # As the API refuses an empty change: a new version the same as the last, or with --replace none at all.
        problems = [f"{path}: no entries to import (a catalog needs a System or a Component)"]
    if problems:
        raise MappingValidationError(problems)
    return entries


def _mappings_history(args: argparse.Namespace) -> int:
    from lakehouse.mappings import MappingStore

    store = MappingStore(_lake(args))
    for number in store.versions():
        v = store.read(number)
        if v:
            print(
                f"{v.version:6d}  {v.changed_at.isoformat()}  {v.changed_by:<20} "
                f"{len(v.entries):5d}  {v.change_note or ''}"
            )
    return 0


def _runs(args: argparse.Namespace) -> int:
    from lakehouse.runlog import RunLog

    today = datetime.now(UTC).date()
    # More days than the calendar holds before today: the whole run log.
    since = today - timedelta(days=min(args.days, (today - date.min).days))
    for r in RunLog(_lake(args)).list(since=since, limit=args.limit):
        print(
            f"{r.started_at.isoformat()}  {r.run_id}  {r.function:<18} {r.source:<13} {r.dataset or '-':<24} "
            f"{r.status:<9} {_took(r.duration_s):>8} in={r.rows_in} out={r.rows_out} rejected={r.rows_rejected} "
            f"days={_days_span(r.days_written)} {r.error or ''}"
        )
    return 0


def _took(seconds: float | None) -> str:
    """A run's duration, `-` while it runs."""
    return "-" if seconds is None else f"{seconds:.1f}s"


def _days_span(days: list[str]) -> str:
    """The days a run wrote, as the next hourly build reads them: `-`, one day, or first..last (and how many)."""
    if not days:
        return "-"
    first, last = min(days), max(days)
    return first if first == last else f"{first}..{last}({len(days)})"


def _partitions(args: argparse.Namespace) -> int:
    from lakehouse.schemas import get_dataset

    lake = _lake(args)
    days: list[date] = lake.list_partitions(get_dataset(args.dataset))
    for day in days:
        print(day.isoformat())
    return 0


def _views(args: argparse.Namespace) -> int:
    from lakehouse.views import render_views

    lake = _lake(args)
    _warn_without_mapping(lake)
    sys.stdout.write(render_views(lake))
    return 0


def _json_value(value: Any) -> Any:
    """What json cannot write by itself: instants and days as ISO 8601, decimals as numbers."""
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        # DuckDB's sums of whole numbers (HUGEINT) arrive as decimals without a fraction: whole numbers, exact.
        return int(value) if value.as_tuple().exponent == 0 else float(value)
    return str(value)


def _csv_text(value: Any) -> Any:
    """A cell: lists and structs as JSON, instants and days as ISO 8601."""
    if isinstance(value, list | dict):
        return json.dumps(value, default=_json_value, ensure_ascii=False)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def _finite(value: Any) -> Any:
    """A value JSON can hold: NaN (a rate of 0 / 0) and the infinities are not numbers to JSON, and a strict parser
    refuses the line; they are written null, in lists and structs too."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list):
        return [_finite(v) for v in value]
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    return value


def _as_duckdb_text(relation: duckdb.DuckDBPyRelation) -> duckdb.DuckDBPyRelation:
    """The relation with its intervals (an instant minus another) and nanosecond instants as DuckDB writes them,
    02:00:00 and 2026-11-20 10:00:00.123456789: Arrow gives an interval as a record of months, days and nanoseconds,
    and Python's datetime holds microseconds at most. Columns by position, since a join's may share a name."""
    types = [str(t) for t in relation.types]
    if not any(kind in t for t in types for kind in AS_TEXT):
        return relation
    columns = []
    for position, (name, type_) in enumerate(zip(relation.columns, types, strict=True), start=1):
        alias = '"' + name.replace('"', '""') + '"'
        # A list or struct of them too: the same type with text in their place.
        text_type = type_
        for kind in AS_TEXT:
            text_type = text_type.replace(kind, "VARCHAR")
        value = f"cast(#{position} as {text_type})" if text_type != type_ else f"#{position}"
        columns.append(f"{value} as {alias}")
    return relation.project(", ".join(columns))


def _distinct_names(names: list[str]) -> list[str]:
    """Column names as an object's keys, which cannot repeat: a name met again takes _1, _2, ..., as DuckDB names
    such a column in a subquery."""
    keys: list[str] = []
    for name in names:
        key, n = name, 0
        while key in keys:
            n += 1
            key = f"{name}_{n}"
        keys.append(key)
    return keys


def _warn_without_mapping(lake: Lake) -> None:
    # Every ingestion needs a mapping first: a lake without one is empty, most likely not the one meant (the demo's
    # embedded store is gone once the demo stops), and the views alone would not tell.
    if not lake.list_keys("ref/mappings/"):
        print(
            f"warning: {without_credentials(lake.url)} has no mapping, so nothing was ingested there: "
            "every view is empty",
            file=sys.stderr,
        )


def _query(args: argparse.Namespace) -> int:
    """The analyst's shortcut: the views over this lake, DuckDB opened as the build opens it (httpfs loaded offline,
    the lake's credentials), one query, its rows on stdout."""
    import duckdb

    from lakehouse.duckdb_session import open_duckdb
    from lakehouse.views import render_views

    settings = _settings(args)
    lake = _lake(args)
    _warn_without_mapping(lake)
    con = open_duckdb(settings, lake)
    try:
        try:
            con.execute(render_views(lake))
        except duckdb.Error as exc:
            # The views list the lake's objects: a store DuckDB cannot reach fails here, before any query.
            raise RosettaError(f"the lake's views could not be made: {exc}") from None
        try:
            relation = con.sql(args.sql)
            if relation is None:
                raise RosettaError("the SQL is not a query (it returned no rows to print): give one select")
            if args.format == "table":
                relation.show(max_width=shutil.get_terminal_size().columns)
                return 0
            # Arrow rather than Python rows: instants come out as UTC text without a time zone library.
            table = _as_duckdb_text(relation).to_arrow_table()
        except duckdb.Error as exc:
            raise RosettaError(f"the query failed: {exc}") from None
        # By position, not by name: a join's columns may share a name (two deployment_key).
        rows = zip(*(column.to_pylist() for column in table.columns), strict=True)
        if args.format == "csv":
            writer = csv.writer(sys.stdout, lineterminator="\n")
            writer.writerow(table.column_names)
            for row in rows:
                writer.writerow(["" if v is None else _csv_text(v) for v in row])
        else:
            keys = _distinct_names(table.column_names)
            for row in rows:
                line = dict(zip(keys, (_finite(v) for v in row), strict=True))
                print(json.dumps(line, default=_json_value, ensure_ascii=False, allow_nan=False))
    finally:
        con.close()
    return 0


def _forget(args: argparse.Namespace) -> int:
    """What was found and changed, a line each, then what is left to the operator."""
    from lakehouse.forget import Outcome, forget, landing_sources

    identifier = _identifier_from_input() if args.identifier == "-" else args.identifier
    lake = _lake(args)
    outcome = Outcome()
    try:
        forget(
            lake,
            identifier,
            free_text=args.free_text,
            dry_run=args.dry_run,
            actor=args.actor,
            say=print,
            outcome=outcome,
        )
    except BaseException:
        # What was rewritten before the failure stays rewritten: mart/ keeps the old values until a full build.
        if outcome.rewritten or outcome.pages:
            _after_forget(outcome.rewritten_keys())
        raise
    days, pages = len(outcome.rewritten), sum(outcome.pages.values())
    if args.dry_run:
        print(f"dry run, nothing written: {days} day partition(s) would be rewritten, {pages} landing page(s) redacted")
    else:
        print(f"forget run {outcome.run_id}: {days} day partition(s) rewritten, {pages} landing page(s) redacted")
    if not args.free_text:
        unread = sorted(set(landing_sources(True)) - set(landing_sources(False)))
        print(
            f"free text was kept and the landing pages of {', '.join(unread)} were not read: run again with "
            "--free-text to change those too"
        )
    if args.dry_run:
        for key in outcome.rewritten_keys():
            print(f"would rewrite {key}")
    elif days or pages:
        _after_forget(outcome.rewritten_keys())
    return EXIT_OK


def _identifier_from_input() -> str:
    """`forget -`: the identifier from standard input's first line, asked without echo on a terminal."""
    if sys.stdin is None or sys.stdin.closed:
        raise RosettaError("forget - reads the identifier from standard input, and there is none: give it there")
    if sys.stdin.isatty():
        return getpass.getpass("identifier of the person to forget (not shown): ")
    return sys.stdin.readline().rstrip("\r\n")


def _after_forget(rewritten: list[str]) -> None:
    for key in rewritten:
        print(f"rewrote {key}")
    print(
        "next: rosetta-monitoring build --mode full (mart/ and the build's copies under state/build/ hold the old "
        "values until then); on a versioned bucket, delete the noncurrent versions of the objects rewritten above too"
    )
    print(
        "ArgoCD and GitLab still hold it: a run reading those records again writes it back (ArgoCD's listing "
        "gives each application's recent history at every run)"
    )


def _dictionary(args: argparse.Namespace) -> int:
    from lakehouse.dictionary import render_markdown

    sys.stdout.write(render_markdown())
    return 0


def run() -> NoReturn:
    """The command's entry point (`rosetta-monitoring`, `python -m lakehouse.cli`): main's answer, then an exit that
    leaves out the interpreter's teardown of Arrow's and DuckDB's native thread pools. That teardown aborts now and
    then on a loaded machine (`terminate called without an active exception`, exit 134) after the command did its
    work, and its scheduler then records a good ingestion or build as failed. What an exit must still do is done
    first: the exit hooks (the API's replaced copies retired, logging flushed) and the output written out."""
    try:
        code = main()
    except SystemExit as stop:  # argparse's usage errors and --help; a stop by SIGTERM
        if not isinstance(stop.code, int | None):
            raise
        code = stop.code or 0
    atexit._run_exitfuncs()  # what a normal exit runs, in the same order (no public name does it)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a reader gone (| head) or a stream already closed
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
