"""Reading one Discourse topic whole: its view from the first post, the posts of its stream
not held yet in chunks, and what became of held posts the view no longer shows."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from docsgap.errors import AuthError, NotFoundError
from docsgap.forum.discourse_payload import build_thread, parse, post_list, post_topic, topic_head
from docsgap.forum.interface import TopicRead

CHUNK = 20
"""Post ids per `/t/{id}/posts.json` request (what Discourse's own client asks for)."""

Get = Callable[..., Any]
"""A GET through a pydiscourse method by name, as the adapter sends it (key or none)."""


def read_whole(get: Get, tid: int, have: Collection[int], base_url: str, *, cached: bool,
               category_reason: Callable[[int | None], str | None] | None) -> TopicRead:
    """The topic `tid` with every post not in `have`. `cached`: the view was asked without a
    key, so Discourse's anonymous cache may have served it up to a minute old.
    `category_reason` judges the topic's category (None: the public read it, so it is
    public)."""
    path = f"/t/{tid}.json"
    # pydiscourse's topic() needs the exact slug (a wrong one 301s); its post(topic, n)
    # reads /t/{id}/{n}.json, which for n=1 is the topic view from its first post.
    head, posts, stream = parse(path, topic_head, get("post", tid, 1, include_raw="true"))
    loaded = {p["id"] for p in posts}
    held = set(have)
    posts.extend(_posts(get, tid, [i for i in stream if i not in loaded and i not in held]))
    if cached:
        # Posts held from a newer `/posts.json` can be missing from a cached view's stream.
        # `/t/{id}/posts.json` is never cached: ask it which are in the topic.
        known = set(stream)
        found = _posts(get, tid, sorted(i for i in held if i not in known))
        posts.extend(found)
        stream.extend(p["id"] for p in found if p["id"] not in known)
    shown = set(stream)
    moved = _moved(get, tid, sorted(i for i in held if i not in shown))
    category = head.get("category_id")
    reason = None if category_reason is None else category_reason(
        category if isinstance(category, int) else None)
    return TopicRead(parse(path, build_thread, base_url, head, posts, reason), tuple(stream),
                     moved)


def _posts(get: Get, tid: int, ids: list[int]) -> list[dict[str, Any]]:
    """The posts `ids` of topic `tid` that it holds, in chunks of `CHUNK`."""
    found: list[dict[str, Any]] = []
    for start in range(0, len(ids), CHUNK):
        more = get("posts", tid, ids[start : start + CHUNK], include_raw="true")
        found.extend(parse(f"/t/{tid}/posts.json", post_list, more))
    return found


def _moved(get: Get, tid: int, ids: list[int]) -> tuple[tuple[int, int], ...]:
    """Where held posts that left topic `tid` went: a moved post keeps its id, and
    `/posts/{id}.json` (never cached) names its topic now; a deleted one is a 404."""
    out = []
    for pid in ids:
        try:
            topic = parse(f"/posts/{pid}.json", post_topic, get("post_by_id", pid))
        except (NotFoundError, AuthError):
            continue
        if topic != tid:
            out.append((pid, topic))
    return tuple(out)
