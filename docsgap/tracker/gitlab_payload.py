"""GitLab API objects (as dicts) -> docsgap's TrackerItem and Note; pure, no client import."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from docsgap.errors import PayloadError
from docsgap.jsonshape import integer, text
from docsgap.models import ItemKind, Note, TrackerItem

_SHAPE = (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError)
"""What reading a payload of the wrong shape raises (OverflowError: a date near year 1 or
9999 moved to UTC)."""


def item(kind: ItemKind, d: Mapping[str, Any], default_project: str) -> TrackerItem:
    """API object -> TrackerItem; the project path comes from `references.full`. A payload
    of the wrong shape is a `PayloadError`, whichever caller asked."""
    try:
        return _item(kind, d, default_project)
    except _SHAPE as exc:
        what = "issue" if kind == "issue" else "merge request"
        raise PayloadError(
            f"unexpected GitLab payload for an {what}: {type(exc).__name__}: {exc}") from exc


def _item(kind: ItemKind, d: Mapping[str, Any], default_project: str) -> TrackerItem:
    full = str((d.get("references") or {}).get("full") or "")
    sep = "#" if kind == "issue" else "!"
    project = full.rsplit(sep, 1)[0] if sep in full else default_project
    labels = tuple(_label(x) for x in d.get("labels") or ())
    return TrackerItem(
        kind=kind,
        project=project,
        iid=integer(d["iid"]),
        title=_required(d["title"]),
        description=text(d.get("description")) or "",
        state=_required(d["state"]),
        web_url=_required(d["web_url"]),
        labels=labels,
        updated_at=_time(d.get("updated_at")),
        created_at=_time(d.get("created_at")),
        # A merged MR has no closed_at; its merge time closes the loop just the same.
        closed_at=_time(d.get("closed_at") or d.get("merged_at")),
        duplicate_of=_duplicate_of(d) if kind == "issue" else None,
        confidential=kind == "issue" and d.get("confidential") is True,
    )


def _required(value: Any) -> str:
    found = text(value)
    if found is None:
        raise TypeError("expected a string, got null")
    return found


def _label(value: Any) -> str:
    """A label name (`labels`) or a label object's name (`with_labels_details`)."""
    return _required(value["name"] if isinstance(value, dict) else value)


_API_ISSUE_RE = re.compile(r"/projects/([^/]+)/issues/(\d+)/?$")


def _duplicate_of(d: Mapping[str, Any]) -> str | None:
    """The web URL of the issue this one was closed as a duplicate of. GitLab gives its API URL
    (`_links.closed_as_duplicate_of`, by project id); only an issue of the same project can be
    turned into a web URL without another request, and only those are cached anyway."""
    link = (d.get("_links") or {}).get("closed_as_duplicate_of")
    m = _API_ISSUE_RE.search(str(link or ""))
    web = str(d.get("web_url") or "")
    if not m or "/-/issues/" not in web:
        return None
    project, iid = unquote(m.group(1)), m.group(2)
    base = web.rsplit("/-/issues/", 1)[0]  # the project's web URL (maybe under a path prefix)
    if project != str(d.get("project_id")) and not base.endswith(f"/{project}"):
        return None
    return f"{base}/-/issues/{iid}"


def note(d: Any, me: str | None = None) -> Note:
    """API note -> Note (`own` when its author is `me`); a create that made no note (quick
    actions only) is a PayloadError."""
    if not isinstance(d, dict) or "id" not in d:
        raise PayloadError("GitLab created no note (a body of only quick actions?)")
    author = d.get("author")
    name = author.get("username") if isinstance(author, dict) else None
    try:
        return Note(id=integer(d["id"]), body=text(d.get("body")) or "",
                    system=d.get("system") is True,
                    own=me is not None and isinstance(name, str) and name.lower() == me.lower())
    except _SHAPE as exc:
        raise PayloadError(f"unexpected GitLab payload for a note: {exc}") from exc


def _time(value: Any) -> datetime | None:
    """ISO-8601 (`Z` or offset) -> aware UTC datetime."""
    if not value:
        return None
    parsed = datetime.fromisoformat(str(value))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def iso(value: datetime) -> str:
    """Aware UTC ISO-8601 with `Z` (a naive time is taken as UTC)."""
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value.isoformat().replace("+00:00", "Z")
