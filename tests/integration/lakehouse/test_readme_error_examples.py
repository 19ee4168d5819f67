"""The one-line errors the README's Configuration section gives as examples are the lines the command prints."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lakehouse.local_s3 import S3Endpoint
from tests.integration.lakehouse.test_errors_and_cli import run_cli
from tests.unit.lakehouse.test_readme_settings import configuration_section


def readme_examples() -> list[str]:
    """The `error: …` examples of the section, each on one line as the command prints it."""
    section = " ".join(configuration_section().split())
    return re.findall(r"`(error: [^`]+)`", section)


def test_the_readme_s_missing_bucket_example_is_what_the_command_prints(
    capsys: pytest.CaptureFixture[str], s3_endpoint: S3Endpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store the README's example names, without the bucket: the command says what the README says it says, its
    own endpoint in place of the example's."""
    for name, value in s3_endpoint.environment().items():
        monkeypatch.setenv(name, value)
    [example] = [line for line in readme_examples() if line.startswith("error: bucket ")]
    found = re.fullmatch(r"error: bucket '[^']+' does not exist at (s3://\S+) at (http://\S+): .*", example)
    assert found, example
    lake_url, endpoint = found.groups()

    code, _, err = run_cli(capsys, "--lake-url", lake_url, "check")

    assert (code, err) == (2, example.replace(endpoint, s3_endpoint.endpoint_url) + "\n")


def test_the_readme_s_unreadable_setting_example_is_what_the_command_prints(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    [example] = [line for line in readme_examples() if "ROSETTA_DUCKDB_THREADS" in line]
    monkeypatch.setenv("ROSETTA_DUCKDB_THREADS", "two")

    code, _, err = run_cli(capsys, "views")

    assert (code, err) == (2, example + "\n")


def test_the_readme_s_missing_folder_example_is_what_the_command_prints(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    [example] = [line for line in readme_examples() if line.startswith("error: no lake at /path")]
    missing = tmp_path / "no-lake-here"

    code, _, err = run_cli(capsys, "--lake-url", str(missing), "runs")

    assert (code, err) == (2, example.replace("/path", str(missing)) + "\n")
    assert not missing.exists()
