"""What an ArgoCD listing must not carry into the lake: the values an application's source hands to its tools.

Helm values and parameters, a config management plugin's environment and parameters, Jsonnet's variables,
Kustomize's inline patches and the manifests of a local sync configure what is deployed, and teams put credentials
there. The listing is landed as it came (landing/, for audit) and rejected records keep their text: both would keep
those values. None is read: the parser takes the sync, health, history and operation. So their names stay and their
values are replaced, wherever a source appears (spec.source, spec.sources, each history entry, comparedTo, the
operation and its result). A repository URL may carry a user and a token too (https://deploy:glpat-...@host/...):
the repository stays, they do not (nor in any other text of a source: see lakehouse.redact). An application applied
with kubectl carries its whole manifest, values included, as the text of an annotation: that annotation is replaced
whole.
"""

from __future__ import annotations

from typing import Any

from lakehouse.redact import REDACTED, text_without_credentials

# kubectl's copy of the manifest it applied (client-side apply, by hand or by a parent app-of-apps), as JSON text.
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def redact_sources(node: Any) -> Any:
    """`node` with every tool's values replaced by REDACTED; anything else as it was."""
    if isinstance(node, list):
        return [redact_sources(item) for item in node]
    if not isinstance(node, dict):
        return node
    tools = {"helm": _helm, "plugin": _plugin, "jsonnet": _jsonnet, "kustomize": _kustomize}
    return {key: _redacted(key, value, tools) for key, value in node.items()}


def _redacted(key: str, value: Any, tools: dict[str, Any]) -> Any:
    if key in tools and isinstance(value, dict):
        return tools[key](value)
    if key == "repoURL" and isinstance(value, str):
        return text_without_credentials(value)
    if key == "annotations" and isinstance(value, dict) and value.get(LAST_APPLIED):
        return {**value, LAST_APPLIED: REDACTED}
    if key == "manifests" and isinstance(value, list):
        # A sync of local manifests (argocd app sync --local) keeps them whole, Secrets included.
        return [REDACTED for _ in value]
    return redact_sources(value)


def _helm(helm: dict[str, Any]) -> dict[str, Any]:
    out = dict(helm)
    for key in ("values", "valuesObject"):
        if out.get(key):
            out[key] = REDACTED
    # fileParameters name files of the repository: paths, not values.
    out["parameters"] = _named_values(helm.get("parameters"), ("value",))
    return _without_empty(out, helm)


def _plugin(plugin: dict[str, Any]) -> dict[str, Any]:
    out = dict(plugin)
    out["env"] = _named_values(plugin.get("env"), ("value",))
    out["parameters"] = _named_values(plugin.get("parameters"), ("string", "array", "map"))
    return _without_empty(out, plugin)


def _jsonnet(jsonnet: dict[str, Any]) -> dict[str, Any]:
    out = dict(jsonnet)
    for key in ("extVars", "tlas"):
        out[key] = _named_values(jsonnet.get(key), ("value",))
    return _without_empty(out, jsonnet)


def _named_values(items: Any, fields: tuple[str, ...]) -> Any:
    """A list of {name, value...}: each name kept, each value replaced."""
    if not isinstance(items, list):
        return items
    return [
        {k: REDACTED if k in fields and v not in (None, "") else v for k, v in item.items()}
        if isinstance(item, dict)
        else REDACTED
        for item in items
    ]


def _kustomize(kustomize: dict[str, Any]) -> dict[str, Any]:
    out = dict(kustomize)
    # An inline patch is text handed to the tool; a patch file is named by its path, which stays.
    out["patches"] = _named_values(kustomize.get("patches"), ("patch",))
    return _without_empty(out, kustomize)


def _without_empty(out: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """Only the keys the source gave: a list set to None where there was none is left out again."""
    return {k: v for k, v in out.items() if k in given}
