"""The HTML report: one self-contained page (inline CSS, vanilla JS, inline SVG charts, the data as
embedded JSON); nothing is fetched, and a Content-Security-Policy keeps it that way."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
from html import escape
from importlib import resources
from typing import Any

from docsgap import __version__
from docsgap.report import charts, stats
from docsgap.report.jsonfmt import report_data
from docsgap.report.rows import ReportExtras, ReportRow, safe_url, signals_of

QUEUE_LIMIT = 20
_REPLY_TITLE = {"queued": "waits for a forum moderator's approval",
                "rejected": "a forum moderator refused docsgap's reply; it is not posted again"}
"""Review-queue entries listed on the page (the rest are counted)."""


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def asset(name: str) -> str:
    """The text of a file in `docsgap/report/assets/`."""
    return (resources.files("docsgap.report") / "assets" / name).read_text(encoding="utf-8")


def embed_json(data: Any) -> str:
    """JSON safe inside `<script type="application/json">`: `<`, `>`, `&` and the JS line
    separators become `\\u` escapes, so no `</script>` or `<!--` can end the element."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                    ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    return text


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def _a(text: str, url: str | None, cls: str = "", *, wrap_slashes: bool = False) -> str:
    link = safe_url(url)
    attr = f' class="{cls}"' if cls else ""
    inner = _e(text).replace("/", "/<wbr>") if wrap_slashes else _e(text)
    if not link:
        return f"<span{attr}>{inner}</span>"
    return f'<a{attr} href="{_e(link)}" rel="noopener noreferrer">{inner}</a>'


def _date(dt: datetime | None) -> tuple[str, str]:
    return (dt.isoformat(), f"{dt:%Y-%m-%d}") if dt else ("", "–")


def _legend(keys: Sequence[str]) -> str:
    items = "".join(f'<li><i class="g-{k}"></i>{_e(k.replace("_", " "))}</li>' for k in keys)
    return f'<ul class="legend">{items}</ul>'


def _figure(name: str, caption: str, sub: str, svg: str, extra: str = "") -> str:
    return (f'<figure class="chart" data-chart="{name}"><figcaption>{_e(caption)}</figcaption>'
            f'<p class="sub">{_e(sub)}</p>{extra}{svg}</figure>')


def _charts(rows: Sequence[ReportRow], extras: ReportExtras | None, now: datetime) -> str:
    signals = signals_of(rows, extras)
    weeks = stats.signals_per_week(signals)
    present = [g for g in stats.GAP_ORDER if any(stats.gap_key(s.gap_type) == g for s in signals)]
    pages = stats.top_pages(signals)
    times = stats.close_times(rows)
    med = stats.median_days(times)
    waiting = stats.waiting_followups(rows, now)
    n_weeks = len(weeks)
    return "".join([
        _figure("signals-per-week", "Signals per week",
                f"{len(signals)} signals over {n_weeks} week{'s' * (n_weeks != 1)}, "
                "by the week the thread was opened", charts.weeks_svg(weeks), _legend(present)),
        _figure("top-pages", "Docs pages with the most threads",
                f"Distinct threads per page, top {len(pages)}", charts.pages_svg(pages),
                _legend(present)),
        _figure("time-to-close", "Time from first thread to issue closed",
                f"{len(times)} closed or merged"
                + (f" · median {med:.0f} days" if med is not None else ""),
                charts.histogram_svg(stats.close_histogram(times))),
        _figure("waiting-followup", "Threads waiting for a follow-up",
                f"{len(waiting)} linked issue{'s' * (len(waiting) != 1)} closed or merged, "
                "no follow-up posted in the thread yet", charts.waiting_svg(waiting)),
    ])


