"""`rosetta-monitoring ingest` by hand or from cron against the simulators: the exit code tells a run that succeeded,
one that set records aside and one that failed apart, and stderr says what happened in lines that name what they
concern, never a secret."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from lakehouse.cli import main
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from simulators.estate import Estate
from simulators.serve import RunningSimulators
from tests.integration.ingest.conftest import END, import_catalog

pytestmark = pytest.mark.simulators

SINCE = (END - timedelta(days=1)).isoformat()  # the estate's last day
UNTIL = END.isoformat()


@pytest.fixture
def mapped_lake(
    local_settings: Settings,
    sims: RunningSimulators,
    estate: Estate,
    point: Callable[[RunningSimulators, Settings], None],
) -> Settings:
    """A local lake holding the estate's mapping, with the simulators' URLs and credentials in the environment."""
    point(sims, local_settings)
    import_catalog(Lake.from_settings(local_settings), estate)
    return local_settings


def ingest(capsys: pytest.CaptureFixture[str], source: str) -> tuple[int, str]:
    code = main(["ingest", source, "--since", SINCE, "--until", UNTIL])
    return code, capsys.readouterr().err


def test_a_run_that_succeeds_exits_0(capsys: pytest.CaptureFixture[str], mapped_lake: Settings) -> None:
    assert ingest(capsys, "servicenow") == (0, "")


def test_a_run_that_sets_records_aside_exits_3_and_says_which_dataset(
    capsys: pytest.CaptureFixture[str], mapped_lake: Settings, tmp_path: Path
) -> None:
    """An index the mapping names that Elasticsearch does not have is one reject: the other indexes are counted and the
    run ends partial. It exited 0, as a clean run does, so cron or systemd could not tell it apart."""
    ghost = tmp_path / "ghost.yaml"
    ghost.write_text("- {entity_id: ghost, kind: application, elisa.index: ghost-logs}\n", encoding="utf-8")
    assert main(["mappings", "import", str(ghost)]) == 0
    capsys.readouterr()
    code, err = ingest(capsys, "logs")
    assert code == 3
    lines = err.splitlines()
    assert "warning: elasticsearch/log_counts_hourly: 1 record(s) set aside as rejects" in lines
    assert not [line for line in lines if line.startswith("error:")]


def test_a_failed_run_exits_1_with_lines_that_name_the_stream_and_no_password(
    capsys: pytest.CaptureFixture[str], mapped_lake: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ServiceNow refuses the password. Each stream's failure came out as a bare `stream failed` (Python's last-resort
    output drops the fields given beside a message), five times, saying neither which stream nor why."""
    password = "wrong-password-4711"
    monkeypatch.setenv("ROSETTA_SERVICENOW_PASSWORD", password)
    code, err = ingest(capsys, "servicenow")
    assert code == 1
    lines = err.splitlines()
    # A lake's first CMDB read is its full read.
    tables = {"incidents": "incident", "changes": "change_request", "problems": "problem", "task_slas": "task_sla"}
    for stream, table in (*tables.items(), ("cmdb_ci (full read)", "cmdb_ci")):
        refused = f"servicenow: HTTP 401 on GET /api/now/v2/table/{table}"
        assert f"error: stream failed (stream={stream}, error={refused}" in err
    assert "stream failed" not in lines
    assert all(line.startswith("error: ") for line in lines)
    assert lines[-1].startswith("error: servicenow run ") and "failed for servicenow/incidents" in lines[-1]
    assert password not in err
