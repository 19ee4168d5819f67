"""Links from a listed record to its page in the source: a ServiceNow incident or change request, an ArgoCD
application. None when the source's URL is not configured."""

from __future__ import annotations

from urllib.parse import quote

from lakehouse.settings import without_credentials


def servicenow_record(instance_url: str | None, table: str, sys_id: str) -> str | None:
    """`<instance>/nav_to.do?uri=<table>.do%3Fsys_id%3D<sys_id>`: the record's form in the instance's standard
    interface.

    ServiceNow documents both `<instance>/<table>.do?sys_id=<sys_id>`, the form alone, and
    `<instance>/nav_to.do?uri=<table>.do?sys_id=<sys_id>`, the form inside the banner and application navigator
    ("Navigate to a record or module using a URL"). The second is taken: whoever follows the link can go on from the
    record as from any other. Its `uri` is one query value, so the inner URL is encoded whole (its sys_id once more
    before, so that no character of it ends the inner query)."""
    if not instance_url:
        return None
    inner = f"{table}.do?sys_id={quote(sys_id, safe='')}"
    return f"{_base(instance_url)}/nav_to.do?uri={quote(inner, safe='')}"


def argocd_application(argocd_url: str | None, name: str, namespace: str | None) -> str | None:
    """The application's page in ArgoCD's UI: `/applications/<namespace>/<name>` when the namespace is known (an
    application outside ArgoCD's own namespace), else `/applications/<name>`, which the UI looks up in its own."""
    if not argocd_url:
        return None
    segments = [namespace, name] if namespace else [name]
    return f"{_base(argocd_url)}/applications/" + "/".join(quote(segment, safe="") for segment in segments)


def _base(url: str) -> str:
    # Every reader gets the link: a user and password written into the configured URL stay out of it. A path prefix
    # (the source behind a proxy) stays; a trailing / is not doubled.
    return str(without_credentials(url)).rstrip("/")
