"""One request budget per run, shared by every adapter, so a run stops cleanly instead of
tripping Discourse's site-wide 60 requests/minute admin-key bucket."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from docsgap.errors import RateLimitedError


@dataclass
class Budget:
    """Counts requests per service and refuses the one past the limit."""

    limits: dict[str, int | None] = field(default_factory=dict)
    """Per-service cap (`None` or absent means unlimited)."""
    used: Counter[str] = field(default_factory=Counter)

    def spend(self, service: str, n: int = 1) -> None:
        """Record `n` requests; raise `RateLimitedError` if that would exceed the cap."""
        cap = self.limits.get(service)
        if cap is not None and self.used[service] + n > cap:
            raise RateLimitedError(
                f"{service}: request budget of {cap} for this run is spent", status=None
            )
        self.used[service] += n

    def remaining(self, service: str) -> int | None:
        """Requests left for `service` (`None` when unlimited)."""
        cap = self.limits.get(service)
        return None if cap is None else max(cap - self.used[service], 0)
