"""Inline SVG charts for the HTML report, drawn here (no chart library, no network).

Colours come from CSS classes (`g-<gap type>`, `c-*`) defined by the page, so the palette lives in
one place and printing can adjust it. Every text is escaped; links only for http(s) URLs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date
from html import escape

from docsgap.report.rows import ReportRow, safe_url
from docsgap.report.stats import GAP_ORDER, PageDemand
from docsgap.report.text import truncate

W = 560
"""Width of every chart's viewBox; the page scales it to the card."""


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def nice_max(value: float, ticks: int = 4) -> tuple[float, float]:
    """A round axis maximum >= `value` and its tick step (1, 2, 2.5 or 5 x 10^n)."""
    if value <= 0:
        return 1.0, 1.0
    raw = value / ticks
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    if step < 1:
        step = 1.0
    return step * math.ceil(value / step), step


def _fmt(n: float) -> str:
    return str(int(n)) if float(n).is_integer() else f"{n:.1f}"


def _svg(height: int, label: str, body: list[str]) -> str:
    return (
        f'<svg class="chart-svg" viewBox="0 0 {W} {height}" role="img" '
        f'aria-label="{_e(label)}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{_e(label)}</title>{''.join(body)}</svg>"
    )


def empty_svg(label: str, message: str) -> str:
    """A chart-sized placeholder saying why there is nothing to draw."""
    return _svg(120, label, [
        f'<text class="empty" x="{W / 2}" y="64" text-anchor="middle">{_e(message)}</text>'
    ])


def _y_axis(left: float, top: float, plot_h: float, right: float, top_value: float,
            step: float) -> list[str]:
    out = []
    v = 0.0
    while v <= top_value + 1e-9:
        y = top + plot_h - plot_h * v / top_value
        out.append(f'<line class="grid" x1="{left}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}"/>')
        out.append(f'<text class="tick" x="{left - 6}" y="{y + 4:.1f}" '
                   f'text-anchor="end">{_fmt(v)}</text>')
        v += step
    return out


def _columns(labels: Sequence[str], stacks: Sequence[Sequence[tuple[str, int]]], label: str,
             tips: Sequence[str], y_title: str) -> str:
    """Vertical (stacked) columns with a y axis and every n-th x label."""
    height, left, top, bottom = 250, 40, 16, 44
    plot_w, plot_h = W - left - 8, height - top - bottom
    peak = max((sum(v for _, v in s) for s in stacks), default=0)
    top_value, step = nice_max(peak)
    body = _y_axis(left, top, plot_h, W - 8, top_value, step)
    body.append(f'<text class="axis-title" x="{left}" y="{top - 5}">{_e(y_title)}</text>')
    band = plot_w / max(1, len(labels))
    every = max(1, math.ceil(len(labels) / 8))
    for i, (name, stack, tip) in enumerate(zip(labels, stacks, tips, strict=True)):
        x = left + band * i + band * 0.15
        y: float = top + plot_h
        for cls, value in stack:
            h = plot_h * value / top_value
            y -= h
            body.append(
                f'<rect class="bar {cls}" x="{x:.1f}" y="{y:.1f}" width="{band * 0.7:.1f}" '
                f'height="{h:.1f}"><title>{_e(tip)}: {value} {_e(cls[2:].replace("_", " "))}'
                f"</title></rect>"
            )
        total = sum(v for _, v in stack)
        if total and len(labels) <= 20:
            body.append(f'<text class="value" x="{x + band * 0.35:.1f}" y="{y - 4:.1f}" '
                        f'text-anchor="middle">{total}</text>')
        if i % every == 0:
            body.append(f'<text class="tick" x="{x + band * 0.35:.1f}" y="{top + plot_h + 16}" '
                        f'text-anchor="middle">{_e(name)}</text>')
    body.append(f'<line class="axis" x1="{left}" x2="{W - 8}" y1="{top + plot_h}" '
                f'y2="{top + plot_h}"/>')
    return _svg(height, label, body)


