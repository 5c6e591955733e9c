"""The sandbox forum's data (users, categories, topics, posts) and the rules for writing to it."""

from __future__ import annotations

import re
from bisect import bisect_left, insort
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from docsgap.sandbox import markup
from docsgap.sandbox.textscan import forum_mentions
from docsgap.sandbox.wire import (
    DISCOURSE_INVALID_ACCESS,
    DISCOURSE_JSON,
    DISCOURSE_NOT_FOUND,
    JSON,
    HttpError,
    Response,
    discourse_error,
    discourse_rate_limited,
    iso,
    json_response,
)

REGULAR, MODERATOR_ACTION, SMALL_ACTION, WHISPER = 1, 2, 3, 4
ADMIN_API_WINDOW = 60.0


@dataclass
class ForumSettings:
    """Site settings the sandbox honours (defaults as on a stock Discourse)."""

    min_post_length: int = 20
    duplicate_window: float = 120.0
    """Identical API payloads from one user within this many seconds return the first post."""
    admin_api_per_minute: int | None = None
    """The site-wide bucket all admin API keys share (a real site: 60); `None` disables it."""
    create_post_interval: float = 0.0
    """Seconds a non-staff user must wait between posts (Discourse: 5); 0 disables it."""


@dataclass
class ForumState:
    """Everything the forum knows; callers hold the sandbox lock."""

    users: dict[int, JSON]
    categories: dict[int, JSON]
    topics: dict[int, JSON]
    posts: dict[int, JSON]
    api_keys: dict[str, str | None]
    """Key -> the username it is bound to, or `None` for an all-users key."""
    tags: dict[str, int] = field(default_factory=dict)
    settings: ForumSettings = field(default_factory=ForumSettings)
    mentions_seen: list[JSON] = field(default_factory=list)
    _memo: dict[tuple[Any, ...], tuple[float, int]] = field(default_factory=dict)
    _admin_hits: deque[float] = field(default_factory=deque)
    _last_post_at: dict[int, float] = field(default_factory=dict)
    # Indexes, so that serving and seeding cost per post, not per post times forum size.
    _post_order: list[int] = field(default_factory=list)
    """Ids of regular posts, ascending (what `/posts.json` walks)."""
    _last_post_id: int = 5000
    _last_topic_id: int = 1000
    _by_name: dict[str, JSON] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._post_order = sorted(i for i, p in self.posts.items() if p["post_type"] == REGULAR)
        self._last_post_id = max(self.posts, default=5000)
        self._last_topic_id = max(self.topics, default=1000)

    # --- lookups ---------------------------------------------------------------------------

    def user(self, username: str | None) -> JSON | None:
        """The user called `username` (case-insensitive)."""
        if not username:
            return None
        if len(self._by_name) != len(self.users):  # users added or removed since
            self._by_name = {u["username"].lower(): u for u in self.users.values()}
        return self._by_name.get(username.lower())

    def latest_posts(self, before: int | None, viewer: JSON | None, limit: int) -> list[JSON]:
        """Up to `limit` regular, undeleted posts `viewer` may see with ids below `before`
        (all when `None`), highest id first: a walk down the id index, not a scan."""
        order = self._post_order
        index = len(order) if before is None else bisect_left(order, before)
        seen: dict[int, bool] = {}
        found: list[JSON] = []
        while index > 0 and len(found) < limit:
            index -= 1
            post = self.posts.get(order[index])
            if post is None or post["post_type"] != REGULAR or post.get("deleted_at") is not None:
                continue
            topic_id = post["topic_id"]
            if topic_id not in seen:
                topic = self.topics.get(topic_id)
                seen[topic_id] = topic is not None and self.can_see_category(
                    viewer, topic["category_id"]) and (topic["visible"] or self.is_staff(viewer))
            if seen[topic_id]:
                found.append(post)
        return found

    def user_exists(self, username: str) -> bool:
        """Whether a mention of `username` would link to a real user."""
        return self.user(username) is not None

    @staticmethod
    def is_staff(user: JSON | None) -> bool:
        """Admins and moderators are staff."""
        return bool(user and (user.get("admin") or user.get("moderator")))

    def can_see_category(self, user: JSON | None, category_id: int) -> bool:
        """Read-restricted categories are for staff only in the sandbox."""
        category = self.categories.get(category_id)
        return category is not None and (not category["read_restricted"] or self.is_staff(user))

    def topic_for(self, topic_id: int, user: JSON | None) -> JSON:
        """The topic if `user` may see it, else a 404 (Discourse hides what you cannot see)."""
        topic = self.topics.get(topic_id)
        if topic is None or not self.can_see_category(user, topic["category_id"]):
            raise HttpError(discourse_error(404, DISCOURSE_NOT_FOUND, "not_found"))
        if not topic["visible"] and not self.is_staff(user):
            raise HttpError(discourse_error(404, DISCOURSE_NOT_FOUND, "not_found"))
        return topic

    def topic_posts(self, topic: JSON, user: JSON | None) -> list[JSON]:
        """The posts `user` may see, in post-number order (whispers are staff-only)."""
        posts = [self.posts[i] for i in topic["post_ids"]]
        if not self.is_staff(user):
            posts = [p for p in posts if p["post_type"] != WHISPER]
        return [p for p in posts if p.get("deleted_at") is None]

    def visible_topics(self, user: JSON | None) -> list[JSON]:
        """Topics `user` can list."""
        return [
            t
            for t in self.topics.values()
            if self.can_see_category(user, t["category_id"])
            and (t["visible"] or self.is_staff(user))
        ]

    # --- rate limits -----------------------------------------------------------------------

    def charge_admin_api(self, now: float) -> None:
        """Count one request against the shared admin-key bucket or raise its 429."""
        limit = self.settings.admin_api_per_minute
        if limit is None:
            return
        while self._admin_hits and self._admin_hits[0] <= now - ADMIN_API_WINDOW:
            self._admin_hits.popleft()
        if len(self._admin_hits) >= limit:
            wait = max(1, int(self._admin_hits[0] + ADMIN_API_WINDOW - now + 0.999))
            raise HttpError(discourse_rate_limited(wait, "admin_api_key_rate_limit"))
        self._admin_hits.append(now)

    # --- writes ----------------------------------------------------------------------------

    def create_post(self, user: JSON, form: JSON, now: float) -> JSON:
        """`POST /posts.json`: a reply (`topic_id`) or a new topic (`title`, `category`)."""
        raw = str(form.get("raw") or "")
        topic_id = _int_or_none(form.get("topic_id"))
        reply_to = _int_or_none(form.get("reply_to_post_number"))
        title = str(form.get("title") or "")
        key = (user["id"], topic_id, raw, reply_to, title)
        remembered = self._memo.get(key)
        if remembered and now - remembered[0] <= self.settings.duplicate_window:
            return self.posts[remembered[1]]
        self._validate_raw(raw)
        self._check_post_rate(user, now)
        if topic_id is None:
            if not title.strip():
                raise HttpError(_post_errors("Title can\u2019t be blank"))
            category = _int_or_none(form.get("category")) or 1
            tags = form.get("tags") or []
            topic = self.new_topic(user, title, category, list(tags), now)
        else:
            topic = self.topic_for(topic_id, user)
            if (topic["closed"] or topic["archived"]) and not self.is_staff(user):
                raise HttpError(discourse_error(403, DISCOURSE_INVALID_ACCESS, "invalid_access"))
        post = self.add_post(topic, user, raw, now, reply_to=reply_to)
        self._memo[key] = (now, post["id"])
        self._last_post_at[user["id"]] = now
        return post

    def new_topic(
        self, user: JSON, title: str, category_id: int, tags: list[str], now: float
    ) -> JSON:
        """Create an empty topic (its first post is added by the caller)."""
        if category_id not in self.categories:
            raise HttpError(_post_errors("Category is invalid"))
        topic_id = self._last_topic_id + 1
        if topic_id in self.topics:  # topics placed by hand (the seed): once, as before
            topic_id = max(self.topics) + 1
        self._last_topic_id = topic_id
        for tag in tags:
            self.tags.setdefault(tag, max(self.tags.values(), default=0) + 1)
        stamp = iso(now)
        topic: JSON = {
            "id": topic_id, "title": title, "slug": slugify(title), "category_id": category_id,
            "tags": tags, "closed": False, "archived": False, "pinned": False,
            "pinned_globally": False, "visible": True, "views": 0, "like_count": 0,
            "created_at": stamp, "bumped_at": stamp, "last_posted_at": stamp,
            "user_id": user["id"], "post_ids": [], "accepted_answer": None,
        }
        self.topics[topic_id] = topic
        return topic

    def add_post(
        self,
        topic: JSON,
        user: JSON,
        raw: str,
        now: float,
        *,
        reply_to: int | None = None,
        post_type: int = REGULAR,
        action_code: str | None = None,
        created_at: str | None = None,
    ) -> JSON:
        """Append a post to `topic` (no permission checks: seeding and tests use it too)."""
        post_id = self._last_post_id + 1
        if post_id in self.posts:  # posts placed by hand
            post_id = max(self.posts) + 1
        self._last_post_id = post_id
        number = len(topic["post_ids"]) + 1
        stamp = created_at or iso(now)
        post: JSON = {
            "id": post_id, "topic_id": topic["id"], "post_number": number, "user_id": user["id"],
            "raw": raw, "cooked": markup.cook(raw, self.user_exists), "created_at": stamp,
            "updated_at": stamp, "reply_to_post_number": reply_to, "post_type": post_type,
            "action_code": action_code, "reply_count": 0, "version": 1, "deleted_at": None,
            "links": [[link.url, link.title] for link in markup.links(raw)],
        }
        self.posts[post_id] = post
        if post_type == REGULAR:
            if self._post_order and self._post_order[-1] > post_id:
                insort(self._post_order, post_id)
            else:
                self._post_order.append(post_id)
        topic["post_ids"].append(post_id)
        if reply_to is not None:
            parent = next((self.posts[i] for i in topic["post_ids"]
                           if self.posts[i]["post_number"] == reply_to), None)
            if parent is not None:
                parent["reply_count"] += 1
        if post_type == REGULAR:
            topic["last_posted_at"] = topic["bumped_at"] = stamp
            for name in forum_mentions(raw):
                self.mentions_seen.append(
                    {"service": "forum", "topic_id": topic["id"], "post_id": post_id,
                     "username": user["username"], "mention": name}
                )
        return post

    def _validate_raw(self, raw: str) -> None:
        stripped = raw.strip()
        if not stripped:
            raise HttpError(_post_errors("Body can\u2019t be blank"))
        minimum = self.settings.min_post_length
        if len(stripped) < minimum:
            raise HttpError(_post_errors(f"Body is too short (minimum is {minimum} characters)"))

    def _check_post_rate(self, user: JSON, now: float) -> None:
        interval = self.settings.create_post_interval
        last = self._last_post_at.get(user["id"])
        if interval and last is not None and not self.is_staff(user) and now - last < interval:
            wait = max(1, int(last + interval - now + 0.999))
            raise HttpError(discourse_rate_limited(wait, "create_post"))


def _post_errors(message: str) -> Response:
    """Post-create failures: 422 with `errors` but no `error_type` (CONTRACTS.md §A6)."""
    return json_response(422, {"action": "create_post", "errors": [message]},
                         content_type=DISCOURSE_JSON)


def _int_or_none(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        bad = discourse_error(400, f"invalid value {value!r}", "invalid_parameters")
        raise HttpError(bad) from None


def slugify(title: str) -> str:
    """Discourse-style slug: lowercase ASCII words joined by `-` (`topic` when empty)."""
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return slug or "topic"
