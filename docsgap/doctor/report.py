"""The doctor's results: one `Check` per line, the `CheckRun` that collects them in order
(a `DocsgapError` in a check becomes a FAIL with its hint as the fix), the `DoctorReport` and
its text."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from docsgap.errors import DocsgapError, RateLimitedError

T = TypeVar("T")


class Status(StrEnum):
    """Outcome of one check. Only FAIL makes `docsgap doctor` exit non-zero."""

    OK = "ok"
    WARN = "warn"
    FAIL = "FAIL"
    SKIP = "skip"


@dataclass(frozen=True)
class Check:
    """One line of the doctor's report."""

    name: str
    status: Status
    detail: str
    fix: str | None = None


@dataclass(frozen=True)
class DoctorReport:
    """Every check, in the order they ran."""

    checks: tuple[Check, ...]
    read_only: bool = False

    @property
    def failed(self) -> tuple[Check, ...]:
        """The checks that failed."""
        return tuple(c for c in self.checks if c.status is Status.FAIL)

    @property
    def ok(self) -> bool:
        """No check failed (warnings and skips are fine)."""
        return not self.failed

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict (what `docsgap doctor --json` prints)."""
        return {
            "ok": self.ok,
            "mode": "dry-run" if self.read_only else "apply",
            "failed": len(self.failed),
            "checks": [
                {"name": c.name, "status": c.status.value, "detail": c.detail, "fix": c.fix}
                for c in self.checks
            ],
        }


def render_text(report: DoctorReport) -> str:
    """The report as aligned lines, each failure followed by what to fix."""
    mode = "a dry run" if report.read_only else "`docsgap run --apply`"
    lines = [f"docsgap doctor: what {mode} needs"]
    width = max((len(c.name) for c in report.checks), default=0)
    for c in report.checks:
        lines.append(f"  {c.status.value:<5} {c.name:<{width}}  {c.detail}")
        if c.fix and c.status in (Status.FAIL, Status.WARN):
            lines.append(f"  {'':<5} {'':<{width}}  fix: {c.fix}")
    lines.append(summary_line(report))
    return "\n".join(lines)


def summary_line(report: DoctorReport) -> str:
    """The last line: failures first, and never "all passed" when a check warned or was
    skipped (a skipped check could not be made, so nothing is known of it)."""
    total = len(report.checks)
    counts = {s: sum(1 for c in report.checks if c.status is s) for s in Status}
    rest = ", ".join(f"{n} {label}" for n, label in (
        (counts[Status.OK], "ok"), (counts[Status.WARN], "warned"),
        (counts[Status.SKIP], "skipped")) if n)
    if counts[Status.FAIL]:
        return f"{counts[Status.FAIL]} of {total} checks failed ({rest})."
    if counts[Status.OK] == total:
        return f"All {total} checks passed."
    return f"No check failed of {total}: {rest}."


@dataclass
class CheckRun:
    """The checks of one doctor run, in the order they ran."""

    read_only: bool
    now: datetime
    checks: list[Check] = field(default_factory=list)

    def add(self, name: str, status: Status, detail: str, fix: str | None = None) -> Status:
        """Record one check's outcome and return its status."""
        self.checks.append(Check(name, status, detail, fix))
        return status

    def attempt(self, name: str, fn: Callable[[], tuple[Status, str, str | None]]) -> Status:
        """Run one check; a DocsgapError becomes a FAIL with its hint as the fix."""
        try:
            status, detail, fix = fn()
        except RateLimitedError as exc:
            if exc.status is None:  # the run's own request budget, not the server: no finding
                raise
            return self.add(name, Status.FAIL, str(exc), exc.hint)
        except DocsgapError as exc:
            return self.add(name, Status.FAIL, str(exc), exc.hint)
        return self.add(name, status, detail, fix)

    def build(self, names: Sequence[str], why: str, make: Callable[[], T]) -> T | None:
        """A probe from `make`, or None when it cannot be built: then the first of `names`
        fails with the error and the rest are skipped for `why`."""
        try:
            return make()
        except DocsgapError as exc:
            self.add(names[0], Status.FAIL, str(exc), exc.hint)
            self.skip(names[1:], why)
            return None

    def skip(self, names: Sequence[str], why: str) -> None:
        """Record checks that could not be made, and why."""
        for name in names:
            self.add(name, Status.SKIP, why)

