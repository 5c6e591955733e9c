"""The terminal table: fits a given width (100 columns by default), wide characters included."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import datetime

from docsgap.report.rows import ReportExtras, ReportRow, reading_order
from docsgap.report.stats import totals

HEADERS = ("thread", "gap type", "docs page", "issue/MR", "state", "reply")
_GAP = 2  # spaces between columns
_MIN_FLEX = 12  # narrowest thread / page column before we stop shrinking


def cell_width(text: str) -> int:
    """Columns `text` takes in a terminal (East Asian wide characters count 2, marks 0)."""
    width = 0
    for ch in text:
        if unicodedata.combining(ch) or unicodedata.category(ch) in ("Cf", "Mn", "Me"):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


def clean(text: str) -> str:
    """One line: control characters (newlines, escapes, tabs) become spaces, runs collapse."""
    out = "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in text)
    return " ".join(out.split())


def truncate(text: str, width: int, *, keep: str = "end") -> str:
    """Cut `text` to `width` columns with `…`; `keep="end"` keeps the tail (for paths)."""
    if cell_width(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    chars = list(text) if keep == "start" else list(reversed(text))
    kept: list[str] = []
    used = 0
    for ch in chars:
        w = cell_width(ch)
        if used + w > width - 1:
            break
        kept.append(ch)
        used += w
    body = "".join(kept) if keep == "start" else "".join(reversed(kept))
    return body + "…" if keep == "start" else "…" + body


def pad(text: str, width: int) -> str:
    """Left-align `text` in `width` columns."""
    return text + " " * max(0, width - cell_width(text))


GROUP_WIDTH = 24
"""The owning group's column, at most (shown only when some row has a group)."""


def _cells(rows: Sequence[ReportRow], short_refs: bool, groups: bool) -> list[list[str]]:
    return [
        [
            clean(r.thread_title),
            r.gap_type.value if r.gap_type else "-",
            clean(r.page_label) or "-",
            r.short_ref if short_refs else r.item_ref,
            "won't do" if r.item_state == "closed" and r.declined else r.item_state or "?",
            "✓" if r.replied else r.reply_cell,
            *([clean(r.group or "-")] if groups else []),
        ]
        for r in rows
    ]


def _widths(cells: list[list[str]], width: int, headers: Sequence[str]) -> list[int]:
    natural = [max([cell_width(h), *(cell_width(c[i]) for c in cells)])
               for i, h in enumerate(headers)]
    extra = [min(n, GROUP_WIDTH) for n in natural[6:]]
    fixed = natural[1] + natural[3] + natural[4] + natural[5] + sum(extra)
    room = max(2 * _MIN_FLEX, width - fixed - _GAP * (len(headers) - 1))
    thread, page = natural[0], natural[2]
    if thread + page > room:
        # The title carries most meaning: the page gets a third unless it needs less.
        page = min(page, max(_MIN_FLEX, room // 3))
        thread = min(thread, room - page)
        page = min(natural[2], room - thread)
    return [thread, natural[1], page, natural[3], natural[4], natural[5], *extra]


def render_table(
    rows: Sequence[ReportRow],
    *,
    title: str,
    generated_at: datetime,
    extras: ReportExtras | None = None,
    width: int = 100,
) -> str:
    """The issue-link table for a terminal, every line at most `width` columns."""
    head = f"{title} — {generated_at:%Y-%m-%d %H:%M} UTC"
    if not rows:
        return f"{truncate(head, width, keep='start')}\n\nNo thread ↔ issue links yet; " \
               "`docsgap run --apply` creates them.\n"
    projects = {r.item_project for r in rows}
    short = len(projects) == 1 and None not in projects
    groups = any(r.group for r in rows)
    headers = (*HEADERS, "group") if groups else HEADERS
    cells = _cells(reading_order(rows), short, groups)
    widths = _widths(cells, width, headers)
    keep = ("start", "start", "end", "end", "start", "start", "start")[:len(headers)]

    def line(values: Sequence[str]) -> str:
        parts = [pad(truncate(v, w, keep=k), w)
                 for v, w, k in zip(values, widths, keep, strict=True)]
        return (" " * _GAP).join(parts).rstrip()

    out = [truncate(head, width, keep="start"), ""]
    out.append(line(headers))
    out.append(line(["─" * w for w in widths]))
    out.extend(line(c) for c in cells)
    out.append("")
    t = totals(rows, extras)
    summary = (
        f"{t['links']} links · {t['threads']} threads · {t['items']} issues/MRs · "
        f"{t['replies_posted']} replies posted · {t['awaiting_followup']} awaiting follow-up"
    )
    if "pending_review" in t:
        summary += f" · {t['pending_review']} pending review"
    out.append(truncate(summary, width, keep="start"))
    if short:
        out.append(truncate(f"issues/MRs in {projects.pop()}", width, keep="start"))
    return "\n".join(out) + "\n"