def weeks_svg(weeks: Sequence[tuple[date, dict[str, int]]]) -> str:
    """Stacked columns: signals per week, one colour per gap type."""
    label = "Signals per week by gap type"
    if not weeks:
        return empty_svg(label, "No signals recorded yet")
    names = [f"{w:%b} {w.day}" for w, _ in weeks]
    stacks = [[(f"g-{g}", c[g]) for g in GAP_ORDER if c.get(g)] for _, c in weeks]
    tips = [f"Week of {w:%Y-%m-%d}" for w, _ in weeks]
    return _columns(names, stacks, label, tips, "signals")


def histogram_svg(hist: Sequence[tuple[str, int]]) -> str:
    """Columns: issues per bucket of days from first thread to closed."""
    label = "Days from first thread to issue closed"
    if not any(n for _, n in hist):
        return empty_svg(label, "No linked issue has been closed yet")
    names = [name for name, _ in hist]
    stacks = [[("c-close", n)] if n else [] for _, n in hist]
    tips = [f"{name} days" for name in names]
    return _columns(names, stacks, label, tips, "issues / MRs")


def _bars(items: Sequence[tuple[str, str | None, Sequence[tuple[str, float]], str]],
          label: str, unit: str, more: int = 0) -> str:
    """Horizontal (stacked) bars: (label, link, [(class, value)], value text) per row."""
    row_h, top, label_w = 26, 8, 210
    height = top + row_h * len(items) + (22 if more else 6)
    # Leave room right of the longest bar for its value text (about 6.5 px a character).
    plot_w = W - label_w - 12 - 6.5 * max((len(v) for *_, v in items), default=2)
    peak = max((sum(v for _, v in segs) for _, _, segs, _ in items), default=1) or 1
    body = []
    for i, (name, url, segs, value_text) in enumerate(items):
        y = top + i * row_h
        text = (f'<text class="bar-label" x="{label_w - 8}" y="{y + 16}" text-anchor="end">'
                f"{_e(truncate(name, 34, keep='end' if '/' in name else 'start'))}"
                f"<title>{_e(name)}</title></text>")
        link = safe_url(url)
        body.append(f'<a href="{_e(link)}">{text}</a>' if link else text)
        x: float = label_w
        for cls, value in segs:
            w = plot_w * value / peak
            what = (f"{_fmt(value)} {cls[2:].replace('_', ' ')}" if cls.startswith("g-")
                    else f"{value_text} {unit}")
            body.append(f'<rect class="bar {cls}" x="{x:.1f}" y="{y + 4}" width="{w:.1f}" '
                        f'height="{row_h - 8}" rx="2"><title>{_e(name)}: {_e(what)}</title></rect>')
            x += w
        body.append(f'<text class="value" x="{x + 6:.1f}" y="{y + 16}">{_e(value_text)}</text>')
    if more:
        body.append(f'<text class="tick" x="{label_w}" y="{height - 6}">'
                    f"and {more} more</text>")
    return _svg(height, label, body)


def pages_svg(pages: Sequence[PageDemand]) -> str:
    """Horizontal stacked bars: docs pages with the most threads, split by gap type."""
    label = "Docs pages with the most threads"
    if not pages:
        return empty_svg(label, "No signal names a docs page yet")
    items = [(p.label, p.url, [(f"g-{g}", float(n)) for g, n in p.by_gap], str(p.threads))
             for p in pages]
    return _bars(items, label, "threads")


def waiting_svg(waiting: Sequence[tuple[ReportRow, float]], *, limit: int = 8) -> str:
    """Horizontal bars: threads whose issue is done but got no follow-up, days waiting."""
    label = "Threads waiting for a follow-up"
    if not waiting:
        return empty_svg(label, "Every closed issue has been followed up ✓")
    items = [
        (r.thread_title, r.thread_url, [("c-wait", max(days, 0.3))],
         f"{days:.0f} d · {r.short_ref if r.item_project else r.item_ref}")
        for r, days in waiting[:limit]
    ]
    return _bars(items, label, "since the item closed", more=max(0, len(waiting) - limit))