def _kpis(rows: Sequence[ReportRow], extras: ReportExtras | None) -> str:
    t = stats.totals(rows, extras)
    cards = [
        ("", t["threads"], "threads linked"), ("", t["items"], "issues / MRs"),
        ("", t["links"], "links"), ("", t["replies_posted"], "replies posted"),
        ("warn", t["awaiting_followup"], "awaiting follow-up"),
        ("queue", t.get("pending_review", "–"), "pending review"),
    ]
    return '<section class="kpis">' + "".join(
        f'<div class="kpi {cls}"><span class="n">{_e(n)}</span><span class="l">{_e(label)}</span>'
        f"</div>" for cls, n, label in cards) + "</section>"


_COLUMNS = (("Thread", "text"), ("Gap type", "text"), ("Docs page", "text"), ("Issue / MR", "text"),
            ("State", "text"), ("Reply", "num"), ("Follow-up", "num"), ("Reported", "text"),
            ("Linked", "text"))


_SOURCE = {"docsgap": "linked by docsgap", "thread": "linked in the thread"}
"""Who made a link, in words for the docs team (CSV/JSON keep the `source` value)."""


def _row(i: int, r: ReportRow) -> str:
    gap = stats.gap_key(r.gap_type)
    state = r.item_state or "unknown"
    rep_v, rep = _date(r.reported_at)
    link_v, linked = _date(r.linked_at)
    if r.followup_url:
        follow, follow_v = _a("✓", r.followup_url, "yes"), "2"
    elif r.awaiting_followup:
        follow, follow_v = '<span class="due">due</span>', "1"
    else:
        follow, follow_v = '<span class="none">–</span>', "0"
    page = _a(r.page_label, r.page_url, wrap_slashes=True) if r.page_label else "–"
    reply = _a("✓", r.reply_url, "yes") if r.replied else \
        f'<span class="none" title="{_e(_REPLY_TITLE.get(r.reply_state or "", ""))}">' \
        f'{r.reply_cell}</span>'
    item_title = f'<span class="t" title="{_e(r.item_title)}">{_e(r.item_title)}</span>' \
        if r.item_title else '<span class="t">confidential issue</span>' \
        if r.item_confidential else ""
    if r.why:
        item_title += f'<details class="why"><summary>why</summary>{_e(r.why)}</details>'
    return (
        f'<tr data-i="{i}" data-gap="{_e(gap)}" data-state="{_e(state)}" '
        f'data-waiting="{int(r.awaiting_followup)}">'
        f'<td class="title" data-v="{_e(r.thread_title.lower())}">'
        f"{_a(r.thread_title, r.thread_url)}"
        f'<span class="id">#{r.thread_id} · {_e(_SOURCE.get(r.source, r.source))}</span></td>'
        f'<td data-v="{_e(gap)}"><span class="pill"><i class="g-{_e(gap)}"></i>'
        f'{_e(gap.replace("_", " "))}</span></td>'
        f'<td class="page">{page}</td>'
        f'<td class="item" data-v="{_e(r.item_ref)}">{_a(r.item_ref, r.item_url)}{item_title}</td>'
        f'<td><span class="badge {_e(state)}">{_e(r.state_label)}</span></td>'
        f'<td class="c" data-v="{int(r.replied)}">{reply}</td>'
        f'<td class="c" data-v="{follow_v}">{follow}</td>'
        f'<td class="date" data-v="{rep_v}">{rep}</td>'
        f'<td class="date" data-v="{link_v}">{linked}</td></tr>'
    )


def _options(values: Sequence[str], all_label: str) -> str:
    opts = "".join(f'<option value="{_e(v)}">{_e(v.replace("_", " "))}</option>' for v in values)
    return f'<option value="">{_e(all_label)}</option>{opts}'


