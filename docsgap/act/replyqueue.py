"""Forum replies and Discourse's approval queue: post a reply exactly once even when the forum
holds it for a moderator.

A queued reply (`NewPostManager` answered `enqueued`) is in no topic, so the marker check
before a write cannot see it. `send` asks the queue first (the forum's `queued_reply`), so
neither a rerun nor a lost state queues a second copy for a moderator to approve. The ledger
says `queued` meanwhile; once approved the reply is found by its marker like any post; once
rejected it is reported and never posted again (a moderator's decision is for a person, not a
rerun, to revisit).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

from docsgap import compose
from docsgap.errors import AuthError, NotFoundError
from docsgap.forum.interface import Forum, QueuedReply
from docsgap.models import Action, PostRef, Thread
from docsgap.state import StateStore

log = logging.getLogger(__name__)

REJECTED = ("rejected by a forum moderator: the reply was queued for approval and is neither "
            "queued nor in the topic now; not posted again")


class Queued(Exception):
    """The reply waits in the forum's approval queue (queued now, or found there)."""


class Rejected(Exception):
    """A reply the ledger says was queued is neither queued nor in the thread any more."""


def send(forum: Forum, store: StateStore, action: Action, thread_id: int, body: str, *,
         ours: Iterable[str | None]) -> PostRef:
    """Post `body` in the thread unless docsgap's copy waits in the approval queue; the
    ledger's start is written just before the write. Raises `Queued` when the reply waits
    there (found, or queued now) and `Rejected` when one the ledger says was queued is gone
    from the queue and is not in the thread (read again: approved since?): a moderator
    rejected or deleted it. An approved one found there is returned as posted; only posts
    by the `ours` usernames count."""
    was_queued = (store.ledger_entry(action.key) or {}).get("status") == "queued"
    try:
        waiting = forum.queued_reply(thread_id, body)
    except (AuthError, NotFoundError) as exc:
        if was_queued:
            raise Queued("still queued for forum moderator approval as far as docsgap knows: "
                         f"the forum would not list pending posts ({exc})") from exc
        log.warning("cannot list the forum's pending posts (%s): a reply queued by a run "
                    "whose state was lost cannot be seen", exc)
        waiting = None
    if waiting is not None:
        raise Queued(note(waiting))
    if was_queued:
        posted = own_marked(forum.thread(thread_id), action.key, ours)
        if posted is not None:
            return posted
        raise Rejected(REJECTED)
    store.ledger_start(action.key, action.kind.value, action.thread_ids, action.reason)
    ref = forum.reply(thread_id, body)
    if isinstance(ref, QueuedReply):
        raise Queued(note(ref))
    return ref


def own_marked(thread: Thread, key: str, ours: Iterable[str | None]) -> PostRef | None:
    """docsgap's own post (by one of the `ours` usernames) with the action's marker."""
    mark = compose.marker(key)
    names = {u.lower() for u in ours if u}
    post = next((p for p in thread.posts
                 if mark in (p.raw or p.cooked) and p.username.lower() in names), None)
    return None if post is None else PostRef(post.id, thread.id, post.number,
                                             f"{thread.url}/{post.number}")


def record(store: StateStore, action: Action, status: str, why: str) -> None:
    """Record a queued or rejected reply (with a row of its own when the state was lost)."""
    if store.ledger_entry(action.key) is None:
        store.ledger_start(action.key, action.kind.value, action.thread_ids, action.reason)
    store.ledger_finish(action.key, status, error=why)


def kept(row: Mapping[str, object] | None) -> str:
    """The ledger status after a failed attempt: a queued reply stays `queued` (a failed
    check must not forget that it waits for a moderator), anything else is `failed`."""
    return "queued" if row and row.get("status") == "queued" else "failed"


def note(ref: QueuedReply) -> str:
    """What the report says of a queued reply."""
    pending = f" (pending post {ref.pending_id})" if ref.pending_id else ""
    return (f"queued for forum moderator approval{pending}; it appears in {ref.url} once "
            "approved, and is not posted again meanwhile")
