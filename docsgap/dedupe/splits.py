"""The labelled duplicates split by repository owner into train / dev / test, by a fixed rule.

The unit is the owner of a query's repository (`golang` for golang/go and golang/tour): sibling
repositories share originals and topics, so they never straddle two splits. The owners known when
the rule was first applied are frozen in `splits.json` beside this module (the test split is
reported, never tuned on); they were assigned largest first, each to the split furthest below its
share of queries (train 1/2, dev 1/4, test 1/4; ties by a hash of the name). An owner not in the
file (the corpus grows each round) goes where the hash of its name puts it (buckets 0-1 of 4
train, 2 dev, 3 test), so no owner ever moves. Extra training data (`load`'s `extra_queries`,
kept outside the repository, e.g. pairs harvested from other repositories) is train only: its
owners that are not frozen go to train whatever their hash."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from docsgap.dedupe.evaluate import Query, read_pool, read_queries
from docsgap.models import TrackerItem

Split = Literal["train", "dev", "test"]
SPLITS: tuple[Split, ...] = ("train", "dev", "test")
SPLITS_FILE = Path(__file__).with_name("splits.json")
SALT = "docsgap-dedup-split"


def owner(repo: str) -> str:
    """The owner part of `owner/name` (lower-cased): the unit of the split."""
    return repo.split("/", 1)[0].strip().lower()


@lru_cache(maxsize=1)
def frozen() -> dict[str, Split]:
    """owner -> split, as frozen in `splits.json`."""
    data = json.loads(SPLITS_FILE.read_text(encoding="utf-8"))
    return {o: s for s in SPLITS for o in data[s]}


def split_of(repo: str, extra: frozenset[str] = frozenset()) -> Split:
    """The split a repository's queries belong to (`extra`: owners of extra training data,
    train unless frozen elsewhere)."""
    name = owner(repo)
    known = frozen().get(name)
    if known is not None:
        return known
    if name in extra:
        return "train"
    bucket = int(hashlib.sha256(f"{SALT}:{name}".encode()).hexdigest()[:8], 16) % 4
    return "train" if bucket < 2 else "dev" if bucket == 2 else "test"


@dataclass(frozen=True)
class Labelled:
    """Queries with their pool (the items of the same owners)."""

    queries: list[Query]
    pool: list[TrackerItem]
    extra: frozenset[str] = frozenset()
    """Owners of the extra training data (train only, see `split_of`)."""


def load(query_files: Sequence[Path], pool_files: Sequence[Path],
         extra_queries: Sequence[Path] = (), extra_pools: Sequence[Path] = ()) -> Labelled:
    """Queries and pool items read from several files (repeated pool items read once);
    `extra_queries` and their pools are extra training data (train only)."""
    queries = [q for f in query_files for q in read_queries(f)]
    extra = [q for f in extra_queries for q in read_queries(f)]
    seen: dict[str, TrackerItem] = {}
    for f in (*pool_files, *extra_pools):
        for item in read_pool(f):
            seen.setdefault(item.web_url, item)
    return Labelled([*queries, *extra], list(seen.values()),
                    frozenset(owner(q.project or "") for q in extra))


def select(data: Labelled, split: Split) -> Labelled:
    """The queries of one split and the pool items of its owners."""
    queries = [q for q in data.queries if split_of(q.project or "", data.extra) == split]
    owners = {owner(q.project or "") for q in queries}
    return Labelled(queries, [i for i in data.pool if owner(i.project) in owners], data.extra)


__all__ = ["SPLITS", "Labelled", "Split", "load", "owner", "select", "split_of"]
