"""`DiscourseForum`: the Forum protocol over pydiscourse; the only module that imports it."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection
from typing import Any

import requests
from pydiscourse import DiscourseClient
from pydiscourse.exceptions import DiscourseError

from docsgap.budget import Budget
from docsgap.errors import (
    AuthError,
    ConfigError,
    NotFoundError,
    PayloadError,
    RateLimitedError,
    RepliesHeldError,
    UnavailableError,
    WriteRejectedError,
)
from docsgap.forum.discourse_http import (
    BAD_URL,
    HOOKS,
    LOGIN_HINT,
    Intercepted,
    LoginRequired,
    error_text,
    limit_name,
    login_required,
    redirected,
    root_hint,
    translate,
    wait_hint,
)
from docsgap.forum.discourse_payload import (
    category_flags,
    latest_items,
    parse,
    post_ref,
    split_newer,
)
from docsgap.forum.discourse_pending import PendingPosts, same_reply
from docsgap.forum.discourse_rules import advice, explain
from docsgap.forum.discourse_topic import read_whole
from docsgap.forum.interface import (
    NOT_LOOKED_AT,
    LatestPost,
    QueuedReply,
    TopicRead,
)
from docsgap.http_budget import WaitAllowance
from docsgap.models import PostRef, Thread

log = logging.getLogger(__name__)

SERVICE = "forum"
PAGE = 50
"""Posts per `/posts.json` page; older Discourse returned the ids in one window of 50 instead."""
MAX_EMPTY_WINDOWS = 200
"""Empty id windows one `latest_posts` call walks through (10,000 ids) before giving up."""
TOO_SIMILAR = "too similar to what you posted recently"
"""Discourse's `just_posted_that`: the same body again within `unique_posts_mins`."""


_PUBLIC_LISTS = frozenset({"posts", "categories"})


def _sleep(seconds: float) -> None:
    """The default wait (looked up at construction, so tests can swap it)."""
    time.sleep(seconds)


