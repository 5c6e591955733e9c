"""The sentences of one post as detection judges them: the docs vocabulary with a cheap
pre-check, docs references per sentence, canceller regions, and the nearest docs URL."""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Iterator, Sequence

from docsgap.detect.doclinks import is_docs_url
from docsgap.detect.gate import gate_for, lowercase_twin
from docsgap.detect.posttext import Sentence
from docsgap.detect.ruleset import Canceller

Search = Callable[[str], "re.Match[str] | None"]


def searcher(regex: re.Pattern[str],
             twins: dict[tuple[str, int], re.Pattern[str] | None] | None = None) -> Search:
    """`regex.search` for lower-case text: ASCII text (most posts) goes to the same pattern
    without IGNORECASE when that cannot change a match, which runs about twice as fast.
    `twins` remembers each regex's twin (`RuleSet.twins`)."""
    key = (regex.pattern, regex.flags)
    if twins is not None and key in twins:
        twin = twins[key]
    else:
        twin = lowercase_twin(regex)
        if twins is not None:
            twins[key] = twin
    if twin is None or twin is regex:
        return regex.search
    fast, slow = twin.search, regex.search
    return lambda text: fast(text) if text.isascii() else slow(text)


class DocsRefs:
    """The docs vocabulary, with a cheap literal check before the (slow) full regex."""

    __slots__ = ("regex", "_ascii", "_search", "_precheck")

    def __init__(self, regex: re.Pattern[str],
                 twins: dict[tuple[str, int], re.Pattern[str] | None] | None = None) -> None:
        self.regex = regex
        self._search = searcher(regex, twins)
        twin = twins[(regex.pattern, regex.flags)] if twins is not None else lowercase_twin(regex)
        self._ascii = twin or regex
        gate = gate_for([regex.pattern])
        literals = sorted(gate.literals) if gate and len(gate.alternatives) == 1 else []
        # One literal set covering every alternative: a text without any cannot match.
        single = literals and len(gate.alternatives[0]) == 1 if gate else False
        self._precheck = re.compile("|".join(map(re.escape, literals))) if single else None

    def search(self, norm: str) -> bool:
        if self._precheck is not None and self._precheck.search(norm) is None:
            return False
        return self._search(norm) is not None

    def finditer(self, norm: str) -> Iterator[re.Match[str]]:
        """Every docs reference in a lower-case text."""
        return (self._ascii if norm.isascii() else self.regex).finditer(norm)


class Unit:
    """The sentences judged together (a post, plus the title for the opening post), and for a
    reply the `t:` features of its thread's title (`context`: the learned scorer's only)."""

    __slots__ = ("sentences", "norms", "context", "_refs", "_docs", "_post", "_cancels",
                 "_urls", "_at")

    def __init__(self, sentences: Sequence[Sentence], refs: DocsRefs,
                 context: tuple[str, ...] = ()) -> None:
        self.sentences = sentences
        self.norms = [s.norm for s in sentences]
        self.context = context
        self._refs = refs
        self._docs: list[bool | None] = [None] * len(self.norms)
        self._post: str | None = None
        self._cancels: dict[tuple[int, int], bool] = {}
        self._urls: list[tuple[int, str]] | None = None
        self._at: list[int] = []

    def docs_in(self, i: int) -> bool:
        if not 0 <= i < len(self._docs):
            return False
        found = self._docs[i]
        if found is None:
            found = self._docs[i] = self._refs.search(self.norms[i])
        return found

    def any_docs(self) -> bool:
        return any(self.docs_in(i) for i in range(len(self.norms)))

    def docs_within(self, i: int, start: int, end: int, words: int) -> bool:
        norm = self.norms[i]
        for m in self._refs.finditer(norm):
            gap = norm[end : m.start()] if m.start() >= end else norm[m.end() : start]
            if m.start() < end and m.end() > start or len(gap.split()) <= words:
                return True
        return False

    def region(self, c: Canceller, i: int, start: int, end: int) -> str:
        norm = self.norms[i]
        if c.scope == "before":
            return " ".join(norm[:start].split()[-c.window :])
        if c.scope == "after":
            return " ".join(norm[end:].split()[: c.window])
        if c.scope == "adjacent":
            return "\n".join(self.norms[max(0, i - 1) : i + 2])
        if c.scope == "post":
            if self._post is None:
                self._post = "\n".join(self.norms)
            return self._post
        return norm

    def cancels(self, c: Canceller, search: Search, i: int, start: int, end: int) -> bool:
        """Whether canceller `c` fires around a hit; remembered for the regions that do not
        depend on the hit's span (a long post with many hits asks again and again)."""
        if c.scope in ("before", "after"):
            return search(self.region(c, i, start, end)) is not None
        key = (id(c), -1 if c.scope == "post" else i)
        found = self._cancels.get(key)
        if found is None:
            found = self._cancels[key] = search(self.region(c, i, start, end)) is not None
        return found

    def docs_urls(self) -> list[tuple[int, str]]:
        """(sentence index, URL) of every docs URL, in order; made once per unit (a long
        post asks for the nearest one per hit)."""
        if self._urls is None:
            self._urls = [(i, u) for i, s in enumerate(self.sentences) for u in s.urls
                          if is_docs_url(u)]
            self._at = [i for i, _ in self._urls]
        return self._urls

    def nearest_docs_url(self, i: int) -> str | None:
        """The docs URL of the sentence nearest to `i` (the earlier one on a tie), first in
        its sentence: a binary search, not a pass over every URL."""
        found = self.docs_urls()
        if not found:
            return None
        after = bisect_left(self._at, i)
        if after == 0:
            return found[0][1]
        before = bisect_left(self._at, self._at[after - 1])  # first URL of that sentence
        if after == len(found) or i - self._at[before] <= self._at[after] - i:
            return found[before][1]
        return found[after][1]
