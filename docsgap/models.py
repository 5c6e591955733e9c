"""Plain, frozen domain types shared by every stage; no I/O here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Literal


class GapType(StrEnum):
    """The kinds of documentation gap a forum post can report."""

    INCORRECT = "incorrect"
    OUTDATED = "outdated"
    CONFUSING = "confusing"
    MISSING = "missing"
    BROKEN_LINK = "broken_link"


# --- forum side -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Post:
    """One forum post, as docsgap needs it."""

    id: int
    topic_id: int
    number: int
    username: str
    created_at: datetime
    cooked: str
    """Discourse's rendered HTML."""
    raw: str | None = None
    """The Markdown source, when the endpoint returned it (docsgap asks with include_raw)."""
    staff: bool = False
    post_type: int = 1
    """1 regular, 2 moderator action, 3 small action, 4 whisper."""
    withheld: str | None = None
    """Why docsgap must not use this post (deleted, hidden after flags, withdrawn by its
    author, or in a topic docsgap must not read); its text is then emptied by the adapter,
    keeping only docsgap's own markers."""
    accepted: bool = False
    """Marked as the topic's solution (Discourse's solved plugin)."""


@dataclass(frozen=True, slots=True)
class Thread:
    """A forum topic with all of its visible posts, oldest first."""

    id: int
    slug: str
    title: str
    url: str
    posts: tuple[Post, ...]
    category_id: int | None = None
    tags: tuple[str, ...] = ()
    closed: bool = False
    archived: bool = False
    created_at: datetime | None = None
    last_posted_at: datetime | None = None
    withheld: str | None = None
    """Why docsgap must not use this topic at all (deleted, a private message, a
    read-restricted category); every post is then withheld too."""
    accepted_answer: int | None = None
    """The post number marked as the solution (Discourse's solved plugin), if any."""


@dataclass(frozen=True, slots=True)
class PostRef:
    """Where a post docsgap wrote (or found) lives."""

    id: int
    topic_id: int
    number: int
    url: str


# --- detection ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DocPage:
    """A documentation page named in a post: the URL and, when known, its source file."""

    url: str
    """The URL as normalised (scheme, host, path); unknown hosts keep the URL as written."""
    project: str | None = None
    """GitLab project path holding the source, e.g. `gitlab-org/gitlab`."""
    path: str | None = None
    """Best-guess source file, e.g. `doc/ci/yaml/_index.md`."""
    section: str | None = None
    """The URL anchor (a heading slug), if any."""

    @property
    def key(self) -> str:
        """What identifies the page for grouping and idempotency: source file, else URL."""
        return f"{self.project}:{self.path}" if self.path else self.url


@dataclass(frozen=True, slots=True)
class Evidence:
    """One piece of text that made a rule fire."""

    rule_id: str
    text: str
    """The sentence (or span) that fired, trimmed."""
    matched: str
    """The words the rule matched inside `text`."""
    post_number: int | None = None


