"""Fault decisions: off by default, deterministic under a seed, schedulable, loadable from profiles."""

import json
from pathlib import Path

import pytest

from simulators.faults import PROFILES, ApiFaults, FaultConfig, FaultInjector, corrupt_first_record


def _decisions(injector: FaultInjector, n: int) -> list[frozenset[str]]:
    return [injector.next_request()[1] for _ in range(n)]


def test_faults_are_off_by_default() -> None:
    config = FaultConfig()
    injector = FaultInjector("gitlab", config.gitlab, config.seed)
    assert all(not d for d in _decisions(injector, 500))


def test_same_seed_same_faults_other_seed_other_faults() -> None:
    faults = ApiFaults(rate_limit=0.2, server_error=0.05, slow=0.1)
    first = _decisions(FaultInjector("servicenow", faults, 3), 300)
    again = _decisions(FaultInjector("servicenow", faults, 3), 300)
    other = _decisions(FaultInjector("servicenow", faults, 4), 300)
    assert first == again
    assert first != other
    assert 30 < sum("rate_limit" in d for d in first) < 90


def test_schedule_and_bursts() -> None:
    faults = ApiFaults.from_dict(
        {"schedule": {"3": "server_error", "7": ["slow", "rate_limit"]}, "server_error_burst": 2}
    )
    decisions = _decisions(FaultInjector("dynatrace", faults, 0), 8)
    assert [i + 1 for i, d in enumerate(decisions) if "server_error" in d] == [3, 4]
    assert decisions[6] == frozenset({"slow", "rate_limit"})


def test_profiles_and_json_files_load(tmp_path: Path) -> None:
    for name in PROFILES:
        FaultConfig.load(name)
    assert FaultConfig.load("flaky").gitlab.retry_after is None
    path = tmp_path / "faults.json"
    path.write_text(json.dumps({"seed": 9, "servicenow": {"drift": 1.0}}))
    loaded = FaultConfig.load(str(path))
    assert loaded.seed == 9 and loaded.servicenow.drift == 1.0 and loaded.dynatrace.drift == 0.0
    with pytest.raises(ValueError):
        FaultConfig.from_dict({"servicenow": {"no_such_fault": 1}})


def test_wrong_type_changes_one_field_of_the_first_record() -> None:
    payload = {"result": [{"number": "INC1", "priority": "2"}, {"number": "INC2", "priority": "3"}]}
    corrupted = corrupt_first_record(json.loads(json.dumps(payload)))
    assert corrupted["result"][1] == payload["result"][1]
    changed = [k for k in payload["result"][0] if corrupted["result"][0][k] != payload["result"][0][k]]
    assert len(changed) == 1 and not isinstance(corrupted["result"][0][changed[0]], str)
