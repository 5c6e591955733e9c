"""Which URLs point at documentation, and which at a GitLab issue or MR."""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import urlsplit

from docsgap.docpages.pages import map_url

_DOCS_HOST_RE = re.compile(r"^(?:docs?|documentation|wiki|help|developers?|learn)\.|readthedocs")
_DOCS_PATH_RE = re.compile(
    r"/(?:docs?|documentation|wiki|help|manual|guides?|tutorials?|handbook|reference|howto)"
    r"(?:/|$|\.)|\.(?:md|mdx|rst|adoc)$|readme|/-/wikis/",
    re.I,
)
_NOT_DOCS_RE = re.compile(
    r"/-/(?:issues|merge_requests|work_items|pipelines|jobs)/|/(?:issues|pull|pulls|commit)/\d"
    r"|\.(?:png|jpe?g|gif|svg|webp|zip|tar\.gz)$",
    re.I,
)


@lru_cache(maxsize=4096)
def is_docs_url(url: str) -> bool:
    """A link to documentation: docs.gitlab.com, `/help/` pages, pages the docs-URL map knows,
    or a generic docs-like address (docs.* hosts, /docs/ paths, README and .md files)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    host, path = (parts.hostname or "").lower(), parts.path
    if _NOT_DOCS_RE.search(path):
        return False
    if _DOCS_HOST_RE.search(host) or _DOCS_PATH_RE.search(path):
        return True
    return url.startswith("http") and map_url(url).path is not None


_TRACKER_RE = re.compile(r"https?://[^\s\"'<>()\[\]]+?/-/(?:issues|merge_requests|work_items)/\d+")


def tracker_links(text: str) -> list[str]:
    """GitLab issue/MR/work item URLs anywhere in the text (any host), without anchors."""
    return list(dict.fromkeys(_TRACKER_RE.findall(text)))
