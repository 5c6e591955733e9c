"""Literal gates for rules: words a text must contain before a rule's regex can match, found by
reading the parsed regexes. Checking a few substrings is far cheaper than running the regex."""

from __future__ import annotations

import functools
import importlib
import operator
import re
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

# `re._parser` is the stdlib's own parser (sre_parse before 3.11); it has no public equivalent.
_parser: Any = importlib.import_module("re._parser")
_c: Any = importlib.import_module("re._constants")

_MIN_LITERAL = 3  # shorter literals ("is", "a") pass almost every text and only cost time
_MAX_SETS = 8
# Frequent words make weak gates; a set holding one ranks below sets of rarer words.
_COMMON = frozenset({
    "the", "and", "not", "n't", "does", "doc", "docs", "page", "this", "that", "with", "for",
    "you", "your", "are", "was", "were", "have", "has", "make", "take", "give", "show", "see",
    "get", "got", "open", "work", "works", "end", "result", "return", "load", "link", "url",
    "too", "where", "hard", "hard to", "easy", "easy to", "to", "did",
})


@dataclass(frozen=True, slots=True)
class Gate:
    """`alternatives`: one per pattern; a pattern needs, for every set, one of its literals.
    `keys`: one literal of these must be in any text the rule can match (a cheap first check)."""

    alternatives: tuple[tuple[frozenset[str], ...], ...]
    keys: frozenset[str]

    def passes(self, present: set[str] | frozenset[str]) -> bool:
        """Whether a text containing exactly the `present` literals can match."""
        return any(all(not s.isdisjoint(present) for s in alt) for alt in self.alternatives)

    @property
    def literals(self) -> set[str]:
        """Every literal the gate looks for."""
        return {lit for alt in self.alternatives for group in alt for lit in group}


def gate_for(sources: Sequence[str]) -> Gate | None:
    """The gate of a rule's patterns, or `None` when some pattern requires no literal."""
    alternatives = []
    for source in sources:
        sets = _required_sets(source)
        if sets is None:
            return None
        alternatives.append(sets)
    keys = frozenset().union(*(alt[0] for alt in alternatives))
    return Gate(tuple(alternatives), keys) if alternatives else None


@functools.lru_cache(maxsize=4096)
def _required_sets(source: str) -> tuple[frozenset[str], ...] | None:
    """The literal sets one pattern needs, best first; `None` when it needs none. Kept for the
    process: each ruleset loaded (a run's, its rules cache's, a test's) asks for the same ones,
    and reading a rule's parsed regex is most of the 0.1 s a gate index costs."""
    try:
        parsed = _parser.parse(source, re.I)
    except re.error:
        return None
    sets = [s for s in _sequence(list(parsed)) if min(map(len, s)) >= _MIN_LITERAL]
    if not sets:
        return None
    sets.sort(key=_rank, reverse=True)
    return tuple(sets[:_MAX_SETS])


def _rank(group: AbstractSet[str]) -> tuple[bool, int]:
    return (group.isdisjoint(_COMMON), min(map(len, group)))


def _sequence(items: list[tuple[Any, Any]]) -> list[frozenset[str]]:
    """Requirements of a sequence of parsed items: a conjunction of literal sets. Literal runs
    grow through branches of plain words ("." + (md|rst) -> {".md", ".rst"})."""
    required: list[frozenset[str]] = []
    pending: set[str] = {""}

    def flush() -> None:
        nonlocal pending
        if "" not in pending:
            required.append(frozenset(pending))
        pending = {""}

    for op, arg in items:
        if op is _c.LITERAL:
            pending = {p + chr(arg).lower() for p in pending}
            continue
        words = _plain_words(op, arg)
        if words is not None and len(pending) * len(words) <= 64:
            pending = {p + w for p in pending for w in words}
            continue
        flush()
        if op is _c.SUBPATTERN:
            required += _sequence(list(arg[-1]))
        elif op is _c.BRANCH:
            choice = _branch(arg[1])
            if choice:
                required.append(choice)
        elif op in (_c.MAX_REPEAT, _c.MIN_REPEAT) and arg[0] >= 1:
            required += _sequence(list(arg[2]))
    flush()
    return required


def _plain_words(op: Any, arg: Any) -> list[str] | None:
    """The alternatives of a branch made only of literal characters, else `None`."""
    if op is _c.SUBPATTERN:
        inner = list(arg[-1])
        return _plain_words(*inner[0]) if len(inner) == 1 else None
    if op in (_c.MAX_REPEAT, _c.MIN_REPEAT) and arg[0] == 0 and arg[1] == 1:
        # An optional piece (`s?`, `(?:-)?`): each text has it or not.
        inner = list(arg[2])
        if all(o is _c.LITERAL for o, _ in inner):
            return ["", "".join(chr(a).lower() for _, a in inner)]
        words = _plain_words(*inner[0]) if len(inner) == 1 else None
        return None if words is None else ["", *words]
    if op is not _c.BRANCH:
        return None
    words = []
    for alt in arg[1]:
        chars = list(alt)
        if not chars or any(o is not _c.LITERAL for o, _ in chars):
            return None
        words.append("".join(chr(a).lower() for _, a in chars))
    return words


def _branch(alternatives: list[Any]) -> frozenset[str] | None:
    """One literal set covering every alternative (its best-ranked requirement each)."""
    union: set[str] = set()
    for alt in alternatives:
        sets = _sequence(list(alt))
        if not sets:
            return None
        union |= max(sets, key=_rank)
    return frozenset(union)


