"""The position (Glushkov) automaton of a parsed regex, as `re` will backtrack over it: one state
per character the pattern reads, and for each pair of states the number of different ways
(capped at 2) the pattern can step from one to the other. Two ways where a set-based automaton
would keep one edge are what make nested repeats such as `(a+)+` ambiguous; `redos` looks for
such ambiguity inside repeats."""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field
from typing import Any

# The regex parser the re module itself uses, so the automaton is built from what `re` runs
# (it already merges `a|b` into `[ab]` and factors `ab|ac` into `a[bc]`).
sre_parse: Any = importlib.import_module("re._parser")
sre: Any = importlib.import_module("re._constants")

UNROLL = 10
"""A repeat bounded at most this often (of a small body) is copied out: its ambiguity is
bounded. Larger or unbounded repeats are loops: `{1,50}` splits a run as many ways as `+`.
(Copies that split one run between them, as in `(?:\\w+\\s?){1,3}`, are `redos_poly`'s.)"""
_UNROLL_SIZE = 64
_REPEATS = ("MAX_REPEAT", "MIN_REPEAT")

# Characters standing for the whole of Unicode when classes are compared: ASCII, plus letters,
# digits, spaces and punctuation outside it, and case-folding oddities (Kelvin sign, long s).
_BASE = [chr(c) for c in range(128)] + list("éÉ\u00a0\u2003٣’…ſ\u212aß\u0130\u0131")


def _w(n: int) -> int:
    return min(n, 2)


@dataclass
class Frag:
    """What a sub-pattern adds: the states it can start and end on (with how many ways), and
    how many ways it can match empty text."""

    first: dict[int, int] = field(default_factory=dict)
    last: dict[int, int] = field(default_factory=dict)
    empty: int = 1


@dataclass
class Automaton:
    masks: list[int] = field(default_factory=list)
    """The characters each state can read, as bits over `alphabet`."""
    follow: list[dict[int, int]] = field(default_factory=list)
    """follow[p][q]: the number of ways (1 or 2) to step from state p to state q."""
    looped: set[int] = field(default_factory=set)
    """States inside a loop: only they can lie on a cycle."""
    alphabet: list[str] = field(default_factory=list)


def parse(pattern: str, flags: int = re.I) -> Any:
    """What `re` compiles `pattern` into (raises `re.error` when it is invalid)."""
    return sre_parse.parse(pattern, flags)


def loops(tree: Any, alphabet: list[str]) -> list[Automaton]:
    """One automaton for each outermost loop of a parsed pattern. Only a loop's body can be read
    round and round, so the rest of the pattern cannot make it ambiguous and is not built."""
    found: list[Automaton] = []
    _find(list(tree), tree.state.flags, alphabet, found)
    return found


def _find(items: list[Any], flags: int, alphabet: list[str], found: list[Automaton]) -> None:
    for op, av in items:
        name = str(op)
        if name in _REPEATS and is_loop(av):
            builder = _Builder(alphabet, flags)
            builder.item((op, av), flags)
            found.append(builder.auto)
        elif name in (*_REPEATS, "POSSESSIVE_REPEAT"):
            _find(list(av[2]), flags, alphabet, found)
        elif name == "SUBPATTERN":
            _find(list(av[3]), (flags | av[1]) & ~av[2], alphabet, found)
        elif name in ("BRANCH", "GROUPREF_EXISTS"):
            for branch in av[1] if name == "BRANCH" else [av[1], av[2] or []]:
                _find(list(branch), flags, alphabet, found)
        elif name in ("ASSERT", "ASSERT_NOT"):
            _find(list(av[1]), flags, alphabet, found)
        elif name == "ATOMIC_GROUP":
            _find(list(av), flags, alphabet, found)


def is_loop(av: tuple[int, int, Any]) -> bool:
    """Whether a repeat (`min, max, body`) is checked as a loop rather than copied out."""
    return bool(av[1] > UNROLL)


def sample(pattern: str) -> list[str]:
    """The characters that stand for all others when the classes of `pattern` are compared."""
    extra = sorted({c for c in pattern if ord(c) > 127} - set(_BASE))
    return _BASE + extra


