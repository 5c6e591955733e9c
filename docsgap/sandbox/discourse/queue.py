"""The sandbox forum's watched words and approval queue, as Discourse's `NewPostManager`,
`WordWatcher`, `ReviewableQueuedPost` and `PostsController#pending` have them.

- Blocked words (`block`): any non-staff post containing one is a 422 naming the word(s).
- A post waits for approval (`enqueued`, 200, `pending_post`) when its author is not staff and
  has trust level 0-1 with fewer than `approve_post_count` posts, or is in none of
  `approve_unless_allowed_groups`, or the text holds a `require_approval` word, or the reply's
  category has `require_reply_approval` (staff review there, so theirs never wait).
- `GET /posts/{username}/pending.json`: that user's waiting posts, newest first, for the user
  and staff; a 404 for anyone else.
- A moderator approves (the post is created as written, closed topic or not) or rejects (it
  leaves the queue and is never shown); neither is visible to the author's API key but by
  the post appearing, or the entry leaving the list.
"""

from __future__ import annotations

import re

from docsgap.sandbox.discourse.state import ForumState
from docsgap.sandbox.discourse.views import avatar
from docsgap.sandbox.wire import (
    DISCOURSE_JSON,
    DISCOURSE_NOT_FOUND,
    JSON,
    HttpError,
    Response,
    discourse_error,
    iso,
    json_response,
)

BLOCKED_ONE = "Sorry, you can't post the word '{}'; it's not allowed."
BLOCKED_MANY = "Sorry, you can't post that. Not allowed: {}."
"""`contains_blocked_word(s)` (server.en.yml); words HTML-escaped, joined with ", "."""


def matches(words: list[str], text: str) -> list[str]:
    """The watched `words` found in `text`, as written there (`WordWatcher`: case-insensitive,
    `*` matches any non-space run, whole words only: no word character on either side)."""
    found: list[str] = []
    for word in words:
        pattern = re.escape(word).replace(r"\*", r"\S*")
        for m in re.finditer(rf"(?:\W|^)({pattern})(?=\W|$)", text, re.IGNORECASE):
            if m.group(1) not in found:
                found.append(m.group(1))
    return found


def blocked(state: ForumState, user: JSON, text: str) -> str | None:
    """The 422's message for a non-staff post holding `block` words (checked before anything
    else of `NewPostManager#perform`), or None."""
    if state.is_staff(user):
        return None
    found = matches(state.settings.watched_words.get("block", []), text)
    if not found:
        return None
    escaped = [w.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") for w in found]
    return (BLOCKED_ONE.format(escaped[0]) if len(escaped) == 1
            else BLOCKED_MANY.format(", ".join(escaped)))


def approval_reason(state: ForumState, user: JSON, topic: JSON | None, text: str) -> str | None:
    """Why `NewPostManager.post_needs_approval?` would queue the post (None: it is created)."""
    if state.is_staff(user):
        return None
    settings = state.settings
    if user["trust_level"] <= 1 and _post_count(state, user) < settings.approve_post_count:
        return "post_count"
    if not state.groups_of(user) & set(settings.approve_unless_allowed_groups):
        return "group"
    if matches(settings.watched_words.get("require_approval", []), text):
        return "watched_word"
    if topic is not None and state.categories[topic["category_id"]].get("require_reply_approval"):
        return "category"
    return None


def _post_count(state: ForumState, user: JSON) -> int:
    return sum(1 for p in state.posts.values()
               if p["user_id"] == user["id"] and p["deleted_at"] is None)


def enqueue(state: ForumState, user: JSON, topic: JSON | None, raw: str, now: float, *,
            reply_to: int | None, title: str = "", category: int | None = None,
            reason: str) -> JSON:
    """Queue the post; the `NewPostResultSerializer` answer (`reason` is for staff only, who
    are never queued, so it is left out)."""
    reviewable_id = max(state.queued, default=100) + 1
    state.queued[reviewable_id] = {
        "id": reviewable_id, "status": "pending", "user_id": user["id"], "raw": raw,
        "topic_id": topic["id"] if topic else None, "title": title or None,
        "category_id": topic["category_id"] if topic else category,
        "reply_to_post_number": reply_to, "created_at": iso(now), "reason": reason,
        "post_id": None,
    }
    waiting = sum(1 for q in state.queued.values()
                  if q["user_id"] == user["id"] and q["status"] == "pending")
    return {"action": "enqueued", "pending_post": {"id": reviewable_id, "raw": raw,
                                                   "created_at": iso(now)},
            "pending_count": waiting, "success": True}


def review(state: ForumState, reviewable_id: int, verdict: str, now: float) -> JSON:
    """A moderator's `approve_post` (the post is created as queued, skipping validations and
    the topic's closed state) or `reject_post` (it leaves the queue). Only pending posts."""
    item = state.queued[reviewable_id]
    if item["status"] != "pending":
        raise ValueError(f"queued post {reviewable_id} is {item['status']}, not pending")
    if verdict == "reject":
        item["status"] = "rejected"
        return dict(item)
    if verdict != "approve":
        raise ValueError(f"unknown review {verdict!r} (approve or reject)")
    user = state.users[item["user_id"]]
    topic = (state.topics[item["topic_id"]] if item["topic_id"] is not None
             else state.new_topic(user, item["title"] or "", item["category_id"] or 1, [], now))
    post = state.add_post(topic, user, item["raw"], now, reply_to=item["reply_to_post_number"])
    item.update(status="approved", post_id=post["id"], topic_id=topic["id"])
    return dict(item)


def pending_posts(state: ForumState, viewer: JSON | None, username: str, root: str
                  ) -> Response:
    """`GET /posts/{username}/pending.json` (`PostsController#pending`): login required; the
    user's own, or anyone's for staff (`can_edit_user?`), else 404; `PendingPostSerializer`
    items newest first. `root` is the scheme and host the client used."""
    if viewer is None:
        raise HttpError(discourse_error(403, "You need to be logged in to do that.",
                                        "not_logged_in"))
    user = state.user(username)
    if user is None or (user["id"] != viewer["id"] and not state.is_staff(viewer)):
        raise HttpError(discourse_error(404, DISCOURSE_NOT_FOUND, "not_found"))
    items = sorted((q for q in state.queued.values()
                    if q["user_id"] == user["id"] and q["status"] == "pending"),
                   key=lambda q: (q["created_at"], q["id"]), reverse=True)
    site = root + state.base_path
    return json_response(200, {"pending_posts": [_pending_json(state, user, q, site)
                                                 for q in items]},
                         content_type=DISCOURSE_JSON)


def _pending_json(state: ForumState, user: JSON, item: JSON, site: str) -> JSON:
    topic = state.topics.get(item["topic_id"]) if item["topic_id"] is not None else None
    return {
        "id": item["id"], "avatar_template": avatar(user["username"], state.base_path),
        "category_id": item["category_id"], "created_at": item["created_at"],
        "created_by_id": user["id"], "name": user["name"], "raw_text": item["raw"],
        "title": item["title"] or (topic["title"] if topic else None),
        "topic_id": item["topic_id"],
        "topic_url": f"{site}/t/{topic['slug']}/{topic['id']}" if topic else None,
        "username": user["username"],
    }
