"""Discourse JSON payloads -> docsgap's Thread, Post and PostRef; pure, no client import.

Shape problems surface as `PayloadError` (through `parse`), never as KeyError or TypeError.

Posts docsgap must never quote or answer are *withheld* here, so every read path gets it: a
post that is deleted (`deleted_at`: staff keys still get these), hidden after flags
(`hidden`; staff get the text), withdrawn by its author (`user_deleted`), or in a topic that is
deleted, a private message, unlisted (`visible: false`) or in a read-restricted category.
A withheld post keeps its place and its reason but loses its text, except docsgap's own
markers (so a rerun still knows what it wrote).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

from docsgap.compose import find_markers, marker
from docsgap.errors import PayloadError
from docsgap.forum.interface import LatestPost, QueuedReply
from docsgap.jsonshape import integer as _int
from docsgap.jsonshape import text as _text
from docsgap.models import Post, PostRef, Thread

REGULAR = 1
"""`post_type` of an ordinary post (2 moderator action, 3 small action, 4 whisper)."""
DELETED = "deleted by a moderator"
HIDDEN = "hidden after flags"
WITHDRAWN = "withdrawn by its author"
T = TypeVar("T")


def parse(what: str, fn: Callable[..., T], *args: Any) -> T:
    """Run a payload conversion; any shape problem becomes a `PayloadError` naming `what`."""
    try:
        return fn(*args)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError) as exc:
        # OverflowError: a date near year 1 or 9999 moved to UTC, an `Infinity` id.
        raise PayloadError(
            f"unexpected Discourse payload from {what}: {type(exc).__name__}: {exc}"
        ) from exc


def require_dict(data: Any) -> dict[str, Any]:
    """`data` if it is a JSON object (pydiscourse returns `None` for an empty body)."""
    if not isinstance(data, dict):
        got = "an empty body" if data is None else type(data).__name__
        raise TypeError(f"expected a JSON object, got {got}")
    return data


def post_withheld(p: Mapping[str, Any]) -> str | None:
    """Why a post must not be used, from its own flags (None: it may be)."""
    if p.get("deleted_at"):
        return DELETED
    if p.get("user_deleted"):
        return WITHDRAWN
    if p.get("hidden") or p.get("cooked_hidden"):
        return HIDDEN
    return None


def topic_withheld(topic: Mapping[str, Any]) -> str | None:
    """Why a whole topic must not be used, from the topic view's own fields."""
    if topic.get("deleted_at"):
        return "topic deleted by a moderator"
    if topic.get("archetype") == "private_message":
        return "a private message"
    if topic.get("visible") is False:
        # Anyone with the URL still reads it, but a moderator took it out of every list.
        return "unlisted by a moderator"
    return None


def category_flags(categories: Any) -> dict[int, bool]:
    """`/categories.json?include_subcategories=true`'s categories -> {id: read_restricted},
    subcategories (`subcategory_list`, at any depth) included."""
    flags: dict[int, bool] = {}
    stack = list(categories)
    while stack:
        c = stack.pop()
        if not isinstance(c, dict):
            raise TypeError("a category is not an object")
        flags[_int(c["id"])] = bool(c.get("read_restricted"))
        stack.extend(c.get("subcategory_list") or ())
    return flags


