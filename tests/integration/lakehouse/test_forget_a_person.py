"""What an operator checks after `rosetta-monitoring forget <identifier>` on a person's request: the lake no longer
names them where it named who deployed, nor in the rejects and landing pages that held them, while the other
person's values, every row and every other value stay as they were; a dry run writes nothing; the command refuses
an identifier too short to find, and a lake a build or an ingestion is writing; nothing it prints or records names
the person; and a full build afterwards gives deployments without them.

The lake is written by hand: two people deploying on the 17th to the 19th of November 2026, one of them also named
in a reject, an incident's description, a service's tags and some landing pages."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pyarrow as pa
import pytest

from lakehouse.aggregates import lease
from lakehouse.cli import main
from lakehouse.mappings import MappingStore
from lakehouse.runlog import RunLog
from lakehouse.schemas import REGISTRY, get_dataset
from lakehouse.settings import Settings
from lakehouse.storage import Lake

JANE, JOHN = "jane.doe@example.com", "john.roe@example.com"
AS_OF = "2026-11-20T10:00:00+00:00"
MAPPING = [
    {"entity_id": "shop", "kind": "application", "team": "t1", "group": "g1", "domain": "d1"},
    {"entity_id": "shop-api", "kind": "component", "application_id": "shop", "argocd_app_name": "shop-api-prod"},
    {"entity_id": "shop-web", "kind": "component", "application_id": "shop", "gitlab_project_id": 12},
]


def t(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


def event(key: str, origin: str, ref: str, finished: datetime, status: str, by: str | None) -> dict[str, Any]:
    return {
        "deployment_key": key,
        "origin": origin,
        "source_ref": ref,
        "environment": "production",
        "revision": f"r-{key[-1]}",
        "started_at": finished - timedelta(minutes=2),
        "finished_at": finished,
        "status": status,
        "is_rollback": False,
        "initiated_by": by,
    }


# Who deployed, by dataset: the rows the lake holds before the request, as ArgoCD and GitLab gave them.
RAW: dict[str, list[dict[str, Any]]] = {
    "argocd/deployment_history": [
        {"app_name": "shop-api-prod", "history_id": 1, "deployed_at": t(17), "initiated_by": JANE},
        {"app_name": "shop-api-prod", "history_id": 2, "deployed_at": t(18), "initiated_by": JOHN},
        {"app_name": "shop-api-prod", "history_id": 3, "deployed_at": t(19, 9), "initiated_by": JANE},
        {"app_name": "shop-api-prod", "history_id": 4, "deployed_at": t(19, 15), "initiated_by": "", "automated": True},
    ],
    "argocd/sync_operations": [
        {"app_name": "shop-api-prod", "started_at": t(18, 10), "phase": "Failed", "initiated_by": JANE},
        {"app_name": "shop-api-prod", "started_at": t(19, 10), "phase": "Succeeded", "initiated_by": JOHN},
    ],
    "gitlab/deployments": [
        {"deployment_id": 101, "project_id": 12, "created_at": t(17), "updated_at": t(17), "user_username": JOHN},
        {"deployment_id": 102, "project_id": 12, "created_at": t(18), "updated_at": t(18), "user_username": JANE},
    ],
    "deploys/deployment_events": [
        event("argocd:shop-api-prod:1", "argocd", "shop-api-prod", t(17), "succeeded", JANE),
        event("argocd:shop-api-prod:2", "argocd", "shop-api-prod", t(18), "succeeded", JOHN),
        event("argocd:shop-api-prod:op:1", "argocd", "shop-api-prod", t(18, 10), "failed", JANE),
        event("argocd:shop-api-prod:3", "argocd", "shop-api-prod", t(19, 9), "succeeded", JANE),
        event("argocd:shop-api-prod:4", "argocd", "shop-api-prod", t(19, 15), "succeeded", "automated"),
        event("gitlab:101", "gitlab", "12", t(17), "succeeded", JOHN),
        event("gitlab:102", "gitlab", "12", t(18), "succeeded", JANE),
    ],
}
WHO_COLUMNS = {
    "argocd/deployment_history": "initiated_by",
    "argocd/sync_operations": "initiated_by",
    "gitlab/deployments": "user_username",
    "deploys/deployment_events": "initiated_by",
}
# GitLab's rejects: Jane's written with another case, as a source may give it.
REJECTS = [
    {"location": "page 1 record 0", "raw_text": '{"id": 103, "user": {"username": "Jane.Doe@Example.com"}}', "day": 18},
    {"location": "page 1 record 1", "raw_text": f'{{"id": 104, "user": {{"username": "{JOHN}"}}}}', "day": 18},
    {"location": "page 2 record 0", "raw_text": f'{{"id": 105, "user": {{"username": "{JOHN}"}}}}', "day": 19},
]
DESCRIPTIONS = {"INC1": f"Rollback by {JANE} failed", "INC2": "Disk full on the database"}
TAGS = ["app:shop", "owner:JANE.DOE@example.com"]
# Landing pages (source, dataset, day, page): whether each names Jane.
LANDING = {
    ("gitlab", "deployments", 17): [{"id": 101, "user": {"username": JOHN, "name": "John Roe"}}],
    ("gitlab", "deployments", 18): [{"id": 102, "user": {"username": JANE, "name": "Jane Doe"}}],
    ("argocd", "app_status", 18): {"items": [{"status": {"history": [{"initiatedBy": {"username": JOHN}}]}}]},
    ("argocd", "app_status", 19): {"items": [{"status": {"history": [{"initiatedBy": {"username": JANE}}]}}]},
    ("servicenow", "incidents", 18): {"result": [{"number": "INC1", "short_description": DESCRIPTIONS["INC1"]}]},
}


def table(dataset_id: str, items: list[dict[str, Any]]) -> pa.Table:
    dataset = get_dataset(dataset_id)
    return pa.Table.from_pylist(
        [{c.name: item.get(c.name) for c in dataset.columns} for item in items], schema=dataset.schema
    )


def write_lake(lake: Lake) -> None:
    MappingStore(lake).apply(MAPPING, actor="test", replace=True)
    for dataset_id, items in RAW.items():
        lake.write_days(get_dataset(dataset_id), table(dataset_id, items))
    rejects = [
        {
            "dataset": "gitlab/deployments",
            "run_id": "run-1",
            "reason": "missing field created_at",
            "rejected_at": t(r["day"]),
        }
        | r
        for r in REJECTS
    ]
    lake.write_days(get_dataset("gitlab/rejects"), table("gitlab/rejects", rejects))
    incidents = [
        {
            "sys_id": number.lower() * 8,
            "number": number,
            "short_description": text,
            "opened_at": t(18),
            "sys_updated_on": t(18),
        }
        for number, text in DESCRIPTIONS.items()
    ]
    lake.write_days(get_dataset("servicenow/incidents"), table("servicenow/incidents", incidents))
    entity = {"entity_id": "SERVICE-A", "tags": TAGS, "seen_on": t(18, 0)}
    lake.write_days(get_dataset("dynatrace/entities"), table("dynatrace/entities", [entity]))
    for (source, dataset, day), page in LANDING.items():
        lake.put_landing(source, dataset, f"run-{day}", 1, page, date(2026, 11, day))


@pytest.fixture
def people(lake: Lake, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Lake:
    """The hand-written lake, and the environment that points the command at it."""
    write_lake(lake)
    variables = {
        "ROSETTA_LAKE_URL": settings.lake_url,
        "ROSETTA_S3_ENDPOINT_URL": settings.s3_endpoint_url,
        "ROSETTA_S3_REGION": settings.s3_region,
        "ROSETTA_S3_ACCESS_KEY_ID": settings.s3_access_key_id,
        "ROSETTA_S3_SECRET_ACCESS_KEY": (
            settings.s3_secret_access_key.get_secret_value() if settings.s3_secret_access_key else None
        ),
        "ROSETTA_DUCKDB_TEMP_DIRECTORY": str(settings.duckdb_temp_directory),
    }
    for name, value in variables.items():
        if value:
            monkeypatch.setenv(name, value)
    return lake


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def rows_of(lake: Lake, dataset_id: str) -> dict[date, list[dict[str, Any]]]:
    dataset = get_dataset(dataset_id)
    found = {day: lake.read_partition(dataset, day) for day in lake.list_partitions(dataset)}
    return {day: rows.to_pylist() for day, rows in found.items() if rows is not None}


def landing_held(lake: Lake) -> dict[tuple[str, str, int], Any]:
    """Each page of LANDING as the lake holds it now."""
    return {
        (source, dataset, day): lake.read_landing(
            lake.landing_key(source, dataset, date(2026, 11, day), f"run-{day}", 1)
        )
        for (source, dataset, day) in LANDING
    }


# The pages naming Jane with her username set to null, by hand: the rest of each page stays.
# Her user object goes whole, her display name with it: an object whose username is hers is hers.
REDACTED = {
    ("gitlab", "deployments", 18): [{"id": 102, "user": None}],
    ("argocd", "app_status", 19): {"items": [{"status": {"history": [{"initiatedBy": None}]}}]},
}


def whole_lake(lake: Lake) -> dict[str, bytes | None]:
    return {key: (found.data if (found := lake.store.get(key)) else None) for key in lake.list_keys("")}


def test_forgetting_a_person_nulls_who_deployed_and_removes_their_rejects_and_redacts_landing_pages(
    people: Lake, capsys: pytest.CaptureFixture[str]
) -> None:
    before = {dataset_id: rows_of(people, dataset_id) for dataset_id in WHO_COLUMNS}
    code, out, err = run(capsys, "forget", JANE, "--actor", "alice")
    assert code == 0, err

    for dataset_id, column in WHO_COLUMNS.items():
        after = rows_of(people, dataset_id)
        assert sorted(after) == sorted(before[dataset_id])
        for day, rows in before[dataset_id].items():
            # By hand: Jane's value null, every other value and row as it was.
            expected = [row | {column: None} if row[column] == JANE else row for row in rows]
            assert after[day] == expected, f"{dataset_id} {day}"
    assert {
        r[WHO_COLUMNS["deploys/deployment_events"]]
        for d in rows_of(people, "deploys/deployment_events").values()
        for r in d
    } == {
        None,
        JOHN,
        "automated",
    }

    rejects = rows_of(people, "gitlab/rejects")
    assert {day.day: [r["location"] for r in rows] for day, rows in rejects.items()} == {
        18: ["page 1 record 1"],
        19: ["page 2 record 0"],
    }
    # Without --free-text, the description and the tags stay, and the output names where they are.
    incidents = rows_of(people, "servicenow/incidents")[date(2026, 11, 18)]
    assert {r["number"]: r["short_description"] for r in incidents} == DESCRIPTIONS
    assert rows_of(people, "dynatrace/entities")[date(2026, 11, 18)][0]["tags"] == TAGS
    assert "servicenow/incidents" in out and "short_description" in out and "dynatrace/entities" in out
    assert "--free-text" in out

    assert landing_held(people) == LANDING | REDACTED
    assert "rosetta-monitoring build --mode full" in out
    assert "jane" not in (out + err).lower()

    records = RunLog(people).list(since=datetime.now(UTC).date() - timedelta(days=1))
    assert [(r.function, r.status, r.trigger) for r in records] == [("forget", "succeeded", "cli:alice")]
    assert records[0].days_written == ["2026-11-17", "2026-11-18", "2026-11-19"]
    for key in people.list_keys("runs/") + people.list_keys("state/"):
        assert b"jane" not in people.store.get(key).data.lower(), key  # type: ignore[union-attr]


def test_with_free_text_nothing_the_lake_keeps_names_the_person_any_more(
    people: Lake, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "forget", JANE, "--free-text")
    assert code == 0, err
    incidents = rows_of(people, "servicenow/incidents")[date(2026, 11, 18)]
    assert {r["number"]: r["short_description"] for r in incidents} == {"INC1": None, "INC2": DESCRIPTIONS["INC2"]}
    # The tag naming her goes; the one that maps the service stays.
    assert rows_of(people, "dynatrace/entities")[date(2026, 11, 18)][0]["tags"] == ["app:shop"]
    incident_page = {"result": [{"number": "INC1", "short_description": None}]}
    assert landing_held(people) == LANDING | REDACTED | {("servicenow", "incidents", 18): incident_page}
    for dataset in REGISTRY.values():
        for rows in rows_of(people, dataset.id).values():
            assert "jane" not in json.dumps(rows, default=str).lower(), dataset.id
    for key in people.list_keys("landing/"):
        # Her display name stays in GitLab's page: the identifier given is her username.
        assert JANE.encode() not in gzip.decompress(people.store.get(key).data).lower(), key  # type: ignore[union-attr]


def test_a_dry_run_lists_what_would_change_and_writes_nothing(people: Lake, capsys: pytest.CaptureFixture[str]) -> None:
    before = whole_lake(people)
    code, out, err = run(capsys, "forget", JANE, "--dry-run")
    assert code == 0, err
    assert whole_lake(people) == before
    lines = out.splitlines()

    def said(*words: str) -> bool:
        return any(all(word in line for word in words) for line in lines)

    # Counted by hand from RAW, REJECTS and LANDING.
    assert said("argocd/deployment_history", "2026-11-17", "1 row")
    assert said("argocd/deployment_history", "2026-11-19", "1 row")
    assert said("argocd/sync_operations", "2026-11-18", "1 row")
    assert said("gitlab/deployments", "2026-11-18", "1 row")
    assert said("deploys/deployment_events", "2026-11-18", "2 rows")
    assert said("gitlab/rejects", "2026-11-18", "1 row")
    assert not said("gitlab/rejects", "2026-11-19")
    assert said("landing", "gitlab/deployments", "2026-11-18", "1 page")
    assert said("landing", "argocd/app_status", "2026-11-19", "1 page")
    assert not said("argocd/app_status", "2026-11-18")
    assert "jane" not in (out + err).lower()


@pytest.mark.parametrize("identifier", ["", "   ", "ab"])
def test_an_identifier_too_short_to_find_is_refused(
    people: Lake, capsys: pytest.CaptureFixture[str], identifier: str
) -> None:
    before = whole_lake(people)
    code, out, err = run(capsys, "forget", identifier)
    assert (code, out) == (2, "")
    assert err.startswith("error: the identifier given is") and err.count("\n") == 1
    assert whole_lake(people) == before


def test_a_lake_a_build_holds_is_left_as_it_is(people: Lake, capsys: pytest.CaptureFixture[str]) -> None:
    lease.take(people, "schedule", timedelta(minutes=5))
    before = whole_lake(people)
    code, _, err = run(capsys, "forget", JANE)
    assert code == 2
    assert "another build (schedule, started" in err
    assert whole_lake(people) == before


def test_a_lake_an_ingestion_is_writing_is_left_as_it_is(people: Lake, capsys: pytest.CaptureFixture[str]) -> None:
    runs = RunLog(people)
    running = runs.start("ingest_deploys", "argocd", "argocd/app_status", trigger="schedule")
    try:
        before = whole_lake(people)
        code, _, err = run(capsys, "forget", JANE)
        assert code == 2
        assert f"an ingestion of argocd is running (run {running.run_id}" in err
        assert whole_lake(people) == before
    finally:
        runs.finish(running, "succeeded")


def deployments_by(lake: Lake) -> dict[str, str | None]:
    rows = [row for key in lake.list_keys("mart/mv_deployments/") for row in lake.get_table(key).to_pylist()]  # type: ignore[union-attr]
    return {row["deployment_key"]: row["initiated_by"] for row in rows}


def test_a_full_build_afterwards_gives_deployments_without_the_person(
    people: Lake, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "build", "--mode", "full", "--as-of", AS_OF)[0] == 0
    by = {e["deployment_key"]: e["initiated_by"] for e in RAW["deploys/deployment_events"]}
    assert deployments_by(people) == by  # the mart held her before

    assert run(capsys, "forget", JANE)[0] == 0
    assert run(capsys, "build", "--mode", "full", "--as-of", AS_OF)[0] == 0
    assert deployments_by(people) == {key: None if who == JANE else who for key, who in by.items()}


def test_every_column_forget_reads_is_a_text_column_of_the_registry() -> None:
    """A column renamed in the registry and not in forget's lists would stop the command on the first day holding
    it, or, worse, leave the person there: each named column is text, or a list of text (tags)."""
    from lakehouse.forget import FREE_TEXT, REJECT_TEXT, WHO

    named = [(d, c) for listed in (WHO, FREE_TEXT) for d, columns in listed.items() for c in columns]
    named += [(d.id, c) for d in REGISTRY.values() if d.name == "rejects" for c in REJECT_TEXT]
    for dataset_id, column in named:
        kind = get_dataset(dataset_id).column(column).type
        text = pa.types.is_string(kind) or pa.types.is_large_string(kind)
        assert text or kind == pa.list_(pa.string()), f"{dataset_id}.{column} is {kind}"
    assert {(d, c) for d, columns in WHO.items() for c in columns} == set(WHO_COLUMNS.items())


def test_the_objects_rewritten_are_named_for_a_versioned_bucket(
    people: Lake, capsys: pytest.CaptureFixture[str]
) -> None:
    """On a versioned bucket each rewritten object keeps its earlier version, which still names her: the operator
    deletes those, so forget names every object it rewrote (a dry run, every one it would), and no other."""
    before = whole_lake(people)
    code, out, err = run(capsys, "forget", JANE, "--dry-run")
    assert code == 0, err
    would = sorted(line.removeprefix("would rewrite ") for line in out.splitlines() if line.startswith("would "))

    code, out, err = run(capsys, "forget", JANE)
    assert code == 0, err
    after = whole_lake(people)
    changed = sorted(k for k in before if k.startswith(("raw/", "landing/")) and after.get(k) != before[k])
    assert changed  # her days and pages
    assert sorted(line.removeprefix("rewrote ") for line in out.splitlines() if line.startswith("rewrote ")) == changed
    assert would == changed
    assert JANE not in out
