"""What docsgap needs from an issue tracker, in domain types only."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from docsgap.models import IssueDraft, ItemKind, MergeRequestDraft, Note, TrackerItem
from docsgap.tracker.gitlab_rights import WriteRights


class Tracker(Protocol):
    """A GitLab-like tracker bound to one project. Errors are `RemoteError` subclasses."""

    project: str
    """Project path, e.g. `gitlab-org/gitlab`."""

    def doc_items(
        self, updated_after: datetime | None, *, kind: ItemKind | None = None
    ) -> Iterator[TrackerItem]:
        """Issues (any state) then merge requests carrying the docs label, updated after the
        given time (all of them when `None`), each kind oldest update first; `kind` limits it
        to one kind. Pages lazily, following `Link` headers."""
        ...

    def get_item(self, kind: ItemKind, iid: int) -> TrackerItem:
        """Fetch one issue or MR fresh (state for reports and follow-ups)."""
        ...

    def find_issue_with_marker(self, marker: str) -> TrackerItem | None:
        """An issue docsgap (the token's user) opened whose description contains `marker`
        (remote idempotency check; must not rely on the server's text search)."""
        ...

    def open_issue(self, draft: IssueDraft) -> TrackerItem:
        """Create an issue."""
        ...

    def update_issue(self, iid: int, *, title: str | None = None,
                     description: str | None = None) -> TrackerItem:
        """Rewrite an issue's title and/or description in place (the summary issue)."""
        ...

    def notes(self, kind: ItemKind, iid: int) -> list[Note]:
        """All notes of an issue or MR, oldest first."""
        ...

    def add_note(self, kind: ItemKind, iid: int, body: str) -> Note:
        """Add a note."""
        ...

    def update_note(self, kind: ItemKind, iid: int, note_id: int, body: str) -> Note:
        """Replace a note's body (docsgap edits its own evidence note in place)."""
        ...

    def read_file(self, path: str, ref: str | None = None) -> str:
        """A repository file's text on `ref` (default branch when `None`)."""
        ...

    def find_merge_request(self, source_branch: str) -> TrackerItem | None:
        """An MR (any state) from `source_branch`, for idempotent draft MRs."""
        ...

    def rights(self, labels: Sequence[str] = ()) -> WriteRights:
        """What the token may write in the project (labels, pushes, a fork of its own)."""
        ...

    def label_titles(self, names: Sequence[str]) -> dict[str, str | None]:
        """Each name -> the exact title of the existing project or ancestor-group label it
        names (case may differ), or None when the project and its groups have none."""
        ...

    def open_draft_mr(self, draft: MergeRequestDraft) -> TrackerItem:
        """Commit `draft.content` to a new branch and open a Draft MR from it."""
        ...


# --- read-only probes for `docsgap doctor` ---------------------------------------------------


@dataclass(frozen=True)
class TokenInfo:
    """`GET /personal_access_tokens/self` (also project and group access tokens)."""

    name: str
    scopes: tuple[str, ...]
    active: bool = True
    expires_at: date | None = None


@dataclass(frozen=True)
class ProjectInfo:
    """`GET /projects/:id`, the fields the checks use."""

    path: str
    web_url: str
    issues_enabled: bool | None = None
    access_level: int | None = None
    """The token user's highest project or group access level (None: not a member/unknown)."""
    archived: bool = False
    """An archived project is read-only: GitLab refuses every write with 403."""


class TrackerProbe(Protocol):
    """Read-only questions to GitLab: `answers()` proves the URL is a GitLab API (its version
    when it says); `current_user()` is the token's username (`GET /user`); `token_info()` its
    scopes (None when GitLab cannot tell: OAuth, older GitLab); `project()` the configured
    project as the token sees it; `missing_labels(names)` which names are not labels there;
    `owned_fork()` the path of a fork of the project that the token's user owns (draft MRs
    come from there when it may not push). `url` is the instance it asks: gitlab.url, or the
    one python-gitlab's config file names."""

    url: str

    def answers(self) -> str: ...
    def current_user(self) -> str: ...
    def token_info(self) -> TokenInfo | None: ...
    def project(self) -> ProjectInfo: ...
    def missing_labels(self, names: Sequence[str]) -> list[str]: ...
    def owned_fork(self) -> str | None: ...
