"""Request accounting shared by the adapters: wait hints, the per-run wait allowance, and a
`requests` transport adapter that charges every request (retries included) to the `Budget`."""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from requests import PreparedRequest, Response, Session
from requests.adapters import HTTPAdapter

from docsgap.budget import Budget
from docsgap.errors import RateLimitedError

log = logging.getLogger(__name__)

DEFAULT_WAIT = 10.0
"""Seconds to wait after a 429 that carries no hint at all."""

WaitListener = Callable[[str, float], None]
_listeners: list[WaitListener] = []


@contextlib.contextmanager
def waits_told_to(listener: WaitListener) -> Iterator[None]:
    """While inside, `listener(service, seconds)` hears of each wait a run allows (a 429's hint,
    a retry's backoff) before the client sleeps it: the CLI shows it, so a terminal is not
    silent for a minute."""
    _listeners.append(listener)
    try:
        yield
    finally:
        _listeners.remove(listener)


def retry_after_seconds(
    headers: Mapping[str, str], now: Callable[[], datetime] | None = None
) -> float | None:
    """The `Retry-After` header in seconds (delta-seconds or an HTTP date), else `None`."""
    value = (headers.get("Retry-After") or "").strip()
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now() if now else datetime.now(UTC)
    return max((when - current).total_seconds(), 0.0)


class WaitAllowance:
    """How long one run may sleep on rate limits in total; past that it stops cleanly."""

    def __init__(self, service: str, max_wait: float) -> None:
        self.service = service
        self.max_wait = max_wait
        self.waited = 0.0

    def take(self, seconds: float) -> None:
        """Reserve `seconds` of waiting or raise `RateLimitedError` if it would exceed the cap."""
        if self.waited + seconds > self.max_wait:
            raise RateLimitedError(
                f"{self.service}: rate limited; waiting {seconds:.0f}s more would exceed the "
                f"{self.max_wait:.0f}s allowed per run",
                retry_after=seconds,
            )
        self.waited += seconds
        for listener in tuple(_listeners):  # a listener may leave while told
            listener(self.service, seconds)


class BudgetAdapter(HTTPAdapter):
    """A transport adapter that spends one budget unit before every request it sends (so
    retries and redirects count too) and vets each 429's wait hint against the run's wait
    allowance. Mount it on a client's session (`session.mount("https://", ...)`).

    python-gitlab sleeps on a 429 itself (`int(Retry-After)`, crashing on an HTTP date); the
    adapter rewrites the header to whole seconds so that sleep is always the one we allowed.
    """

    def __init__(self, budget: Budget, service: str, allowance: WaitAllowance) -> None:
        super().__init__()
        self.budget = budget
        self.service = service
        self.allowance = allowance
        self.requests_made = 0
        self.last_wait: float | None = None

    def send(self, request: PreparedRequest, *args: Any, **kwargs: Any) -> Response:
        """Spend budget, send, and vet a 429 before the client decides to sleep on it."""
        self.budget.spend(self.service)
        self.requests_made += 1
        response = super().send(request, *args, **kwargs)
        if response.status_code == 429:
            wait = retry_after_seconds(response.headers)
            if wait is None:
                wait = _reset_wait(response.headers)
            wait = DEFAULT_WAIT if wait is None else wait
            self.last_wait = wait
            log.info("%s: 429 on %s, waiting %.0fs", self.service, request.url, wait)
            self.allowance.take(wait)
            response.headers["Retry-After"] = str(math.ceil(wait))
            for listener in _listeners:
                listener(self.service, float(math.ceil(wait)))
        return response

    def install(self, session: Session) -> None:
        """Route every http(s) request of `session` through this adapter."""
        session.mount("https://", self)
        session.mount("http://", self)


def _reset_wait(headers: Mapping[str, str]) -> float | None:
    """Seconds until GitLab's `RateLimit-Reset` epoch, if present and readable."""
    value = headers.get("RateLimit-Reset")
    if not value:
        return None
    try:
        return max(float(value) - datetime.now(UTC).timestamp(), 0.0)
    except ValueError:
        return None
