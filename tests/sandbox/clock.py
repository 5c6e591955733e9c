"""A clock the tests move by hand, for the sandbox's time-based rules (rate windows, caches)."""

from __future__ import annotations


class Clock:
    """Call it for the time; `sleep` (recorded) moves it on, as waiting would."""

    def __init__(self, now: float = 1_767_000_000.0) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
