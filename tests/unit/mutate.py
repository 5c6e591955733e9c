"""Deterministic mutations of JSON-like payloads, for the payload fuzz tests.

`mutants(sample, rng, n)` yields `n` deep copies of `sample`, each with one to three changes at
random places: a key dropped, a value nulled or replaced by one of `GARBAGE` (other types,
huge and negative numbers, non-finite floats, odd dates and digits, nested junk), a list
emptied or doubled. Every change is recorded, so a failing case names what was done.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest

from docsgap.errors import PayloadError

Path = tuple[str | int, ...]

GARBAGE: list[Any] = [
    None, "", "x", "0", "-1", " 7 ", "\u0663", "1e3", "\x00", "\ud800", "\U0001f600" * 3,
    0, -1, 1, 2**63, 2**70, -(2**63) - 1, 1.5, float("inf"), float("-inf"), float("nan"),
    True, False, [], [None], [[[]]], ["x", 1], {}, {"a": {"b": None}}, {"id": "x"},
    "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "2024-02-30T00:00:00Z",
    "2024-01-02T03:04:05.678Z", "x" * 5000,
]


def paths(value: Any, prefix: Path = ()) -> list[Path]:
    """Every place in `value` (the root excluded), parents before children."""
    out: list[Path] = []
    if isinstance(value, dict):
        for key, child in value.items():
            out.append((*prefix, key))
            out.extend(paths(child, (*prefix, key)))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            out.append((*prefix, i))
            out.extend(paths(child, (*prefix, i)))
    return out


def _get(value: Any, path: Path) -> Any:
    for step in path:
        value = value[step]
    return value


def mutate_once(value: Any, rng: random.Random) -> str:
    """Change `value` in place at one random place; returns what was done."""
    where = paths(value)
    if not where:
        return "nothing to change"
    path = rng.choice(where)
    parent, key = _get(value, path[:-1]), path[-1]
    current = parent[key]
    roll = rng.random()
    if roll < 0.2 and isinstance(parent, dict):
        del parent[key]
        return f"drop {path}"
    if roll < 0.3 and isinstance(current, list):
        parent[key] = [] if rng.random() < 0.5 else current + current
        return f"{'empty' if not parent[key] else 'double'} list {path}"
    if roll < 0.4 and isinstance(current, (dict, list)):
        parent[key] = list(current.values()) if isinstance(current, dict) else {
            str(i): v for i, v in enumerate(current)}
        return f"dict<->list {path}"
    new = rng.choice(GARBAGE)
    parent[key] = copy.deepcopy(new)
    return f"set {path} = {new!r:.40}"


def mutants(sample: Any, rng: random.Random, n: int) -> Iterator[tuple[Any, list[str]]]:
    """`n` mutated deep copies of `sample`, each with the list of changes made."""
    for _ in range(n):
        value = copy.deepcopy(sample)
        done = [mutate_once(value, rng) for _ in range(rng.randint(1, 3))]
        yield value, done


def tally(check: Callable[[Any], object], cases: Iterable[tuple[Any, list[str]]],
          refused: type[Exception] = PayloadError) -> dict[str, int]:
    """Run `check` on every case: how many it took (`parsed`) and refused with `refused`
    (`rejected`); any other exception fails the test, naming the case and its changes."""
    outcomes = {"parsed": 0, "rejected": 0}
    for n, (data, done) in enumerate(cases):
        try:
            check(data)
            outcomes["parsed"] += 1
        except refused:
            outcomes["rejected"] += 1
        except Exception as exc:  # noqa: BLE001 - the fuzz reports any escape with its case
            pytest.fail(f"case {n} ({'; '.join(done)}): {type(exc).__name__}: {exc}")
    return outcomes
