"""An ArgoCD listing keeps in the lake nothing of the values its applications' sources hand to their tools."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
from pydantic import SecretStr

from functions.ingest_deploys import parse
from functions.ingest_deploys.client import ArgoCDClient
from functions.ingest_deploys.redact import REDACTED, redact_sources
from tests.conftest import FIXTURES
from tests.unit.ingest.test_client import FakeClock, mock

OBSERVED = datetime(2026, 11, 20, 10, tzinfo=UTC)


def velero() -> dict:
    """The real application: its config management plugin is handed a chart repository and Helm values."""
    text = (FIXTURES / "argocd" / "application__live_velero-test__converted.json").read_text(encoding="utf-8")
    app: dict = json.loads(text)
    return app


def test_a_plugins_environment_keeps_its_names_and_loses_its_values_wherever_a_source_is() -> None:
    """velero-test's plugin is given HELM_VALUES (the cluster's name and class) and five more variables, in its spec
    and in each of its history entries: none of their values is left, the names are, and an empty one stays empty."""
    redacted = redact_sources({"items": [velero()]})
    text = json.dumps(redacted)
    assert "cluster_name: gke-alpha-01-europe-west1" not in text
    assert "oci://europe-west1-docker.pkg.dev/foo/charts" not in text
    env = redacted["items"][0]["spec"]["source"]["plugin"]["env"]
    names = ["RELEASE_NAME", "CHART_REPOSITORY", "CHART_NAME", "PREVIEW", "HELM_VALUES", "HELM_ARGS"]
    assert [(e["name"], e["value"]) for e in env] == [(n, "" if n == "HELM_ARGS" else REDACTED) for n in names]
    for entry in redacted["items"][0]["status"]["history"]:
        assert {e["value"] for e in entry["source"]["plugin"]["env"]} <= {REDACTED, ""}


def test_helm_values_and_parameters_and_jsonnet_variables_lose_their_values() -> None:
    """A Helm source with inline values, an object of values, parameters and a values file; a Jsonnet directory with
    an external variable and a top-level argument: every value is replaced, the files named and the names kept."""
    source = {
        "helm": {
            "values": "db:\n  password: hunter2\n",
            "valuesObject": {"db": {"password": "hunter2"}},
            "parameters": [{"name": "db.password", "value": "hunter2", "forceString": True}],
            "fileParameters": [{"name": "ca", "path": "certs/ca.pem"}],
        },
        "directory": {
            "jsonnet": {
                "extVars": [{"name": "token", "value": "hunter2"}],
                "tlas": [{"name": "k", "value": "hunter2", "code": False}],
            }
        },
    }
    redacted = redact_sources({"spec": {"sources": [source]}})
    assert "hunter2" not in json.dumps(redacted)
    helm = redacted["spec"]["sources"][0]["helm"]
    assert (helm["values"], helm["valuesObject"]) == (REDACTED, REDACTED)
    assert helm["parameters"] == [{"name": "db.password", "value": REDACTED, "forceString": True}]
    assert helm["fileParameters"] == [{"name": "ca", "path": "certs/ca.pem"}]
    jsonnet = redacted["spec"]["sources"][0]["directory"]["jsonnet"]
    assert jsonnet["tlas"] == [{"name": "k", "value": REDACTED, "code": False}]


def test_what_the_build_reads_of_a_listing_is_the_same_once_redacted() -> None:
    """Status snapshots, history and operations parsed from velero-test are the same rows either way."""
    listing = {"items": [velero()]}
    before = parse.parse_applications_page(listing, {"observed_at": OBSERVED})
    after = parse.parse_applications_page(redact_sources(listing), {"observed_at": OBSERVED})
    assert {d: t.to_pylist() for d, t in after.tables.items()} == {d: t.to_pylist() for d, t in before.tables.items()}
    assert before.tables and all(t.num_rows for t in before.tables.values())


def test_a_repository_url_loses_the_credentials_written_into_it_wherever_a_source_is() -> None:
    """A Git URL may carry a user and a token (https://deploy:glpat-...@host/...): the lake keeps the repository, never
    them. An ssh URL's bare user (git@) is no secret and stays."""
    listing = {
        "items": [
            {
                "spec": {
                    "source": {"repoURL": "https://deploy:glpat-s3cr3t@gitlab.example.org/platform/manifests.git"}
                },
                "status": {
                    "history": [{"source": {"repoURL": "https://glpat-s3cr3t@gitlab.example.org/platform/app.git"}}],
                    "operationState": {
                        "syncResult": {"sources": [{"repoURL": "ssh://git@gitlab.example.org/platform/manifests.git"}]}
                    },
                },
            }
        ]
    }
    redacted = redact_sources(listing)
    assert "s3cr3t" not in json.dumps(redacted)
    app = redacted["items"][0]
    assert app["spec"]["source"]["repoURL"] == "https://gitlab.example.org/platform/manifests.git"
    assert app["status"]["history"][0]["source"]["repoURL"] == "https://gitlab.example.org/platform/app.git"
    ssh = app["status"]["operationState"]["syncResult"]["sources"][0]["repoURL"]
    assert ssh == "ssh://git@gitlab.example.org/platform/manifests.git"
    # One URL that does not parse fails nothing, and loses what precedes its @ all the same.
    unparsed = redact_sources([{"repoURL": "https://[gitlab/a.git"}, {"repoURL": "https://u:p@[gitlab/a.git"}])
    assert unparsed == [{"repoURL": "https://[gitlab/a.git"}, {"repoURL": "https://[gitlab/a.git"}]


def test_a_listing_set_aside_keeps_none_of_the_tools_values_in_the_rejects() -> None:
    """A listing cut off in transit (not JSON) and one without its items list are set aside, their text kept (the
    run's reject, had no later attempt read the listing), and asked again: velero-test's plugin values (its
    HELM_VALUES) are in neither text kept, which the lake would otherwise hold as they came. The listing read
    afterwards is the one parsed, as before, redacted by the client."""
    whole = json.dumps({"items": [velero()]})
    misnamed = json.dumps({"item": [velero()]})
    answers = [httpx.Response(200, text=whole[: len(whole) // 2]), httpx.Response(200, text=misnamed)]
    answers.append(httpx.Response(200, text=whole))
    argocd = ArgoCDClient("https://argocd.example", SecretStr("t"), transport=mock(answers), clock=FakeClock())
    assert argocd.applications().body == redact_sources(json.loads(whole))
    kept = argocd.counters.read_again
    assert [a.reason.split(" (")[0] for a in kept] == ["page was not valid JSON", "page has no items list"]
    for aside in kept:
        assert "cluster_name: gke-alpha-01-europe-west1" not in aside.text
        assert "oci://europe-west1-docker.pkg.dev/foo/charts" not in aside.text
    assert json.loads(kept[1].text) == redact_sources(json.loads(misnamed))


def test_the_last_applied_configuration_loses_the_tools_values_it_copies() -> None:
    """An application created with `kubectl apply` (or synced by a parent app-of-apps with client-side apply) carries
    its whole manifest as JSON text in the kubectl.kubernetes.io/last-applied-configuration annotation: the Helm
    values redacted in its spec would be landed there as they came. The annotation is redacted too, the others kept."""
    manifest = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "shop", "namespace": "argocd"},
        "spec": {"source": {"repoURL": "https://git.example.org/shop.git", "helm": {"values": "db:\n  password: x9"}}},
    }
    annotations = {
        "kubectl.kubernetes.io/last-applied-configuration": json.dumps(manifest) + "\n",
        "argocd.argoproj.io/manifest-generate-paths": ".",
    }
    app = {"metadata": {"name": "shop", "annotations": annotations}, "spec": manifest["spec"]}
    redacted = redact_sources({"items": [app]})
    assert "password: x9" not in json.dumps(redacted)
    kept = redacted["items"][0]["metadata"]["annotations"]
    assert kept["argocd.argoproj.io/manifest-generate-paths"] == "."
    assert kept["kubectl.kubernetes.io/last-applied-configuration"] == REDACTED


def test_kustomize_inline_patches_and_a_local_syncs_manifests_lose_their_text() -> None:
    """Kustomize is handed inline patches (an env var's value, a Secret's data), and a sync of local manifests
    (`argocd app sync --local`) records them whole under the operation: their text is replaced, a patch's target
    and a file patch's path kept, as Helm's files are."""
    patch = {"patch": "- op: add\n  path: /data/password\n  value: hunter2", "target": {"kind": "Secret"}}
    source = {"kustomize": {"patches": [patch, {"path": "patches/replicas.yaml"}], "namePrefix": "shop-"}}
    secret = "apiVersion: v1\nkind: Secret\nstringData:\n  password: hunter2\n"
    operation = {"operation": {"sync": {"revision": "abc", "manifests": [secret]}}}
    app = {"spec": {"source": source}, "status": {"operationState": operation}}
    redacted = redact_sources({"items": [app]})
    assert "hunter2" not in json.dumps(redacted)
    kustomize = redacted["items"][0]["spec"]["source"]["kustomize"]
    assert kustomize == {
        "patches": [{"patch": REDACTED, "target": {"kind": "Secret"}}, {"path": "patches/replicas.yaml"}],
        "namePrefix": "shop-",
    }
    sync = redacted["items"][0]["status"]["operationState"]["operation"]["sync"]
    assert sync == {"revision": "abc", "manifests": [REDACTED]}
