"""A ServiceNow that quotes the password it was sent, as a URL or an HTML page writes it: URL-encoded
(`quote`, `quote_plus`) or HTML-escaped. `rosetta-monitoring ingest servicenow` reads incidents whose descriptions
quote it, a 200 page of changes that is an error quoting it (no result list: a reject), and a 400 refusal of the
problems quoting it. Neither the command's output nor the lake (landing/, raw/, the rejects, the run log) holds the
password in any form: each quote reads <redacted>."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus, urlsplit

import pyarrow.parquet as pq
import pytest

from lakehouse.cli import main
from lakehouse.mappings import MappingStore
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.integration.api.test_endpoints import QuietHandler, serving
from tests.unit.ingest.test_credentials_in_text import kept

from .test_servicenow_user_zone_changed_after_set_up import incident

USER = "svc-rosetta"
# The first has every character URL encoding and HTML escaping rewrite; the second a space, which quote writes %20
# and quote_plus +.
PASSWORDS = ['Tr0ub4dor&3/x+y=z<q>"wQ', "correct horse/battery staple"]


def echoes(password: str) -> list[str]:
    """The password as the source quotes it, each form other than the plain one."""
    forms = {quote(password, safe=""), quote_plus(password), html.escape(password)}
    return sorted(forms - {password})


def servicenow_quoting(password: str) -> type[QuietHandler]:
    forms = echoes(password)
    quoted = " or ".join(forms)

    class Quoting(QuietHandler):
        def do_GET(self) -> None:
            table = urlsplit(self.path).path.rsplit("/", 1)[-1]
            if table == "incident":
                records = [incident(n, "2024-03-01 12:05:00") for n in range(1, len(forms) + 1)]
                for record, form in zip(records, forms, strict=True):
                    record["short_description"] = f"login as {USER} with {form} failed"
                self.send_json({"result": records})
            elif table == "change_request":
                self.send_json({"error": {"message": f"password {quoted} has expired"}, "status": "failure"})
            elif table == "problem":
                error = {"message": "User Not Authenticated", "detail": f"password {quoted} is wrong"}
                self.send_json({"error": error, "status": "failure"}, 400)
            else:
                self.send_json({"result": []})

    return Quoting


def rows(lake: Path, under: str) -> list[dict[str, Any]]:
    return [row for path in sorted((lake / under).rglob("*.parquet")) for row in pq.read_table(path).to_pylist()]


def ingest_from(
    handler: type[QuietHandler], password: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, int]:
    """The CLI's ingestion of three ServiceNow tables from `handler`, with `password`, into a new lake mapping one
    CI: the lake and the exit code."""
    lake = tmp_path / "lake"
    mapping = [{"entity_id": "shop", "kind": "application", "servicenow_ci_id": "c" * 32}]
    MappingStore(Lake.from_settings(Settings(lake_url=str(lake)))).apply(mapping, actor="test")
    with serving(handler) as url:
        env = {"LAKE_URL": str(lake), "SERVICENOW_URL": url, "SERVICENOW_USER": USER}
        env |= {"SERVICENOW_PASSWORD": password, "HTTP_ATTEMPTS": "2", "HTTP_BACKOFF_BASE_S": "0.01"}
        for name, value in env.items():
            monkeypatch.setenv(f"ROSETTA_{name}", value)
        datasets = ["servicenow/incidents", "servicenow/changes", "servicenow/problems"]
        code = main(
            ["ingest", "servicenow", "--since", "2024-03-01T12:00", "--until", "2024-03-01T12:30"]
            + [f"--dataset={d}" for d in datasets]
        )
    return lake, code


@pytest.mark.parametrize("password", PASSWORDS)
def test_the_run_keeps_the_password_out_of_its_output_and_the_lake_in_every_form(
    password: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lake, code = ingest_from(servicenow_quoting(password), password, tmp_path, monkeypatch)
    out, err = capsys.readouterr()
    redacted = " or ".join(["<redacted>"] * len(echoes(password)))
    assert code == 1
    refusal = (
        f"servicenow: HTTP 400 on GET /api/now/v2/table/problem: User Not Authenticated (password {redacted} is wrong)"
    )
    assert f"error: stream failed (stream=problems, error={refusal})" in err.splitlines()
    descriptions = [r["short_description"] for r in rows(lake, "raw/servicenow/incidents")]
    assert descriptions == [f"login as {USER} with <redacted> failed"] * len(echoes(password))
    (reject,) = rows(lake, "raw/servicenow/rejects")
    assert reject["raw_text"] == f'{{"error": {{"message": "password {redacted} has expired"}}, "status": "failure"}}'
    everything = "\n".join([out, err, kept(tmp_path, "")])
    for form in [password, *echoes(password)]:
        assert form not in everything
