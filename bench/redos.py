"""Benchmark and evidence for `docsgap.detect.redos` (the check `rules check` runs on patterns).

1. Cost: CPU time to check every shipped pattern (best of a few passes), pattern by pattern and
   as `load_rules` does it (one alternation per rule).
2. The check is right: each refused pattern, searched on its reported text repeated k times plus
   a character that makes it fail, doubles its time with k; the passing ones stay flat.
3. Polynomial blow-ups: tiny patterns with two overlapping repeats in a row (refused, except on
   whitespace, which detection collapses) and single repeats (passed) on runs of n characters,
   and the whole shipped rule set (rules alone) on posts of about 32,000 characters built to
   pass every rule's word gate and then trip the repeats.

4. With `--fuzz N`: N random patterns over {a, b} (each ending in `c`, so every search fails
   and backtracks fully), each searched on six 40-character texts: how many the check passes
   that still take over 50 ms (a miss), and how many it refuses that do.

Run: `.venv/bin/python bench/redos.py [--size 32000] [--limit 2.0] [--fuzz 0] [--seed 1]`
(`--limit`: seconds after which a growing series stops)."""

from __future__ import annotations

import argparse
import random
import re
import signal
import time
from collections.abc import Callable

from docsgap.detect.detector import Detector
from docsgap.detect.patterns import combined
from docsgap.detect.redos import catastrophic
from docsgap.detect.rules import load_rules
from docsgap.detect.ruleset import RuleSet

# (pattern, text before the repeat). The first group must be refused, the second must pass.
REFUSED = [
    (r"(a+)+$", ""), (r"(?:\w+\s?)*!", ""), (r"(?:a|aa)*c", ""), (r"(?:ab|a|b)*x", ""),
    (r"(a{1,50})+$", ""), (r"(?:\w|\d\d)+$", ""), (r"(?:a?b?)*c", ""),
    (r"seems\s+(?:(?:a bit|a little|a little bit|bit),?\s+)*outdated", "seems "),
]
PASSING = [
    (r"(?:a|b)*c", "ab"), (r"(?:a|ab)*c", "ab"), (r"(?:\w|\d)+$", "1"), (r"(?:\w+,\s*)+x", "ab, "),
    (r"(?:a|aa){0,3}c", "a"),
    (r"seems\s+(?:(?:a bit|a little|bit),?\s+)*outdated", "a little bit "),
]
POLYNOMIAL = [(r"\s*\s*$", "", " ", "x"), (r"\w+\w+x", "", "a", ""), (r"\w+\s*\w+x", "", "a", ""),
              (r"a.*?b.*?c", "a", "b", ""), (r"\w+x", "", "a", ""),
              (r"(?<![\w-])[\w-]+x", "", "a", "")]