def split_newer(data: Any, floor: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """A `/posts.json` body as two: the posts with ids above `floor`, and the others."""
    body = require_dict(data)
    items = body["latest_posts"]
    return ({**body, "latest_posts": [p for p in items if _int(p["id"]) > floor]},
            {**body, "latest_posts": [p for p in items if _int(p["id"]) <= floor]})


def latest_items(
    data: Any, category_reason: Callable[[int | None], str | None] = lambda _: None
) -> list[LatestPost]:
    """A `/posts.json` page as stream items: each post with its topic's title, slug and
    category (the page carries them; no topic needs reading to judge a post). A post in a
    category `category_reason` objects to is withheld, and so is its topic's title."""
    items = require_dict(data)["latest_posts"]
    out = []
    for p in items:
        category = _int_or_none(p.get("category_id"))
        why = category_reason(category)
        title = (f"(withheld topic {_int(p['topic_id'])})" if why
                 else str(p.get("topic_title") or ""))
        out.append(LatestPost(_post(p, why), title, str(p.get("topic_slug") or "topic"),
                              category, why))
    return out


def topic_head(data: Any) -> tuple[dict[str, Any], list[dict[str, Any]], list[int]]:
    """`/t/{id}.json` -> (the topic, its first chunk of posts, every post id in `stream`)."""
    topic = require_dict(data)
    stream = [_int(i) for i in topic["post_stream"]["stream"]]
    return topic, post_list(topic), stream


def post_topic(data: Any) -> int:
    """`/posts/{id}.json` -> the post's topic id."""
    return _int(require_dict(data)["topic_id"])


def post_list(data: Any) -> list[dict[str, Any]]:
    """`post_stream.posts` of a topic or `/t/{id}/posts.json` body, ids as ints."""
    posts = require_dict(data)["post_stream"]["posts"]
    if not isinstance(posts, list) or not all(isinstance(p, dict) for p in posts):
        raise TypeError("post_stream.posts is not a list of objects")
    for p in posts:
        p["id"] = _int(p["id"])
    return list(posts)


def _post(p: Mapping[str, Any], topic_reason: str | None) -> Post:
    created = _time(p["created_at"])
    if created is None:
        raise ValueError(f"post {p['id']} has no created_at")
    withheld = topic_reason or post_withheld(p)
    cooked = _text(p.get("cooked")) or ""
    raw = _text(p.get("raw"))
    if withheld is not None:
        # Keep only what docsgap itself wrote there, so a rerun knows the post exists.
        kept = "\n".join(marker(k) for k in find_markers(f"{raw or ''}\n{cooked}"))
        cooked, raw = "", kept or None
    return Post(
        id=_int(p["id"]),
        topic_id=_int(p["topic_id"]),
        number=_int(p["post_number"]),
        username=_text(p["username"]) or "",
        created_at=created,
        cooked=cooked,
        raw=raw,
        staff=bool(p.get("staff") or p.get("admin") or p.get("moderator")),
        post_type=_int(p.get("post_type", REGULAR)),
        withheld=withheld,
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


def _int_or_none(value: Any) -> int | None:
    return None if value is None else _int(value)


def build_thread(
    base_url: str,
    head: Mapping[str, Any],
    raw_posts: list[dict[str, Any]],
    category_reason: str | None = None,
) -> Thread:
    """Topic view + all raw posts -> Thread (posts deduplicated, ordered by post_number).
    `category_reason` says why the topic's category is off limits, if it is."""
    withheld = topic_withheld(head) or category_reason
    by_id = {p["id"]: p for p in raw_posts}
    posts = tuple(sorted((_post(p, withheld) for p in by_id.values()), key=lambda p: p.number))
    slug = str(head.get("slug") or "topic")
    topic_id = _int(head["id"])
    return Thread(
        id=topic_id,
        slug=slug,
        title=f"(withheld topic {topic_id})" if withheld else str(head["title"]),
        url=f"{base_url}/t/{slug}/{topic_id}",
        posts=posts,
        category_id=_int_or_none(head.get("category_id")),
        tags=_tags(head.get("tags") or ()),
        closed=bool(head.get("closed")),
        archived=bool(head.get("archived")),
        created_at=_time(head.get("created_at")),
        last_posted_at=_time(head.get("last_posted_at")),
        withheld=withheld,
        accepted_answer=_accepted(head, posts),
    )


def _accepted(head: Mapping[str, Any], posts: tuple[Post, ...]) -> int | None:
    """The solution's post number: the solved plugin's `accepted_answer` on the topic (an
    object with `post_number`), else the post flagged `accepted_answer: true`."""
    found = head.get("accepted_answer")
    if isinstance(found, Mapping) and isinstance(found.get("post_number"), int):
        return _int(found["post_number"])
    return next((p.number for p in posts if p.accepted), None)


def post_ref(base_url: str, topic_id: int, body: Any) -> PostRef | QueuedReply:
    """`POST /posts.json` body -> PostRef, or `QueuedReply` for a reply held for a moderator
    (`{"action": "enqueued", "pending_post": {"id": ...}}`; older Discourse sends no
    `pending_post`). Any other `action` without a post is a shape error, never a post 0."""
    data = require_dict(body)
    if data.get("action") == "enqueued":
        pending = data.get("pending_post")
        pending_id = pending.get("id") if isinstance(pending, dict) else None
        return QueuedReply(None if pending_id is None else _int(pending_id), topic_id,
                           f"{base_url}/t/{topic_id}")
    number = _int(data["post_number"])
    slug = data.get("topic_slug") or "topic"
    url = f"{base_url}/t/{slug}/{_int(data['topic_id'])}/{number}"
    return PostRef(_int(data["id"]), _int(data["topic_id"]), number, url)


def pending_posts(data: Any) -> list[tuple[int, int | None, str, str]]:
    """`/posts/{username}/pending.json` (`PendingPostSerializer`) -> (id, topic id or None
    for a new topic, username, raw text) per queued post, newest first."""
    items = require_dict(data)["pending_posts"]
    if not isinstance(items, list) or not all(isinstance(p, dict) for p in items):
        raise TypeError("pending_posts is not a list of objects")
    return [(_int(p["id"]), _int_or_none(p.get("topic_id")), _text(p.get("username")) or "",
             _text(p.get("raw_text")) or "") for p in items]
