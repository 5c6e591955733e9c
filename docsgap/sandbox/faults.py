"""Injected failures: the next N matching requests answer with the real error shape of the
service (429s with their wait hints, 5xx pages, dropped connections), or answer late.

Kinds beyond the status code's default shape: `disconnect` (drop the connection unanswered),
`timeout` (wait `delay` seconds, then drop it: the request is not applied), `slow` (wait
`delay` seconds, then serve it normally: a write lands even if the client gave up)."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from email.utils import formatdate
from http import HTTPStatus
from typing import Any

from docsgap.sandbox.wire import (
    DISCOURSE_INVALID_ACCESS,
    DISCOURSE_JSON,
    DISCOURSE_NOT_FOUND,
    JSON,
    Response,
    discourse_error,
    discourse_rate_limited,
    gitlab_message,
    json_response,
    text_response,
)

SERVICES = ("forum", "gitlab")
KINDS = {
    "forum": {None, "admin_api", "create_post", "ip", "search", "read_only", "html", "disconnect",
              "timeout", "slow"},
    "gitlab": {None, "rack_attack", "app", "offset_cap", "html", "disconnect", "timeout", "slow"},
}
LATE = ("disconnect", "timeout", "slow")
"""Kinds that carry no HTTP status of their own."""
DEFAULT_DELAY = 5.0
_HTML_500 = (
    "<!DOCTYPE html>\n<html>\n<head><title>We're sorry, but something went wrong (500)</title>"
    "</head>\n<body><h1>We're sorry, but something went wrong.</h1></body>\n</html>\n"
)


@dataclass
class Fault:
    """Fail the `count` requests (`None`: every one) that match, after letting `after` pass.

    `path_regex` is searched in the path relative to the service prefix plus its query string,
    e.g. `/posts.json?before=5100` or `/api/v4/projects/gitlab-org%2Fgitlab/issues?page=2`.
    """

    service: str
    status: int = 503
    method: str | None = None
    path_regex: str = ""
    count: int | None = 1
    wait_seconds: int | None = None
    after: int = 0
    kind: str | None = None
    delay: float = 0.0
    """Seconds to wait before answering (`timeout` and `slow` kinds)."""
    id: int = 0
    fired: int = field(default=0)

    def matches(self, service: str, method: str, target: str) -> bool:
        """Whether this fault applies to the request."""
        if service != self.service:
            return False
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return re.search(self.path_regex, target) is not None

    def to_json(self) -> JSON:
        """The fault as the control API reports it."""
        return asdict(self)


def make_fault(spec: JSON, fault_id: int) -> Fault:
    """Validate a fault description (the JSON of `POST /_sandbox/faults`)."""
    known = {"service", "status", "method", "path_regex", "count", "wait_seconds", "after", "kind",
             "delay"}
    unknown = set(spec) - known
    if unknown:
        raise ValueError(f"unknown fault field(s): {', '.join(sorted(unknown))}")
    service = spec.get("service")
    if service not in SERVICES:
        raise ValueError("service must be 'forum' or 'gitlab'")
    kind = spec.get("kind")
    if kind not in KINDS[service]:
        choices = sorted(k for k in KINDS[service] if k)
        raise ValueError(f"kind for {service} must be one of {choices}")
    status = int(spec.get("status", 0 if kind in LATE else 503))
    if kind not in LATE and not 400 <= status <= 599:
        raise ValueError("status must be 400-599")
    count = spec.get("count", 1)
    if count is not None and int(count) < 1:
        raise ValueError("count must be >= 1 (or null for every request)")
    re.compile(str(spec.get("path_regex", "")))
    wait = spec.get("wait_seconds")
    delay = float(spec.get("delay") or (DEFAULT_DELAY if kind in ("timeout", "slow") else 0.0))
    if delay < 0:
        raise ValueError("delay must be >= 0")
    return Fault(
        service=service, status=status, method=spec.get("method"),
        path_regex=str(spec.get("path_regex", "")), count=None if count is None else int(count),
        wait_seconds=None if wait is None else int(wait), after=int(spec.get("after", 0)),
        kind=kind, delay=delay, id=fault_id,
    )


class FaultBook:
    """The active faults; callers hold the sandbox lock."""

    def __init__(self) -> None:
        self.faults: list[Fault] = []
        self._next_id = 1

    def add(self, spec: JSON) -> Fault:
        """Register a fault; raises ValueError on a bad description."""
        fault = make_fault(spec, self._next_id)
        self._next_id += 1
        self.faults.append(fault)
        return fault

    def clear(self) -> None:
        """Remove every fault."""
        self.faults.clear()

    def take(self, service: str, method: str, target: str) -> Fault | None:
        """The fault that fires for this request, if any (its count is used up here)."""
        for fault in list(self.faults):
            if not fault.matches(service, method, target):
                continue
            if fault.after > 0:
                fault.after -= 1
                continue
            fault.fired += 1
            if fault.count is not None:
                fault.count -= 1
                if fault.count <= 0:
                    self.faults.remove(fault)
            return fault
        return None


def respond(fault: Fault, now: float) -> Response:
    """The response a real service sends for this status/kind."""
    if fault.kind in ("disconnect", "timeout"):
        return Response(0, disconnect=True, delay=fault.delay)
    if fault.service == "forum":
        return _forum(fault)
    return _gitlab(fault, now)


def _forum(fault: Fault) -> Response:
    status, kind = fault.status, fault.kind
    wait = 30 if fault.wait_seconds is None else fault.wait_seconds
    if status == 429:
        if kind == "ip":
            text = (f"Slow down, you're making too many requests.\nPlease retry again in {wait} "
                    "seconds.\nError code: ip_10_secs_limit.\n")
            return text_response(429, text, headers={
                "Retry-After": str(wait), "Discourse-Rate-Limit-Error-Code": "ip_10_secs_limit"})
        if kind == "search":
            return json_response(429, {"failed": "FAILED", "message": "You\u2019re doing that too "
                                       "often. Please wait a moment before searching again."},
                                 content_type=DISCOURSE_JSON)
        code = "create_post" if kind == "create_post" else "admin_api_key_rate_limit"
        return discourse_rate_limited(wait, code)
    if status == 503 and kind == "read_only":
        return discourse_error(503, "The site is in read only mode. Interactions are disabled.",
                               "read_only")
    if status >= 500:
        if status == 500:
            return text_response(500, _HTML_500, content_type="text/html; charset=utf-8")
        return _html_page(status)
    types = {400: "invalid_parameters", 403: "invalid_access", 404: "not_found"}
    messages = {403: DISCOURSE_INVALID_ACCESS, 404: DISCOURSE_NOT_FOUND}
    if status == 422:
        return json_response(422, {"errors": ["Example validation failure."]},
                             content_type=DISCOURSE_JSON)
    return discourse_error(status, messages.get(status, _reason(status)), types.get(status))


def _gitlab(fault: Fault, now: float) -> Response:
    status, kind = fault.status, fault.kind
    if status == 429:
        if kind == "app":
            wait = 60 if fault.wait_seconds is None else fault.wait_seconds
            return json_response(429, {"message": {"error": "This endpoint has been requested "
                                                   "too many times. Try again later."}},
                                 headers={"Retry-After": str(wait)})
        wait = 30 if fault.wait_seconds is None else fault.wait_seconds
        reset = int(now) + wait
        return text_response(429, "Retry later\n", headers={
            "Retry-After": str(wait), "RateLimit-Name": "throttle_authenticated_api",
            "RateLimit-Limit": "2000", "RateLimit-Observed": "2001", "RateLimit-Remaining": "0",
            "RateLimit-Reset": str(reset), "RateLimit-ResetTime": formatdate(reset, usegmt=True),
        })
    if status == 405 and kind == "offset_cap":
        return json_response(405, {"error": "Offset pagination has a maximum allowed offset of "
                                   "50000 for requests that return objects of type Issue. "
                                   "Remaining records can be retrieved using keyset pagination."})
    if status >= 500 and (status != 500 or kind == "html"):
        return _html_page(status)
    return gitlab_message(status, f"{status} {_reason(status)}")


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _html_page(status: int) -> Response:
    """What a proxy in front of either service sends for 502/503/504."""
    reason = _reason(status)
    page = f"<html>\n<head><title>{status} {reason}</title></head>\n<body>\n<center><h1>" \
           f"{status} {reason}</h1></center>\n</body>\n</html>\n"
    return text_response(status, page, content_type="text/html")


def describe(faults: list[Fault]) -> list[Any]:
    """JSON list of faults."""
    return [f.to_json() for f in faults]
