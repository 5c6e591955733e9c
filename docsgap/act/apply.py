"""Carry out a Plan exactly once in effect: check the ledger, then the remote marker, then write,
then record the result at once. Per-action failures become `failed` outcomes, never an abort."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from docsgap import compose
from docsgap.act import replyqueue
from docsgap.act.forumwrites import ForumWrites, Skipped
from docsgap.act.held import FORUM_WRITES, held_reason
from docsgap.act.items import parse_item_url
from docsgap.act.labels import issue_labels
from docsgap.act.plan import mode_of
from docsgap.config import Config
from docsgap.errors import (
    RateLimitedError,
    RemoteError,
    RepliesHeldError,
)
from docsgap.forum.interface import Forum
from docsgap.models import (
    Action,
    ActionKind,
    IssueDraft,
    Outcome,
    OutcomeStatus,
    Plan,
    Signal,
    Thread,
    TrackerItem,
)
from docsgap.state import StateStore
from docsgap.tracker.interface import Tracker

log = logging.getLogger(__name__)

WAIT_REVIEW = "would wait for review"


def _edited_issue(draft: IssueDraft, edited: str) -> IssueDraft:
    """Apply a reviewer's edit of the issue preview (`Title:` / `Labels:` header, then body)."""
    head, _, body = edited.partition("\n\n")
    title = draft.title
    labels = draft.labels
    for line in head.splitlines():
        if line.startswith("Title:"):
            title = line.removeprefix("Title:").strip() or title
        elif line.startswith("Labels:"):
            labels = tuple(x.strip() for x in line.removeprefix("Labels:").split(",") if x.strip())
    return IssueDraft(title, body or draft.description, labels)


