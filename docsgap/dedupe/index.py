"""The matcher's word index in numpy arrays, and running its per-item and per-signal work on
two processes.

`Postings` is an inverted index in three arrays (as a CSC matrix stores its columns): built from
every item's word ids and counts with a few whole-array operations, read per signal by slices.
Large caches and long signal lists are split in halves, the second half computed in a forked
child (which shares the parent's memory, so nothing but the results is copied). Small inputs,
and systems without `fork`, stay in one process; the results are the same either way, in input
order."""

from __future__ import annotations

import multiprocessing
import os
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

T = TypeVar("T")
P = TypeVar("P")

WORKERS = 2
"""Processes at most (the parent included): the bench and CI machines have two cores."""


Ints = npt.NDArray[np.int32]
Floats = npt.NDArray[np.float64]
Counts = npt.NDArray[np.float32] | npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True, eq=False)
class Postings:
    """Word id `w`'s postings: the items `items[starts[w]:starts[w + 1]]` (ascending) using it
    and their weights `1 + log(tf)` at the same places."""

    starts: npt.NDArray[np.int64]
    items: Ints
    weights: Floats

    @classmethod
    def build(cls, word_chunks: list[Ints], count_chunks: list[Counts],
              sizes: npt.NDArray[np.int64], n_words: int) -> tuple[Postings, Floats, Floats]:
        """The index of items given item by item (`sizes[n]` entries each: word ids and their
        term frequencies, in chunks, which are emptied as they are read), the idf of each word
        id (0.0 for an unused one) and the length of each item's tf-idf vector (1.0 for an
        empty one).

        A vector's squares are added in its own word order (as a plain loop over the item's
        words would), so the lengths do not depend on the word ids. Temporary arrays are
        dropped as soon as they are used: the peak memory is a few times the postings'."""
        words = np.concatenate(word_chunks).astype(np.int32, copy=False)
        word_chunks.clear()
        weights = np.concatenate(count_chunks, dtype=np.float64)
        count_chunks.clear()
        total = len(sizes)
        df = np.bincount(words, minlength=n_words)
        idf = np.zeros(n_words)
        used = df > 0
        idf[used] = np.log(1 + total / df[used])
        np.log(weights, out=weights)  # the counts become the weights 1 + log(tf)
        weights += 1
        norms = _norms(words, weights, sizes, idf)
        order = _by_word(words)
        del words
        sorted_weights = weights[order]
        del weights
        items = np.repeat(np.arange(total, dtype=np.int32), sizes)[order]
        del order
        starts = np.zeros(n_words + 1, dtype=np.int64)
        np.cumsum(df, out=starts[1:])
        return cls(starts, items, sorted_weights), idf, norms

    def span(self, word: int) -> tuple[int, int]:
        """Where a word id's postings are."""
        return int(self.starts[word]), int(self.starts[word + 1])

    def accumulate(self, spans: Sequence[tuple[int, int, float]], n: int
                   ) -> tuple[Floats, npt.NDArray[np.bool_]]:
        """Dot products (length `n`) from the postings at the given spans, each weighed by its
        query weight, added span by span in the order given; and which items they reached."""
        reached = np.zeros(n, dtype=bool)
        if not spans:
            return np.zeros(n), reached
        ids = np.concatenate([self.items[lo:hi] for lo, hi, _ in spans])
        values = np.concatenate([self.weights[lo:hi] * qw for lo, hi, qw in spans])
        reached[ids] = True
        return np.bincount(ids, values, minlength=n).astype(np.float64, copy=False), reached

    def complete(self, items: npt.NDArray[np.intp], dots: Floats,
                 spans: Sequence[tuple[int, int, float]]) -> Floats:
        """`dots` (of `items`, ascending) with the postings at the given spans added: each
        lookup is a bisection of a word's sorted items."""
        wanted = items.astype(self.items.dtype)  # searchsorted would convert `ids` otherwise
        for lo, hi, qw in spans:
            ids = self.items[lo:hi]
            at = np.minimum(np.searchsorted(ids, wanted), hi - lo - 1)
            hit = ids[at] == wanted
            dots[hit] += self.weights[lo:hi][at[hit]] * qw
        return dots


