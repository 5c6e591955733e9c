"""Discourse JSON payloads -> docsgap's Thread, Post and PostRef; pure, no client import.

Shape problems surface as `PayloadError` (through `parse`), never as KeyError or TypeError.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

from docsgap.errors import PayloadError
from docsgap.forum.interface import LatestPost
from docsgap.models import Post, PostRef, Thread

log = logging.getLogger(__name__)

REGULAR = 1
"""`post_type` of an ordinary post (2 moderator action, 3 small action, 4 whisper)."""
T = TypeVar("T")


def parse(what: str, fn: Callable[..., T], *args: Any) -> T:
    """Run a payload conversion; any shape problem becomes a `PayloadError` naming `what`."""
    try:
        return fn(*args)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        raise PayloadError(
            f"unexpected Discourse payload from {what}: {type(exc).__name__}: {exc}"
        ) from exc


def require_dict(data: Any) -> dict[str, Any]:
    """`data` if it is a JSON object (pydiscourse returns `None` for an empty body)."""
    if not isinstance(data, dict):
        got = "an empty body" if data is None else type(data).__name__
        raise TypeError(f"expected a JSON object, got {got}")
    return data


def posts_page(data: Any) -> list[tuple[int, int, int]]:
    """(post id, topic id, post type) for each item of a `/posts.json` page."""
    items = require_dict(data)["latest_posts"]
    return [(int(p["id"]), int(p["topic_id"]), int(p.get("post_type", REGULAR))) for p in items]


def latest_items(data: Any) -> list[LatestPost]:
    """A `/posts.json` page as stream items: each post with its topic's title, slug and
    category (the page carries them; no topic needs reading to judge a post)."""
    items = require_dict(data)["latest_posts"]
    return [
        LatestPost(_post(p), str(p.get("topic_title") or ""), str(p.get("topic_slug") or "topic"),
                   int(p["category_id"]) if p.get("category_id") is not None else None)
        for p in items
    ]


def topic_head(data: Any) -> tuple[dict[str, Any], list[dict[str, Any]], list[int]]:
    """`/t/{id}.json` -> (the topic, its first chunk of posts, every post id in `stream`)."""
    topic = require_dict(data)
    stream = [int(i) for i in topic["post_stream"]["stream"]]
    return topic, post_list(topic), stream


def post_list(data: Any) -> list[dict[str, Any]]:
    """`post_stream.posts` of a topic or `/t/{id}/posts.json` body, ids as ints."""
    posts = require_dict(data)["post_stream"]["posts"]
    if not isinstance(posts, list) or not all(isinstance(p, dict) for p in posts):
        raise TypeError("post_stream.posts is not a list of objects")
    for p in posts:
        p["id"] = int(p["id"])
    return list(posts)


def _post(p: Mapping[str, Any]) -> Post:
    created = _time(p["created_at"])
    if created is None:
        raise ValueError(f"post {p['id']} has no created_at")
    return Post(
        id=int(p["id"]),
        topic_id=int(p["topic_id"]),
        number=int(p["post_number"]),
        username=str(p["username"]),
        created_at=created,
        cooked=str(p.get("cooked") or ""),
        raw=p.get("raw"),
        staff=bool(p.get("staff") or p.get("admin") or p.get("moderator")),
        post_type=int(p.get("post_type", REGULAR)),
        accepted=p.get("accepted_answer") is True,
    )


def _tags(tags: Iterable[Any]) -> tuple[str, ...]:
    """Older Discourse sends tag names; current core sends `{id, name, slug}` objects."""
    return tuple(str(t["name"]) if isinstance(t, dict) else str(t) for t in tags)


def _time(value: Any) -> datetime | None:
    """ISO-8601 (with `Z`) -> aware UTC datetime."""
    if value is None:
        return None
    parsed = datetime.fromisoformat(str(value))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def build_thread(base_url: str, head: Mapping[str, Any], raw_posts: list[dict[str, Any]]) -> Thread:
    """Topic view + all raw posts -> Thread (posts deduplicated, ordered by post_number)."""
    by_id = {p["id"]: p for p in raw_posts}
    posts = tuple(sorted((_post(p) for p in by_id.values()), key=lambda p: p.number))
    slug = str(head.get("slug") or "topic")
    topic_id = int(head["id"])
    return Thread(
        id=topic_id,
        slug=slug,
        title=str(head["title"]),
        url=f"{base_url}/t/{slug}/{topic_id}",
        posts=posts,
        category_id=head.get("category_id"),
        tags=_tags(head.get("tags") or ()),
        closed=bool(head.get("closed")),
        archived=bool(head.get("archived")),
        created_at=_time(head.get("created_at")),
        last_posted_at=_time(head.get("last_posted_at")),
        accepted_answer=_accepted(head, posts),
    )


def _accepted(head: Mapping[str, Any], posts: tuple[Post, ...]) -> int | None:
    """The solution's post number: the solved plugin's `accepted_answer` on the topic (an
    object with `post_number`), else the post flagged `accepted_answer: true`."""
    found = head.get("accepted_answer")
    if isinstance(found, Mapping) and isinstance(found.get("post_number"), int):
        return int(found["post_number"])
    return next((p.number for p in posts if p.accepted), None)


def post_ref(base_url: str, topic_id: int, body: Any) -> PostRef:
    """`POST /posts.json` body -> PostRef; a reply queued for approval -> id 0, number 0."""
    data = require_dict(body)
    if data.get("action") == "enqueued":
        log.warning("reply in topic %s is queued for moderator approval", topic_id)
        return PostRef(0, topic_id, 0, f"{base_url}/t/{topic_id}")
    number = int(data["post_number"])
    slug = data.get("topic_slug") or "topic"
    url = f"{base_url}/t/{slug}/{int(data['topic_id'])}/{number}"
    return PostRef(int(data["id"]), int(data["topic_id"]), number, url)
