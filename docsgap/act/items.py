"""GitLab item URLs as the act stage reads them, and the placeholder a reviewer writes where a
new issue's URL goes."""

from __future__ import annotations

import re

from docsgap import compose
from docsgap.models import ItemKind

_ITEM_URL = re.compile(r"/-/(issues|merge_requests)/(\d+)")


def parse_item_url(url: str) -> tuple[ItemKind, int]:
    """(kind, iid) from a GitLab issue or MR web URL."""
    m = _ITEM_URL.search(url)
    if not m:
        raise ValueError(f"not a GitLab issue or MR URL: {url}")
    return ("issue" if m.group(1) == "issues" else "merge_request"), int(m.group(2))


NEW_ISSUE_PLACEHOLDER = compose.NEW_ITEM_PLACEHOLDER
