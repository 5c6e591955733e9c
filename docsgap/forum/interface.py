"""What docsgap needs from a forum, in domain types only (no pydiscourse objects leak out)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from docsgap.models import PostRef, Thread


@dataclass(frozen=True, slots=True)
class ChangedTopics:
    """Topics with posts newer than the cursor, and the cursor to store after processing them."""

    topic_ids: tuple[int, ...]
    """Distinct topic ids, most recently active first."""
    newest_post_id: int | None
    """Highest post id seen; the next scan reads only posts above it."""
    complete: bool = True
    """False when the scan stopped early (page limit); older changes were not read."""


class Forum(Protocol):
    """A Discourse-like forum. Errors are `docsgap.errors.RemoteError` subclasses."""

    base_url: str

    def changed_topics(self, after_post_id: int | None, *, max_pages: int) -> ChangedTopics:
        """Walk the latest-posts stream (newest first) down to `after_post_id`.

        With `after_post_id=None` (first run) read at most `max_pages` pages.
        """
        ...

    def thread(self, topic_id: int) -> Thread:
        """Every visible post of a topic, with raw Markdown, oldest first."""
        ...

    def reply(self, topic_id: int, raw: str, *, reply_to_post_number: int | None = None) -> PostRef:
        """Post a reply; raises `WriteRejectedError` for closed topics or a 422."""
        ...
