"""Grouping of one run's signals that report the same gap, so they become one issue listing
every thread rather than several issues."""

from __future__ import annotations

from collections.abc import Sequence

from rapidfuzz import fuzz

from docsgap.models import Signal
from docsgap.text.textnorm import Boilerplate, words

GROUP_TEXT_SIMILARITY = 85.0
"""Two signals on different (or no) pages group when their titles are this alike."""


def group_signals(signals: Sequence[Signal]) -> list[list[Signal]]:
    """Signals of one run that report the same gap: same page and gap type, or near-identical
    text. Groups keep input order; each signal is in exactly one group."""
    parent = list(range(len(signals)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(a: int, b: int) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    by_page: dict[tuple[str, str], int] = {}
    for i, s in enumerate(signals):
        if s.page is not None:
            key = (s.page.key, s.gap_type.value)
            if key in by_page:
                union(by_page[key], i)
            else:
                by_page[key] = i
    bp = Boilerplate()
    texts = [" ".join(words(bp.title(s.thread_title))) for s in signals]
    for i in range(len(signals)):
        for j in range(i + 1, len(signals)):
            if texts[i] and texts[j] and signals[i].gap_type == signals[j].gap_type and (
                fuzz.token_sort_ratio(texts[i], texts[j]) >= GROUP_TEXT_SIMILARITY
            ):
                union(i, j)
    groups: dict[int, list[Signal]] = {}
    for i, s in enumerate(signals):
        groups.setdefault(find(i), []).append(s)
    return list(groups.values())


__all__ = ["GROUP_TEXT_SIMILARITY", "group_signals"]
