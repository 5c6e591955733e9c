"""The issue-link report: rows read from the state, rendered as a terminal table, Markdown, CSV,
JSON or one self-contained HTML page; plus the body of the GitLab summary issue."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Literal, get_args

from docsgap.report.csvfmt import render_csv
from docsgap.report.html import render_html
from docsgap.report.jsonfmt import render_json, report_data
from docsgap.report.markdown import render_markdown
from docsgap.report.queue import PendingAction, ReviewQueue, queue_from_state
from docsgap.report.rows import (
    ReportExtras,
    ReportRow,
    SignalPoint,
    extras_from_state,
    rows_from_state,
    signals_from_state,
)
from docsgap.report.select import for_group
from docsgap.report.summary import SUMMARY_MARKER, SummaryOptions, render_summary
from docsgap.report.text import render_table
from docsgap.state import StateStore

Format = Literal["table", "markdown", "csv", "json", "html"]
FORMATS: tuple[str, ...] = get_args(Format)
DEFAULT_TITLE = "docsgap issue-link report"


def render(
    rows: Sequence[ReportRow],
    fmt: Format,
    *,
    title: str = DEFAULT_TITLE,
    generated_at: datetime | None = None,
    extras: ReportExtras | None = None,
    width: int = 100,
) -> str:
    """Render the report in one format. `extras` (signals, review queue) enrich the totals, the
    charts and the JSON; `width` applies to the terminal table only."""
    when = generated_at or datetime.now(UTC)
    if fmt == "table":
        return render_table(rows, title=title, generated_at=when, extras=extras, width=width)
    if fmt == "markdown":
        return render_markdown(rows, title=title, generated_at=when, extras=extras)
    if fmt == "csv":
        return render_csv(rows)
    if fmt == "json":
        return render_json(rows, title=title, generated_at=when, extras=extras)
    if fmt == "html":
        return render_html(rows, title=title, generated_at=when, extras=extras)
    raise ValueError(f"unknown report format {fmt!r}; expected one of {', '.join(FORMATS)}")


def render_state(
    store: StateStore,
    fmt: Format,
    *,
    title: str = DEFAULT_TITLE,
    generated_at: datetime | None = None,
    width: int = 100,
) -> str:
    """Read rows and extras from `store` and render them (what `docsgap demo` and CI need)."""
    return render(rows_from_state(store), fmt, title=title, generated_at=generated_at,
                  extras=extras_from_state(store), width=width)


__all__ = [
    "DEFAULT_TITLE",
    "FORMATS",
    "SUMMARY_MARKER",
    "Format",
    "PendingAction",
    "ReportExtras",
    "ReportRow",
    "ReviewQueue",
    "SignalPoint",
    "SummaryOptions",
    "extras_from_state",
    "for_group",
    "queue_from_state",
    "render",
    "render_state",
    "render_summary",
    "report_data",
    "rows_from_state",
    "signals_from_state",
]