def _best(run: Callable[[], object], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.process_time()
        run()
        times.append(time.process_time() - start)
    return min(times)


def _search_time(pattern: str, text: str) -> float:
    compiled = re.compile(pattern, re.I)
    start = time.perf_counter()
    compiled.search(text)
    return time.perf_counter() - start


def check_cost(rules: RuleSet) -> None:
    sources = [s for rule in rules.rules for s in rule.sources]
    sources += [c.regex.pattern for c in rules.cancellers.values()] + [rules.docs_ref.pattern]
    joined = [combined(list(rule.sources)) for rule in rules.rules]
    flagged = sum(catastrophic(s) is not None for s in sources)
    each = _best(lambda: [catastrophic(s) for s in sources])
    per_rule = _best(lambda: [catastrophic(s) for s in joined])
    print(f"check: {len(sources)} shipped patterns ({sum(map(len, sources))} chars after terms),"
          f" {flagged} refused; {each * 1000:.0f} ms CPU one by one,"
          f" {per_rule * 1000:.0f} ms as load_rules checks them ({len(joined)} rules)")


def _series(pattern: str, unit: str, before: str, after: str, sizes: list[int],
            limit: float) -> str:
    out = []
    for n in sizes:
        took = _search_time(pattern, before + unit * n + after)
        out.append(f"{n}:{took:.3f}s")
        if took > limit:
            break
    return " ".join(out)


def exponential(limit: float) -> None:
    print("\nrefused (text repeated k times, then a failing character; k:seconds):")
    for pattern, before in REFUSED:
        why = catastrophic(pattern)
        found = re.search(r"the text '(.*?)' can be matched", why or "")
        unit = found.group(1) if found else "?"
        series = _series(pattern, unit, before, "\x00", [8, 12, 16, 20, 24], limit)
        print(f"  {pattern:50s} {'REFUSED' if why else 'passed!'} text {unit!r}: {series}")
    print("passing (same, with a text that exercises the repeat):")
    for pattern, unit in PASSING:
        series = _series(pattern, unit, "seems ", "\x00", [8, 16, 1000, 10000], limit)
        verdict = "passed" if catastrophic(pattern) is None else "REFUSED!"
        print(f"  {pattern:50s} {verdict} text {unit!r}: {series}")


def polynomial(rules: RuleSet, size: int, limit: float) -> None:
    print("\npolynomial (run of n characters; n:seconds):")
    for pattern, before, unit, after in POLYNOMIAL:
        verdict = "passed" if catastrophic(pattern) is None else "REFUSED"
        series = _series(pattern, unit, before, after, [500, 1000, 2000, 4000, size], limit)
        note = " (whitespace: detection collapses each run to one space)" if unit == " " else ""
        print(f"  {pattern:24s} {verdict:8s} {series}{note}")
    words = sorted({w for rule in rules.rules for ex in rule.examples.match
                    for w in re.findall(r"[\w'<>-]+", ex.text.lower())})
    head = " ".join(words)  # every word of every rule's examples: every word gate passes
    tails = {"long word": "a", "dashes": "a-", "adverbs": "a bit ", "really": "really ",
             "docs": "docs ", "digits": "4", "commas": "a, ", "quotes": "'s ", "links":
             "<docslink> "}
    detector = Detector(rules, None)
    print(f"shipped rules on ~{size}-character posts ({len(head)} characters of rule words"
          " first, then a run):")
    for name, unit in tails.items():
        text = head + " " + unit * ((size - len(head)) // len(unit))
        start = time.perf_counter()
        detector.detect_text("t", text)
        print(f"  {name:10s} {len(text)} chars: {time.perf_counter() - start:.3f} s")


def _random_pattern(rng: random.Random, depth: int = 0) -> str:
    roll = rng.random()
    if depth > 3 or roll < 0.3:
        return rng.choice(["a", "b", "[ab]", "a", "b", "."])
    if roll < 0.55:
        return _random_pattern(rng, depth + 1) + _random_pattern(rng, depth + 1)
    if roll < 0.7:
        return f"(?:{_random_pattern(rng, depth + 1)}|{_random_pattern(rng, depth + 1)})"
    quantifier = rng.choice(["*", "+", "?", "{1,3}", "{0,20}", "*?"])
    return f"(?:{_random_pattern(rng, depth + 1)}){quantifier}"


class _Slow(Exception):
    pass


def _raise_slow(_signum: int, _frame: object) -> None:
    raise _Slow


def _worst(pattern: str, cap: float) -> float:
    """The slowest search of `pattern` over texts that stress a and b (`cap` when cut off)."""
    compiled = re.compile(pattern, re.I)
    worst = 0.0
    for unit in ("a", "b", "ab", "aab", "abb", "ba"):
        signal.setitimer(signal.ITIMER_REAL, cap)
        start = time.perf_counter()
        try:
            compiled.search(unit * (40 // len(unit)) + "!")
        except _Slow:
            return cap
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        worst = max(worst, time.perf_counter() - start)
    return worst


def fuzz(count: int, seed: int) -> None:
    rng = random.Random(seed)
    signal.signal(signal.SIGALRM, _raise_slow)
    seen: set[str] = set()
    tally = {"passed": 0, "passed, slow": 0, "refused": 0, "refused, slow": 0}
    misses = []
    while len(seen) < count:
        pattern = _random_pattern(rng) + "c"
        if pattern in seen:
            continue
        seen.add(pattern)
        verdict = "passed" if catastrophic(pattern) is None else "refused"
        slow = _worst(pattern, 2.0) > 0.05
        tally[verdict] += 1
        tally[f"{verdict}, slow"] += slow
        if slow and verdict == "passed":
            misses.append(pattern)
    print(f"\nfuzz ({count} random patterns, seed {seed}; slow: over 50 ms on 40 characters):"
          f" {tally}")
    print(f"  passed but slow: {misses}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=32000)
    parser.add_argument("--limit", type=float, default=2.0)
    parser.add_argument("--fuzz", type=int, default=0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rules = load_rules()
    check_cost(rules)
    if args.fuzz:
        fuzz(args.fuzz, args.seed)
    exponential(args.limit)
    polynomial(rules, args.size, args.limit)


if __name__ == "__main__":
    main()