CHUNK = 1 << 20
"""Index entries the build's temporary arrays hold at once (the norms' squares, the sort's
places): bounds the memory a large cache needs."""


def _norms(words: Ints, weights: Floats, sizes: npt.NDArray[np.int64], idf: Floats) -> Floats:
    """The length of each item's tf-idf vector (1.0 for an empty one), a run of whole items
    at a time; each item's squares are added in its word order."""
    total = len(sizes)
    norms = np.zeros(total)
    ends = np.cumsum(sizes)
    first = 0
    while first < total:
        start = int(ends[first - 1]) if first else 0
        last = max(int(np.searchsorted(ends, start + CHUNK, side="right")), first + 1)
        end = int(ends[last - 1])
        squares = idf[words[start:end]]
        squares *= weights[start:end]
        squares *= squares
        item_of = np.repeat(np.arange(last - first, dtype=np.int32), sizes[first:last])
        norms[first:last] = np.bincount(item_of, squares, minlength=last - first)
        first = last
    np.sqrt(norms, out=norms)
    norms[norms == 0] = 1.0
    return norms


def _by_word(words: Ints) -> Ints:
    """The entries' order by word, each word's entries in their own (item) order: what a
    stable argsort gives, found by sorting one distinct 64-bit key (word, place) per entry,
    several times faster. Entries number less than 2**31."""
    keys = words.astype(np.int64)
    keys <<= 32
    for start in range(0, len(keys), CHUNK):  # the places, a chunk at a time (memory)
        keys[start:start + CHUNK] |= np.arange(start, min(start + CHUNK, len(keys)))
    keys.sort()
    keys &= 0xFFFF_FFFF
    return keys.astype(np.int32)


def top(k: int, keys: npt.NDArray[np.intp], value: Floats) -> set[int]:
    """The `k` keys (ascending) of the largest values; ties at the k-th value go to the keys
    that come first."""
    if len(keys) <= k:
        return set(keys.tolist())
    order = np.argsort(-value[keys], kind="stable")[:k]
    return set(keys[order].tolist())


def can_fork() -> bool:
    """Whether this system and process can split work over a forked child."""
    return "fork" in multiprocessing.get_all_start_methods() and (os.cpu_count() or 1) > 1


def split_map(func: Callable[[int, int], list[T]], n: int, *, min_parallel: int) -> list[T]:
    """`func(0, n)`, computed as `func(0, mid) + func(mid, n)` with the second half in a forked
    child when `n` reaches `min_parallel`. `func` must be deterministic and return one entry per
    index of its range; a child that fails is redone in this process."""
    if n < min_parallel or WORKERS < 2 or not can_fork():
        return func(0, n)
    mid = n // 2
    ctx = multiprocessing.get_context("fork")
    receiver, sender = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_child, args=(func, mid, n, sender), daemon=True)
    child.start()
    sender.close()
    try:
        first = func(0, mid)
        status, payload = _receive(receiver)
    finally:
        receiver.close()
        child.join()
    if status != "ok":
        return first + func(mid, n)  # the child's failure is redone (and raised) here
    second: list[T] = payload
    return first + second


def split_parts(func: Callable[[int, int], P], n: int, *, min_parallel: int) -> list[P]:
    """`[func(0, n)]`, or `[func(0, mid), func(mid, n)]` with the second part computed in a
    forked child when `n` reaches `min_parallel` (redone here if the child fails)."""
    return split_map(lambda lo, hi: [func(lo, hi)], n, min_parallel=min_parallel)


def _receive(conn: Any) -> tuple[str, Any]:
    try:
        status, payload = conn.recv()
    except EOFError:
        return "error", "child exited without a result"
    return status, payload


def _child(func: Callable[[int, int], list[Any]], lo: int, hi: int, conn: Any) -> None:
    try:
        result: tuple[str, Any] = ("ok", func(lo, hi))
    except BaseException:  # noqa: BLE001 - reported to the parent, which redoes the work
        result = ("error", traceback.format_exc())
    conn.send(result)
    conn.close()


__all__ = ["WORKERS", "Counts", "Floats", "Ints", "Postings", "can_fork", "split_map",
           "split_parts", "top"]
