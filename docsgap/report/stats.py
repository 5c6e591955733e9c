"""Pure aggregations behind the report's totals, charts and summary issue (no formatting)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from statistics import median
from typing import Any

from docsgap.models import GapType
from docsgap.report.rows import ReportExtras, ReportRow, SignalPoint, page_label, signals_of

GAP_ORDER: tuple[str, ...] = (*(g.value for g in GapType), "other")
"""Stable order of gap types in legends and stacks; `other` holds unknown types."""

CLOSE_BUCKETS: tuple[tuple[str, float], ...] = (
    ("≤ 7", 7), ("8–14", 14), ("15–30", 30), ("31–60", 60), ("61–90", 90), ("91–180", 180),
    ("> 180", float("inf")),
)
"""Histogram buckets of days from first thread to issue closed: (label, upper bound)."""


def gap_key(gap: GapType | None) -> str:
    """The stack/legend key of a gap type."""
    return gap.value if gap else "other"


def totals(rows: Sequence[ReportRow], extras: ReportExtras | None = None) -> dict[str, Any]:
    """Headline counts for every format."""
    items = {r.item_url: r for r in rows}
    out: dict[str, Any] = {
        "links": len(rows),
        "threads": len({r.thread_id for r in rows}),
        "items": len(items),
        "issues": sum(1 for r in items.values() if r.item_kind == "issue"),
        "merge_requests": sum(1 for r in items.values() if r.item_kind == "merge_request"),
        "replies_posted": sum(1 for r in rows if r.replied),
        "followups_posted": sum(1 for r in rows if r.followup_url),
        "awaiting_followup": sum(1 for r in rows if r.awaiting_followup),
        "by_state": dict(sorted(Counter(r.item_state or "unknown" for r in items.values())
                                .items())),
        "by_gap_type": dict(sorted(Counter(gap_key(r.gap_type) for r in rows).items())),
    }
    if extras is not None:
        if extras.signals:
            out["signals"] = len(extras.signals)
        if extras.queue is not None:
            out["pending_review"] = len(extras.queue.waiting)
            out["reviewed_not_applied"] = len(extras.queue.pending) - len(extras.queue.waiting)
    return out


def week_start(dt: datetime) -> date:
    """The Monday (UTC) of the ISO week holding `dt`."""
    d = dt.date()
    return d - timedelta(days=d.weekday())


def signals_per_week(
    signals: Sequence[SignalPoint], *, max_weeks: int = 16
) -> list[tuple[date, dict[str, int]]]:
    """Signals counted per week and gap type, gap-free weeks included, the last `max_weeks`."""
    counts: dict[date, Counter[str]] = defaultdict(Counter)
    for s in signals:
        if s.reported_at:
            counts[week_start(s.reported_at)][gap_key(s.gap_type)] += 1
    if not counts:
        return []
    last = max(counts)
    first = max(min(counts), last - timedelta(weeks=max_weeks - 1))
    weeks: list[tuple[date, dict[str, int]]] = []
    week = first
    while week <= last:
        weeks.append((week, dict(counts.get(week, Counter()))))
        week += timedelta(weeks=1)
    return weeks


@dataclass(frozen=True, slots=True)
class PageDemand:
    """Threads about one docs page."""

    label: str
    url: str | None
    threads: int
    by_gap: tuple[tuple[str, int], ...]
    """(gap key, distinct threads) in GAP_ORDER."""


def top_pages(signals: Sequence[SignalPoint], *, limit: int = 10) -> list[PageDemand]:
    """Docs pages by distinct threads, most first (ties by name)."""
    threads: dict[str, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
    info: dict[str, tuple[str, str | None]] = {}
    for s in signals:
        if not s.page_key:
            continue
        threads[s.page_key][gap_key(s.gap_type)].add(s.thread_id)
        info.setdefault(s.page_key, (page_label(s.page_path, s.page_url), s.page_url))
    pages = []
    for key, by_gap in threads.items():
        label, url = info[key]
        total = len(set().union(*by_gap.values()))
        stack = tuple((g, len(by_gap[g])) for g in GAP_ORDER if by_gap.get(g))
        pages.append(PageDemand(label, url, total, stack))
    pages.sort(key=lambda p: (-p.threads, p.label))
    return pages[:limit]


@dataclass(frozen=True, slots=True)
class CloseTime:
    """Days from the first linked thread to the item being closed or merged."""

    item_ref: str
    item_url: str
    title: str
    days: float


def close_times(rows: Sequence[ReportRow]) -> list[CloseTime]:
    """One entry per closed item with a known first-thread date, slowest first."""
    first: dict[str, datetime] = {}
    sample: dict[str, ReportRow] = {}
    for r in rows:
        if r.item_closed_at is None or r.reported_at is None:
            continue
        sample.setdefault(r.item_url, r)
        if r.item_url not in first or r.reported_at < first[r.item_url]:
            first[r.item_url] = r.reported_at
    out = [
        CloseTime(r.item_ref, url, r.item_title or r.item_ref,
                  max(0.0, (r.item_closed_at - first[url]).total_seconds() / 86400))
        for url, r in sample.items()
        if r.item_closed_at is not None
    ]
    out.sort(key=lambda c: (-c.days, c.item_ref))
    return out


def close_histogram(times: Sequence[CloseTime]) -> list[tuple[str, int]]:
    """Counts per CLOSE_BUCKETS bucket, every bucket present."""
    counts = Counter(next(label for label, top in CLOSE_BUCKETS if t.days <= top) for t in times)
    return [(label, counts.get(label, 0)) for label, _ in CLOSE_BUCKETS]


def median_days(times: Sequence[CloseTime]) -> float | None:
    """Median days to close, or None without data."""
    return median(t.days for t in times) if times else None


def waiting_followups(rows: Sequence[ReportRow], now: datetime) -> list[tuple[ReportRow, float]]:
    """Links whose item is done but whose thread has no follow-up: (row, days waiting), longest
    first; days count from the item's close (0 when unknown)."""
    out = [
        (r, max(0.0, (now - r.item_closed_at).total_seconds() / 86400) if r.item_closed_at else 0.0)
        for r in rows
        if r.awaiting_followup
    ]
    out.sort(key=lambda p: (-p[1], p[0].thread_id))
    return out


