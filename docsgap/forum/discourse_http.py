"""HTTP plumbing shared by the Discourse adapters (`discourse.py`, `discourse_checks.py`): the
response hook that keeps 429s and redirects from pydiscourse, wait hints, and pydiscourse
errors -> docsgap errors."""

from __future__ import annotations

from typing import Any, NoReturn
from urllib.parse import urlsplit, urlunsplit

import requests
from pydiscourse.exceptions import DiscourseError

from docsgap.errors import (
    AuthError,
    NotFoundError,
    PayloadError,
    RemoteError,
    UnavailableError,
    WriteRejectedError,
)
from docsgap.http_budget import DEFAULT_WAIT, retry_after_seconds

AUTH_HINT = "check DOCSGAP_DISCOURSE_API_KEY and DOCSGAP_DISCOURSE_API_USERNAME"
LOGIN_HINT = ("set DOCSGAP_DISCOURSE_API_KEY and DOCSGAP_DISCOURSE_API_USERNAME: a forum that "
              "requires login answers nothing anonymously, not even a dry run's reads")
ROOT_HINT = ("set forum.url to the forum's home page address (https://forum.gitlab.com; a "
             "subfolder install keeps its path, such as https://example.com/forum)")
_PAGES = frozenset({"latest", "new", "top", "unread", "categories", "c", "t", "u", "g", "tag",
                    "tags", "search", "posts", "about", "faq", "guidelines", "session", "login"})
"""First path segments of Discourse's own pages: a forum.url holding one is a page of the site,
not its home."""


def root_hint(base_url: str) -> str:
    """ROOT_HINT, naming the home page when `base_url` is one of the forum's pages (copied from
    the address bar: `.../latest`, `.../t/slug/123`)."""
    parts = urlsplit(base_url)
    segments = parts.path.split("/")
    cut = next((i for i, s in enumerate(segments) if s.lower() in _PAGES), None)
    if cut is None:
        return ROOT_HINT
    home = urlunsplit((parts.scheme, parts.netloc, "/".join(segments[:cut]).rstrip("/"), "", ""))
    return f"{ROOT_HINT}; {base_url!r} is a page of a forum: try forum.url = {home!r}"


WRITE_HINT = ("the API key's user may not post here, or a granular key lacks the "
              "topics:write scope")
BAD_URL = (
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidSchema,
    requests.exceptions.InvalidURL,
)


class Intercepted(Exception):  # noqa: N818 - internal control flow, never leaves the adapters
    """Raised from the response hook to take a 429 or a redirect away from pydiscourse."""

    def __init__(self, response: requests.Response) -> None:
        super().__init__(response.status_code)
        self.response = response


HOOKS: dict[str, Any] = {}
"""pydiscourse's `override_request_kwargs` that install `hook` (filled below)."""


def hook(response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
    """Take 429s and redirects away from pydiscourse (which would sleep or return None)."""
    if response.status_code == 429 or 300 <= response.status_code < 400:
        raise Intercepted(response)
    return response


def wait_hint(response: requests.Response) -> float:
    """JSON `extras.wait_seconds`, else `Retry-After`, else a default; plus one second because
    Discourse rounds the remaining time down."""
    hint: float | None = None
    try:
        extras = response.json().get("extras") or {}
        hint = float(extras["wait_seconds"])
    except (ValueError, TypeError, KeyError, AttributeError):
        hint = retry_after_seconds(response.headers)
    return (DEFAULT_WAIT if hint is None else hint) + 1.0


def error_text(response: requests.Response) -> str | None:
    """The first of a Discourse error body's `errors`, if it has one."""
    try:
        errors = response.json().get("errors")
    except (ValueError, AttributeError):
        return None
    first = errors[0] if isinstance(errors, list) and errors else None
    return first if isinstance(first, str) else None


def limit_name(response: requests.Response) -> str:
    return response.headers.get("Discourse-Rate-Limit-Error-Code", "unknown limit")


def redirected(response: requests.Response) -> NoReturn:
    target = response.headers.get("Location", "?")
    raise PayloadError(
        f"Discourse redirected {response.request.method} {response.url} to {target}",
        status=response.status_code,
        hint="set forum.url to the site's final address (scheme, host and path prefix)",
    )


class LoginRequired(AuthError):
    """An anonymous request refused with Discourse's 403 `not_logged_in`: the site has
    `login_required` on (`redirect_to_login_if_required`), so only an API key reads it."""


def login_required(exc: DiscourseError) -> bool:
    """Whether `exc` is that 403 (its JSON `error_type` is `not_logged_in`)."""
    response = exc.response
    if response is None or response.status_code != 403:
        return False
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("error_type") == "not_logged_in"


def translate(exc: DiscourseError, status: int | None, write: bool) -> RemoteError:
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
    if write and status == 422:
        return WriteRejectedError(
            f"Discourse refused the reply ({status}): {message}", status=status
        )
    if write and status == 403:
        return AuthError(f"Discourse refused the reply ({status}): {message}", status=status,
                         hint=WRITE_HINT)
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


HOOKS["hooks"] = {"response": [hook]}
