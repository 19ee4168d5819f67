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


def test_the_steps_given_start_the_scheduler_after_the_mapping_is_imported() -> None:
    """The scheduler's first round runs at once (--now). Started with everything by `docker compose up -d`, before
    the mapping the steps import next, every ingestion needing it and the build failed at `no mapping`, and the
    overview answered 503 "not built yet" for the hour until the next round. The steps start it after the import."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    assert "--now" in compose["services"]["scheduler"]["command"]
    steps = [
        line.removeprefix("#").split("#")[0].split()
        for line in (ROOT / "docker-compose.yml").read_text(encoding="utf-8").splitlines()
        if line.startswith("#   docker compose ")
    ]
    imported = next(i for i, step in enumerate(steps) if "mappings" in step and "import" in step)
    started = {i: [w for w in step[3:] if not w.startswith("-")] for i, step in enumerate(steps) if step[2] == "up"}
    assert all(started.values()), steps  # no step starts every service, the scheduler with them
    assert [i for i, services in started.items() if "scheduler" in services] == [imported + 1], steps
