"""`DiscourseForum`: the Forum protocol over pydiscourse; the only module that imports it."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection
from typing import Any, NoReturn

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
    RemoteError,
    UnavailableError,
    WriteRejectedError,
)
from docsgap.forum.discourse_payload import (
    REGULAR,
    build_thread,
    latest_items,
    parse,
    post_list,
    post_ref,
    posts_page,
    topic_head,
)
from docsgap.forum.interface import ChangedTopics, LatestPost, TopicRead
from docsgap.http_budget import DEFAULT_WAIT, WaitAllowance, retry_after_seconds
from docsgap.models import PostRef, Thread

log = logging.getLogger(__name__)

SERVICE = "forum"
CHUNK = 20
"""Post ids per `/t/{id}/posts.json` request (what Discourse's own client asks for)."""
AUTH_HINT = "check DOCSGAP_DISCOURSE_API_KEY and DOCSGAP_DISCOURSE_API_USERNAME"
_BAD_URL = (
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidSchema,
    requests.exceptions.InvalidURL,
)


class _Intercepted(Exception):  # noqa: N818 - internal control flow, never escapes
    """Raised from the response hook to take a 429 or a redirect away from pydiscourse."""

    def __init__(self, response: requests.Response) -> None:
        super().__init__(response.status_code)
        self.response = response


class DiscourseForum:
    """Reads and replies on a Discourse site through pydiscourse.

    Every request goes through pydiscourse; a `requests` response hook (passed with
    pydiscourse's `override_request_kwargs`) intercepts 429s and redirects before pydiscourse
    sees them. pydiscourse's own 429 loop would sleep on a fixed schedule, ignore `Retry-After`
    and the run's budget, and crash with KeyError on search 429s; ours honours the wait hint,
    charges each attempt to the budget and stops once `max_wait` seconds of waiting are used.
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
        sleep: Callable[[float], None] = time.sleep,
        max_retries: int = 3,
        transient_retries: int = 2,
    ) -> None:
        self.base_url = url.rstrip("/")
        # Anonymous reads: pydiscourse sends both headers and requests drops `None` values.
        username = api_username if api_key else None
        self._client = DiscourseClient(self.base_url, username, api_key, timeout=timeout)
        self._budget = budget if budget is not None else Budget()
        self._allowance = WaitAllowance(SERVICE, max_wait)
        self._sleep = sleep
        self._max_retries = max_retries
        self._transient_retries = transient_retries
        self._requests = 0

    @property
    def requests_made(self) -> int:
        """HTTP requests this adapter sent, retries included."""
        return self._requests

    # --- Forum protocol ---------------------------------------------------------------------

    def changed_topics(self, after_post_id: int | None, *, max_pages: int) -> ChangedTopics:
        """Walk `/posts.json` newest first (50 a page, `before=` the lowest id seen) down to
        `after_post_id`. Stops after `max_pages`; with a cursor that early stop sets
        `complete=False`. Non-regular posts (small actions, whispers) name no topic."""
        topic_ids: dict[int, None] = {}
        newest = after_post_id
        before: int | None = None
        reached = after_post_id is None
        for _ in range(max_pages):
            data = self._call(self._client.latest_posts, before)
            posts = parse("/posts.json", posts_page, data)
            if not posts:
                reached = True
                break
            for post_id, topic_id, post_type in posts:
                newest = post_id if newest is None else max(newest, post_id)
                if after_post_id is not None and post_id <= after_post_id:
                    reached = True
                    break
                if post_type == REGULAR:
                    topic_ids.setdefault(topic_id, None)
            if after_post_id is not None and reached:
                break
            before = min(p[0] for p in posts)
        return ChangedTopics(tuple(topic_ids), newest, complete=reached)

    def latest_posts(self, before: int | None) -> list[LatestPost]:
        """One `/posts.json` page (50 posts, highest id first; `before=` a lower id)."""
        data = self._call(self._client.latest_posts, before)
        return parse("/posts.json", latest_items, data)

    def thread(self, topic_id: int) -> Thread:
        """The topic with every post: the first chunk from `/t/{id}.json`, the rest of
        `post_stream.stream` from `/t/{id}/posts.json` in chunks of 20, oldest first."""
        return self.read_topic(topic_id).thread

    def read_topic(self, topic_id: int, have: Collection[int] = ()) -> TopicRead:
        """`/t/{id}.json`, then in chunks of 20 the posts of `post_stream.stream` that neither
        its first chunk nor `have` hold."""
        path = f"/t/{int(topic_id)}.json"
        # pydiscourse's topic() needs the exact slug (a wrong one 301s), so ask by id.
        data = self._call(self._client._get, path, include_raw="true")
        head, posts, stream = parse(path, topic_head, data)
        loaded = {p["id"] for p in posts}
        held = set(have)
        missing = [pid for pid in stream if pid not in loaded and pid not in held]
        for start in range(0, len(missing), CHUNK):
            chunk = missing[start : start + CHUNK]
            more = self._call(self._client.posts, int(topic_id), chunk, include_raw="true")
            posts.extend(parse(f"/t/{topic_id}/posts.json", post_list, more))
        return TopicRead(parse(path, build_thread, self.base_url, head, posts), tuple(stream))

    def reply(self, topic_id: int, raw: str, *, reply_to_post_number: int | None = None) -> PostRef:
        """Post a reply. A reply held for moderator approval returns a `PostRef` with `id=0`
        and `number=0` pointing at the topic: it will appear once approved, and treating it as
        written keeps a rerun from queueing a duplicate. 403/422 raise `WriteRejectedError`."""
        data = self._call(
            self._client.create_post,
            raw,
            topic_id=int(topic_id),
            reply_to_post_number=reply_to_post_number,
            write=True,
        )
        return parse("POST /posts.json", post_ref, self.base_url, int(topic_id), data)

    # --- requests ---------------------------------------------------------------------------

    def _call(
        self, method: Callable[..., Any], *args: Any, write: bool = False, **params: Any
    ) -> Any:
        """Run one pydiscourse method with our response hook; retry 429s (and 5xx/network
        failures on reads)."""
        rate_limited = transient = 0
        hooks = {"hooks": {"response": [_hook]}}
        while True:
            self._budget.spend(SERVICE)
            self._requests += 1
            try:
                return method(*args, override_request_kwargs=hooks, **params)
            except _Intercepted as exc:
                response = exc.response
                if response.status_code != 429:
                    _redirected(response)
                wait = _wait_hint(response)
                if rate_limited >= self._max_retries:
                    raise RateLimitedError(
                        f"Discourse still rate limits after {rate_limited} retries",
                        retry_after=wait,
                    ) from None
                self._allowance.take(wait)
                log.info("Discourse 429 (%s); waiting %.0fs", _limit_name(response), wait)
                self._sleep(wait)
                rate_limited += 1
            except DiscourseError as exc:
                status = exc.response.status_code if exc.response is not None else None
                if status is not None and status >= 500 and self._may_retry(write, transient):
                    transient += 1
                    continue
                raise _translate(exc, status, write) from exc
            except _BAD_URL as exc:
                raise ConfigError(f"forum.url {self.base_url!r} is not usable: {exc}") from exc
            except requests.RequestException as exc:
                # Connection refused/reset, timeouts, truncated bodies.
                if self._may_retry(write, transient):
                    transient += 1
                    continue
                raise UnavailableError(
                    f"Discourse at {self.base_url} is unreachable: {type(exc).__name__}",
                    hint="check forum.url and the network; a rerun resumes from the cursor",
                ) from exc

    def _may_retry(self, write: bool, transient: int) -> bool:
        """Reads retry transient failures with a short backoff; writes never do (a retried
        POST could post twice)."""
        if write or transient >= self._transient_retries:
            return False
        backoff = float(2**transient)
        self._allowance.take(backoff)
        self._sleep(backoff)
        return True


def _hook(response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
    """Take 429s and redirects away from pydiscourse (which would sleep or return None)."""
    if response.status_code == 429 or 300 <= response.status_code < 400:
        raise _Intercepted(response)
    return response


def _wait_hint(response: requests.Response) -> float:
    """JSON `extras.wait_seconds`, else `Retry-After`, else a default; plus one second because
    Discourse rounds the remaining time down."""
    hint: float | None = None
    try:
        extras = response.json().get("extras") or {}
        hint = float(extras["wait_seconds"])
    except (ValueError, TypeError, KeyError, AttributeError):
        hint = retry_after_seconds(response.headers)
    return (DEFAULT_WAIT if hint is None else hint) + 1.0


def _limit_name(response: requests.Response) -> str:
    return response.headers.get("Discourse-Rate-Limit-Error-Code", "unknown limit")


def _redirected(response: requests.Response) -> NoReturn:
    target = response.headers.get("Location", "?")
    raise PayloadError(
        f"Discourse redirected {response.request.method} {response.url} to {target}",
        status=response.status_code,
        hint="set forum.url to the site's final address (scheme, host and path prefix)",
    )


def _translate(exc: DiscourseError, status: int | None, write: bool) -> RemoteError:
    """pydiscourse/requests error -> docsgap error (message from the server's `errors`)."""
    message = str(exc) or "no message"
    if status is None or 200 <= status < 300:
        # pydiscourse raises DiscourseError on 2xx bodies that are not JSON or list `errors`.
        unreadable = "Invalid Response" in message or "failed to decode" in message
        if write and not unreadable:
            return WriteRejectedError(f"Discourse refused the reply: {message}", status=status)
        return PayloadError(
            f"Discourse answered with an unusable body (expected JSON): {message}", status=status
        )
    if write and status in (403, 422):
        return WriteRejectedError(
            f"Discourse refused the reply ({status}): {message}", status=status
        )
    if status in (401, 403):
        what = "credentials" if status == 401 else "permission"
        return AuthError(
            f"Discourse refused the {what} ({status}): {message}", status=status, hint=AUTH_HINT
        )
    if status in (404, 410):
        return NotFoundError(f"Discourse: not found ({status}): {message}", status=status)
    if status >= 500:
        return UnavailableError(f"Discourse server error {status}: {message}", status=status)
    return RemoteError(f"Discourse rejected the request ({status}): {message}", status=status)
