"""Running the matcher's per-item and per-signal work on two processes: large caches and
long signal lists are split in halves, the second half computed in a forked child (which
shares the parent's memory, so nothing but the results is copied). Small inputs, and systems
without `fork`, stay in one process; the results are the same either way, in input order."""

from __future__ import annotations

import multiprocessing
import os
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
P = TypeVar("P")
K = TypeVar("K")
X = TypeVar("X")

WORKERS = 2
"""Processes at most (the parent included): the bench and CI machines have two cores."""


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


def split_two_phase(
    first: Callable[[int, int], tuple[P, K]],
    combine: Callable[[list[P]], X],
    second: Callable[[K, X], list[T]],
    n: int, *, min_parallel: int,
) -> tuple[X, list[T]]:
    """Two passes over `0:n` with a global step between them, on two processes when `n`
    reaches `min_parallel`: `first(lo, hi)` gives a part to share and state to keep, `combine`
    joins the parts (in range order) and its result goes to `second(kept, combined)`, whose
    lists are concatenated. The child keeps its state between the passes, so only the parts,
    the combined value and the second pass's results cross the pipe."""
    if n < min_parallel or WORKERS < 2 or not can_fork():
        part, kept = first(0, n)
        joined = combine([part])
        return joined, second(kept, joined)
    mid = n // 2
    ctx = multiprocessing.get_context("fork")
    parent_end, child_end = ctx.Pipe()
    child = ctx.Process(target=_two_phase_child, args=(first, second, mid, n, child_end),
                        daemon=True)
    child.start()
    child_end.close()
    try:
        part, kept = first(0, mid)
        status, theirs = _receive(parent_end)
        if status != "ok":  # the child's half is redone (and its error raised) here
            theirs, kept_theirs = first(mid, n)
            joined = combine([part, theirs])
            return joined, second(kept, joined) + second(kept_theirs, joined)
        joined = combine([part, theirs])
        parent_end.send(joined)
        mine = second(kept, joined)
        status, rest = _receive(parent_end)
        if status != "ok":
            _, kept_theirs = first(mid, n)
            rest = second(kept_theirs, joined)
    finally:
        parent_end.close()
        child.join()
    return joined, mine + rest


def _receive(conn: Any) -> tuple[str, Any]:
    try:
        status, payload = conn.recv()
    except EOFError:
        return "error", "child exited without a result"
    return status, payload


def _two_phase_child(first: Callable[[int, int], tuple[Any, Any]],
                     second: Callable[[Any, Any], list[Any]], lo: int, hi: int,
                     conn: Any) -> None:
    try:
        part, kept = first(lo, hi)
        conn.send(("ok", part))
        joined = conn.recv()
        conn.send(("ok", second(kept, joined)))
    except EOFError:
        pass  # the parent gave up
    except BaseException:  # noqa: BLE001 - reported to the parent
        conn.send(("error", traceback.format_exc()))
    conn.close()


def _child(func: Callable[[int, int], list[Any]], lo: int, hi: int, conn: Any) -> None:
    try:
        result: tuple[str, Any] = ("ok", func(lo, hi))
    except BaseException:  # noqa: BLE001 - reported to the parent, which redoes the work
        result = ("error", traceback.format_exc())
    conn.send(result)
    conn.close()


__all__ = ["WORKERS", "can_fork", "split_map", "split_two_phase"]
