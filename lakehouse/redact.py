"""Credentials written into URLs (https://user:password@host, https://token@host), taken out of a source's text.

A source's free text quotes URLs as they were given to it: a GitLab environment's external URL, an ArgoCD
condition or operation message ("rpc error: ... https://deploy:glpat-...@git.example.com/repo.git ..."), a
Dynatrace problem's evidence, a ServiceNow description. What the lake keeps of a source (landing pages, raw rows,
rejects) and what a run records of its errors keep each such URL without its user and password. An ssh URL's bare
user (ssh://git@host) is no secret and stays.
"""

from __future__ import annotations

import re
from typing import Any

REDACTED = "<redacted>"

# A URL's "://" and the @ after its user and password, as text holds them or as the raw text of a JSON page may
# write them: PHP's and many proxies' writers escape each / as \/, and any writer may write a character as \uXXXX.
SLASHES = r":(?://|\\/\\/|\\u002[fF]\\u002[fF])"
_AT = r"(?:@|\\u0040)"
# A URL's authority up to its last @ (a password written with a raw @ is cut whole): the authority ends at the first
# / ? # or space, and at a quote or backslash (the text may be JSON). The scheme before it is read only on a match:
# searching for it everywhere costs every string of every page more than the rest of the work.
_USERINFO = re.compile(rf"(?P<slashes>{SLASHES})(?P<userinfo>[^\s/?#\"\\<>]*){_AT}")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*$")


def text_without_credentials(text: str) -> str:
    """`text` with the user and password of every URL in it taken out; anything else as it was. A URL written
    JSON-escaped (`https:\\/\\/user:password@host`, in a page kept as it came) loses them too."""
    if ("@" not in text and "\\u0040" not in text) or (
        "://" not in text and ":\\/" not in text and "\\u002" not in text
    ):
        return text
    return _USERINFO.sub(_without_userinfo, text)


def _without_userinfo(found: re.Match[str]) -> str:
    scheme = _SCHEME.search(found.string, max(0, found.start() - 16), found.start())
    if scheme and scheme.group().lower() == "ssh" and ":" not in found["userinfo"]:
        return found.group()  # git@: the account every ssh remote logs in as, not a secret
    return found["slashes"]


def payload_without_credentials(node: Any) -> Any:
    """A JSON payload with `text_without_credentials` applied to each string in it (keys included)."""
    if isinstance(node, str):
        return text_without_credentials(node)
    if isinstance(node, list):
        return [payload_without_credentials(item) for item in node]
    if isinstance(node, dict):
        return {payload_without_credentials(key): payload_without_credentials(value) for key, value in node.items()}
    return node