def _table(rows: Sequence[ReportRow]) -> str:
    if not rows:
        return ('<div class="panel"><p class="empty-note">No thread ↔ issue links yet: '
                "<code>docsgap run --apply</code> creates them.</p></div>")
    gaps = [g for g in stats.GAP_ORDER if any(stats.gap_key(r.gap_type) == g for r in rows)]
    states = sorted({r.item_state or "unknown" for r in rows})
    heads = "".join(f'<th data-type="{t}" aria-sort="none"><button type="button">{_e(n)}</button>'
                    "</th>" for n, t in _COLUMNS)
    body = "".join(_row(i, r) for i, r in enumerate(rows))
    return (
        '<div class="panel"><div class="controls">'
        '<input id="f-q" type="search" placeholder="Filter threads, pages, issues…" '
        'aria-label="Filter text">'
        f'<select id="f-gap" aria-label="Gap type">{_options(gaps, "All gap types")}</select>'
        f'<select id="f-state" aria-label="State">{_options(states, "All states")}</select>'
        '<label><input id="f-waiting" type="checkbox"> awaiting follow-up</label>'
        '<button id="dl-json" type="button">Download JSON</button>'
        f'<span id="f-count" class="count">{len(rows)} links</span></div>'
        f'<div class="table-wrap"><table id="links"><thead><tr>{heads}</tr></thead><tbody>{body}'
        f'<tr id="nomatch" class="nomatch" hidden><td colspan="{len(_COLUMNS)}">'
        "No link matches these filters.</td></tr></tbody></table></div></div>"
    )


def _queue(rows: Sequence[ReportRow], extras: ReportExtras | None) -> str:
    if extras is None or extras.queue is None:
        return ""
    waiting = extras.queue.waiting
    threads: dict[int, tuple[str, str | None]] = {
        s.thread_id: (s.thread_title, s.thread_url) for s in signals_of(rows, extras)
    }
    threads.update({r.thread_id: (r.thread_title, r.thread_url) for r in rows})
    items = []
    for p in waiting[:QUEUE_LIMIT]:
        names = ", ".join(_a(*threads.get(t, (f"thread {t}", None))) for t in p.thread_ids) or "–"
        since = f" · since {p.since:%Y-%m-%d}" if p.since else ""
        items.append(f'<li><span class="k">{_e(p.kind.replace("_", " "))}</span>{names}'
                     f'<span class="r"> — {_e(p.reason)}{since}</span></li>')
    if len(waiting) > QUEUE_LIMIT:
        items.append(f'<li class="r">and {len(waiting) - QUEUE_LIMIT} more</li>')
    inner = (f'<ul class="queue-list">{"".join(items)}</ul>' if items else
             '<p class="empty-note">Nothing waits for review.</p>')
    return (f"<h2>Review queue ({len(waiting)})</h2>"
            f'<section class="panel queue">{inner}</section>')


def render_html(
    rows: Sequence[ReportRow],
    *,
    title: str,
    generated_at: datetime,
    extras: ReportExtras | None = None,
) -> str:
    """The whole report page as one self-contained HTML document."""
    css, js = asset("report.css"), asset("report.js")
    data = embed_json(report_data(rows, title=title, generated_at=generated_at, extras=extras))
    csp = (f"default-src 'none'; style-src {_csp_hash(css)}; script-src {_csp_hash(js)}; "
           "img-src data:; base-uri 'none'; form-action 'none'")
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_e(csp)}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="generator" content="docsgap {_e(__version__)}">'
        f"<title>{_e(title)}</title><style>{css}</style></head><body>"
        '<header class="top"><div class="brand"><b>docsgap</b> · issue-link report</div>'
        f"<h1>{_e(title)}</h1>"
        f'<p class="meta">Generated {generated_at:%Y-%m-%d %H:%M} UTC</p></header><main>'
        f"{_kpis(rows, extras)}"
        f'<section class="charts">{_charts(rows, extras, generated_at)}</section>'
        f"<h2>Thread ↔ issue links</h2>{_table(rows)}{_queue(rows, extras)}</main>"
        f"<footer>docsgap {_e(__version__)} · self-contained: the data below is embedded as JSON "
        "(<code>#docsgap-data</code>)</footer>"
        f'<script type="application/json" id="docsgap-data">{data}</script>'
        f"<script>{js}</script></body></html>\n"
    )
