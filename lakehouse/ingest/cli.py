"""The `ingest` and `backfill` commands; `register(subparsers)` adds them to the rosetta-monitoring CLI."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from lakehouse.cli import EXIT_CODES, EXIT_FAILED, EXIT_OK, EXIT_PARTIAL
from lakehouse.errors import RosettaError
from lakehouse.ingest.config import MAX_BACKFILL_CONCURRENCY, IngestSettings
from lakehouse.ingest.run import IngestionFailed, RunOutcome
from lakehouse.ingest.sources import SOURCE_MODULES, ingest, recorded_if_not_started, run_backfill
from lakehouse.ingest.window import Window, backfill_window, parse_moment
from lakehouse.settings import Settings
from lakehouse.storage import Lake

SOURCE_CHOICES = sorted(SOURCE_MODULES)
BACKFILL_HELP = """Ingest the last N whole UTC days plus today, one day window at a time, K days in parallel.
Resumable: each finished whole day leaves a marker under state/<source>/backfill/<datasets>/<day>.json in the
lake, and a later backfill skips the days that have one (use --force to fetch them again). Backfills do not
move the scheduled runs' watermarks."""
SOURCE_HELP = "deploys reads ArgoCD and GitLab, logs Elasticsearch"


def register(subparsers: Any) -> None:
    """Add `ingest` and `backfill` to an argparse subparsers object."""
    run = subparsers.add_parser(
        "ingest",
        help="fetch one source into the lake for a window (default: since its watermark)",
        description="Fetch one source into the lake. Without --since, the window starts at the oldest watermark "
        "of its datasets minus the overlap (or ROSETTA_INITIAL_LOOKBACK_HOURS on a first run) and ends now, or "
        "ROSETTA_CATCH_UP_HOURS after its start when the source is further behind (run again to catch up, or "
        "backfill).",
        epilog=EXIT_CODES,
    )
    run.add_argument("source", choices=SOURCE_CHOICES, help=SOURCE_HELP)
    run.add_argument("--since", help="window start, ISO 8601, e.g. 2026-11-20T10:00 (no zone = UTC)")
    run.add_argument("--until", help="window end, ISO 8601, after --since (default: now)")
    run.add_argument("--dataset", action="append", help="only this dataset, e.g. servicenow/incidents (repeatable)")
    run.set_defaults(handler=_ingest)

    fill = subparsers.add_parser(
        "backfill",
        help="fetch the last N days of one source, day by day, resumably",
        description=BACKFILL_HELP,
        epilog=EXIT_CODES,
    )
    fill.add_argument("source", choices=SOURCE_CHOICES, help=SOURCE_HELP)
    fill.add_argument("--days", type=int, required=True, help="how many whole UTC days before today (required)")
    fill.add_argument(
        "--concurrency",
        type=_concurrency,
        default=None,
        help="days fetched at once (default: ROSETTA_BACKFILL_CONCURRENCY, 2)",
    )
    fill.add_argument("--dataset", action="append", help="only this dataset (repeatable)")
    fill.add_argument("--force", action="store_true", help="fetch days again even if already done")
    fill.set_defaults(handler=_backfill)


def _concurrency(text: str) -> int:
    """Days at once, within the bounds ROSETTA_BACKFILL_CONCURRENCY has: 0 would fall back to the setting."""
    try:
        days = int(text)
    except ValueError:
        days = 0
    if not 1 <= days <= MAX_BACKFILL_CONCURRENCY:
        raise argparse.ArgumentTypeError(f"{text} is not a whole number from 1 to {MAX_BACKFILL_CONCURRENCY}")
    return days


def _lake(args: argparse.Namespace) -> Lake:
    overrides = {}
    if getattr(args, "lake_url", None):
        overrides["lake_url"] = args.lake_url
    if getattr(args, "s3_endpoint", None):
        overrides["s3_endpoint_url"] = args.s3_endpoint
    # Not made when missing: every ingestion needs a mapping first, which a new folder never holds.
    lake = Lake.from_settings(Settings(**overrides), create=False)
    lake.check()
    return lake


def _ingest(args: argparse.Namespace) -> int:
    if args.until and not args.since:
        raise RosettaError("--until needs --since")
    window = None
    if args.since:
        until = parse_moment(args.until) if args.until else datetime.now(UTC)
        window = Window(parse_moment(args.since), until)
    lake = _lake(args)
    with _log_lines_on_stderr():
        settings = _resolved(args.source, lake, window=window, trigger="manual")
        outcome = ingest(args.source, lake, settings, window=window, datasets=args.dataset, trigger="manual")
    return _report([outcome])


def _backfill(args: argparse.Namespace) -> int:
    lake = _lake(args)
    # Its window comes before the secrets, so that a backfill that cannot start is recorded as one.
    window = backfill_window(args.days, datetime.now(UTC))
    with _log_lines_on_stderr():
        settings = _resolved(args.source, lake, window=window, trigger="backfill")
        outcomes = run_backfill(
            args.source,
            lake,
            settings,
            window=window,
            datasets=args.dataset,
            concurrency=args.concurrency,
            force=args.force,
        )
    if not outcomes:
        print("nothing to do: every day is already done (use --force to fetch again)")
    return _report(outcomes)


def _resolved(source: str, lake: Lake, *, window: Window | None, trigger: str) -> IngestSettings:
    """The settings, their secrets read. A setting missing or a secret that cannot be read: the run cannot start, and
    the run log says so as it does for the functions (README, Run log)."""
    with recorded_if_not_started(source, lake, window=window, trigger=trigger):
        return IngestSettings().resolved()


# What every log record holds; anything else was given beside the message (`extra=`).
RECORD_FIELDS = {*vars(logging.makeLogRecord({})), "message", "asctime"}


class LineWithContext(logging.Formatter):
    """`error: stream failed (stream=incidents, error=...)`: the message and the fields given beside it, which Python's
    own last-resort output left out, printing a bare `stream failed` once per stream."""

    def format(self, record: logging.LogRecord) -> str:
        context = ", ".join(f"{k}={v}" for k, v in vars(record).items() if k not in RECORD_FIELDS)
        return f"{record.levelname.lower()}: {record.getMessage()}" + (f" ({context})" if context else "")


class StderrHandler(logging.Handler):
    """Writes to the stderr of the moment, not the one there when it was made (a test's capture, a redirection)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
        except Exception:
            self.handleError(record)


@contextlib.contextmanager
def _log_lines_on_stderr() -> Iterator[None]:
    """While a run goes, its warnings and errors (a stream failed, a watermark kept) a line each on stderr."""
    log = logging.getLogger("rosetta.ingest")
    handler = StderrHandler()
    handler.setLevel(logging.WARNING)
    handler.setFormatter(LineWithContext())
    log.addHandler(handler)
    try:
        yield
    finally:
        log.removeHandler(handler)


def _report(outcomes: list[RunOutcome]) -> int:
    """Each run's summary on stdout, each failure in a line on stderr; the exit code tells a scheduler the worst."""
    for outcome in outcomes:
        print(json.dumps(outcome.summary(), sort_keys=True))
    failed = [o for o in outcomes if o.failed]
    for o in failed:
        print(f"error: {IngestionFailed(o)}", file=sys.stderr)
    if failed:
        return EXIT_FAILED
    partial = [d for o in outcomes for d in o.outcomes if d.record.status == "partial"]
    for d in partial:
        print(f"warning: {d.dataset}: {d.record.rows_rejected} record(s) set aside as rejects", file=sys.stderr)
    return EXIT_PARTIAL if partial else EXIT_OK