def lowercase_twin(regex: re.Pattern[str]) -> re.Pattern[str] | None:
    """The same pattern without `re.IGNORECASE`, when it matches exactly like `regex` on ASCII
    lower-case text (about twice as fast), else `None`. True when no literal, class member or
    range in the pattern is an upper-case ASCII letter or outside ASCII: case folding then has
    nothing to fold (Unicode folds such as "K" (Kelvin) -> "k" need a non-ASCII side)."""
    if not regex.flags & re.I:
        return regex
    return _twin(regex.pattern, regex.flags)


@functools.lru_cache(maxsize=4096)
def _twin(source: str, flags: int) -> re.Pattern[str] | None:
    """`lowercase_twin` by source and flags, kept for the process (as `_required_sets`)."""
    try:
        parsed = _parser.parse(source, flags)
    except re.error:
        return None
    if not _caseless(parsed):
        return None
    return re.compile(source, flags & ~re.I)


def _caseless(node: Any) -> bool:
    """No code in `node` (a parsed pattern or part) that case folding could change."""
    if isinstance(node, _parser.SubPattern):
        return all(map(_caseless, node.data))
    if isinstance(node, (list, tuple)):
        if len(node) == 2 and (node[0] is _c.LITERAL or node[0] is _c.NOT_LITERAL):
            return _fold_free(node[1])
        if len(node) == 2 and node[0] is _c.RANGE:
            lo, hi = node[1]
            return bool(hi < 0x80 and (hi < ord("A") or lo > ord("Z")))
        return all(map(_caseless, node))
    return True  # an int: an opcode argument, group number, repeat count, ...


def _fold_free(code: int) -> bool:
    return code < 0x80 and not ord("A") <= code <= ord("Z")


class LiteralFinder:
    """Finds which of many literals occur in a text with one regex: the literals as a trie,
    inside a lookahead so every start position is tried; found literals imply their prefixes."""

    def __init__(self, literals: set[str]) -> None:
        words = sorted(literals)
        self.regex = re.compile(f"(?=({_trie(words)}))") if words else None
        """Its one group is the longest literal at each position (findall lists them)."""
        known = set(words)
        self.implied = {w: frozenset(w[:n] for n in range(1, len(w) + 1) if w[:n] in known)
                        for w in words}
        """Each literal with the shorter literals it starts with (found along with it)."""

    def find(self, text: str) -> set[str]:
        """The literals present in `text`."""
        if self.regex is None:
            return set()
        found: set[str] = set()
        for m in self.regex.finditer(text):
            found |= self.implied[m.group(1)]
        return found


def _trie(words: list[str]) -> str:
    root: dict[str, Any] = {}
    for word in words:
        node = root
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}
    return _trie_regex(root)


def _trie_regex(node: dict[str, Any]) -> str:
    # Greedy: the longest literal at a position wins; shorter ones are implied prefixes.
    alts = [re.escape(ch) + _trie_regex(sub) for ch, sub in sorted(node.items()) if ch]
    if not alts:
        return ""
    body = alts[0] if len(alts) == 1 else f"(?:{'|'.join(alts)})"
    return f"(?:{body})?" if "" in node else body


@functools.lru_cache(maxsize=16)
def index_of_gates(gates: tuple[Gate | None, ...]) -> GateIndex:
    """The `GateIndex` of `gates`, shared within the process by every ruleset with the same
    gates (a read-only object; building its literal trie is most of a fresh detector's cost)."""
    return GateIndex(gates)


class GateIndex:
    """Picks, for each sentence of a post, the rules whose gate it passes. One trie regex finds
    every gate literal of a sentence; each literal set is a bit, each gate alternative a mask of
    the sets it needs, so deciding a gate is integer arithmetic. Rules are first judged on the
    whole post (the union of its sentences), and only those that pass are judged per sentence."""

    def __init__(self, gates: Sequence[Gate | None]) -> None:
        literals = sorted({lit for g in gates if g for lit in g.literals})
        self._finder = LiteralFinder(set(literals))
        bits: dict[frozenset[str], int] = {}
        self._ungated = tuple(n for n, g in enumerate(gates) if g is None)
        # (gate index, mask of the sets one alternative needs); ungated: one needing nothing.
        self._alts: list[tuple[int, int]] = [
            (n, sum(1 << bits.setdefault(group, len(bits)) for group in set(alt)))
            for n, gate in enumerate(gates) for alt in (gate.alternatives if gate else ((),))
        ]
        # The sets a literal found at a position satisfies, with the literals it implies.
        own = {w: sum(1 << b for group, b in bits.items() if w in group) for w in literals}
        self._found_bits = {
            w: functools.reduce(operator.or_, (own[p] for p in implied), 0)
            for w, implied in self._finder.implied.items()
        }

    def candidates(self, text: str) -> list[int]:
        """Indexes (ascending) of the gates `text` passes, ungated ones included."""
        return self.candidates_each([text])[0]

    def candidates_each(self, texts: Sequence[str]) -> list[list[int]]:
        """`candidates` of each text (the sentences of one post)."""
        if self._finder.regex is None:
            return [list(self._ungated) for _ in texts]
        findall, found_bits = self._finder.regex.findall, self._found_bits
        present: list[int] = []
        union = 0
        for text in texts:
            bits = 0
            for word in set(findall(text)):
                bits |= found_bits[word]
            present.append(bits)
            union |= bits
        live = [(n, m) for n, m in self._alts if m & union == m]
        if not live:
            return [[] for _ in texts]
        return [sorted({n for n, m in live if m & bits == m}) for bits in present]