class DiscourseForum:
    """Reads and replies on a Discourse site through pydiscourse's public methods.

    Every request goes through pydiscourse; a `requests` response hook (passed with
    pydiscourse's `override_request_kwargs`) intercepts 429s and redirects before pydiscourse
    sees them. pydiscourse's own 429 loop would sleep on a fixed schedule, ignore `Retry-After`
    and the run's budget, and crash with KeyError on search 429s; ours honours the wait hint,
    charges each attempt to the budget and stops once `max_wait` seconds of waiting are used.

    `/posts.json` and the category list are asked again anonymously when the API key is
    refused (403): a granular key without `posts:list` (Discourse 3.1) may not read
    `/posts.json`, and a public forum answers
    both without one. Anonymous answers never show more than the key's would.
    """

    def __init__(
        self,
        url: str,
        api_username: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = 30.0,
        budget: Budget | None = None,
        max_wait: float = 120.0,
        sleep: Callable[[float], None] | None = None,
        max_retries: int = 3,
        transient_retries: int = 2,
    ) -> None:
        self.base_url = url.rstrip("/")
        # Anonymous reads: pydiscourse sends both headers and requests drops `None` values.
        username = api_username if api_key else None
        self._client = DiscourseClient(self.base_url, username, api_key, timeout=timeout)
        self._anonymous = DiscourseClient(self.base_url, None, None, timeout=timeout)
        self._keyed = bool(api_key)
        self._read_anonymously: set[str] = set()
        self._username = username
        self._budget = budget if budget is not None else Budget()
        self._allowance = WaitAllowance(SERVICE, max_wait)
        self._sleep = sleep if sleep is not None else _sleep
        self._max_retries = max_retries
        self._transient_retries = transient_retries
        self._requests = 0
        self._categories: dict[int, bool] | None = None
        self._windowed: bool | None = None
        """Whether `/posts.json` pages by id windows (older Discourse); None: not known yet."""
        self._pending = (PendingPosts(self.base_url, username) if api_key and username
                         else None)
        self._replies_held: tuple[float, str] | None = None
        """(monotonic deadline, why) once Discourse rate limits a reply for longer than the run
        may wait: the limit is the bot's, so the run's later replies are not sent."""

    @property
    def requests_made(self) -> int:
        """HTTP requests this adapter sent, retries included."""
        return self._requests

    # --- Forum protocol ---------------------------------------------------------------------

    def latest_posts(self, before: int | None, *, newer_than: int | None = None
                     ) -> list[LatestPost]:
        """One `/posts.json` page: posts with ids below `before` (all when None), highest id
        first, empty only past the end of the stream. Posts in read-restricted categories
        come back withheld.

        Older Discourse answers `before=B` with the ids in (B-50, B], filtered afterwards, so
        its pages can be short or empty long before the end. The first `before` asked tells
        which one this is: `before` is the lowest id of a page just read, so only the older
        query returns it again. There, `before` itself is dropped from each answer and an
        empty one moves the window down by 50 (at most `MAX_EMPTY_WINDOWS` times a page).

        Posts with ids at or below `newer_than` are judged by the category list only when it
        was read already (`NOT_LOOKED_AT` withheld otherwise), so a rerun that finds nothing
        new reads no category list."""
        ask = before
        for _ in range(MAX_EMPTY_WINDOWS):
            try:
                data = self._read("posts", "latest_posts", ask)
            except NotFoundError as exc:
                # Every Discourse serves /posts.json: a 404 is a wrong forum.url.
                raise ConfigError(f"forum.url {self.base_url!r} is not a Discourse site: "
                                  "/posts.json not found (404)",
                                  hint=root_hint(self.base_url)) from exc
            if newer_than is None:
                page = parse("/posts.json", latest_items, data, self._category_reason)
            else:
                fresh, held = parse("/posts.json", split_newer, data, newer_than)
                page = parse("/posts.json", latest_items, fresh, self._category_reason)
                page += parse("/posts.json", latest_items, held, self._known_reason)
                page.sort(key=lambda item: -item.post.id)
            if self._windowed is None and ask is not None:
                self._windowed = ask in {item.post.id for item in page}
                log.debug("/posts.json pages by %s", "id windows" if self._windowed else "before")
            page = [item for item in page if before is None or item.post.id < before]
            if page or not self._windowed or ask is None or ask <= PAGE:
                return page
            ask -= PAGE
        log.warning("/posts.json: nothing in %d windows below %s; taken as the end",
                    MAX_EMPTY_WINDOWS, before)
        return []

    def thread(self, topic_id: int) -> Thread:
        """The topic with every post, oldest first (`read_topic`)."""
        return self.read_topic(topic_id).thread

    def read_topic(self, topic_id: int, have: Collection[int] = (), *, public: bool = False
                   ) -> TopicRead:
        """The first chunk from `/t/{id}/1.json`, then in chunks of 20 the posts of
        `post_stream.stream` that neither that chunk nor `have` hold. Posts docsgap must not
        use come back withheld (see `discourse_payload`).

        `public` reads the topic as the public does first: a topic anyone can read is in a
        public category by Discourse's own check, so the category list is not needed. One the
        public cannot read (a 403 or 404) is read again with the key, which tells a restricted
        topic from one that is not there."""
        tid = int(topic_id)
        if public:
            try:
                return self._topic(tid, have, anonymous=True)
            except (AuthError, NotFoundError):
                if not self._keyed:
                    raise
                log.debug("topic %s is not public; reading it with the key", tid)
        return self._topic(tid, have, anonymous=False)

    def _topic(self, tid: int, have: Collection[int], *, anonymous: bool) -> TopicRead:
        """`read_whole` with or without the key (see `discourse_topic`)."""

        def get(method: str, *args: Any, **params: Any) -> Any:
            return self._topic_get(anonymous, method, *args, **params)

        return read_whole(get, tid, have, self.base_url, cached=anonymous or not self._keyed,
                          category_reason=None if anonymous else self._category_reason)

    def _topic_get(self, anonymous: bool, method: str, *args: Any, **params: Any) -> Any:
        if anonymous:
            return self._call(method, *args, anonymous=True, **params)
        return self._read("topic", method, *args, **params)

    def reply(self, topic_id: int, raw: str, *, reply_to_post_number: int | None = None
              ) -> PostRef | QueuedReply:
        """Post a reply; one held for a moderator (`enqueued`) returns `QueuedReply`, which
        only `queued_reply` finds again. A body Discourse refuses as just posted
        (`unique_posts_mins`) is found in the topic and returned; other 422s (a blocked
        watched word, a length, a new user's limits) raise `WriteRejectedError` with
        Discourse's message, and for the new-user and slow-mode rules what to do about them
        (`discourse_rules`). A reply rate limited for longer than the run may wait (the
        first-day replies limit) raises `RateLimitedError` and holds the run's later replies
        (not sent: they would meet the same limit)."""
        tid = int(topic_id)
        if self._replies_held is not None and time.monotonic() < self._replies_held[0]:
            raise RepliesHeldError(f"{self._replies_held[1]} (not asked again this run)",
                                   retry_after=self._replies_held[0] - time.monotonic())
        try:
            data = self._call("create_post", raw, topic_id=tid,
                              reply_to_post_number=reply_to_post_number, write=True)
        except WriteRejectedError as exc:
            if TOO_SIMILAR not in str(exc):
                said = advice(str(exc))
                if said is None:
                    raise
                raise WriteRejectedError(explain(str(exc)), status=exc.status,
                                         hint=said) from exc
            found = self._own_post(tid, raw)
            if found is None:
                raise
            log.info("Discourse says reply in topic %s was just posted: %s", tid, found.url)
            return found
        ref = parse("POST /posts.json", post_ref, self.base_url, tid, data)
        if isinstance(ref, QueuedReply):
            log.info("reply in topic %s is queued for moderator approval (pending post %s)",
                     tid, ref.pending_id)
            if self._pending is not None:
                self._pending.add(ref, raw)
        return ref

    def queued_reply(self, topic_id: int, raw: str) -> QueuedReply | None:
        """The API user's reply to the topic still waiting for a moderator (`PendingPosts`:
        `/posts/{username}/pending.json`, read once per run). Anonymous: None."""
        if self._pending is None:
            return None
        return self._pending.find(lambda path: self._call("_get", path), int(topic_id), raw)

    def _own_post(self, topic_id: int, raw: str) -> PostRef | None:
        """This user's post in the topic whose text is `raw` (markers count as the text)."""
        thread = self.thread(topic_id)
        for post in reversed(thread.posts):
            mine = self._username is None or post.username.lower() == self._username.lower()
            if mine and same_reply(raw, post.raw or ""):
                return PostRef(post.id, topic_id, post.number, f"{thread.url}/{post.number}")
        return None

    def _known_reason(self, category_id: int | None) -> str | None:
        """`_category_reason` from the category list already read, else `NOT_LOOKED_AT`."""
        if category_id is not None and category_id not in (self._categories or {}):
            return NOT_LOOKED_AT
        return self._category_reason(category_id)

    def _category_reason(self, category_id: int | None) -> str | None:
        """Why a topic in this category must not be used (read-restricted, or a category the
        forum does not list), or None. The category list is read once per adapter, again
        when an unknown id shows up."""
        if category_id is None:
            return None
        if self._categories is None or category_id not in self._categories:
            data = self._read("categories", "categories", include_subcategories="true")
            self._categories = parse("/categories.json", category_flags, data)
        restricted = self._categories.get(category_id)
        if restricted is None:
            return f"category {category_id} is not listed (not public)"
        return f"category {category_id} is read-restricted" if restricted else None

    # --- requests ---------------------------------------------------------------------------

    def _read(self, kind: str, method: str, *args: Any, **params: Any) -> Any:
        """A GET through pydiscourse's `method`, with the key. The lists a granular key may
        lack (`/posts.json` without `posts:list`, the category list without `categories:list`)
        are asked once more
        anonymously when the key is refused, and anonymously from then on; a refused topic
        read stays an `AuthError` (a bad key, or no `topics:read`)."""
        if not self._keyed or kind in self._read_anonymously:
            return self._call(method, *args, anonymous=True, **params)
        try:
            return self._call(method, *args, **params)
        except AuthError as refused:
            if kind not in _PUBLIC_LISTS:
                raise
            try:
                data = self._call(method, *args, anonymous=True, **params)
            except LoginRequired as closed:
                raise AuthError(
                    f"the Discourse API key may not read {kind} (a granular key without that "
                    f"scope?), and {self.base_url} requires login, so the public may not either",
                    status=refused.status, hint="give the bot an API key with global scope",
                ) from closed
            except AuthError:
                raise refused from None
            # Discourse answers a wrong key and a key without the scope with the same 403.
            log.warning("Discourse refused the API key for %s: a granular key without that "
                        "scope, or a wrong key or username (`docsgap doctor` tells which); "
                        "reading it anonymously, as the public sees it", kind)
            self._read_anonymously.add(kind)
            return data

    def _call(
        self, method: str, *args: Any, write: bool = False, anonymous: bool = False,
        **params: Any,
    ) -> Any:
        """Run one public pydiscourse method with our response hook; retry 429s (and
        5xx/network failures on reads)."""
        rate_limited = transient = 0
        call = getattr(self._anonymous if anonymous else self._client, method)
        while True:
            self._budget.spend(SERVICE)
            self._requests += 1
            try:
                return call(*args, override_request_kwargs=HOOKS, **params)
            except Intercepted as exc:
                response = exc.response
                if response.status_code != 429:
                    redirected(response)
                wait = wait_hint(response)
                try:
                    if rate_limited >= self._max_retries:
                        raise RateLimitedError(
                            f"Discourse still rate limits after {rate_limited} retries",
                            retry_after=wait)
                    self._allowance.take(wait)
                except RateLimitedError as limited:
                    if write:
                        raise self._hold_replies(response, wait, limited) from None
                    raise limited from None
                log.info("Discourse 429 (%s); waiting %.0fs", limit_name(response), wait)
                self._sleep(wait)
                rate_limited += 1
            except DiscourseError as exc:
                status = exc.response.status_code if exc.response is not None else None
                if status is not None and status >= 500 and self._may_retry(write, transient):
                    transient += 1
                    continue
                if anonymous and login_required(exc):
                    raise LoginRequired(f"{self.base_url} requires login: Discourse refuses "
                                        f"anonymous reads ({status} not_logged_in)",
                                        status=status, hint=LOGIN_HINT) from exc
                raise translate(exc, status, write) from exc
            except BAD_URL as exc:
                raise ConfigError(f"forum.url {self.base_url!r} is not usable: {exc}") from exc
            except (KeyError, TypeError) as exc:
                # A pydiscourse method that digs into the body (`categories()`) met another shape.
                raise PayloadError(f"unexpected Discourse payload for {method}: {exc!r}") from exc
            except requests.RequestException as exc:
                # Connection refused/reset, timeouts, truncated bodies.
                if self._may_retry(write, transient):
                    transient += 1
                    continue
                raise UnavailableError(
                    f"Discourse at {self.base_url} is unreachable: {type(exc).__name__}",
                    hint="check forum.url and the network; a rerun resumes from the cursor",
                ) from exc

    def _hold_replies(self, response: requests.Response, wait: float,
                      limited: RateLimitedError) -> RateLimitedError:
        """A reply's 429 the run will not wait out: Discourse's own words (and what they
        mean for the bot), remembered so the run's later replies are not sent."""
        said = error_text(response)
        message = (explain(f"Discourse rate limits the bot's replies: {said}") if said
                   else str(limited))
        self._replies_held = (time.monotonic() + wait, message)
        return RepliesHeldError(message, retry_after=wait)

    def _may_retry(self, write: bool, transient: int) -> bool:
        """Reads retry transient failures with a short backoff; writes never do (a retried
        POST could post twice)."""
        if write or transient >= self._transient_retries:
            return False
        backoff = float(2**transient)
        self._allowance.take(backoff)
        self._sleep(backoff)
        return True
