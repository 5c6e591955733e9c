"""Read-only Discourse probes for `docsgap doctor` (the `ForumProbe` protocol) over pydiscourse:
does the site answer, whom does the API key act as (or, for a granular key, may it read a
topic), can the bot user post."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import requests
from pydiscourse import DiscourseClient
from pydiscourse.exceptions import DiscourseError

from docsgap.errors import (
    AuthError,
    ConfigError,
    NotFoundError,
    PayloadError,
    RateLimitedError,
    RemoteError,
    UnavailableError,
)
from docsgap.forum.discourse_http import AUTH_HINT, BAD_URL, HOOKS, Intercepted, root_hint
from docsgap.forum.interface import ForumUser, SiteInfo
from docsgap.jsonshape import integer


class DiscourseChecks:
    """A handful of GETs; never writes, never sleeps (a 429 is reported, not waited out).

    `/about.json`, `/site.json` and `/session/current.json` go through pydiscourse's `_get`:
    `about()` and `get_site_info()` take no request options (so no hook against redirects and
    429s) and nothing public reads the session. pyproject bounds pydiscourse below 2 and
    `tests/unit/test_doctor.py` pins that `_get` contract."""

    def __init__(
        self, url: str, api_username: str | None, api_key: str | None, *, timeout: float = 30.0,
        on_request: Callable[[], None] | None = None,
    ) -> None:
        self.base_url = url.rstrip("/")
        username = api_username if api_key else None
        self._client = DiscourseClient(self.base_url, username, api_key, timeout=timeout)
        self._anonymous = DiscourseClient(self.base_url, None, None, timeout=timeout)
        self._on_request = on_request
        """Told of each request (a run counts the preflight's in its summary)."""

    def site(self) -> SiteInfo:
        """`/about.json`, asked anonymously so a bad key cannot hide a reachable site; sites
        that hide it fall back to `/site.json`. A Discourse JSON 403 (login required) still
        proves the site answers."""
        try:
            data = self._dict("/about.json", self._anonymous._get, "/about.json")
        except NotFoundError:
            try:
                self._dict("/site.json", self._anonymous._get, "/site.json")
            except NotFoundError as exc:
                raise ConfigError(f"forum.url {self.base_url!r} is not a Discourse site: "
                                  "/about.json and /site.json not found (404)",
                                  hint=root_hint(self.base_url)) from exc
            return SiteInfo("/site.json")
        except AuthError:
            return SiteInfo("/about.json", None, "login required to read it",
                            login_required=True)
        about = data.get("about")
        about = about if isinstance(about, dict) else {}
        return SiteInfo("/about.json", _str_or_none(about.get("title")),
                        _str_or_none(about.get("version")))

    def session_user(self) -> ForumUser | None:
        """`/session/current.json` (404 when the request is anonymous). A granular key is
        refused here (403): no scope covers it."""
        try:
            data = self._dict("/session/current.json", self._client._get,
                              "/session/current.json")
        except NotFoundError:
            return None
        return _user(data.get("current_user"))

    def key_reads_topic(self) -> int:
        """Read the newest public topic with the API key (what a granular key with
        `topics:read` may do) and return its id; `AuthError` when the key is refused."""
        latest = self._dict("/latest.json", self._anonymous.latest_topics)
        listed = latest.get("topic_list")
        topics = listed.get("topics") if isinstance(listed, dict) else None
        return self._key_reads_topic_of(topics, "id", "topic")

    def key_reads_stream(self) -> int:
        """Read `/posts.json` with the API key (a granular key's `posts:list`, Discourse 3.1
        and later), then the newest post's topic, and return that topic's id; `AuthError` when
        the key is refused either."""
        latest = self._dict("/posts.json", self._client.latest_posts)
        return self._key_reads_topic_of(latest.get("latest_posts"), "topic_id", "post")

    def _key_reads_topic_of(self, listed: Any, field: str, what: str) -> int:
        """Read, with the key, the topic named by `field` of the first of `listed`."""
        if not isinstance(listed, list) or not listed or not isinstance(listed[0], dict):
            raise PayloadError(f"Discourse listed no {what} to try the API key on")
        try:
            topic_id = integer(listed[0].get(field))
        except (TypeError, ValueError) as exc:
            raise PayloadError(
                f"Discourse listed a {what} without a usable topic id: {exc}") from exc
        self._dict(f"/t/{topic_id}/1.json", self._client.post, topic_id, 1)
        return topic_id

    def user(self, username: str) -> ForumUser | None:
        """The public profile (`/u/{username}.json`) as the key sees it, or anonymously
        when the key may not read profiles (a granular key without `users:show`); None on
        404."""
        path = f"/u/{username}.json"
        try:
            try:
                data = self._dict(path, self._client._get, path)
            except AuthError:
                data = self._dict(path, self._anonymous._get, path)
        except NotFoundError:
            return None
        return _user(data.get("user"))

    def _dict(self, what: str, call: Any, *args: Any) -> dict[str, Any]:
        """One GET through pydiscourse with the hook installed; errors as docsgap errors."""
        if self._on_request is not None:
            self._on_request()
        try:
            data = call(*args, override_request_kwargs=HOOKS)
        except Intercepted as stop:
            raise _stopped(stop.response, self.base_url) from None
        except DiscourseError as exc:
            status = exc.response.status_code if exc.response is not None else None
            raise _translate(str(exc) or "no message", status, what) from exc
        except BAD_URL as exc:
            raise ConfigError(f"forum.url {self.base_url!r} is not usable: {exc}") from exc
        except requests.RequestException as exc:
            raise UnavailableError(
                f"Discourse at {self.base_url} is unreachable: {type(exc).__name__}",
                hint="check forum.url and the network",
            ) from exc
        if not isinstance(data, dict):
            raise PayloadError(
                f"Discourse answered {what} without a JSON object",
                hint="check that forum.url is the Discourse site's address",
            )
        return data


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _user(data: Any) -> ForumUser:
    if not isinstance(data, dict) or not isinstance(data.get("username"), str) \
            or not data["username"]:
        raise PayloadError("Discourse sent a user without a username")
    level = data.get("trust_level")
    if level is not None and (type(level) is not int or not 0 <= level <= 4):
        raise PayloadError(f"Discourse sent a trust level that is not 0-4: {level!r}")
    now = datetime.now(UTC)
    staff = bool(data.get("staff") or data.get("admin") or data.get("moderator"))
    return ForumUser(
        username=str(data["username"]),
        trust_level=level,
        staff=staff,
        suspended=_until(data.get("suspended_till"), now),
        silenced=_until(data.get("silenced_till"), now),
        active=data.get("active", True) is not False,
        post_count=data["post_count"] if type(data.get("post_count")) is int else None,
    )


def _until(value: Any, now: datetime) -> bool:
    """Whether a `*_till` timestamp lies in the future."""
    if not value:
        return False
    try:
        until = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        # A time without an offset is UTC (comparing it with `now` as is raised TypeError).
        return (until.replace(tzinfo=UTC) if until.tzinfo is None else until) > now
    except ValueError:
        return True


def _stopped(response: requests.Response, base_url: str) -> RemoteError:
    if response.status_code == 429:
        return RateLimitedError("Discourse rate limits this client right now; try again later")
    target = response.headers.get("Location", "?")
    return PayloadError(
        f"Discourse redirected {response.url} to {target}",
        status=response.status_code,
        hint=f"set forum.url to the site's final address (now {base_url})",
    )


def _translate(message: str, status: int | None, path: str) -> RemoteError:
    if status is None or 200 <= status < 300:
        return PayloadError(
            f"Discourse answered {path} with an unusable body: {message}",
            hint="check that forum.url is the Discourse site's address",
        )
    if status in (401, 403):
        return AuthError(
            f"Discourse refused the request for {path} ({status}): {message}",
            status=status, hint=AUTH_HINT,
        )
    if status in (404, 410):
        return NotFoundError(f"Discourse: {path} not found ({status})", status=status)
    if status >= 500:
        return UnavailableError(f"Discourse server error {status} on {path}", status=status)
    return RemoteError(f"Discourse rejected {path} ({status}): {message}", status=status)
