"""The GitLab-flavoured Markdown report, and the escaping every Markdown docsgap renders shares.

Thread titles are forum users' text headed for GitLab: they must not format, break the table,
mention anyone or create cross-references (see CONTRACTS.md C1/C2).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from docsgap.report.rows import ReportExtras, ReportRow, reading_order, safe_url
from docsgap.report.stats import totals

WORD_JOINER = "\u2060"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~$])")
# GitLab reference sigils (@user, #1, !1, ~label, %milestone, &epic, $snippet) followed by a
# word character or a quote; a zero-width joiner after the sigil breaks the reference.
_REFERENCE = re.compile(r"(\\?[@#!~%&$])(?=[\w\"'])")


def md_text(text: str | None, *, neutralise: bool = True) -> str:
    """Escape `text` for one Markdown table cell or line: no formatting, HTML, newlines,
    pipes or quick actions survive, nor (with `neutralise`) mentions and references."""
    if not text:
        return ""
    out = " ".join(_CONTROL.sub(" ", text).split())
    out = _MD_SPECIAL.sub(r"\\\1", out)
    if neutralise:
        out = _REFERENCE.sub(lambda m: m.group(1) + WORD_JOINER, out)
    out = out.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    # A cell never starts a line, but a summary list item could: keep `/` off column 0 anyway.
    return "\\" + out if out.startswith("/") else out


def md_url(url: str | None) -> str | None:
    """A URL safe inside `(...)` of a Markdown link, or None for non-http(s) URLs."""
    ok = safe_url(url)
    if ok is None:
        return None
    return ok.replace("(", "%28").replace(")", "%29").replace("<", "%3C").replace(">", "%3E")


def md_link(text: str | None, url: str | None) -> str:
    """`[text](url)` with both escaped; plain escaped text when the URL is unusable."""
    label = md_text(text) or "link"
    target = md_url(url)
    return f"[{label}]({target})" if target else label


def md_ref(ref: str, url: str | None) -> str:
    """A link to an issue/MR labelled with its reference (`group/project#12`). Our own refs are
    not neutralised: GitLab ignores references inside link text (CONTRACTS.md C2)."""
    label = md_text(ref, neutralise=False)
    target = md_url(url)
    return f"[{label}]({target})" if target else md_text(ref)


def md_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GitLab table from already-escaped cells."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines.extend("| " + " | ".join(cell or " " for cell in row) + " |" for row in rows)
    return "\n".join(lines)


def totals_line(rows: Sequence[ReportRow], extras: ReportExtras | None) -> str:
    """`24 links · 20 threads · …` for the top of Markdown reports."""
    t = totals(rows, extras)
    parts = [
        f"{t['links']} links", f"{t['threads']} threads", f"{t['items']} issues/MRs",
        f"{t['replies_posted']} replies posted", f"{t['awaiting_followup']} awaiting follow-up",
    ]
    if "pending_review" in t:
        parts.append(f"{t['pending_review']} pending review")
    return " · ".join(parts)


def state_cell(row: ReportRow) -> str:
    """The item state, with the follow-up status when the item is done."""
    state = md_text(row.state_label)
    if row.followup_url:
        return f"{state} ({md_link('follow-up posted', row.followup_url)})"
    if row.awaiting_followup:
        return f"{state} (follow-up due)"
    return state


def link_cells(row: ReportRow) -> list[str]:
    """The six cells of one link in the report table."""
    return [
        md_link(row.thread_title, row.thread_url),
        row.gap_type.value.replace("_", " ") if row.gap_type else "–",
        md_link(row.page_label, row.page_url) if row.page_label else "–",
        md_ref(row.item_ref, row.item_url),
        state_cell(row),
        md_link("✓", row.reply_url) if row.replied else row.reply_cell,
    ]


def render_markdown(
    rows: Sequence[ReportRow],
    *,
    title: str,
    generated_at: datetime,
    extras: ReportExtras | None = None,
) -> str:
    """The issue-link report as a GitLab-flavoured Markdown table with links."""
    head = f"## {md_text(title)}\n\nGenerated {generated_at:%Y-%m-%d %H:%M} UTC"
    if not rows:
        return f"{head}\n\nNo thread ↔ issue links yet.\n"
    table = md_table(
        ["Thread", "Gap type", "Docs page", "Issue/MR", "State", "Reply"],
        [link_cells(r) for r in reading_order(rows)],
    )
    return f"{head} · {totals_line(rows, extras)}\n\n{table}\n"
