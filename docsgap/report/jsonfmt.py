"""The JSON report: `{"generated_at", "title", "rows": [...], "totals": {...}}` (+ review queue)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from docsgap.report.rows import ReportExtras, ReportRow
from docsgap.report.stats import totals

SCHEMA_VERSION = 1
"""Bumped when a key changes meaning or disappears (adding keys does not bump it)."""


def report_data(
    rows: Sequence[ReportRow],
    *,
    title: str,
    generated_at: datetime,
    extras: ReportExtras | None = None,
) -> dict[str, Any]:
    """The report as plain JSON-ready data (also embedded in the HTML page)."""
    data: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "title": title,
        "generated_at": generated_at.isoformat(),
        "rows": [r.as_dict() for r in rows],
        "totals": totals(rows, extras),
    }
    if extras is not None and extras.queue is not None:
        data["review_queue"] = [
            {"key": p.key, "kind": p.kind, "reason": p.reason, "thread_ids": list(p.thread_ids),
             "since": p.since.isoformat() if p.since else None, "verdict": p.verdict}
            for p in extras.queue.pending
        ]
    return data


def render_json(
    rows: Sequence[ReportRow],
    *,
    title: str,
    generated_at: datetime,
    extras: ReportExtras | None = None,
) -> str:
    """The report as indented JSON (UTF-8 text, stable key order)."""
    data = report_data(rows, title=title, generated_at=generated_at, extras=extras)
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
