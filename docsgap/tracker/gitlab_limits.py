"""What GitLab refuses for its own reasons rather than the token's role, checked before a write
is sent (lengths) or used to explain a 403 after it (an archived project, disabled issues, a
locked discussion). Limits from gitlabhq: `Issuable::TITLE_LENGTH_MAX` (255, after stripping),
`Issuable::DESCRIPTION_LENGTH_MAX` (1.megabyte characters, on create only),
`Gitlab::Database::MAX_TEXT_SIZE_LIMIT` for notes (1,000,000 characters, create and edit)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from docsgap.errors import AuthError, NotFoundError, RemoteError, WriteRejectedError

TITLE_LENGTH_MAX = 255
DESCRIPTION_LENGTH_MAX = 1_048_576
NOTE_LENGTH_MAX = 1_000_000
_PENDING = "nothing was sent; the action stays pending and the next run tries it again"


def check_issuable(doing: str, *, title: str | None = None, description: str | None = None,
                   create: bool = True) -> None:
    """`WriteRejectedError` when GitLab would answer 400 for the title's or (on create) the
    description's length; Python counts characters as Ruby does (code points)."""
    problems = []
    if title is not None and len(title.strip()) > TITLE_LENGTH_MAX:
        problems.append(f"the title has {len(title.strip()):,} characters "
                        f"(GitLab allows {TITLE_LENGTH_MAX})")
    if create and description is not None and len(description) > DESCRIPTION_LENGTH_MAX:
        problems.append(f"the description has {len(description):,} characters "
                        f"(GitLab allows {DESCRIPTION_LENGTH_MAX:,})")
    if problems:
        raise WriteRejectedError(
            f"not {doing}: {'; '.join(problems)}", status=400,
            hint=f"{_PENDING}; shorten the text (`docsgap review` edits a draft)")


def check_note(doing: str, body: str) -> None:
    """`WriteRejectedError` when a note body is longer than GitLab keeps."""
    if len(body) > NOTE_LENGTH_MAX:
        raise WriteRejectedError(
            f"not {doing}: the note has {len(body):,} characters (GitLab allows "
            f"{NOTE_LENGTH_MAX:,})", status=400, hint=f"{_PENDING}; shorten the text")


def forbidden_why(exc: RemoteError, doing: str, project: str, user: str,
                  info: Mapping[str, Any], item: Mapping[str, Any] | None) -> RemoteError:
    """A write's 403 explained from the project (`GET /projects/:id`, read fresh) and the
    issue or MR it was about: archived project or disabled issues (every such write fails:
    `AuthError`), or a locked discussion (only that item: `WriteRejectedError`, so the other
    actions go on). `exc` itself when neither explains it."""
    if info.get("archived"):
        return AuthError(
            f"GitLab refused {doing} (403): {project} is archived, and GitLab takes no writes "
            "in an archived project", status=403,
            hint="nothing was written; unarchive the project (Settings > General > Advanced) "
            "or set gitlab.project to the live docs project, then run again")
    if info.get("issues_enabled") is False and item is None:
        return AuthError(
            f"GitLab refused {doing} (403): issues are disabled in {project}", status=403,
            hint="enable issues in the project, or set gitlab.project to the docs project")
    if item is not None and item.get("discussion_locked"):
        return WriteRejectedError(
            f"GitLab refused {doing} (403): its discussion is locked, and GitLab takes "
            f"comments there only from members of {project} ({user} is not one)", status=403,
            hint="the note stays pending and the next run tries again; ask a maintainer to "
            f"unlock the discussion or to add {user} to the project")
    return exc


def item_gone(exc: NotFoundError, kind: str, iid: int, project: str) -> NotFoundError:
    """A 404 on an issue or MR (not on the project): GitLab answers the same for one deleted,
    moved, or confidential and hidden from the token's user (below Planner, not its author)."""
    if "Project" in str(exc):
        return exc
    noun = "issue" if kind == "issue" else "merge request"
    return NotFoundError(
        f"GitLab: {noun} {project}{'#' if kind == 'issue' else '!'}{iid} is not there for the "
        "token's user: deleted, moved, or confidential (only its author, assignees and "
        "Planners or above see those)", status=exc.status,
        hint="the action stays pending and the next run tries again; if the issue moved, "
        "`docsgap review` can point the thread at the new one")
