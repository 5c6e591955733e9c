"""The baselines `docsgap eval dedup` reports beside docsgap: rapidfuzz on titles alone, and
TF-IDF cosine over title and body, each on the same items docsgap sees (the query's project;
replaying, the items filed before it)."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence

from rapidfuzz import fuzz, process

from docsgap.dedupe.evaluate import Query, filed_at, report_time
from docsgap.dedupe.scoring import DecideFn, RankFn
from docsgap.models import Candidate, Decision, MatchResult, TrackerItem

_WORD_RE = re.compile(r"[a-z0-9]+")
TITLE_LINK = 90.0
"""The title baseline links at this WRatio (near-identical titles)."""
TFIDF_LINK = 50.0
"""The TF-IDF baseline links at this cosine (percent)."""


def _pools(items: Sequence[TrackerItem], replay: bool
           ) -> Callable[[Query], list[TrackerItem]]:
    by_project: dict[str, list[TrackerItem]] = {}
    for item in items:
        by_project.setdefault(item.project, []).append(item)

    def pool(q: Query) -> list[TrackerItem]:
        found = by_project.get(q.project or "", list(items))
        dated = all(i.created_at for i in found)
        as_of = report_time(q, dated=dated, own_project=q.project in by_project)
        if replay and as_of is not None:
            found = [i for i in found if filed_at(i, dated) < as_of]
        return found

    return pool


def title_ranker(items: Sequence[TrackerItem], *, replay: bool = True) -> RankFn:
    """rapidfuzz WRatio on raw titles."""
    pool_of = _pools(items, replay)

    def rank(q: Query) -> list[Candidate]:
        pool = pool_of(q)
        found = process.extract(q.title, [i.title for i in pool], scorer=fuzz.WRatio, limit=10)
        return [Candidate(pool[n].web_url, pool[n].title, pool[n].state, round(s, 1),
                          (("title", round(s, 1)),)) for _, s, n in found]

    return rank


def _tf(text: str) -> Counter[str]:
    return Counter(_WORD_RE.findall(text.lower()))


def tfidf_ranker(items: Sequence[TrackerItem], *, replay: bool = True) -> RankFn:
    """Cosine of TF-IDF vectors (raw lower-case words of title and body; idf over the
    query's project), as percent."""
    pool_of = _pools(items, replay)
    tfs = {i.web_url: _tf(f"{i.title}\n{i.description}") for i in items}
    df: dict[str, Counter[str]] = {}
    for i in items:
        df.setdefault(i.project, Counter()).update(tfs[i.web_url].keys())
    sizes = Counter(i.project for i in items)

    def rank(q: Query) -> list[Candidate]:
        pool = pool_of(q)
        project = pool[0].project if pool else ""
        counts, total = df.get(project, Counter()), sizes.get(project, 0)

        def vec(tf: Counter[str]) -> dict[str, float]:
            return {w: (1 + math.log(c)) * math.log(1 + total / (1 + counts[w]))
                    for w, c in tf.items()}

        qv = vec(_tf(f"{q.title}\n{q.body}"))
        qn = math.sqrt(sum(v * v for v in qv.values())) or 1.0
        scored = []
        for item in pool:
            iv = vec(tfs[item.web_url])
            norm = math.sqrt(sum(v * v for v in iv.values())) or 1.0
            cos = sum(v * iv.get(w, 0.0) for w, v in qv.items()) / (qn * norm)
            scored.append((round(100 * cos, 1), item))
        scored.sort(key=lambda s: (-s[0], s[1].web_url))
        return [Candidate(i.web_url, i.title, i.state, s, (("tfidf", s),))
                for s, i in scored[:10]]

    return rank


def threshold_decide(link_threshold: float, review_threshold: float) -> DecideFn:
    """Thresholds on a baseline's score alone."""

    def decide(cands: Sequence[Candidate]) -> MatchResult:
        best = cands[0] if cands else None
        score = best.score if best else 0.0
        decision: Decision = ("link" if score >= link_threshold else
                              "review" if score >= review_threshold else "new")
        return MatchResult(decision, best, tuple(cands), "baseline score only")

    return decide


__all__ = ["TFIDF_LINK", "TITLE_LINK", "threshold_decide", "tfidf_ranker", "title_ranker"]
