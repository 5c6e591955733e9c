"""Patterns whose backtracking takes polynomial time, such as `\\w+\\s*\\w+x`, `\\w+-?\\w+$` or
`.*x.*y`: two unbounded repeats in a row that can read the same run of text, with only optional
parts, or characters both can read, between them. Each start of a search tries every way to
split the run between them, so a run of n characters costs n^3 steps: 1,000 take seconds, a
32,000-character post hours (`bench/redos.py`); pinned after a literal word, n^2 still takes
seconds. Runs of whitespace do not count: detection collapses each into one space first. A
single repeat costs n^2 at worst, which the shipped rules keep small by starting at a word
boundary."""

from __future__ import annotations

import re
from typing import Any

from docsgap.detect.redos_nfa import class_mask, sre, sre_parse

PROBLEM = ("can take time growing with the square or cube of a post's length: {first} and "
           "{second} are long repeats in a row that can both read a run of {char!r}, and "
           "each way to split it is tried (a run of 1,000 takes seconds); put a required "
           "character neither can read between them, merge them into one, or bound one of "
           "them ({{1,10}})")

_BIG = 10
"""A repeat bounded above this counts as unbounded (`.{0,60}.{0,60}` splits 60 ways per start)."""
_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT)
_CHARS = ("LITERAL", "NOT_LITERAL", "ANY", "IN")
_STOP = ("ASSERT", "ASSERT_NOT", "BRANCH", "GROUPREF", "GROUPREF_EXISTS", "ATOMIC_GROUP")
_PREFERRED = "abcdefghijklmnopqrstuvwxyz0123456789 -_.,"

Flagged = tuple[Any, int]


def polynomial(tree: Any, alphabet: list[str]) -> str | None:
    """Why a parsed pattern (`redos_nfa.parse`) can take cubic time on a long post, or None."""
    sequences: list[list[Flagged]] = []
    _sequences(list(tree), tree.state.flags, sequences)
    for sequence in sequences:
        repeats = [op for (op, av), _ in sequence if op in _REPEATS and av[1] > _BIG]
        found = _pair(sequence, alphabet) if len(repeats) > 1 else None
        if found:
            return found
    return None


def _sequences(items: list[Any], flags: int, found: list[list[Flagged]]) -> None:
    """Every sequence of the pattern into `found`, with groups opened up in place
    (`(?:a\\s+)\\s*` is `a\\s+\\s*`), each item with the flags it runs under."""
    sequence: list[Flagged] = []
    _open(items, flags, sequence, found)
    found.append(sequence)


def _open(items: list[Any], flags: int, sequence: list[Flagged],
          found: list[list[Flagged]]) -> None:
    for op, av in items:
        name = str(op)
        if name == "SUBPATTERN":
            _open(list(av[3]), (flags | av[1]) & ~av[2], sequence, found)
            continue
        sequence.append(((op, av), flags))
        if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            # Two iterations in a row: `(?:\\w+\\s?){1,3}` is `\\w+\\s?\\w+\\s?` at least.
            _sequences(list(av[2]) * (2 if av[1] > 1 else 1), flags, found)
        elif name == "BRANCH":
            for branch in av[1]:
                _sequences(list(branch), flags, found)
        elif name == "GROUPREF_EXISTS":
            _sequences(list(av[1]), flags, found)
            _sequences(list(av[2] or []), flags, found)
        elif name in ("ASSERT", "ASSERT_NOT"):
            _sequences(list(av[1]), flags, found)
        elif name == "ATOMIC_GROUP":
            _sequences(list(av), flags, found)


def _pair(sequence: list[Flagged], alphabet: list[str]) -> str | None:
    """Two unbounded repeats of one character class each, in `sequence`, that can read the
    same run: between them only optional items or single characters of that run."""
    # Detection collapses every run of whitespace into one space: a run of it is never long.
    space = class_mask("IN", [(sre.CATEGORY, sre.CATEGORY_SPACE)], 0, alphabet)
    for i, (first, flags) in enumerate(sequence):
        shared = _run(first, flags, alphabet, possessive=False) & ~space
        if not shared:
            continue
        for item, item_flags in sequence[i + 1:]:
            name = str(item[0])
            second = _run(item, item_flags, alphabet, possessive=True)
            if second & shared:
                return PROBLEM.format(first=_show(first), second=_show(item),
                                      char=_char(second & shared, alphabet))
            if name in _STOP or name == "AT" and "BOUNDARY" in str(item[1]):
                break  # may rule the split out: stay silent rather than raise a false alarm
            if name in _CHARS:  # the run goes on through it only where it can read the run
                shared &= class_mask(name, item[1], item_flags, alphabet)
                if shared:
                    continue
            if _min_width(item) > 0:
                break
    return None


def _run(item: Any, flags: int, alphabet: list[str], *, possessive: bool) -> int:
    """The class an unbounded repeat of one character class reads (0 for anything else). A
    possessive repeat gives nothing back, so it cannot be the first of the two."""
    op, av = item
    name = str(op)
    if name not in ("MAX_REPEAT", "MIN_REPEAT") and not (possessive and
                                                        name == "POSSESSIVE_REPEAT"):
        return 0
    low, high, body = av
    del low
    if high != sre.MAXREPEAT and high <= _BIG:
        return 0
    inner = list(body)
    while len(inner) == 1 and str(inner[0][0]) in ("SUBPATTERN", "MAX_REPEAT", "MIN_REPEAT"):
        if str(inner[0][0]) == "SUBPATTERN":  # `(?:\\w)+`
            flags = (flags | inner[0][1][1]) & ~inner[0][1][2]
            inner = list(inner[0][1][3])
        else:  # `(?:\\w?)+` and `(?:\\w{1,3})+` read the same runs as `\\w+`
            inner = list(inner[0][1][2])
    if len(inner) != 1 or str(inner[0][0]) not in _CHARS:
        return 0
    return class_mask(str(inner[0][0]), inner[0][1], flags, alphabet)


def _min_width(item: Any) -> int:
    low: int = sre_parse.SubPattern(sre_parse.State(), [item]).getwidth()[0]
    return low


def _show(item: Any) -> str:
    op, av = item
    low, high = av[0], av[1]
    body = "".join(_source(x) for x in av[2])
    suffix = {(0, sre.MAXREPEAT): "*", (1, sre.MAXREPEAT): "+"}.get(
        (low, high), f"{{{low},{'' if high == sre.MAXREPEAT else high}}}")
    return f"`{body}{suffix}`"


def _source(item: Any) -> str:
    """A short regex for one character item (for messages)."""
    name, av = str(item[0]), item[1]
    if name == "LITERAL":
        return re.escape(chr(av))
    if name == "ANY":
        return "."
    if name == "SUBPATTERN":
        return "".join(_source(x) for x in av[3])
    if name == "IN" and len(av) == 1 and str(av[0][0]) == "CATEGORY":
        cat = str(av[0][1])
        return {"CATEGORY_WORD": r"\w", "CATEGORY_SPACE": r"\s", "CATEGORY_DIGIT": r"\d",
                "CATEGORY_NOT_WORD": r"\W", "CATEGORY_NOT_SPACE": r"\S",
                "CATEGORY_NOT_DIGIT": r"\D"}.get(cat, "[...]")
    return "[...]"


def _char(mask: int, alphabet: list[str]) -> str:
    chars = [c for i, c in enumerate(alphabet) if mask >> i & 1]
    return min(chars, key=lambda c: (_PREFERRED.find(c) % 1000, c))
