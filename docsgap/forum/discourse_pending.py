"""The API user's posts that wait in Discourse's approval queue, for `DiscourseForum`.

A queued reply (`NewPostManager` answered `enqueued`) is in no topic and no read shows it, so
the marker check before a write cannot see it. Only `GET /posts/{username}/pending.json`
(`PostsController#pending`, `PendingPostSerializer`) lists it: the user's own queued posts
(staff may read anyone's), newest first, gone once a moderator approves or rejects them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from docsgap.compose import find_markers
from docsgap.errors import AuthError, NotFoundError, RemoteError
from docsgap.forum.discourse_payload import parse, pending_posts
from docsgap.forum.interface import QueuedReply


def same_reply(raw: str, text: str) -> bool:
    """Whether `text` is the reply `raw`: the same text, or every docsgap marker of `raw`."""
    marks = set(find_markers(raw))
    return text.strip() == raw.strip() or bool(marks and marks <= set(find_markers(text)))


class PendingPosts:
    """The queue as one user sees it, read once (the adapter lives for one run) and kept up
    to date with the replies this run queued. A refusal (a granular key has no scope for the
    route; a Discourse before 2.5 has no such route) is kept and raised again."""

    def __init__(self, base_url: str, username: str) -> None:
        self._base_url = base_url
        self._username = username
        self._items: list[tuple[int, int | None, str, str]] | None = None
        self._refused: RemoteError | None = None

    def find(self, get: Callable[[str], Any], topic_id: int, raw: str) -> QueuedReply | None:
        """The user's queued reply to `topic_id` that is `raw` (`same_reply`), or None.
        `get(path)` reads one path through the adapter (its budget, retries and errors)."""
        if self._refused is not None:
            raise self._refused
        if self._items is None:
            path = f"/posts/{quote(self._username, safe='')}/pending.json"
            try:
                data = get(path)
            except (AuthError, NotFoundError) as exc:
                self._refused = exc
                raise
            self._items = parse(path, pending_posts, data)
        me = self._username.lower()
        for pending_id, tid, username, text in self._items:
            # Only the API user's own entries count: a post someone else queued with a copy
            # of the marker must not stand in for docsgap's reply.
            if tid == topic_id and username.lower() == me and same_reply(raw, text):
                return QueuedReply(pending_id or None, topic_id,
                                   f"{self._base_url}/t/{topic_id}")
        return None

    def add(self, ref: QueuedReply, raw: str) -> None:
        """Remember a reply this run queued (when the list was read already)."""
        if self._items is not None:
            self._items.insert(0, (ref.pending_id or 0, ref.topic_id, self._username, raw))
