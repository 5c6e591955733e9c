"""Patterns whose backtracking takes exponential time on a short post, such as `(a+)+$` or
`(?:\\w+\\s?)*!`: an unbounded repeat inside another repeat, with nothing else in that repeat
that must match. Each character can then go to either repeat, so a match that fails near the
end tries 2^n splits. `rules check` refuses such patterns, so one post can never hang detection.
"""

from __future__ import annotations

import importlib
import re
from typing import Any

# The regex parser the re module itself uses (Python 3.11+; sre_parse before, now deprecated).
sre_parse: Any = importlib.import_module("re._parser")
sre: Any = importlib.import_module("re._constants")
sre_compile: Any = importlib.import_module("re._compiler")

_SAMPLE = [chr(c) for c in range(32, 127)] + ["\t", "\n", "é"]

Item = tuple[Any, Any]

PROBLEM = ("nests an unbounded repeat inside another repeat: a post that almost matches "
           "makes it backtrack for ever; use one repeat, bound the inner one ({1,50}) or make "
           "a separator between them required")


def catastrophic(pattern: str) -> str | None:
    """Why `pattern` (as docsgap compiles it: case-insensitive) can backtrack exponentially,
    or None."""
    try:
        tree = sre_parse.parse(pattern, re.I)
    except re.error:
        return None  # reported as a bad regex by the caller
    return _walk(list(tree), in_repeat=False)


def _walk(items: list[Item], *, in_repeat: bool) -> str | None:
    """`in_repeat`: these items are (part of) the body of a repeat that can run more than once,
    and everything else in that body may match nothing."""
    if in_repeat and _overlapping_neighbours(items):
        return PROBLEM
    for i, (op, av) in enumerate(items):
        alone = in_repeat and _others_optional(items, i)
        found = None
        if op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
            _low, high, body = av
            if alone and high == sre.MAXREPEAT:
                return PROBLEM
            found = _walk(list(body), in_repeat=high > 1)
        elif op == sre.SUBPATTERN:
            found = _walk(list(av[3]), in_repeat=alone)
        elif op == sre.BRANCH:
            for branch in av[1]:
                found = found or _walk(list(branch), in_repeat=alone)
        elif op in (sre.ASSERT, sre.ASSERT_NOT):
            found = _walk(list(av[1]), in_repeat=False)
        # ATOMIC_GROUP and POSSESSIVE_REPEAT never backtrack into themselves: nothing to find.
        if found:
            return found
    return None


def _overlapping_neighbours(items: list[Item]) -> bool:
    """Two unbounded repeats in a row (only optional parts between) that can take the same
    character, as in `(x+x+)+`: every split of a run between them is a way to match."""
    last: set[str] | None = None
    for item in items:
        op, av = item
        if op in (sre.MAX_REPEAT, sre.MIN_REPEAT) and av[1] == sre.MAXREPEAT:
            chars = _chars(list(av[2]))
            if last is not None and last & chars:
                return True
            last = chars
        elif _min_width(item) > 0:
            last = None
    return False


def _chars(body: list[Item]) -> set[str]:
    """The sample characters `body` can match on its own."""
    try:
        one = sre_compile.compile(sre_parse.SubPattern(sre_parse.State(), body), re.I)
    except (re.error, TypeError, ValueError):
        return set()
    return {c for c in _SAMPLE if one.fullmatch(c)}


def _others_optional(items: list[Item], index: int) -> bool:
    return all(_min_width(item) == 0 for n, item in enumerate(items) if n != index)


def _min_width(item: Item) -> int:
    low: int = sre_parse.SubPattern(sre_parse.State(), [item]).getwidth()[0]
    return low

