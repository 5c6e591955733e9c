"""The CSV report: a header, then one row per thread <-> issue/MR link with every field."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from docsgap.report.rows import ReportRow

COLUMNS: tuple[str, ...] = (
    "thread_id", "thread_title", "thread_url", "gap_type", "page_url", "page_path", "page_label",
    "item_url", "item_ref", "item_kind", "item_title", "item_state", "item_closed_at",
    "item_labels", "source", "reply_url", "followup_url", "linked_at", "signal_first_seen",
    "thread_created_at", "replied", "reply_state", "awaiting_followup", "why", "group",
    "group_from",
)
"""Every ReportRow field plus the derived ones, in this order."""

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    """One cell: lists joined by `;`, booleans as true/false, and text that a spreadsheet would
    run as a formula (forum titles are user text) prefixed with `'`."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        value = ";".join(str(v) for v in value)
    text = str(value)
    if text.startswith(_FORMULA_START) and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def render_csv(rows: Sequence[ReportRow]) -> str:
    """CSV text (RFC 4180 quoting, `\\r\\n` line ends), a header even when there are no rows."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(COLUMNS)
    for r in rows:
        data = r.as_dict()
        writer.writerow([csv_cell(data[c]) for c in COLUMNS])
    return buf.getvalue()
