"""A user and password written into a URL of a source's free text reach neither landing/, raw/ nor the rejects."""

from __future__ import annotations

import copy
import gzip
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pyarrow.parquet as pq
import pytest
from pydantic import SecretStr

from functions.ingest_deploys import source as deploys
from functions.ingest_dynatrace import source as dynatrace
from lakehouse.ingest.config import IngestSettings
from lakehouse.ingest.sources import ingest
from lakehouse.ingest.window import Window
from lakehouse.mappings import MappingStore
from lakehouse.redact import payload_without_credentials, text_without_credentials
from lakehouse.schemas import get_dataset
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.conftest import FIXTURES

SECRET = "glpat-s3cr3t"
Answer = Callable[[httpx.Request], httpx.Response]


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def lake_at(tmp_path: Path, mapping: list[dict[str, Any]]) -> Lake:
    lake = Lake.from_settings(Settings(lake_url=str(tmp_path / "lake"), duckdb_temp_directory=tmp_path / "duckdb"))
    MappingStore(lake).apply(mapping, actor="test")
    return lake


def kept(tmp_path: Path, area: str) -> str:
    """Every text the lake keeps under `area` (landing pages unzipped, Parquet rows as JSON, run records)."""
    texts = []
    for path in sorted((tmp_path / "lake" / area).rglob("*")):
        if path.name.endswith(".gz"):
            texts.append(gzip.decompress(path.read_bytes()).decode())
        elif path.suffix == ".parquet":
            texts.append(json.dumps(pq.read_table(path).to_pylist(), default=str, ensure_ascii=False))
        elif path.is_file():
            texts.append(path.read_text(encoding="utf-8"))
    return "\n".join(texts)


def serve(monkeypatch: pytest.MonkeyPatch, module: Any, client: str, answer: Answer) -> None:
    """The source's client, as built by its plan, talking to `answer` instead of the network."""
    real = getattr(module, client)

    def with_answers(base_url: str, token: SecretStr, **options: Any) -> Any:
        return real(base_url, token, transport=httpx.MockTransport(answer), **options)

    monkeypatch.setattr(module, client, with_answers)


def test_a_url_loses_its_user_and_password_wherever_it_is_in_a_text() -> None:
    """ArgoCD's message quotes the repository as it was given; an ssh remote's git@ and an address are no secret."""
    message = (
        "rpc error: code = Unknown desc = failed to list refs: authentication required: "
        f"'https://deploy:{SECRET}@git.example.com/platform/velero.git', "
        f"mirror https://{SECRET}@mirror.example.com:8443/velero.git?ref=main, "
        "from ssh://git@git.example.com/platform/velero.git, mail ops@example.com, see https://status.example.com/a@b"
    )
    assert text_without_credentials(message) == (
        "rpc error: code = Unknown desc = failed to list refs: authentication required: "
        "'https://git.example.com/platform/velero.git', "
        "mirror https://mirror.example.com:8443/velero.git?ref=main, "
        "from ssh://git@git.example.com/platform/velero.git, mail ops@example.com, see https://status.example.com/a@b"
    )
    # A password written with a raw @, and a URL inside another one's query: neither keeps anything.
    nested = f"https://u:p@ss{SECRET}@h.example.com/x?next=https://v:{SECRET}@k.example.com/"
    assert text_without_credentials(nested) == "https://h.example.com/x?next=https://k.example.com/"


def test_a_url_written_json_escaped_loses_its_user_and_password() -> None:
    """A page set aside is kept as it came, where a JSON writer may have escaped each / as \\/ (PHP's and many
    proxies' do) or the @ as \\u0040: such a URL kept its user and password, which the same page parsed loses."""
    escaped = (
        r'{"error": "upstream https:\/\/deploy:' + SECRET + r'@git.example.com\/repo failed", '
        r'"mirror": "https:\u002f\u002f' + SECRET + r'\u0040mirror.example.com\/r", '
        r'"remote": "ssh:\/\/git@git.example.com\/repo.git"}'
    )
    kept = text_without_credentials(escaped)
    assert kept == (
        r'{"error": "upstream https:\/\/git.example.com\/repo failed", '
        r'"mirror": "https:\u002f\u002fmirror.example.com\/r", '
        r'"remote": "ssh:\/\/git@git.example.com\/repo.git"}'
    )
    assert json.loads(kept) == payload_without_credentials(json.loads(escaped))


