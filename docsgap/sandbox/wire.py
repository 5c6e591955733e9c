"""HTTP plumbing shared by the sandbox services: parsed requests, responses, routes, timestamps."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar
from urllib.parse import parse_qs, unquote

JSON = dict[str, Any]
DISCOURSE_JSON = "application/json; charset=utf-8"
"""The only content type pydiscourse accepts (anything else raises `DiscourseError`)."""
GITLAB_JSON = "application/json"

C = TypeVar("C")


@dataclass
class Request:
    """One request as a service sees it: `path` is relative to the service prefix and still
    percent-encoded (GitLab ids and file paths contain `%2F` that must not split the path)."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: Mapping[str, str]
    body: bytes = b""
    host: str = ""
    _form: JSON | None = field(default=None, repr=False)

    def header(self, name: str) -> str | None:
        """A header value (case-insensitive), `None` when absent or blank."""
        lowered = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lowered:
                return value.strip() or None
        return None

    def arg(self, name: str, default: str | None = None) -> str | None:
        """The last value of query parameter `name` (or `name[]`)."""
        values = self.args(name)
        return values[-1] if values else default

    def args(self, name: str) -> list[str]:
        """Every value of query parameter `name` and `name[]`."""
        return self.query.get(name, []) + self.query.get(name + "[]", [])

    def int_arg(self, name: str, default: int) -> int:
        """An integer query parameter; a malformed value raises `HttpError` 400."""
        value = self.arg(name)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except ValueError:
            raise HttpError(json_response(400, {"error": f"{name} is invalid"})) from None

    def form(self) -> JSON:
        """The body as a dict: JSON when the content type says so, else URL-encoded form
        (`key[]` fields become lists, other keys keep their last value)."""
        if self._form is None:
            self._form = _parse_body(self.header("Content-Type") or "", self.body)
        return self._form


def _parse_body(content_type: str, body: bytes) -> JSON:
    if not body:
        return {}
    text = body.decode("utf-8", errors="replace")
    if "json" in content_type.lower():
        try:
            data = json.loads(text)
        except ValueError:
            raise HttpError(json_response(400, {"error": "malformed JSON body"})) from None
        if not isinstance(data, dict):
            raise HttpError(json_response(400, {"error": "JSON body must be an object"}))
        return data
    form: JSON = {}
    for key, values in parse_qs(text, keep_blank_values=True).items():
        if key.endswith("[]"):
            form[key[:-2]] = values
        else:
            form[key] = values[-1]
    return form


@dataclass
class Response:
    """What the handler writes back; `disconnect` drops the connection without an answer,
    `delay` seconds pass first (outside the sandbox lock)."""

    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    disconnect: bool = False
    delay: float = 0.0


class HttpError(Exception):
    """Raised by route handlers to answer with an error response."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


def json_response(
    status: int,
    data: Any,
    *,
    content_type: str = GITLAB_JSON,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A JSON response (compact, UTF-8)."""
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Response(status, body, content_type, dict(headers or {}))


def text_response(
    status: int,
    text: str,
    *,
    content_type: str = "text/plain",
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A plain-text (or HTML) response."""
    return Response(status, text.encode("utf-8"), content_type, dict(headers or {}))


Handler = Callable[[C, Request, "re.Match[str]"], Response]


@dataclass(frozen=True)
class Route(Generic[C]):
    """`method` + a full-match regex over the relative (still encoded) path -> handler."""

    method: str
    pattern: re.Pattern[str]
    handler: Handler[C]


def route(method: str, pattern: str, handler: Handler[C]) -> Route[C]:
    """Build a route; `pattern` must match the whole relative path."""
    return Route(method, re.compile(pattern), handler)


def find_route(routes: list[Route[C]], req: Request) -> tuple[Route[C], re.Match[str]] | None:
    """The first route whose method and pattern match `req`."""
    for candidate in routes:
        if candidate.method == req.method:
            m = candidate.pattern.fullmatch(req.path)
            if m is not None:
                return candidate, m
    return None


def segment(m: re.Match[str], name: str) -> str:
    """A captured path segment, percent-decoded."""
    return unquote(m.group(name))


def iso(ts: float) -> str:
    """Epoch seconds -> `2024-01-02T03:04:05.678Z` (the format both services use)."""
    moment = datetime.fromtimestamp(ts, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_time(value: str) -> float:
    """ISO-8601 (`Z`, offset or naive=UTC; date only allowed) -> epoch seconds."""
    text = value.strip().replace(" ", "+") if "T" in value else value.strip()
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def norm_time(value: str) -> str:
    """Any ISO-8601 timestamp in the canonical form (so strings sort chronologically)."""
    return iso(parse_time(value))


# --- error bodies each service really sends ---------------------------------------------------

DISCOURSE_NOT_FOUND = "The requested URL or resource could not be found."
DISCOURSE_INVALID_ACCESS = "You are not permitted to view the requested resource."


def discourse_error(
    status: int,
    message: str,
    error_type: str | None = None,
    *,
    extras: JSON | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """`{"errors": [...], "error_type": ...}` as Discourse's `lib/json_error.rb` renders it."""
    body: JSON = {"errors": [message]}
    if error_type is not None:
        body["error_type"] = error_type
    if extras is not None:
        body["extras"] = extras
    return json_response(status, body, content_type=DISCOURSE_JSON, headers=headers)


def discourse_rate_limited(wait: int, code: str | None, text: str | None = None) -> Response:
    """The app limiter's 429 (JSON with `extras.wait_seconds`, `Retry-After` header). `text`
    is a limiter's own message (`rate_limiter.by_type`, with `{time_left}` as
    `RateLimiter.time_left` words it); `code` None sends no `Discourse-Rate-Limit-Error-Code`."""
    unit = "second" if wait == 1 else "seconds"
    left = f"{wait} {unit}"
    message = (f"You\u2019ve performed this action too many times. Please wait {left} "
               "before trying again.")
    if text is not None:
        left = time_left(wait)
        message = text.format(time_left=left)
    headers = {"Retry-After": str(wait)}
    if code is not None:
        headers["Discourse-Rate-Limit-Error-Code"] = code
    return discourse_error(429, message, "rate_limit",
                           extras={"wait_seconds": wait, "time_left": left}, headers=headers)


def time_left(wait: int) -> str:
    """`RateLimiter.time_left`: a few seconds, seconds, whole minutes or whole hours."""
    if wait <= 3:
        return "a few seconds"
    for size, unit in ((3600, "hour"), (60, "minute"), (1, "second")):
        if wait >= size or size == 1:
            n = wait // size
            return f"{n} {unit}" + ("" if n == 1 else "s")
    raise AssertionError("unreachable")


def gitlab_message(status: int, message: Any) -> Response:
    """GitLab's `{"message": ...}` error body."""
    return json_response(status, {"message": message})


def gitlab_not_found(what: str) -> HttpError:
    """`404 <What> Not Found`, GitLab's `not_found!(what)`."""
    return HttpError(gitlab_message(404, f"404 {what} Not Found"))


def gitlab_bad_request(message: str) -> HttpError:
    """Grape's parameter validation error: `{"error": "title is missing"}`."""
    return HttpError(json_response(400, {"error": message}))
