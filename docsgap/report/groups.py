"""Which product group owns a report row: the `group::` label GitLab's docs team triaged
the issue with, else the docs page's front matter `group` (the docs index keeps it). Lower
case, as gitlab-org's group labels write it."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from docsgap.state import StateStore

GROUP_PREFIX = "group::"
"""gitlab-org's group labels (`group::pipeline authoring`): how an issue names its owners."""
_NO_GROUP = frozenset({"", "none", "unassigned", "n/a", "tbd", "-"})


def label_group(labels: Sequence[str]) -> str | None:
    """The group a `group::` label names, if the labels hold one."""
    return next((x[len(GROUP_PREFIX):].strip().lower() for x in labels
                 if x.lower().startswith(GROUP_PREFIX) and x[len(GROUP_PREFIX):].strip()), None)


def owner_group(labels: Sequence[str], page_group: str | None) -> str | None:
    """The owning group: from a `group::` label, else from the page's front matter (`none`,
    `unassigned` name nobody), lower case; None when neither names one."""
    found = label_group(labels)
    if found:
        return found
    value = " ".join((page_group or "").split()).lower()
    return None if value in _NO_GROUP else value


def same_group(group: str | None, wanted: str) -> bool:
    """`wanted` (`pipeline authoring`, `group::Pipeline Authoring`, or `none` for rows no
    group owns) names `group`."""
    name = " ".join(wanted.split()).lower().removeprefix(GROUP_PREFIX).strip()
    return group is None if name in _NO_GROUP else group == name


def page_groups(store: StateStore) -> dict[str, str]:
    """Source path and today's URL of every indexed docs page -> its front matter group (one
    query; empty without a docs index, or in a state from before docsgap kept owners)."""
    try:
        found = store.db.execute(
            "select path, url, owner_group from docs_pages where owner_group != ''").fetchall()
    except sqlite3.OperationalError:
        return {}
    return {k: str(g) for path, url, g in found for k in (path, url) if k}
