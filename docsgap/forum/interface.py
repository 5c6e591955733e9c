"""What docsgap needs from a forum, in domain types only (no pydiscourse objects leak out)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Protocol

from docsgap.models import Post, PostRef, Thread

NOT_LOOKED_AT = "older than the caller's cursor: not looked at"
"""`LatestPost.topic_withheld` of a post below `newer_than` whose category was not checked."""


@dataclass(frozen=True, slots=True)
class LatestPost:
    """One item of the latest-posts stream: the post (with its raw text) and what the stream
    says about its topic, so no topic needs reading to judge the post."""

    post: Post
    topic_title: str
    topic_slug: str
    category_id: int | None = None
    topic_withheld: str | None = None
    """Why the whole topic is off limits (its category is read-restricted); the post and the
    title are then withheld too."""


@dataclass(frozen=True, slots=True)
class QueuedReply:
    """A reply Discourse holds for a moderator (`"action": "enqueued"`). It is in no topic and
    no read shows it until a moderator approves it; a rejected one never appears."""

    pending_id: int | None
    """The queued post's id (`pending_post.id`, a reviewable id; None from a Discourse that
    does not send it)."""
    topic_id: int
    url: str
    """The topic, where the reply appears once approved."""


@dataclass(frozen=True, slots=True)
class TopicRead:
    """A topic as read by `Forum.read_topic`: its head and the posts that were fetched."""

    thread: Thread
    """Topic metadata and the posts fetched (the first chunk and every id not held)."""
    stream: tuple[int, ...]
    """Every visible post id of the topic, oldest first."""
    moved: tuple[tuple[int, int], ...] = ()
    """(post id, topic id now) of posts in `have` a moderator moved to another topic."""


class Forum(Protocol):
    """A Discourse-like forum. Errors are `docsgap.errors.RemoteError` subclasses."""

    base_url: str

    def latest_posts(self, before: int | None, *, newer_than: int | None = None
                     ) -> list[LatestPost]:
        """One page of the latest-posts stream (regular posts, highest id first): the newest
        with `before=None`, else the posts with ids below `before`. Empty past the end. Posts
        with ids at or below `newer_than` (which the caller has) may come back withheld
        (`NOT_LOOKED_AT`), as nothing is looked up for them."""
        ...

    def thread(self, topic_id: int) -> Thread:
        """Every visible post of a topic, with raw Markdown, oldest first; posts (or the whole
        topic) docsgap must not use come back `withheld`, without their text."""
        ...

    def read_topic(self, topic_id: int, have: Collection[int] = (), *, public: bool = False
                   ) -> TopicRead:
        """The topic's head and posts, fetching no post whose id is in `have` beyond the
        first chunk (which comes with the head anyway). `public`: read it as the public sees
        it first, which proves its category public without reading the category list."""
        ...

    def reply(self, topic_id: int, raw: str, *, reply_to_post_number: int | None = None
              ) -> PostRef | QueuedReply:
        """Post a reply. The same reply already posted (Discourse's memo or its
        `unique_posts_mins` refusal) returns that post; one Discourse holds for a moderator
        returns `QueuedReply`; a refused write (closed, deleted or unknown topic, a blocked
        watched word, too short or too long: a 422) raises `WriteRejectedError`; a key that
        may not post raises `AuthError`; a rate limit the run will not wait out raises
        `RepliesHeldError` (the run's later posts are then held, `act/held.py`)."""
        ...

    def queued_reply(self, topic_id: int, raw: str) -> QueuedReply | None:
        """This user's reply to the topic that still waits for a moderator, carrying the same
        markers as `raw` (or the same text), or None. `AuthError` or `NotFoundError` when the
        forum will not list them (a granular key; a Discourse without the endpoint)."""
        ...


# --- read-only probes for `docsgap doctor` ---------------------------------------------------


@dataclass(frozen=True)
class SiteInfo:
    """What the forum says about itself."""

    endpoint: str
    title: str | None = None
    version: str | None = None
    login_required: bool = False
    """The site refused it to the anonymous (`login_required`): only an API key reads it."""


@dataclass(frozen=True)
class ForumUser:
    """The parts of a Discourse user that decide whether it can post."""

    username: str
    trust_level: int | None = None
    staff: bool = False
    suspended: bool = False
    silenced: bool = False
    active: bool = True
    post_count: int | None = None
    """Posts made so far (None: not said). Below trust level 2 an account with none is on its
    first day of posting: Discourse's `max_replies_in_first_day` (10) caps its replies."""


class ForumProbe(Protocol):
    """Read-only questions to the forum: `site()` proves the URL is a Discourse that answers
    (`/about.json` or `/site.json`); `session_user()` is whom the API key acts as (None when
    anonymous; `AuthError` for a granular key, which may not ask); `key_reads_topic()` reads a
    public topic with the key (a granular key's `topics:read`) and returns its id;
    `key_reads_stream()` reads `/posts.json` and the newest post's topic with the key
    (`posts:list` and `topics:read`: what a forum that requires login asks of a granular key);
    `user(name)` is a profile (None if there is no such user)."""

    def site(self) -> SiteInfo: ...
    def session_user(self) -> ForumUser | None: ...
    def key_reads_topic(self) -> int: ...
    def key_reads_stream(self) -> int: ...
    def user(self, username: str) -> ForumUser | None: ...
