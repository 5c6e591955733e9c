"""A walk of the latest-posts stream down to a cursor, for tests that check what a forum
adapter (or the sandbox behind it) lets through: which topics, which withheld. The product's
own walk is `docsgap.scan.Scanner`; this one only pages `Forum.latest_posts`."""

from __future__ import annotations

from dataclasses import dataclass

from docsgap.forum.discourse_payload import REGULAR
from docsgap.forum.interface import Forum


@dataclass(frozen=True, slots=True)
class ChangedTopics:
    """Topics with posts newer than the cursor, and the cursor after them."""

    topic_ids: tuple[int, ...]
    """Distinct topic ids, most recently active first."""
    newest_post_id: int | None
    """Highest post id seen."""
    complete: bool = True
    """False when the walk stopped at `max_pages` before the cursor."""
    withheld: tuple[tuple[int, str], ...] = ()
    """(topic id, why) for topics in categories docsgap must not read."""


def walk_stream(forum: Forum, after_post_id: int | None, *, max_pages: int) -> ChangedTopics:
    """Page `/posts.json` newest first down to `after_post_id` (at most `max_pages` pages):
    regular posts name their topics, withheld topics say why."""
    topic_ids: dict[int, None] = {}
    withheld: dict[int, str] = {}
    newest = after_post_id
    before: int | None = None
    reached = after_post_id is None
    for _ in range(max_pages):
        page = forum.latest_posts(before)
        if not page:
            reached = True
            break
        for item in page:
            post = item.post
            newest = post.id if newest is None else max(newest, post.id)
            if after_post_id is not None and post.id <= after_post_id:
                reached = True
                break
            if post.post_type != REGULAR:
                continue
            if item.topic_withheld:
                withheld.setdefault(post.topic_id, item.topic_withheld)
            elif not post.withheld:
                topic_ids.setdefault(post.topic_id, None)
        if after_post_id is not None and reached:
            break
        before = min(item.post.id for item in page)
    return ChangedTopics(tuple(topic_ids), newest, complete=reached,
                         withheld=tuple(withheld.items()))
