"""The forum side of applying a plan: replies, follow-ups and docs-first replies, each after the
checks a thread read fresh allows (docsgap's marker already there, the link already posted, the
topic closed, withheld or its evidence gone), posted once (`replyqueue`) between the ledger's
start and finish. `Applier` carries these out; they need its forum, state and this run's reads."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from docsgap import compose
from docsgap.act import replyqueue
from docsgap.act.items import NEW_ISSUE_PLACEHOLDER, parse_item_url
from docsgap.act.ownreply import reply_gone
from docsgap.config import Config
from docsgap.docs import questions
from docsgap.errors import NotFoundError, WriteRejectedError
from docsgap.forum.interface import Forum
from docsgap.models import Action, GapType, PostRef, Signal, Thread
from docsgap.state import StateStore

log = logging.getLogger(__name__)


class Skipped(Exception):
    """The action needs no write (already done remotely, or no longer applicable)."""

    def __init__(self, why: str, url: str | None = None) -> None:
        super().__init__(why)
        self.url = url


class ForumWrites:
    """The forum writes of `Applier` (a dataclass that sets these attributes)."""

    forum: Forum
    store: StateStore
    config: Config
    signals: Mapping[str, Signal]
    results: dict[str, str]
    fresh: dict[int, Thread]

    def _members(self, action: Action) -> list[Signal]:
        raise NotImplementedError

    def _edited(self, action: Action) -> str | None:
        raise NotImplementedError

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
            raise Skipped(gone)
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
            raise Skipped(f"no docs-first reply: answered ({answered})", url)
        if thread.closed or thread.archived:
            raise Skipped("topic is closed or archived now; no post")
        ref = self._send(action, thread_id, self._edited(action) or action.body)
        self.store.ledger_finish(action.key, "done", remote_url=ref.url)
        questions.mark_answered(self.store, thread_id, "docsgap")
        return ref.url

    def _thread_checked(self, action: Action, target: str, *, field: str,
                        linked_ok: bool) -> int:
        """Fetch the thread fresh and raise `Skipped` when our marker is already there (then
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
                raise Skipped("post with this marker already exists")
            raise Skipped(f"topic withheld now, {thread.withheld}; no post")
        for post in thread.posts:
            text = post.raw or post.cooked
            if mark in text and post.username.lower() in ours:
                posted = f"{thread.url}/{post.number}"
                self.store.record_link(thread_id, target, source="docsgap")
                self.store.set_link_field(thread_id, target, **{field: posted})
                self._reply_to_closed(thread_id, target, field, posted)
                raise Skipped("post with this marker already exists", posted)
            if not linked_ok and target in text:
                raise Skipped(f"post #{post.number} already links {target}")
        if thread.closed or thread.archived:
            raise Skipped("topic is closed or archived now; no post")
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
        or gone. None left: `Skipped`, so nothing is quoted or answered."""
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
            raise Skipped(f"evidence withheld since it was read: {why}")
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

    def _gap_of(self, thread_id: int) -> GapType:
        for s in self.signals.values():
            if s.thread_id == thread_id:
                return s.gap_type
        return GapType.MISSING


def _not_withheld(thread: Thread) -> None:
    """`Skipped` when the thread may no longer be used at all, or its first post (the
    question a docs-first reply answers) is withheld."""
    if thread.withheld:
        raise Skipped(f"topic withheld now, {thread.withheld}; no post")
    if thread.posts and thread.posts[0].withheld:
        raise Skipped(f"first post withheld now, {thread.posts[0].withheld}; no post")
