"""Duplicate chains and continuations: a match on an issue closed as a duplicate counts for the
issue it was closed into, and a match on a fixed issue also counts for a later open item that
references it (a regression, a follow-up)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import NamedTuple

from docsgap.dedupe.itemindex import ItemIndex
from docsgap.models import TrackerItem


class Ranked(NamedTuple):
    """A scored item, maybe credited with another item's match."""

    n: int
    text: tuple[float, ...]
    """Its text features (`features.TEXT`): its own, or the matched item's."""
    priors: tuple[float, ...]
    """Its own priors (`features.PRIORS`)."""
    logit: float
    via: int | None = None
    """The duplicate (closed into this item) whose text matched."""
    continues: int | None = None
    """The closed issue this open item references and continues, whose text matched."""


Score = Callable[[tuple[float, ...], tuple[float, ...]], float]
"""(text features, priors) -> logit."""
Filed = Callable[[int], bool]
"""Whether an item was filed after the report (and so is ignored)."""

_DUPLICATE_LINE_RE = re.compile(
    r"^\W*(?:closed as (?:a )?)?dup(?:licate)?(?: of)?:?\s+(#\d+|https?://\S+?)[).,;]?\s*$",
    re.IGNORECASE | re.MULTILINE)
"""A line saying which issue this one duplicates: "Duplicate of #12", "dup: <URL>"."""


def duplicate_line(item: TrackerItem, by_ref: dict[tuple[str, str, int], str]) -> str | None:
    """The issue a closed issue's description names on a line of its own as the one it
    duplicates (GitHub-style; GitLab's `/duplicate` is read from the API instead)."""
    if "dup" not in item.description.lower():
        return None
    m = _DUPLICATE_LINE_RE.search(item.description)
    if m is None:
        return None
    ref = m.group(1)
    return by_ref.get((item.project, "#", int(ref[1:]))) if ref.startswith("#") else ref


def find_originals(index: ItemIndex) -> dict[int, int]:
    """Closed issue -> the issue it was closed as a duplicate of (GitLab's
    `closed_as_duplicate_of`, else a "Duplicate of #12" line in its description), chains
    followed to their end; only originals in this index count."""
    direct: dict[int, int] = {}
    for n, item in enumerate(index.items):
        if item.kind != "issue" or item.state != "closed":
            continue
        target = item.duplicate_of or duplicate_line(item, index.by_ref)
        o = index.url_index.get(target.rstrip("/")) if target else None
        if o is not None and o != n:
            direct[n] = o
    out = {}
    for n, o in direct.items():
        seen = {n}
        while o in direct and o not in seen:  # a cycle ends where it closes
            seen.add(o)
            o = direct[o]
        if o != n:
            out[n] = o
    return out


def to_originals(ranked: Sequence[Ranked], originals: dict[int, int], filed_later: Filed,
                 priors: Callable[[int], tuple[float, ...]], score: Score) -> list[Ranked]:
    """A duplicate's match is its original's: the original takes the duplicate's text
    features with its own priors (when that beats its own logit), and the duplicate leaves
    the ranking; replayed, only an original filed before the report counts."""
    best = {r.n: r for r in ranked}
    for r in ranked:
        o = originals.get(r.n)
        if o is None or filed_later(o):
            continue
        del best[r.n]
        own = priors(o)
        moved = Ranked(o, r.text, own, score(r.text, own), via=r.n)
        if o not in best or moved.logit > best[o].logit:
            best[o] = moved
    return list(best.values())


def to_continuations(ranked: Sequence[Ranked], index: ItemIndex, order: Sequence[float],
                     fixed: Callable[[TrackerItem], bool], resembles: Callable[[Ranked], bool],
                     filed_later: Filed, score: Score) -> list[Ranked]:
    """A fixed (closed, not declined) issue's match also counts for a later open item that
    references it and `resembles` the report on its own: that item takes the closed one's
    text features with its own priors when that beats its own logit. The closed issue stays in
    the ranking; `decide` never links automatically through a continuation."""
    by_n = {r.n: r for r in ranked}
    by_url = {index.items[r.n].web_url: r.n for r in ranked}
    out = dict(by_n)
    for r in ranked:
        item = index.items[r.n]
        if item.kind != "issue" or not fixed(item):
            continue
        for url in index.related.get(item.web_url, ()):
            o = by_url.get(url)  # only items the report itself reached
            if o is None or index.items[o].state != "opened" or (
                    order[o] <= order[r.n]) or filed_later(o) or not resembles(by_n[o]):
                continue
            own = by_n[o].priors
            credited = score(r.text, own)
            if credited > out[o].logit:
                out[o] = Ranked(o, r.text, own, credited, continues=r.n)
    return list(out.values())


__all__ = ["Ranked", "duplicate_line", "find_originals", "to_continuations", "to_originals"]
