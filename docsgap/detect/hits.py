"""One post's rule hits as the detector keeps them (`Hit`), each rule's search made at first
use (`Searchers`), and what a hit leaves: its evidence window, the features the learned scorer
sees, whether its docs reference is near enough. Pure: no I/O."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from docsgap.detect.features import rule_names, veto_name
from docsgap.detect.posttext import Sentence
from docsgap.detect.ruleset import Canceller, Rule
from docsgap.detect.unit import Search, Unit, searcher
from docsgap.models import Evidence

_EVIDENCE_CHARS = 320


@dataclass(frozen=True, slots=True)
class Hit:
    """A rule's match in one sentence that no canceller vetoed, with its weight after
    penalties."""

    rule: Rule
    sentence: int
    start: int
    end: int
    weight: float
    evidence: Evidence


class Searchers:
    """Each rule's and canceller's `searcher`, made at its first use: making one parses its
    regex again (and may compile a twin), which a thread whose sentences pass few gates needs
    for a few rules only. Keyed by id(): they live as long as the ruleset (hashing them is
    slow); another rule or canceller (`rule_fires` on a given rule) gets its plain search."""

    __slots__ = ("_known", "_made", "_twins")

    def __init__(self, items: Sequence[Rule | Canceller],
                 twins: dict[tuple[str, int], re.Pattern[str] | None]) -> None:
        self._known = {id(x): x for x in items}
        self._made: dict[int, Search] = {}
        self._twins = twins

    def of(self, item: Rule | Canceller) -> Search:
        found = self._made.get(id(item))
        if found is None:
            if self._known.get(id(item)) is not item:
                return item.regex.search
            found = self._made[id(item)] = searcher(item.regex, self._twins)
        return found



def rule_features(
    unit: Unit, hits: Sequence[Hit], cancelled: Sequence[tuple[str, int]]
) -> list[set[str]]:
    """Per sentence, the rule features the learned scorer sees (hits and vetoes)."""
    per: list[set[str]] = [set() for _ in unit.norms]
    for hit in hits:
        per[hit.sentence].update(rule_names(hit.rule.id, hit.rule.gap_type.value))
    for canceller, i in cancelled:
        per[i].add(veto_name(canceller))
    return per


def near_ok(rule: Rule, unit: Unit, i: int, start: int, end: int) -> bool:
    """Whether the docs are referred to as near the match as the rule's `near_docs` asks."""
    near = rule.near_docs
    if near is None:
        return True
    if near == "sentence":
        return unit.docs_in(i)
    if near == "adjacent":
        return unit.docs_in(i - 1) or unit.docs_in(i) or unit.docs_in(i + 1)
    if near == "post":
        return unit.any_docs()
    return isinstance(near, int) and unit.docs_within(i, start, end, near)


def evidence(rule_id: str, s: Sentence, start: int, end: int, post: int | None) -> Evidence:
    """The sentence a match is in (a window of it when long) and the matched words."""
    lo, hi = 0, len(s.text)
    if hi > _EVIDENCE_CHARS:
        # Long sentences (tables, run-ons) are cut to a window around the match, at spaces.
        lo = max(0, s.text.rfind(" ", 0, max(0, start - _EVIDENCE_CHARS // 2)) + 1)
        found = s.text.find(" ", end + _EVIDENCE_CHARS // 2)
        hi = found if found != -1 else hi
    text = s.render(lo, hi)
    text = ("…" if lo else "") + text + ("…" if hi < len(s.text) else "")
    return Evidence(rule_id, text.strip(), s.render(start, end), post)
