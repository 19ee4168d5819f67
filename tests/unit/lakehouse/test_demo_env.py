"""`.rosetta/demo.env` reads the same through sh's `.` as through python-dotenv, whatever its values hold."""

from __future__ import annotations

import subprocess
from pathlib import Path

from dotenv import dotenv_values

from lakehouse.demo import write_env_file

# What a lake folder, a password or a URL may hold that sh would otherwise split, expand or run.
VALUES = {
    "ROSETTA_LAKE_URL": "/home/ana/my lakes/rosetta",
    "ROSETTA_S3_SECRET_ACCESS_KEY": "pa$$word;rm -rf x & `date` | #1",
    "ROSETTA_QUOTED": 'it\'s "quoted"',
    "ROSETTA_BACKSLASHES": "C:\\lake\\new\\\\share",
    "ROSETTA_TWO_LINES": "first\nsecond",
    "ROSETTA_DEMO_READER_API_KEY": "Zq3-_aB9xY",
}
# Values no quoting makes read alike: dotenv expands ${...} even in single quotes, where sh does not; a quote or a
# backslash beside a $ or a backquote needs double quotes, where sh expands the $ and dotenv keeps a backslash.
UNQUOTABLE = {"ROSETTA_EXPANDED": "${HOME}/lake", "ROSETTA_MIXED": "it's $5"}


def sourced(path: Path) -> dict[str, str]:
    """The ROSETTA_* variables a POSIX sh has after `set -a; . file`, as the README sources the file."""
    shell = subprocess.run(
        ["sh", "-c", 'set -a; . "$1"; env -0', "sh", str(path)],
        capture_output=True,
        env={"PATH": "/usr/bin:/bin", "HOME": "/nowhere"},
        check=True,
    )
    pairs = (item.decode().split("=", 1) for item in shell.stdout.split(b"\0") if item)
    return {name: value for name, value in pairs if name.startswith("ROSETTA_")}


def test_values_with_spaces_and_shell_characters_read_the_same_in_sh_and_dotenv(tmp_path: Path) -> None:
    """The file was written `NAME=value` unquoted: a lake folder with a space broke `. .rosetta/demo.env` (`lakes/
    rosetta: not found`), and a secret holding $ or ; was expanded or ran as a command."""
    path = tmp_path / "demo.env"
    left_out = write_env_file(path, VALUES | UNQUOTABLE)
    assert path.stat().st_mode & 0o777 == 0o600
    assert sourced(path) == VALUES
    assert dotenv_values(path) == VALUES
    assert left_out == sorted(UNQUOTABLE)
