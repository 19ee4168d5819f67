"""The README's main job, run headless as a user would: the demo command ends with the API answering."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from dotenv import dotenv_values

DEMO = [
    sys.executable,
    "-m",
    "lakehouse.cli",
    "demo",
    "--apps",
    "4",
    "--days",
    "10",
    "--port",
    "0",
    "--schedule-minutes",
    "0",
]


def test_demo_serves_the_api_on_the_estate(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROSETTA_")}
    process = subprocess.Popen(
        DEMO,
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 400
        base = None
        assert process.stdout is not None
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line.rstrip())
            if line.startswith("READY "):
                base = line.split()[1]
                break
        assert base is not None, "\n".join(lines)
        steps = [line[:5] for line in lines if line.startswith("[")]
        assert steps[:3] == ["[1/6]", "[2/6]", "[3/6]"] and "[5/6]" in steps and "[6/6]" in steps
        assert any(line.strip().startswith("applications: 4; health:") for line in lines)
        env_file = tmp_path / ".rosetta" / "demo.env"
        assert env_file.stat().st_mode & 0o777 == 0o600
        values = dotenv_values(env_file)
        key, admin_key = values["ROSETTA_DEMO_READER_API_KEY"], values["ROSETTA_DEMO_ADMIN_API_KEY"]
        # The keys are in the private file, never on the terminal.
        assert key not in "\n".join(lines) and admin_key not in "\n".join(lines)
        headers = {"X-API-Key": key}
        overview = httpx.get(f"{base}/monitoring/overview", headers=headers, timeout=30)
        assert overview.status_code == 200, overview.text
        dora = httpx.get(f"{base}/monitoring/kpis/dora", params={"period": "last_30d"}, headers=headers, timeout=30)
        assert dora.status_code == 200, dora.text
        assert httpx.get(f"{base}/monitoring/overview", timeout=30).status_code == 401
        # The reader key, the one for Backstage's proxy entry, is refused the admin routes; the admin key is not.
        runs = f"{base}/monitoring/admin/batch-runs"
        assert httpx.get(runs, headers=headers, timeout=30).status_code == 403
        assert httpx.get(runs, headers={"X-API-Key": admin_key}, timeout=30).status_code == 200
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
