"""The configuration's shape: frozen dataclasses, one per docsgap.toml section, with their
defaults; which keys are secrets and how a secret is shown. No I/O here (`load` reads)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, get_args

from docsgap.models import ActionKind

PolicyMode = Literal["off", "review", "auto"]
POLICY_MODES: tuple[str, ...] = get_args(PolicyMode)


@dataclass(frozen=True)
class ForumConfig:
    """[forum]: the Discourse site."""

    url: str = "https://forum.gitlab.com"
    api_username: str | None = None
    api_key: str | None = field(default=None, repr=False)
    """Secret: from DOCSGAP_DISCOURSE_API_KEY only, never from the file."""
    initial_pages: int = 4
    """First run: how many pages of 50 latest posts to read."""
    max_requests: int = 50
    """Requests per run; Discourse admin keys share 60/min site-wide."""
    rate_limit_per_minute: int = 60
    """The site's request rate for the key (Discourse's admin-key default: 60), for the cost
    a first scan announces and the time left the progress shows."""
    max_post_chars: int = 200_000
    """Longer posts are judged on their first this many characters (said in the evidence)."""
    timeout: float = 30.0
    bot_usernames: tuple[str, ...] = ("docsgap-bot",)
    staff_usernames: tuple[str, ...] = ()
    ignore_categories: tuple[int, ...] = ()
    ignore_tags: tuple[str, ...] = ("docsgap-ignore",)


@dataclass(frozen=True)
class GitLabConfig:
    """[gitlab]: the project where doc issues live."""

    url: str = "https://gitlab.com"
    project: str = "gitlab-org/gitlab"
    token: str | None = field(default=None, repr=False)
    """Secret: from DOCSGAP_GITLAB_TOKEN (or python-gitlab's config / CI_JOB_TOKEN)."""
    token_kind: Literal["private", "job", "oauth"] = "private"
    docs_label: str = "documentation"
    """Only issues/MRs with this label are cached and matched."""
    marker_label: str = "docsgap"
    issue_labels: tuple[str, ...] = ("documentation", "docs-feedback")
    labels_by_gap: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: {"missing": ("docs-missing",), "broken_link": ("docs-broken-link",)}
    )
    owner_labels: tuple[str, ...] = ("devops::{stage}", "group::{group}")
    """Labels naming the docs page's owners, from its front matter (`docsgap docs sync`):
    `{stage}` and `{group}` as GitLab writes stage and group labels (lower case), `{Stage}`
    and `{Group}` as written. Only labels that already exist in the project or its groups are
    applied; `[]` turns them off."""
    target_branch: str = "master"
    wontdo_labels: tuple[str, ...] = (
        "won't do", "wontfix", "declined", "duplicate", "workflow::won't do",
    )
    """A closed issue with one of these labels was declined: no follow-up in the thread."""
    max_requests: int = 1000
    timeout: float = 30.0
    python_gitlab_id: str | None = None
    """Section of python-gitlab's config file to read url and token from."""
    summary_issue: bool = False
    """Keep one summary issue in the project, rewritten in place by each `run --apply`."""
    summary_title: str = "docsgap summary: forum docs gaps"


SCORE_RANGE = (0.0, 100.0)
"""The range of match scores, so of `link_threshold` and `review_threshold` (the one place to
change if the matcher's scale changes)."""


@dataclass(frozen=True)
class DedupConfig:
    """[dedup]: match thresholds (within `SCORE_RANGE`): the probability in percent that the
    best candidate is the report's original (the fitted ranker's, `docsgap/dedupe/RANKER.md`)."""

    link_threshold: float = 70.0
    """Link automatically at and above this (chosen on dev for link precision >= 0.97)."""
    review_threshold: float = 10.0
    """A person decides between this and `link_threshold`; below it the gap is new (chosen on dev:
    90% of right best candidates are above it)."""
    closed_within_days: int = 365


