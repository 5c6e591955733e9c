"""Patterns whose backtracking takes exponential time on a short post, such as `(a+)+$`,
`(?:\\w+\\s?)*!` or `(?:a|aa)*c`: inside a repeat, some text can be matched in two different
ways, so a post repeating it n times (then failing to match) makes `re` try 2^n ways.

The check is the standard one for exponential ambiguity (Weber and Seidl; the analysis rxxr and
recheck make): in the position automaton of the pattern (`redos_nfa`), pair up two runs that
read the same text. The pattern is exponential exactly when such a pair can leave a state
together, split (different states, or two ways to the same state) and come back to that state
together: that loop of text, pumped, is the attack. `rules check` refuses such patterns, so one
post can never hang detection.

Lookarounds and `\\b` are taken to always hold (so the check can only err towards a refusal),
back-references to match any one character. Polynomial blow-ups (`\\w+\\s*\\w+x`) are
`redos_poly`'s; `bench/redos.py` measures both on long posts.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from docsgap.detect.redos_nfa import Automaton, loops, parse, sample
from docsgap.detect.redos_poly import polynomial

PROBLEM = ("can backtrack exponentially: inside a repeat, the text {text!r} can be matched in "
           "more than one way, so a post repeating it some 30 times makes detection try 2^30 "
           "ways; make only one way match (drop an alternative the others already cover, make "
           "a separator between iterations required, or use one repeat instead of a repeat in "
           "a repeat) or bound the outer repeat ({{0,5}})")


@functools.lru_cache(maxsize=4096)
def catastrophic(pattern: str) -> str | None:
    """Why `pattern` (as docsgap compiles it: case-insensitive) can backtrack exponentially, or
    polynomially with two repeats in a row that share a run (`redos_poly`), or None. Kept per
    pattern: a process that loads the rules again (review, tests) checks each pattern once."""
    try:
        tree = parse(pattern, re.I)
    except re.error:
        return None  # reported as a bad regex by the caller
    alphabet = sample(pattern)
    for auto in loops(tree, alphabet):
        text = ambiguous_loop(auto)
        if text is not None:
            return PROBLEM.format(text=text)
    return polynomial(tree, alphabet)


def ambiguous_loop(auto: Automaton) -> str | None:
    """A text two different runs can read from one state back to that state, or None."""
    graph = _pairs(auto)
    for component in _components(graph):
        text = _witness(auto, graph, component)
        if text is not None:
            return text
    return None


Pair = tuple[int, int]
Graph = dict[Pair, list[tuple[Pair, bool]]]
"""Two runs in states (p, q), p <= q (the runs are interchangeable), and their next steps on
a common character; True marks a diagonal step taken two different ways."""


def _pairs(auto: Automaton) -> Graph:
    follow, masks, looped = auto.follow, auto.masks, auto.looped
    steps = [[(q, n, masks[q]) for q, n in follow[p].items() if q in looped]
             for p in range(len(masks))]
    graph: Graph = {}
    todo = [(p, p) for p in sorted(looped)]
    for pair in todo:
        graph[pair] = []
    while todo:
        a, b = todo.pop()
        out = graph[(a, b)]
        for q1, n1, m1 in steps[a]:
            for q2, _n2, m2 in steps[b]:
                if a == b and q2 < q1 or not m1 & m2:
                    continue
                nxt = (q1, q2) if q1 <= q2 else (q2, q1)
                out.append((nxt, a == b and q1 == q2 and n1 > 1))
                if nxt not in graph:
                    graph[nxt] = []
                    todo.append(nxt)
    return graph


def _components(graph: Graph) -> list[set[Pair]]:
    """Strongly connected components of more than a plain self-loop-free node (Tarjan,
    iterative)."""
    index: dict[Pair, int] = {}
    low: dict[Pair, int] = {}
    stack: list[Pair] = []
    on_stack: set[Pair] = set()
    found: list[set[Pair]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            edges = graph[node]
            if i < len(edges):
                work.append((node, i + 1))
                nxt = edges[i][0]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                component: set[Pair] = set()
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    component.add(top)
                    if top == node:
                        break
                found.append(component)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return found


def _witness(auto: Automaton, graph: Graph, component: set[Pair]) -> str | None:
    """The text of a loop in `component` from a state pair (p, p) through a split, or None
    when the component has no diagonal pair or no split. The loop starts where the two runs
    meet again soonest after the split, so the text reads from one iteration's start."""
    if not any(p == q for p, q in component):
        return None
    for node in component:
        for nxt, twice in graph[node]:
            if nxt not in component or not (twice or nxt[0] != nxt[1]):
                continue
            back = _path(graph, component, nxt, lambda pair: pair[0] == pair[1])
            there = _path(graph, component, back[-1], node.__eq__)
            return "".join(_char(auto, p) for p in [*there[1:], nxt, *back[1:]])
    return None


def _path(graph: Graph, component: set[Pair], start: Pair,
          goal: Callable[[Pair], bool]) -> list[Pair]:
    """The nodes of a shortest path inside `component` from `start` to a node meeting `goal`
    (`start` itself when it does)."""
    came: dict[Pair, Pair] = {start: start}
    queue = [start]
    for node in queue:
        if goal(node):
            path = [node]
            while path[-1] != start:
                path.append(came[path[-1]])
            return path[::-1]
        for nxt, _twice in graph[node]:
            if nxt in component and nxt not in came:
                came[nxt] = node
                queue.append(nxt)
    raise AssertionError("a component is strongly connected")


_PREFERRED = "abcdefghijklmnopqrstuvwxyz0123456789 _-.,"


def _char(auto: Automaton, pair: Pair) -> str:
    """A readable character both states of `pair` read."""
    both = auto.masks[pair[0]] & auto.masks[pair[1]]
    chars = [c for i, c in enumerate(auto.alphabet) if both >> i & 1]
    return min(chars, key=lambda c: (_PREFERRED.find(c) % 1000, c))