@dataclass(frozen=True, slots=True)
class Detection:
    """The verdict on one text (a post or a whole thread)."""

    is_gap: bool
    gap_type: GapType | None
    score: float
    rules: tuple[str, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    pages: tuple[DocPage, ...] = ()
    cancelled_by: tuple[str, ...] = ()
    """Rule ids of cancellers that vetoed matches (explains a quiet verdict)."""


@dataclass(frozen=True, slots=True)
class Signal:
    """A docs gap detected in a forum thread, ready for deduplication."""

    thread_id: int
    thread_title: str
    thread_url: str
    gap_type: GapType
    score: float
    rules: tuple[str, ...]
    evidence: tuple[Evidence, ...]
    page: DocPage | None
    post_number: int
    existing_links: tuple[str, ...] = ()
    """GitLab issue/MR URLs already posted in the thread by someone."""
    docs_note: str = ""
    """What the local docs index says about this gap (see `docsgap.docs.checks`), for the issue."""

    @property
    def key(self) -> str:
        """Stable identity: thread, gap type and page (rule ids may change between versions)."""
        page = self.page.key if self.page else "-"
        return f"t{self.thread_id}:{self.gap_type.value}:{page}"


# --- tracker side ---------------------------------------------------------------------------

ItemKind = Literal["issue", "merge_request"]


@dataclass(frozen=True, slots=True)
class TrackerItem:
    """A GitLab issue or merge request as kept in the local cache."""

    kind: ItemKind
    project: str
    iid: int
    title: str
    description: str
    state: str
    """`opened`, `closed`, `merged` or `locked`."""
    web_url: str
    labels: tuple[str, ...] = ()
    updated_at: datetime | None = None
    created_at: datetime | None = None
    closed_at: datetime | None = None
    duplicate_of: str | None = None
    """Web URL of the issue this one was closed as a duplicate of (`/duplicate`), when known."""
    confidential: bool = False
    """A confidential issue: only project members (Planner and up) and its author can open it."""

    @property
    def ref(self) -> str:
        """`group/project#12` or `group/project!34`."""
        return f"{self.project}{'#' if self.kind == 'issue' else '!'}{self.iid}"


@dataclass(frozen=True, slots=True)
class Note:
    """A comment on an issue or merge request."""

    id: int
    body: str
    system: bool = False
    own: bool = False
    """Written by the token's user: only such a note's marker counts (markers are public text,
    anyone can copy one into a comment)."""


@dataclass(frozen=True, slots=True)
class IssueDraft:
    """What docsgap asks GitLab to create."""

    title: str
    description: str
    labels: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class MergeRequestDraft:
    """A draft MR: one file change on a new branch."""

    title: str
    description: str
    source_branch: str
    target_branch: str
    file_path: str
    content: str
    commit_message: str
    labels: tuple[str, ...] = ()
    source_project: str | None = None
    """A fork (its path) to commit in and open the MR from, when the token may not push to
    the project itself; `None`: a branch of the project."""
    owner_labels: tuple[IssueLabel, ...] = ()
    """The file's owners as labels (`gitlab.owner_labels`, from its front matter), each with
    why; added on --apply only when the project or its groups have them."""


# --- dedup ----------------------------------------------------------------------------------

Decision = Literal["link", "review", "new"]


@dataclass(frozen=True, slots=True)
class Candidate:
    """One tracker item scored against a signal, with the reasons for the score."""

    url: str
    title: str
    state: str
    score: float
    fields: tuple[tuple[str, float], ...] = ()
    """Score per field, e.g. (("title", 81.0), ("body", 64.5))."""
    shared_words: tuple[str, ...] = ()
    page_match: bool = False
    via: str = ""
    """The duplicate the report matched, when this item is the one it was closed into."""
    continues: str = ""
    """The closed issue the report matched, when this open item references and continues it."""
    confidential: bool = False
    """The item is confidential: forum readers cannot open a link to it."""


@dataclass(frozen=True, slots=True)
class MatchResult:
    """The dedup decision for one signal and why."""

    decision: Decision
    best: Candidate | None
    candidates: tuple[Candidate, ...] = ()
    reason: str = ""


# --- plan and outcomes ----------------------------------------------------------------------


class ActionKind(StrEnum):
    """What docsgap can write; each kind has its own policy (off, review, auto)."""

    OPEN_ISSUE = "open_issue"
    LINK_EXISTING = "link_existing"
    REPLY = "reply"
    OPEN_DRAFT_MR = "open_draft_mr"
    FOLLOWUP = "followup"
    DOCS_REPLY = "docs_reply"
    """A docs-first reply: the docs page (and section) that answers an unanswered question."""


@dataclass(frozen=True, slots=True)
class IssueLabel:
    """A label an issue docsgap opens gets, and why (the setting, or the page's front
    matter)."""

    name: str
    why: str
    owner: bool = False
    """Names the page's owners (`gitlab.owner_labels`): applied only when the project or one
    of its groups has the label, so a typo'd front matter creates no label."""


@dataclass(frozen=True, slots=True)
class Action:
    """One planned write with its idempotency key and the reason it is allowed."""

    kind: ActionKind
    key: str
    reason: str
    thread_ids: tuple[int, ...]
    signal_keys: tuple[str, ...] = ()
    target_url: str | None = None
    """The existing issue/MR (link, follow-up) or `None` when it will be created."""
    depends_on: str | None = None
    """Key of the action whose result (e.g. the new issue URL) this one needs."""
    title: str = ""
    body: str = ""
    """The exact text to post (may hold `{issue_url}` until its dependency is applied)."""
    needs_review: bool = False
    """A person must accept it even under an `auto` policy (e.g. a docs index suggestion)."""
    labels: tuple[IssueLabel, ...] = ()
    """The labels of the issue it opens, each with its reason (empty: the configured ones)."""
    labels_note: str = ""
    """Why the issue gets no owner labels, when it gets none."""


@dataclass(frozen=True, slots=True)
class Skip:
    """A signal or action docsgap chose not to act on, and why."""

    subject: str
    reason: str


@dataclass(frozen=True, slots=True)
class Plan:
    """Everything a run would do, in order, plus what it skipped."""

    actions: tuple[Action, ...] = ()
    skips: tuple[Skip, ...] = ()
    signals: tuple[Signal, ...] = ()
    matches: tuple[tuple[str, MatchResult], ...] = ()
    """(signal key, match) for every signal."""


OutcomeStatus = Literal[
    "applied", "already_done", "failed", "pending_review", "dry_run", "queued", "held"]
"""`queued`: a forum reply Discourse holds for a moderator's approval (not yet visible).
`held`: a forum post not sent this run, as the forum rate limits the bot's posts for longer
than the run waits (`act/held.py`); a later run sends it."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one action."""

    action: Action
    status: OutcomeStatus
    remote_url: str | None = None
    error: str | None = None
    note: str | None = None
    """What a done write left out, e.g. owner labels the project does not have."""


@dataclass(frozen=True, slots=True)
class RunResult:
    """Everything a `run` produced; feeds the summary, the report and the exit code."""

    plan: Plan
    outcomes: tuple[Outcome, ...] = ()
    threads_scanned: int = 0
    requests: tuple[tuple[str, int], ...] = field(default_factory=tuple)

    @property
    def failed(self) -> bool:
        """True when any action failed."""
        return any(o.status == "failed" for o in self.outcomes)
