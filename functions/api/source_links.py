"""Links from a listed record to its page in the source: a ServiceNow incident or change request, an ArgoCD
application, a GitLab deployment's pipeline. None when the source's URL is not configured, or GitLab gave none."""

from __future__ import annotations

from urllib.parse import quote

from lakehouse.settings import without_credentials
from lakehouse.web_address import web_address


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


def gitlab_pipeline(web_url: str | None) -> str | None:
    """A GitLab deployment's pipeline page, as GitLab gave it with the deployment (deployable.pipeline.web_url): GitLab
    writes its own external URL into it, so it is served as given. Only an http(s) address: the lake keeps what the
    source sent, and a javascript: or data: value would run in the reader's browser."""
    return web_address(web_url)


def _base(url: str) -> str:
    # Every reader gets the link: a user and password written into the configured URL stay out of it. A path prefix
    # (the source behind a proxy) stays; a trailing / is not doubled.
    return str(without_credentials(url)).rstrip("/")