@dataclass
class Applier(ForumWrites):
    """Executes plans against a Forum and a Tracker, recording everything in the state; the
    forum side (replies, follow-ups, docs-first replies, the checks before each) is
    `ForumWrites`."""

    forum: Forum
    tracker: Tracker
    store: StateStore
    config: Config
    signals: Mapping[str, Signal]
    results: dict[str, str] = field(default_factory=dict)
    """Action key -> remote URL, for actions that depend on an earlier one."""
    statuses: dict[str, OutcomeStatus] = field(default_factory=dict)
    """Action key -> this run's outcome status."""
    notes: dict[str, str] = field(default_factory=dict)
    """Action key -> what its write left out (owner labels the project lacks)."""
    fresh: dict[int, Thread] = field(default_factory=dict)
    """Threads read this run, for the checks before a write (dropped once docsgap posts)."""
    idle: dict[str, str] = field(default_factory=dict)
    """In a dry run, action key -> why it would not write (the actions waiting on it then
    would not either)."""
    progress: Callable[[str, int, int], None] | None = None
    """Told ("apply", done, total) before each action of a writing run (each is a request or
    three, and a rate-limited site makes them slow)."""
    held: str | None = None
    """Why the forum holds the bot's posts for the rest of the run, once it does: the later
    forum writes are then not sent (`act/held.py`)."""

    def apply(self, plan: Plan, *, write: bool) -> list[Outcome]:
        """Run every action; without `write` only report what would happen."""
        verdicts = {r["key"]: r["verdict"] for r in self.store.db["verdicts"].rows}
        outcomes: list[Outcome] = []
        for n, action in enumerate(plan.actions):
            if write and self.progress is not None:
                self.progress("apply", n, len(plan.actions))
            outcomes.append(self._one(action, verdicts, write=write))
            self.statuses[action.key] = outcomes[-1].status
            if not write and outcomes[-1].status == "dry_run" and outcomes[-1].error:
                self.idle[action.key] = outcomes[-1].error
            if outcomes[-1].status == "failed" and outcomes[-1].error and (
                "budget" in outcomes[-1].error or "rate limit" in outcomes[-1].error
            ):
                break
        return outcomes

    def _one(self, action: Action, verdicts: Mapping[str, str], *, write: bool) -> Outcome:
        done = self.store.ledger_entry(action.key)
        if done and done["status"] == "done":
            self.results[action.key] = done["remote_url"] or ""
            return Outcome(action, "already_done", done["remote_url"])
        if done and done["status"] == "rejected":  # by a forum moderator: not reposted
            return Outcome(action, "dry_run", error=f"not applied: {done['error']}")
        mode = mode_of(action, self.config, verdicts)
        if mode in ("off", "rejected"):
            return Outcome(action, "dry_run", error=f"not applied: {mode}")
        if action.depends_on and action.depends_on not in self.results and write:
            # Only a failed dependency is a failure; one waiting for review (or off) just waits.
            dep = self.statuses.get(action.depends_on)
            status: OutcomeStatus = ("failed" if dep in (None, "failed")
                                     else "pending_review" if dep == "pending_review"
                                     else "dry_run")
            return Outcome(action, status, error=f"waits for {action.depends_on}")
        if not write:
            held = self.idle.get(action.depends_on or "")
            if held is not None and action.depends_on not in self.results:
                # As `--apply` will say: a write waiting on one that is not made waits too.
                return Outcome(action, "dry_run", error=WAIT_REVIEW if held == WAIT_REVIEW
                               else f"waits for {action.depends_on}")
            return Outcome(action, "dry_run", error=None if mode in ("auto", "accepted") else
                           WAIT_REVIEW)
        if mode == "review":
            if not done or done["status"] != "pending_review":
                self.store.ledger_start(action.key, action.kind.value, action.thread_ids,
                                        action.reason)
                self.store.ledger_finish(action.key, "pending_review")
            return Outcome(action, "pending_review")
        if self.held is not None and action.kind in FORUM_WRITES:
            return Outcome(action, "held", error=self.held)
        try:
            url = self._write(action, retrying=bool(done and done["status"] == "started"))
        except Skipped as skip:
            self.store.ledger_start(action.key, action.kind.value, action.thread_ids, action.reason)
            self.store.ledger_finish(action.key, "done", remote_url=skip.url, error=str(skip))
            if skip.url:
                self.results[action.key] = skip.url
            return Outcome(action, "already_done", skip.url, error=str(skip))
        except replyqueue.Queued as queued:
            replyqueue.record(self.store, action, "queued", str(queued))
            return Outcome(action, "queued", error=str(queued))
        except replyqueue.Rejected as rejected:  # reported (exit 7) once, then never reposted
            replyqueue.record(self.store, action, "rejected", str(rejected))
            return Outcome(action, "failed", error=str(rejected))
        except RepliesHeldError as exc:  # this post and the run's later ones wait for a later run
            self.held = held_reason(exc)
            self.store.ledger_finish(action.key, replyqueue.kept(done), error=f"rate limit: {exc}")
            return Outcome(action, "held", error=self.held)
        except RateLimitedError as exc:
            self.store.ledger_finish(action.key, replyqueue.kept(done), error=f"rate limit: {exc}")
            return Outcome(action, "failed", error=f"rate limit: {exc}")
        except RemoteError as exc:
            log.warning("%s failed: %s", action.key, exc)
            self.store.ledger_finish(action.key, replyqueue.kept(done), error=str(exc))
            return Outcome(action, "failed", error=str(exc))
        self.results[action.key] = url
        return Outcome(action, "applied", url, note=self.notes.get(action.key))

    def _members(self, action: Action) -> list[Signal]:
        return [self.signals[k] for k in action.signal_keys if k in self.signals]

    def _write(self, action: Action, *, retrying: bool) -> str:
        if action.kind is ActionKind.OPEN_ISSUE:
            return self._open_issue(action, retrying=retrying)
        if action.kind is ActionKind.LINK_EXISTING:
            return self._link(action)
        if action.kind is ActionKind.REPLY:
            return self._reply(action)
        if action.kind is ActionKind.FOLLOWUP:
            return self._followup(action)
        if action.kind is ActionKind.DOCS_REPLY:
            return self._docs_reply(action)
        raise Skipped(f"{action.kind.value} is done by its own command")

    # each writer: look for the marker remotely first, then write, then record at once --------
    def _open_issue(self, action: Action, *, retrying: bool) -> str:
        members = self._usable(self._members(action))
        mark = compose.marker(action.key)
        # Not the local cache: anyone can copy a marker into a docs-labelled issue. GitLab lists
        # the token user's own issues (one listing per run); a duplicate would be worse.
        found = self.tracker.find_issue_with_marker(mark)
        if found is not None:
            self._record_issue(found, members)
            raise Skipped("issue with this marker already exists", found.web_url)
        labels, note = issue_labels(action, members[0].gap_type, self.config, self.tracker,
                                    self.store)
        if note:
            self.notes[action.key] = note
        draft = compose.issue_draft(members, labels=labels, key=action.key,
                                    templates=self.config.templates_dir)
        edited = self._edited(action)
        if edited:  # a reviewer's labels, less the owner labels the project turned out to lack
            left_out = {a.name for a in action.labels if a.owner} - set(labels)
            draft = _edited_issue(draft, edited)
            draft = IssueDraft(draft.title, draft.description,
                               tuple(n for n in draft.labels if n not in left_out))
        self.store.ledger_start(action.key, action.kind.value, action.thread_ids, action.reason)
        item = self.tracker.open_issue(draft)
        self.store.ledger_finish(action.key, "done", remote_url=item.web_url)
        self._record_issue(item, members)
        return item.web_url

    def _record_issue(self, item: TrackerItem, members: Sequence[Signal]) -> None:
        self.store.upsert_items([item])
        for s in members:
            self.store.record_link(s.thread_id, item.web_url, source="docsgap", signal_key=s.key,
                                   gap_type=s.gap_type.value,
                                   page_url=s.page.url if s.page else None)

    def _link(self, action: Action) -> str:
        assert action.target_url
        url = action.target_url
        members = self._usable(self._members(action))
        item = self.store.item(url)
        kind, iid = parse_item_url(url)
        if item is not None and item.state != "opened":
            self._record_links(url, members)
            raise Skipped(f"linked only: {url} is {item.state}, no note added", url)
        linked = {r["signal_key"] for r in self.store.links() if r["item_url"] == url}
        linked.update(s.key for s in members)
        all_signals = self._usable([s for k, s in self.signals.items() if k in linked]) or members
        body = self._edited(action) or compose.evidence_note(
            url, all_signals, key=action.key, templates=self.config.templates_dir)
        mark = compose.marker(action.key)
        existing = next((n for n in self.tracker.notes(kind, iid) if n.own and mark in n.body),
                        None)
        self.store.ledger_start(action.key, action.kind.value, action.thread_ids, action.reason)
        if existing is None:
            self.tracker.add_note(kind, iid, body)
        elif existing.body.strip() != body.strip():
            self.tracker.update_note(kind, iid, existing.id, body)
        self.store.ledger_finish(action.key, "done", remote_url=url)
        # Links are recorded only after the note exists: a crash before it leaves the signal
        # unlinked, so the next run plans the link again (and finds the note by its marker).
        self._record_links(url, members)
        return url

    def _record_links(self, url: str, members: Sequence[Signal]) -> None:
        for s in members:
            self.store.record_link(s.thread_id, url, source="docsgap", signal_key=s.key,
                                   gap_type=s.gap_type.value,
                                   page_url=s.page.url if s.page else None)

    def _edited(self, action: Action) -> str | None:
        """The reviewer's edited text for this action, if any."""
        row = self.store.verdict(action.key)
        return (row or {}).get("body") or None