class _Builder:
    def __init__(self, alphabet: list[str], flags: int) -> None:
        self.auto = Automaton(alphabet=alphabet)
        self.flags = flags

    def frag(self, items: list[Any], flags: int) -> Frag:
        """A sequence: each item's first states follow the previous items' last ones."""
        first: dict[int, int] = {}
        last: dict[int, int] = {}
        empty = 1
        for item in items:
            part = self.item(item, flags)
            self._link(last, part.first)
            if empty:
                first.update((q, _w(empty * m)) for q, m in part.first.items())
            if part.empty:
                last = {p: _w(m * part.empty) for p, m in last.items()}
                last.update(part.last)
            else:
                last = part.last
            empty = _w(empty * part.empty)
        return Frag(first, last, empty)

    def item(self, item: tuple[Any, Any], flags: int) -> Frag:
        op, av = item
        name = str(op)
        if name in ("LITERAL", "NOT_LITERAL", "ANY", "IN"):
            return self._state(class_mask(name, av, flags, self.auto.alphabet))
        if name == "SUBPATTERN":
            return self.frag(list(av[3]), (flags | av[1]) & ~av[2])
        if name == "BRANCH":
            return self._either([self.frag(list(b), flags) for b in av[1]])
        if name == "GROUPREF_EXISTS":
            no = self.frag(list(av[2]), flags) if av[2] else Frag()
            return self._either([self.frag(list(av[1]), flags), no])
        if name in _REPEATS:
            return self._repeat(av, flags)
        if name in ("ATOMIC_GROUP", "POSSESSIVE_REPEAT"):
            # Never backtracked into once matched: one state stands for the run it takes. Its
            # body is still built, unconnected, so that repeats inside it are checked.
            start = len(self.auto.masks)
            body = self.frag(list(av if name == "ATOMIC_GROUP" else av[2]), flags)
            mask = 0
            for m in self.auto.masks[start:]:
                mask |= m
            run = self._state(mask) if mask else Frag()
            run.empty = 1 if name == "POSSESSIVE_REPEAT" and av[0] == 0 else body.empty
            return run
        if name == "GROUPREF":
            return self._state((1 << len(self.auto.alphabet)) - 1)
        if name in ("ASSERT", "ASSERT_NOT"):
            self.frag(list(av[1]), flags)  # its own loops are checked, unconnected
            return Frag()
        return Frag()  # AT (anchors, \b): reads nothing

    def _repeat(self, av: tuple[int, int, Any], flags: int) -> Frag:
        low, high, body = av
        if high == 0:
            return Frag()
        start = len(self.auto.masks)
        one = self.frag(list(body), flags)
        size = len(self.auto.masks) - start
        if not is_loop(av) and high * size <= _UNROLL_SIZE:
            if high == 1:
                return one if low else self._either([one, Frag()])
            del self.auto.masks[start:], self.auto.follow[start:]
            self.auto.looped.difference_update(range(start, start + size))
            optional: list[Any] = []
            for _ in range(high - low):  # a{1,3} is a(?:a(?:a)?)?, never a(?:a)?(?:a)?
                copy = sre_parse.SubPattern(sre_parse.State(), [*body, *optional])
                optional = [(sre.MAX_REPEAT, (0, 1, copy))]
            parts = [list(body)] * low + ([optional] if optional else [])
            return self._chain(parts, flags)
        # A loop: each way to end an iteration leads to each way to start the next. After an
        # iteration, `re` can also try one more that matches empty text (it then stops
        # repeating): one more way to leave, so `(?:ab(?:b?)*)+c` doubles per `ab`.
        self._link(one.last, one.first)
        self.auto.looped.update(range(start, len(self.auto.masks)))
        leave = {p: _w(m * (1 + one.empty)) for p, m in one.last.items()}
        return Frag(one.first, leave, _w(one.empty if low else 1 + one.empty))

    def _chain(self, parts: list[list[Any]], flags: int) -> Frag:
        """`a{2,3}` as `aa(?:a)?`, each copy with states of its own."""
        return self.frag([(sre.SUBPATTERN, (None, 0, 0, p)) for p in parts], flags)

    def _either(self, frags: list[Frag]) -> Frag:
        out = Frag(empty=0)
        for f in frags:
            out.first.update(f.first)
            out.last.update(f.last)
            out.empty = _w(out.empty + f.empty)
        return out

    def _link(self, last: dict[int, int], first: dict[int, int]) -> None:
        for p, m in last.items():
            step = self.auto.follow[p]
            for q, n in first.items():
                step[q] = _w(step.get(q, 0) + m * n)

    def _state(self, mask: int) -> Frag:
        n = len(self.auto.masks)
        self.auto.masks.append(mask)
        self.auto.follow.append({})
        return Frag({n: 1}, {n: 1}, 0)


def class_mask(name: str, av: Any, flags: int, alphabet: list[str]) -> int:
    """The characters of `alphabet` (as bits) a LITERAL, NOT_LITERAL, ANY or IN item reads."""
    key = (f"{name}{av!r}", flags & (re.I | re.S), "".join(alphabet[len(_BASE):]))
    if key not in _MASKS:
        one = _matcher(name, av, flags)
        _MASKS[key] = sum(1 << i for i, c in enumerate(alphabet) if one(c))
    return _MASKS[key]


_MASKS: dict[tuple[str, int, str], int] = {}
"""Class masks by item, flags and the pattern's characters outside `_BASE` (rules share most)."""


def _matcher(name: str, av: Any, flags: int) -> Any:
    """A test for one character against a LITERAL, NOT_LITERAL, ANY or IN item."""
    if name == "ANY":
        return (lambda c: True) if flags & re.S else (lambda c: c != "\n")
    if name in ("LITERAL", "NOT_LITERAL"):
        items: list[Any] = [(sre.LITERAL, av)]
        negate = name == "NOT_LITERAL"
    else:
        items = list(av)
        negate = bool(items) and str(items[0][0]) == "NEGATE"
    source = sre_parse.SubPattern(sre_parse.State(), [(sre.IN, items)])
    try:
        compiled = importlib.import_module("re._compiler").compile(source, flags & re.I)
    except (re.error, TypeError, ValueError):
        return lambda c: True
    hit = compiled.fullmatch
    if negate and items and str(items[0][0]) != "NEGATE":
        return lambda c: not hit(c)
    return lambda c: hit(c) is not None
