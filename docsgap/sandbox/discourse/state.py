"""The sandbox forum's data (users, groups, categories, topics, posts), who may see what
(Guardian's rules: read-restricted categories, whispers, deleted and hidden posts) and the
moderation states a post can be in (deleted, hidden after flags, withdrawn by its author)."""

from __future__ import annotations

import re
from bisect import bisect_left, insort
from collections import deque
from dataclasses import dataclass, field, fields
from typing import Any

from docsgap.sandbox.discourse import markup
from docsgap.sandbox.discourse.anoncache import AnonCache
from docsgap.sandbox.textscan import forum_mentions
from docsgap.sandbox.wire import (
    DISCOURSE_NOT_FOUND,
    JSON,
    HttpError,
    discourse_error,
    discourse_rate_limited,
    iso,
)

REGULAR, MODERATOR_ACTION, SMALL_ACTION, WHISPER = 1, 2, 3, 4
ADMIN_API_WINDOW = 60.0
WITHDRAWN_TEXT = "(post deleted by author)"
"""What `PostDestroyer` revises a post's raw to when its author deletes it (`user_deleted`)."""
HIDDEN_TEXT = "<p>This post was flagged by the community and is temporarily hidden.</p>"
"""`flagging.user_must_edit`: a hidden post's cooked for everyone but staff and its author."""
HIDDEN_OWN_TEXT = ("<p>Your post was flagged by the community. Please "
                   "<a href=\"/my/messages\">see your messages</a>.</p>")


@dataclass
class ForumSettings:
    """Site settings the sandbox honours. Content rules default to a stock Discourse; the
    time-based limits are off unless asked for (`discourse()` turns them all on), so the demo
    never waits."""

    min_post_length: int = 20
    duplicate_window: float = 120.0
    """Identical API payloads from one user within this many seconds return the first post."""
    unique_posts_mins: float = 5.0
    """The same body again from a non-staff user within this many minutes is refused (422)."""
    admin_api_per_minute: int | None = None
    """The site-wide bucket every API key shares (a real site: 60); `None` disables it."""
    create_post_interval: float = 0.0
    """Seconds a non-staff user waits between posts (`rate_limit_create_post`, real: 5)."""
    new_user_create_post_interval: float = 0.0
    """The same for trust level 0 (`rate_limit_new_user_create_post`, real: 30)."""
    legacy_latest_posts: bool = False
    """`/posts.json` as older Discourse served it: the 50 ids at or below `before`, filtered
    afterwards, so a page can be short or empty long before the end."""
    login_required: bool = False
    """`login_required`: anonymous requests get 403 `not_logged_in` (JSON), except the
    session routes (`redirect_to_login_if_required` is skipped there)."""
    anon_cache_seconds: float = 0.0
    """How long anonymous answers of the cached actions are kept (`discourse_expires_in`,
    real: 60); 0 turns the anonymous cache off."""
    anon_cache_store_threshold: int = 2
    """Asks of one cache key within that time before its answer is stored (real: 2)."""
    max_post_length: int = 32000
    body_min_entropy: int = 7
    """Distinct characters a body needs (`TextSentinel#entropy`)."""
    approve_post_count: int = 0
    """Posts of users at trust level 0-1 wait for approval until they have this many."""
    approve_unless_allowed_groups: list[str] = field(default_factory=lambda: ["trust_level_0"])
    """Posts of users in none of these groups wait for approval (real default: everyone)."""
    watched_words: dict[str, list[str]] = field(default_factory=dict)
    """Action -> words: `block` (422) and `require_approval` (queued) are honoured."""
    # The new-user defaults below are stock Discourse's, read in `config/site_settings.yml`
    # (posting: newuser_max_links 2, newuser_max_mentions_per_post 2, max_mentions_per_post 10,
    # newuser_max_replies_per_topic 3, max_consecutive_replies 3; spam:
    # newuser_spam_host_threshold 3; rate_limits: max_replies_in_first_day 10,
    # rate_limit_new_user_create_post 30). A site may change any of them.
    newuser_max_links: int = 2
    """Links a trust level 0 post may hold (`PostValidator`, 422 over it)."""
    newuser_max_mentions_per_post: int = 2
    max_mentions_per_post: int = 10
    """Mentions a post may hold below trust level 1 / from trust level 1 (staff: any)."""
    newuser_max_replies_per_topic: int = 3
    """Posts a trust level 0 user may make in someone else's topic until replied to."""
    newuser_spam_host_threshold: int = 3
    """Posts of a trust level 0 user that may link one host, this one included, less one."""
    allowed_spam_host_domains: list[str] = field(default_factory=list)
    max_consecutive_replies: int = 3
    """A non-staff user's posts in a row in someone else's topic (0: off)."""
    max_replies_in_first_day: int = 10
    """Replies a day for users on their first day (`first-day-replies-per-day`, 429)."""

    @classmethod
    def discourse(cls) -> ForumSettings:
        """Every limit on, at a stock Discourse's values (the anonymous cache included)."""
        return cls(admin_api_per_minute=60, create_post_interval=5.0,
                   new_user_create_post_interval=30.0, anon_cache_seconds=60.0)

    def update(self, values: dict[str, Any]) -> None:
        """Set known settings from a seed's `settings` (unknown names are an error)."""
        known = {f.name for f in fields(self)}
        for name, value in values.items():
            if name not in known:
                raise ValueError(f"unknown forum setting {name!r}")
            setattr(self, name, value)


