"""The `ingest` and `backfill` commands as wired into rosetta-monitoring."""

from __future__ import annotations

import argparse

import pytest

from lakehouse.ingest.cli import register


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="rosetta-monitoring")
    register(root.add_subparsers())
    return root


def test_ingest_takes_a_window_and_datasets() -> None:
    args = parser().parse_args(
        [
            "ingest",
            "servicenow",
            "--since",
            "2024-03-01",
            "--until",
            "2024-03-02T00:00:00Z",
            "--dataset",
            "servicenow/incidents",
        ]
    )
    assert (args.source, args.since, args.dataset) == ("servicenow", "2024-03-01", ["servicenow/incidents"])


def test_backfill_says_how_it_resumes(capsys: pytest.CaptureFixture[str]) -> None:
    args = parser().parse_args(["backfill", "dynatrace", "--days", "30", "--concurrency", "3"])
    assert (args.days, args.concurrency, args.force) == (30, 3, False)
    with pytest.raises(SystemExit):
        parser().parse_args(["backfill", "dynatrace", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "Resumable" in text and "state/<source>/backfill/" in text and "--force" in text


def test_unknown_source_is_refused() -> None:
    with pytest.raises(SystemExit):
        parser().parse_args(["ingest", "splunk"])
