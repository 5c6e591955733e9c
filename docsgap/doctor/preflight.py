"""Before the first write: check every credential and scope the plan's writes need, so a missing
forum key or a read-only GitLab token stops `run --apply` (and `followup`, `mr`) with nothing
written and exit 5, instead of half a plan and a string of 403s.

The checks are `docsgap doctor`'s own (forum key and bot user; GitLab token, scopes, project),
run only for the services the plan writes to, so whatever doctor learns to check, this checks.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from docsgap.act.plan import mode_of
from docsgap.act.summary_issue import SUMMARY_CURSOR
from docsgap.config import Config
from docsgap.doctor import Check, remote_checks
from docsgap.errors import DocsgapError, ExitCode
from docsgap.forum.interface import ForumProbe
from docsgap.models import Action, ActionKind, Plan
from docsgap.state import StateStore
from docsgap.tracker.gitlab_rights import needed_labels
from docsgap.tracker.interface import Tracker, TrackerProbe

FORUM_WRITES = frozenset({ActionKind.REPLY, ActionKind.FOLLOWUP, ActionKind.DOCS_REPLY})
GITLAB_WRITES = frozenset({ActionKind.OPEN_ISSUE, ActionKind.LINK_EXISTING,
                           ActionKind.OPEN_DRAFT_MR})
NOT_BLOCKING = frozenset({"gitlab labels"})
"""Doctor checks that do not stop a run: GitLab creates a missing label when it is first used."""

_NOUNS = {ActionKind.OPEN_ISSUE: ("new issue", "new issues"),
          ActionKind.LINK_EXISTING: ("evidence note", "evidence notes"),
          ActionKind.OPEN_DRAFT_MR: ("draft MR", "draft MRs"),
          ActionKind.REPLY: ("reply", "replies"), ActionKind.FOLLOWUP: ("follow-up", "follow-ups"),
          ActionKind.DOCS_REPLY: ("docs-first reply", "docs-first replies")}


class PreflightError(DocsgapError):
    """A credential or scope the planned writes need does not work; nothing was written."""

    def __init__(self, message: str, *, exit_code: ExitCode, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.exit_code = exit_code


@dataclass(frozen=True)
class Needs:
    """What the writes of a plan need: a working forum key, a GitLab token with `api`."""

    forum: tuple[str, ...] = ()
    """What would be posted in the forum, e.g. "3 replies"."""
    gitlab: tuple[str, ...] = ()
    """What would be written in GitLab, e.g. "2 new issues", "the summary issue"."""
    labelled: bool = False
    """Issues docsgap labels are among them: the token's user must be able to set labels."""

    def __bool__(self) -> bool:
        return bool(self.forum or self.gitlab)


def needs_of(actions: Sequence[Action], config: Config, verdicts: Mapping[str, str],
             done: Collection[str] = (), *, extra_gitlab: Sequence[str] = (),
             extra_labelled: bool = True) -> Needs:
    """The credentials the actions that will really write need: automatic or accepted, not
    done yet, and not waiting on an action that itself waits (for a reviewer). The
    `extra_gitlab` writes set labels when `extra_labelled` (the summary issue does only when
    it is created)."""
    writing: set[str] = set()
    counts: Counter[ActionKind] = Counter()
    for a in actions:
        if a.key in done or mode_of(a, config, verdicts) not in ("auto", "accepted"):
            continue
        if a.depends_on and a.depends_on not in done and a.depends_on not in writing:
            continue
        writing.add(a.key)
        counts[a.kind] += 1

    def said(kinds: frozenset[ActionKind]) -> tuple[str, ...]:
        return tuple(f"{n} {_NOUNS[k][n > 1]}" for k, n in counts.items() if k in kinds)

    return Needs(said(FORUM_WRITES), (*said(GITLAB_WRITES), *extra_gitlab),
                 labelled=bool(counts[ActionKind.OPEN_ISSUE]
                               or (extra_gitlab and extra_labelled)))


@dataclass(frozen=True)
class Preflight:
    """The checks with the probes they use (`docsgap.loop.services` builds the real ones; a `None`
    probe checks nothing, as CLI tests over fakes want)."""

    forum: Callable[[Config], ForumProbe] | None
    tracker: Callable[[Config], TrackerProbe] | None

    def check(self, needs: Needs, config: Config) -> None:
        """Raise `PreflightError` listing every check that fails for what `needs` says: exit
        5 for credentials and scopes, 6 when a service does not answer. No request when
        nothing writes."""
        # A configured forum key is used by GitLab writes too (the thread is read again with
        # it first): a wrong one failed every issue, exit 7, on every rerun.
        uses_key = needs.gitlab and config.forum.api_key
        forum = self.forum if needs.forum or uses_key else None
        tracker = self.tracker if needs.gitlab else None
        if forum is None and tracker is None:
            return
        gitlab = (lambda cfg: _without_labels(tracker(cfg))) if tracker is not None else None
        report = remote_checks(config, forum=forum, tracker=gitlab)
        failed = [c for c in report.failed if c.name not in NOT_BLOCKING]
        if not failed:
            return
        wanted = [*needs.gitlab, *needs.forum]
        lines = "\n".join(f"  {c.name}: {c.detail}" + (f"\n    fix: {c.fix}" if c.fix else "")
                          for c in failed)
        raise PreflightError(
            f"nothing written: the plan's writes ({', '.join(wanted)}) need credentials that "
            f"do not work:\n{lines}",
            exit_code=_exit_code(failed),
            hint="fix the above (`docsgap doctor` checks it all), then run again",
        )

    def check_plan(self, plan: Plan, config: Config, store: StateStore,
                   tracker: Tracker | None = None, *, summary_issue: bool = False) -> None:
        """`check` for what `plan` will write, given the verdicts and the ledger in `store`
        (and the summary issue, when the run will rewrite it); then, when it opens labelled
        issues, that `tracker`'s user may set and create the labels (GitLab drops them
        silently otherwise)."""
        done = {r["key"] for r in store.ledger() if r["status"] == "done"}
        extra = ("the summary issue",) if summary_issue else ()
        # Rewriting a summary issue docsgap knows sets no label: no label lookups for it.
        needs = needs_of(plan.actions, config, store.verdicts(), done, extra_gitlab=extra,
                         extra_labelled=not store.cursor(SUMMARY_CURSOR))
        self.check(needs, config)
        if needs.labelled and tracker is not None:
            g = config.gitlab
            labels = needed_labels(g.issue_labels, g.marker_label, list(g.labels_by_gap.values()))
            tracker.rights(labels).require_labels(g.project)


NO_PREFLIGHT = Preflight(None, None)
"""Checks nothing (CLI tests over in-memory fakes)."""


def _without_labels(probe: TrackerProbe) -> TrackerProbe:
    """`probe` without the label lookups (a request per label; they never block a run)."""
    return cast(TrackerProbe, _LabelsSkipped(probe))


class _LabelsSkipped:
    def __init__(self, probe: TrackerProbe) -> None:
        self._probe = probe

    def __getattr__(self, name: str) -> Any:
        return getattr(self._probe, name)

    def missing_labels(self, names: Sequence[str]) -> list[str]:
        return []


def _exit_code(failed: Sequence[Check]) -> ExitCode:
    if any(c.name.endswith(" url") for c in failed):
        return ExitCode.UPSTREAM  # the service did not answer: not a credential problem
    return ExitCode.AUTH