def test_an_ssh_url_loses_its_password_and_its_user_with_it() -> None:
    """git@ alone is the account every ssh remote logs in as; deploy:s3cr3t@ is a password, taken out with its user."""
    message = "clone ssh://deploy:s3cr3t@git.example.com/repo.git failed; ssh://git@git.example.com/repo.git works"
    assert text_without_credentials(message) == (
        "clone ssh://git.example.com/repo.git failed; ssh://git@git.example.com/repo.git works"
    )


def test_a_payload_keyed_by_a_url_keeps_no_password_in_its_keys() -> None:
    """A source's map keyed by repository URL (the repositories an application was compared with, say): the key
    loses its user and password as a value does."""
    payload = {
        "repositories": {f"https://deploy:{SECRET}@git.example.com/repo.git": {"reachable": False, "tries": 3}},
        "messages": [f"mirror https://{SECRET}@mirror.example.com/repo.git"],
    }
    assert payload_without_credentials(payload) == {
        "repositories": {"https://git.example.com/repo.git": {"reachable": False, "tries": 3}},
        "messages": ["mirror https://mirror.example.com/repo.git"],
    }


def test_a_gitlab_environments_external_url_keeps_no_token_in_the_lake(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GitLab's two documented deployments, their environments' external URLs written with a token (a review app
    behind basic auth): the first page comes cut in transit (asked again, and read: no reject), the second
    deployment has lost its status (a rejected record). Landing and raw keep the review apps' addresses, not
    the token; the reject keeps neither (of its environment, the name alone)."""
    listed = copy.deepcopy(fixture("gitlab/deployments__list_docs.json"))
    listed[0]["environment"]["external_url"] = f"https://review:{SECRET}@review-7.example.com/app"
    listed[1]["environment"]["external_url"] = f"https://{SECRET}@review-8.example.com"
    del listed[1]["status"]
    whole = json.dumps(listed)
    answers = [httpx.Response(200, text=whole[: whole.index(SECRET) + 40]), httpx.Response(200, text=whole)]

    def gitlab(request: httpx.Request) -> httpx.Response:
        return answers.pop(0) if request.url.path == "/api/v4/projects/11/deployments" else httpx.Response(200, json=[])

    serve(monkeypatch, deploys, "GitLabClient", gitlab)
    lake = lake_at(tmp_path, [{"entity_id": "shop", "kind": "application", "gitlab_project_id": 11}])
    settings = IngestSettings(gitlab_url="https://gitlab.example", gitlab_token=SecretStr("t"), http_backoff_base_s=0)
    window = Window(datetime(2016, 8, 11, tzinfo=UTC), datetime(2016, 8, 12, tzinfo=UTC))
    outcome = ingest("deploys", lake, settings, window=window, datasets=["gitlab/deployments"])
    (run,) = outcome.outcomes
    assert (run.record.status, run.record.rows_out, run.record.rows_rejected) == ("partial", 1, 1)
    assert "https://review-7.example.com/app" in kept(tmp_path, "landing")
    # The rejected record keeps the fields the parser reads, of its environment the name alone.
    assert "https://review-8.example.com" in kept(tmp_path, "landing")
    assert SECRET not in kept(tmp_path, "")


def test_argocd_condition_and_operation_messages_keep_no_token_in_the_lake(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """velero-test cannot reach its repository: ArgoCD's comparison error and its last sync's message quote the
    repository URL with the deploy token it was given. A second application, whose health status came as a number,
    has its status row rejected, the whole application its raw text. The operation message is stored without the
    token; nothing the lake keeps holds it."""
    message = (
        "rpc error: code = Unknown desc = failed to list refs: authentication required: "
        f"https://deploy:{SECRET}@git.example.com/platform/velero.git"
    )
    velero = copy.deepcopy(fixture("argocd/application__live_velero-test__converted.json"))
    velero["status"]["conditions"] = [
        {"type": "ComparisonError", "message": message, "lastTransitionTime": "2024-03-05T07:40:00Z"}
    ]
    velero["status"]["operationState"]["message"] = message
    broken = copy.deepcopy(velero)
    broken["metadata"]["name"] = "velero-broken"
    broken["status"]["health"]["status"] = 1
    listing = {"metadata": {}, "items": [velero, broken]}

    serve(monkeypatch, deploys, "ArgoCDClient", lambda request: httpx.Response(200, json=listing))
    mapping = [
        {"entity_id": "velero", "kind": "application", "argocd_app_name": "velero-test"},
        {"entity_id": "broken", "kind": "application", "argocd_app_name": "velero-broken"},
    ]
    lake = lake_at(tmp_path, mapping)
    settings = IngestSettings(argocd_url="https://argocd.example", argocd_token=SecretStr("t"))
    now = datetime.now(UTC)
    window = Window(now - timedelta(hours=1), now)
    outcome = ingest("deploys", lake, settings, window=window, datasets=["argocd/app_status"])
    status = next(o for o in outcome.outcomes if o.dataset == "argocd/app_status")
    assert (status.record.rows_out, status.record.rows_rejected) == (1, 1)
    table = lake.read_partition(get_dataset("argocd/app_status"), now.date())
    assert table is not None
    assert table.column("operation_message").to_pylist() == [
        "rpc error: code = Unknown desc = failed to list refs: authentication required: "
        "https://git.example.com/platform/velero.git"
    ]
    assert "ComparisonError" in kept(tmp_path, "landing") and "velero-broken" in kept(tmp_path, "raw/argocd/rejects")
    assert SECRET not in kept(tmp_path, "")


def test_dynatrace_problem_evidence_keeps_no_password_in_the_lake(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The closed problem of Dynatrace's documented page, given the evidence of the documented open problem, whose
    event quotes the database it could not reach with the password in its URL; a second problem without a status is
    rejected. Nothing the lake keeps of either holds the password; the address stays."""
    page = copy.deepcopy(fixture("dynatrace/problems_v2__list_one_closed.json"))
    evidence = fixture("dynatrace/problem_v2__open_endTime_minus1_with_evidence.json")["evidenceDetails"]
    dsn = f"postgres://orders:{SECRET}@db.internal:5432/orders"
    evidence["details"][0]["data"]["properties"].append({"key": "dt.event.description", "value": f"{dsn} refused"})
    evidence["details"][0]["displayName"] = f"Connection to {dsn} refused"
    problem = page["problems"][0]
    problem["evidenceDetails"] = evidence
    unread = copy.deepcopy(problem) | {"problemId": "-1_1604628540000V2"}
    del unread["status"]
    page["problems"].append(unread)

    serve(monkeypatch, dynatrace, "DynatraceClient", lambda request: httpx.Response(200, json=page))
    lake = lake_at(tmp_path, [])
    settings = IngestSettings(dynatrace_url="https://abc.live.dynatrace.com", dynatrace_token=SecretStr("dt0c01.A.B"))
    start = datetime.fromtimestamp(problem["startTime"] / 1000, UTC).replace(minute=0, second=0, microsecond=0)
    window = Window(start, start + timedelta(hours=2))
    outcome = ingest("dynatrace", lake, settings, window=window, datasets=["dynatrace/problems"])
    (run,) = outcome.outcomes
    assert (run.record.rows_out, run.record.rows_rejected) == (1, 1)
    assert "postgres://db.internal:5432/orders refused" in kept(tmp_path, "raw/dynatrace/rejects")
    assert "Connection to postgres://db.internal:5432/orders refused" in kept(tmp_path, "landing")
    assert SECRET not in kept(tmp_path, "")


def test_a_refusal_quoting_a_repository_url_keeps_no_token_in_the_run_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ArgoCD refuses with its gRPC gateway's error ({error, code, message, details}), whose text quotes the
    repository URL it was given, token included. The run fails saying why, with the repository named; neither the
    error it raises nor the run record the lake keeps holds the token."""
    reason = (
        "application spec for velero-test is invalid: InvalidSpecError: repository not accessible: "
        f"https://deploy:{SECRET}@git.example.com/platform/velero.git: authentication required"
    )
    refusal = {"error": reason, "code": 3, "message": reason, "details": []}
    serve(monkeypatch, deploys, "ArgoCDClient", lambda request: httpx.Response(400, json=refusal))
    lake = lake_at(tmp_path, [{"entity_id": "velero", "kind": "application", "argocd_app_name": "velero-test"}])
    settings = IngestSettings(argocd_url="https://argocd.example", argocd_token=SecretStr("t"))
    now = datetime.now(UTC)
    window = Window(now - timedelta(hours=1), now)
    outcome = ingest("deploys", lake, settings, window=window, datasets=["argocd/app_status"])
    errors = {o.record.error for o in outcome.failed}
    assert errors == {
        "argocd: HTTP 400 on GET /api/v1/applications: application spec for velero-test is invalid: InvalidSpecError: "
        "repository not accessible: https://git.example.com/platform/velero.git: authentication required"
    }
    assert "https://git.example.com/platform/velero.git" in kept(tmp_path, "runs")
    assert SECRET not in kept(tmp_path, "")


def test_an_answer_echoing_the_request_keeps_neither_token_nor_password_in_the_rejects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A wrong proxy route sends GitLab's deployments request to an echo service: its 200 answer is the request as
    it came, PRIVATE-TOKEN header included, on every attempt. It is no list: the run fails, and the page is its
    reject, keeping the echo's text with the token replaced."""
    token = "glpat-Zx81kQe7Lm2Pq9Rt"

    def gitlab(request: httpx.Request) -> httpx.Response:
        if request.url.path != "/api/v4/projects/11/deployments":
            return httpx.Response(200, json=[])
        return httpx.Response(200, json={"url": str(request.url), "headers": dict(request.headers)})

    serve(monkeypatch, deploys, "GitLabClient", gitlab)
    lake = lake_at(tmp_path, [{"entity_id": "shop", "kind": "application", "gitlab_project_id": 11}])
    settings = IngestSettings(gitlab_url="https://gitlab.example", gitlab_token=SecretStr(token), http_backoff_base_s=0)
    window = Window(datetime(2016, 8, 11, tzinfo=UTC), datetime(2016, 8, 12, tzinfo=UTC))
    outcome = ingest("deploys", lake, settings, window=window, datasets=["gitlab/deployments"])
    (run,) = outcome.outcomes
    assert (run.record.status, run.record.rows_out, run.record.rows_rejected) == ("failed", 0, 1)
    rejects = kept(tmp_path, "raw/gitlab/rejects")
    assert "page was a JSON object, not a list, on all 6 attempts" in rejects and "private-token" in rejects
    assert token not in kept(tmp_path, "")


def test_a_refusal_echoing_the_basic_auth_header_does_not_quote_it() -> None:
    """A proxy in front of ServiceNow refuses with ServiceNow's error shape and quotes the Authorization header it
    was sent: the error the run records names the refusal, not the password nor its base64."""
    from functions.ingest_servicenow.client import ServiceNowClient
    from lakehouse.ingest.client import PageRequest
    from lakehouse.ingest.errors import SourceRefused

    basic = "Basic c3ZjLXJvc2V0dGE6VHIwdWJhZG91cjQ3"  # svc-rosetta:Tr0ubadour47
    body = {"error": {"message": "Proxy refused the request", "detail": f"header Authorization: {basic}"}}
    transport = httpx.MockTransport(lambda request: httpx.Response(400, json=body))
    client = ServiceNowClient("https://i.example", "svc-rosetta", SecretStr("Tr0ubadour47"), transport=transport)
    with pytest.raises(SourceRefused) as refused:
        client.send(PageRequest("/api/now/table/incident"))
    assert str(refused.value) == (
        "servicenow: HTTP 400 on GET /api/now/table/incident: Proxy refused the request "
        "(header Authorization: Basic <redacted>)"
    )


def test_a_refusal_echoing_the_basic_auth_header_with_escaped_slashes_does_not_quote_it() -> None:
    """Some JSON writers (PHP's, a few Java proxies') escape every / as \\/. A base64 holding a / then reads
    differently in the raw answer than in its decoded message: the run's error quotes neither."""
    from functions.ingest_servicenow.client import ServiceNowClient
    from lakehouse.ingest.client import PageRequest
    from lakehouse.ingest.errors import SourceRefused

    # base64("svc-rosetta:Pw??>>>12345"): the 12 bytes of "svc-rosetta:" make 16 characters, then "Pw?" is
    # 50 77 3f, whose 6-bit groups 010100 000111 011100 111111 are 20 7 28 63: U H c / (63 is /).
    basic = "c3ZjLXJvc2V0dGE6UHc/Pz4+PjEyMzQ1"
    body = json.dumps({"error": {"message": f"refused: Basic {basic}"}}).replace("/", "\\/")
    answer = httpx.Response(401, content=body.encode(), headers={"Content-Type": "application/json"})
    transport = httpx.MockTransport(lambda request: answer)
    client = ServiceNowClient("https://i.example", "svc-rosetta", SecretStr("Pw??>>>12345"), transport=transport)
    with pytest.raises(SourceRefused) as refused:
        client.send(PageRequest("/api/now/table/incident"))
    assert str(refused.value) == (
        "servicenow: HTTP 401 on GET /api/now/table/incident: refused: Basic <redacted>; check ROSETTA_SERVICENOW_USER "
        "and ROSETTA_SERVICENOW_PASSWORD and what its account may read"
    )


@pytest.mark.parametrize(
    ("character", "written"),
    [("/", "\\/"), ("+", "\\u002B")],  # PHP's json_encode escapes /; .NET's default encoder writes + as \u002B
)
def test_an_answer_echoing_the_basic_auth_header_escaped_keeps_it_out_of_the_rejects(
    character: str, written: str
) -> None:
    """The same echo sent with a 200: no result list, so it is set aside, and what the reject keeps of its text
    has the header's base64 replaced, escaped characters and all."""
    from functions.ingest_servicenow.client import ServiceNowClient
    from lakehouse.ingest.client import PageRequest, RetryPolicy
    from lakehouse.ingest.errors import SourceUnavailable

    # svc-rosetta:Pw??>>>12345, as in the test above; after "UHc/" comes "?>>", 3f 3e 3e, whose 6-bit groups
    # 001111 110011 111000 111110 are 15 51 56 62: P z 4 + (62 is +).
    basic = "c3ZjLXJvc2V0dGE6UHc/Pz4+PjEyMzQ1"
    body = json.dumps({"headers": {"Authorization": f"Basic {basic}"}}).replace(character, written)
    answer = httpx.Response(200, content=body.encode(), headers={"Content-Type": "application/json"})
    transport = httpx.MockTransport(lambda request: answer)
    client = ServiceNowClient(
        "https://i.example", "svc-rosetta", SecretStr("Pw??>>>12345"), transport=transport, policy=RetryPolicy(1)
    )
    with pytest.raises(SourceUnavailable):
        client.send(PageRequest("/api/now/table/incident"))
    (reject,) = client.counters.set_aside
    assert reject.text == '{"headers": {"Authorization": "Basic <redacted>"}}'