@dataclass(frozen=True, slots=True)
class RisingPage:
    """A page with several new threads in a short window: the early warning."""

    label: str
    url: str | None
    in_window: int
    total: int
    thread_ids: tuple[int, ...]
    """Threads inside the window, newest first."""
    items: tuple[str, ...]
    """Refs of issues/MRs already linked to any thread about the page."""


def rising_pages(
    rows: Sequence[ReportRow],
    extras: ReportExtras | None,
    *,
    now: datetime,
    window_days: int = 14,
    threshold: int = 3,
) -> list[RisingPage]:
    """Pages with at least `threshold` distinct threads reported in the last `window_days`."""
    start = now - timedelta(days=window_days)
    recent: dict[str, dict[int, datetime]] = defaultdict(dict)
    every: dict[str, set[int]] = defaultdict(set)
    info: dict[str, tuple[str, str | None]] = {}
    for s in signals_of(rows, extras):
        if not s.page_key:
            continue
        every[s.page_key].add(s.thread_id)
        info.setdefault(s.page_key, (page_label(s.page_path, s.page_url), s.page_url))
        when = s.reported_at
        if when and start <= when <= now:
            recent[s.page_key][s.thread_id] = when
    linked: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        if r.page_key:
            linked[r.page_key].add(r.item_ref)
    out = [
        RisingPage(
            label=info[key][0], url=info[key][1], in_window=len(threads), total=len(every[key]),
            thread_ids=tuple(sorted(threads, key=lambda t: threads[t], reverse=True)),
            items=tuple(sorted(linked.get(key, ()))),
        )
        for key, threads in recent.items()
        if len(threads) >= threshold
    ]
    out.sort(key=lambda p: (-p.in_window, -p.total, p.label))
    return out
