"""docker-compose runs the project's own commands: each service's command is a real CLI subcommand."""

from __future__ import annotations

from pathlib import Path

import yaml

from lakehouse.cli import _parser

ROOT = Path(__file__).resolve().parents[3]


def test_compose_services_run_existing_commands() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    assert {"minio", "create-bucket", "api", "scheduler"} <= set(compose["services"])
    commands = _parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    for name in ("api", "scheduler"):
        service = compose["services"][name]
        assert service["build"]["dockerfile"] == "infra/docker/Dockerfile.local"
        assert service["command"][0] in commands, name
        assert service["environment"]["ROSETTA_S3_ENDPOINT_URL"] == "http://minio:9000"
    dockerfile = (ROOT / "infra/docker/Dockerfile.local").read_text(encoding="utf-8")
    assert 'ENTRYPOINT ["rosetta-monitoring"]' in dockerfile and "-c constraints.txt '.[local]'" in dockerfile
