"""Read-only Discourse probes for `docsgap doctor` (the `doctor.ForumProbe` protocol) over
pydiscourse: does the site answer, whom does the API key act as, can the bot user post."""

from __future__ import annotations

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
from docsgap.forum.interface import ForumUser, SiteInfo

AUTH_HINT = "check DOCSGAP_DISCOURSE_API_KEY and DOCSGAP_DISCOURSE_API_USERNAME"
_BAD_URL = (
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidSchema,
    requests.exceptions.InvalidURL,
)


class _Stop(Exception):  # noqa: N818 - internal control flow, never escapes this module
    """Raised from the response hook so pydiscourse neither sleeps on a 429 nor follows or
    swallows a redirect."""

    def __init__(self, response: requests.Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def _hook(response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
    if response.status_code == 429 or 300 <= response.status_code < 400:
        raise _Stop(response)
    return response


class DiscourseChecks:
    """A handful of GETs; never writes, never sleeps (a 429 is reported, not waited out)."""

    def __init__(
        self, url: str, api_username: str | None, api_key: str | None, *, timeout: float = 30.0
    ) -> None:
        self.base_url = url.rstrip("/")
        username = api_username if api_key else None
        self._client = DiscourseClient(self.base_url, username, api_key, timeout=timeout)
        self._anonymous = DiscourseClient(self.base_url, None, None, timeout=timeout)

    def site(self) -> SiteInfo:
        """`/about.json`, asked anonymously so a bad key cannot hide a reachable site; sites
        that hide it fall back to `/site.json`. A Discourse JSON 403 (login required) still
        proves the site answers."""
        try:
            data = self._get("/about.json", anonymous=True)
        except NotFoundError:
            self._get("/site.json", anonymous=True)
            return SiteInfo("/site.json")
        except AuthError:
            return SiteInfo("/about.json", None, "login required to read it")
        about = data.get("about") or {}
        return SiteInfo("/about.json", about.get("title"), about.get("version"))

    def session_user(self) -> ForumUser | None:
        """`/session/current.json` (404 when the request is anonymous)."""
        try:
            data = self._get("/session/current.json")
        except NotFoundError:
            return None
        return _user(data.get("current_user"))

    def user(self, username: str) -> ForumUser | None:
        """`/u/{username}.json`; None on 404."""
        try:
            data = self._get(f"/u/{username}.json")
        except NotFoundError:
            return None
        return _user(data.get("user"))

    def _get(self, path: str, *, anonymous: bool = False) -> dict[str, Any]:
        hooks = {"hooks": {"response": [_hook]}}
        client = self._anonymous if anonymous else self._client
        try:
            data = client._get(path, override_request_kwargs=hooks)
        except _Stop as stop:
            raise _stopped(stop.response, self.base_url) from None
        except DiscourseError as exc:
            status = exc.response.status_code if exc.response is not None else None
            raise _translate(str(exc) or "no message", status, path) from exc
        except _BAD_URL as exc:
            raise ConfigError(f"forum.url {self.base_url!r} is not usable: {exc}") from exc
        except requests.RequestException as exc:
            raise UnavailableError(
                f"Discourse at {self.base_url} is unreachable: {type(exc).__name__}",
                hint="check forum.url and the network",
            ) from exc
        if not isinstance(data, dict):
            raise PayloadError(
                f"Discourse answered {path} without a JSON object",
                hint="check that forum.url is the Discourse site's address",
            )
        return data


def _user(data: Any) -> ForumUser:
    if not isinstance(data, dict) or not data.get("username"):
        raise PayloadError("Discourse sent a user without a username")
    now = datetime.now(UTC)
    staff = bool(data.get("staff") or data.get("admin") or data.get("moderator"))
    return ForumUser(
        username=str(data["username"]),
        trust_level=data.get("trust_level"),
        staff=staff,
        suspended=_until(data.get("suspended_till"), now),
        silenced=_until(data.get("silenced_till"), now),
        active=data.get("active", True) is not False,
    )


def _until(value: Any, now: datetime) -> bool:
    """Whether a `*_till` timestamp lies in the future."""
    if not value:
        return False
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")) > now
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
