"""The hidden marker in everything docsgap writes: how a rerun, a lost database or another
run finds what was already written (the idempotency key, percent-encoded so it stays inert)."""

from __future__ import annotations

import re
from urllib.parse import quote, unquote

_MARKER_RE = re.compile(r"<!-- docsgap:key=([A-Za-z0-9%:/._=+,;()\[\]?~-]*) -->")
MARKER_PREFIX = "<!-- docsgap:key="
"""How every marker starts: a cheap pre-filter (e.g. in SQL) before `find_markers`."""


def marker(key: str) -> str:
    """The hidden HTML comment that identifies what docsgap wrote for `key`. The key is
    percent-encoded so it cannot close the comment (`-->`) or mention anyone (`@`)."""
    encoded = quote(key, safe=":/=+,;()[]?")
    encoded = re.sub(r"-(?=-|$)", "%2D", encoded)  # no `--` inside, no `-` before ` -->`
    return f"{MARKER_PREFIX}{encoded} -->"


def find_markers(text: str) -> list[str]:
    """The keys of every docsgap marker in `text`, in order."""
    return [unquote(m.group(1)) for m in _MARKER_RE.finditer(text)]
