"""What an operator sees typing `rosetta-monitoring` at a terminal: each command's --help says what it does, its
options, their defaults and units; a command left unsaid or mistyped gets its usage and exit 2; a setting that
cannot be read stops the scheduler at start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lakehouse.cli import main

ROOT = Path(__file__).resolve().parents[3]


def help_of(capsys: pytest.CaptureFixture[str], *command: str) -> str:
    """The command's --help, its lines joined as one text (argparse wraps at the terminal's width)."""
    with pytest.raises(SystemExit) as exited:
        main([*command, "--help"])
    assert exited.value.code == 0
    return " ".join(capsys.readouterr().out.split())


@pytest.mark.parametrize(
    ("command", "said"),
    [
        (
            ["demo"],
            [
                "simulators -> ingestion -> aggregates -> API on localhost",
                "--apps APPS applications in the synthetic estate (default: 10)",
                "--days DAYS days of history, at most 3660 (default: 30)",
                "(default: 42)",
                "--host HOST interface the API listens on (default: 127.0.0.1)",
                "0 picks a free one (default: 8000)",
                "minutes between the local scheduler's rounds while serving, 0 turns it off (default: 15)",
            ],
        ),
        (
            ["local-s3"],
            ["run the embedded S3-compatible server", "(default: rosetta-lake)", "(default: 9000)"],
        ),
        (["build"], ["build the aggregate tables (mart/)", "(default: full)", "truncated to the hour", "exit codes:"]),
        (["scheduler"], ["fire the scheduled ingestion and build events", "minutes between rounds (default: 60)"]),
        (["check"], ["check that the lake is reachable and writable"]),
        (["mappings"], ["the mapping table: list, validate, import, history"]),
        (["mappings", "list"], ["print the current mapping as JSON lines"]),
        (["mappings", "validate"], ["without writing", "a YAML or CSV mapping, or a Backstage catalog-info.yaml"]),
        (["mappings", "import"], ["as a new mapping version", "who makes the change (default: $USER)"]),
        (["mappings", "history"], ["list mapping versions"]),
        (["runs"], ["list recent batch runs", "(default: 7)", "runs listed at most (default: 50)"]),
        (["partitions"], ["list the day partitions (UTC days) of a dataset", "e.g. servicenow/incidents"]),
        (["views"], ["print DuckDB views over this lake"]),
        (["query"], ["run SQL over this lake's named views", "(default: table)"]),
        (["dictionary"], ["print the data dictionary (Markdown)"]),
        (
            ["forget"],
            [
                "forget a person on request",
                "stop the schedules first",
                "write nothing",
                "(default: $USER)",
                "exit codes:",
            ],
        ),
        (["ingest"], ["Fetch one source into the lake", "no zone = UTC", "(default: now)", "exit codes:"]),
        (["backfill"], ["Resumable", "how many whole UTC days before today", "ROSETTA_BACKFILL_CONCURRENCY, 2"]),
        (
            ["serve"],
            ["serve the monitoring API over HTTP", "(default: 127.0.0.1)", "(default: 8000)", "(default: info)"],
        ),
        (["openapi"], ["print the API's OpenAPI document (JSON)"]),
    ],
)
def test_each_command_s_help_says_what_it_does_and_its_defaults(
    capsys: pytest.CaptureFixture[str], command: list[str], said: list[str]
) -> None:
    """`check --help`, `views --help` and the like printed a usage line alone; the demo's, the scheduler's and the
    run log's options gave no default, nor the unit of --schedule-minutes."""
    text = help_of(capsys, *command)
    missing = [phrase for phrase in said if phrase not in text]
    assert missing == [], f"{' '.join(command)} --help does not say {missing}: {text}"


def test_the_top_level_help_lists_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    text = help_of(capsys)
    assert "exit codes: 0 done; 1 an ingestion run failed" in text
    assert "3 an ingestion done but partial" in text and "130 stopped by Ctrl-C, 143 by SIGTERM" in text


def test_no_command_prints_the_usage_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert capsys.readouterr().out.startswith("usage: rosetta-monitoring [-h]")


