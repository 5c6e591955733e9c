"""One owning group's part of the report (`docsgap report --group`): its links, and the
signals of its threads and pages, so totals, charts and the summary speak of that group only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from docsgap.report.groups import owner_group, same_group
from docsgap.report.rows import ReportExtras, ReportRow, SignalPoint


def signal_group(signal: SignalPoint, rows: Sequence[ReportRow]) -> str | None:
    """A signal's group: that of a link its thread has (the issue's `group::` label), else its
    page's front matter."""
    linked = next((r.group for r in rows if r.thread_id == signal.thread_id and r.group), None)
    return linked or owner_group((), signal.page_group)


def for_group(rows: Sequence[ReportRow], extras: ReportExtras, wanted: str
              ) -> tuple[list[ReportRow], ReportExtras]:
    """The rows (and extras' signals) `wanted` owns (`none`: those no group owns)."""
    kept = [r for r in rows if same_group(r.group, wanted)]
    if not extras.signals:
        return kept, extras
    signals = tuple(s for s in extras.signals if same_group(signal_group(s, rows), wanted))
    return kept, replace(extras, signals=signals)
