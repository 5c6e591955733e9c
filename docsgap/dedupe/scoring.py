"""Quality figures of a dedup ranker on labelled queries (`docsgap eval dedup`): recall@1,
recall@5 and MRR over the reports whose original existed when they were filed, the precision of
automatic links and the share of those reports linked without a person, each with a 95%
bootstrap interval (queries, or whole repositories, resampled)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from docsgap.dedupe.evaluate import Query
from docsgap.models import Candidate, MatchResult

RankFn = Callable[[Query], list[Candidate]]
DecideFn = Callable[[Sequence[Candidate]], MatchResult]
RESAMPLES = 2000
"""Bootstrap resamples (seeded: the same data gives the same intervals)."""


class Outcome(NamedTuple):
    """One query's result, as the figures count it."""

    exists: bool
    """Its original was there to be found (in the pool, filed before it when replaying)."""
    rank: int
    """The original's rank (1-10; 0 when not among the candidates or not labelled)."""
    linked: bool
    right: bool
    """Linked automatically to its original."""
    group: str
    """Its repository (for the clustered bootstrap)."""


@dataclass
class Scores:
    """Quality of one ranker over the labelled queries."""

    name: str
    outcomes: list[Outcome] = field(default_factory=list)
    misses: list[dict[str, Any]] = field(default_factory=list)

    @property
    def queries(self) -> int:
        """Queries scored."""
        return len(self.outcomes)

    @property
    def labelled(self) -> int:
        """Queries whose original existed when they were filed."""
        return sum(o.exists for o in self.outcomes)

    @property
    def links(self) -> int:
        """Automatic links made."""
        return sum(o.linked for o in self.outcomes)

    @property
    def recall1(self) -> float:
        """Share of those queries whose original is ranked first."""
        return float(_figures(self.outcomes)["recall@1"])

    @property
    def recall5(self) -> float:
        """Share of those queries whose original is in the top five."""
        return float(_figures(self.outcomes)["recall@5"])

    @property
    def mrr(self) -> float:
        """Mean reciprocal rank of the original (0 when not in the top ten)."""
        return float(_figures(self.outcomes)["mrr"])

    @property
    def link_precision(self) -> float:
        """Share of `link` decisions that name the right item (1.0 when there are none)."""
        return float(_figures(self.outcomes)["link_precision"])

    @property
    def link_recall(self) -> float:
        """Share of the queries whose original existed that were linked to it automatically."""
        return float(_figures(self.outcomes)["linked_share"])

    def figures(self) -> dict[str, Any]:
        """The headline numbers."""
        return {k: round(v, 4) if isinstance(v, float) else v
                for k, v in _figures(self.outcomes).items()}

    def intervals(self, *, by_group: bool = False, resamples: int = RESAMPLES
                  ) -> dict[str, tuple[float, float]]:
        """95% percentile bootstrap intervals of the figures, resampling queries (or whole
        repositories, `by_group`, when a few hold most queries)."""
        return bootstrap(self.outcomes, by_group=by_group, resamples=resamples)


HEADLINE = ("recall@1", "recall@5", "mrr", "link_precision", "linked_share")


def _figures(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    exists = [o for o in outcomes if o.exists]
    n = len(exists)
    links = sum(o.linked for o in outcomes)
    right = sum(o.right for o in outcomes)
    return {
        "recall@1": sum(o.rank == 1 for o in exists) / n if n else 0.0,
        "recall@5": sum(0 < o.rank <= 5 for o in exists) / n if n else 0.0,
        "mrr": sum(1 / o.rank for o in exists if o.rank) / n if n else 0.0,
        "links": links,
        "link_precision": right / links if links else 1.0,
        "linked_share": right / n if n else 0.0,
    }


def bootstrap(outcomes: Sequence[Outcome], *, by_group: bool = False,
              resamples: int = RESAMPLES) -> dict[str, tuple[float, float]]:
    """95% intervals (2.5th and 97.5th percentiles) of each headline figure over resamples;
    a resample without links leaves link precision out (not 1.0)."""
    if not outcomes:
        return dict.fromkeys(HEADLINE, (0.0, 0.0))
    rng = np.random.default_rng(0)
    units: list[list[Outcome]]
    if by_group:
        groups: dict[str, list[Outcome]] = {}
        for o in outcomes:
            groups.setdefault(o.group, []).append(o)
        units = list(groups.values())
    else:
        units = [[o] for o in outcomes]
    values: dict[str, list[float]] = {k: [] for k in HEADLINE}
    for _ in range(resamples):
        picked = [o for k in rng.integers(0, len(units), len(units)) for o in units[k]]
        figures = _figures(picked)
        for k in HEADLINE:
            if k != "link_precision" or figures["links"]:
                values[k].append(float(figures[k]))
    return {k: (float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5))) if v else
            (1.0, 1.0) for k, v in values.items()}


def rank_all(queries: Sequence[Query], rank: RankFn) -> list[list[Candidate]]:
    """Rank every query once (decisions at several thresholds reuse the ranking)."""
    return [rank(q) for q in queries]


def evaluate(queries: Sequence[Query], ranked: Sequence[Sequence[Candidate]], name: str, *,
             decide: DecideFn, exists: Callable[[Query], bool] | None = None) -> Scores:
    """Score rankings and decisions. `exists` says whether a query's original was there to be
    found (default: it is labelled); a query without one should end `new`, and linking it
    counts as a wrong link."""
    s = Scores(name)
    for q, cands in zip(queries, ranked, strict=True):
        result = decide(cands)
        urls = [c.url for c in cands]
        linked = result.best.url if result.decision == "link" and result.best else None
        found = bool(q.duplicate_of) and (exists(q) if exists else True)
        pos = urls.index(q.duplicate_of) + 1 if q.duplicate_of in urls else 0
        s.outcomes.append(Outcome(found, pos if found else 0, linked is not None,
                                  linked is not None and linked == q.duplicate_of,
                                  q.project or ""))
        if found and pos != 1:
            s.misses.append({"id": q.id, "expected": q.duplicate_of, "rank": pos or None,
                             "got": urls[0] if urls else None, "decision": result.decision})
    return s


__all__ = ["HEADLINE", "Outcome", "RankFn", "Scores", "bootstrap", "evaluate", "rank_all"]