def test_an_unknown_command_prints_the_usage_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["injest", "servicenow"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: rosetta-monitoring") and "invalid choice: 'injest'" in err


def test_mappings_without_its_command_prints_its_own_usage_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    """`rosetta-monitoring mappings` printed the help of the whole command, not of `mappings`, on stdout."""
    with pytest.raises(SystemExit) as exited:
        main(["mappings"])
    assert exited.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("usage: rosetta-monitoring mappings [-h] {list,validate,import,history} ...\n")
    assert err.endswith("error: the following arguments are required: {list,validate,import,history}\n")


def test_listing_the_mapping_of_a_lake_without_one_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """No mapping is exit 2 for every other command (`build`, `ingest`); `mappings list` alone exited 1, the code
    of an ingestion that ran and failed."""
    assert main(["--lake-url", str(tmp_path), "mappings", "list"]) == 2
    assert capsys.readouterr().err == "no mapping yet: import one with `rosetta-monitoring mappings import FILE`\n"


def test_the_scheduler_refuses_a_setting_it_cannot_read_at_start(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """ROSETTA_REQUEST_BUDGET=lots: the scheduler started and failed every ingestion of every round, for ever, while
    the service looked up. It now stops at start naming the variable, exit 2."""
    mapping = tmp_path / "apps.yaml"
    mapping.write_text("- {entity_id: pay, kind: application}\n", encoding="utf-8")
    lake = tmp_path / "lake"
    assert main(["--lake-url", str(lake), "mappings", "import", str(mapping)]) == 0
    finished = subprocess.run(
        [sys.executable, "-m", "lakehouse.cli", "--lake-url", str(lake), "scheduler", "--now", "--source", "logs"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=os.environ | {"PYTHONPATH": str(ROOT), "ROSETTA_REQUEST_BUDGET": "lots"},
        timeout=60,  # only so that a scheduler that went on ends the test
        check=False,
    )
    assert (finished.returncode, finished.stdout) == (2, "")
    assert finished.stderr == (
        "error: ROSETTA_REQUEST_BUDGET: Input should be a valid integer, unable to parse string as an integer\n"
    )


def test_a_source_named_twice_is_scheduled_once_a_round(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`scheduler --source deploys --source deploys` ran the deploys ingestion twice each round, one after the other,
    where EventBridge fires each function once: the sources a round runs are now deploys, once."""
    from lakehouse import scheduler

    mapping = tmp_path / "apps.yaml"
    mapping.write_text("- {entity_id: pay, kind: application}\n", encoding="utf-8")
    lake = tmp_path / "lake"
    assert main(["--lake-url", str(lake), "mappings", "import", str(mapping)]) == 0
    scheduled: list[tuple[str, ...]] = []
    monkeypatch.setattr(
        scheduler, "run_schedule", lambda minutes, say, *, sources, last_daily: scheduled.append(sources)
    )
    command = ["--lake-url", str(lake), "scheduler", "--source", "deploys", "--source", "logs", "--source", "deploys"]
    assert main(command) == 0
    assert scheduled == [("deploys", "logs")]


# What `--lake-url "$(terraform output -raw lake_url)"` gives where the output cannot be read: nothing, or Terraform's
# coloured warning box (its first lines, as Terraform 1.11 prints them to standard output).
TERRAFORM_WARNING = "\x1b[33m╷\x1b[0m\n\x1b[33m│\x1b[0m \x1b[1m\x1b[33mWarning: \x1b[0m\x1b[0m\x1b[1mNo outputs found"
NOT_AN_OUTPUT = {"": "is empty", TERRAFORM_WARNING: "holds a line break"}


@pytest.mark.parametrize("option", ["--lake-url", "--s3-endpoint"])
@pytest.mark.parametrize("given", NOT_AN_OUTPUT)
def test_a_lake_option_that_is_no_value_is_refused_not_read_as_the_default(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, option: str, given: str
) -> None:
    """`--lake-url "$(terraform output -raw lake_url)"` where the output cannot be read gives an empty value, or a
    warning. Empty, it was read as no option: the mapping went into a local .rosetta/lake, exit 0, and the lake meant
    kept none, so every scheduled run failed for want of one; a warning made a traceback. Both are exit 2 naming the
    option, and nothing is written."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ROSETTA_LAKE_URL", raising=False)
    catalog = ROOT / "lakehouse" / "examples" / "mappings.yaml"
    with pytest.raises(SystemExit) as exited:
        main([option, given, "mappings", "import", str(catalog), "--actor", "me"])
    assert exited.value.code == 2
    assert f"argument {option}: {NOT_AN_OUTPUT[given]}" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("command", "said"),
    [
        (["simulators", "--apps", "0"], "argument --apps: 0 is not a whole number of 1 or more"),
        (["simulators", "--days", "100000000"], "days must be 1 to 3660 (ten years), not 100000000"),
        (
            ["simulators", "--end", "0001-01-03", "--days", "1"],
            "a history of 1 days up to 0001-01-03T00:00+00:00 does not lie between 2000 and 9000",
        ),
    ],
)
def test_an_estate_that_cannot_be_generated_is_refused_in_one_line(
    capsys: pytest.CaptureFixture[str], command: list[str], said: str
) -> None:
    """Simulators of no application, of a hundred million days or ending in year 1 stopped on a traceback
    (ValueError, OverflowError), exit 1: they are now refused as a wrong option is, exit 2."""
    with pytest.raises(SystemExit) as exited:
        main(command)
    assert exited.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1].endswith(f"error: {said}")


def test_simulators_that_cannot_write_their_truth_or_serve_on_their_host_are_refused_in_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A truth file in a folder that does not exist (FileNotFoundError), a host this machine does not have (OSError): a
    traceback and exit 1; now one line, exit 2."""
    for option, said in (
        (["--truth", "/nonexistent/folder/truth.json"], "cannot write the truth to /nonexistent/folder/truth.json: "),
        (["--host", "192.0.2.1"], "cannot serve the simulators on 192.0.2.1: "),
    ):
        with pytest.raises(SystemExit) as exited:
            main(["simulators", "--apps", "1", "--days", "1", *option])
        assert exited.value.code == 2
        assert said in capsys.readouterr().err.splitlines()[-1]


def test_the_lake_options_before_simulators_are_said_not_to_apply_and_the_command_is_read(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`--lake-url X simulators --apps 0` answered "unrecognized arguments: --apps 0", and `--help` there listed none
    of the simulators' options: the words after `simulators` are now the simulators' own, whatever came before."""
    with pytest.raises(SystemExit) as exited:
        main(["--lake-url", str(tmp_path), "--s3-endpoint=http://127.0.0.1:9", "simulators", "--help"])
    assert exited.value.code == 0
    out, err = capsys.readouterr()
    assert "--apps APPS" in out and "--truth TRUTH" in out
    assert err == "note: --lake-url and --s3-endpoint do not apply to the simulators, which keep no lake\n"
    with pytest.raises(SystemExit) as exited:
        main(["--lake-url", str(tmp_path), "simulators", "--apps", "0"])
    assert exited.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1].endswith("argument --apps: 0 is not a whole number of 1 or more")
