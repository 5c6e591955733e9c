"""Forum posts a rate limit holds for the rest of a run: once the forum rate limits one post
for longer than the run may wait (Discourse's first-day replies cap answers 429 with a wait of
hours), the run's later forum posts are not sent either (`held` outcomes, no request, nothing
in the ledger), and a later run sends them. GitLab writes go on. Said once, here."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from docsgap.errors import RepliesHeldError
from docsgap.models import ActionKind, Outcome
from docsgap.state import utcnow

FORUM_WRITES = frozenset({ActionKind.REPLY, ActionKind.FOLLOWUP, ActionKind.DOCS_REPLY})


def held_reason(exc: RepliesHeldError) -> str:
    """The forum's words, and when the limit lifts when it said."""
    wait = exc.retry_after
    if wait is None or wait <= 0:
        return str(exc)
    until = utcnow() + timedelta(seconds=wait)
    span = (f"{wait / 3600:.0f} h" if wait >= 5400 else f"{wait / 60:.0f} min" if wait >= 90
            else f"{wait:.0f} s")
    return f"{exc}; the limit lifts in about {span} ({until:%Y-%m-%d %H:%M} UTC)"


def line(outcomes: Iterable[Outcome]) -> str | None:
    """One sentence for all of a run's held posts, or None when there are none."""
    held = [o for o in outcomes if o.status == "held"]
    if not held:
        return None
    return (f"{len(held)} forum post(s) held, not sent this run: {held[0].error}. A later run "
            "sends them.")
