"""The review queue as reports show it: the ledger's `pending_review` actions with their
verdicts, and totals. Reports may be public (the summary issue, the CI artifact, the Pages
site), so a reason naming a confidential issue is left out."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from docsgap.state import StateStore, parse_iso


@dataclass(frozen=True, slots=True)
class PendingAction:
    """A planned write waiting in the review queue (ledger status `pending_review`)."""

    key: str
    kind: str
    reason: str
    thread_ids: tuple[int, ...]
    since: datetime | None
    verdict: str | None = None
    """A reviewer's verdict already recorded (the next `run --apply` acts on it)."""


@dataclass(frozen=True, slots=True)
class ReviewQueue:
    """The review queue and ledger totals."""

    pending: tuple[PendingAction, ...] = ()
    ledger_status: tuple[tuple[str, int], ...] = ()
    """(status, count) over the whole ledger."""
    verdicts: tuple[tuple[str, int], ...] = ()
    """(verdict, count) over every recorded verdict."""

    @property
    def waiting(self) -> tuple[PendingAction, ...]:
        """Pending actions nobody has decided on yet."""
        return tuple(p for p in self.pending if p.verdict is None)


CONFIDENTIAL_REASON = ("a match involves a confidential issue: its URL and the words it shares "
                       "are left out of reports; `docsgap review` shows the whole reason")
_URL = re.compile(r"https?://[^\s;,()\[\]'\"<>]+")


def public_reason(reason: str, confidential: Collection[str]) -> str:
    """`reason` as reports show it: the summary issue, its artifact and the HTML page may be
    public, so a reason naming a confidential issue (its URL, the words it shares with the
    thread) is replaced whole."""
    if confidential and any(u.rstrip(".") in confidential for u in _URL.findall(reason)):
        return CONFIDENTIAL_REASON
    return reason


def queue_from_state(store: StateStore) -> ReviewQueue:
    """The review queue (ledger `pending_review` rows with their verdicts) and totals."""
    verdicts = {str(r["key"]): str(r["verdict"]) for r in store.db["verdicts"].rows}
    hidden = {str(u) for (u,) in store.db.execute(
        "select url from items where confidential = 1")}
    ledger = store.ledger()
    pending = tuple(
        PendingAction(
            key=str(r["key"]),
            kind=str(r.get("kind") or ""),
            reason=public_reason(str(r.get("reason") or ""), hidden),
            thread_ids=tuple(int(t) for t in json.loads(r.get("thread_ids") or "[]")),
            since=parse_iso(r.get("started_at")),
            verdict=verdicts.get(str(r["key"])),
        )
        for r in ledger
        if r.get("status") == "pending_review"
    )
    status = Counter(str(r.get("status") or "unknown") for r in ledger)
    return ReviewQueue(
        pending=pending,
        ledger_status=tuple(sorted(status.items())),
        verdicts=tuple(sorted(Counter(verdicts.values()).items())),
    )
