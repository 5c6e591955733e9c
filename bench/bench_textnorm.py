"""Benchmark the text processing of the dedup index build on one process: per stage (learning
the boilerplate, strip_markup, Boilerplate.title/body, words of titles and bodies), first with
empty caches (as a forked build worker starts) and then warm; and the fast paths of `words` and
of the URL pass beside the plain regex paths they replace (same results, checked).
Run: `.venv/bin/python bench/bench_textnorm.py [--issues 25000]`."""

from __future__ import annotations

import argparse
import gc
import random
import time
from collections.abc import Callable
from typing import TypeVar

from bench_dedupe import _vocab, make_items

from docsgap.dedupe.itemindex import BODY_CHARS, LEARN_SAMPLE
from docsgap.text import textnorm
from docsgap.text import words as textwords
from docsgap.text.textnorm import Boilerplate, strip_markup, words

T = TypeVar("T")


def _timed(fn: Callable[[], T]) -> tuple[T, float]:
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def _clear_caches() -> None:
    for name in ("_RUNS", "_RUN_INFO", "_TOKENS", "_PLAIN", "_STEMS", "_HOSTS", "_LINE_KEYS"):
        getattr(textwords if hasattr(textwords, name) else textnorm, name).clear()


def _stages(label: str, titles: list[str], bodies: list[str], step: int) -> list[str]:
    """Time and print each stage once; the cleaned bodies."""
    bp, learn = _timed(lambda: Boilerplate.learn(
        (titles[n], strip_markup(bodies[n])) for n in range(0, len(titles), step)))
    stripped, strip = _timed(lambda: [strip_markup(b) for b in bodies])
    clean_titles, title = _timed(lambda: [bp.title(t) for t in titles])
    clean_bodies, body = _timed(lambda: [bp.body(s, stripped=True) for s in stripped])
    _, words_t = _timed(lambda: [words(t) for t in clean_titles])
    _, words_b = _timed(lambda: [words(b) for b in clean_bodies])
    total = learn + strip + title + body + words_t + words_b
    print(f"{label}:  learn {learn:.2f} s, strip_markup {strip:.2f} s, title {title:.2f} s, "
          f"body {body:.2f} s, words of titles {words_t:.2f} s, of bodies {words_b:.2f} s; "
          f"total {total:.2f} s ({1e6 * total / len(titles):.0f} us/item)")
    return clean_bodies


def main() -> None:
    """Time each stage cold and warm, then the fast paths against the plain ones."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--issues", type=int, default=25_000,
                        help="Items per run (a two-process build gives each worker half).")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    items = make_items(args.issues, rng, _vocab(rng, 20_000))
    titles = [i.title for i in items]
    bodies = [i.description[:BODY_CHARS] for i in items]
    step = max(1, len(items) // LEARN_SAMPLE)
    gc.disable()  # as inside the build

    print(f"items: {len(items)} (one process)")
    _clear_caches()
    clean_bodies = _stages("cold", titles, bodies, step)
    _stages("warm", titles, bodies, step)

    fast, t_fast = _timed(lambda: [words(b) for b in clean_bodies])
    plain, t_plain = _timed(
        lambda: [textwords._words(textwords._raw_words(b)) for b in clean_bodies])
    print(f"words of bodies, warm: word runs {t_fast:.2f} s, regex path {t_plain:.2f} s; "
          f"equal: {fast == plain}")
    fast_u, t_fast = _timed(lambda: [textnorm._sub_urls(b) for b in bodies])
    plain_u, t_plain = _timed(
        lambda: [textnorm._URL_RE.sub(textnorm._host, b) for b in bodies])
    print(f"URL pass over raw bodies: window {t_fast:.2f} s, whole text {t_plain:.2f} s; "
          f"equal: {fast_u == plain_u}")
    gc.enable()


if __name__ == "__main__":
    main()
