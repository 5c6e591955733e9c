"""Carry out a Plan exactly once in effect: check the ledger, then the remote marker, then write,
then record the result at once. Per-action failures become `failed` outcomes, never an abort."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from docsgap import compose
from docsgap.act import replyqueue
from docsgap.act.held import FORUM_WRITES, held_reason
from docsgap.act.labels import issue_labels
from docsgap.act.ownreply import reply_gone
from docsgap.act.plan import mode_of
from docsgap.config import Config
from docsgap.docs import questions
from docsgap.errors import (
    NotFoundError,
    RateLimitedError,
    RemoteError,
    RepliesHeldError,
    WriteRejectedError,
)
from docsgap.forum.interface import Forum
from docsgap.models import (
    Action,
    ActionKind,
    GapType,
    IssueDraft,
    ItemKind,
    Outcome,
    OutcomeStatus,
    Plan,
    PostRef,
    Signal,
    Thread,
    TrackerItem,
)
from docsgap.state import StateStore
from docsgap.tracker.interface import Tracker

log = logging.getLogger(__name__)

_ITEM_URL = re.compile(r"/-/(issues|merge_requests)/(\d+)")


def parse_item_url(url: str) -> tuple[ItemKind, int]:
    """(kind, iid) from a GitLab issue or MR web URL."""
    m = _ITEM_URL.search(url)
    if not m:
        raise ValueError(f"not a GitLab issue or MR URL: {url}")
    return ("issue" if m.group(1) == "issues" else "merge_request"), int(m.group(2))


NEW_ISSUE_PLACEHOLDER = compose.NEW_ITEM_PLACEHOLDER
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


class _Skipped(Exception):
    """The action needs no write (already done remotely, or no longer applicable)."""

    def __init__(self, why: str, url: str | None = None) -> None:
        super().__init__(why)
        self.url = url


@dataclass
class Applier:
    """Executes plans against a Forum and a Tracker, recording everything in the state."""

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
        except _Skipped as skip:
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
        raise _Skipped(f"{action.kind.value} is done by its own command")

    # each writer: look for the marker remotely first, then write, then record at once --------
    def _open_issue(self, action: Action, *, retrying: bool) -> str:
        members = self._usable(self._members(action))
        mark = compose.marker(action.key)
        # Not the local cache: anyone can copy a marker into a docs-labelled issue. GitLab lists
        # the token user's own issues (one listing per run); a duplicate would be worse.
        found = self.tracker.find_issue_with_marker(mark)
        if found is not None:
            self._record_issue(found, members)
            raise _Skipped("issue with this marker already exists", found.web_url)
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
            raise _Skipped(f"linked only: {url} is {item.state}, no note added", url)
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

    def _reply(self, action: Action) -> str:
        target = action.target_url or (self.results.get(action.depends_on or "") or "")
        if not target:
            raise WriteRejectedError(f"no issue URL for {action.key}")
        [signal] = self._members(action) or [None]  # type: ignore[list-item]
        if signal is not None:
            self._usable([signal])
        thread_id = self._thread_checked(action, target, field="reply_url", linked_ok=False)
        item = self.store.item(target)
        kind, _ = parse_item_url(target)
        body = compose.reply_text(
            item_url=target, item_kind=kind, item_state=item.state if item else "opened",
            page=signal.page if signal else None,
            gap_type=signal.gap_type if signal else self._gap_of(thread_id), key=action.key,
            templates=self.config.templates_dir,
        )
        edited = self._edited(action)
        if edited:
            body = edited.replace(NEW_ISSUE_PLACEHOLDER, target)
        url = self._post(action, thread_id, target, body, field="reply_url")
        self._reply_to_closed(thread_id, target, "reply_url", url)
        return url

    def _reply_to_closed(self, thread_id: int, target: str, field: str, url: str) -> None:
        """A reply about a closed item already says so: no separate follow-up is owed (also
        when the reply is found by its marker after a crash)."""
        item = self.store.item(target)
        if field == "reply_url" and item is not None and item.state in ("closed", "merged"):
            self.store.set_link_field(thread_id, target, followup_url=url)

    def _followup(self, action: Action) -> str:
        assert action.target_url
        target = action.target_url
        thread_id = self._thread_checked(action, target, field="followup_url", linked_ok=True)
        gone = reply_gone(self._thread(thread_id), (self.store.link(thread_id, target) or {})
                          .get("reply_url"))
        if gone:  # kept in the ledger: `FollowUps.plan` skips it from then on
            raise _Skipped(gone)
        kind, _ = parse_item_url(target)
        signal = next((s for s in self.signals.values() if s.thread_id == thread_id), None)
        body = self._edited(action) or compose.followup_text(
            item_url=target, item_kind=kind, page=signal.page if signal else None, key=action.key,
            templates=self.config.templates_dir)
        return self._post(action, thread_id, target, body, field="followup_url")

    def _docs_reply(self, action: Action) -> str:
        """A docs-first reply, unless the thread got its marker, an answer or was closed."""
        thread_id = action.thread_ids[0]
        thread = self.forum.thread(thread_id)
        _not_withheld(thread)
        mark = compose.marker(action.key)
        posted = next((p for p in thread.posts if mark in (p.raw or p.cooked)), None)
        answered = "docsgap" if posted else questions.answered_by(thread, self.config)
        if answered:
            questions.mark_answered(self.store, thread_id, answered)
            url = f"{thread.url}/{posted.number}" if posted else None
            raise _Skipped(f"no docs-first reply: answered ({answered})", url)
        if thread.closed or thread.archived:
            raise _Skipped("topic is closed or archived now; no post")
        ref = self._send(action, thread_id, self._edited(action) or action.body)
        self.store.ledger_finish(action.key, "done", remote_url=ref.url)
        questions.mark_answered(self.store, thread_id, "docsgap")
        return ref.url

    def _thread_checked(self, action: Action, target: str, *, field: str,
                        linked_ok: bool) -> int:
        """Fetch the thread fresh and raise `_Skipped` when our marker is already there (then
        remember that post as `field`), when someone already posted the link (unless
        `linked_ok`), or when the topic no longer takes replies. Returns the thread id."""
        thread_id = action.thread_ids[0]
        thread = self._thread(thread_id)
        mark = compose.marker(action.key)
        # Markers are public text: only docsgap's own posts count, or anyone could copy one
        # into a post to stop the reply and stand in for it in the report.
        ours = {u.lower() for u in (self.config.forum.api_username,
                                    *self.config.forum.bot_usernames) if u}
        if thread.withheld:  # our own earlier post there still counts (markers are kept)
            if any(mark in (p.raw or "") and p.username.lower() in ours for p in thread.posts):
                raise _Skipped("post with this marker already exists")
            raise _Skipped(f"topic withheld now, {thread.withheld}; no post")
        for post in thread.posts:
            text = post.raw or post.cooked
            if mark in text and post.username.lower() in ours:
                posted = f"{thread.url}/{post.number}"
                self.store.record_link(thread_id, target, source="docsgap")
                self.store.set_link_field(thread_id, target, **{field: posted})
                self._reply_to_closed(thread_id, target, field, posted)
                raise _Skipped("post with this marker already exists", posted)
            if not linked_ok and target in text:
                raise _Skipped(f"post #{post.number} already links {target}")
        if thread.closed or thread.archived:
            raise _Skipped("topic is closed or archived now; no post")
        return thread_id

    def _post(self, action: Action, thread_id: int, target: str, body: str, *,
              field: str) -> str:
        """Post in the thread between the ledger's start and finish, then record the post."""
        ref = self._send(action, thread_id, body)
        self.store.ledger_finish(action.key, "done", remote_url=ref.url)
        self.store.record_link(thread_id, target, source="docsgap")
        self.store.set_link_field(thread_id, target, **{field: ref.url})
        return ref.url

    def _send(self, action: Action, thread_id: int, body: str) -> PostRef:
        """Post once, the approval queue included (`replyqueue.send`)."""
        self.fresh.pop(thread_id, None)
        forum = self.config.forum
        return replyqueue.send(self.forum, self.store, action, thread_id, body,
                               ours=(forum.api_username, *forum.bot_usernames))

    def _usable(self, signals: Sequence[Signal]) -> list[Signal]:
        """The signals whose quoted posts may still be used: each thread is read again (once
        a run) and a signal is dropped (from the state too) when its topic, or a post its
        evidence quotes, is now withheld (deleted, hidden after flags, withdrawn, restricted)
        or gone. None left: `_Skipped`, so nothing is quoted or answered."""
        kept, why = [], ""
        for s in signals:
            reason = self._withheld_evidence(s)
            if reason is None:
                kept.append(s)
                continue
            why = why or reason
            # Forgotten, so no report or summary issue lists it either.
            self.store.db.execute("delete from signals where key = ?", [s.key])
            log.info("signal %s dropped: %s", s.key, reason)
        if signals and not kept:
            raise _Skipped(f"evidence withheld since it was read: {why}")
        return kept

    def _thread(self, thread_id: int) -> Thread:
        """The thread as read this run (again after docsgap posted in it)."""
        thread = self.fresh.get(thread_id)
        if thread is None:
            thread = self.fresh[thread_id] = self.forum.thread(thread_id)
        return thread

    def _withheld_evidence(self, signal: Signal) -> str | None:
        try:
            thread = self._thread(signal.thread_id)
        except NotFoundError:
            return f"topic {signal.thread_id} is gone"
        if thread.withheld:
            return f"topic {thread.id} withheld, {thread.withheld}"
        posts = {p.number: p for p in thread.posts}
        for number in sorted({e.post_number for e in signal.evidence if e.post_number}):
            post = posts.get(number)
            if post is None or post.withheld:
                state = post.withheld if post is not None else "gone"
                return f"post {thread.id}#{number} {state}"
        return None

    def _edited(self, action: Action) -> str | None:
        """The reviewer's edited text for this action, if any."""
        row = self.store.verdict(action.key)
        return (row or {}).get("body") or None

    def _gap_of(self, thread_id: int) -> GapType:
        for s in self.signals.values():
            if s.thread_id == thread_id:
                return s.gap_type
        return GapType.MISSING


def _not_withheld(thread: Thread) -> None:
    """`_Skipped` when the thread may no longer be used at all, or its first post (the
    question a docs-first reply answers) is withheld."""
    if thread.withheld:
        raise _Skipped(f"topic withheld now, {thread.withheld}; no post")
    if thread.posts and thread.posts[0].withheld:
        raise _Skipped(f"first post withheld now, {thread.posts[0].withheld}; no post")