@dataclass(frozen=True)
class DocsConfig:
    """[docs]: the local index of the docs pages (`docsgap docs sync`) and what is suggested
    from it."""

    projects: tuple[str, ...] = ("gitlab-org/gitlab",)
    """Docs projects to index; their docs folders come from the docs map."""
    ref: str = "master"
    url: str | None = None
    """GitLab holding the docs projects (default: gitlab.url)."""
    path: str | None = None
    """A local checkout to index instead of downloading (one project)."""
    answer_threshold: float = 0.33
    """Docs-first replies: the answerability gate's probability (0-1) that the best section is
    the answer; the shipped gate's cross-validated threshold (`docsgap/docs/answer_gate.json`,
    README)."""
    unanswered_hours: float = 24.0
    """Docs-first replies: only to questions this old without an accepted or staff answer."""
    cover_threshold: float = 0.75
    """A "missing" gap is downgraded to "confusing" when a section covers it this well (0-1,
    cosine similarity: `DocsIndex.similar`)."""
    spike_days: int = 7
    """Spike alert: the recent window, in days."""
    spike_baseline_days: int = 56
    """Spike alert: the period before the window whose rate is the page's usual rate."""
    spike_factor: float = 3.0
    """Spike alert: recent threads must exceed this many times the usual rate."""
    spike_min_threads: int = 3
    """Spike alert: and be at least this many."""
    spike_mention: str | None = None
    """Spike alert: a group to @mention in one comment on the summary issue per spike."""


@dataclass(frozen=True)
class PolicyConfig:
    """[policy]: off | review | auto for each kind of write."""

    open_issue: PolicyMode = "review"
    link_existing: PolicyMode = "review"
    reply: PolicyMode = "review"
    open_draft_mr: PolicyMode = "review"
    followup: PolicyMode = "review"
    docs_reply: PolicyMode = "review"
    """A docs-first reply linking the docs section that answers an unanswered question."""
    docs_check: PolicyMode = "review"
    """Check "missing" gaps against the docs index (evidence; a covered one becomes confusing)."""
    docs_moved: PolicyMode = "review"
    """Check reported pages against the docs index (gone or moved: `broken_link`)."""

    def mode(self, kind: ActionKind) -> PolicyMode:
        """The mode for an action kind."""
        mode: PolicyMode = getattr(self, kind.value)
        return mode


@dataclass(frozen=True)
class Config:
    """Everything a run needs; library users build it directly or with `load_config`."""

    forum: ForumConfig = field(default_factory=ForumConfig)
    gitlab: GitLabConfig = field(default_factory=GitLabConfig)
    dedup: DedupConfig = field(default_factory=DedupConfig)
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    docs: DocsConfig = field(default_factory=DocsConfig)
    state_path: Path = Path(".docsgap/state.db")
    rules_dirs: tuple[Path, ...] = ()
    """Extra rules directories; their files add to or override the shipped ones by name."""
    templates_dir: Path | None = None
    """Outbound-text templates; a file here replaces the shipped one of the same name."""
    max_actions: int = 20
    source: str = "defaults"
    unnamed: tuple[str, ...] = ()
    """Which of `TARGET_KEYS` no file, variable or flag named (`load_config` fills it): they hold
    the built-in defaults, and `require_target` refuses to contact anything until they are
    named. A Config built directly names everything it was given."""
    origins: tuple[tuple[str, str], ...] = ()
    """(`section.key`, where it was set: the file, an environment variable, the command line)
    for every key `load_config` did not leave at its default."""


TARGET_KEYS = (("forum", "url"), ("gitlab", "project"))
"""What a run talks to and must be told: never GitLab.com and its forum by default."""


SECRET_KEYS = {"api_key", "token"}
"""Keys only the environment or a flag may set, never the file."""


def mask(secret: str | None) -> str:
    """How a secret appears in any output: never its value."""
    return "(not set)" if not secret else "****"