@dataclass
class ForumState:
    """Everything the forum knows; callers hold the sandbox lock."""

    users: dict[int, JSON]
    categories: dict[int, JSON]
    topics: dict[int, JSON]
    posts: dict[int, JSON]
    api_keys: dict[str, JSON]
    """Key -> `{"username": bound user or None, "scopes": granular scopes or None}`."""
    tags: dict[str, int] = field(default_factory=dict)
    settings: ForumSettings = field(default_factory=ForumSettings)
    base_path: str = "/forum"
    """Where the site lives below the host ("" when served from the root)."""
    mentions_seen: list[JSON] = field(default_factory=list)
    memo: dict[tuple[Any, ...], tuple[float, Any]] = field(default_factory=dict)
    """API payload -> (when, its answer: a post id, an `enqueued` answer or a 422)."""
    queued: dict[int, JSON] = field(default_factory=dict)
    """The approval queue: `ReviewableQueuedPost`s by id, with their `status`."""
    recent_bodies: dict[tuple[int, str], float] = field(default_factory=dict)
    last_post_at: dict[int, float] = field(default_factory=dict)
    first_day_replies: dict[int, list[float]] = field(default_factory=dict)
    """User id -> when the first-day replies limiter counted each reply (last day)."""
    anon_cache: AnonCache = field(default_factory=AnonCache)
    _admin_hits: deque[float] = field(default_factory=deque)
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

    # --- who is who ------------------------------------------------------------------------

    def user(self, username: str | None) -> JSON | None:
        """The user called `username` (case-insensitive)."""
        if not username:
            return None
        if len(self._by_name) != len(self.users):  # users added or removed since
            self._by_name = {u["username"].lower(): u for u in self.users.values()}
        return self._by_name.get(username.lower())

    def user_exists(self, username: str) -> bool:
        """Whether a mention of `username` would link to a real user."""
        return self.user(username) is not None

    @staticmethod
    def is_staff(user: JSON | None) -> bool:
        """Admins and moderators are staff."""
        return bool(user and (user.get("admin") or user.get("moderator")))

    @staticmethod
    def groups_of(user: JSON | None) -> set[str]:
        """The user's groups, automatic ones included (`everyone`, `trust_level_N` for every
        level up to theirs, `staff`, `admins`, `moderators`)."""
        if user is None:
            return {"everyone"}
        names = {"everyone", *(f"trust_level_{n}" for n in range(user["trust_level"] + 1))}
        if user.get("admin"):
            names |= {"admins", "staff"}
        if user.get("moderator"):
            names |= {"moderators", "staff"}
        return names | set(user.get("groups") or ())

    # --- what they may see (Guardian) ------------------------------------------------------

    def can_see_category(self, user: JSON | None, category_id: int) -> bool:
        """A read-restricted category is for admins and the groups it names only."""
        category = self.categories.get(category_id)
        if category is None:
            return False
        if not category["read_restricted"] or (user is not None and user.get("admin")):
            return True
        return bool(self.groups_of(user) & set(category["groups"]))

    def topic_for(self, topic_id: int, user: JSON | None) -> JSON:
        """The topic if `user` may see it, else a 404 (Discourse hides what you cannot see).
        Staff see deleted topics; an unlisted topic is for anyone with its URL
        (`Guardian#can_see_topic?` does not look at `visible`: only lists do)."""
        topic = self.topics.get(topic_id)
        staff = self.is_staff(user)
        if (topic is None or not self.can_see_category(user, topic["category_id"])
                or (topic["deleted_at"] is not None and not staff)):
            raise HttpError(discourse_error(404, DISCOURSE_NOT_FOUND, "not_found"))
        return topic

    def topic_posts(
        self, topic: JSON, user: JSON | None, *, show_deleted: bool = False
    ) -> list[JSON]:
        """The posts `user` may see in the topic's stream, by post number: whispers are for
        staff; deleted posts are for staff only, and even then only the first post unless
        `show_deleted` (`TopicView` hides the rest behind `has_deleted`)."""
        staff = self.is_staff(user)
        posts = [self.posts[i] for i in topic["post_ids"]]
        return [p for p in posts
                if (p["post_type"] != WHISPER or staff)
                and (p["deleted_at"] is None
                     or (staff and (show_deleted or p["post_number"] == 1)))]

    def can_see_post(self, post: JSON, user: JSON | None) -> bool:
        """One post by id (`/posts/{id}.json`, `post_ids[]`): deleted ones only for staff."""
        staff = self.is_staff(user)
        return (post["post_type"] != WHISPER or staff) and (post["deleted_at"] is None or staff)

    def visible_topics(self, user: JSON | None) -> list[JSON]:
        """Topics `user` can list (never deleted ones; unlisted ones for staff)."""
        return [
            t for t in self.topics.values()
            if t["deleted_at"] is None and self.can_see_category(user, t["category_id"])
            and (t["visible"] or self.is_staff(user))
        ]

    def latest_posts(
        self, before: int | None, viewer: JSON | None, limit: int, *, window: int | None = None
    ) -> list[JSON]:
        """Up to `limit` posts `/posts.json` lists for `viewer` (regular, neither deleted nor
        hidden, in listed topics they can see: `Post.visible` leaves out unlisted topics' posts
        for staff too) with ids below `before` (all when `None`), highest id
        first: a walk down the id index, not a scan. With `window`, only ids in
        (before - window, before] (older Discourse; `before` None: the newest id)."""
        order = self._post_order
        if window is not None:
            top = before if before is not None else (order[-1] if order else 0)
            index, floor = bisect_left(order, top + 1), top - window
        else:
            index, floor = (len(order) if before is None else bisect_left(order, before)), 0
        seen: dict[int, bool] = {}
        found: list[JSON] = []
        while index > 0 and len(found) < limit and order[index - 1] > floor:
            index -= 1
            post = self.posts.get(order[index])
            if (post is None or post["post_type"] != REGULAR or post["deleted_at"] is not None
                    or post["hidden"]):
                continue
            topic_id = post["topic_id"]
            if topic_id not in seen:
                topic = self.topics.get(topic_id)
                seen[topic_id] = topic is not None and topic["deleted_at"] is None and (
                    self.can_see_category(viewer, topic["category_id"]) and topic["visible"])
            if seen[topic_id]:
                found.append(post)
        return found

    def deleted_count(self, topic: JSON) -> int:
        """Deleted posts in the topic (what `has_deleted` tells staff)."""
        return sum(1 for i in topic["post_ids"] if self.posts[i]["deleted_at"] is not None)

    # --- moderation ------------------------------------------------------------------------

    def delete_post(self, post_id: int, by: str, now: float) -> None:
        """A moderator deletes a post; deleting the first post deletes the topic."""
        post = self.posts[post_id]
        post["deleted_at"] = iso(now)
        post["deleted_by"] = self._user_id(by)
        if post["post_number"] == 1:
            self.topics[post["topic_id"]]["deleted_at"] = post["deleted_at"]

    def hide_post(self, post_id: int) -> None:
        """Flags hide a post: it stays in the stream with `hidden`, its text only for staff."""
        self.posts[post_id]["hidden"] = True

    def withdraw_post(self, post_id: int) -> None:
        """Its author deletes a reply: the raw is revised to a notice, `user_deleted` is set,
        and the post stays until a job removes it."""
        post = self.posts[post_id]
        post["raw"] = WITHDRAWN_TEXT
        post["cooked"] = markup.cook(WITHDRAWN_TEXT)
        post["user_deleted"] = True
        post["version"] += 1

    def edit_post(self, post_id: int, raw: str, now: float) -> None:
        """Its author edits a post (`PostRevisor`): new raw and cooked, `updated_at` and a new
        `version`. The post keeps its id, so `/posts.json` does not list it anew."""
        post = self.posts[post_id]
        post["raw"] = raw
        post["cooked"] = markup.cook(raw, self.user_exists)
        post["links"] = [[link.url, link.title] for link in markup.links(raw)]
        post["updated_at"] = iso(now)
        post["version"] += 1

    def move_posts(self, topic_id: int, post_ids: list[int], destination: int, by: str,
                   now: float) -> None:
        """A moderator moves posts to an existing topic (`PostMover#to_topic`, sequential): each
        keeps its id and gets the destination and the next post numbers there; a first post is
        created anew in the destination (a new id, the original's `created_at`) and stays where
        it was. The original topic gets a small-action post and is closed once emptied."""
        source, target = self.topics[topic_id], self.topics[destination]
        moving = sorted((self.posts[i] for i in post_ids), key=lambda p: p["post_number"])
        everything = len(moving) == sum(
            1 for i in source["post_ids"] if self.posts[i]["post_type"] in (REGULAR, WHISPER)
            and self.posts[i]["deleted_at"] is None)
        for post in moving:
            if post["post_number"] == 1:
                self.add_post(target, self.users[post["user_id"]], post["raw"], now,
                              created_at=post["created_at"])
                continue
            source["post_ids"].remove(post["id"])
            target["post_ids"].append(post["id"])
            post["topic_id"] = destination
            post["post_number"] = max(self.posts[i]["post_number"]
                                      for i in target["post_ids"]) + 1
            post["reply_to_post_number"] = None
        moderator = self.user(by)
        assert moderator is not None
        self.add_post(source, moderator, f"I moved {len(moving)} posts to an existing topic: "
                      f"[{target['title']}]({self.base_path}/t/{target['slug']}/{destination})",
                      now, post_type=SMALL_ACTION, action_code="split_topic")
        if everything:  # `close_topic_and_schedule_deletion` (the deletion is not modelled)
            source["closed"] = True

    def _user_id(self, username: str) -> int:
        user = self.user(username)
        if user is None:
            raise KeyError(username)
        return int(user["id"])

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

    # --- building --------------------------------------------------------------------------

    def new_topic(
        self, user: JSON, title: str, category_id: int, tags: list[str], now: float
    ) -> JSON:
        """Create an empty topic (its first post is added by the caller)."""
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
            "user_id": user["id"], "post_ids": [], "accepted_answer": None, "deleted_at": None,
            "archetype": "regular",
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
            "deleted_by": None, "hidden": False, "user_deleted": False,
            "links": [[link.url, link.title] for link in markup.links(raw)],
        }
        self.posts[post_id] = post
        topic["post_ids"].append(post_id)
        if post_type == REGULAR:
            if self._post_order and self._post_order[-1] > post_id:
                insort(self._post_order, post_id)
            else:
                self._post_order.append(post_id)
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


def slugify(title: str) -> str:
    """Discourse-style slug: lowercase ASCII words joined by `-` (`topic` when empty)."""
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return slug or "topic"
