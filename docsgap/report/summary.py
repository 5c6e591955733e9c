"""The Markdown body of the GitLab summary issue (updated in place each run): new gaps, linked
threads, the review queue, follow-ups due and pages whose demand is rising."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from docsgap.report import stats
from docsgap.report.markdown import md_link, md_ref, md_table, md_text, state_cell
from docsgap.report.rows import ReportExtras, ReportRow, page_label, signals_of
from docsgap.report.select import signal_group

SUMMARY_MARKER = "<!-- docsgap:summary -->"
"""Hidden first line: how the run finds the summary issue to update instead of opening another."""


@dataclass(frozen=True, slots=True)
class SummaryOptions:
    """Knobs of the summary issue."""

    since: datetime
    """`New gaps` and `Linked threads` list what appeared at or after this moment."""
    window_days: int = 14
    """Rising demand: the window in which threads about one page are counted."""
    threshold: int = 3
    """Rising demand: distinct threads in the window that make a page rise."""
    limit: int = 50
    """Rows per table; the rest are counted, so the issue stays readable."""
    title: str = "docsgap summary"
    alerts: str = ""
    """Already-rendered Markdown shown first (spike alerts, `docsgap.docs.spikes`)."""


def _cut(lines: list[list[str]], limit: int) -> tuple[list[list[str]], str]:
    if len(lines) <= limit:
        return lines, ""
    return lines[:limit], f"\n\n_…and {len(lines) - limit} more (see the full report)._"


def _section(heading: str, headers: Sequence[str], lines: list[list[str]], empty: str,
             limit: int, intro: str = "") -> str:
    intro = f"{intro}\n\n" if intro else ""
    if not lines:
        return f"### {heading}\n\n{intro}{empty}"
    shown, more = _cut(lines, limit)
    return f"### {heading} ({len(lines)})\n\n{intro}{md_table(headers, shown)}{more}"


def _new_gaps(rows: Sequence[ReportRow], extras: ReportExtras | None, since: datetime,
              limit: int) -> str:
    """Newest first; when some gap's owning group is known, grouped by it (each group's
    technical writer reads their own part), groups with the most gaps first."""
    linked: dict[int, list[ReportRow]] = {}
    for r in rows:
        linked.setdefault(r.thread_id, []).append(r)
    new = [s for s in sorted(signals_of(rows, extras),
                             key=lambda s: (s.first_seen or since, s.key), reverse=True)
           if s.first_seen is not None and s.first_seen >= since]
    groups = {s.key: signal_group(s, rows) for s in new}
    if any(groups.values()):
        count = Counter(groups.values())
        new.sort(key=lambda s: (groups[s.key] is None, -count[groups[s.key]],
                                groups[s.key] or ""))
    lines = []
    for s in new:
        items = ", ".join(md_ref(r.item_ref, r.item_url) for r in linked.get(s.thread_id, []))
        lines.append([
            md_link(s.thread_title, s.thread_url),
            s.gap_type.value.replace("_", " ") if s.gap_type else "–",
            md_link(page_label(s.page_path, s.page_url), s.page_url) if s.page_key else "–",
            items or "not linked yet",
            f"{s.first_seen:%Y-%m-%d}" if s.first_seen else "–",
            *([md_text(groups[s.key] or "–")] if any(groups.values()) else []),
        ])
    headers = ["Thread", "Gap type", "Docs page", "Issue/MR", "Detected",
               *(["Group"] if any(groups.values()) else [])]
    return _section("New gaps", headers, lines, "No new gap since the last summary.", limit)


def _linked(rows: Sequence[ReportRow], since: datetime, limit: int) -> str:
    recent = sorted((r for r in rows if r.linked_at and r.linked_at >= since),
                    key=lambda r: (r.linked_at, r.thread_id), reverse=True)
    lines = [
        [md_link(r.thread_title, r.thread_url), md_ref(r.item_ref, r.item_url), state_cell(r),
         md_link("✓", r.reply_url) if r.replied else r.reply_cell,
         "opened by docsgap" if r.source == "docsgap" else md_text(r.source) or "–"]
        for r in recent
    ]
    return _section("Linked threads", ["Thread", "Issue/MR", "State", "Reply", "How"], lines,
                    "No thread was linked since the last summary.", limit)


def _queue(rows: Sequence[ReportRow], extras: ReportExtras | None, limit: int) -> str:
    if extras is None or extras.queue is None:
        return "### Review queue\n\nThe review queue was not read for this summary."
    threads = {s.thread_id: s for s in signals_of(rows, extras)}
    lines = []
    for p in extras.queue.waiting:
        names = ", ".join(
            md_link(threads[t].thread_title, threads[t].thread_url) if t in threads
            else f"thread {t}" for t in p.thread_ids
        )
        lines.append([md_text(p.kind.replace("_", " ")), names or "–", md_text(p.reason),
                      f"{p.since:%Y-%m-%d}" if p.since else "–"])
    body = _section("Review queue", ["Action", "Threads", "Why", "Waiting since"], lines,
                    "Nothing waits for review.", limit)
    if lines:
        body += "\n\nReview with `docsgap review`; accepted actions run on the next scheduled run."
    return body


def _rising(rows: Sequence[ReportRow], extras: ReportExtras | None, now: datetime,
            opts: SummaryOptions) -> str:
    pages = stats.rising_pages(rows, extras, now=now, window_days=opts.window_days,
                               threshold=opts.threshold)
    urls = {r.item_ref: r.item_url for r in rows}
    lines = [
        [md_link(p.label, p.url), str(p.in_window), str(p.total),
         ", ".join(md_ref(ref, urls.get(ref)) for ref in p.items) or "none"]
        for p in pages
    ]
    rule = f"Pages with at least {opts.threshold} new threads in the last {opts.window_days} days."
    return _section("Rising demand", ["Docs page", f"Threads ({opts.window_days} d)",
                                      "All threads", "Linked issues/MRs"],
                    lines, "No page is rising.", opts.limit, intro=rule)


def _followups(rows: Sequence[ReportRow], now: datetime, limit: int) -> str:
    lines = [
        [md_link(r.thread_title, r.thread_url), md_ref(r.item_ref, r.item_url),
         md_text(r.item_state), f"{days:.0f}"]
        for r, days in stats.waiting_followups(rows, now)
    ]
    return _section("Follow-ups due", ["Thread", "Issue/MR", "State", "Days waiting"], lines,
                    "Every closed issue has been followed up.", limit)


def render_summary(
    rows: Sequence[ReportRow],
    extras: ReportExtras | None,
    *,
    now: datetime,
    options: SummaryOptions | None = None,
) -> str:
    """The summary issue's description (Markdown, safe for GitLab: no mentions or references
    fire from forum text), starting with SUMMARY_MARKER."""
    opts = options or SummaryOptions(since=now - timedelta(days=7))
    t = stats.totals(rows, extras)
    glance = (f"{t['threads']} threads linked to {t['items']} issues/MRs · "
              f"{t['replies_posted']} replies posted · {t['awaiting_followup']} follow-ups due")
    if "pending_review" in t:
        glance += f" · {t['pending_review']} actions waiting for review"
    parts = [
        SUMMARY_MARKER,
        f"## {md_text(opts.title)}",
        *([opts.alerts] if opts.alerts else []),
        f"_Updated {now:%Y-%m-%d %H:%M} UTC · changes since {opts.since:%Y-%m-%d %H:%M} UTC._",
        glance,
        _rising(rows, extras, now, opts),
        _new_gaps(rows, extras, opts.since, opts.limit),
        _linked(rows, opts.since, opts.limit),
        _queue(rows, extras, opts.limit),
        _followups(rows, now, opts.limit),
        "<sub>Generated by docsgap; this description is rewritten on every scheduled run.</sub>",
    ]
    return "\n\n".join(parts) + "\n"
